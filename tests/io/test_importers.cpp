// Tests for libsubset/io/importers.h: Fashion-MNIST IDX directories, .npy arrays and CSV tables,
// all made by hand in the test.
#include <doctest/doctest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/importers.h"
#include "libsubset/io/store.h"
#include "support/files.h"
#include "support/idx_builder.h"
#include "support/npy_builder.h"
#include "support/temp_dir.h"
#include "support/error_of.h"

using subset::io::FeatureStore;
using subset::io::OutputOptions;
using subset::io::Split;
using namespace subset::test;

using subset::test::error_of;

namespace {

OutputOptions to(const std::string& path, bool force = false) {
  OutputOptions o;
  o.path = path;
  o.force = force;
  return o;
}

// Root string attribute read with the HDF5 C API.
std::string root_string_attr(const std::string& path, const std::string& name) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  hid_t attr = H5Aopen(file, name.c_str(), H5P_DEFAULT);
  REQUIRE(attr >= 0);
  hid_t mem = H5Tcopy(H5T_C_S1);
  H5Tset_size(mem, H5T_VARIABLE);
  H5Tset_cset(mem, H5T_CSET_UTF8);
  char* p = nullptr;
  REQUIRE(H5Aread(attr, mem, &p) >= 0);
  std::string out = p ? p : "";
  H5free_memory(p);
  H5Tclose(mem);
  H5Aclose(attr);
  H5Fclose(file);
  return out;
}

// ---- a fake Fashion-MNIST directory ----

uint8_t pixel(int image, int i) { return static_cast<uint8_t>((image * 31 + i * 7) % 256); }

std::vector<uint8_t> images(int n, int salt) {
  std::vector<uint8_t> v;
  for (int k = 0; k < n; ++k)
    for (int i = 0; i < 28 * 28; ++i) v.push_back(pixel(k + salt, i));
  return v;
}

const std::vector<uint8_t> kTrainLabels = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 1};
const std::vector<uint8_t> kTestLabels = {9, 2, 1, 1, 6};

void make_fashion_dir(const TempDir& dir, bool gz = true, std::vector<uint8_t> train_labels = kTrainLabels) {
  auto put = [&](const std::string& stem, const std::string& bytes) {
    if (gz) write_gz(dir.file(stem + ".gz"), bytes);
    else write_bytes(dir.file(stem), bytes);
  };
  put("train-images-idx3-ubyte", idx_bytes({12, 28, 28}, images(12, 0)));
  put("train-labels-idx1-ubyte", idx_bytes({12}, train_labels));
  put("t10k-images-idx3-ubyte", idx_bytes({5, 28, 28}, images(5, 100)));
  put("t10k-labels-idx1-ubyte", idx_bytes({5}, kTestLabels));
}

void check_fashion_store(const std::string& path) {
  const FeatureStore store = FeatureStore::open(path);
  const auto& info = store.info();
  CHECK(info.n() == 12);
  CHECK(info.dim() == 784);
  CHECK(info.test_n() == 5);
  CHECK(info.image_shape == std::vector<int64_t>{1, 28, 28});
  CHECK(info.class_names == std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"});
  CHECK(store.labels() == std::vector<int64_t>(kTrainLabels.begin(), kTrainLabels.end()));
  CHECK(store.labels(Split::Test) == std::vector<int64_t>(kTestLabels.begin(), kTestLabels.end()));
  const auto train = store.features().read_all();
  for (int k = 0; k < 12; ++k)
    for (int i = 0; i < 784; ++i)
      REQUIRE(train(k, i) == static_cast<float>(pixel(k, i)) / 255.0f);  // numpy: x.astype(float32) / 255
  const auto test = store.features(Split::Test).read_all();
  for (int k = 0; k < 5; ++k)
    for (int i = 0; i < 784; ++i) REQUIRE(test(k, i) == static_cast<float>(pixel(k + 100, i)) / 255.0f);
  // Extremes map to exactly 0 and 1.
  CHECK(static_cast<float>(uint8_t{255}) / 255.0f == 1.0f);
  CHECK(info.source.find("fashion-mnist") == 0);
}

}  // namespace

TEST_CASE("import_fashion_mnist: gzip'd IDX files") {
  TempDir dir, out;
  make_fashion_dir(dir);
  const std::string path = out.file("fmnist.h5");
  const auto info = subset::io::import_fashion_mnist(dir.path().string(), to(path)).info;
  CHECK(info.path == path);
  CHECK(info.n() == 12);
  CHECK(info.class_counts == std::map<int64_t, int64_t>{{0, 4}, {1, 1}, {2, 2}, {3, 1}, {5, 2}, {7, 1}, {9, 1}});
  check_fashion_store(path);
  CHECK(list_dir(out.path()) == std::vector<std::string>{"fmnist.h5"});

  // The output now exists: refused without force, replaced with it.
  const std::string before = read_bytes(path);
  CHECK_THROWS_WITH_AS(subset::io::import_fashion_mnist(dir.path().string(), to(path)),
                       doctest::Contains("output already exists"), subset::Error);
  CHECK(read_bytes(path) == before);
  CHECK_NOTHROW(subset::io::import_fashion_mnist(dir.path().string(), to(path, true)));
  check_fashion_store(path);
}

TEST_CASE("import_fashion_mnist: uncompressed IDX files") {
  TempDir dir, out;
  make_fashion_dir(dir, false);
  const std::string path = out.file("fmnist.h5");
  subset::io::import_fashion_mnist(dir.path().string(), to(path));
  check_fashion_store(path);
}

TEST_CASE("import_fashion_mnist: a missing file names the Debian package and bad labels are rejected") {
  TempDir dir, out;
  make_fashion_dir(dir);
  REQUIRE(unlink(dir.file("t10k-labels-idx1-ubyte.gz").c_str()) == 0);
  const subset::Error e = error_of([&] { subset::io::import_fashion_mnist(dir.path().string(), to(out.file("o.h5"))); });
  CHECK(e.message().find("t10k-labels-idx1-ubyte.gz not found") != std::string::npos);
  CHECK(e.message().find("dataset-fashion-mnist") != std::string::npos);
  CHECK(e.where() == dir.path().string());
  CHECK(list_dir(out.path()).empty());

  TempDir bad;
  std::vector<uint8_t> labels = kTrainLabels;
  labels[3] = 10;
  make_fashion_dir(bad, true, labels);
  const subset::Error l = error_of([&] { subset::io::import_fashion_mnist(bad.path().string(), to(out.file("o.h5"))); });
  CHECK(l.message() == "label 10 at row 3 is not in 0..9");
  CHECK(l.where() == bad.file("train-labels-idx1-ubyte.gz"));
  CHECK(list_dir(out.path()).empty());

  TempDir wrong;
  make_fashion_dir(wrong);
  write_gz(wrong.file("train-images-idx3-ubyte.gz"), idx_bytes({12, 28, 27}, std::vector<uint8_t>(12 * 28 * 27)));
  CHECK_THROWS_WITH_AS(subset::io::import_fashion_mnist(wrong.path().string(), to(out.file("o.h5"))),
                       doctest::Contains("expected images of shape [N, 28, 28]"), subset::Error);
  write_gz(wrong.file("train-images-idx3-ubyte.gz"), idx_bytes({11, 28, 28}, images(11, 0)));
  CHECK_THROWS_WITH_AS(subset::io::import_fashion_mnist(wrong.path().string(), to(out.file("o.h5"))),
                       doctest::Contains("has 12 labels for 11 images"), subset::Error);
  CHECK(list_dir(out.path()).empty());
}

TEST_CASE("import_npy with labels, a test split, class names and an inferred image shape") {
  TempDir dir;
  // Features [6, 2, 2] uint8 (image-like: shape [1, 2, 2] inferred), test [3, 2, 2].
  std::vector<uint8_t> train(24), test(12);
  for (size_t i = 0; i < train.size(); ++i) train[i] = static_cast<uint8_t>(i * 10);
  for (size_t i = 0; i < test.size(); ++i) test[i] = static_cast<uint8_t>(255 - i);
  write_bytes(dir.file("x.npy"), npy_bytes("|u1", false, "(6, 2, 2)", raw_le(train)));
  write_bytes(dir.file("y.npy"), npy_bytes("<i8", false, "(6,)", raw_le<int64_t>({0, 1, 2, 2, 1, 0})));
  write_bytes(dir.file("tx.npy"), npy_bytes("|u1", false, "(3, 2, 2)", raw_le(test)));
  write_bytes(dir.file("ty.npy"), npy_bytes("<i4", false, "(3,)", raw_le<int32_t>({2, 2, 1})));
  subset::io::NpyImport req;
  req.features = dir.file("x.npy");
  req.labels = dir.file("y.npy");
  req.test_features = dir.file("tx.npy");
  req.test_labels = dir.file("ty.npy");
  req.class_names = {"red", "green", "blue"};
  const std::string path = dir.file("out.h5");
  const auto info = subset::io::import_npy(req, to(path)).info;
  CHECK(info.n() == 6);
  CHECK(info.dim() == 4);
  CHECK(info.image_shape == std::vector<int64_t>{1, 2, 2});
  CHECK(info.class_names == std::vector<std::string>{"red", "green", "blue"});
  CHECK(info.source == "npy (" + dir.file("x.npy") + ")");

  const FeatureStore store = FeatureStore::open(path);
  const auto x = store.features().read_all();
  for (int r = 0; r < 6; ++r)
    for (int c = 0; c < 4; ++c) CHECK(x(r, c) == static_cast<float>((r * 4 + c) * 10));
  const auto tx = store.features(Split::Test).read_all();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) CHECK(tx(r, c) == static_cast<float>(255 - (r * 4 + c)));
  CHECK(store.labels() == std::vector<int64_t>{0, 1, 2, 2, 1, 0});
  CHECK(store.labels(Split::Test) == std::vector<int64_t>{2, 2, 1});

  // 2-D float64 features without labels: no image shape, values rounded to float32.
  write_bytes(dir.file("f.npy"), npy_bytes("<f8", false, "(2, 3)", raw_le<double>({0.1, 0.2, 0.3, -1, -2, -3})));
  subset::io::NpyImport plain;
  plain.features = dir.file("f.npy");
  const auto pinfo = subset::io::import_npy(plain, to(dir.file("plain.h5"))).info;
  CHECK(pinfo.image_shape.empty());
  CHECK_FALSE(pinfo.has_labels);
  const auto f = FeatureStore::open(dir.file("plain.h5")).features().read_all();
  CHECK(f(0, 0) == 0.1f);
  CHECK(f(0, 2) == 0.3f);
  CHECK(f(1, 1) == -2.0f);

  // A Fortran-ordered [N, H, W] array imports to the same rows as its C-ordered twin.
  std::vector<float> c_order(2 * 2 * 3), f_order(2 * 2 * 3);
  for (int n = 0; n < 2; ++n)
    for (int h = 0; h < 2; ++h)
      for (int w = 0; w < 3; ++w) {
        c_order[n * 6 + h * 3 + w] = static_cast<float>(100 * n + 10 * h + w);
        f_order[n + 2 * h + 4 * w] = static_cast<float>(100 * n + 10 * h + w);
      }
  write_bytes(dir.file("c.npy"), npy_bytes("<f4", false, "(2, 2, 3)", raw_le(c_order)));
  write_bytes(dir.file("fo.npy"), npy_bytes("<f4", true, "(2, 2, 3)", raw_le(f_order)));
  subset::io::NpyImport creq, freq;
  creq.features = dir.file("c.npy");
  freq.features = dir.file("fo.npy");
  CHECK(subset::io::import_npy(freq, to(dir.file("fo.h5"))).info.image_shape == std::vector<int64_t>{1, 2, 3});
  subset::io::import_npy(creq, to(dir.file("c.h5")));
  const auto fm = FeatureStore::open(dir.file("fo.h5")).features().read_all();
  CHECK(fm == FeatureStore::open(dir.file("c.h5")).features().read_all());
  CHECK(fm(1, 4) == 111.0f);

  // An explicit image shape for flat rows.
  subset::io::NpyImport shaped;
  shaped.features = dir.file("f.npy");
  shaped.image_shape = {3, 1, 1};
  CHECK(subset::io::import_npy(shaped, to(dir.file("shaped.h5"))).info.image_shape == std::vector<int64_t>{3, 1, 1});
}

TEST_CASE("import_npy rejects bad input before anything is written") {
  TempDir dir;
  write_bytes(dir.file("x.npy"), npy_bytes("<f4", false, "(6, 2)", raw_le(std::vector<float>(12, 1.0f))));
  write_bytes(dir.file("y5.npy"), npy_bytes("<i8", false, "(5,)", raw_le<int64_t>({0, 1, 2, 3, 4})));
  write_bytes(dir.file("yneg.npy"), npy_bytes("<i8", false, "(6,)", raw_le<int64_t>({0, 1, -1, 0, 0, 0})));
  write_bytes(dir.file("y6.npy"), npy_bytes("<i8", false, "(6,)", raw_le<int64_t>({0, 1, 2, 0, 0, 0})));
  write_bytes(dir.file("t3.npy"), npy_bytes("<f4", false, "(2, 3)", raw_le(std::vector<float>(6, 1.0f))));
  write_bytes(dir.file("flat.npy"), npy_bytes("<f4", false, "(6,)", raw_le(std::vector<float>(6, 1.0f))));
  std::vector<float> with_nan(12, 1.0f);
  with_nan[2 * 2 + 1] = std::numeric_limits<float>::quiet_NaN();
  write_bytes(dir.file("nan.npy"), npy_bytes("<f4", false, "(6, 2)", raw_le(with_nan)));
  const auto inputs = list_dir(dir.path());
  const std::string out = dir.file("out.h5");

  auto expect = [&](const subset::io::NpyImport& req, const std::string& message, const std::string& where) {
    CAPTURE(message);
    const subset::Error e = error_of([&] { subset::io::import_npy(req, to(out)); });
    CHECK(e.message().find(message) != std::string::npos);
    CHECK(e.where() == where);
    CHECK(list_dir(dir.path()) == inputs);  // no output, no temporary file
  };
  subset::io::NpyImport req;
  req.features = dir.file("x.npy");
  req.labels = dir.file("y5.npy");
  expect(req, "labels have 5 entries but the features have 6 rows", dir.file("y5.npy"));
  req.labels = dir.file("yneg.npy");
  expect(req, "negative label -1 at row 2", dir.file("yneg.npy"));
  req.labels = dir.file("y6.npy");
  req.class_names = {"a", "b"};
  expect(req, "label 2 has no class name (2 names given)", "class-names");
  req.class_names.clear();
  req.image_shape = {1, 1, 3};
  expect(req, "image shape must be C,H,W with C*H*W = 2", "image-shape");
  req.image_shape.clear();
  req.test_features = dir.file("t3.npy");
  expect(req, "test features have 3 values per row but the training features have 2", dir.file("t3.npy"));
  req.test_features.reset();
  req.test_labels = dir.file("y6.npy");
  expect(req, "test labels given without --test-features", dir.file("y6.npy"));

  subset::io::NpyImport flat;
  flat.features = dir.file("flat.npy");
  expect(flat, "features must be at least 2-D [N, D], found shape of rank 1", dir.file("flat.npy"));
  subset::io::NpyImport nan;
  nan.features = dir.file("nan.npy");
  expect(nan, "NaN or Inf in features at row 2, column 1", dir.file("nan.npy"));
  subset::io::NpyImport missing;
  missing.features = dir.file("missing.npy");
  expect(missing, "no such file", dir.file("missing.npy"));
}

TEST_CASE("import_csv: text labels become sorted class names and the test CSV is renumbered") {
  TempDir dir;
  write_bytes(dir.file("train.csv"), "w,h,animal\n1,2,dog\n3,4,cat\n5,6,bird\n7,8,cat\n");
  // The test file alone would number bird=0, dog=1; in the store it must use the training names.
  write_bytes(dir.file("test.csv"), "w,h,animal\n0.5,1.5,dog\n2.5,3.5,bird\n4.5,5.5,dog\n");
  subset::io::CsvImport req;
  req.path = dir.file("train.csv");
  req.label_column = "animal";
  req.test_path = dir.file("test.csv");
  const std::string path = dir.file("out.h5");
  const auto info = subset::io::import_csv(req, to(path)).info;
  CHECK(info.class_names == std::vector<std::string>{"bird", "cat", "dog"});
  CHECK(info.n() == 4);
  CHECK(info.dim() == 2);
  CHECK(info.test_n() == 3);

  const FeatureStore store = FeatureStore::open(path);
  CHECK(store.labels() == std::vector<int64_t>{2, 1, 0, 1});
  CHECK(store.labels(Split::Test) == std::vector<int64_t>{2, 0, 2});
  const auto x = store.features().read_all();
  CHECK(x(0, 0) == 1.0f);
  CHECK(x(3, 1) == 8.0f);
  const auto t = store.features(Split::Test).read_all();
  CHECK(t(1, 0) == 2.5f);
  CHECK(t(2, 1) == 5.5f);
  CHECK(nlohmann::json::parse(root_string_attr(path, "feature_names")) == nlohmann::json({"w", "h"}));
  CHECK(info.source == "csv (" + dir.file("train.csv") + ")");

  // Integer labels are kept as they are (class ids below the row count: issue 12, case 9).
  write_bytes(dir.file("int.csv"), "y,a\n3,0.25\n0,0.5\n1,1\n1,2\n");
  subset::io::CsvImport ints;
  ints.path = dir.file("int.csv");
  ints.label_column = "y";
  const auto iinfo = subset::io::import_csv(ints, to(dir.file("int.h5"))).info;
  CHECK(iinfo.class_names.empty());
  CHECK(FeatureStore::open(dir.file("int.h5")).labels() == std::vector<int64_t>{3, 0, 1, 1});
}

TEST_CASE("import_csv errors name the file, line and column, and nothing is written") {
  TempDir dir;
  write_bytes(dir.file("train.csv"), "a,b,l\n1,2,x\n3,oops,y\n");
  write_bytes(dir.file("good.csv"), "a,b,l\n1,2,x\n3,4,y\n");
  write_bytes(dir.file("unseen.csv"), "a,b,l\n1,2,z\n");
  write_bytes(dir.file("cols.csv"), "a,c,l\n1,2,x\n");
  write_bytes(dir.file("ints.csv"), "a,b,l\n1,2,0\n");
  write_bytes(dir.file("existing.h5"), "old");
  const auto inputs = list_dir(dir.path());
  auto expect = [&](const subset::io::CsvImport& req, const std::string& out, bool force, const std::string& message,
                    const std::string& where) {
    CAPTURE(message);
    const subset::Error e = error_of([&] { subset::io::import_csv(req, to(out, force)); });
    CHECK(e.message() == message);
    CHECK(e.where() == where);
    CHECK(list_dir(dir.path()) == inputs);
  };
  subset::io::CsvImport req;
  req.path = dir.file("train.csv");
  req.label_column = "l";
  expect(req, dir.file("out.h5"), false, "non-numeric value 'oops' at line 3, column 'b'", dir.file("train.csv"));

  req.path = dir.file("good.csv");
  req.test_path = dir.file("unseen.csv");
  expect(req, dir.file("out.h5"), false, "label 'z' does not occur in the training CSV", dir.file("unseen.csv"));
  req.test_path = dir.file("cols.csv");
  expect(req, dir.file("out.h5"), false, "test CSV columns differ from the training CSV's", dir.file("cols.csv"));
  req.test_path = dir.file("ints.csv");
  expect(req, dir.file("out.h5"), false, "one CSV has text labels and the other integers", dir.file("ints.csv"));
  req.test_path.reset();
  expect(req, dir.file("existing.h5"), false, "output already exists (use --force to overwrite)",
         dir.file("existing.h5"));
  CHECK(read_bytes(dir.file("existing.h5")) == "old");
}

TEST_CASE("importers refuse labels that are not class ids before anything is written (issue 12, case 9)") {
  TempDir dir;
  write_bytes(dir.file("x.npy"), npy_bytes("<f4", false, "(6, 2)", raw_le(std::vector<float>(12, 1.0f))));
  write_bytes(dir.file("big.npy"),
              npy_bytes("<i8", false, "(6,)", raw_le<int64_t>({0, 1, 2, 1000000000000, 0, 0})));
  write_bytes(dir.file("u64.npy"),
              npy_bytes("<u8", false, "(6,)", raw_le<uint64_t>({0, 1, 2, 0, UINT64_MAX, 0})));
  write_bytes(dir.file("at_n.npy"), npy_bytes("<i8", false, "(6,)", raw_le<int64_t>({0, 1, 2, 0, 0, 6})));
  write_bytes(dir.file("below_n.npy"), npy_bytes("<i8", false, "(6,)", raw_le<int64_t>({0, 1, 2, 0, 0, 5})));
  write_bytes(dir.file("big.csv"), "a,l\n1,0\n2,1\n3,99999999999999999999\n");
  write_bytes(dir.file("at_n.csv"), "a,l\n1,0\n2,1\n3,3\n");
  const auto inputs = list_dir(dir.path());
  const std::string out = dir.file("out.h5");
  auto expect = [&](auto&& import, const std::string& message, const std::string& where) {
    CAPTURE(message);
    const subset::Error e = error_of(import);
    CHECK(e.message().find(message) != std::string::npos);
    CHECK(e.where() == where);
    CHECK(list_dir(dir.path()) == inputs);
  };
  subset::io::NpyImport req;
  req.features = dir.file("x.npy");
  for (const char* name : {"big.npy", "u64.npy", "at_n.npy"}) {
    req.labels = dir.file(name);
    const std::string message = std::string(name) == "big.npy" ? "label 1000000000000 at row 3 is not a class id"
                                : std::string(name) == "u64.npy" ? "label 18446744073709551615 at row 4"
                                                                 : "label 6 at row 5 is not a class id";
    expect([&] { subset::io::import_npy(req, to(out)); }, message, dir.file(name));
  }
  req.labels = dir.file("below_n.npy");
  CHECK(subset::io::import_npy(req, to(out)).info.num_classes() == 6);
  std::remove(out.c_str());

  subset::io::CsvImport csv;
  csv.label_column = "l";
  csv.path = dir.file("big.csv");
  expect([&] { subset::io::import_csv(csv, to(out)); }, "label 99999999999999999999 in data row 2 is not a class id",
         dir.file("big.csv"));
  csv.path = dir.file("at_n.csv");
  expect([&] { subset::io::import_csv(csv, to(out)); }, "label 3 at row 2 of /labels is not a class id",
         dir.file("at_n.csv"));
}
