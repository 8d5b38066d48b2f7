"""Sphinx configuration for skstexplore."""

import os
import sys

import skstexplore

sys.path.insert(0, os.path.dirname(__file__))  # gallery_config

project = "skstexplore"
author = "skstexplore developers"
copyright = "2026, skstexplore developers"
release = skstexplore.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/*.examples", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "alabaster"
nitpicky = True

# Links go to the projects' online documentation; the inventories are read from
# docs/intersphinx/, written from the installed packages by
# docs/intersphinx/make_inventories.py, because the docs build has no internet access.
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", "intersphinx/sklearn.inv"),
    "numpy": ("https://numpy.org/doc/stable/", "intersphinx/numpy.inv"),
    "scipy": ("https://docs.scipy.org/doc/scipy/", "intersphinx/scipy.inv"),
    "joblib": ("https://joblib.readthedocs.io/en/stable/", "intersphinx/joblib.inv"),
}

# Every examples/plot_*.py is run and rendered with its figures and printed
# output; docs/gallery_config.py gives lighter settings to slow examples.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "reset_argv": "gallery_config.reset_argv",
    "abort_on_example_error": True,
    "min_reported_time": 0,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "doc_module": ("skstexplore",),
    "backreferences_dir": None,
    "download_all_examples": False,
    "remove_config_comments": True,
}
