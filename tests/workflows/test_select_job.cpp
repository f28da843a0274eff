// Tests for libsubset/workflows/select_job.h (run_select, what `subset select` calls): budget and
// fraction resolution, every kind of bad input rejected with an Error before any work, and nothing
// written on any failure; then what a successful run writes (selection file, index list, manifest).
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"
#include "libsubset/select/allocation.h"
#include "libsubset/select/registry.h"
#include "libsubset/workflows/select_job.h"
#include "support/error_of.h"
#include "support/files.h"
#include "support/h5_builder.h"
#include "support/temp_dir.h"
#include "support/vector_string.h"

using subset::Error;
using subset::io::FeatureStore;
using subset::io::read_selection;
using subset::io::Split;
using subset::io::StoreWriter;
using subset::workflows::run_select;
using subset::workflows::SelectJob;
using namespace subset::test;
using V = std::vector<int64_t>;

namespace {

constexpr int64_t kN = 20, kD = 3;

// 20 x 3 store; labels of sizes {10, 6, 4} (or given), class names a, b, c (or none).
std::string write_store_file(const TempDir& dir, const std::string& name, bool labels = true,
                             V label_values = {}, std::vector<std::string> names = {"a", "b", "c"}) {
  const std::string path = dir.file(name);
  StoreWriter w(path, false);
  std::vector<float> rows(kN * kD);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i) * 0.5f;
  w.begin_features(Split::Train, kN, kD);
  w.write_rows(Split::Train, kN, rows.data());
  if (labels) {
    if (label_values.empty())
      label_values = {0, 1, 0, 2, 0, 1, 0, 0, 2, 1, 0, 1, 0, 2, 0, 1, 0, 2, 1, 0};
    if (!names.empty()) w.set_class_names(names);
    w.write_labels(Split::Train, label_values);
  }
  w.commit();
  return path;
}

// Adds a float32 [rows, cols] dataset to an existing store with the HDF5 C API.
void add_dataset(const std::string& path, const std::string& name, hsize_t rows, hsize_t cols) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  h5_write_dataset(f, name, H5Kind::F32, {rows, cols}, feature_values({rows, cols}));
  REQUIRE(H5Fclose(f) >= 0);
}

struct Fixture {
  TempDir dir;
  std::string store = write_store_file(dir, "store.h5");
  SelectJob job(const std::string& method = "random") const {
    SelectJob j;
    j.store = store;
    j.method = method;
    j.budget = 5;
    j.seed = 7;
    j.output = dir.file("sel.h5");
    return j;
  }
};

// Runs the job expecting an Error whose text contains `needle`; returns "what @ where".
std::string expect_error(const SelectJob& job, const std::string& needle) {
  try {
    run_select(job);
  } catch (const Error& e) {
    const std::string text = std::string(e.what()) + " @ " + e.where();
    CHECK_MESSAGE(text.find(needle) != std::string::npos, "'" << needle << "' not in: " << text);
    return text;
  }
  FAIL("run_select accepted the job; expected an error about " << needle);
  return {};
}

}  // namespace

// ---- budget and fraction -----------------------------------------------------------------------

TEST_CASE("select job: --budget is taken as given") {
  Fixture fx;
  const auto out = run_select(fx.job());
  CHECK(out.selection.indices.size() == 5);
  CHECK(read_selection(fx.dir.file("sel.h5")).manifest.budget == 5);
  SelectJob all = fx.job();
  all.budget = kN;
  all.force = true;
  CHECK(run_select(all).selection.indices.size() == static_cast<size_t>(kN));
}

TEST_CASE("select job: --fraction is rounded to the nearest count, at least one") {
  Fixture fx;
  const std::vector<std::pair<double, int64_t>> cases{
      {0.25, 5}, {0.125, 3} /* 2.5 rounds up */, {0.375, 8} /* 7.5 */, {0.33, 7} /* 6.6 */,
      {0.01, 1} /* 0.2, raised to one */, {1.0, 20}, {0.05, 1}, {0.999, 20}};
  for (const auto& [fraction, expected] : cases) {
    INFO("fraction " << fraction);
    SelectJob j = fx.job();
    j.budget.reset();
    j.fraction = fraction;
    j.force = true;
    const auto out = run_select(j);
    CHECK(static_cast<int64_t>(out.selection.indices.size()) == expected);
    CHECK(out.selection.manifest.budget == expected);
    CHECK(read_selection(j.output).indices.size() == static_cast<size_t>(expected));
  }
}

// ---- bad input: an Error, and nothing written ---------------------------------------------------

TEST_CASE("select job: bad budgets and fractions are refused and nothing is written") {
  Fixture fx;
  const std::vector<std::string> before = list_dir(fx.dir.path());
  auto with = [&](std::optional<int64_t> budget, std::optional<double> fraction) {
    SelectJob j = fx.job();
    j.budget = budget;
    j.fraction = fraction;
    j.indices_out = fx.dir.file("idx.txt");
    return j;
  };
  expect_error(with(5, 0.5), "exactly one of --budget and --fraction");
  expect_error(with(std::nullopt, std::nullopt), "exactly one of --budget and --fraction");
  expect_error(with(std::nullopt, 0.0), "fraction must be in (0, 1]");
  expect_error(with(std::nullopt, 1.5), "fraction must be in (0, 1]");
  expect_error(with(std::nullopt, -0.1), "fraction must be in (0, 1]");
  expect_error(with(std::nullopt, std::nan("")), "fraction");
  expect_error(with(std::nullopt, std::numeric_limits<double>::infinity()), "fraction");
  expect_error(with(0, std::nullopt), "at least 1");
  expect_error(with(-3, std::nullopt), "at least 1");
  const std::string text = expect_error(with(kN + 1, std::nullopt), "exceeds");
  CHECK(text.find("(budget)") != std::string::npos);
  CHECK(list_dir(fx.dir.path()) == before);
}

TEST_CASE("select job: --per-class or a class-aware method on a store without labels is refused") {
  TempDir dir;
  const std::string store = write_store_file(dir, "nolabels.h5", false);
  SelectJob j;
  j.store = store;
  j.method = "random";
  j.budget = 4;
  j.per_class = true;
  j.output = dir.file("sel.h5");
  j.indices_out = dir.file("idx.npy");
  expect_error(j, "--per-class needs labels");
  j.per_class = false;
  j.method = "balanced";
  expect_error(j, "needs labels");
  j.method = "stratified";
  expect_error(j, "needs labels");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"nolabels.h5"});
  // Plain random needs no labels.
  j.method = "random";
  CHECK(run_select(j).selection.indices.size() == 4);
}

TEST_CASE("select job: a class with no points (named in class_names, absent from the labels) is refused") {
  TempDir dir;
  // Class 1 ("b") never occurs.
  const std::string store = write_store_file(dir, "gap.h5", true,
                                             {0, 2, 0, 2, 0, 0, 2, 0, 2, 0, 0, 2, 0, 2, 0, 0, 2, 0, 2, 0});
  SelectJob j;
  j.store = store;
  j.budget = 4;
  j.output = dir.file("sel.h5");
  j.indices_out = dir.file("idx.txt");
  for (const char* m : {"balanced", "stratified"}) {
    j.method = m;
    expect_error(j, "class 1 has no points");
  }
  j.method = "random";
  j.per_class = true;
  expect_error(j, "class 1 has no points");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"gap.h5"});
  // Without --per-class, random does not look at classes.
  j.per_class = false;
  CHECK_NOTHROW(run_select(j));
}

TEST_CASE("select job: an unknown method is refused, listing the known ones") {
  Fixture fx;
  const std::string text = expect_error(fx.job("frobnicate"), "unknown method 'frobnicate'");
  for (const auto& m : subset::select::methods()) CHECK(text.find(m.name) != std::string::npos);
  CHECK(list_dir(fx.dir.path()) == std::vector<std::string>{"store.h5"});
}

TEST_CASE("select job: an unknown method parameter is refused") {
  Fixture fx;
  SelectJob j = fx.job();
  j.params["bogus"] = "3";
  expect_error(j, "bogus");
  CHECK(list_dir(fx.dir.path()) == std::vector<std::string>{"store.h5"});
}

TEST_CASE("select job: --features naming a missing dataset or one with another row count is refused") {
  Fixture fx;
  add_dataset(fx.store, "/emb_short", kN - 1, 2);
  add_dataset(fx.store, "/emb_long", kN + 1, kD);
  SelectJob j = fx.job();
  j.indices_out = fx.dir.file("idx.txt");
  j.features_dataset = "/nope";
  expect_error(j, "/nope");
  j.features_dataset = "/emb_short";
  const std::string short_text = expect_error(j, "/emb_short");
  CHECK(short_text.find(std::to_string(kN - 1)) != std::string::npos);
  j.features_dataset = "/emb_long";
  expect_error(j, "/emb_long");
  // The same for every registered method, per class or not.
  for (const auto& m : subset::select::methods()) {
    for (bool per_class : {false, true}) {
      INFO(m.name << (per_class ? " per class" : ""));
      SelectJob k = j;
      k.method = m.name;
      k.per_class = per_class;
      k.features_dataset = "/nope";
      expect_error(k, "/nope");
      k.features_dataset = "/emb_long";
      expect_error(k, "/emb_long");
    }
  }
  CHECK(list_dir(fx.dir.path()) == std::vector<std::string>{"store.h5"});
}

TEST_CASE("select job: --features naming a dataset of the same rows is used and recorded") {
  Fixture fx;
  add_dataset(fx.store, "/emb", kN, 2);
  SelectJob j = fx.job();
  j.features_dataset = "/emb";
  const auto out = run_select(j);
  CHECK(out.selection.indices.size() == 5);
  CHECK(read_selection(j.output).manifest.features_dataset == "/emb");
}

TEST_CASE("select job: an existing output or index list is refused without force, untouched, nothing else written") {
  Fixture fx;
  write_bytes(fx.dir.file("sel.h5"), "old selection");
  SelectJob j = fx.job();
  j.indices_out = fx.dir.file("idx.txt");
  expect_error(j, "sel.h5");
  CHECK(read_bytes(fx.dir.file("sel.h5")) == "old selection");
  CHECK_FALSE(path_exists(fx.dir.file("idx.txt")));

  write_bytes(fx.dir.file("idx.npy"), "old list");
  SelectJob k = fx.job();
  k.output = fx.dir.file("new.h5");
  k.indices_out = fx.dir.file("idx.npy");
  expect_error(k, "idx.npy");
  CHECK(read_bytes(fx.dir.file("idx.npy")) == "old list");
  CHECK_FALSE(path_exists(fx.dir.file("new.h5")));  // checked before the selection is written

  k.indices_out = fx.dir.file("idx.csv");
  expect_error(k, ".txt or .npy");
  k.indices_out.reset();
  k.output = fx.dir.file("missing-dir/sel.h5");
  expect_error(k, "missing-dir");
  CHECK(list_dir(fx.dir.path()) == (std::vector<std::string>{"idx.npy", "sel.h5", "store.h5"}));

  k.output = fx.dir.file("sel.h5");
  k.indices_out = fx.dir.file("idx.npy");
  k.force = true;
  const auto out = run_select(k);
  CHECK(read_selection(k.output).indices == out.selection.indices);
  CHECK(read_bytes(fx.dir.file("idx.npy")) != "old list");
}

TEST_CASE("select job: a missing or invalid store is refused") {
  TempDir dir;
  SelectJob j;
  j.store = dir.file("missing.h5");
  j.method = "random";
  j.budget = 1;
  j.output = dir.file("sel.h5");
  expect_error(j, "missing.h5");
  write_bytes(dir.file("text.h5"), "not hdf5");
  j.store = dir.file("text.h5");
  expect_error(j, "text.h5");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"text.h5"});
}

// ---- what a run writes ---------------------------------------------------------------------------

TEST_CASE("select job: the selection file and its manifest") {
  Fixture fx;
  SelectJob j = fx.job("stratified");
  j.budget = 10;
  j.seed = 18446744073709551557ULL;  // the largest 64-bit prime
  j.indices_out = fx.dir.file("idx.txt");
  const auto out = run_select(j);
  const auto file = read_selection(j.output);
  CHECK(file.indices == out.selection.indices);
  CHECK(file.indices.size() == 10);
  const auto& m = file.manifest;
  CHECK(m.method == "stratified");
  CHECK(m.seed == 18446744073709551557ULL);
  CHECK(m.budget == 10);
  CHECK_FALSE(m.per_class);
  CHECK(m.features_dataset == "/features");
  CHECK(m.source == fx.store);
  CHECK(m.source_n == kN);
  CHECK(m.source_checksum == FeatureStore::open(fx.store).features_checksum());
  CHECK(m.source_checksum.rfind("crc32:", 0) == 0);
  CHECK(m.params == nlohmann::json::object());
  CHECK(m.created_by.find("subset select") != std::string::npos);
  CHECK(m.stats["class_budget"] == nlohmann::json(V{5, 3, 2}));  // sizes {10, 6, 4}
  CHECK(m.stats.contains("seconds"));
  std::string txt;
  for (int64_t i : file.indices) txt += std::to_string(i) + "\n";
  CHECK(read_bytes(fx.dir.file("idx.txt")) == txt);
  CHECK(list_dir(fx.dir.path()) == (std::vector<std::string>{"idx.txt", "sel.h5", "store.h5"}));
}

TEST_CASE("select job: per-class counts, determinism by seed") {
  Fixture fx;
  SelectJob j = fx.job("random");
  j.budget = 10;
  j.per_class = true;
  const auto a = run_select(j);
  const auto labels = FeatureStore::open(fx.store).labels();
  V counts(3, 0);
  for (int64_t i : a.selection.indices) ++counts[static_cast<size_t>(labels[static_cast<size_t>(i)])];
  CHECK(counts == subset::select::balanced_allocation({10, 6, 4}, 10));
  CHECK(counts == V{4, 3, 3});
  CHECK(read_selection(j.output).manifest.per_class);
  j.force = true;
  CHECK(run_select(j).selection.indices == a.selection.indices);
  j.seed = 8;
  CHECK(run_select(j).selection.indices != a.selection.indices);
}

// ---- select_array: the same selection on rows in memory (the Python module's numpy arrays) ----

TEST_CASE("select_array gives run_select's file for the store's rows, read in place, and names the store's checksum") {
  TempDir dir;
  const std::string path = write_store_file(dir, "s.h5");
  const FeatureStore store = FeatureStore::open(path);
  const subset::RowMatrixF rows = store.features().read_all();
  const V labels = store.labels();
  for (const bool per_class : {false, true}) {
    SelectJob job;
    job.store = path;
    job.method = "kcenter";
    job.budget = 6;
    job.per_class = per_class;
    job.seed = 4;
    const auto from_store = run_select(job);  // no output: nothing written
    subset::workflows::ArraySelectJob in_memory;
    in_memory.features = rows.data();
    in_memory.rows = rows.rows();
    in_memory.cols = rows.cols();
    in_memory.labels = &labels;
    in_memory.source = "<array>";
    in_memory.method = "kcenter";
    in_memory.budget = 6;
    in_memory.per_class = per_class;
    in_memory.seed = 4;
    const auto from_array = subset::workflows::select_array(in_memory);
    CHECK(from_array.selection.indices == from_store.selection.indices);
    CHECK(from_array.selection.manifest.params == from_store.selection.manifest.params);
    CHECK(from_array.selection.manifest.source_checksum == store.features_checksum());
    CHECK(from_array.selection.manifest.source_n == kN);
    CHECK(from_array.selection.manifest.source_dim == kD);
  }
  CHECK(subset::io::features_checksum_of(subset::view(rows)) == store.features_checksum());
  CHECK(list_dir(dir.path()).size() == 1);  // run_select without an output wrote nothing
}

TEST_CASE("select_array refuses what run_select refuses, naming the array's argument") {
  std::vector<float> rows(kN * kD, 1.0f);
  subset::workflows::ArraySelectJob job;
  job.features = rows.data();
  job.rows = kN;
  job.cols = kD;
  job.method = "kcenter";
  job.budget = kN + 1;
  CHECK(std::string(error_of([&] { subset::workflows::select_array(job); }).what()) == "budget 21 exceeds the 20 points in X (budget)");
  job.budget = 3;
  job.per_class = true;
  CHECK(std::string(error_of([&] { subset::workflows::select_array(job); }).what()) == "per-class selection needs labels (y) (per-class)");
  job.per_class = false;
  rows[7 * kD + 1] = std::nanf("");
  job.source = "<array>";
  CHECK(std::string(error_of([&] { subset::workflows::select_array(job); }).what()) == "NaN or Inf in features at row 7 (<array>)");
}
