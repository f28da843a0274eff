// Tests for libsubset/io/selection_file.h: the selection file round trip (indices, weights,
// scores, the whole manifest including a full 64-bit seed), how read_selection rejects files that
// are not valid selections, and the refusal to overwrite without force. Malformed files are
// crafted with the HDF5 C API.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/selection_file.h"
#include "support/files.h"
#include "support/h5_builder.h"
#include "support/temp_dir.h"

using subset::Error;
using subset::io::read_selection;
using subset::io::SelectionFile;
using subset::io::write_selection;
using namespace subset::test;

namespace {

SelectionFile sample_selection() {
  SelectionFile s;
  s.indices = {7, 0, 3, 9};
  s.weights = {2.5f, 1.0f, 3.0f, 0.5f};
  s.scores = {-1.0f, 0.25f, 1e-7f, 3.5e8f};
  auto& m = s.manifest;
  m.method = "kcenter";
  m.params = {{"init_index", 3}, {"metric", "l2"}, {"ratio", 0.5}};
  m.seed = std::numeric_limits<uint64_t>::max();  // does not fit int64 or double
  m.budget = 4;
  m.per_class = true;
  m.features_dataset = "/embeddings";
  m.source = "/data/store with spaces.h5";
  m.source_n = 10;
  m.source_checksum = "crc32:0badf00d";
  m.created_by = "unit test";
  m.stats = {{"covering_radius", 9.17}, {"class_budget", {1, 2, 1}}};
  return s;
}

std::string error_text(const std::string& path) {
  try {
    read_selection(path);
  } catch (const Error& e) {
    return std::string(e.what()) + " @ " + e.where();
  }
  FAIL("read_selection accepted " << path);
  return {};
}

// Replaces dataset `name` of an existing file by int64 or float32 values (1-D).
void replace_dataset(const std::string& path, const std::string& name, H5Kind kind, const std::vector<double>& values,
                     std::vector<hsize_t> dims = {}) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  if (H5Lexists(f, name.c_str(), H5P_DEFAULT) > 0) REQUIRE(H5Ldelete(f, name.c_str(), H5P_DEFAULT) >= 0);
  if (dims.empty()) dims = {values.size()};
  h5_write_dataset(f, name, kind, dims, values);
  REQUIRE(H5Fclose(f) >= 0);
}

void delete_link(const std::string& path, const std::string& name) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  REQUIRE(H5Ldelete(f, name.c_str(), H5P_DEFAULT) >= 0);
  REQUIRE(H5Fclose(f) >= 0);
}

void delete_root_attr(const std::string& path, const std::string& name) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  REQUIRE(H5Adelete(f, name.c_str()) >= 0);
  REQUIRE(H5Fclose(f) >= 0);
}

void set_root_string_attr(const std::string& path, const std::string& name, const std::string& value) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  if (H5Aexists(f, name.c_str()) > 0) REQUIRE(H5Adelete(f, name.c_str()) >= 0);
  h5_string_attr(f, name, value);
  REQUIRE(H5Fclose(f) >= 0);
}

// The seed attribute as HDF5 stores it (a string).
std::string raw_seed(const std::string& path) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hid_t a = H5Aopen(f, "seed", H5P_DEFAULT);
  REQUIRE(a >= 0);
  hid_t t = H5Aget_type(a);
  REQUIRE(H5Tget_class(t) == H5T_STRING);
  hid_t mem = H5Tcopy(H5T_C_S1);
  H5Tset_size(mem, H5T_VARIABLE);
  H5Tset_cset(mem, H5T_CSET_UTF8);
  char* p = nullptr;
  REQUIRE(H5Aread(a, mem, &p) >= 0);
  std::string out(p);
  H5free_memory(p);
  H5Tclose(mem);
  H5Tclose(t);
  H5Aclose(a);
  H5Fclose(f);
  return out;
}

}  // namespace

TEST_CASE("selection file: round trip of indices, weights, scores and the whole manifest") {
  TempDir dir;
  const std::string path = dir.file("sel.h5");
  const SelectionFile s = sample_selection();
  write_selection(path, false, s);
  const SelectionFile r = read_selection(path);
  CHECK(r.indices == s.indices);
  CHECK(r.weights == s.weights);
  CHECK(r.scores == s.scores);
  const auto& m = r.manifest;
  CHECK(m.method == "kcenter");
  CHECK(m.params == s.manifest.params);
  CHECK(m.seed == std::numeric_limits<uint64_t>::max());
  CHECK(m.budget == 4);
  CHECK(m.per_class);
  CHECK(m.features_dataset == "/embeddings");
  CHECK(m.source == "/data/store with spaces.h5");
  CHECK(m.source_n == 10);
  CHECK(m.source_checksum == "crc32:0badf00d");
  CHECK(m.created_by == "unit test");
  CHECK(m.stats == s.manifest.stats);
  // Stored as decimal text so that readers without unsigned 64-bit integers keep every digit.
  CHECK(raw_seed(path) == "18446744073709551615");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"sel.h5"});
}

TEST_CASE("selection file: 64-bit seeds survive exactly") {
  TempDir dir;
  for (uint64_t seed : {uint64_t{0}, uint64_t{1}, (uint64_t{1} << 63) + 1, uint64_t{9007199254740993ULL}}) {
    SelectionFile s;
    s.indices = {1};
    s.manifest.method = "random";
    s.manifest.seed = seed;
    s.manifest.source_n = 2;
    const std::string path = dir.file("seed.h5");
    write_selection(path, true, s);
    CHECK(read_selection(path).manifest.seed == seed);
  }
}

TEST_CASE("selection file: optional parts are optional") {
  TempDir dir;
  const std::string path = dir.file("plain.h5");
  SelectionFile s;
  s.indices = {2, 1};
  s.manifest.method = "random";
  s.manifest.source_n = 3;
  write_selection(path, false, s);
  const SelectionFile r = read_selection(path);
  CHECK(r.indices == std::vector<int64_t>{2, 1});
  CHECK(r.weights.empty());
  CHECK(r.scores.empty());
  CHECK(r.manifest.params == nlohmann::json::object());
  CHECK(r.manifest.features_dataset == "/features");
  CHECK_FALSE(r.manifest.per_class);
  CHECK(r.manifest.created_by.find("libsubset") == 0);  // filled in when not given
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(H5Lexists(f, "weights", H5P_DEFAULT) == 0);
  CHECK(H5Lexists(f, "scores", H5P_DEFAULT) == 0);
  H5Fclose(f);
}

TEST_CASE("selection file: an empty selection round-trips") {
  TempDir dir;
  SelectionFile s;
  s.manifest.source_n = 3;
  write_selection(dir.file("empty.h5"), false, s);
  CHECK(read_selection(dir.file("empty.h5")).indices.empty());
}

TEST_CASE("selection file: write refuses weights or scores of the wrong length, writing nothing") {
  TempDir dir;
  SelectionFile s = sample_selection();
  s.weights.pop_back();
  CHECK_THROWS_AS(write_selection(dir.file("w.h5"), false, s), Error);
  s = sample_selection();
  s.scores.push_back(1);
  CHECK_THROWS_AS(write_selection(dir.file("s.h5"), false, s), Error);
  CHECK(list_dir(dir.path()).empty());
}

TEST_CASE("selection file: an existing file is refused without force and untouched; force replaces it") {
  TempDir dir;
  const std::string path = dir.file("sel.h5");
  write_bytes(path, "precious");
  CHECK_THROWS_AS(write_selection(path, false, sample_selection()), Error);
  CHECK(read_bytes(path) == "precious");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"sel.h5"});
  write_selection(path, true, sample_selection());
  CHECK(read_selection(path).indices == sample_selection().indices);
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"sel.h5"});
}

TEST_CASE("selection file: read rejects duplicate and negative indices; the largest is kept for the store check") {
  TempDir dir;
  const std::string path = dir.file("sel.h5");
  SelectionFile s = sample_selection();
  s.indices = {7, 0, 7, 9};
  write_selection(path, false, s);
  CHECK(error_text(path).find("appears twice") != std::string::npos);

  s.indices = {7, -1, 3, 9};
  write_selection(path, true, s);
  CHECK(error_text(path).find("negative index -1") != std::string::npos);

  // Beyond source_n: whether that is a bad index or an edited source_n needs the store
  // (check_selection_matches, tests/io/test_extract.cpp).
  s.indices = {7, 0, 10, 9};  // source_n = 10
  write_selection(path, true, s);
  CHECK(read_selection(path).manifest.max_index == 10);
}

TEST_CASE("selection file: source_dim is written, optional on read, and must be >= 1 when present") {
  TempDir dir;
  const std::string path = dir.file("sel.h5");
  SelectionFile s = sample_selection();
  s.manifest.source_dim = 7;
  write_selection(path, false, s);
  CHECK(read_selection(path).manifest.source_dim == 7);
  s.manifest.source_dim = 0;  // as in files written before source_dim existed
  write_selection(path, true, s);
  CHECK(read_selection(path).manifest.source_dim == 0);
  s.manifest.source_n = -4;
  write_selection(path, true, s);
  CHECK(error_text(path).find("attribute 'source_n' is negative") != std::string::npos);
}

TEST_CASE("selection file: read rejects weights or scores whose length differs from the indices") {
  TempDir dir;
  const std::string path = dir.file("sel.h5");
  write_selection(path, false, sample_selection());
  replace_dataset(path, "weights", H5Kind::F32, {1, 2, 3});
  CHECK(error_text(path).find("weights") != std::string::npos);

  write_selection(path, true, sample_selection());
  replace_dataset(path, "scores", H5Kind::F32, {1, 2, 3, 4, 5});
  CHECK(error_text(path).find("scores") != std::string::npos);
}

TEST_CASE("selection file: read rejects wrongly typed or shaped datasets") {
  TempDir dir;
  const std::string path = dir.file("sel.h5");
  write_selection(path, false, sample_selection());
  replace_dataset(path, "indices", H5Kind::F32, {7, 0, 3, 9});
  CHECK(error_text(path).find("integers") != std::string::npos);

  write_selection(path, true, sample_selection());
  replace_dataset(path, "indices", H5Kind::I64, {7, 0, 3, 9}, {2, 2});
  CHECK(error_text(path).find("1-D") != std::string::npos);

  write_selection(path, true, sample_selection());
  replace_dataset(path, "weights", H5Kind::I64, {1, 1, 1, 1});
  CHECK(error_text(path).find("floating-point") != std::string::npos);

  write_selection(path, true, sample_selection());
  delete_link(path, "indices");
  CHECK(error_text(path).find("/indices") != std::string::npos);
}

TEST_CASE("selection file: read rejects broken manifests") {
  TempDir dir;
  const std::string path = dir.file("sel.h5");
  write_selection(path, false, sample_selection());
  delete_root_attr(path, "source_n");
  CHECK(error_text(path).find("source_n") != std::string::npos);

  write_selection(path, true, sample_selection());
  set_root_string_attr(path, "seed", "not a number");
  CHECK(error_text(path).find("seed") != std::string::npos);
  for (const char* bad : {"-1", "12abc", "", "18446744073709551616"}) {
    CAPTURE(bad);
    set_root_string_attr(path, "seed", bad);
    CHECK(error_text(path).find("seed") != std::string::npos);
  }

  write_selection(path, true, sample_selection());
  set_root_string_attr(path, "params", "{broken");
  CHECK(error_text(path).find("params") != std::string::npos);

  write_selection(path, true, sample_selection());
  delete_root_attr(path, "format_version");
  CHECK(error_text(path).find("version") != std::string::npos);
}

TEST_CASE("selection file: files that are not selections are refused") {
  TempDir dir;
  // A feature store.
  const std::string store = dir.file("store.h5");
  write_store(store, StoreSpec{});
  CHECK(error_text(store).find("not a selection file") != std::string::npos);
  // An HDF5 file with /indices but no format attribute.
  const std::string bare = dir.file("bare.h5");
  hid_t f = H5Fcreate(bare.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  h5_write_dataset(f, "indices", H5Kind::I64, {2}, {0, 1});
  H5Fclose(f);
  CHECK(error_text(bare).find("not a selection file") != std::string::npos);
  // Not HDF5 at all; missing; a directory.
  write_bytes(dir.file("text.h5"), "0\n1\n");
  CHECK(error_text(dir.file("text.h5")).find("not an HDF5 file") != std::string::npos);
  CHECK_THROWS_AS(read_selection(dir.file("missing.h5")), Error);
  CHECK_THROWS_AS(read_selection(dir.path().string()), Error);
  // A selection of a newer format version.
  const std::string newer = dir.file("newer.h5");
  write_selection(newer, false, sample_selection());
  {
    hid_t g = H5Fopen(newer.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete(g, "format_version");
    h5_ints_attr(g, "format_version", {2}, true);
    H5Fclose(g);
  }
  CHECK(error_text(newer).find("version") != std::string::npos);
}
