// Every parameter table in docs/ is the one its schema generates (tools/doc_tables.h): the test
// walks every registered selection method and transform and the schemas of condensation, the proxy
// model, evaluate and bench, so that a parameter added, renamed or re-ranged without regenerating
// the docs (`cmake --build build --target doc_tables`) fails here.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/files.h"
#include "tools/doc_tables.h"

namespace {

std::string doc(const std::string& relative) {
  return subset::test::read_bytes(std::string(SUBSET_SOURCE_DIR) + "/docs/" + relative);
}

// The text from the heading "## `name`" to the next "## " heading; empty without the heading.
std::string section(const std::string& text, const std::string& name) {
  const size_t start = text.find("## `" + name + "`");
  if (start == std::string::npos) return {};
  const size_t end = text.find("\n## ", start + 1);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

TEST_CASE("docs tables: every generated table in docs/ is its schema's, as declared") {
  const auto tables = subset::docs::doc_tables();
  for (const auto& t : tables) {
    CAPTURE(t.key);
    const auto shown = subset::docs::table_in(doc(t.file), t.key);
    REQUIRE_MESSAGE(shown, "no marker for " << t.key << " in docs/" << t.file);
    INFO("generated from the schema:\n" << t.table);
    CHECK(*shown == t.table);
  }
}

TEST_CASE("docs tables: every method has its section, and its table sits in it") {
  const std::string selection = doc("methods/selection.md");
  for (const auto& m : subset::select::methods()) {
    CAPTURE(m.name);
    const std::string own = section(selection, m.name);
    CHECK(!own.empty());
    // The importance methods share one table, under "Importance coresets".
    if (!m.params.specs().empty() && !m.needs_scores)
      CHECK(own.find(subset::docs::marker("select/" + m.name)) != std::string::npos);
  }
  const std::string compression = doc("methods/compression.md");
  for (const auto& m : subset::transform::methods()) {
    CAPTURE(m.name);
    const std::string own = section(compression, m.name);
    CHECK(!own.empty());
    if (!m.params.specs().empty()) CHECK(own.find(subset::docs::marker("compress/" + m.name)) != std::string::npos);
  }
}

TEST_CASE("docs tables: a marker's table is replaced up to its last row, and nothing else") {
  const std::string text = "intro\n<!-- parameters: x -->\n| a |\n|---|\n| old |\n\nafter\n";
  CHECK(subset::docs::table_in(text, "x") == std::string("| a |\n|---|\n| old |\n"));
  CHECK(subset::docs::with_table(text, "x", "| new |\n") == "intro\n<!-- parameters: x -->\n| new |\n\nafter\n");
  CHECK_FALSE(subset::docs::table_in(text, "y"));
  CHECK(subset::docs::with_table(text, "y", "| new |\n") == text);
}
