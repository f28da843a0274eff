#pragma once
// Selection files: which rows of a store a method picked, and everything needed to trust and
// reproduce that later (the manifest). Layout (docs/format.md):
//   /indices  int64 [K]    rows of the source store, in the order they were picked
//   /weights  float32 [K]  optional: how many points each selected row stands for
//   /scores   float32 [K]  optional: the score that ranked it
//   attrs on /: format = "subset-selection", format_version = 1, method, params (JSON), seed,
//   budget, per_class, features_dataset, source (path), source_n, source_dim (optional in older
//   files), source_checksum, created_by, stats (JSON), energy (JSON, optional)
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <optional>
#include <vector>

#include "libsubset/io/store.h"

namespace subset::io {

inline constexpr const char* kSelectionFormatName = "subset-selection";

struct SelectionManifest {
  std::string method;
  nlohmann::json params = nlohmann::json::object();
  uint64_t seed = 0;
  int64_t budget = 0;
  bool per_class = false;
  std::string features_dataset = "/features";
  std::string source;            // path of the store it was made from
  int64_t source_n = 0;          // rows of that store
  int64_t source_dim = 0;        // its /features columns; 0 when the file does not record it
  std::string source_checksum;   // features_checksum() of the store's /features
  std::string created_by;
  nlohmann::json stats = nlohmann::json::object();
  // The energy report of the run that made the selection (JSON of energy::EnergyReport), or null
  // when it was not measured; evaluate adds it to the subset's cost.
  nlohmann::json energy = nullptr;
  // Copied from the source store when it is a same-rows store: the selection then also picks the
  // rows of the store it records (same_rows below).
  std::optional<SameRows> same_rows;
  // Set by `select --embedding`: the embedding store the method ran on ({"path", "checksum",
  // "energy"}), while source names the store whose rows it picked; null otherwise.
  nlohmann::json embedding = nullptr;
  // Not stored: the largest of /indices (-1 when empty), set by read_selection so that
  // check_selection_matches (extract.h) can bound the indices by the store they are used on.
  int64_t max_index = -1;
};

struct SelectionFile {
  std::vector<int64_t> indices;
  std::vector<float> weights;  // empty when absent
  std::vector<float> scores;   // empty when absent
  SelectionManifest manifest;
};

// The manifest as JSON, one key per field under the names the file's attributes use (the energy,
// same_rows and embedding records null when absent).
nlohmann::json to_json(const SelectionManifest& manifest);

// Writes atomically (temporary name, rename); refuses an existing path unless force.
void write_selection(const std::string& path, bool force, const SelectionFile& selection);
// Reads and validates: indices unique and >= 0, weights/scores of matching length, source_n >= 0.
// Whether the indices fit a store is for check_selection_matches (extract.h), which first checks
// that the selection was made for that store, so a mismatch is reported as such rather than as an
// index out of range.
SelectionFile read_selection(const std::string& path);

// Whether a selection made on a same-rows store (its manifest's same_rows) picks rows of `store`:
// the recorded row count and feature checksum are `store`'s. The one test that extract, evaluate
// and bench apply (through check_selection_matches, extract.h) besides the direct match.
bool same_rows(const SelectionManifest& manifest, const FeatureStore& store);

}  // namespace subset::io
