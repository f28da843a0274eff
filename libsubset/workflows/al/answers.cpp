#include "libsubset/workflows/al/answers.h"

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "libsubset/core/error.h"
#include "libsubset/io/input_file.h"

namespace subset::workflows::al {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// Fields of one line, each trimmed; a field in double quotes (as spreadsheets write a name holding a
// comma or a quote) is unquoted, `""` inside it standing for one quote. Empty when a quote is not
// closed.
std::optional<std::vector<std::string>> split_fields(const std::string& line) {
  std::vector<std::string> out;
  size_t at = 0;
  for (;;) {
    const size_t b = line.find_first_not_of(" \t", at);
    if (b != std::string::npos && line[b] == '"') {
      std::string field;
      size_t i = b + 1;
      for (;; ++i) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] != '"') field += line[i];
        else if (i + 1 < line.size() && line[i + 1] == '"') field += line[++i];
        else break;
      }
      const size_t comma = line.find(',', i + 1);
      if (!trim(line.substr(i + 1, comma == std::string::npos ? std::string::npos : comma - i - 1)).empty())
        return std::nullopt;  // text after the closing quote
      out.push_back(field);
      if (comma == std::string::npos) return out;
      at = comma + 1;
      continue;
    }
    const size_t comma = line.find(',', at);
    out.push_back(trim(line.substr(at, comma == std::string::npos ? std::string::npos : comma - at)));
    if (comma == std::string::npos) return out;
    at = comma + 1;
  }
}

bool integer_text(const std::string& s) {
  const size_t digits = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  return s.size() > digits && s.find_first_not_of("0123456789", digits) == std::string::npos;
}

// A whole number in [0, 2^63), or -1.
int64_t whole_number(const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return -1;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), nullptr, 10);
  return errno == ERANGE ? -1 : static_cast<int64_t>(v);
}

int64_t class_id(const std::string& label, const std::vector<std::string>& names, const std::string& where) {
  for (size_t c = 0; c < names.size(); ++c)
    if (names[c] == label) return static_cast<int64_t>(c);
  const int64_t id = whole_number(label);
  // Any integer (negative, or past 2^63) is meant as an id: say which ids there are.
  SUBSET_CHECK(id >= 0 || !integer_text(label), where,
               "label " << label << " is not a class id (0 to " << names.size() - 1 << ")");
  if (id >= 0) {
    SUBSET_CHECK(id < static_cast<int64_t>(names.size()), where,
                 "label " << label << " is not a class id (0 to " << names.size() - 1 << ")");
    return id;
  }
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  SUBSET_FAIL(where, "unknown class '" << label << "' (the project's classes: " << known << ")");
}

std::string read_text(const std::string& path) {
  io::InputFile in(path);
  std::string text;
  char buf[1 << 16];
  for (size_t n; (n = in.read_some(buf, sizeof buf)) > 0;) text.append(buf, n);
  return text;
}

}  // namespace

AnswerBatch read_answers(const std::string& path, const std::vector<std::string>& class_names,
                         const std::string& source) {
  const std::string text = read_text(path);
  AnswerBatch batch;
  batch.file = path;
  // Spreadsheets save "CSV UTF-8" with a byte-order mark, which would make the header a data line.
  size_t start = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  bool first = true;
  for (int64_t line_no = 1; start < text.size(); ++line_no) {
    const size_t end = text.find('\n', start);
    const std::string line = trim(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    start = end == std::string::npos ? text.size() : end + 1;
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    const std::optional<std::vector<std::string>> fields = split_fields(line);
    SUBSET_CHECK(fields, where, "a quoted field is not closed (or text follows its closing quote): '" << line << "'");
    const std::vector<std::string>& f = *fields;
    const bool header_line = first && f[0] == "row";
    first = false;
    if (header_line) {
      const bool header = f.size() >= 2 && f[1] == "label" && (f.size() == 2 || (f.size() == 3 && f[2] == "source"));
      SUBSET_CHECK(header, where, "the header must be 'row,label' or 'row,label,source', got '" << line << "'");
      continue;
    }
    SUBSET_CHECK(f.size() == 2 || f.size() == 3, where,
                 "expected 'row,label' or 'row,label,source', got " << f.size() << " fields: '" << line << "'");
    Answer a;
    a.row = whole_number(f[0]);
    SUBSET_CHECK(a.row >= 0 || f[0].empty() || f[0].find_first_not_of("0123456789") != std::string::npos, where,
                 "row " << f[0] << " is not a row of the pool (far too large)");
    SUBSET_CHECK(a.row >= 0, where, "row '" << f[0] << "' is not a row number (a whole number >= 0)");
    SUBSET_CHECK(!f[1].empty(), where, "row " << a.row << " has an empty label");
    a.label = class_id(f[1], class_names, where);
    a.source = f.size() == 3 && !f[2].empty() ? f[2] : source;
    batch.answers.push_back(std::move(a));
    batch.lines.push_back(line_no);
  }
  SUBSET_CHECK(!batch.answers.empty(), path, "no answers in the file (expected 'row,label' lines)");
  return batch;
}

AnswerBatch make_answers(const std::vector<int64_t>& rows, const std::vector<std::string>& labels,
                         const std::vector<std::string>& class_names, const std::string& source) {
  SUBSET_CHECK(rows.size() == labels.size(), "answers",
               "one label per row: " << rows.size() << " rows, " << labels.size() << " labels");
  SUBSET_CHECK(!rows.empty(), "answers", "no answers given");
  AnswerBatch batch;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string where = "answer " + std::to_string(i);
    SUBSET_CHECK(rows[i] >= 0, where, "row " << rows[i] << " is not a row number (a whole number >= 0)");
    SUBSET_CHECK(!labels[i].empty(), where, "row " << rows[i] << " has an empty label");
    batch.answers.push_back({rows[i], class_id(labels[i], class_names, where), source});
  }
  return batch;
}

}  // namespace subset::workflows::al
