// Tests for libsubset/workflows/compress_job.h (run_compress, what `subset compress` calls): what a
// fit writes (the compressed store with labels, weights, class names and test split, the transform
// recorded, the model file), that applying the saved model reproduces the fitted output bit for
// bit, and that every bad input is refused before anything is written.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/io/model_file.h"
#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"
#include "libsubset/workflows/compress_job.h"
#include "support/error_of.h"
#include "support/files.h"
#include "support/temp_dir.h"

using subset::Error;
using subset::io::FeatureStore;
using subset::io::Split;
using subset::io::StoreWriter;
using subset::workflows::CompressJob;
using subset::workflows::run_compress;
using namespace subset::test;

namespace {

constexpr int64_t kN = 120, kTest = 30, kD = 10;

// Rows near a 3-dimensional subspace, labels 0..2, weights, class names, image shape, test split.
std::string write_input(const TempDir& dir, const std::string& name, int64_t d = kD, float poison = 0.0f) {
  subset::Rng rng(11);
  std::vector<float> basis(static_cast<size_t>(3 * d));
  for (auto& v : basis) v = static_cast<float>(rng.normal());
  auto rows = [&](int64_t n) {
    std::vector<float> x(static_cast<size_t>(n * d));
    for (int64_t r = 0; r < n; ++r) {
      const double a = 3 * rng.normal(), b = rng.normal(), c = 0.3 * rng.normal();
      for (int64_t j = 0; j < d; ++j)
        x[static_cast<size_t>(r * d + j)] = static_cast<float>(1.0 + a * basis[j] + b * basis[d + j] +
                                                               c * basis[2 * d + j] + 0.01 * rng.normal());
    }
    return x;
  };
  const std::string path = dir.file(name);
  StoreWriter w(path, false);
  std::vector<float> train = rows(kN);
  w.begin_features(Split::Train, kN, d);
  w.write_rows(Split::Train, kN, train.data());
  std::vector<int64_t> labels, test_labels;
  for (int64_t i = 0; i < kN; ++i) labels.push_back(i % 3);
  for (int64_t i = 0; i < kTest; ++i) test_labels.push_back((i + 1) % 3);
  w.set_class_names({"a", "b", "c"});
  w.write_labels(Split::Train, labels);
  w.write_weights(std::vector<float>(kN, 2.0f));
  if (d == kD) w.set_image_shape({1, 2, 5});
  std::vector<float> test = rows(kTest);
  w.begin_features(Split::Test, kTest, d);
  w.write_rows(Split::Test, kTest, test.data());
  w.write_labels(Split::Test, test_labels);
  w.commit();
  if (poison != 0.0f) {  // overwrite one value of row 7 with the HDF5 API (StoreWriter refuses NaN)
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "/features", H5P_DEFAULT);
    hid_t space = H5Dget_space(ds);
    const hsize_t start[2] = {7, 2}, count[2] = {1, 1};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    hid_t mem = H5Screate_simple(2, count, nullptr);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, &poison);
    H5Sclose(mem);
    H5Sclose(space);
    H5Dclose(ds);
    H5Fclose(f);
  }
  return path;
}

CompressJob fit_job(const std::string& store, const std::string& out, const std::string& method, int64_t k) {
  CompressJob job;
  job.store = store;
  job.method = method;
  job.target.dim = k;
  job.output = out;
  return job;
}

std::string error_line(const CompressJob& job) {
  return subset::format_error_line(error_of([&] { run_compress(job); }));
}

}  // namespace

TEST_CASE("a fit writes the compressed store, records the transform, and --apply reproduces it bit for bit") {
  TempDir dir;
  const std::string in = write_input(dir, "in.h5");
  for (const char* method : {"pca", "gaussian-rp", "sparse-rp"}) {
    INFO(method);
    const std::string out = dir.file(std::string(method) + ".h5"), model = dir.file(std::string(method) + ".model.h5");
    CompressJob job = fit_job(in, out, method, 3);
    job.seed = 5;
    job.model_out = model;
    job.energy_report = [] { return std::string(R"({"kwh": 1e-9})"); };
    const auto o = run_compress(job);
    CHECK(o.output_dim == 3);
    CHECK(o.n == kN);
    CHECK(o.test_n == kTest);

    const FeatureStore s = FeatureStore::open(out);
    const FeatureStore src = FeatureStore::open(in);
    CHECK(s.info().dim() == 3);
    CHECK(s.info().test_features.cols == 3);
    CHECK(s.labels() == src.labels());
    CHECK(s.labels(Split::Test) == src.labels(Split::Test));
    CHECK(s.weights() == src.weights());
    CHECK(s.info().class_names == src.info().class_names);
    CHECK(s.info().image_shape.empty());
    CHECK(s.info().energy["kwh"] == 1e-9);
    CHECK(s.info().created_by.find("subset compress") != std::string::npos);

    const subset::io::ModelFile m = subset::io::read_model_file(model);
    CHECK(m.state.method == method);
    CHECK(m.seed == 5);
    CHECK(m.source == in);
    CHECK(m.source_checksum == src.features_checksum());
    CHECK(m.energy["kwh"] == 1e-9);
    if (std::string(method) == "pca") {
      CHECK(m.state.stats.contains("explained_variance_ratio"));
      CHECK(m.state.stats["train_mse"].get<double>() < 0.1 * m.state.stats["train_baseline_mse"].get<double>());
      CHECK(m.state.stats["test_mse"].get<double>() < 0.1 * m.state.stats["test_baseline_mse"].get<double>());
    }

    CompressJob apply;
    apply.store = in;
    apply.apply_model = model;
    apply.output = dir.file(std::string(method) + ".applied.h5");
    const auto a = run_compress(apply);
    CHECK(a.method == method);
    CHECK(a.seed == 5);
    const FeatureStore again = FeatureStore::open(apply.output);
    CHECK(again.features().read_all() == s.features().read_all());
    CHECK(again.features(Split::Test).read_all() == s.features(Split::Test).read_all());
  }
}

TEST_CASE("the same seed gives the same output, another seed another") {
  TempDir dir;
  const std::string in = write_input(dir, "in.h5");
  auto fit = [&](uint64_t seed, const std::string& name) {
    CompressJob job = fit_job(in, dir.file(name), "gaussian-rp", 4);
    job.seed = seed;
    run_compress(job);
    return FeatureStore::open(dir.file(name)).features().read_all();
  };
  CHECK(fit(1, "a.h5") == fit(1, "b.h5"));
  CHECK(fit(1, "c.h5") != fit(2, "d.h5"));
}

TEST_CASE("bad input is refused before anything is written, and an existing output is untouched") {
  TempDir dir;
  const std::string in = write_input(dir, "in.h5");
  const std::string other = write_input(dir, "other.h5", 12);
  const std::string out = dir.file("out.h5");
  write_bytes(out, "keep me");
  const std::string model = dir.file("m.h5");
  {
    CompressJob j = fit_job(other, model + ".store", "pca", 2);
    j.model_out = model;
    run_compress(j);
  }
  std::vector<std::string> before = list_dir(dir.path());

  auto refused = [&](CompressJob job, const std::string& needle) {
    job.force = true;
    const std::string line = error_line(job);
    INFO(line);
    CHECK(line.find(needle) != std::string::npos);
    CHECK(read_bytes(out) == "keep me");
    CHECK(list_dir(dir.path()) == before);
  };
  refused(fit_job(in, out, "pca", kD), "below the input dimension 10");
  refused(fit_job(in, out, "pca", 0), "at least 1");
  CompressJob v = fit_job(in, out, "pca", 1);
  v.target = {};
  v.target.variance = 1.5;
  refused(v, "(0, 1]");
  CompressJob e = fit_job(in, out, "gaussian-rp", 1);
  e.target = {};
  e.target.eps = 1.0;
  refused(e, "(0, 1)");
  refused(fit_job(in, out, "umap", 2), "unknown method 'umap'");

  CompressJob apply;
  apply.store = in;
  apply.output = out;
  apply.apply_model = model;
  refused(apply, "model expects 12 input features, but " + in + " has 10");
  apply.apply_model = in;
  refused(apply, "not a model file");
  apply.apply_model = dir.file("absent.h5");
  refused(apply, "absent.h5");
  apply.apply_model = model;
  apply.method = "pca";
  refused(apply, "(apply)");
  apply.method.clear();
  apply.target.dim = 2;
  refused(apply, "(apply)");
  apply.target = {};
  apply.model_out = dir.file("m2.h5");
  refused(apply, "(model-out)");

  CompressJob same = fit_job(in, out, "pca", 2);
  same.model_out = out;
  refused(same, "name the same file");
  CompressJob none = fit_job(in, out, "", 2);
  refused(none, "give a method");

  const std::string poisoned = write_input(dir, "nan.h5", kD, std::numeric_limits<float>::quiet_NaN());
  before = list_dir(dir.path());
  refused(fit_job(poisoned, out, "pca", 2), "NaN or Inf in features at row 7");
}

// ---- fit_array / apply_array: the same fit on rows in memory (the Python estimators) ----

TEST_CASE("fit_array on a store's rows gives run_compress's model and codes, bit for bit") {
  TempDir dir;
  const std::string in = write_input(dir, "in.h5");
  const FeatureStore src = FeatureStore::open(in);
  const subset::RowMatrixF rows = src.features().read_all();
  for (const char* method : {"pca", "gaussian-rp", "sparse-rp"}) {
    INFO(method);
    CompressJob job = fit_job(in, dir.file(std::string(method) + ".h5"), method, 3);
    job.seed = 5;
    job.model_out = dir.file(std::string(method) + ".model.h5");
    run_compress(job);
    const subset::io::ModelFile from_store = subset::io::read_model_file(*job.model_out);

    subset::workflows::ArrayFitJob array_job;
    array_job.method = method;
    array_job.target.dim = 3;
    array_job.seed = 5;
    const auto fitted = subset::workflows::fit_array(array_job, subset::view(rows));
    REQUIRE(fitted.model.state.arrays.size() == from_store.state.arrays.size());
    for (const auto& [name, array] : from_store.state.arrays) {
      INFO(name);
      REQUIRE(fitted.model.state.arrays.count(name) == 1);
      CHECK(fitted.model.state.arrays.at(name).shape == array.shape);
      CHECK(fitted.model.state.arrays.at(name).values == array.values);
    }
    CHECK(fitted.model.source_checksum == src.features_checksum());
    const subset::RowMatrixF codes = subset::workflows::apply_array(*fitted.transform, subset::view(rows), "X");
    CHECK(codes == FeatureStore::open(job.output).features().read_all());
  }
  subset::workflows::ArrayFitJob bad;
  bad.method = "pca";
  bad.target.dim = 3;
  const auto fitted = subset::workflows::fit_array(bad, subset::view(rows));
  const subset::RowMatrixF narrow = subset::RowMatrixF::Zero(2, kD - 1);
  CHECK(error_of([&] { subset::workflows::apply_array(*fitted.transform, subset::view(narrow), "X"); }).where() == "X");
}
