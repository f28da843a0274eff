# Fixtures shared with the other pytest directory live in tests/support/subset_testing.py.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
# The built libsubset package (ctest sets SUBSET_PYTHON_PACKAGE to build/python); by hand:
# PYTHONPATH=build/python.
if os.environ.get("SUBSET_PYTHON_PACKAGE"):
    sys.path.insert(0, os.environ["SUBSET_PYTHON_PACKAGE"])

from subset_testing import fixtures, out_dir, run, source_dir, subset_bin  # noqa: E402,F401
