// `doc_tables SOURCE_DIR`: rewrites every generated parameter table in SOURCE_DIR/docs from its
// schema (tools/doc_tables.h). Fails, naming it, when a table's marker is missing.
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/doc_tables.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: doc_tables SOURCE_DIR\n";
    return 2;
  }
  int missing = 0;
  for (const auto& t : subset::docs::doc_tables()) {
    const std::string path = std::string(argv[1]) + "/docs/" + t.file;
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    if (!subset::docs::table_in(text, t.key)) {
      std::cerr << "error: no marker " << subset::docs::marker(t.key).substr(0, subset::docs::marker(t.key).size() - 1)
                << " in " << path << "\n";
      ++missing;
      continue;
    }
    const std::string updated = subset::docs::with_table(text, t.key, t.table);
    if (updated == text) continue;
    std::ofstream(path, std::ios::binary) << updated;
    std::cout << "updated " << t.key << " in " << path << "\n";
  }
  return missing ? 1 : 0;
}
