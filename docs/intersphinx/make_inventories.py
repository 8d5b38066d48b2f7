"""Write the intersphinx inventories of scikit-learn, NumPy, SciPy and joblib.

The docs are built where the projects' own ``objects.inv`` cannot be
downloaded (CI has no internet access), so ``docs/conf.py`` points
intersphinx at the inventories of this folder instead, while the links still
go to the projects' online documentation. Each inventory lists the public
API of the *installed* package (what its ``__all__`` or public namespace
exports) with the URL pattern of that project's documentation, e.g.
``sklearn.linear_model.Lasso`` ->
``https://scikit-learn.org/stable/modules/generated/sklearn.linear_model.Lasso.html#sklearn.linear_model.Lasso``.

Regenerate after upgrading one of these packages (the output is
deterministic for given package versions)::

    python docs/intersphinx/make_inventories.py
"""

import importlib
import inspect
import pathlib
import pkgutil
import zlib

HERE = pathlib.Path(__file__).parent

SKLEARN_UTILS = ("validation", "metadata_routing", "parallel", "estimator_checks", "discovery", "extmath")
# sections of the scikit-learn user guide and gallery referenced by the docstrings our estimators inherit
SKLEARN_LABELS = (
    ("r2_score", "std:label", "modules/model_evaluation.html#r2-score", "R² score, the coefficient of determination"),
    ("metadata_routing", "std:label", "metadata_routing.html#metadata-routing", "Metadata Routing"),
    # set_output (SparseEncoder is a transformer)
    ("df_output_transform", "std:label", "modules/df_output_transform.html#df-output-transform",
     "Pandas/Polars Output for Transformers with set_output API"),
    ("sphx_glr_auto_examples_miscellaneous_plot_set_output.py", "std:label",
     "auto_examples/miscellaneous/plot_set_output.html#sphx-glr-auto-examples-miscellaneous-plot-set-output-py",
     "Introducing the set_output API"),
)


def _public_names(module):
    """``__all__`` and every public name that ``module`` defines or re-exports from a private module."""
    names = set(getattr(module, "__all__", ()))
    package = module.__name__.split(".")[0]
    for name, obj in list(module.__dict__.items()):
        defined_in = str(getattr(obj, "__module__", "")).split(".")
        inside = defined_in[: len(module.__name__.split("."))] == module.__name__.split(".")
        from_private = defined_in[0] == package and any(part.startswith("_") for part in defined_in[1:])
        if inside or from_private:
            names.add(name)
    return sorted(name for name in names if not name.startswith("_"))


def _members(module_name):
    """(qualified name, object) of the public API of ``module_name``; submodules skipped."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    found = []
    for name in _public_names(module):
        try:
            obj = getattr(module, name, None)
        except ImportError:  # experimental APIs that need an explicit enable_* import
            continue
        if obj is None or inspect.ismodule(obj):
            continue
        found.append((f"{module_name}.{name}", obj))
    return found


def _role(obj):
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if callable(obj):
        return "py:function"
    return "py:data"


def _public_methods(cls):
    return sorted(name for name, member in inspect.getmembers(cls) if not name.startswith("_") and callable(member))


def sklearn_entries():
    import sklearn

    submodules = [info.name for info in pkgutil.iter_modules(sklearn.__path__)]
    modules = ["sklearn"] + [
        f"sklearn.{name}" for name in submodules if not name.startswith("_") and name not in ("tests", "externals")
    ] + [f"sklearn.utils.{name}" for name in SKLEARN_UTILS]
    entries = list(SKLEARN_LABELS)
    for module in sorted(set(modules)):
        if module != "sklearn":
            entries.append((module, "py:module", f"api/{module}.html#module-{module}"))
        for name, obj in _members(module):
            page = f"modules/generated/{name}.html"
            entries.append((name, _role(obj), f"{page}#{name}"))
            if inspect.isclass(obj):
                entries += [(f"{name}.{m}", "py:method", f"{page}#{name}.{m}") for m in _public_methods(obj)]
    return entries


NUMPY_MODULE_PAGES = {
    "numpy": "reference/index.html",
    "numpy.linalg": "reference/routines.linalg.html",
    "numpy.fft": "reference/routines.fft.html",
    "numpy.random": "reference/random/index.html",
    "numpy.testing": "reference/routines.testing.html",
}
NUMPY_RANDOM_PAGES = {
    "numpy.random.default_rng": "reference/random/generator.html",
    "numpy.random.Generator": "reference/random/generator.html",
    "numpy.random.RandomState": "reference/random/legacy.html",
}


def numpy_entries():
    import numpy as np

    entries = []
    for module, page in NUMPY_MODULE_PAGES.items():
        entries.append((module, "py:module", f"{page}#module-{module}"))
        for name, obj in _members(module):
            if module == "numpy" and isinstance(obj, type) and issubclass(obj, np.generic):
                entries.append((name, "py:class", f"reference/arrays.scalars.html#{name}"))
            elif name in NUMPY_RANDOM_PAGES:
                entries.append((name, _role(obj), f"{NUMPY_RANDOM_PAGES[name]}#{name}"))
                entries += [(f"{name}.{m}", "py:method", f"reference/random/generated/{name}.{m}.html#{name}.{m}")
                            for m in _public_methods(obj) if inspect.isclass(obj)]
            elif module == "numpy.random":
                entries.append((name, _role(obj), f"reference/random/generated/{name}.html#{name}"))
            else:
                entries.append((name, _role(obj), f"reference/generated/{name}.html#{name}"))
    entries += [(f"numpy.ndarray.{m}", "py:method", f"reference/generated/numpy.ndarray.{m}.html#numpy.ndarray.{m}")
                for m in _public_methods(np.ndarray)]
    return entries


SCIPY_MODULES = ("linalg", "sparse", "sparse.linalg", "optimize", "special", "stats", "signal", "fft", "spatial",
                 "interpolate", "integrate", "ndimage")


def scipy_entries():
    entries = []
    for short in SCIPY_MODULES:
        module = f"scipy.{short}"
        entries.append((module, "py:module", f"reference/{short}.html#module-{module}"))
        entries += [(name, _role(obj), f"reference/generated/{name}.html#{name}") for name, obj in _members(module)]
    return entries


def joblib_entries():
    entries = [("joblib", "py:module", "index.html#module-joblib")]
    entries += [(name, _role(obj), f"generated/{name}.html#{name}") for name, obj in _members("joblib")]
    return entries


PROJECTS = {
    # file stem: (project name, distribution module, entries)
    "sklearn": ("scikit-learn", "sklearn", sklearn_entries),
    "numpy": ("NumPy", "numpy", numpy_entries),
    "scipy": ("SciPy", "scipy", scipy_entries),
    "joblib": ("joblib", "joblib", joblib_entries),
}


def inventory_bytes(project, version, entries):
    """An ``objects.inv`` (format version 2) listing ``entries`` of (name, domain:role, uri[, title])."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = sorted({f"{name} {role} {'-1' if role == 'std:label' else '1'} {uri} {title[0] if title else '-'}\n"
                    for name, role, uri, *title in entries})
    return header.encode() + zlib.compress("".join(lines).encode(), 9)


def main():
    for stem, (project, module, entries) in PROJECTS.items():
        version = importlib.import_module(module).__version__
        path = HERE / f"{stem}.inv"
        found = entries()
        path.write_bytes(inventory_bytes(project, version, found))
        print(f"{path}: {project} {version}, {len(found)} objects")


if __name__ == "__main__":
    main()
