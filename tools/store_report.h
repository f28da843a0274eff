#pragma once
// How `subset info` and `subset import` show a store to a person.
#include <cstdint>
#include <ostream>
#include <string>

#include "libsubset/io/describe_file.h"
#include "libsubset/io/store.h"

namespace subset::cli {

// `details`: lines printed after the provenance ones (source, created by, made in).
void print_store_report(const io::StoreInfo& info, std::ostream& out, const std::string& details = "");

// `subset info FILE` for every kind io::describe_file tells: the store report (and what an
// embedding store embeds), a selection, a model, a checkpoint; then the --store verdict and the
// --check-values line, last.
void print_file_report(const io::FileDescription& description, std::ostream& out);

// 47040000 -> "47,040,000".
std::string with_thousands(int64_t value);

}  // namespace subset::cli
