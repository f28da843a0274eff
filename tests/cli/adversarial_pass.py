#!/usr/bin/python3
"""Adversarial pass of issue 12: hostile inputs, option values and output paths against every
command of `subset`. A report, not a test: it prints one line per case that was not handled well
and a final `N handled well / M tried`, and always exits 0.

    /usr/bin/python3 tests/cli/adversarial_pass.py build/tools/subset [-v] [FILTER]

"Handled well" for a case that must fail: a positive exit status below 128 (no signal), stderr
exactly one line starting with `error: ` (no backtrace, no HDF5 dump), no `.partial-` file left
anywhere, every input byte-identical afterwards and no output written. A case marked as accepted
must exit 0, leave no partials, and its output is checked for validity. A case marked "either"
may be refused or accepted, but must do one of the two cleanly.
"""
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "datasets"))
import make_fixtures  # noqa: E402

BAD_WORDS = ("terminate called", "what():", "Traceback", "Aborted", "core dumped", "HDF5-DIAG", "#000:",
             "Exception raised from", "frame #", "internal error")

FAIL, OK, EITHER = "fail", "ok", "either"


class Case:
    def __init__(self, name, args, expect=FAIL, check=None, timeout=60, rc=None, stdin=None):
        self.name, self.args, self.expect, self.check = name, [str(a) for a in args], expect, check
        self.timeout, self.rc, self.stdin = timeout, rc, stdin


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def snapshot(root):
    """Digest of every regular file under root (links and special files by their type only)."""
    out = {}
    for dirpath, dirnames, files in os.walk(root):
        for name in files + dirnames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                out[p] = sha(p)
            else:
                out[p] = "special:%o" % stat.S_IFMT(st.st_mode)
    return out


def partials(root):
    found = []
    for dirpath, dirnames, files in os.walk(root):
        found += [os.path.join(dirpath, n) for n in files + dirnames if ".partial-" in n]
    return found


# ---- inputs ----------------------------------------------------------------------------------------

def h5_store(path, X, labels=None, test=None, attrs=None, image_shape=None, feat_kwargs=None,
             label_dtype=np.int64, weights=None):
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
        ds = f.create_dataset("features", data=X, **(feat_kwargs or {}))
        if image_shape is not None:
            ds.attrs["image_shape"] = np.asarray(image_shape, np.int64)
        if labels is not None:
            f.create_dataset("labels", data=np.asarray(labels, dtype=label_dtype))
        if weights is not None:
            f.create_dataset("weights", data=np.asarray(weights, np.float32))
        if test is not None:
            f.create_dataset("test/features", data=test[0])
            f.create_dataset("test/labels", data=np.asarray(test[1], np.int64))
    return path


def copy_edit(src, dst, edit):
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        edit(f)
    return dst


def replace(f, name, data):
    if name in f:
        del f[name]
    f.create_dataset(name, data=data)


def npy_raw(path, descr, shape, data, fortran=False):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + data)
    return path


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)
    return path


def subset_ok(binary, *args):
    proc = subprocess.run([binary, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=120)
    if proc.returncode != 0:
        raise SystemExit("setup failed: subset %s\n%s" % (" ".join(map(str, args)), proc.stderr.decode()))


def build_inputs(binary, root):
    fx = make_fixtures.make_all(os.path.join(root, "fx"))
    d = os.path.join(root, "in")
    os.makedirs(d)
    p = lambda name: os.path.join(d, name)  # noqa: E731
    npy, csv = fx["npy"], fx["csv"]
    for key in ("features_f32", "labels", "test_features_f32", "test_labels", "images_u8", "features_u8"):
        shutil.copyfile(npy[key], p(key + ".npy"))
    for key in csv:
        shutil.copyfile(csv[key], p(key + ".csv"))
    P = {"dir": d, "fashion_dir": fx["fashion_dir"]}
    for k in ("features_f32", "labels", "test_features_f32", "test_labels", "images_u8", "features_u8"):
        P[k] = p(k + ".npy")
    for k in csv:
        P["csv_" + k] = p(k + ".csv")

    # Good stores: 20 x 6, 3 classes, test split 8 rows; images (fashion, 20 x 784, 10 classes).
    P["good"] = p("good.h5")
    subset_ok(binary, "import", P["features_f32"], "--labels", P["labels"], "--test-features",
              P["test_features_f32"], "--test-labels", P["test_labels"], "-o", P["good"])
    P["img"] = p("img.h5")
    subset_ok(binary, "import", "fashion-mnist", "--dataset-dir", fx["fashion_dir"], "-o", P["img"])
    P["other"] = p("other.h5")  # D = 2, 9 rows
    subset_ok(binary, "import", P["csv_int_labels"], "--label-column", "label", "-o", P["other"])
    P["sel"] = p("sel.h5")
    subset_ok(binary, "select", P["good"], "-m", "random", "-k", "5", "-o", P["sel"])
    P["sel_other"] = p("sel_other.h5")
    subset_ok(binary, "select", P["other"], "-m", "random", "-k", "3", "-o", P["sel_other"])
    P["pca_model"] = p("pca.model.h5")
    subset_ok(binary, "compress", P["good"], "-m", "pca", "--dim", "2", "-o", os.path.join(root, "c.h5"),
              "--model-out", P["pca_model"])
    P["rp_model"] = p("rp.model.h5")
    subset_ok(binary, "compress", P["good"], "-m", "gaussian-rp", "--dim", "3", "-o",
              os.path.join(root, "c2.h5"), "--model-out", P["rp_model"])
    P["other_model"] = p("other.model.h5")
    subset_ok(binary, "compress", P["other"], "-m", "pca", "--dim", "1", "-o", os.path.join(root, "c3.h5"),
              "--model-out", P["other_model"])

    with h5py.File(P["good"], "r") as f:
        X = f["features"][()]
        y = f["labels"][()]
        TX = f["test/features"][()]
        Ty = f["test/labels"][()]
    P["X"], P["y"] = X, y
    test = (TX, Ty)

    # Foreign and malformed files.
    P["zero"] = write(p("zero.h5"), "")
    P["text"] = write(p("text.h5"), "this is not HDF5\n" * 10)
    P["subdir"] = p("adir.h5")
    os.makedirs(P["subdir"])
    P["fifo"] = p("fifo.h5")
    os.mkfifo(P["fifo"])
    P["loop"] = p("loop.h5")
    os.symlink(P["loop"], P["loop"])
    P["dangling"] = p("dangling.h5")
    os.symlink(p("nowhere.h5"), P["dangling"])
    with open(P["good"], "rb") as f:
        raw = f.read()
    P["trunc"] = write(p("trunc.h5"), raw[: len(raw) // 2], "wb")
    P["trunc_head"] = write(p("trunc_head.h5"), raw[:600], "wb")
    P["garbled"] = write(p("garbled.h5"), raw[:2048] + bytes(len(raw) - 2048), "wb")
    with h5py.File(p("empty_hdf5.h5"), "w"):
        pass
    P["empty_hdf5"] = p("empty_hdf5.h5")
    with h5py.File(p("nofeatures.h5"), "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
    P["nofeatures"] = p("nofeatures.h5")
    with h5py.File(p("foreign.h5"), "w") as f:
        f["data"] = X
    P["foreign"] = p("foreign.h5")

    S = {}
    S["int_features"] = h5_store(p("int_features.h5"), X.astype(np.int32), y, test)
    S["f64_features"] = h5_store(p("f64_features.h5"), X.astype(np.float64), y, test)
    S["f16_features"] = h5_store(p("f16_features.h5"), X.astype(np.float16), y, test)
    S["features_3d"] = h5_store(p("features_3d.h5"), X.reshape(20, 2, 3), y, test)
    S["features_1d"] = h5_store(p("features_1d.h5"), X[:, 0].copy(), y, test)
    S["features_scalar"] = h5_store(p("features_scalar.h5"), np.float32(1.0), None, None)
    S["features_string"] = h5_store(p("features_string.h5"), np.array([b"a", b"b"]), None, None)
    S["features_compound"] = h5_store(p("features_compound.h5"),
                                      np.zeros(20, dtype=[("a", np.float32), ("b", np.float32)]), y, test)
    S["zero_rows"] = h5_store(p("zero_rows.h5"), np.zeros((0, 6), np.float32), np.zeros(0, np.int64), None)
    S["zero_cols"] = h5_store(p("zero_cols.h5"), np.zeros((20, 0), np.float32), y, None)
    S["labels_short"] = h5_store(p("labels_short.h5"), X, y[:-3], test)
    S["labels_long"] = h5_store(p("labels_long.h5"), X, np.concatenate([y, y]), test)
    S["labels_string"] = h5_store(p("labels_string.h5"), X, np.array([b"cat"] * 20), test, label_dtype=None)
    S["labels_float"] = h5_store(p("labels_float.h5"), X, y.astype(np.float64) + 0.5, test, label_dtype=None)
    S["labels_2d"] = h5_store(p("labels_2d.h5"), X, y.reshape(10, 2), test)
    neg = y.copy()
    neg[4] = -3
    S["labels_negative"] = h5_store(p("labels_negative.h5"), X, neg, test)
    S["labels_u8"] = h5_store(p("labels_u8.h5"), X, y, test, label_dtype=np.uint8)
    Xn = X.copy()
    Xn[7, 2] = np.nan
    S["nan"] = h5_store(p("nan.h5"), Xn, y, test)
    Xi = X.copy()
    Xi[3, 0] = np.inf
    S["inf"] = h5_store(p("inf.h5"), Xi, y, test)
    TXn = TX.copy()
    TXn[1, 1] = np.nan
    S["test_nan"] = h5_store(p("test_nan.h5"), X, y, (TXn, Ty))
    S["image_lie"] = h5_store(p("image_lie.h5"), X, y, test, image_shape=[1, 3, 3])
    S["image_zero"] = h5_store(p("image_zero.h5"), X, y, test, image_shape=[0, 2, 3])
    S["image_neg"] = h5_store(p("image_neg.h5"), X, y, test, image_shape=[-1, -2, 3])
    S["image_2d"] = h5_store(p("image_2d.h5"), X, y, test, image_shape=[2, 3])
    S["image_float"] = h5_store(p("image_float.h5"), X, y, test, image_shape=np.array([1.0, 2.0, 3.0]))
    S["huge_attr"] = h5_store(p("huge_attr.h5"), X, y, test, attrs={"source": "x" * 5_000_000})
    S["version2"] = h5_store(p("version2.h5"), X, y, test, attrs={"format_version": 2})
    S["version_str"] = h5_store(p("version_str.h5"), X, y, test, attrs={"format_version": "1"})
    S["format_other"] = h5_store(p("format_other.h5"), X, y, test, attrs={"format": "something-else"})
    S["format_int"] = h5_store(p("format_int.h5"), X, y, test, attrs={"format": 7})
    S["test_dim"] = h5_store(p("test_dim.h5"), X, y, (TX[:, :4].copy(), Ty))
    S["test_label_len"] = h5_store(p("test_label_len.h5"), X, y, (TX, Ty[:3]))
    with h5py.File(S["test_dim"], "r"):
        pass
    S["no_test"] = h5_store(p("no_test.h5"), X, y, None)
    S["no_labels"] = h5_store(p("no_labels.h5"), X, None, None)
    S["no_labels_test"] = h5_store(p("no_labels_test.h5"), X, None, test)
    S["test_only_features"] = copy_edit(P["good"], p("test_only_features.h5"), lambda f: f.__delitem__("test/labels"))
    S["test_unseen_class"] = h5_store(p("test_unseen_class.h5"), X, y,
                                      (TX, np.where(np.arange(len(Ty)) == 0, 7, Ty)))
    S["one_class"] = h5_store(p("one_class.h5"), X, np.zeros(20, np.int64), (TX, np.zeros(8, np.int64)))
    S["one_row"] = h5_store(p("one_row.h5"), X[:1], y[:1], (TX, np.zeros(8, np.int64)))
    S["two_rows"] = h5_store(p("two_rows.h5"), X[:2], np.array([0, 1]), test)
    S["singletons"] = h5_store(p("singletons.h5"), X[:6], np.array([0, 1, 2, 3, 4, 5]), (TX, Ty))
    S["constant"] = h5_store(p("constant.h5"), np.ones((20, 6), np.float32), y, test)
    S["duplicates"] = h5_store(p("duplicates.h5"), np.repeat(X[:2], 10, axis=0), y, test)
    S["huge_values"] = h5_store(p("huge_values.h5"), np.full((20, 6), 3e38, np.float32) * np.sign(X + 0.01), y, test)
    S["class_names_short"] = copy_edit(P["good"], p("class_names_short.h5"),
                                       lambda f: f["labels"].attrs.__setitem__("class_names", ["a"]))
    S["class_names_int"] = copy_edit(P["good"], p("class_names_int.h5"),
                                     lambda f: f["labels"].attrs.__setitem__("class_names", np.array([1, 2, 3])))
    S["features_group"] = p("features_group.h5")
    with h5py.File(S["features_group"], "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_group("features")
    S["features_softlink"] = p("features_softlink.h5")
    with h5py.File(S["features_softlink"], "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f["features"] = h5py.SoftLink("/nowhere")
    S["features_extlink"] = p("features_extlink.h5")
    with h5py.File(S["features_extlink"], "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f["features"] = h5py.ExternalLink(p("missing_file.h5"), "/features")
    # Compressible, so that h5py's lzf filter really applies (it stores chunks it cannot shrink raw).
    S["lzf"] = h5_store(p("lzf.h5"), np.tile(X[:1], (20, 1)), y, test,
                        feat_kwargs={"compression": "lzf", "chunks": (4, 6)})
    S["weights_len"] = h5_store(p("weights_len.h5"), X, y, test, weights=np.ones(5))
    S["weights_2d"] = h5_store(p("weights_2d.h5"), X, y, test, weights=np.ones((20, 2)))
    S["img_labels_short"] = copy_edit(P["img"], p("img_labels_short.h5"),
                                      lambda f: replace(f, "labels", f["labels"][()][:-1]))
    P.update(S)

    # Selections and models, edited copies of real ones.
    def sel_edit(name, fn):
        P[name] = copy_edit(P["sel"], p(name + ".h5"), fn)
    sel_edit("sel_oob", lambda f: replace(f, "indices", np.array([0, 1, 25], np.int64)))
    sel_edit("sel_neg", lambda f: replace(f, "indices", np.array([0, -1, 2], np.int64)))
    sel_edit("sel_dup", lambda f: replace(f, "indices", np.array([3, 3, 4], np.int64)))
    sel_edit("sel_empty", lambda f: replace(f, "indices", np.zeros(0, np.int64)))
    sel_edit("sel_float", lambda f: replace(f, "indices", np.array([0.5, 1.0, 2.0])))
    sel_edit("sel_2d", lambda f: replace(f, "indices", np.array([[0, 1], [2, 3]], np.int64)))
    sel_edit("sel_str", lambda f: replace(f, "indices", np.array([b"1", b"2"])))
    sel_edit("sel_huge", lambda f: replace(f, "indices", np.array([0, 2**62], np.int64)))
    sel_edit("sel_u64", lambda f: replace(f, "indices", np.array([0, 2**64 - 1], np.uint64)))
    sel_edit("sel_noindices", lambda f: f.__delitem__("indices"))
    sel_edit("sel_weights_nan", lambda f: replace(f, "weights", np.array([np.nan] * 5, np.float32)))
    sel_edit("sel_weights_neg", lambda f: replace(f, "weights", np.array([-1.0] * 5, np.float32)))
    sel_edit("sel_weights_len", lambda f: replace(f, "weights", np.ones(2, np.float32)))
    sel_edit("sel_source_n_neg", lambda f: f.attrs.__setitem__("source_n", -5))
    sel_edit("sel_source_n_str", lambda f: f.attrs.__setitem__("source_n", "twenty"))
    sel_edit("sel_no_format", lambda f: f.attrs.__delitem__("format"))
    sel_edit("sel_params_bad_json", lambda f: f.attrs.__setitem__("params", "{not json"))
    sel_edit("sel_budget_lie", lambda f: f.attrs.__setitem__("budget", 2**62))
    sel_edit("sel_seed_str", lambda f: f.attrs.__setitem__("seed", "abc"))

    def model_edit(name, src, fn):
        P[name] = copy_edit(src, p(name + ".h5"), fn)
    model_edit("model_method", P["pca_model"], lambda f: f.attrs.__setitem__("method", "bogus"))
    model_edit("model_dim_lie", P["pca_model"], lambda f: f.attrs.__setitem__("input_dim", 9))
    model_edit("model_out_lie", P["rp_model"], lambda f: f.attrs.__setitem__("output_dim", 5))
    model_edit("model_out_huge", P["rp_model"], lambda f: f.attrs.__setitem__("output_dim", 2**40))
    model_edit("model_params_bad", P["pca_model"], lambda f: f.attrs.__setitem__("params", "[[["))

    def model_arrays(f):
        return [k for k in f if isinstance(f[k], h5py.Dataset)]

    def model_shrink(f):
        k = model_arrays(f)[0]
        replace(f, k, f[k][()].reshape(-1)[:1])
    model_edit("model_shape", P["pca_model"], model_shrink)

    def model_drop(f):
        for k in model_arrays(f):
            del f[k]
    model_edit("model_empty", P["rp_model"], model_drop)

    def model_inf(f):
        for k in model_arrays(f):
            v = f[k][()].astype(np.float32)
            v.flat[0] = np.inf
            replace(f, k, v)
    model_edit("model_inf", P["rp_model"], model_inf)

    # Importer inputs.
    P["npy_obj"] = p("obj.npy")
    np.save(P["npy_obj"], np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    P["npy_complex"] = p("complex.npy")
    np.save(P["npy_complex"], np.ones((4, 3), np.complex64))
    P["npy_str"] = p("str.npy")
    np.save(P["npy_str"], np.array([["a", "b"], ["c", "d"]]))
    P["npy_1d"] = p("one_d.npy")
    np.save(P["npy_1d"], np.arange(10, dtype=np.float32))
    P["npy_0d"] = p("zero_d.npy")
    np.save(P["npy_0d"], np.float32(3.0))
    P["npy_fortran"] = p("fortran.npy")
    np.save(P["npy_fortran"], np.asfortranarray(X))
    P["npy_bigendian"] = p("bigendian.npy")
    np.save(P["npy_bigendian"], X.astype(">f4"))
    P["npy_nan"] = p("nan.npy")
    np.save(P["npy_nan"], Xn)
    P["npy_structured"] = p("structured.npy")
    np.save(P["npy_structured"], np.zeros(4, dtype=[("a", "<f4"), ("b", "<i4")]))
    P["npy_f16"] = p("f16.npy")
    np.save(P["npy_f16"], X.astype(np.float16))
    P["npy_trunc"] = p("trunc.npy")
    with open(P["features_f32"], "rb") as f:
        raw = f.read()
    write(P["npy_trunc"], raw[: len(raw) - 17], "wb")
    P["npy_header_trunc"] = write(p("header_trunc.npy"), raw[:30], "wb")
    P["npy_bad_magic"] = write(p("bad_magic.npy"), b"\x93NUMPZ" + raw[6:], "wb")
    P["npy_bad_header"] = npy_raw(p("bad_header.npy"), "<f4", "(2, 'x')", bytes(8))
    P["npy_unknown_descr"] = npy_raw(p("unknown_descr.npy"), "<q9", "(2, 2)", bytes(64))
    P["npy_version9"] = write(p("version9.npy"), raw[:6] + b"\x09\x00" + raw[8:], "wb")
    P["npy_neg_shape"] = npy_raw(p("neg_shape.npy"), "<f4", "(-2, 3)", bytes(24))
    P["labels_float_npy"] = p("labels_float.npy")
    np.save(P["labels_float_npy"], y.astype(np.float32) + 0.25)
    P["labels_neg_npy"] = p("labels_neg.npy")
    np.save(P["labels_neg_npy"], neg)
    P["labels_2d_npy"] = p("labels_2d.npy")
    np.save(P["labels_2d_npy"], y.reshape(10, 2))
    P["labels_short_npy"] = p("labels_short.npy")
    np.save(P["labels_short_npy"], y[:7])
    P["labels_bool_npy"] = p("labels_bool.npy")
    np.save(P["labels_bool_npy"], y > 0)
    P["test4_npy"] = p("test4.npy")
    np.save(P["test4_npy"], TX[:, :4].copy())
    P["csv_empty"] = write(p("empty.csv"), "")
    P["csv_header_only"] = write(p("header_only.csv"), "a,b,label\n")
    P["csv_ragged"] = write(p("ragged.csv"), "a,b,label\n1,2,0\n3,1\n4,5,6,1\n")
    P["csv_text"] = write(p("text_feature.csv"), "a,b,label\n1,x,0\n3,4,1\n")
    P["csv_nan"] = write(p("nan.csv"), "a,b,label\n1,nan,0\n3,4,1\n")
    P["csv_overflow"] = write(p("overflow.csv"), "a,b,label\n1,1e999,0\n3,4,1\n")
    P["csv_bom"] = write(p("bom.csv"), "\ufeffa,b,label\n1,2,0\n3,4,1\n")
    P["csv_quotes"] = write(p("quotes.csv"), 'a,b,label\n"1,5",2,0\n3,4,1\n')
    P["csv_binary"] = write(p("binary.csv"), b"a,b\n\x00\x01\x02,\xff\xfe\n", "wb")
    P["csv_dup_header"] = write(p("dup_header.csv"), "a,a,label\n1,2,0\n3,4,1\n")
    P["csv_empty_field"] = write(p("empty_field.csv"), "a,b,label\n1,,0\n3,4,1\n")
    P["csv_label_neg"] = write(p("label_neg.csv"), "a,b,label\n1,2,-1\n3,4,1\n")
    P["csv_crlf"] = write(p("crlf.csv"), "a,b,label\r\n1,2,0\r\n3,4,1\r\n", "w")
    P["csv_long_line"] = write(p("long_line.csv"), "a,b\n" + "1" * 2_000_000 + ",2\n")
    fm = os.path.join(root, "fashion_trunc")
    shutil.copytree(fx["fashion_dir"], fm)
    name = os.path.join(fm, "train-images-idx3-ubyte.gz")
    with open(name, "rb") as f:
        raw = f.read()
    write(name, raw[: len(raw) // 2], "wb")
    P["fashion_trunc"] = fm
    fm2 = os.path.join(root, "fashion_mismatch")
    shutil.copytree(fx["fashion_dir"], fm2)
    shutil.copyfile(os.path.join(fm2, "t10k-labels-idx1-ubyte.gz"), os.path.join(fm2, "train-labels-idx1-ubyte.gz"))
    P["fashion_mismatch"] = fm2
    fm3 = os.path.join(root, "fashion_labels")
    shutil.copytree(fx["fashion_dir"], fm3)
    make_fixtures.write_idx_gz(os.path.join(fm3, "train-labels-idx1-ubyte.gz"),
                               np.full(make_fixtures.FASHION_TRAIN, 200, np.uint8))
    P["fashion_labels"] = fm3
    P["not_exec"] = write(p("not_exec.sh"), "#!/bin/sh\necho hi\n")
    P["ckpt_zero"] = p("ckpt_zero.h5")
    return P


# ---- cases -----------------------------------------------------------------------------------------

def is_store(n=None, d=None):
    def check(case, out, rc, stdout, stderr):
        path = case.output
        if not os.path.isfile(path):
            return "accepted but wrote no output %s" % path
        try:
            with h5py.File(path, "r") as f:
                x = f["features"][()]
                if not np.all(np.isfinite(x)):
                    return "output features are not finite"
                if n is not None and x.shape[0] != n:
                    return "output has %d rows, expected %d" % (x.shape[0], n)
                if d is not None and x.shape[1] != d:
                    return "output has %d columns, expected %d" % (x.shape[1], d)
        except Exception as e:  # noqa: BLE001
            return "output does not open: %s" % e
        return None
    return check


def is_selection(k=None, n=None):
    def check(case, out, rc, stdout, stderr):
        try:
            with h5py.File(case.output, "r") as f:
                idx = f["indices"][()]
        except Exception as e:  # noqa: BLE001
            return "selection does not open: %s" % e
        if len(set(idx.tolist())) != len(idx):
            return "duplicate indices in the output"
        if n is not None and (idx.min(initial=0) < 0 or idx.max(initial=0) >= n):
            return "indices out of range in the output"
        if k is not None and len(idx) != k:
            return "selected %d rows, expected %d" % (len(idx), k)
        return None
    return check


def with_defaults(args, defaults):
    """args, then each OPTION VALUE pair (or flag) of defaults that args does not give itself."""
    args, out, i = list(args), [], 0
    while i < len(defaults):
        flag = i + 1 >= len(defaults) or defaults[i + 1].startswith("-")
        if defaults[i] not in args:
            out += defaults[i:i + (1 if flag else 2)]
        i += 1 if flag else 2
    return args + out


def cases(P, out):
    C = []
    o = lambda name="o.h5": os.path.join(out, name)  # noqa: E731
    g, img = P["good"], P["img"]
    long_value = "9" * 10000
    uni = "\u00e9\u6f22\u5b57\U0001F600"

    def add(name, args, expect=FAIL, check=None, output=None, **kw):
        c = Case(name, args, expect, check, **kw)
        c.output = output or o()
        C.append(c)

    # -- info: foreign, malformed and lying stores
    for key in ("zero", "text", "subdir", "loop", "dangling", "trunc", "trunc_head", "garbled", "empty_hdf5",
                "nofeatures", "foreign", "int_features", "features_3d", "features_1d", "features_scalar",
                "features_string", "features_compound", "zero_rows", "zero_cols", "labels_short",
                "labels_long", "labels_string", "labels_float", "labels_2d", "labels_negative", "image_lie",
                "image_zero", "image_neg", "image_2d", "version2", "version_str",
                "format_other", "format_int", "test_dim", "test_label_len",
                "features_group", "features_softlink", "features_extlink", "weights_len", "weights_2d",
                "class_names_short", "class_names_int", "img_labels_short"):
        add("info " + key, ["info", P[key]])
    add("info image_shape float", ["info", P["image_float"]], expect=EITHER)
    add("info test/features without test/labels", ["info", P["test_only_features"]], expect=EITHER)
    add("info fifo", ["info", P["fifo"]], timeout=15)
    add("info /dev/null", ["info", "/dev/null"])
    add("info /dev/zero", ["info", "/dev/zero"], timeout=15)
    add("info /proc/self/status", ["info", "/proc/self/status"])
    add("info /proc/1/mem", ["info", "/proc/1/mem"])
    add("info through a file", ["info", g + "/x.h5"])
    add("info empty path", ["info", ""])
    add("info 10k path", ["info", "a" * 10000])
    add("info unicode path", ["info", uni + ".h5"])
    add("info --check-values nan", ["info", "--check-values", P["nan"]])
    add("info --check-values inf", ["info", "--check-values", P["inf"]])
    add("info --check-values test nan", ["info", "--check-values", P["test_nan"]])
    add("info lzf filter --check-values", ["info", "--check-values", P["lzf"]])
    add("info huge attribute", ["info", P["huge_attr"]], expect=EITHER)
    add("info f64 features", ["info", P["f64_features"]], expect=EITHER)
    add("info f16 features", ["info", P["f16_features"]], expect=EITHER)
    add("info u8 labels", ["info", P["labels_u8"]], expect=OK)
    add("info selection file", ["info", P["sel"]])
    add("info model file", ["info", P["pca_model"]])
    add("info --json unknown option", ["info", g, "--jsn"])
    add("info two stores", ["info", g, img])

    # -- global options
    add("--threads -1", ["--threads", "-1", "info", g])
    add("--threads 1e999", ["--threads", "1e999", "info", g])
    add("--threads huge", ["--threads", "99999999999999999999", "info", g])
    add("--threads 100000 select", ["--threads", "100000", "select", g, "-m", "kmeans", "-k", "3", "-o", o()],
        expect=EITHER, check=is_selection(3, 20))
    add("--pue 0.5", ["--pue", "0.5", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--pue nan", ["--pue", "nan", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--pue inf", ["--pue", "inf", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--pue empty", ["--pue", "", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--region ZZ", ["--region", "ZZ", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--region unicode", ["--region", uni, "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--region empty", ["--region", "", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--carbon-intensity -1", ["--carbon-intensity", "-1", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--carbon-intensity nan", ["--carbon-intensity", "nan", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--carbon-intensity 1e999", ["--carbon-intensity", "1e999", "select", g, "-m", "random", "-k", "3",
                                     "-o", o()])
    add("--region and --carbon-intensity", ["--region", "FR", "--carbon-intensity", "5", "select", g, "-m",
                                            "random", "-k", "3", "-o", o()], expect=EITHER, check=is_selection(3))
    add("--cpu-watts -5", ["--cpu-watts", "-5", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--cpu-watts nan", ["--cpu-watts", "nan", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("--cpu-watts inf", ["--cpu-watts", "inf", "select", g, "-m", "random", "-k", "3", "-o", o()])
    add("no subcommand", [])
    add("unknown subcommand", ["frobnicate"])

    # -- select: budgets and options
    sel = lambda *a: ["select", g, *a, "-o", o()]  # noqa: E731
    for v in ("0", "-1", "21", "1e999", "abc", "", long_value, "99999999999999999999", "2.5", uni):
        add("select -k %r" % v[:20], sel("-m", "random", "-k", v))
    for v in ("0", "1.5", "nan", "-0.1", "inf", "1e-300", "abc", ""):
        add("select -f %r" % v, sel("-m", "random", "-f", v), expect=EITHER if v == "1e-300" else FAIL,
            check=is_selection(1, 20))
    add("select -k and -f", sel("-m", "random", "-k", "3", "-f", "0.5"))
    add("select no budget", sel("-m", "random"))
    add("select -k 20 (all rows)", sel("-m", "kcenter", "-k", "20"), expect=OK, check=is_selection(20, 20))
    add("select method unknown", sel("-m", "bogus", "-k", "3"))
    add("select method empty", sel("-m", "", "-k", "3"))
    add("select method 10k", sel("-m", "x" * 10000, "-k", "3"))
    add("select --seed -1", sel("-m", "random", "-k", "3", "--seed", "-1"))
    add("select --seed 1e999", sel("-m", "random", "-k", "3", "--seed", "1e999"))
    add("select --seed 2^64", sel("-m", "random", "-k", "3", "--seed", "18446744073709551616"))
    add("select kmeans --iterations 0", sel("-m", "kmeans", "-k", "3", "--iterations", "0"))
    add("select kmeans --iterations nan", sel("-m", "kmeans", "-k", "3", "--iterations", "nan"))
    add("select kmeans --iterations 1e999", sel("-m", "kmeans", "-k", "3", "--iterations", "1e999"))
    add("select kmeans --iterations 1.5", sel("-m", "kmeans", "-k", "3", "--iterations", "1.5"))
    add("select kmeans --tolerance 1", sel("-m", "kmeans", "-k", "3", "--tolerance", "1"))
    add("select kmeans --tolerance -0", sel("-m", "kmeans", "-k", "3", "--tolerance", "-0"), expect=EITHER,
        check=is_selection(3, 20))
    add("select kmeans --init bogus", sel("-m", "kmeans", "-k", "3", "--init", "bogus"))
    add("select kmeans --local-trials 1001", sel("-m", "kmeans", "-k", "3", "--local-trials", "1001"))
    add("select kcenter --init-index 20", sel("-m", "kcenter", "-k", "3", "--init-index", "20"))
    add("select kcenter --init-index -2", sel("-m", "kcenter", "-k", "3", "--init-index", "-2"))
    add("select kcenter --init-index huge", sel("-m", "kcenter", "-k", "3", "--init-index", "9223372036854775807"))
    add("select kcenter --sketch-dims -1", sel("-m", "kcenter", "-k", "3", "--sketch-dims", "-1"))
    add("select kcenter --quantized-bounds maybe", sel("-m", "kcenter", "-k", "3", "--quantized-bounds", "maybe"))
    add("select --bins for random", sel("-m", "random", "-k", "3", "--bins", "3"))
    add("select el2n --order bogus", sel("-m", "el2n", "-k", "3", "--order", "bogus"))
    add("select el2n --prune-hardest 1", sel("-m", "el2n", "-k", "3", "--prune-hardest", "1"))
    add("select el2n --prune-hardest 0.99", sel("-m", "el2n", "-k", "10", "--prune-hardest", "0.99",
                                                "--score-epochs", "1"), expect=EITHER, check=is_selection(10, 20))
    add("select el2n --bins 0", sel("-m", "el2n", "-k", "3", "--bins", "0"))
    add("select el2n --score-epochs 0", sel("-m", "el2n", "-k", "3", "--score-epochs", "0"))
    add("select el2n --score-lr nan", sel("-m", "el2n", "-k", "3", "--score-lr", "nan"))
    add("select el2n --score-lr 1e999", sel("-m", "el2n", "-k", "3", "--score-lr", "1e999"))
    add("select el2n --score-hidden 1e12", sel("-m", "el2n", "-k", "3", "--score-hidden", "1000000000000"))
    add("select el2n --score-batch 0", sel("-m", "el2n", "-k", "3", "--score-batch", "0"))
    add("select el2n --score-model bogus", sel("-m", "el2n", "-k", "3", "--score-model", "bogus"))
    add("select --features /labels", sel("-m", "kcenter", "-k", "3", "--features", "/labels"))
    add("select --features /nowhere", sel("-m", "kcenter", "-k", "3", "--features", "/nowhere"))
    add("select --features empty", sel("-m", "kcenter", "-k", "3", "--features", ""))
    add("select --features /test", sel("-m", "kcenter", "-k", "3", "--features", "/test"))
    add("select --features /test/features", sel("-m", "kmeans", "-k", "3", "--features", "/test/features"))
    add("select on NaN features kmeans", ["select", P["nan"], "-m", "kmeans", "-k", "3", "-o", o()])
    add("select on NaN features kcenter", ["select", P["nan"], "-m", "kcenter", "-k", "3", "-o", o()])
    add("select on Inf features herding", ["select", P["inf"], "-m", "herding", "-k", "3", "-o", o()])
    add("select herding on huge values", ["select", P["huge_values"], "-m", "herding", "-k", "3", "-o", o()],
        expect=EITHER, check=is_selection(3, 20))
    add("select kmeans on huge values", ["select", P["huge_values"], "-m", "kmeans", "-k", "3", "-o", o()],
        expect=EITHER, check=is_selection(3, 20))
    add("select kmeans on duplicates k>distinct", ["select", P["duplicates"], "-m", "kmeans", "-k", "5", "-o",
                                                   o()], expect=EITHER, check=is_selection(5, 20))
    add("select kcenter on constant", ["select", P["constant"], "-m", "kcenter", "-k", "4", "-o", o()],
        expect=EITHER, check=is_selection(4, 20))
    add("select balanced no labels", ["select", P["no_labels"], "-m", "balanced", "-k", "3", "-o", o()])
    add("select --per-class no labels", ["select", P["no_labels"], "-m", "random", "-k", "3", "--per-class",
                                         "-o", o()])
    add("select el2n no labels", ["select", P["no_labels"], "-m", "el2n", "-k", "3", "-o", o()])
    add("select balanced -k 2 of 3 classes", sel("-m", "balanced", "-k", "2"), expect=EITHER,
        check=is_selection(2, 20))
    add("select el2n one class", ["select", P["one_class"], "-m", "el2n", "-k", "3", "--score-epochs", "1",
                                  "-o", o()], expect=EITHER, check=is_selection(3, 20))
    add("select kmeans one row", ["select", P["one_row"], "-m", "kmeans", "-k", "1", "-o", o()], expect=OK,
        check=is_selection(1, 1))
    add("select --per-class singletons k=3", ["select", P["singletons"], "-m", "kcenter", "-k", "3",
                                              "--per-class", "-o", o()], expect=EITHER, check=is_selection(3, 6))
    add("select int features", ["select", P["int_features"], "-m", "kcenter", "-k", "3", "-o", o()])
    add("select 3-D features", ["select", P["features_3d"], "-m", "kcenter", "-k", "3", "-o", o()])
    add("select labels short", ["select", P["labels_short"], "-m", "balanced", "-k", "3", "-o", o()])
    add("select lzf features", ["select", P["lzf"], "-m", "kcenter", "-k", "3", "-o", o()])
    add("select text store", ["select", P["text"], "-m", "random", "-k", "3", "-o", o()])
    add("select -o existing", ["select", g, "-m", "random", "-k", "3", "-o", P["sel"]])
    add("select -o = store --force", ["select", g, "-m", "random", "-k", "3", "-o", g, "--force"])
    add("select -o missing dir", ["select", g, "-m", "random", "-k", "3", "-o", os.path.join(out, "no/s.h5")])
    add("select -o /proc", ["select", g, "-m", "random", "-k", "3", "-o", "/proc/s.h5"])
    add("select -o directory", ["select", g, "-m", "random", "-k", "3", "-o", out])
    add("select -o directory --force", ["select", g, "-m", "random", "-k", "3", "-o", P["subdir"], "--force"])
    add("select -o empty", ["select", g, "-m", "random", "-k", "3", "-o", ""])
    add("select -o 10k name", ["select", g, "-m", "random", "-k", "3", "-o", os.path.join(out, "a" * 10000)])
    add("select -o /dev/null", ["select", g, "-m", "random", "-k", "3", "-o", "/dev/null"])
    add("select -o dangling symlink", ["select", g, "-m", "random", "-k", "3", "-o", P["dangling"]])
    add("select -o symlink loop", ["select", g, "-m", "random", "-k", "3", "-o", P["loop"]])
    add("select -o through a file", ["select", g, "-m", "random", "-k", "3", "-o", g + "/s.h5"])
    add("select --indices-out .csv", sel("-m", "random", "-k", "3", "--indices-out", o("i.csv")))
    add("select --indices-out = -o", sel("-m", "random", "-k", "3", "--indices-out", o()))
    add("select --indices-out = store", sel("-m", "random", "-k", "3", "--indices-out", g, "--force"))
    add("select --indices-out /proc", sel("-m", "random", "-k", "3", "--indices-out", "/proc/i.txt"))
    add("select --centroids-out random", sel("-m", "random", "-k", "3", "--centroids-out", o("c.h5")))
    add("select --centroids-out = store", sel("-m", "kmeans", "-k", "3", "--centroids-out", g, "--force"))
    add("select unknown option", sel("-m", "random", "-k", "3", "--frobnicate"))

    # -- extract
    ex = lambda s, *a: ["extract", g, "-s", s, "-o", o(), *a]  # noqa: E731
    for key in ("sel_oob", "sel_neg", "sel_dup", "sel_float", "sel_2d", "sel_str", "sel_huge", "sel_u64",
                "sel_noindices", "sel_weights_nan", "sel_weights_neg", "sel_weights_len", "sel_source_n_neg",
                "sel_source_n_str", "sel_no_format", "sel_params_bad_json", "sel_seed_str", "sel_other",
                "zero", "text", "subdir", "fifo", "pca_model"):
        add("extract -s " + key, ex(P[key]), timeout=15 if key == "fifo" else 60)
    add("extract -s store", ex(g))
    add("extract -s sel_empty", ex(P["sel_empty"]))
    add("extract -s sel_budget_lie", ex(P["sel_budget_lie"]), expect=EITHER, check=is_store(5))
    add("extract -o = store --force", ["extract", g, "-s", P["sel"], "-o", g, "--force"])
    add("extract -o = selection --force", ["extract", g, "-s", P["sel"], "-o", P["sel"], "--force"])
    add("extract -o hardlink of store --force", ["extract", g, "-s", P["sel"], "-o", P["hardlink"], "--force"])
    add("extract -o symlink to store --force", ["extract", g, "-s", P["sel"], "-o", P["symlink"], "--force"])
    add("extract from other store", ["extract", P["other"], "-s", P["sel"], "-o", o()])
    add("extract store with bad labels", ["extract", P["labels_negative"], "-s", P["sel"], "-o", o()])
    add("extract store with NaN", ["extract", P["nan"], "-s", P["sel"], "-o", o()])
    add("extract no -s", ["extract", g, "-o", o()])

    # -- compress
    cp = lambda *a: ["compress", g, *a, "-o", o()]  # noqa: E731
    add("compress no method", cp())
    add("compress method and apply", cp("-m", "pca", "--dim", "2", "--apply", P["pca_model"]))
    for v in ("0", "-1", "6", "7", "1e999", "abc", "", long_value):
        add("compress pca --dim %r" % v[:12], cp("-m", "pca", "--dim", v))
    add("compress pca --dim and --variance", cp("-m", "pca", "--dim", "2", "--variance", "0.5"))
    for v in ("0", "1.5", "nan", "-1"):
        add("compress pca --variance %s" % v, cp("-m", "pca", "--variance", v))
    for v in ("0", "1", "nan", "1e-300"):
        add("compress rp --eps %s" % v, cp("-m", "gaussian-rp", "--eps", v))
    add("compress rp --eps for pca", cp("-m", "pca", "--eps", "0.5"))
    add("compress bogus method", cp("-m", "bogus", "--dim", "2"))
    add("compress sparse-rp --density 2", cp("-m", "sparse-rp", "--dim", "2", "--density", "2"))
    add("compress sparse-rp --density -1", cp("-m", "sparse-rp", "--dim", "2", "--density", "-1"))
    add("compress sparse-rp --density 1e-300", cp("-m", "sparse-rp", "--dim", "2", "--density", "1e-300"),
        expect=EITHER, check=is_store(20, 2))
    add("compress pca --power-iterations 101", cp("-m", "pca", "--dim", "2", "--power-iterations", "101"))
    add("compress pca --solver bogus", cp("-m", "pca", "--dim", "2", "--solver", "bogus"))
    add("compress pca --whiten constant", ["compress", P["constant"], "-m", "pca", "--dim", "2", "--whiten",
                                           "-o", o()], expect=EITHER, check=is_store(20, 2))
    add("compress pca --whiten duplicates", ["compress", P["duplicates"], "-m", "pca", "--dim", "3", "--whiten",
                                             "-o", o()], expect=EITHER, check=is_store(20, 3))
    add("compress pca one row", ["compress", P["one_row"], "-m", "pca", "--dim", "2", "-o", o()], expect=EITHER,
        check=is_store(1, 2))
    add("compress pca on NaN", ["compress", P["nan"], "-m", "pca", "--dim", "2", "-o", o()])
    add("compress rp on test NaN", ["compress", P["test_nan"], "-m", "gaussian-rp", "--dim", "2", "-o", o()])
    add("compress pca on huge values", ["compress", P["huge_values"], "-m", "pca", "--dim", "2", "-o", o()],
        expect=EITHER, check=is_store(20, 2))
    add("compress ae --encoder abc", cp("-m", "autoencoder", "--dim", "2", "--encoder", "abc"))
    add("compress ae --encoder 0", cp("-m", "autoencoder", "--dim", "2", "--encoder", "0"))
    add("compress ae --encoder -5", cp("-m", "autoencoder", "--dim", "2", "--encoder", "-5"))
    add("compress ae --encoder 1e999", cp("-m", "autoencoder", "--dim", "2", "--encoder", "1e999"))
    add("compress ae --encoder 8,,8", cp("-m", "autoencoder", "--dim", "2", "--encoder", "8,,8"))
    add("compress ae --encoder huge", cp("-m", "autoencoder", "--dim", "2", "--encoder", "99999999999"))
    add("compress ae --decoder x", cp("-m", "autoencoder", "--dim", "2", "--decoder", "x"))
    add("compress ae --epochs 0", cp("-m", "autoencoder", "--dim", "2", "--epochs", "0"))
    add("compress ae --lr 0", cp("-m", "autoencoder", "--dim", "2", "--lr", "0"))
    add("compress ae --lr nan", cp("-m", "autoencoder", "--dim", "2", "--lr", "nan"))
    add("compress ae --lr 1e30", cp("-m", "autoencoder", "--dim", "2", "--lr", "1e30", "--epochs", "1",
                                   "--encoder", "4"), expect=EITHER, check=is_store(20, 2))
    add("compress ae --batch 0", cp("-m", "autoencoder", "--dim", "2", "--batch", "0"))
    add("compress ae --device cuda", cp("-m", "autoencoder", "--dim", "2", "--device", "cuda", "--epochs", "1"))
    add("compress ae --device tpu", cp("-m", "autoencoder", "--dim", "2", "--device", "tpu"))
    add("compress ae on NaN", ["compress", P["nan"], "-m", "autoencoder", "--dim", "2", "--epochs", "1", "-o",
                               o()])
    add("compress ae one row", ["compress", P["one_row"], "-m", "autoencoder", "--dim", "2", "--epochs", "1",
                                "--encoder", "4", "-o", o()], expect=EITHER, check=is_store(1, 2))
    for key in ("other_model", "model_method", "model_dim_lie", "model_out_lie", "model_out_huge",
                "model_params_bad", "model_shape", "model_empty", "model_inf", "sel", "zero", "text", "subdir"):
        add("compress --apply " + key, cp("--apply", P[key]))
    add("compress --apply store", cp("--apply", P["other"]))
    add("compress --apply with --dim", cp("--apply", P["pca_model"], "--dim", "2"))
    add("compress --model-out = -o", cp("-m", "pca", "--dim", "2", "--model-out", o()))
    add("compress --model-out = store --force", cp("-m", "pca", "--dim", "2", "--model-out", g, "--force"))
    add("compress --model-out missing dir", cp("-m", "pca", "--dim", "2", "--model-out", o("no/m.h5")))
    add("compress --model-out with --apply", cp("--apply", P["pca_model"], "--model-out", o("m.h5")))
    add("compress -o = store --force", ["compress", g, "-m", "pca", "--dim", "2", "-o", g, "--force"])
    add("compress int features", ["compress", P["int_features"], "-m", "pca", "--dim", "2", "-o", o()])

    # -- evaluate
    ev = lambda store, *a: ["evaluate", store, *with_defaults(  # noqa: E731
        a, ["--epochs", "1", "--repeats", "1", "--hidden", "4", "--cache", o("cache.json")])]
    add("evaluate no test split", ev(P["no_test"]))
    add("evaluate no labels", ev(P["no_labels_test"]))
    add("evaluate test/features without labels", ev(P["test_only_features"]))
    add("evaluate test dim mismatch", ev(P["test_dim"]))
    add("evaluate test NaN", ev(P["test_nan"]))
    add("evaluate NaN features", ev(P["nan"]))
    add("evaluate unseen test class", ev(P["test_unseen_class"]), expect=EITHER)
    add("evaluate one class", ev(P["one_class"]), expect=EITHER)
    add("evaluate one row", ev(P["one_row"]), expect=EITHER)
    add("evaluate -s other store's sel", ev(g, "-s", P["sel_other"]))
    add("evaluate -s out of range", ev(g, "-s", P["sel_oob"]))
    add("evaluate -s empty selection", ev(g, "-s", P["sel_empty"]))
    add("evaluate -s NaN weights", ev(g, "-s", P["sel_weights_nan"]))
    add("evaluate -s zero-byte", ev(g, "-s", P["zero"]))
    add("evaluate --selection-store other D", ev(g, "--selection-store", P["other"]))
    add("evaluate --selection-store NaN", ev(g, "--selection-store", P["nan"]))
    add("evaluate --selection-store text", ev(g, "--selection-store", P["text"]))
    add("evaluate --selection-store no labels", ev(g, "--selection-store", P["no_labels"]))
    add("evaluate --no-full without selections", ev(g, "--no-full"), expect=EITHER)
    for opt, v in (("--epochs", "0"), ("--epochs", "1e999"), ("--epochs", "-1"), ("--batch", "0"),
                   ("--lr", "0"), ("--lr", "nan"), ("--lr", "-1"), ("--lr", "inf"), ("--hidden", "0"),
                   ("--hidden", "abc"), ("--repeats", "0"), ("--repeats", long_value), ("--seed", "-5"),
                   ("--model", "bogus"), ("--augment", "bogus"), ("--device", "tpu")):
        add("evaluate %s %s" % (opt, v[:12]), ev(g, opt, v))
    add("evaluate --hidden 1e9", ev(g, "--hidden", "1000000000"))
    add("evaluate --model convnet non-image", ev(g, "--model", "convnet"))
    add("evaluate --model convnet image lie", ev(P["image_lie"], "--model", "convnet"))
    add("evaluate --augment dsa mlp", ev(g, "--augment", "dsa"))
    add("evaluate --device cuda", ev(g, "--device", "cuda"))
    add("evaluate --cache directory", ["evaluate", g, "--epochs", "1", "--repeats", "1", "--cache", P["subdir"]])
    add("evaluate --cache = store", ["evaluate", g, "--epochs", "1", "--repeats", "1", "--cache", g])
    add("evaluate --cache = selection", ["evaluate", g, "--epochs", "1", "--repeats", "1", "--cache", P["sel"]])
    add("evaluate --cache /proc", ["evaluate", g, "--epochs", "1", "--repeats", "1", "--cache", "/proc/c.json"],
        expect=EITHER)
    add("evaluate --cache missing dir", ["evaluate", g, "--epochs", "1", "--repeats", "1", "--cache",
                                         o("no/c.json")])
    add("evaluate --cache truncated json", ["evaluate", g, "--epochs", "1", "--repeats", "1", "--cache",
                                            P["cache_trunc"]])
    add("evaluate --cache fifo", ["evaluate", g, "--epochs", "1", "--repeats", "1", "--cache", P["fifo"]],
        timeout=15)
    add("evaluate huge lr", ev(g, "--lr", "1e30"), expect=EITHER)

    # -- bench
    bn = lambda *a, store=None: ["bench", store or g, *with_defaults(  # noqa: E731
        a, ["--epochs", "1", "--repeats", "1", "--hidden", "4", "--no-plot", "-o", o("bench")])]
    for v in ("", ",,", "bogus", "random,bogus", "random:bins=3", "kmeans:iterations=0", "kmeans:iterations",
              "random,random", "random:", "random:=3", "x" * 10000):
        add("bench --methods %r" % v[:20], bn("--methods", v, "--fractions", "0.5"))
    for v in ("", "0", "1.5", "nan", "0.1,0.1", "abc", ",", "-0.5", "1e-300", "0.5,,0.6"):
        add("bench --fractions %r" % v, bn("--methods", "random", "--fractions", v),
            expect=EITHER if v == "1e-300" else FAIL)
    add("bench -o existing file", ["bench", g, "--methods", "random", "--fractions", "0.5", "--no-plot",
                                   "--epochs", "1", "--repeats", "1", "-o", P["sel"]])
    add("bench -o = store --force", ["bench", g, "--methods", "random", "--fractions", "0.5", "--no-plot",
                                     "--epochs", "1", "--repeats", "1", "-o", g, "--force"])
    add("bench -o = input dir --force", ["bench", g, "--methods", "random", "--fractions", "0.5", "--no-plot",
                                         "--epochs", "1", "--repeats", "1", "-o", P["dir"], "--force"])
    add("bench -o existing empty dir", ["bench", g, "--methods", "random", "--fractions", "0.5", "--no-plot",
                                        "--epochs", "1", "--repeats", "1", "-o", P["subdir"]], expect=EITHER)
    add("bench -o = input dir", ["bench", g, "--methods", "random", "--fractions", "0.5", "--no-plot",
                                 "--epochs", "1", "--repeats", "1", "-o", P["dir"]])
    add("bench -o /proc", ["bench", g, "--methods", "random", "--fractions", "0.5", "--no-plot",
                           "--epochs", "1", "--repeats", "1", "-o", "/proc/bench"])
    add("bench --python missing", ["bench", g, "--epochs", "1", "--repeats", "1", "--hidden", "4", "-o",
                                   o("bench"), "--methods", "random", "--fractions", "0.5", "--python",
                                   "/nonexistent/py"], expect=EITHER)
    add("bench one class", bn("--methods", "balanced", "--fractions", "0.5", store=P["one_class"]), expect=EITHER)
    add("bench singletons stratified", bn("--methods", "stratified", "--fractions", "0.1", store=P["singletons"]),
        expect=EITHER)
    add("bench no test split", bn("--methods", "random", "--fractions", "0.5", store=P["no_test"]))
    add("bench on NaN", bn("--methods", "random", "--fractions", "0.5", store=P["nan"]))
    add("bench fraction too small for a row", bn("--methods", "random", "--fractions", "0.01"), expect=EITHER)

    # -- condense (mlp net on tiny data keeps it fast)
    cd = lambda store, *a: ["condense", store, *with_defaults(  # noqa: E731
        a, ["--iterations", "1", "--batch-real", "2", "--ipc", "1", "-o", o()])]
    add("condense --ipc 0", cd(img, "--ipc", "0"))
    add("condense --ipc 3 > class size", cd(img, "--ipc", "3"), expect=EITHER, check=is_store(30))
    add("condense --ipc huge", cd(img, "--ipc", "1000000000"))
    add("condense --iterations 0", cd(img, "--iterations", "0"), expect=EITHER, check=is_store(10))
    add("condense --iterations -1", cd(img, "--iterations", "-1"))
    add("condense --iterations 1e999", cd(img, "--iterations", "1e999"))
    add("condense --method bogus", cd(img, "-m", "bogus"))
    add("condense --init bogus", cd(img, "--init", "bogus"))
    add("condense --net bogus", cd(img, "--net", "bogus"))
    add("condense --outer-loop with dm", cd(img, "--outer-loop", "2"))
    add("condense --lr-img 0", cd(img, "--lr-img", "0"))
    add("condense --lr-img nan", cd(img, "--lr-img", "nan"))
    add("condense --lr-img 1e30", cd(img, "--lr-img", "1e30", "--net", "mlp"), expect=EITHER, check=is_store(10))
    add("condense --batch-real 0", cd(img, "--batch-real", "0"))
    add("condense --lr-net -1 dc", cd(img, "-m", "dc", "--lr-net", "-1"))
    add("condense --checkpoint-every -1", cd(img, "--checkpoint-every", "-1"))
    add("condense --augment bogus", cd(img, "--augment", "bogus"))
    add("condense --device cuda", cd(img, "--device", "cuda"))
    add("condense convnet on non-image", cd(g))
    add("condense convnet image lie", cd(P["image_lie"]))
    add("condense convnet image zero", cd(P["image_zero"]))
    add("condense mlp no labels", cd(P["no_labels"], "--net", "mlp"))
    add("condense mlp one class", cd(P["one_class"], "--net", "mlp", "--augment", "none"), expect=EITHER, check=is_store(1))
    add("condense mlp one row", cd(P["one_row"], "--net", "mlp", "--augment", "none"), expect=EITHER, check=is_store(1))
    add("condense mlp NaN features", cd(P["nan"], "--net", "mlp"))
    add("condense mlp labels short", cd(P["labels_short"], "--net", "mlp"))
    add("condense dc singletons", cd(P["singletons"], "--net", "mlp", "-m", "dc", "--ipc", "2",
                                                     "--init", "noise"),
        expect=EITHER, check=is_store(12))
    add("condense --resume no checkpoint", cd(img, "--resume"))
    add("condense --resume zero-byte checkpoint", ["condense", img, "--iterations", "1", "--batch-real", "2",
                                                   "--ipc", "1", "-o", P["ckpt_out"], "--resume"])
    add("condense -o = store --force", ["condense", img, "--iterations", "1", "--batch-real", "2", "--ipc", "1",
                                        "-o", img, "--force"])
    add("condense -o existing", ["condense", img, "--iterations", "1", "--batch-real", "2", "--ipc", "1",
                                 "-o", P["sel"]])
    add("condense text store", cd(P["text"]))

    # -- import
    im = lambda src, *a: ["import", src, "-o", o(), *a]  # noqa: E731
    for key in ("npy_obj", "npy_complex", "npy_str", "npy_1d", "npy_0d", "npy_structured", "npy_trunc",
                "npy_header_trunc", "npy_bad_magic", "npy_bad_header", "npy_unknown_descr", "npy_version9",
                "npy_neg_shape"):
        add("import " + key, im(P[key]))
    add("import npy fortran", im(P["npy_fortran"]), expect=OK, check=is_store(20, 6))
    add("import npy big-endian", im(P["npy_bigendian"]), expect=OK, check=is_store(20, 6))
    add("import npy f16", im(P["npy_f16"]), expect=EITHER, check=is_store(20, 6))
    add("import npy NaN", im(P["npy_nan"]))
    add("import nonexistent", im(os.path.join(P["dir"], "nope.npy")))
    add("import unknown extension", im(P["text"]))
    add("import zero-byte .npy", im(P["zero_npy"]))
    add("import directory.npy", im(P["dir_npy"]))
    add("import /dev/null", im("/dev/null"))
    add("import empty source", im(""))
    add("import --labels float", im(P["features_f32"], "--labels", P["labels_float_npy"]))
    add("import --labels negative", im(P["features_f32"], "--labels", P["labels_neg_npy"]))
    add("import --labels 2-D", im(P["features_f32"], "--labels", P["labels_2d_npy"]))
    add("import --labels short", im(P["features_f32"], "--labels", P["labels_short_npy"]))
    add("import --labels bool", im(P["features_f32"], "--labels", P["labels_bool_npy"]), expect=EITHER,
        check=is_store(20, 6))
    add("import --labels = features", im(P["features_f32"], "--labels", P["features_f32"]))
    add("import --labels csv", im(P["features_f32"], "--labels", P["csv_int_labels"]))
    add("import --test-features other D", im(P["features_f32"], "--test-features", P["test4_npy"]))
    add("import --test-labels without features", im(P["features_f32"], "--labels", P["labels"],
                                                     "--test-labels", P["test_labels"]))
    add("import --test-features without labels", im(P["features_f32"], "--labels", P["labels"],
                                                     "--test-features", P["test_features_f32"]), expect=EITHER,
        check=is_store(20, 6))
    for v in ("1,2,4", "a,b,c", "0,0,0", "-1,2,3", "1,2", "1,2,3,4", "1,2,3", "", "99999999999,1,1"):
        add("import --image-shape %r" % v, im(P["features_f32"], "--image-shape", v),
            expect=OK if v == "1,2,3" else FAIL, check=is_store(20, 6))
    add("import --image-shape lie on images", im(P["images_u8"], "--image-shape", "1,4,5"), expect=EITHER,
        check=is_store(20, 20))
    add("import --class-names too few", im(P["features_f32"], "--labels", P["labels"], "--class-names", "a"))
    add("import --class-names duplicate", im(P["features_f32"], "--labels", P["labels"], "--class-names", "a,a,b"))
    add("import --class-names empty item", im(P["features_f32"], "--labels", P["labels"], "--class-names",
                                              "a,,b"))
    add("import --class-names without labels", im(P["features_f32"], "--class-names", "a,b,c"))
    for v in ("gzip:10", "gzip:-1", "zstd", "gzip:", "gzip:abc", ""):
        add("import --compression %r" % v, im(P["features_f32"], "--compression", v))
    add("import --chunk-rows 1e999", im(P["features_f32"], "--chunk-rows", "1e999"))
    add("import --chunk-rows -1", im(P["features_f32"], "--chunk-rows", "-1"))
    add("import --chunk-rows huge", im(P["features_f32"], "--chunk-rows", "99999999999"), expect=EITHER,
        check=is_store(20, 6))
    add("import --chunk-rows 1", im(P["features_f32"], "--chunk-rows", "1"), expect=OK, check=is_store(20, 6))
    for key in ("csv_empty", "csv_header_only", "csv_ragged", "csv_text", "csv_nan", "csv_overflow",
                "csv_binary", "csv_empty_field", "csv_label_neg"):
        add("import " + key, im(P[key], "--label-column", "label"))
    add("import csv_bom", im(P["csv_bom"], "--label-column", "label"), expect=EITHER, check=is_store(2, 2))
    add("import csv_crlf", im(P["csv_crlf"], "--label-column", "label"), expect=OK, check=is_store(2, 2))
    add("import csv_quotes", im(P["csv_quotes"], "--label-column", "label"), expect=EITHER, check=is_store(2, 2))
    add("import csv_dup_header", im(P["csv_dup_header"], "--label-column", "label"), expect=EITHER,
        check=is_store(2, 2))
    add("import csv_long_line", im(P["csv_long_line"]), expect=EITHER, check=is_store(1, 2))
    add("import csv --label-column missing", im(P["csv_int_labels"], "--label-column", "nope"))
    add("import csv --label-column empty", im(P["csv_int_labels"], "--label-column", ""), expect=EITHER,
        check=is_store(9, 3))
    add("import csv --delimiter empty", im(P["csv_int_labels"], "--delimiter", ""))
    add("import csv --delimiter ,,", im(P["csv_int_labels"], "--delimiter", ",,"))
    add("import csv wrong delimiter", im(P["csv_semicolon"], "--label-column", "label"))
    add("import csv --labels npy", im(P["csv_int_labels"], "--labels", P["labels"]))
    add("import csv --test-features other header", im(P["csv_train"], "--label-column", "species",
                                                      "--test-features", P["csv_int_labels"]))
    add("import fashion missing dir", im("fashion-mnist", "--dataset-dir", os.path.join(out, "nowhere")))
    add("import fashion truncated gz", im("fashion-mnist", "--dataset-dir", P["fashion_trunc"]))
    add("import fashion count mismatch", im("fashion-mnist", "--dataset-dir", P["fashion_mismatch"]))
    add("import fashion label 200", im("fashion-mnist", "--dataset-dir", P["fashion_labels"]), expect=EITHER,
        check=is_store(20, 784))
    add("import fashion --dataset-dir file", im("fashion-mnist", "--dataset-dir", g))
    add("import -o existing", ["import", P["features_f32"], "-o", P["sel"]])
    add("import -o = source --force", ["import", P["features_f32"], "-o", P["features_f32"], "--force"])
    add("import -o = labels --force", ["import", P["features_f32"], "--labels", P["labels"], "-o", P["labels"],
                                       "--force"])
    add("import -o missing dir", ["import", P["features_f32"], "-o", o("no/x.h5")])
    add("import -o /proc", ["import", P["features_f32"], "-o", "/proc/x.h5"])
    add("import -o /sys", ["import", P["features_f32"], "-o", "/sys/x.h5"])
    add("import -o directory", ["import", P["features_f32"], "-o", out])
    add("import -o unicode", ["import", P["features_f32"], "-o", o(uni + ".h5")], expect=OK,
        check=None, output=o(uni + ".h5"))

    # -- energy
    add("energy no command", ["energy"])
    add("energy -- only", ["energy", "--"])
    add("energy missing program", ["energy", "--", "/nonexistent/prog"], rc=127)
    add("energy missing program on PATH", ["energy", "--", "no-such-program-xyz"], rc=127)
    add("energy directory as program", ["energy", "--", P["subdir"]], rc=126)
    add("energy non-executable", ["energy", "--", P["not_exec"]], rc=126)
    add("energy -- true", ["energy", "--", "true"], expect=OK)
    add("energy -- false passes status", ["energy", "--", "false"], expect=OK, rc=1)
    add("energy -- killed child", ["energy", "--", "sh", "-c", "kill -9 $$"], expect=OK, rc=137)
    add("energy -o existing", ["energy", "-o", P["sel"], "--", "true"])
    add("energy -o directory", ["energy", "-o", out, "--", "true"])
    add("energy -o /proc", ["energy", "-o", "/proc/e.json", "--", "true"])
    add("energy -o missing dir", ["energy", "-o", o("no/e.json"), "--", "true"])
    add("energy --pue 0", ["--pue", "0", "energy", "--", "true"])
    add("energy --carbon-intensity -1", ["--carbon-intensity", "-1", "energy", "--", "true"])
    add("energy --region XX", ["--region", "XX", "energy", "--", "true"])
    add("energy --cpu-watts nan", ["--cpu-watts", "nan", "energy", "--", "true"])
    add("energy -o written by child", ["energy", "-o", o("e.json"), "--", "sh", "-c",
                                       "echo child > %s" % o("e.json")], expect=EITHER)
    add("energy program 10k name", ["energy", "--", "x" * 10000], rc=126)
    return C


def copy_special(src, dst):
    if stat.S_ISDIR(os.lstat(src).st_mode):
        os.makedirs(dst, exist_ok=True)
    elif stat.S_ISFIFO(os.lstat(src).st_mode):
        os.mkfifo(dst)
    else:
        shutil.copy2(src, dst)


def restore(d, pristine, before, after):
    """Puts the inputs back as they were: what a case changed, added or removed."""
    for p in after:
        if p not in before:
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
    os.makedirs(d, exist_ok=True)
    for p in sorted(before):
        if after.get(p) != before[p]:
            src = os.path.join(pristine, os.path.relpath(p, d))
            if os.path.lexists(p) and not (os.path.isdir(p) and os.path.isdir(src)):
                shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
            if os.path.islink(src):
                os.symlink(os.readlink(src), p)
            else:
                copy_special(src, p)
    good, link = os.path.join(d, "good.h5"), os.path.join(d, "hardlink.h5")
    if os.lstat(good).st_ino != os.lstat(link).st_ino:
        os.remove(link)
        os.link(good, link)


# ---- running ---------------------------------------------------------------------------------------

def judge(case, proc_rc, stdout, stderr, out_dir, before, after, partial_list, out_files):
    problems = []
    if proc_rc is None:
        return ["timed out after %ds" % case.timeout]
    if proc_rc < 0:
        problems.append("killed by signal %d" % -proc_rc)
    lines = stderr.splitlines()
    for bad in BAD_WORDS:
        if bad in stderr:
            problems.append("stderr has %r" % bad)
            break
    changed = sorted(p for p in before if after.get(p) != before[p])
    added = sorted(p for p in after if p not in before and not p.endswith(".evaluate-cache.json"))
    if changed:
        problems.append("input changed or removed: %s" % ", ".join(os.path.basename(p) for p in changed))
    if added:
        problems.append("new file among the inputs: %s" % ", ".join(os.path.basename(p) for p in added))
    if partial_list:
        problems.append("partial left: %s" % ", ".join(os.path.basename(p) for p in partial_list))
    accepted = proc_rc == 0 or (case.rc is not None and proc_rc == case.rc and case.expect == OK)
    if case.expect == OK and not accepted:
        problems.append("refused a valid case (rc=%d): %s" % (proc_rc, (lines or [""])[0][:200]))
    elif case.expect == FAIL and proc_rc == 0:
        problems.append("accepted (rc=0)")
    if proc_rc > 0 and not accepted:
        expected_rc = case.rc
        if expected_rc is not None and proc_rc != expected_rc:
            problems.append("exit %d, expected %d" % (proc_rc, expected_rc))
        if proc_rc >= 128 and expected_rc is None:
            problems.append("exit status %d looks like a signal" % proc_rc)
        if len(lines) != 1:
            problems.append("stderr has %d lines: %r" % (len(lines), stderr[:300]))
        elif not lines[0].startswith("error: "):
            problems.append("stderr does not start with 'error: ': %r" % lines[0][:200])
        if out_files and case.expect == FAIL:
            problems.append("failed but left output: %s" % ", ".join(out_files))
    if accepted and case.expect in (OK, EITHER) and case.check and proc_rc == 0:
        why = case.check(case, out_dir, proc_rc, stdout, stderr)
        if why:
            problems.append(why)
    return problems


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("-")]
    verbose = "-v" in argv
    if not args:
        sys.stderr.write("usage: adversarial_pass.py SUBSET_BINARY [-v] [FILTER]\n")
        return 0
    binary = os.path.abspath(args[0])
    flt = args[1] if len(args) > 1 else None
    root = tempfile.mkdtemp(prefix="subset-adversarial-")
    try:
        P = build_inputs(binary, root)
        d = P["dir"]
        os.link(P["good"], os.path.join(d, "hardlink.h5"))
        P["hardlink"] = os.path.join(d, "hardlink.h5")
        os.symlink(P["good"], os.path.join(d, "symlink.h5"))
        P["symlink"] = os.path.join(d, "symlink.h5")
        P["zero_npy"] = write(os.path.join(d, "zero.npy"), "")
        P["dir_npy"] = os.path.join(d, "dir.npy")
        os.makedirs(P["dir_npy"])
        P["fifo_npy"] = os.path.join(d, "fifo.npy")
        os.mkfifo(P["fifo_npy"])
        P["cache_trunc"] = write(os.path.join(d, "trunc.evaluate-cache.json"), '{"format": "subset-evaluate-ca')
        P["ckpt_out"] = os.path.join(d, "ckpt.h5")
        write(P["ckpt_out"] + ".checkpoint.h5", "")
        write(P["ckpt_zero"], "")
        pristine = os.path.join(root, "pristine")
        shutil.copytree(d, pristine, symlinks=True, copy_function=copy_special)
        out = os.path.join(root, "out")
        all_cases = cases(P, out)
        if flt:
            all_cases = [c for c in all_cases if flt in c.name]
        good = 0
        for case in all_cases:
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            before = snapshot(d)
            try:
                proc = subprocess.run([binary, *case.args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL, timeout=case.timeout, cwd=out)
                rc, so, se = proc.returncode, proc.stdout.decode("utf-8", "replace"), \
                    proc.stderr.decode("utf-8", "replace")
            except subprocess.TimeoutExpired:
                rc, so, se = None, "", ""
            after = snapshot(d)
            out_files = sorted(os.listdir(out))
            problems = judge(case, rc, so, se, out, before, after, partials(root), out_files)
            if problems:
                print("FAIL [%s] subset %s\n      %s" % (case.name, " ".join(a[:60] for a in case.args),
                                                         "; ".join(problems)))
            else:
                good += 1
                if verbose:
                    print("ok   [%s] rc=%s %s" % (case.name, rc, se.strip()[:160]))
            if before != after or partials(root):
                restore(d, pristine, before, after)
                for p in partials(root):
                    os.remove(p) if os.path.isfile(p) else shutil.rmtree(p, ignore_errors=True)
            sys.stdout.flush()
        print("%d handled well / %d tried" % (good, len(all_cases)))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
