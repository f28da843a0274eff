"""`subset select` with the methods for embedding spaces (typiclust, probcover, moderate): each runs
from the CLI with its options, per class where asked; bad values and missing labels fail with one
`error:` line naming the option, leaving nothing behind. The algorithms themselves are checked
against brute-force oracles in tests/select/."""
import json

import numpy as np
import pytest

from test_select import LABELS, check_bad, select_ok, write_store


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    d = tmp_path_factory.mktemp("embedding-method-stores")
    return {"main": write_store(d / "main.h5"), "nolabels": write_store(d / "nolabels.h5", labels=None, test=False)}


@pytest.mark.parametrize("method,args", [
    ("typiclust", ["--neighbours", "3", "--iterations", "5"]),
    ("probcover", ["--neighbours", "5", "--purity", "0.9"]),
    ("probcover", ["--delta", "0.5", "--purity-clusters", "2"]),
    ("moderate", ["--allocation", "balanced"]),
])
def test_method_runs_with_its_options(run, stores, out_dir, method, args):
    sel, _ = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", method, "-k", "6", *args)
    assert len(sel["indices"]) == 6 and len(set(sel["indices"].tolist())) == 6
    assert sel["attrs"]["method"] == method
    params = json.loads(sel["attrs"]["params"])
    value = params[args[0].lstrip("-")]
    assert value == (type(value)(args[1]) if not isinstance(value, str) else args[1])


def test_typiclust_per_class_is_balanced(run, stores, out_dir):
    sel, _ = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", "typiclust", "-k", "6", "--per-class")
    assert list(np.bincount(LABELS[sel["indices"]], minlength=3)) == [2, 2, 2]


def test_moderate_keeps_class_proportions(run, stores, out_dir):
    sel, _ = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", "moderate", "-k", "6")
    assert list(np.bincount(LABELS[sel["indices"]], minlength=3)) == [3, 2, 1]


@pytest.mark.parametrize("method,args,needle", [
    ("typiclust", ["--neighbours", "0"], "--neighbours"),
    ("typiclust", ["--iterations", "x"], "--iterations"),
    ("probcover", ["--purity", "1.5"], "--purity"),
    ("probcover", ["--delta", "-1"], "--delta"),
    ("moderate", ["--allocation", "equal"], "--allocation"),
])
def test_bad_values_name_the_option(run, stores, out_dir, method, args, needle):
    check_bad(run, out_dir, [stores["main"], "-m", method, "-k", "3", *args, "-o", out_dir / "sel.h5"], needle)


def test_moderate_needs_labels(run, stores, out_dir):
    check_bad(run, out_dir, [stores["nolabels"], "-m", "moderate", "-k", "3", "-o", out_dir / "sel.h5"], "labels")


def test_probcover_without_labels_needs_purity_clusters_or_delta(run, stores, out_dir):
    check_bad(run, out_dir, [stores["nolabels"], "-m", "probcover", "-k", "3", "-o", out_dir / "sel.h5"],
              "--purity-clusters", existing=False)
    sel, _ = select_ok(run, stores["nolabels"], str(out_dir / "sel.h5"), "-m", "probcover", "-k", "3",
                       "--delta", "1")
    assert len(sel["indices"]) == 3
