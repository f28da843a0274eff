#pragma once
// How `subset info` and `subset import` show a store to a person.
#include <ostream>

#include "libsubset/io/store.h"

namespace subset::cli {

void print_store_report(const io::StoreInfo& info, std::ostream& out);

}  // namespace subset::cli
