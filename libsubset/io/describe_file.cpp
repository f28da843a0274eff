#include "libsubset/io/describe_file.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/params.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/input_file.h"
#include "libsubset/io/internal/hdf5.h"
#include "libsubset/io/model_file.h"
#include "libsubset/io/rank_rows.h"
#include "libsubset/io/selection_file.h"

namespace subset::io {
namespace {

constexpr const char* kNoMarkers =
    "not a file subset writes: no feature store (/features or a format attribute), selection, model or checkpoint "
    "markers";

// What the root of an HDF5 file says about its kind, read before the kind's own reader validates it.
struct Markers {
  std::optional<std::string> format;
  int64_t format_version = 0;
  std::string method;      // a model file's
  bool has_features = false;
  nlohmann::json provenance = nullptr;  // a store's condensation / transform / active_learning records
};

Markers read_markers(const std::string& path) {
  const std::string readable = readable_path(path);
  check_regular_input_path(readable);
  h5::silence_library_errors();
  if (H5Fis_hdf5(readable.c_str()) <= 0) {
    char head[16] = {};
    std::ifstream in(readable, std::ios::binary);
    in.read(head, sizeof head);
    if (in.gcount() == 16 && std::memcmp(head, "SQLite format 3", 16) == 0)
      throw Error("an active-learning ledger (SQLite), not an HDF5 file: use `subset al status`", path);
    throw Error("not an HDF5 file, so not a file subset writes (feature store, selection, model or checkpoint)", path);
  }
  h5::Handle file = h5::file_handle(H5Fopen(readable.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file) throw Error("cannot open HDF5 file (truncated or corrupt?)", path);
  const hid_t root = file.id();
  Markers m;
  m.format = h5::read_string_attr(root, "format", path);
  if (const auto v = h5::read_int_array_attr(root, "format_version", path); v && v->size() == 1)
    m.format_version = v->front();
  if (m.format && *m.format == kModelFormatName)
    m.method = h5::read_string_attr(root, "method", path).value_or("");
  m.has_features = h5::link_exists(root, "features");
  for (const char* name : {"condensation", "transform", "active_learning"}) {
    const auto text = h5::read_string_attr(root, name, path);
    if (!text) continue;
    nlohmann::json record = nlohmann::json::parse(*text, nullptr, false);
    if (record.is_discarded()) record = *text;  // informational: kept as the text it is
    if (m.provenance.is_null()) m.provenance = nlohmann::json::object();
    m.provenance[name] = record;
  }
  return m;
}

uint64_t file_size(const std::string& path) {
  struct stat st;
  return stat(readable_path(path).c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

nlohmann::json part(const std::string& name, int64_t rows, int64_t cols) {
  return {{"name", name}, {"rows", rows}, {"cols", cols}};
}

nlohmann::json values_checked(const nlohmann::json& parts) {
  int64_t values = 0;
  for (const auto& p : parts) values += p["rows"].get<int64_t>() * p["cols"].get<int64_t>();
  return {{"values", values}, {"finite", true}, {"parts", parts}};
}

void check_floats(const std::vector<float>& v, const std::string& where, const char* what) {
  const int64_t bad = find_non_finite(v.data(), v.size());
  SUBSET_CHECK(bad < 0, where, "NaN or Inf in " << what << " at entry " << bad);
}

void refuse_store_option(const DescribeOptions& options, const char* what) {
  SUBSET_CHECK_PARAM(options.store.empty(), "store",
                     "--store applies to a selection or an embedding store, not to " << what);
}

FileDescription describe_open_store(const FeatureStore& store, const Markers& markers, const DescribeOptions& options) {
  const StoreInfo& info = store.info();
  FileDescription d;
  d.kind = info.same_rows || !info.embedding.is_null() ? FileKind::EmbeddingStore : FileKind::Store;
  d.store = info;
  d.json = info.to_json();
  d.json["kind"] = kind_name(d.kind);
  d.json["embedding"] = info.embedding;
  d.json["provenance"] = markers.provenance;
  SUBSET_CHECK_PARAM(options.store.empty() || info.same_rows, "store",
                     "--store applies to a selection or an embedding store, not to a feature store that records no "
                     "source rows");
  if (options.check_values) {
    check_finite(store, Split::Train, options.ranks);
    nlohmann::json parts = nlohmann::json::array({part("/features", info.n(), info.dim())});
    if (info.has_test) {
      check_finite(store, Split::Test, options.ranks);
      parts.push_back(part("/test/features", info.test_n(), info.test_features.cols));
    }
    d.json["values_checked"] = values_checked(parts);
  }
  if (!options.store.empty()) {
    const FeatureStore other = FeatureStore::open(options.store);
    // The one same-rows test extract, evaluate and bench apply (selection_file.h).
    // (same_rows(), with the checksum taken once, by the ranks together)
    const bool same_n = info.same_rows->n == other.info().n() && info.n() == other.info().n();
    const std::string checksum = same_n ? features_checksum(other, options.ranks) : std::string();
    const bool matches = same_n && info.same_rows->checksum == checksum;
    std::string reason;
    if (matches) reason = "embeds the rows of " + options.store;
    else if (info.same_rows->n != other.info().n())
      reason = "embeds a store of " + std::to_string(info.same_rows->n) + " rows, but " + options.store + " has " +
               std::to_string(other.info().n());
    else
      reason = "embeds a store of feature checksum " + info.same_rows->checksum + ", not " + options.store + "'s " +
               (same_n ? checksum : other.features_checksum());
    d.json["store_match"] = {{"store", options.store}, {"matches", matches}, {"reason", reason}};
  }
  return d;
}

FileDescription describe_selection(const std::string& path, const Markers& markers, const DescribeOptions& options) {
  const SelectionFile sel = read_selection(path);
  const SelectionManifest& m = sel.manifest;
  FileDescription d;
  d.kind = FileKind::Selection;
  nlohmann::json& j = d.json;
  j = to_json(m);
  j["kind"] = kind_name(d.kind);
  j["path"] = path;
  j["file_size"] = file_size(path);
  j["format"] = kSelectionFormatName;
  j["format_version"] = markers.format_version;
  const auto k = static_cast<int64_t>(sel.indices.size());
  j["selected"] = k;
  j["fraction"] = nullptr;
  if (m.source_n > 0) j["fraction"] = static_cast<double>(k) / static_cast<double>(m.source_n);
  j["weighted"] = !sel.weights.empty();
  double weight_sum = 0;
  for (float w : sel.weights) weight_sum += w;
  j["weights_sum"] = sel.weights.empty() ? nlohmann::json(nullptr) : nlohmann::json(weight_sum);
  j["scored"] = !sel.scores.empty();
  j["energy_summary"] = energy_summary(m.energy);
  if (options.check_values) {
    nlohmann::json parts = nlohmann::json::array();
    if (!sel.weights.empty()) {
      check_floats(sel.weights, path + ":/weights", "/weights");
      parts.push_back(part("/weights", k, 1));
    }
    // Scores are not checked: a ranking may hold Inf (kcenter's first pick is infinitely far).
    j["values_checked"] = values_checked(parts);
  }
  if (!options.store.empty()) {
    const FeatureStore store = FeatureStore::open(options.store);
    bool matches = true;
    std::string reason;
    try {
      // The test extract, evaluate and bench apply before using a selection on a store.
      reason = check_selection_matches(m, store, path, options.ranks)
                   ? "picks rows of " + options.store + " through the same-rows store it was made on"
                   : "made from " + options.store + " (rows, dimension and feature checksum agree)";
    } catch (const Error& e) {
      matches = false;
      reason = e.message();
    }
    j["store_match"] = {{"store", options.store}, {"matches", matches}, {"reason", reason}};
  }
  return d;
}

// A model's arrays as {name: shape}, and the parts a value check covers.
void describe_arrays(const ModelState& s, nlohmann::json& j, const DescribeOptions& options) {
  nlohmann::json arrays = nlohmann::json::object(), parts = nlohmann::json::array();
  for (const auto& [name, array] : s.arrays) {
    arrays[name] = array.shape;
    int64_t cols = 1;
    for (size_t i = 1; i < array.shape.size(); ++i) cols *= array.shape[i];
    parts.push_back(part("/" + name, array.shape.empty() ? 0 : array.shape[0], cols));
  }
  j["arrays"] = arrays;
  // read_model_file has refused NaN and Inf in every array already.
  if (options.check_values) j["values_checked"] = values_checked(parts);
}

// The description every model-file kind starts from: its kind and the keys they share.
FileDescription model_file_description(FileKind kind, const std::string& path, const Markers& markers,
                                       const ModelFile& file) {
  FileDescription d;
  d.kind = kind;
  d.json = {{"kind", kind_name(kind)},
            {"path", path},
            {"file_size", file_size(path)},
            {"format", kModelFormatName},
            {"format_version", markers.format_version},
            {"source", file.source},
            {"source_checksum", file.source_checksum},
            {"created_by", file.created_by},
            {"energy", file.energy},
            {"energy_summary", energy_summary(file.energy)}};
  return d;
}

FileDescription describe_model(const std::string& path, const Markers& markers, const DescribeOptions& options) {
  refuse_store_option(options, "a model file");
  const ModelFile file = read_model_file(path);
  const ModelState& s = file.state;
  FileDescription d = model_file_description(FileKind::Model, path, markers, file);
  nlohmann::json& j = d.json;
  j["method"] = s.method;
  j["input_dim"] = s.input_dim;
  j["output_dim"] = s.output_dim;
  j["params"] = s.params;
  j["stats"] = s.stats;
  j["seed"] = std::to_string(file.seed);  // decimal text, as the file stores it
  const nlohmann::json ratio = s.stats.is_object() ? s.stats.value("explained_variance_ratio_sum", nlohmann::json())
                                                   : nlohmann::json();
  j["explained_variance_ratio"] = ratio.is_number() ? ratio : nlohmann::json(nullptr);
  // The rows it was fitted on are not recorded: they are the source store's when that store is
  // still there under its recorded checksum (read from its attribute, never by streaming).
  nlohmann::json rows = nullptr;
  if (!file.source.empty() && !file.source_checksum.empty()) {
    try {
      const FeatureStore source = FeatureStore::open(file.source);
      if (source.info().features.checksum == file.source_checksum) rows = source.info().n();
    } catch (const Error&) {
    }
  }
  j["source_rows"] = rows;
  describe_arrays(s, j, options);
  return d;
}

FileDescription describe_checkpoint(const std::string& path, const Markers& markers, const DescribeOptions& options) {
  refuse_store_option(options, "a checkpoint");
  const ModelFile file = read_model_file(path);
  const ModelState& s = file.state;
  FileDescription d = model_file_description(FileKind::Checkpoint, path, markers, file);
  nlohmann::json& j = d.json;
  j["of"] = "subset condense";
  // The output it is the checkpoint of: condense names it OUTPUT + kCondenseCheckpointSuffix.
  const std::string suffix = kCondenseCheckpointSuffix;
  j["output"] = path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0
                    ? nlohmann::json(path.substr(0, path.size() - suffix.size()))
                    : nlohmann::json(nullptr);
  const nlohmann::json& settings = s.params;
  auto setting = [&](const char* name) {
    return settings.is_object() && settings.contains(name) ? settings[name] : nlohmann::json(nullptr);
  };
  auto stat = [&](const char* name) {
    return s.stats.is_object() && s.stats.contains(name) ? s.stats[name] : nlohmann::json(nullptr);
  };
  j["method"] = setting("method");
  j["settings"] = settings;
  j["iterations_done"] = stat("iterations_done");
  j["iterations"] = setting("iterations");
  j["last_loss"] = stat("last_loss");
  j["images"] = s.output_dim;
  j["dim"] = s.input_dim;
  const nlohmann::json ipc = setting("ipc");
  j["ipc"] = ipc;
  j["classes"] = ipc.is_number_integer() && ipc.get<int64_t>() > 0 ? nlohmann::json(s.output_dim / ipc.get<int64_t>())
                                                                    : nlohmann::json(nullptr);
  describe_arrays(s, j, options);
  return d;
}

}  // namespace

const char* kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::Store: return "store";
    case FileKind::EmbeddingStore: return "embedding store";
    case FileKind::Selection: return "selection";
    case FileKind::Model: return "model";
    case FileKind::Checkpoint: return "checkpoint";
  }
  return "?";
}

nlohmann::json energy_summary(const nlohmann::json& energy) {
  if (!energy.is_object() || !energy.contains("kwh") || !energy["kwh"].is_number()) return nullptr;
  int measured = 0, estimated = 0;
  if (energy.contains("components") && energy["components"].is_array())
    for (const auto& c : energy["components"]) {
      const std::string source = c.is_object() && c.contains("source") && c["source"].is_string() ? c["source"].get<std::string>() : "";
      if (source == "measured") ++measured;
      else ++estimated;
    }
  auto number = [&](const char* key) {
    return energy.contains(key) && energy[key].is_number() ? energy[key] : nlohmann::json(nullptr);
  };
  return {{"kwh", energy["kwh"]},
          {"seconds", number("seconds")},
          {"gco2e", number("gco2e")},
          {"source", measured > 0 && estimated == 0   ? "measured"
                     : measured > 0                  ? "partly measured"
                                                     : "estimated"}};
}

FileDescription describe_store(const FeatureStore& store, const DescribeOptions& options) {
  return describe_open_store(store, read_markers(store.path()), options);
}

FileDescription describe_file(const std::string& path, const DescribeOptions& options) {
  const Markers markers = read_markers(path);
  if (!markers.format) {
    // A store of format v1 may carry no format attributes (docs/format.md); nothing else may.
    SUBSET_CHECK(markers.has_features, path, kNoMarkers);
    return describe_open_store(FeatureStore::open(path), markers, options);
  }
  const std::string& format = *markers.format;
  if (format == kFormatName) return describe_open_store(FeatureStore::open(path), markers, options);
  if (format == kSelectionFormatName) return describe_selection(path, markers, options);
  if (format == kModelFormatName) {
    if (markers.method == kCondenseCheckpointMethod) return describe_checkpoint(path, markers, options);
    return describe_model(path, markers, options);
  }
  SUBSET_FAIL(path, "not a file subset writes: its format attribute is '"
                        << format << "' (subset writes " << kFormatName << ", " << kSelectionFormatName << " and "
                        << kModelFormatName << ")");
}

}  // namespace subset::io
