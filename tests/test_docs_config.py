"""The documentation's configuration: every example joins the gallery, and the
offline intersphinx inventories point at the projects' online docs."""

import ast
import pathlib
import re
import zlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


def _gallery_conf():
    source = (ROOT / "docs" / "conf.py").read_text()
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "sphinx_gallery_conf":
            return ast.literal_eval(node.value)
    raise AssertionError("docs/conf.py defines no sphinx_gallery_conf")


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_is_run_by_the_gallery_and_has_a_title(path):
    conf = _gallery_conf()
    assert re.search(conf["filename_pattern"], f"/{path.name}")  # executed, so its figures are rendered
    assert not re.search(conf["ignore_pattern"], f"/{path.name}")
    docstring = ast.get_docstring(ast.parse(path.read_text()), clean=False)
    lines = [line for line in docstring.strip("\n").splitlines()]
    # an RST title: the page title and the thumbnail's caption
    title_at = 1 if set(lines[0]) <= {"="} else 0
    assert set(lines[title_at + 1]) == {"="} and len(lines[title_at + 1]) >= len(lines[title_at].rstrip())


def _inventory(name):
    raw = (ROOT / "docs" / "intersphinx" / f"{name}.inv").read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = raw.index(b"\n", header_end) + 1
    assert raw[:header_end].startswith(b"# Sphinx inventory version 2\n")
    lines = zlib.decompress(raw[header_end:]).decode().splitlines()
    return {line.split(" ")[0]: line.split(" ")[1:] for line in lines}


@pytest.mark.parametrize(
    "inventory, name, role, uri",
    [
        ("sklearn", "sklearn.linear_model.Lasso", "py:class",
         "modules/generated/sklearn.linear_model.Lasso.html#sklearn.linear_model.Lasso"),
        ("sklearn", "sklearn.exceptions.ConvergenceWarning", "py:exception",
         "modules/generated/sklearn.exceptions.ConvergenceWarning.html#sklearn.exceptions.ConvergenceWarning"),
        ("sklearn", "sklearn.base.BaseEstimator.get_params", "py:method",
         "modules/generated/sklearn.base.BaseEstimator.html#sklearn.base.BaseEstimator.get_params"),
        ("sklearn", "sklearn.utils.metadata_routing.MetadataRequest", "py:class",
         "modules/generated/sklearn.utils.metadata_routing.MetadataRequest.html"
         "#sklearn.utils.metadata_routing.MetadataRequest"),
        ("sklearn", "df_output_transform", "std:label", "modules/df_output_transform.html#df-output-transform"),
        ("numpy", "numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#numpy.ndarray"),
        ("numpy", "numpy.random.default_rng", "py:function",
         "reference/random/generator.html#numpy.random.default_rng"),
        ("scipy", "scipy.linalg.cho_factor", "py:function",
         "reference/generated/scipy.linalg.cho_factor.html#scipy.linalg.cho_factor"),
        ("joblib", "joblib.Parallel", "py:class", "generated/joblib.Parallel.html#joblib.Parallel"),
    ],
)
def test_inventories_use_each_projects_url_pattern(inventory, name, role, uri):
    entry = _inventory(inventory)[name]
    assert entry[0] == role and entry[2] == uri
