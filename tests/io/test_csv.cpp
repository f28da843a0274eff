// Tests for libsubset/io/csv.h.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/csv.h"
#include "support/files.h"
#include "support/temp_dir.h"

using subset::io::read_csv;
using namespace subset::test;

namespace {
struct Csv {
  TempDir dir;
  int counter = 0;
  std::string put(const std::string& text) {
    const std::string path = dir.file("t" + std::to_string(counter++) + ".csv");
    write_bytes(path, text);
    return path;
  }
};
using Names = std::vector<std::string>;
using Labels = std::vector<int64_t>;
}  // namespace

TEST_CASE("numeric CSV without labels") {
  Csv c;
  const auto d = read_csv(c.put("a,b,c\n1,2.5,-3\n+4,1e-3,0.1\n-0,7,8\n"), std::nullopt);
  CHECK(d.feature_names == Names{"a", "b", "c"});
  CHECK(d.rows == 3);
  CHECK(d.features == std::vector<float>{1.0f, 2.5f, -3.0f, 4.0f, 1e-3f, 0.1f, -0.0f, 7.0f, 8.0f});
  CHECK_FALSE(d.labels.has_value());
  CHECK(d.class_names.empty());
}

TEST_CASE("integer label column is kept as given and removed from the features") {
  Csv c;
  const auto d = read_csv(c.put("x,label,y\n0.5,3,1\n1.5,0,2\n2.5,3,3\n"), std::string("label"));
  CHECK(d.feature_names == Names{"x", "y"});
  CHECK(d.rows == 3);
  CHECK(d.features == std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3});
  REQUIRE(d.labels.has_value());
  CHECK(*d.labels == Labels{3, 0, 3});
  CHECK(d.class_names.empty());
}

TEST_CASE("text labels become class names in sorted order") {
  Csv c;
  const auto d = read_csv(c.put("species,w\ndog,1\ncat,2\nbird,3\ncat,4\ndog,5\n"), std::string("species"));
  CHECK(d.class_names == Names{"bird", "cat", "dog"});
  REQUIRE(d.labels.has_value());
  CHECK(*d.labels == Labels{2, 1, 0, 1, 2});
  CHECK(d.features == std::vector<float>{1, 2, 3, 4, 5});
  // A mix of numbers and words is text throughout: "10" sorts before "2" and "a".
  const auto m = read_csv(c.put("l,v\n2,0\na,0\n10,0\n"), std::string("l"));
  CHECK(m.class_names == Names{"10", "2", "a"});
  CHECK(*m.labels == Labels{1, 2, 0});
}

TEST_CASE("quoting, line endings, BOM, blanks and whitespace") {
  Csv c;
  // RFC 4180 quotes: a delimiter, an escaped quote and a newline inside quoted fields.
  const auto q = read_csv(c.put("\"a,1\",\"say \"\"hi\"\"\",kind\n\"1\",2,\"two\nlines\"\n3,4,plain\n"),
                          std::string("kind"));
  CHECK(q.feature_names == Names{"a,1", "say \"hi\""});
  CHECK(q.features == std::vector<float>{1, 2, 3, 4});
  CHECK(q.class_names == Names{"plain", "two\nlines"});

  const auto crlf = read_csv(c.put("\xEF\xBB\xBFx,y\r\n1,2\r\n\r\n 3 ,\t4\r\n\n"), std::nullopt);
  CHECK(crlf.feature_names == Names{"x", "y"});  // no BOM in the first name
  CHECK(crlf.rows == 2);
  CHECK(crlf.features == std::vector<float>{1, 2, 3, 4});

  const auto no_final_newline = read_csv(c.put("x\n1\n2"), std::nullopt);
  CHECK(no_final_newline.features == std::vector<float>{1, 2});

  const auto semicolons = read_csv(c.put("x;y\n1.5;2\n"), std::nullopt, ';');
  CHECK(semicolons.feature_names == Names{"x", "y"});
  CHECK(semicolons.features == std::vector<float>{1.5f, 2});
  // Read with the default delimiter, "1.5;2" is one non-numeric cell.
  CHECK_THROWS_WITH_AS(read_csv(c.put("x;y\n1.5;2\n"), std::nullopt), doctest::Contains("non-numeric value '1.5;2'"),
                       subset::Error);
}

TEST_CASE("values too small for float32 round towards zero, as numpy does") {
  Csv c;
  const auto data = read_csv(c.put("a,b\n1e-50,-1e-50\n"), std::nullopt);
  CHECK(data.features == std::vector<float>{0.0f, -0.0f});
}

TEST_CASE("CSV errors name the file, the line and the column") {
  Csv c;
  auto expect = [&](const std::string& text, const std::optional<std::string>& label, const std::string& message) {
    const std::string path = c.put(text);
    CAPTURE(message);
    try {
      read_csv(path, label);
      FAIL("accepted");
    } catch (const subset::Error& e) {
      CHECK(e.message() == message);
      CHECK(e.where() == path);
    }
  };
  expect("a,b\n1,2\n3,x\n", std::nullopt, "non-numeric value 'x' at line 3, column 'b'");
  expect("a,b\n1,2\n3,4abc\n", std::nullopt, "non-numeric value '4abc' at line 3, column 'b'");
  expect("a,b\n1,\n", std::nullopt, "empty cell at line 2, column 'b'");
  expect("a,b\n1,2\n3\n", std::nullopt, "line 3 has 1 fields but the header has 2");
  expect("a,b\n1,2,3\n", std::nullopt, "line 2 has 3 fields but the header has 2");
  expect("a,b\nnan,1\n", std::nullopt, "NaN or Inf at line 2, column 'a'");
  expect("a,b\n1,-inf\n", std::nullopt, "NaN or Inf at line 2, column 'b'");
  expect("a,b\n1,1e50\n", std::nullopt, "value '1e50' at line 2, column 'b' is out of float32 range");
  expect("a,b\n1,2\n", std::string("y"), "no column named 'y' in the CSV header");
  expect("label\n1\n", std::string("label"), "CSV has no feature columns besides the label column");
  expect("a,b\n", std::nullopt, "CSV has a header but no data rows");
  expect("a,b\n\n\n", std::nullopt, "CSV has a header but no data rows");
  expect("", std::nullopt, "CSV file is empty (a header row is required)");
  expect("a,l\n1,2\n2,-1\n", std::string("l"), "negative label -1 in data row 1");
  expect("a,l\n1,\n", std::string("l"), "empty label at line 2, column 'l'");
  expect("a,b\n1,\"2\n", std::nullopt, "unterminated quoted field starting at line 2");
  // Line numbers count physical lines, including those inside quoted fields.
  expect("a,l\n1,\"x\ny\"\nz,w\n", std::string("l"), "non-numeric value 'z' at line 4, column 'a'");

  const std::string missing = c.dir.file("missing.csv");
  CHECK_THROWS_WITH_AS(read_csv(missing, std::nullopt), doctest::Contains("no such file"), subset::Error);
}
