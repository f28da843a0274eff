// Tests for extract_selection and describe_file on several ranks (ranks as threads,
// support/thread_ranks.h): the file rank 0 writes holds every dataset and attribute of the
// one-process file but its creator and energy, for selections in any order, ranks that own none of
// the selected rows, in memory and out of core; refusals strike every rank alike (or rank 0 alone
// for its output) and leave an existing output untouched; the value check and the descriptions
// equal the one-process ones. The reference is the one-process call, tested in test_extract.cpp and
// test_describe_file.cpp.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/error.h"
#include "libsubset/core/memory.h"
#include "libsubset/core/rng.h"
#include "libsubset/io/describe_file.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/rank_rows.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"
#include "support/error_of.h"
#include "support/files.h"
#include "support/h5_builder.h"
#include "support/h5_contents.h"
#include "support/temp_dir.h"
#include "support/thread_ranks.h"

using namespace subset;
using namespace subset::io;
using namespace subset::test;

namespace {

constexpr int64_t kD = 6;

// A store of n x dim rows (chunks of 8 rows) with labels, class names, an image shape and a
// labelled test split.
std::string write_store(const TempDir& dir, const std::string& name, int64_t n, int64_t dim = kD) {
  const std::string path = dir.file(name);
  StoreWriter w(path, false, WriteOptions{8, 0, {}});
  std::vector<float> rows(static_cast<size_t>(n * dim));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = std::cos(static_cast<float>(i)) * 3.0f + 1e-7f * static_cast<float>(i);
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = (i * 7) % 3;
  w.begin_features(Split::Train, n, dim);
  w.write_rows(Split::Train, n, rows.data());
  w.set_class_names({"a", "b", "c"});
  w.write_labels(Split::Train, labels);
  w.set_image_shape({1, 2, dim / 2});
  const std::vector<float> test(static_cast<size_t>(5 * dim), 0.75f);
  w.begin_features(Split::Test, 5, dim);
  w.write_rows(Split::Test, 5, test.data());
  w.write_labels(Split::Test, {0, 1, 2, 1, 0});
  w.commit();
  return path;
}

std::string write_sel(const TempDir& dir, const std::string& store, const std::vector<int64_t>& indices,
                      const std::string& name) {
  const FeatureStore s = FeatureStore::open(store);
  SelectionFile sel;
  sel.indices = indices;
  for (size_t i = 0; i < indices.size(); ++i) sel.weights.push_back(1.0f + static_cast<float>(i) * 0.5f);
  sel.manifest.method = "kcenter";
  sel.manifest.source = store;
  sel.manifest.source_n = s.info().n();
  sel.manifest.source_checksum = s.features_checksum();
  write_selection(dir.file(name), true, sel);
  return dir.file(name);
}

// The contents that must agree: all but the creator and the energy report.
std::map<std::string, std::string> comparable(const std::string& path) {
  std::map<std::string, std::string> c = h5_contents(path);
  CHECK(c.erase("/@created_by") == 1);
  c.erase("/@energy");
  return c;
}

// extract_selection on `ranks` thread ranks; each rank's error ("" when none) and the paths each
// returned.
struct RanksResult {
  std::vector<std::string> errors, paths;
};
RanksResult extract_on(int ranks, const std::string& store, const std::string& sel, const OutputOptions& out,
                       const std::optional<double>& limit = std::nullopt) {
  RanksResult r;
  r.errors.resize(static_cast<size_t>(ranks));
  r.paths.resize(static_cast<size_t>(ranks));
  run_on_ranks(ranks, [&](const Communicator& comm) {
    RankReads reads;
    reads.comm = &comm;
    const auto me = static_cast<size_t>(comm.rank());
    r.errors[me] = test::error_text_of([&] { r.paths[me] = extract_selection(store, sel, out, limit, reads).path; });
  });
  return r;
}

std::vector<int64_t> shuffled_subset(int64_t n, int64_t k, uint64_t seed) {
  std::vector<int64_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), 0);
  Rng rng(seed);
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(rng.uniform_index(static_cast<uint64_t>(i) + 1))]);
  all.resize(static_cast<size_t>(k));
  return all;
}

}  // namespace

TEST_CASE("extract on ranks: rank 0 writes the one-process file, for selections in any order") {
  TempDir dir;
  const int64_t n = 203;  // 26 chunks of 8 rows, the last one short
  const std::string store = write_store(dir, "store.h5", n);
  std::vector<int64_t> reversed(static_cast<size_t>(n));
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  const std::vector<std::vector<int64_t>> selections = {
      shuffled_subset(n, 60, 3),  // scattered over every rank's share, in no row order
      reversed,                   // every row, backwards
      {5, 0, 3},                  // the first chunk alone: ranks > 0 own none of them
      {n - 1},                    // the last row alone: the last rank's
      {n - 1, 0, 100, 101, 7}};
  int s = 0;
  for (const auto& indices : selections) {
    const std::string sel = write_sel(dir, store, indices, "sel" + std::to_string(s) + ".h5");
    const std::string one = dir.file("one" + std::to_string(s) + ".h5");
    extract_selection(store, sel, {one, false, {}});
    for (const int ranks : {2, 3, 4, 7}) {
      CAPTURE(s);
      CAPTURE(ranks);
      const std::string out = dir.file("ranks" + std::to_string(s) + "-" + std::to_string(ranks) + ".h5");
      const RanksResult r = extract_on(ranks, store, sel, {out, false, {}});
      for (int k = 0; k < ranks; ++k) {
        CHECK(r.errors[static_cast<size_t>(k)] == "");
        CHECK(r.paths[static_cast<size_t>(k)] == (k == 0 ? out : ""));
      }
      const auto want = comparable(one);
      const auto got = comparable(out);
      CHECK(want.count("/features") == 1);
      CHECK(want.count("/test/features") == 1);
      CHECK(got == want);
    }
    ++s;
  }
}

TEST_CASE("extract on ranks: out of core (the rows file) gives the same file and leaves no temporary file") {
  TempDir dir;
  const int64_t n = 20000, k = 15000;  // 5.8 MB of selected rows
  const std::string store = write_store(dir, "store.h5", n, 96);
  const std::string sel = write_sel(dir, store, shuffled_subset(n, k, 11), "sel.h5");
  const std::string one = dir.file("one.h5");
  extract_selection(store, sel, {one, false, {}});
  for (const int ranks : {2, 3}) {
    CAPTURE(ranks);
    const std::string out = dir.file("ranks" + std::to_string(ranks) + ".h5");
    // What the process holds now, the margin (core/memory.h), the per-row state (labels, order)
    // and 3 MB, less what reading the selection adds: two blocks fit, the selected rows do not.
    const double per_row = 8.0 * static_cast<double>(n + k) + 16.0 * static_cast<double>(k);
    const double limit = resident_bytes() + 16.0 * 1024 * 1024 + per_row + 3e6;
    const RanksResult r = extract_on(ranks, store, sel, {out, false, {}}, limit);
    for (const std::string& e : r.errors) CHECK(e == "");
    CHECK(comparable(out) == comparable(one));
  }
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"one.h5", "ranks2.h5", "ranks3.h5", "sel.h5", "store.h5"});
}

TEST_CASE("extract on ranks: a selection of another store fails every rank alike; the output is untouched") {
  TempDir dir;
  const std::string store = write_store(dir, "store.h5", 100);
  const std::string other = write_store(dir, "other.h5", 100);
  {
    // Same rows, other values.
    StoreWriter w(other, true, WriteOptions{8, 0, {}});
    const std::vector<float> rows(100 * kD, 2.0f);
    w.begin_features(Split::Train, 100, kD);
    w.write_rows(Split::Train, 100, rows.data());
    w.commit();
  }
  const std::string sel = write_sel(dir, other, {4, 2, 90}, "sel.h5");
  const std::string out = dir.file("existing.h5");
  write_bytes(out, "an earlier output");
  OutputOptions options{out, true, {}};
  const std::string want = test::error_text_of([&] { extract_selection(store, sel, options); });
  REQUIRE(want.find("selection was made from another store") != std::string::npos);
  for (const int ranks : {2, 3}) {
    const RanksResult r = extract_on(ranks, store, sel, options);
    for (const std::string& e : r.errors) CHECK(e == want);
    CHECK(read_bytes(out) == "an earlier output");
  }
}

TEST_CASE("extract on ranks: rank 0 alone checks the output; the others stop with it, writing nothing") {
  TempDir dir;
  const std::string store = write_store(dir, "store.h5", 100);
  const std::string sel = write_sel(dir, store, {4, 2, 90}, "sel.h5");
  const std::string out = dir.file("existing.h5");
  write_bytes(out, "an earlier output");
  const std::string want = test::error_text_of([&] { extract_selection(store, sel, {out, false, {}}); });
  REQUIRE(want.find("exists") != std::string::npos);
  const RanksResult r = extract_on(3, store, sel, {out, false, {}});
  CHECK(r.errors[0] == want);
  CHECK(r.errors[1] == "rank 0 refused the extract @ " + out);
  CHECK(r.errors[2] == r.errors[1]);
  CHECK(read_bytes(out) == "an earlier output");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"existing.h5", "sel.h5", "store.h5"});
}

namespace {

// A store written with the HDF5 C API (no checksum attribute), NaN at `nan_row` when >= 0, a test
// split of 9 rows with Inf at `test_bad_row` when >= 0.
std::string write_raw_store(const TempDir& dir, const std::string& name, hsize_t rows, int64_t nan_row,
                            int64_t test_bad_row) {
  const std::string path = dir.file(name);
  const hsize_t cols = 4;
  hid_t f = h5_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create");
  std::vector<double> x(rows * cols);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<double>(i));
  if (nan_row >= 0) x[static_cast<size_t>(nan_row) * cols + 1] = std::numeric_limits<double>::quiet_NaN();
  h5_write_dataset(f, "features", H5Kind::F32, {rows, cols}, x, 16);
  std::vector<double> t(9 * cols, 0.5);
  if (test_bad_row >= 0) t[static_cast<size_t>(test_bad_row) * cols] = -std::numeric_limits<double>::infinity();
  hid_t g = h5_id(H5Gcreate2(f, "test", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "group");
  h5_write_dataset(g, "features", H5Kind::F32, {9, cols}, t);
  H5Gclose(g);
  h5_string_attr(f, "format", "subset-store");
  h5_ints_attr(f, "format_version", {1}, true);
  H5Fclose(f);
  return path;
}

// describe_file's JSON (or error) on `ranks` thread ranks, every rank's.
std::vector<std::string> describe_on(int ranks, const std::string& path, DescribeOptions options) {
  std::vector<std::string> got(static_cast<size_t>(ranks));
  run_on_ranks(ranks, [&](const Communicator& comm) {
    DescribeOptions mine = options;
    mine.ranks.comm = &comm;
    std::string& text = got[static_cast<size_t>(comm.rank())];
    const std::string error = test::error_text_of([&] { text = describe_file(path, mine).json.dump(); });
    if (!error.empty()) text = error;
  });
  return got;
}

std::string describe_alone(const std::string& path, const DescribeOptions& options) {
  std::string text;
  const std::string error = test::error_text_of([&] { text = describe_file(path, options).json.dump(); });
  return error.empty() ? text : error;
}

}  // namespace

TEST_CASE("describe on ranks: --check-values gives every rank the one-process description or error") {
  TempDir dir;
  // 700 rows in chunks of 16: the last rank's share holds row 690.
  const std::vector<std::pair<int64_t, int64_t>> bad = {{-1, -1}, {690, -1}, {3, -1}, {-1, 8}, {650, 2}};
  int k = 0;
  for (const auto& [nan_row, test_bad_row] : bad) {
    const std::string path = write_raw_store(dir, "s" + std::to_string(k++) + ".h5", 700, nan_row, test_bad_row);
    DescribeOptions options;
    options.check_values = true;
    const std::string want = describe_alone(path, options);
    if (nan_row >= 0) CHECK(want == "NaN or Inf in features at row " + std::to_string(nan_row) + " @ " + path + ":/features");
    else if (test_bad_row >= 0)
      CHECK(want == "NaN or Inf in features at row " + std::to_string(test_bad_row) + " @ " + path + ":/test/features");
    else CHECK(want.find("\"values_checked\"") != std::string::npos);
    for (const int ranks : {2, 3, 5}) {
      CAPTURE(path);
      CAPTURE(ranks);
      for (const std::string& got : describe_on(ranks, path, options)) CHECK(got == want);
    }
  }
}

TEST_CASE("describe on ranks: a selection's --store verdict, its checksum shared by the ranks") {
  TempDir dir;
  const std::string store = write_raw_store(dir, "store.h5", 700, -1, -1);  // records no checksum
  const std::string other = write_raw_store(dir, "other.h5", 700, 5, -1);
  for (const std::string& made_on : {store, other}) {
    const FeatureStore s = FeatureStore::open(made_on);
    SelectionFile sel;
    sel.indices = {9, 1, 600};
    sel.manifest.method = "random";
    sel.manifest.source = made_on;
    sel.manifest.source_n = 700;
    sel.manifest.source_checksum = s.features_checksum();
    const std::string path = dir.file("sel-" + std::to_string(made_on == store) + ".h5");
    write_selection(path, true, sel);
    DescribeOptions options;
    options.check_values = true;
    options.store = store;
    const std::string want = describe_alone(path, options);
    CHECK(want.find(made_on == store ? "\"matches\":true" : "\"matches\":false") != std::string::npos);
    for (const int ranks : {2, 3})
      for (const std::string& got : describe_on(ranks, path, options)) CHECK(got == want);
  }
}
