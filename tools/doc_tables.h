#pragma once
// The parameter tables of docs/, each generated from its schema (ParamSchema::markdown_table) and
// kept in the docs after a marker line `<!-- parameters: KEY -->`, up to the table's last row.
// `cmake --build build --target doc_tables` rewrites them (tools/doc_tables_main.cpp);
// tests/workflows/test_docs_tables.cpp fails when one differs from its schema. Header-only: the
// tool and the test share it without a library of their own.
#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/condense_settings.h"
#include "libsubset/core/train_settings.h"
#include "libsubset/select/registry.h"
#include "libsubset/transform/registry.h"
#include "libsubset/workflows/al/query.h"
#include "libsubset/workflows/al/simulate.h"
#include "libsubset/workflows/bench.h"
#include "libsubset/workflows/hpo/hpo.h"
#include "libsubset/workflows/embed_job.h"
#include "libsubset/workflows/evaluate.h"

namespace subset::docs {

struct DocTable {
  std::string file;   // under docs/
  std::string key;    // the marker's key: "select/kmeans", "condense", ...
  std::string table;  // as generated
};

// Every schema with parameters and where its table lives. The importance methods share one schema,
// shown once ("select/importance").
inline std::vector<DocTable> doc_tables() {
  std::vector<DocTable> out;
  bool importance = false;
  for (const auto& m : select::methods()) {
    if (m.params.specs().empty() || (m.needs_scores && importance)) continue;
    importance = importance || m.needs_scores;
    out.push_back({"methods/selection.md", m.needs_scores ? "select/importance" : "select/" + m.name,
                   m.params.markdown_table()});
  }
  for (const auto& m : transform::methods())
    if (!m.params.specs().empty())
      out.push_back({"methods/compression.md", "compress/" + m.name, m.params.markdown_table()});
  out.push_back({"cli.md", "condense", condense_schema().schema().markdown_table()});
  out.push_back({"cli.md", "train", train_schema().schema().markdown_table()});
  out.push_back({"cli.md", "evaluate", workflows::evaluate_schema().schema().markdown_table()});
  out.push_back({"cli.md", "bench", workflows::bench_schema().schema().markdown_table()});
  out.push_back({"cli.md", "hpo", workflows::hpo::hpo_schema().schema().markdown_table()});
  out.push_back({"cli.md", "embed", workflows::embed_schema().schema().markdown_table()});
  out.push_back({"cli.md", "al-query", workflows::al::query_schema().schema().markdown_table()});
  out.push_back({"cli.md", "al-round", workflows::al::strategy_options_schema().schema().markdown_table()});
  out.push_back({"cli.md", "al-proxy", workflows::al::al_proxy_schema().markdown_table()});
  out.push_back({"cli.md", "al-simulate", workflows::al::simulate_schema().schema().markdown_table()});
  return out;
}

inline std::string marker(const std::string& key) { return "<!-- parameters: " + key + " -->\n"; }

// Where the table after KEY's marker starts and ends in `text` (the lines that begin with '|'),
// or nullopt without the marker.
inline std::optional<std::pair<size_t, size_t>> table_span(const std::string& text, const std::string& key) {
  const size_t at = text.find(marker(key));
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + marker(key).size();
  size_t end = begin;
  while (end < text.size() && text[end] == '|') {
    const size_t newline = text.find('\n', end);
    end = newline == std::string::npos ? text.size() : newline + 1;
  }
  return std::make_pair(begin, end);
}

inline std::optional<std::string> table_in(const std::string& text, const std::string& key) {
  const auto span = table_span(text, key);
  if (!span) return std::nullopt;
  return text.substr(span->first, span->second - span->first);
}

// `text` with the table after KEY's marker replaced by `table`; unchanged without the marker.
inline std::string with_table(std::string text, const std::string& key, const std::string& table) {
  if (const auto span = table_span(text, key)) text.replace(span->first, span->second - span->first, table);
  return text;
}

}  // namespace subset::docs
