// Tests for libsubset/io/store.h: opening, validating and reading feature stores crafted with the
// HDF5 C API (support/h5_builder.h), valid and malformed.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/store.h"
#include "support/files.h"
#include "support/h5_builder.h"
#include "support/temp_dir.h"

using subset::io::FeatureStore;
using subset::io::Split;
using namespace subset::test;

namespace {

std::string store_path(const TempDir& dir, const StoreSpec& spec, const std::string& name = "s.h5") {
  const std::string path = dir.file(name);
  write_store(path, spec);
  return path;
}

void check_rows(const subset::RowMatrixF& m, int64_t first_row) {
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      REQUIRE(m(r, c) == static_cast<float>(feature_value(first_row + r, c)));
}

// Opens a malformed store and checks the error names the problem and the file.
void expect_open_error(const std::string& path, const std::string& message) {
  CAPTURE(message);
  try {
    FeatureStore::open(path);
    FAIL("malformed store accepted");
  } catch (const subset::Error& e) {
    CHECK(e.message().find(message) != std::string::npos);
    if (e.message().find(message) == std::string::npos) MESSAGE("actual message: " << e.message());
    CHECK(e.where().find(path) == 0);
  }
}

}  // namespace

TEST_CASE("open: a valid store's description") {
  TempDir dir;
  StoreSpec spec;
  spec.test_dims = std::vector<hsize_t>{5, 3};
  spec.test_labels = std::vector<int64_t>{2, 2, 0, 1, 2};
  const std::string path = store_path(dir, spec);
  const FeatureStore store = FeatureStore::open(path);
  const auto& info = store.info();
  CHECK(store.path() == path);
  CHECK(info.path == path);
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK(info.file_size == static_cast<uint64_t>(st.st_size));
  CHECK(info.format_declared);
  CHECK(info.format_version == 1);
  CHECK(info.source == "unit test");
  CHECK(info.created_by == "h5_builder");
  CHECK(info.n() == 10);
  CHECK(info.dim() == 3);
  CHECK(info.features.dataset == "/features");
  CHECK(info.features.dtype == "float32");
  CHECK(info.features.chunk_rows == 4);
  CHECK(info.features.compression == "none");
  CHECK(info.features.storage_bytes == 3 * 4 * 3 * 4);  // three whole chunks of 4 rows x 3 floats
  CHECK(info.image_shape.empty());
  CHECK(info.has_labels);
  CHECK(info.class_names == std::vector<std::string>{"a", "b", "c"});
  CHECK(info.class_counts == std::map<int64_t, int64_t>{{0, 3}, {1, 3}, {2, 4}});
  CHECK(info.num_classes() == 3);
  CHECK(info.has_test);
  CHECK(info.test_n() == 5);
  CHECK(info.test_features.dataset == "/test/features");
  CHECK(info.test_features.cols == 3);
  CHECK(info.test_features.chunk_rows == 0);  // contiguous
  CHECK(info.has_test_labels);
  CHECK(info.test_class_counts == std::map<int64_t, int64_t>{{0, 1}, {1, 1}, {2, 3}});

  const nlohmann::json j = info.to_json();
  CHECK(j["path"] == path);
  CHECK(j["format"] == "subset-store");
  CHECK(j["format_version"] == 1);
  CHECK(j["n"] == 10);
  CHECK(j["dim"] == 3);
  CHECK(j["dtype"] == "float32");
  CHECK(j["image_shape"].is_null());
  CHECK(j["chunk_rows"] == 4);
  CHECK(j["compression"] == "none");
  CHECK(j["class_names"] == nlohmann::json({"a", "b", "c"}));
  CHECK(j["num_classes"] == 3);
  CHECK(j["class_counts"] == nlohmann::json({{"0", 3}, {"1", 3}, {"2", 4}}));
  CHECK(j["test_n"] == 5);
  CHECK(j["test_class_counts"] == nlohmann::json({{"0", 1}, {"1", 1}, {"2", 3}}));
  CHECK(j["source"] == "unit test");
  CHECK(j["created_by"] == "h5_builder");

  CHECK(store.has_dataset("/features"));
  CHECK(store.has_dataset("/test/features"));
  CHECK(store.has_dataset("/labels"));
  CHECK_FALSE(store.has_dataset("/test"));  // a group, not a dataset
  CHECK_FALSE(store.has_dataset("/nope"));
  CHECK_FALSE(store.has_dataset("/nope/deeper"));
}

TEST_CASE("reading features whole, by row range and labels") {
  TempDir dir;
  StoreSpec spec;
  spec.test_dims = std::vector<hsize_t>{5, 3};
  spec.test_labels = std::vector<int64_t>{2, 2, 0, 1, 2};
  const FeatureStore store = FeatureStore::open(store_path(dir, spec));
  const auto f = store.features();
  CHECK(f.rows() == 10);
  CHECK(f.cols() == 3);
  CHECK(f.info().dataset == "/features");
  const subset::RowMatrixF all = f.read_all();
  REQUIRE(all.rows() == 10);
  REQUIRE(all.cols() == 3);
  check_rows(all, 0);
  CHECK(all(9, 2) == 92.5f);

  check_rows(f.read_rows(3, 4), 3);  // spans a chunk boundary
  check_rows(f.read_rows(9, 1), 9);
  CHECK(f.read_rows(10, 0).rows() == 0);
  std::vector<float> buf(6, -1.0f);
  f.read_rows(4, 2, buf.data());
  CHECK(buf == std::vector<float>{40.5f, 41.5f, 42.5f, 50.5f, 51.5f, 52.5f});

  for (auto [begin, count] : {std::pair<int64_t, int64_t>{8, 3}, {-1, 2}, {0, 11}, {11, 0}, {2, -1}}) {
    CAPTURE(begin);
    CAPTURE(count);
    CHECK_THROWS_WITH_AS(f.read_rows(begin, count, buf.data()), doctest::Contains("out of range for 10 rows"),
                         subset::Error);
  }
  try {
    f.read_rows(8, 3, buf.data());
  } catch (const subset::Error& e) {
    CHECK(e.message() == "rows [8, 11) out of range for 10 rows");
    CHECK(e.where() == store.path() + ":/features");
  }

  CHECK(store.labels() == std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 2});
  CHECK(store.labels(Split::Test) == std::vector<int64_t>{2, 2, 0, 1, 2});
  const auto t = store.features(Split::Test);
  CHECK(t.rows() == 5);
  check_rows(t.read_all(), 0);
}

TEST_CASE("streaming in blocks") {
  TempDir dir;
  const FeatureStore store = FeatureStore::open(store_path(dir, StoreSpec{}));
  const auto f = store.features();
  std::vector<int64_t> firsts, sizes;
  f.for_each_block(3, [&](int64_t first, subset::MatrixViewF block) {
    firsts.push_back(first);
    sizes.push_back(block.rows());
    REQUIRE(block.cols() == 3);
    for (Eigen::Index r = 0; r < block.rows(); ++r)
      for (Eigen::Index c = 0; c < block.cols(); ++c)
        REQUIRE(block(r, c) == static_cast<float>(feature_value(first + r, c)));
    return true;
  });
  CHECK(firsts == std::vector<int64_t>{0, 3, 6, 9});
  CHECK(sizes == std::vector<int64_t>{3, 3, 3, 1});

  int calls = 0;
  f.for_each_block(4, [&](int64_t, subset::MatrixViewF) { return ++calls < 2; });  // stop after the second
  CHECK(calls == 2);

  int whole = 0;
  f.for_each_block(1000, [&](int64_t first, subset::MatrixViewF block) {
    CHECK(first == 0);
    CHECK(block.rows() == 10);
    return ++whole > 0;
  });
  CHECK(whole == 1);
  CHECK_THROWS_WITH_AS(f.for_each_block(0, [](int64_t, subset::MatrixViewF) { return true; }),
                       doctest::Contains("block size must be positive"), subset::Error);

  // Whole chunks (4 rows of 12 bytes): 100 bytes -> 8 rows, 1 byte -> one chunk, 1000 -> 80 rows.
  CHECK(f.block_rows_for(100) == 8);
  CHECK(f.block_rows_for(1) == 4);
  CHECK(f.block_rows_for(1000) == 80);
}

TEST_CASE("find_non_finite_row and check_finite name the first bad row") {
  TempDir dir;
  StoreSpec spec;
  spec.dims = {20, 3};
  spec.labels.reset();
  spec.features = feature_values(spec.dims);
  spec.features[13 * 3 + 1] = std::numeric_limits<double>::quiet_NaN();
  spec.features[17 * 3 + 2] = std::numeric_limits<double>::infinity();
  spec.test_dims = std::vector<hsize_t>{4, 3};
  spec.test_features = feature_values(*spec.test_dims);
  spec.test_features[3 * 3] = -std::numeric_limits<double>::infinity();
  const std::string path = store_path(dir, spec);
  const FeatureStore store = FeatureStore::open(path);  // open does not read the values
  const auto f = store.features();
  for (size_t block_bytes : {size_t{1}, size_t{12}, size_t{100}, size_t{64} << 20})
    CHECK(f.find_non_finite_row(block_bytes) == 13);
  try {
    store.check_finite();
    FAIL("NaN accepted");
  } catch (const subset::Error& e) {
    CHECK(e.message() == "NaN or Inf in features at row 13");
    CHECK(e.where() == path + ":/features");
  }
  CHECK_THROWS_WITH_AS(store.check_finite(Split::Test), doctest::Contains("NaN or Inf in features at row 3"),
                       subset::Error);

  const FeatureStore clean = FeatureStore::open(store_path(dir, StoreSpec{}, "clean.h5"));
  CHECK(clean.features().find_non_finite_row(1) == -1);
  CHECK_NOTHROW(clean.check_finite());
}

TEST_CASE("other arrays of the same store") {
  TempDir dir;
  const std::string path = store_path(dir, StoreSpec{});
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(file >= 0);
  h5_write_dataset(file, "/embeddings", H5Kind::F32, {10, 2}, feature_values({10, 2}));
  h5_write_dataset(file, "/short", H5Kind::F32, {9, 3}, feature_values({9, 3}));
  REQUIRE(H5Fclose(file) >= 0);

  const FeatureStore store = FeatureStore::open(path);
  const auto e = store.array("/embeddings");
  CHECK(e.cols() == 2);
  check_rows(e.read_all(), 0);
  CHECK_THROWS_WITH_AS(store.array("/short"), doctest::Contains("/short has 9 rows but /features has 10"),
                       subset::Error);
  CHECK_THROWS_WITH_AS(store.array("/labels"), doctest::Contains("features must be 2-D [N, D], found rank 1"),
                       subset::Error);
  CHECK_THROWS_WITH_AS(store.array("/missing"), doctest::Contains("store has no /missing dataset"), subset::Error);
}

TEST_CASE("optional parts: no labels, no test split, no root attributes") {
  TempDir dir;
  StoreSpec spec;
  spec.labels.reset();
  spec.format.reset();
  spec.format_version.reset();
  spec.source.reset();
  spec.created_by.reset();
  spec.chunk_rows = 0;
  const std::string path = store_path(dir, spec);
  const FeatureStore store = FeatureStore::open(path);
  const auto& info = store.info();
  CHECK_FALSE(info.format_declared);
  CHECK(info.format_version == 1);  // read as version 1
  CHECK(info.source.empty());
  CHECK(info.created_by.empty());
  CHECK_FALSE(info.has_labels);
  CHECK_FALSE(info.has_test);
  CHECK(info.num_classes() == 0);
  CHECK(info.features.chunk_rows == 0);
  CHECK(info.features.storage_bytes == 10 * 3 * 4);
  CHECK(info.to_json()["class_counts"].is_null());
  CHECK(info.to_json()["test_class_counts"].is_null());
  CHECK(info.to_json()["test_n"] == 0);
  check_rows(store.features().read_all(), 0);
  CHECK(store.features().block_rows_for(24) == 2);  // contiguous: any whole number of rows
  CHECK_THROWS_WITH_AS(store.labels(), doctest::Contains("store has no /labels dataset"), subset::Error);
  CHECK_THROWS_WITH_AS(store.labels(Split::Test), doctest::Contains("store has no /test/labels dataset"),
                       subset::Error);
  CHECK_THROWS_WITH_AS(store.features(Split::Test), doctest::Contains("store has no /test split"), subset::Error);
}

TEST_CASE("variants a store may hold: compression, int32 labels, fixed-length names, image shape") {
  TempDir dir;
  StoreSpec spec;
  spec.dims = {6, 4};
  spec.chunk_rows = 2;
  spec.gzip = 4;
  spec.labels = std::vector<int64_t>{3, 0, 1, 1, 3, 0};
  spec.label_kind = H5Kind::I32;
  spec.class_names = std::vector<std::string>{"zero", "one", "two", "three"};
  spec.class_names_fixed = 8;
  spec.image_shape = std::vector<int64_t>{1, 2, 2};
  const FeatureStore store = FeatureStore::open(store_path(dir, spec));
  const auto& info = store.info();
  CHECK(info.features.compression == "shuffle+gzip(4)");
  CHECK(info.features.chunk_rows == 2);
  CHECK(info.class_names == std::vector<std::string>{"zero", "one", "two", "three"});
  CHECK(info.image_shape == std::vector<int64_t>{1, 2, 2});
  CHECK(info.to_json()["image_shape"] == nlohmann::json({1, 2, 2}));
  CHECK(info.class_counts == std::map<int64_t, int64_t>{{0, 2}, {1, 2}, {3, 2}});
  CHECK(info.num_classes() == 4);
  CHECK(store.labels() == std::vector<int64_t>{3, 0, 1, 1, 3, 0});
  check_rows(store.features().read_all(), 0);
  check_rows(store.features().read_rows(1, 4), 1);

  // Without class names the number of classes is one more than the largest label.
  StoreSpec unnamed;
  unnamed.class_names.reset();
  unnamed.labels = std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 0, 0, 6};
  CHECK(FeatureStore::open(store_path(dir, unnamed, "unnamed.h5")).info().num_classes() == 7);
}

TEST_CASE("malformed stores are rejected with the file and the problem named") {
  TempDir dir;
  int counter = 0;
  auto bad = [&](const StoreSpec& spec) { return store_path(dir, spec, "bad" + std::to_string(counter++) + ".h5"); };

  StoreSpec rank1;
  rank1.dims = {10};
  expect_open_error(bad(rank1), "features must be 2-D [N, D], found rank 1 with shape [10]");

  StoreSpec rank3;
  rank3.dims = {10, 2, 2};
  expect_open_error(bad(rank3), "features must be 2-D [N, D], found rank 3 with shape [10, 2, 2]");

  StoreSpec f64;
  f64.feature_kind = H5Kind::F64;
  expect_open_error(bad(f64), "features must be float32, found float64");

  StoreSpec i32;
  i32.feature_kind = H5Kind::I32;
  expect_open_error(bad(i32), "features must be float32, found integer (32-bit)");

  StoreSpec no_rows;
  no_rows.dims = {0, 3};
  no_rows.chunk_rows = 0;
  no_rows.labels.reset();
  expect_open_error(bad(no_rows), "features have no rows");

  StoreSpec no_cols;
  no_cols.dims = {10, 0};
  no_cols.chunk_rows = 0;
  expect_open_error(bad(no_cols), "features have zero columns");

  StoreSpec short_labels;
  short_labels.labels = std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2};
  expect_open_error(bad(short_labels), "labels have 9 entries but the features have 10 rows");

  StoreSpec long_labels;
  long_labels.labels = std::vector<int64_t>(11, 0);
  expect_open_error(bad(long_labels), "labels have 11 entries but the features have 10 rows");

  StoreSpec negative;
  negative.labels = std::vector<int64_t>{0, 1, 2, 0, -3, 2, 0, 1, 2, 2};
  expect_open_error(bad(negative), "negative label -3 at row 4");

  StoreSpec float_labels;
  float_labels.label_kind = H5Kind::F64;
  expect_open_error(bad(float_labels), "labels must be integers");

  StoreSpec labels_2d;
  labels_2d.labels = std::vector<int64_t>(10, 1);
  labels_2d.label_dims = {5, 2};
  expect_open_error(bad(labels_2d), "labels must be 1-D [N], found shape [5, 2]");

  StoreSpec few_names;
  few_names.labels = std::vector<int64_t>{0, 1, 2, 3, 1, 2, 0, 1, 2, 2};
  expect_open_error(bad(few_names), "label 3 is out of range for 3 class names");

  StoreSpec shape_mismatch;
  shape_mismatch.image_shape = std::vector<int64_t>{1, 2, 2};
  expect_open_error(bad(shape_mismatch), "image_shape [1, 2, 2] holds 4 values but rows have 3");

  StoreSpec shape_rank;
  shape_rank.image_shape = std::vector<int64_t>{3, 1};
  expect_open_error(bad(shape_rank), "image_shape must be [C, H, W], found [3, 1]");

  StoreSpec shape_zero;
  shape_zero.image_shape = std::vector<int64_t>{3, 0, 1};
  expect_open_error(bad(shape_zero), "has a non-positive size");

  StoreSpec test_d;
  test_d.test_dims = std::vector<hsize_t>{5, 4};
  expect_open_error(bad(test_d), "test features have 4 columns but /features has 3");

  StoreSpec test_labels_len;
  test_labels_len.test_dims = std::vector<hsize_t>{5, 3};
  test_labels_len.test_labels = std::vector<int64_t>{0, 1};
  expect_open_error(bad(test_labels_len), "labels have 2 entries but the features have 5 rows");

  StoreSpec test_labels_range;
  test_labels_range.test_dims = std::vector<hsize_t>{2, 3};
  test_labels_range.test_labels = std::vector<int64_t>{0, 5};
  expect_open_error(bad(test_labels_range), "label 5 is out of range for 3 class names");

  StoreSpec test_empty_group;
  test_empty_group.test_group_only = true;
  expect_open_error(bad(test_empty_group), "/test has no features dataset");

  StoreSpec v2;
  v2.format_version = 2;
  expect_open_error(bad(v2), "store format version 2 is newer than this libsubset reads (1); upgrade libsubset");

  StoreSpec v0;
  v0.format_version = 0;
  expect_open_error(bad(v0), "invalid format_version 0");

  StoreSpec other;
  other.format = std::string("other");
  expect_open_error(bad(other), "not a feature store: format attribute is 'other'");

  StoreSpec no_features;
  no_features.dims = {10, 3};
  const std::string nf = bad(no_features);
  {
    hid_t file = H5Fopen(nf.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    REQUIRE(H5Lmove(file, "/features", file, "/renamed", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    REQUIRE(H5Fclose(file) >= 0);
  }
  expect_open_error(nf, "store has no /features dataset");
}

TEST_CASE("files that are not whole stores") {
  TempDir dir;
  // A valid store large enough that half of it cuts into the data, then truncated to half its size.
  StoreSpec spec;
  spec.dims = {2000, 16};
  spec.chunk_rows = 0;
  spec.labels.reset();
  const std::string truncated = store_path(dir, spec, "truncated.h5");
  CHECK_NOTHROW(FeatureStore::open(truncated));
  struct stat st;
  REQUIRE(stat(truncated.c_str(), &st) == 0);
  REQUIRE(st.st_size > 2000 * 16 * 4);
  REQUIRE(truncate(truncated.c_str(), st.st_size / 2) == 0);
  try {
    // Either open notices, or the first read of the missing half does: never silent garbage.
    const FeatureStore store = FeatureStore::open(truncated);
    store.features().read_all();
    FAIL("a truncated store was read");
  } catch (const subset::Error& e) {
    CHECK(e.message().find("truncated or corrupt") != std::string::npos);
    CHECK(e.where().find(truncated) == 0);
  }

  const std::string text = dir.file("text.h5");
  write_bytes(text, "this is not HDF5 at all\n");
  expect_open_error(text, "not an HDF5 file");

  const std::string empty = dir.file("empty.h5");
  write_bytes(empty, "");
  expect_open_error(empty, "not an HDF5 file");

  const std::string missing = dir.file("missing.h5");
  try {
    FeatureStore::open(missing);
    FAIL("missing file accepted");
  } catch (const subset::Error& e) {
    CHECK(e.message() == "no such file");
    CHECK(e.where() == missing);
  }
  CHECK_THROWS_WITH_AS(FeatureStore::open(dir.path().string()), doctest::Contains("input is a directory"),
                       subset::Error);
}

// ---- issue 12: every value read from a file is validated before it sizes, indexes or classes ----

namespace {

// Replaces (or adds) a dataset of an existing store through `make(file)`.
template <typename Make>
void edit_store(const std::string& path, const std::string& remove, Make make) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(file >= 0);
  if (!remove.empty() && H5Lexists(file, remove.c_str(), H5P_DEFAULT) > 0)
    REQUIRE(H5Ldelete(file, remove.c_str(), H5P_DEFAULT) >= 0);
  make(file);
  REQUIRE(H5Fclose(file) >= 0);
}

}  // namespace

TEST_CASE("array(): every dataset must have N rows, /test/features included; the test split has its own path") {
  TempDir dir;
  StoreSpec spec;
  spec.test_dims = std::vector<hsize_t>{4, 3};
  const std::string path = store_path(dir, spec);
  const FeatureStore store = FeatureStore::open(path);
  CHECK_THROWS_WITH_AS(store.array("/test/features"),
                       doctest::Contains("/test/features has 4 rows but /features has 10"), subset::Error);
  const auto test = store.features(Split::Test);
  CHECK(test.rows() == 4);
  check_rows(test.read_all(), 0);
}

TEST_CASE("labels: unsigned 64-bit values above INT64_MAX are refused, not saturated") {
  TempDir dir;
  const std::string path = store_path(dir, StoreSpec{});
  std::vector<uint64_t> labels = {0, 1, 2, 0, 1, 2, 0, 1, 2, 2};
  labels[6] = std::numeric_limits<uint64_t>::max();
  edit_store(path, "/labels", [&](hid_t f) { h5_write_u64(f, "/labels", labels); });
  expect_open_error(path, "label 18446744073709551615 at row 6");

  labels[6] = 1;  // in range, uint64 on disk: accepted
  edit_store(path, "/labels", [&](hid_t f) { h5_write_u64(f, "/labels", labels); });
  CHECK(FeatureStore::open(path).labels()[6] == 1);
}

TEST_CASE("labels: a label at or above max(N, class names) is refused naming row and value") {
  TempDir dir;
  int counter = 0;
  auto bad = [&](const StoreSpec& spec) { return store_path(dir, spec, "l" + std::to_string(counter++) + ".h5"); };

  StoreSpec huge;
  huge.class_names.reset();
  huge.labels = std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1000000000000, 2, 2};
  expect_open_error(bad(huge), "label 1000000000000 at row 7 is not a class id: labels must be below 10");

  StoreSpec at_n;
  at_n.class_names.reset();
  at_n.labels = std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 10};
  expect_open_error(bad(at_n), "label 10 at row 9");

  StoreSpec below_n;  // no names: any label below N is a class id
  below_n.class_names.reset();
  below_n.labels = std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 9};
  CHECK(FeatureStore::open(bad(below_n)).info().num_classes() == 10);

  StoreSpec many_names;  // more names than rows: the names bound the labels
  many_names.class_names = std::vector<std::string>(12, "x");
  many_names.labels = std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 11};
  CHECK(FeatureStore::open(bad(many_names)).info().num_classes() == 12);

  StoreSpec test_huge;  // test labels are bounded by the training rows too
  test_huge.class_names.reset();
  test_huge.test_dims = std::vector<hsize_t>{12, 3};
  test_huge.test_labels = std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 2, 11, 0};
  expect_open_error(bad(test_huge), "label 11 at row 10");
}

TEST_CASE("weights: negative, NaN and Inf weights are refused on open naming the row") {
  TempDir dir;
  const std::string path = store_path(dir, StoreSpec{});
  auto with_weights = [&](std::vector<double> w) {
    edit_store(path, "/weights", [&](hid_t f) { h5_write_dataset(f, "/weights", H5Kind::F32, {10}, w); });
  };
  with_weights(std::vector<double>(10, -1.0));
  expect_open_error(path, "weight -1 at row 0 is not a finite number >= 0");
  std::vector<double> w(10, 1.0);
  w[3] = std::nan("");
  with_weights(w);
  expect_open_error(path, "at row 3");
  w[3] = 1.0;
  w[8] = std::numeric_limits<double>::infinity();
  with_weights(w);
  expect_open_error(path, "at row 8");
  w[8] = 0.0;  // a centroid that stands for no point is a valid weight
  with_weights(w);
  CHECK(FeatureStore::open(path).info().has_weights);
}

TEST_CASE("virtual and external-storage datasets are refused, naming the dataset") {
  TempDir dir;
  const std::string path = store_path(dir, StoreSpec{});
  edit_store(path, "/features", [&](hid_t f) {
    h5_write_virtual_f32(f, "/features", {10, 3}, dir.file("missing.h5"), "/data");
  });
  expect_open_error(path, "virtual datasets are not supported");

  const std::string ext = store_path(dir, StoreSpec{}, "ext.h5");
  write_bytes(dir.file("labels.raw"), std::string(80, '\0'));
  edit_store(ext, "/labels", [&](hid_t f) {
    const hsize_t n = 10;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    REQUIRE(H5Pset_external(dcpl, dir.file("labels.raw").c_str(), 0, 80) >= 0);
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t ds = H5Dcreate2(f, "/labels", H5T_STD_I64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE(ds >= 0);
    H5Dclose(ds);
    H5Sclose(space);
    H5Pclose(dcpl);
  });
  try {
    FeatureStore::open(ext);
    FAIL("external labels accepted");
  } catch (const subset::Error& e) {
    CHECK(e.message().find("external storage are not supported") != std::string::npos);
    CHECK(e.where() == ext + ":/labels");
  }

  // A --features dataset is checked the same way when it is opened.
  const std::string emb = store_path(dir, StoreSpec{}, "emb.h5");
  write_bytes(dir.file("emb.raw"), std::string(10 * 2 * 4, '\0'));
  edit_store(emb, "", [&](hid_t f) { h5_write_external_f32(f, "/emb", {10, 2}, dir.file("emb.raw")); });
  const FeatureStore store = FeatureStore::open(emb);
  CHECK_THROWS_WITH_AS(store.array("/emb"), doctest::Contains("external storage are not supported"), subset::Error);
}

TEST_CASE("a dataset shape too large to address is refused before any size is computed from it") {
  TempDir dir;
  const std::string path = store_path(dir, StoreSpec{});
  edit_store(path, "", [&](hid_t f) {
    const hsize_t dims[2] = {hsize_t{1} << 40, hsize_t{1} << 40};
    const hsize_t chunk[2] = {1, 1};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    hid_t space = H5Screate_simple(2, dims, nullptr);
    hid_t ds = H5Dcreate2(f, "/huge", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE(ds >= 0);
    H5Dclose(ds);
    H5Sclose(space);
    H5Pclose(dcpl);
  });
  const FeatureStore store = FeatureStore::open(path);
  CHECK_THROWS_WITH_AS(store.array("/huge"), doctest::Contains("too large to address"), subset::Error);
}
