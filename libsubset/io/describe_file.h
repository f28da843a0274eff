#pragma once
// What a file the tool wrote is and holds, told from its own markers (`subset info`, and any
// front-end that wants the same): a feature store, an embedding store (a same-rows store, written by
// `subset embed`), a selection file, a model file (`compress --model-out`, `embed --model-out`) or a
// condensation checkpoint (OUTPUT.checkpoint.h5 of `condense --checkpoint-every`: a model file of
// method kCondenseCheckpointMethod). Detection, in this order:
//   not HDF5: an active-learning ledger (SQLite) is named as such, anything else refused;
//   root attribute "format": subset-store -> store, subset-selection -> selection,
//     subset-transform -> model, or checkpoint when its method is kCondenseCheckpointMethod;
//     another value is refused;
//   no "format": a /features dataset -> store (format v1 without attributes), else refused.
// A store is an embedding store when it records "same_rows" or "embedding".
// Reads metadata only, unless check_values asks for every value (stores: both splits streamed).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "libsubset/io/rank_rows.h"
#include "libsubset/io/store.h"

namespace subset::io {

// The method name a condensation checkpoint records (workflows/condense.cpp writes it).
inline constexpr const char* kCondenseCheckpointMethod = "condense-checkpoint";
// What condense appends to its output's path to name the checkpoint (workflows/condense.h).
inline constexpr const char* kCondenseCheckpointSuffix = ".checkpoint.h5";

enum class FileKind { Store, EmbeddingStore, Selection, Model, Checkpoint };
// "store", "embedding store", "selection", "model", "checkpoint": the "kind" of the description.
const char* kind_name(FileKind kind);

struct DescribeOptions {
  // Read every stored value and throw Error naming the first NaN or Inf: a store's features of both
  // splits, a selection's weights (not its scores: a ranking may hold Inf, kcenter's first pick),
  // a model's or checkpoint's arrays. The description then has
  // "values_checked": {"values", "finite": true, "parts": [{"name", "rows", "cols"}]}.
  bool check_values = false;
  // A store to test a selection or an embedding store against (empty: none). The description then
  // has "store_match": {"store", "matches", "reason"}; a store that cannot be opened is an Error.
  std::string store;
  // Ranks to share the passes over a store's rows among (rank_rows.h): the value check of its
  // features and a checksum a store does not record. Every rank then calls describe_file, and
  // every rank gets the description and fails alike.
  RankReads ranks;
};

struct FileDescription {
  FileKind kind = FileKind::Store;
  // Always has "kind" and "path". Stores: StoreInfo::to_json()'s keys, plus "embedding" (null or
  // the record), "provenance" (null or {"condensation"|"transform"|"active_learning": record}).
  // Selections: the manifest (io::to_json) plus "format", "format_version", "file_size", "selected",
  // "fraction", "weighted", "scored", "energy_summary". Models and checkpoints: see describe_file.cpp.
  nlohmann::json json;
  std::optional<StoreInfo> store;  // the store's info, for both store kinds
};

// Throws Error naming the path for a file of no known kind (one line saying what it is not), a
// damaged file of a known kind, or (with check_values) a non-finite value.
FileDescription describe_file(const std::string& path, const DescribeOptions& options = {});

// The description of a store already open (what describe_file gives for its path; its root
// attributes are read again, its features and labels are not).
FileDescription describe_store(const FeatureStore& store, const DescribeOptions& options = {});

// The energy record of a file (EnergyReport JSON) in short: {"kwh", "seconds", "gco2e", "source":
// "measured"|"estimated"|"partly measured"}; null when absent or malformed.
nlohmann::json energy_summary(const nlohmann::json& energy);

}  // namespace subset::io
