// Tests for libsubset/io/model_file.h: the round trip of a model (arrays of any rank, params,
// stats, a full 64-bit seed, provenance), how read_model_file rejects files that are not model
// files, and atomic writing (refusal to overwrite, nothing left behind on failure).
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cstdint>
#include <limits>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/io/model_file.h"
#include "support/error_of.h"
#include "support/files.h"
#include "support/h5_builder.h"
#include "support/temp_dir.h"

using subset::FloatArray;
using subset::io::ModelFile;
using subset::io::read_model_file;
using subset::io::write_model_file;
using namespace subset::test;

namespace {

ModelFile sample_model() {
  ModelFile m;
  m.state.method = "pca";
  m.state.input_dim = 3;
  m.state.output_dim = 2;
  m.state.params = {{"solver", "exact"}, {"whiten", true}};
  m.state.stats = {{"explained_variance_ratio", {0.7, 0.2}}};
  m.state.arrays["components"] = FloatArray{{2, 3}, {1.0f, 0.0f, -0.0f, 0.25f, -1e-30f, 3.5e8f}};
  m.state.arrays["mean"] = FloatArray{{3}, {0.5f, 1.5f, 2.5f}};
  m.seed = std::numeric_limits<uint64_t>::max();
  m.source = "/data/train store.h5";
  m.source_checksum = "crc32:0badf00d";
  m.created_by = "unit test";
  m.energy = {{"kwh", 1e-6}};
  return m;
}

std::string read_error(const std::string& path) {
  return subset::format_error_line(error_of([&] { read_model_file(path); }));
}

}  // namespace

TEST_CASE("a model file round-trips everything it holds") {
  TempDir dir;
  const std::string path = dir.file("model.h5");
  const ModelFile m = sample_model();
  write_model_file(path, false, m);
  const ModelFile r = read_model_file(path);
  CHECK(r.state.method == "pca");
  CHECK(r.state.input_dim == 3);
  CHECK(r.state.output_dim == 2);
  CHECK(r.state.params == m.state.params);
  CHECK(r.state.stats == m.state.stats);
  REQUIRE(r.state.arrays.size() == 2);
  CHECK(r.state.arrays.at("components").shape == std::vector<int64_t>{2, 3});
  CHECK(r.state.arrays.at("components").values == m.state.arrays.at("components").values);
  CHECK(r.state.arrays.at("mean").values == m.state.arrays.at("mean").values);
  CHECK(r.seed == m.seed);
  CHECK(r.source == m.source);
  CHECK(r.source_checksum == m.source_checksum);
  CHECK(r.created_by == "unit test");
  CHECK(r.energy == m.energy);
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"model.h5"});
}

TEST_CASE("an existing model file is refused without force and replaced with it") {
  TempDir dir;
  const std::string path = dir.file("model.h5");
  write_model_file(path, false, sample_model());
  const std::string before = read_bytes(path);
  CHECK(subset::format_error_line(error_of([&] { write_model_file(path, false, sample_model()); })).find("exists") !=
        std::string::npos);
  CHECK(read_bytes(path) == before);
  ModelFile other = sample_model();
  other.state.method = "gaussian-rp";
  write_model_file(path, true, other);
  CHECK(read_model_file(path).state.method == "gaussian-rp");
}

TEST_CASE("bad models are refused before anything is written") {
  TempDir dir;
  ModelFile m = sample_model();
  m.state.arrays["Bad-Name"] = FloatArray{{1}, {1.0f}};
  CHECK(error_of([&] { write_model_file(dir.file("a.h5"), false, m); }).message().find("Bad-Name") != std::string::npos);
  m = sample_model();
  m.state.arrays["mean"].shape = {4};
  CHECK(error_of([&] { write_model_file(dir.file("b.h5"), false, m); }).message().find("mean") != std::string::npos);
  CHECK(list_dir(dir.path()).empty());
}

TEST_CASE("files that are not model files are refused with one line naming the file") {
  TempDir dir;
  const std::string store = dir.file("store.h5");
  write_store(store, StoreSpec{});
  CHECK(read_error(store).find("not a model file (format attribute is 'subset-store')") != std::string::npos);
  write_bytes(dir.file("text.h5"), "pca\n");
  CHECK(read_error(dir.file("text.h5")) == "error: not an HDF5 file (" + dir.file("text.h5") + ")");
  CHECK(read_error(dir.file("missing.h5")).find("missing.h5") != std::string::npos);

  // A model whose array is not floating point, or whose dimension attribute is missing.
  const std::string ints = dir.file("ints.h5");
  write_model_file(ints, false, sample_model());
  {
    hid_t f = H5Fopen(ints.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    h5_write_dataset(f, "labels", H5Kind::I64, {2}, {1, 2});
    H5Fclose(f);
  }
  CHECK(read_error(ints).find("floating-point") != std::string::npos);
  const std::string nodim = dir.file("nodim.h5");
  write_model_file(nodim, false, sample_model());
  {
    hid_t f = H5Fopen(nodim.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete(f, "output_dim");
    H5Fclose(f);
  }
  CHECK(read_error(nodim).find("output_dim") != std::string::npos);
}

TEST_CASE("a NaN or Inf in a model array is refused naming the model file and the array") {
  TempDir dir;
  const std::string path = dir.file("model.h5");
  ModelFile m = sample_model();
  m.state.arrays["mean"].values[1] = std::numeric_limits<float>::quiet_NaN();
  write_model_file(path, false, m);
  CHECK(read_error(path) ==
        "error: NaN or Inf in model array 'mean' at element 1 (the model file is damaged) (" + path + ":/mean)");
  m.state.arrays["mean"].values[1] = 0.0f;
  m.state.arrays["components"].values[5] = std::numeric_limits<float>::infinity();
  write_model_file(path, true, m);
  CHECK(read_error(path).find("model array 'components' at element 5") != std::string::npos);
}
