"""Test configuration shared by tests/ and the doctests of the package."""

import os

# scikit-learn's check_array_api_input (numpy namespace) runs only when SciPy's
# array-API support is switched on, which must happen before SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
