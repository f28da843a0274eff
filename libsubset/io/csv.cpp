#include "libsubset/io/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

#include "libsubset/core/error.h"
#include "libsubset/io/input_file.h"

namespace subset::io {
namespace {

std::string read_whole(const std::string& path) {
  InputFile in(path);
  std::string text;
  if (in.size() > 0) text.reserve(static_cast<size_t>(in.size()));
  char buf[1 << 16];
  while (const size_t got = in.read_some(buf, sizeof buf)) text.append(buf, got);
  return text;
}

// Splits one record starting at `pos` (RFC 4180 quoting: "a ""b""" and embedded newlines).
// Advances pos past the record's line break; `line` counts physical lines consumed.
std::vector<std::string> next_record(const std::string& text, size_t& pos, char delim, int64_t& line,
                                     const std::string& path) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  const int64_t start_line = line;
  while (pos < text.size()) {
    const char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          field.push_back('"');
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == delim) {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
      ++line;
      fields.push_back(std::move(field));
      return fields;
    } else {
      field.push_back(c);
    }
  }
  SUBSET_CHECK(!quoted, path, "unterminated quoted field starting at line " << start_line);
  ++line;
  fields.push_back(std::move(field));
  return fields;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool blank(const std::vector<std::string>& record) {
  return record.size() == 1 && trim(record[0]).empty();
}

}  // namespace

CsvData read_csv(const std::string& path, const std::optional<std::string>& label_column, char delimiter) {
  const std::string text = read_whole(path);
  size_t pos = 0;
  int64_t line = 1;
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // UTF-8 byte order mark
  SUBSET_CHECK(pos < text.size(), path, "CSV file is empty (a header row is required)");
  std::vector<std::string> header = next_record(text, pos, delimiter, line, path);
  for (auto& h : header) h = trim(h);

  int label_index = -1;
  if (label_column) {
    const auto it = std::find(header.begin(), header.end(), *label_column);
    SUBSET_CHECK(it != header.end(), path, "no column named '" << *label_column << "' in the CSV header");
    label_index = static_cast<int>(it - header.begin());
  }
  CsvData out;
  for (size_t i = 0; i < header.size(); ++i)
    if (static_cast<int>(i) != label_index) out.feature_names.push_back(header[i]);
  SUBSET_CHECK(!out.feature_names.empty(), path, "CSV has no feature columns besides the label column");

  std::vector<std::string> label_text;
  while (pos < text.size()) {
    const int64_t record_line = line;
    auto record = next_record(text, pos, delimiter, line, path);
    if (blank(record)) continue;
    SUBSET_CHECK(record.size() == header.size(), path,
                 "line " << record_line << " has " << record.size() << " fields but the header has " << header.size());
    for (size_t i = 0; i < record.size(); ++i) {
      const std::string cell = trim(record[i]);
      if (static_cast<int>(i) == label_index) {
        SUBSET_CHECK(!cell.empty(), path, "empty label at line " << record_line << ", column '" << header[i] << "'");
        label_text.push_back(cell);
        continue;
      }
      float v = 0.0f;
      const char* b = cell.data();
      const char* e = b + cell.size();
      if (b != e && *b == '+') ++b;
      auto [ptr, ec] = std::from_chars(b, e, v);
      SUBSET_CHECK(!cell.empty(), path, "empty cell at line " << record_line << ", column '" << header[i] << "'");
      if (ec == std::errc::result_out_of_range && ptr == e) {
        // Too small for float32 rounds towards zero, as numpy does; too large is an error. strtod, as
        // from_chars leaves its output untouched when the value is out of double's range too (1e999
        // was read as 0); strtod gives HUGE_VAL there and 0 on underflow.
        const double wide = std::strtod(cell.c_str(), nullptr);
        SUBSET_CHECK(std::fabs(wide) <= std::numeric_limits<float>::max(), path,
                     "value '" << cell << "' at line " << record_line << ", column '" << header[i]
                               << "' is out of float32 range");
        v = static_cast<float>(wide);
        ec = std::errc();
      }
      SUBSET_CHECK(ec == std::errc() && ptr == e, path,
                   "non-numeric value '" << cell << "' at line " << record_line << ", column '" << header[i] << "'");
      SUBSET_CHECK(std::isfinite(v), path,
                   "NaN or Inf at line " << record_line << ", column '" << header[i] << "'");
      out.features.push_back(v);
    }
    ++out.rows;
  }
  SUBSET_CHECK(out.rows > 0, path, "CSV has a header but no data rows");

  if (label_index >= 0) {
    // Integer labels are kept as given; any other text becomes class names in sorted order.
    std::vector<int64_t> labels;
    bool integral = true;
    for (const auto& t : label_text) {
      int64_t v = 0;
      const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      // A number too large for int64 is a bad class id, not a class name.
      SUBSET_CHECK(!(ec == std::errc::result_out_of_range && ptr == t.data() + t.size()), path,
                   "label " << t << " in data row " << labels.size() << " is not a class id (outside the int64 range)");
      if (ec != std::errc() || ptr != t.data() + t.size()) {
        integral = false;
        break;
      }
      labels.push_back(v);
    }
    if (integral) {
      for (size_t r = 0; r < labels.size(); ++r)
        SUBSET_CHECK(labels[r] >= 0, path, "negative label " << labels[r] << " in data row " << r);
    } else {
      std::map<std::string, int64_t> ids;
      for (const auto& t : label_text) ids.emplace(t, 0);
      int64_t next = 0;
      for (auto& [name, id] : ids) {
        id = next++;
        out.class_names.push_back(name);
      }
      labels.clear();
      for (const auto& t : label_text) labels.push_back(ids[t]);
    }
    out.labels = std::move(labels);
  }
  return out;
}

}  // namespace subset::io
