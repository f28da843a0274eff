#pragma once
// CSV with a header row: every column is a numeric feature except the optional label column,
// whose values may be non-negative integers (used as they are) or text (class names, numbered in
// sorted order).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace subset::io {

struct CsvData {
  std::vector<std::string> feature_names;
  int64_t rows = 0;
  std::vector<float> features;             // rows x feature_names.size(), row-major
  std::optional<std::vector<int64_t>> labels;
  std::vector<std::string> class_names;    // set when the labels were text
};

// Throws Error naming the file, line and column for a non-numeric or missing cell, a row with the
// wrong number of fields, an unknown label column, NaN/Inf, or a file with no data rows.
CsvData read_csv(const std::string& path, const std::optional<std::string>& label_column, char delimiter = ',');

}  // namespace subset::io
