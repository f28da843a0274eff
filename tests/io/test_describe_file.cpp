// Tests for libsubset/io/describe_file.h: which kind a file is told to be from its markers (stores
// crafted with the HDF5 C API, selections and model files written by their writers), what each
// description holds against the values written, the value count of check_values against a
// hand count, the --store verdicts, and the one-line refusals of files of no known kind.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/io/describe_file.h"
#include "libsubset/io/model_file.h"
#include "libsubset/io/selection_file.h"
#include "support/error_of.h"
#include "support/files.h"
#include "support/h5_builder.h"
#include "support/temp_dir.h"

using subset::FloatArray;
using subset::io::describe_file;
using subset::io::DescribeOptions;
using subset::io::FileKind;
using namespace subset::test;

namespace {

// A store of `rows` x `cols` float32 values 0, 1, 2, ... (and `test_rows` test rows), optionally
// with format attributes and extra string root attributes.
void write_store(const std::string& path, hsize_t rows, hsize_t cols, hsize_t test_rows, bool format = true,
                 const std::vector<std::pair<std::string, std::string>>& attrs = {}, double poison = 0) {
  hid_t f = h5_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create");
  std::vector<double> x(rows * cols);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
  if (poison != 0) x[x.size() - 1] = poison;
  h5_write_dataset(f, "features", H5Kind::F32, {rows, cols}, x);
  if (test_rows > 0) {
    hid_t g = h5_id(H5Gcreate2(f, "test", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "group");
    h5_write_dataset(g, "features", H5Kind::F32, {test_rows, cols}, std::vector<double>(test_rows * cols, 0.5));
    H5Gclose(g);
  }
  if (format) {
    h5_string_attr(f, "format", "subset-store");
    h5_ints_attr(f, "format_version", {1}, true);
  }
  for (const auto& [name, value] : attrs) h5_string_attr(f, name, value);
  H5Fclose(f);
}

subset::io::SelectionFile sample_selection(int64_t source_n, const std::string& checksum) {
  subset::io::SelectionFile s;
  s.indices = {3, 0, 2, 9};
  s.weights = {2.5f, 1.0f, 3.0f, 0.5f};
  s.scores = {std::numeric_limits<float>::infinity(), 2.0f, 1.0f, 0.5f};  // a ranking may hold Inf
  auto& m = s.manifest;
  m.method = "kcenter";
  m.params = {{"init-index", -1}};
  m.seed = 42;
  m.budget = 4;
  m.source = "store.h5";
  m.source_n = source_n;
  m.source_dim = 3;
  m.source_checksum = checksum;
  m.energy = {{"kwh", 2e-6},
              {"seconds", 1.5},
              {"components", {{{"name", "cpu"}, {"source", "measured"}}, {{"name", "memory"}, {"source", "estimated"}}}}};
  return s;
}

subset::io::ModelFile sample_model(const std::string& method) {
  subset::io::ModelFile m;
  m.state.method = method;
  m.state.input_dim = 3;
  m.state.output_dim = 2;
  m.state.params = {{"solver", "exact"}};
  m.state.stats = {{"explained_variance_ratio_sum", 0.875}};
  m.state.arrays["components"] = FloatArray{{2, 3}, {1, 0, 0, 0, 1, 0}};
  m.state.arrays["mean"] = FloatArray{{3}, {0.5f, 1.5f, 2.5f}};
  m.seed = 7;
  m.source = "/nowhere/fitted.h5";
  m.source_checksum = "crc32:0badf00d";
  return m;
}

}  // namespace

TEST_CASE("a store: kind, the store's keys, and check_values counting both splits") {
  TempDir dir;
  const std::string path = dir.file("s.h5");
  write_store(path, 5, 3, 2);
  const auto d = describe_file(path);
  CHECK(d.kind == FileKind::Store);
  CHECK(d.json["kind"] == "store");
  CHECK(d.json["n"] == 5);
  CHECK(d.json["dim"] == 3);
  CHECK(d.json["test_n"] == 2);
  CHECK(d.json["embedding"].is_null());
  CHECK(d.json["provenance"].is_null());
  CHECK_FALSE(d.json.contains("values_checked"));
  REQUIRE(d.store.has_value());
  CHECK(d.store->n() == 5);

  DescribeOptions check;
  check.check_values = true;
  const auto c = describe_file(path, check);
  CHECK(c.json["values_checked"]["values"] == 5 * 3 + 2 * 3);
  CHECK(c.json["values_checked"]["parts"].size() == 2);
  CHECK(c.json["values_checked"]["parts"][1]["name"] == "/test/features");
}

TEST_CASE("a store without format attributes is still a store; a NaN fails check_values") {
  TempDir dir;
  const std::string path = dir.file("bare.h5");
  write_store(path, 4, 2, 0, /*format=*/false);
  CHECK(describe_file(path).kind == FileKind::Store);
  const std::string bad = dir.file("nan.h5");
  write_store(bad, 4, 2, 0, true, {}, std::nan(""));
  CHECK(describe_file(bad).json["n"] == 4);  // metadata only: fine
  DescribeOptions check;
  check.check_values = true;
  const subset::Error e = error_of([&] { describe_file(bad, check); });
  CHECK(std::string(e.what()).find("row 3") != std::string::npos);
}

TEST_CASE("an embedding store: kind, its record, and the --store verdict") {
  TempDir dir;
  const std::string source = dir.file("source.h5");
  write_store(source, 6, 4, 0);
  const std::string checksum = subset::io::FeatureStore::open(source).features_checksum();
  const std::string emb = dir.file("emb.h5");
  write_store(emb, 6, 2, 0, true,
              {{"same_rows", nlohmann::json({{"source", source}, {"checksum", checksum}, {"n", 6}}).dump()},
               {"embedding", R"({"model":"pca","settings":{"dim":2},"input_dim":4})"},
               {"transform", R"({"method":"pca","input_dim":4,"output_dim":2})"}});
  const auto d = describe_file(emb);
  CHECK(d.kind == FileKind::EmbeddingStore);
  CHECK(d.json["kind"] == "embedding store");
  CHECK(d.json["embedding"]["model"] == "pca");
  CHECK(d.json["same_rows"]["source"] == source);
  CHECK(d.json["provenance"]["transform"]["output_dim"] == 2);

  DescribeOptions against;
  against.store = source;
  CHECK(describe_file(emb, against).json["store_match"]["matches"] == true);
  const std::string other = dir.file("other.h5");
  write_store(other, 7, 4, 0);
  against.store = other;
  const auto m = describe_file(emb, against).json["store_match"];
  CHECK(m["matches"] == false);
  CHECK(m["reason"].get<std::string>().find("6 rows") != std::string::npos);
  // A plain store has no rows of another store to match.
  CHECK_THROWS_AS(describe_file(other, against), subset::ParamError);
}

TEST_CASE("a selection: the manifest, counts, energy summary and --store verdicts") {
  TempDir dir;
  const std::string store = dir.file("store.h5");
  write_store(store, 10, 3, 0);
  const std::string checksum = subset::io::FeatureStore::open(store).features_checksum();
  const std::string path = dir.file("sel.h5");
  subset::io::write_selection(path, false, sample_selection(10, checksum));
  const auto d = describe_file(path);
  CHECK(d.kind == FileKind::Selection);
  const auto& j = d.json;
  CHECK(j["kind"] == "selection");
  CHECK(j["method"] == "kcenter");
  CHECK(j["seed"] == 42);
  CHECK(j["budget"] == 4);
  CHECK(j["selected"] == 4);
  CHECK(j["fraction"].get<double>() == doctest::Approx(0.4));
  CHECK(j["weighted"] == true);
  CHECK(j["weights_sum"].get<double>() == doctest::Approx(7.0));
  CHECK(j["scored"] == true);
  CHECK(j["energy_summary"]["kwh"].get<double>() == doctest::Approx(2e-6));
  CHECK(j["energy_summary"]["source"] == "partly measured");

  DescribeOptions check;
  check.check_values = true;
  CHECK(describe_file(path, check).json["values_checked"]["values"] == 4);  // the weights; scores hold Inf

  DescribeOptions against;
  against.store = store;
  CHECK(describe_file(path, against).json["store_match"]["matches"] == true);
  const std::string other = dir.file("other.h5");
  write_store(other, 12, 3, 0);
  against.store = other;
  const auto m = describe_file(path, against).json["store_match"];
  CHECK(m["matches"] == false);
  CHECK(m["reason"].get<std::string>().find("10 rows") != std::string::npos);
  against.store = dir.file("missing.h5");
  CHECK_THROWS_AS(describe_file(path, against), subset::Error);
}

TEST_CASE("a model and a condensation checkpoint") {
  TempDir dir;
  const std::string model = dir.file("m.h5");
  subset::io::write_model_file(model, false, sample_model("pca"));
  const auto d = describe_file(model);
  CHECK(d.kind == FileKind::Model);
  CHECK(d.json["kind"] == "model");
  CHECK(d.json["method"] == "pca");
  CHECK(d.json["input_dim"] == 3);
  CHECK(d.json["output_dim"] == 2);
  CHECK(d.json["seed"] == "7");
  CHECK(d.json["explained_variance_ratio"].get<double>() == doctest::Approx(0.875));
  CHECK(d.json["source_rows"].is_null());  // the source store is not there
  CHECK(d.json["arrays"]["components"] == nlohmann::json::array({2, 3}));
  DescribeOptions check;
  check.check_values = true;
  CHECK(describe_file(model, check).json["values_checked"]["values"] == 6 + 3);
  DescribeOptions against;
  against.store = model;
  CHECK_THROWS_AS(describe_file(model, against), subset::ParamError);

  auto ck = sample_model(subset::io::kCondenseCheckpointMethod);
  ck.state.params = {{"method", "dm"}, {"ipc", 1}, {"iterations", 50}};
  ck.state.stats = {{"iterations_done", 10}, {"last_loss", 0.25}};
  const std::string checkpoint = dir.file("syn.h5.checkpoint.h5");
  subset::io::write_model_file(checkpoint, false, ck);
  const auto c = describe_file(checkpoint);
  CHECK(c.kind == FileKind::Checkpoint);
  CHECK(c.json["kind"] == "checkpoint");
  CHECK(c.json["method"] == "dm");
  CHECK(c.json["iterations_done"] == 10);
  CHECK(c.json["iterations"] == 50);
  CHECK(c.json["images"] == 2);
  CHECK(c.json["classes"] == 2);
  CHECK(c.json["output"] == dir.file("syn.h5"));
}

TEST_CASE("files of no known kind are refused, saying what they are not") {
  TempDir dir;
  const std::string plain = dir.file("x.h5");
  hid_t f = h5_id(H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create");
  h5_write_dataset(f, "data", H5Kind::F32, {2, 2}, {1, 2, 3, 4});
  H5Fclose(f);
  std::string what = error_of([&] { describe_file(plain); }).message();
  CHECK(what.find("not a file subset writes") != std::string::npos);
  CHECK(what.find("checkpoint") != std::string::npos);

  const std::string foreign = dir.file("f.h5");
  f = h5_id(H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create");
  h5_string_attr(f, "format", "someone-else");
  H5Fclose(f);
  what = error_of([&] { describe_file(foreign); }).message();
  CHECK(what.find("someone-else") != std::string::npos);

  const std::string text = dir.file("t.txt");
  write_bytes(text, "hello\n");
  CHECK(error_of([&] { describe_file(text); }).message().find("not an HDF5 file") != std::string::npos);

  const std::string ledger = dir.file("p.al");
  write_bytes(ledger, std::string("SQLite format 3\0", 16) + std::string(200, '\0'));
  CHECK(error_of([&] { describe_file(ledger); }).message().find("subset al status") != std::string::npos);
}

TEST_CASE("energy_summary: measured, estimated, absent") {
  using subset::io::energy_summary;
  CHECK(energy_summary(nullptr).is_null());
  CHECK(energy_summary({{"seconds", 1}}).is_null());
  CHECK(energy_summary({{"kwh", 1.0}, {"components", {{{"source", "measured"}}}}})["source"] == "measured");
  CHECK(energy_summary({{"kwh", 1.0}, {"components", {{{"source", "estimated"}}}}})["source"] == "estimated");
}
