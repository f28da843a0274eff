// Tests for libsubset/io/extract.h: the rows of a selection written as a store of their own, in
// selection order, with labels, weights and the source's test split; selections made from another
// store are refused and nothing is written then.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cstring>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"
#include "support/files.h"
#include "support/h5_builder.h"
#include "support/temp_dir.h"

using subset::Error;
using subset::io::extract_selection;
using subset::io::FeatureStore;
using subset::io::SelectionFile;
using subset::io::Split;
using subset::io::StoreWriter;
using subset::io::WriteOptions;
using subset::io::write_selection;
using namespace subset::test;

namespace {

constexpr int64_t kN = 12, kD = 6, kM = 4;

std::vector<float> source_rows() {
  std::vector<float> v(kN * kD);
  for (int64_t i = 0; i < kN * kD; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i) * 0.37f - 5.0f + 1e-6f * static_cast<float>(i % 5);
  return v;
}
std::vector<float> test_rows() {
  std::vector<float> v(kM * kD);
  for (int64_t i = 0; i < kM * kD; ++i) v[static_cast<size_t>(i)] = -static_cast<float>(i) / 3.0f;
  return v;
}
const std::vector<int64_t> kLabels{0, 1, 2, 0, 1, 2, 0, 1, 2, 2, 1, 0};
const std::vector<int64_t> kTestLabels{2, 0, 1, 1};

// A full store: labels with class names, image shape, a labelled test split, small chunks.
std::string write_source(const TempDir& dir, const std::string& name = "source.h5", bool full = true) {
  const std::string path = dir.file(name);
  StoreWriter w(path, false, WriteOptions{5, 0, {}});
  const auto rows = source_rows();
  w.begin_features(Split::Train, kN, kD);
  w.write_rows(Split::Train, 7, rows.data());
  w.write_rows(Split::Train, kN - 7, rows.data() + 7 * kD);
  if (full) {
    w.set_class_names({"ant", "bee", "cat"});
    w.write_labels(Split::Train, kLabels);
    w.set_image_shape({1, 2, 3});
    const auto t = test_rows();
    w.begin_features(Split::Test, kM, kD);
    w.write_rows(Split::Test, kM, t.data());
    w.write_labels(Split::Test, kTestLabels);
  }
  w.commit();
  return path;
}

std::string write_sel(const TempDir& dir, const std::string& store, std::vector<int64_t> indices,
                      std::vector<float> weights = {}, const std::string& name = "sel.h5") {
  const FeatureStore s = FeatureStore::open(store);
  SelectionFile sel;
  sel.indices = std::move(indices);
  sel.weights = std::move(weights);
  sel.manifest.method = "random";
  sel.manifest.source = store;
  sel.manifest.source_n = s.info().n();
  sel.manifest.source_checksum = s.features_checksum();
  write_selection(dir.file(name), true, sel);
  return dir.file(name);
}

subset::io::OutputOptions out_to(const std::string& path, bool force = false) { return {path, force, {}}; }

std::string error_of_extract(const std::string& store, const std::string& sel, const std::string& out) {
  try {
    extract_selection(store, sel, out_to(out));
  } catch (const Error& e) {
    return std::string(e.what()) + " @ " + e.where();
  }
  FAIL("extract accepted it");
  return {};
}

}  // namespace

TEST_CASE("extract: rows in selection order equal the source rows exactly, with labels and weights") {
  TempDir dir;
  const std::string src = write_source(dir);
  const std::vector<int64_t> idx{7, 2, 11, 0, 5};
  const std::vector<float> weights{1.5f, 2.0f, 3.0f, 1.0f, 4.25f};
  const std::string sel = write_sel(dir, src, idx, weights);
  const std::string out = dir.file("small.h5");
  const auto info = extract_selection(src, sel, out_to(out));
  CHECK(info.n() == 5);
  CHECK(info.dim() == kD);

  const FeatureStore small = FeatureStore::open(out);
  const auto rows = small.features().read_all();
  const auto all = source_rows();
  for (size_t r = 0; r < idx.size(); ++r) {
    INFO("row " << r << " = source row " << idx[r]);
    CHECK(std::memcmp(rows.data() + r * kD, all.data() + idx[r] * kD, kD * sizeof(float)) == 0);
  }
  std::vector<int64_t> labels;
  for (int64_t i : idx) labels.push_back(kLabels[static_cast<size_t>(i)]);
  CHECK(small.labels() == labels);
  CHECK(small.info().class_names == std::vector<std::string>{"ant", "bee", "cat"});
  CHECK(small.info().image_shape == std::vector<int64_t>{1, 2, 3});
  REQUIRE(small.info().has_weights);
  CHECK(small.weights() == weights);
  // The output carries its own checksum, of its own rows.
  CHECK(small.info().features.checksum == small.features_checksum());
  CHECK(small.features_checksum() != FeatureStore::open(src).features_checksum());
  CHECK(small.info().source.find(src) != std::string::npos);
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"sel.h5", "small.h5", "source.h5"});
}

TEST_CASE("extract: the test split is copied unchanged") {
  TempDir dir;
  const std::string src = write_source(dir);
  const std::string sel = write_sel(dir, src, {3, 1});
  extract_selection(src, sel, out_to(dir.file("small.h5")));
  const FeatureStore small = FeatureStore::open(dir.file("small.h5"));
  REQUIRE(small.info().has_test);
  CHECK(small.info().test_n() == kM);
  const auto t = small.features(Split::Test).read_all();
  const auto want = test_rows();
  CHECK(std::memcmp(t.data(), want.data(), want.size() * sizeof(float)) == 0);
  CHECK(small.labels(Split::Test) == kTestLabels);
  CHECK(small.features_checksum(Split::Test) == FeatureStore::open(src).features_checksum(Split::Test));
  CHECK_FALSE(small.info().has_weights);  // the selection had none
  // Read independently of libsubset: the weights dataset is absent, the labels are int64.
  hid_t f = H5Fopen(dir.file("small.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(H5Lexists(f, "weights", H5P_DEFAULT) == 0);
  CHECK(H5Lexists(f, "test", H5P_DEFAULT) > 0);
  H5Fclose(f);
}

TEST_CASE("extract: a store without labels or test split gives a store without them") {
  TempDir dir;
  const std::string src = write_source(dir, "bare.h5", false);
  const std::string sel = write_sel(dir, src, {11, 10, 0});
  extract_selection(src, sel, out_to(dir.file("small.h5")));
  const FeatureStore small = FeatureStore::open(dir.file("small.h5"));
  CHECK_FALSE(small.info().has_labels);
  CHECK_FALSE(small.info().has_test);
  CHECK(small.info().n() == 3);
}

TEST_CASE("extract: works on a store written without libsubset (no stored checksum)") {
  TempDir dir;
  StoreSpec spec;  // 10 x 3, labels, class names, chunks of 4
  spec.test_dims = std::vector<hsize_t>{2, 3};
  spec.test_labels = std::vector<int64_t>{1, 0};
  const std::string src = dir.file("h5.h5");
  write_store(src, spec);
  const std::string sel = write_sel(dir, src, {9, 4, 5});
  extract_selection(src, sel, out_to(dir.file("small.h5")));
  const FeatureStore small = FeatureStore::open(dir.file("small.h5"));
  const auto rows = small.features().read_all();
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t c = 0; c < 3; ++c)
      CHECK(rows(r, c) == static_cast<float>(feature_value(std::vector<int64_t>{9, 4, 5}[static_cast<size_t>(r)], c)));
  CHECK(small.labels() == std::vector<int64_t>{2, 1, 2});
  CHECK(small.labels(Split::Test) == std::vector<int64_t>{1, 0});
}

TEST_CASE("extract: a selection from another store is refused (checksum), nothing is written") {
  TempDir dir;
  const std::string src = write_source(dir);
  // Same shape, one value different.
  const std::string other = dir.file("other.h5");
  {
    StoreWriter w(other, false);
    auto rows = source_rows();
    rows[40] += 1.0f;
    w.begin_features(Split::Train, kN, kD);
    w.write_rows(Split::Train, kN, rows.data());
    w.commit();
  }
  const std::string sel = write_sel(dir, other, {1, 2});
  const std::string msg = error_of_extract(src, sel, dir.file("small.h5"));
  CHECK(msg.find("checksum") != std::string::npos);
  CHECK_FALSE(path_exists(dir.file("small.h5")));
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"other.h5", "sel.h5", "source.h5"});
}

TEST_CASE("extract: a manifest with a different row count is refused") {
  TempDir dir;
  const std::string src = write_source(dir);
  SelectionFile sel;
  sel.indices = {1, 2};
  sel.manifest.method = "random";
  sel.manifest.source_n = kN + 1;
  sel.manifest.source_checksum = FeatureStore::open(src).features_checksum();
  write_selection(dir.file("sel.h5"), false, sel);
  const std::string msg = error_of_extract(src, dir.file("sel.h5"), dir.file("small.h5"));
  CHECK(msg.find(std::to_string(kN + 1)) != std::string::npos);
  CHECK_FALSE(path_exists(dir.file("small.h5")));
}

TEST_CASE("extract: a tampered checksum is refused") {
  TempDir dir;
  const std::string src = write_source(dir);
  SelectionFile sel;
  sel.indices = {1, 2};
  sel.manifest.source_n = kN;
  sel.manifest.source_checksum = "crc32:deadbeef";
  write_selection(dir.file("sel.h5"), false, sel);
  CHECK(error_of_extract(src, dir.file("sel.h5"), dir.file("small.h5")).find("deadbeef") != std::string::npos);
  CHECK_FALSE(path_exists(dir.file("small.h5")));
}

TEST_CASE("extract: an existing output is refused without force and untouched; force replaces it") {
  TempDir dir;
  const std::string src = write_source(dir);
  const std::string sel = write_sel(dir, src, {0, 1});
  const std::string out = dir.file("small.h5");
  write_bytes(out, "keep me");
  CHECK_THROWS_AS(extract_selection(src, sel, out_to(out)), Error);
  CHECK(read_bytes(out) == "keep me");
  extract_selection(src, sel, out_to(out, true));
  CHECK(FeatureStore::open(out).info().n() == 2);
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"sel.h5", "small.h5", "source.h5"});
}

TEST_CASE("extract: an empty selection and a non-selection file are refused") {
  TempDir dir;
  const std::string src = write_source(dir);
  const std::string sel = write_sel(dir, src, {});
  CHECK(error_of_extract(src, sel, dir.file("small.h5")).find("empty") != std::string::npos);
  CHECK(error_of_extract(src, src, dir.file("small.h5")).find("not a selection file") != std::string::npos);
  CHECK_FALSE(path_exists(dir.file("small.h5")));
}

// ---- issue 12: how a selection is matched to a store (case 14, and the source_n message) ----

namespace {

SelectionFile manifest_for(const std::string& store, std::vector<int64_t> indices) {
  const FeatureStore s = FeatureStore::open(store);
  SelectionFile sel;
  sel.indices = std::move(indices);
  sel.manifest.method = "random";
  sel.manifest.source = store;
  sel.manifest.source_n = s.info().n();
  sel.manifest.source_dim = s.info().dim();
  sel.manifest.source_checksum = s.features_checksum();
  return sel;
}

void delete_root_attr(const std::string& path, const char* name) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(file >= 0);
  REQUIRE(H5Adelete(file, name) >= 0);
  REQUIRE(H5Fclose(file) >= 0);
}

// A store with the source's shape and one value changed.
std::string write_other(const TempDir& dir, const std::string& name) {
  const std::string path = dir.file(name);
  StoreWriter w(path, false);
  auto rows = source_rows();
  rows[40] += 1.0f;
  w.begin_features(Split::Train, kN, kD);
  w.write_rows(Split::Train, kN, rows.data());
  w.commit();
  return path;
}

}  // namespace

TEST_CASE("extract: without source_checksum, rows, dimension and file name must all match") {
  TempDir dir;
  const std::string src = write_source(dir);
  const std::string other = write_other(dir, "other.h5");

  // Made from other.h5, checksum attribute removed: the name gives it away.
  write_selection(dir.file("sel.h5"), false, manifest_for(other, {1, 2}));
  delete_root_attr(dir.file("sel.h5"), "source_checksum");
  const std::string msg = error_of_extract(src, dir.file("sel.h5"), dir.file("small.h5"));
  CHECK(msg.find("selection has no source_checksum and was made from '" + other + "', not '" + src + "'") !=
        std::string::npos);
  CHECK_FALSE(path_exists(dir.file("small.h5")));

  // Neither checksum nor source: nothing to tell the stores apart.
  SelectionFile anon = manifest_for(src, {1, 2});
  anon.manifest.source.clear();
  anon.manifest.source_checksum.clear();
  write_selection(dir.file("anon.h5"), false, anon);
  CHECK(error_of_extract(src, dir.file("anon.h5"), dir.file("small.h5")).find("neither source_checksum nor source") !=
        std::string::npos);

  // Same rows, dimension and name (the store it was made from, reached by another path): accepted.
  SelectionFile own = manifest_for(src, {3, 1});
  own.manifest.source = "/elsewhere/source.h5";
  own.manifest.source_checksum.clear();
  write_selection(dir.file("own.h5"), false, own);
  extract_selection(src, dir.file("own.h5"), out_to(dir.file("small.h5")));
  CHECK(FeatureStore::open(dir.file("small.h5")).labels() == std::vector<int64_t>{kLabels[3], kLabels[1]});

  // A recorded dimension that differs is refused, checksum or not.
  SelectionFile dim = manifest_for(src, {1});
  dim.manifest.source_dim = kD + 1;
  write_selection(dir.file("dim.h5"), false, dim);
  CHECK(error_of_extract(src, dir.file("dim.h5"), dir.file("x.h5")).find("dimension " + std::to_string(kD + 1)) !=
        std::string::npos);
}

TEST_CASE("extract: an edited source_n is reported as such, a bad index as an index") {
  TempDir dir;
  const std::string src = write_source(dir);
  // source_n lowered to N-1 while the selection holds row N-1: the store mismatch is the problem.
  SelectionFile edited = manifest_for(src, {0, kN - 1});
  edited.manifest.source_n = kN - 1;
  write_selection(dir.file("edited.h5"), false, edited);
  const std::string msg = error_of_extract(src, dir.file("edited.h5"), dir.file("small.h5"));
  CHECK(msg.find("selection was made for a store of " + std::to_string(kN - 1) + " rows, but " + src + " has " +
                 std::to_string(kN)) != std::string::npos);
  CHECK(msg.find("out of range") == std::string::npos);

  // Everything matches but one index is beyond the store: the index is named.
  write_selection(dir.file("bad.h5"), false, manifest_for(src, {0, kN}));
  CHECK(error_of_extract(src, dir.file("bad.h5"), dir.file("small.h5"))
            .find("index " + std::to_string(kN) + " is out of range for a store of " + std::to_string(kN) + " rows") !=
        std::string::npos);
  CHECK_FALSE(path_exists(dir.file("small.h5")));
}

TEST_CASE("extract: a subset smaller than an unnamed class count still opens (classes get names)") {
  TempDir dir;
  StoreSpec spec;  // 10 rows, labels up to 2, no names: rows 2 and 5 carry label 2
  spec.class_names.reset();
  const std::string src = dir.file("h5.h5");
  write_store(src, spec);
  write_selection(dir.file("sel.h5"), false, manifest_for(src, {2, 5}));
  extract_selection(src, dir.file("sel.h5"), out_to(dir.file("small.h5")));
  const FeatureStore small = FeatureStore::open(dir.file("small.h5"));
  CHECK(small.labels() == std::vector<int64_t>{2, 2});
  CHECK(small.info().class_names == std::vector<std::string>{"0", "1", "2"});
}
