#pragma once
// Loads libsubset_workflows_nn (and with it libtorch) on first use; see workflows/nn_entry.h.
#include <cstring>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/workflows/nn_entry.h"

namespace subset::cli {

// Throws subset::Error when this build has no libtorch or the library cannot be loaded, is not ours,
// or was built from other headers or by another toolchain than this program (its ABI key differs).
// Installs the library's providers before it returns.
const workflows::NnWorkflows& nn_workflows();

namespace detail {
// A key is 64 hex digits, then "/cxx11abi=N": the first 12 and the std::string ABI tell them apart.
inline std::string short_abi_key(const char* key) {
  if (!key) return "(none)";
  const std::string k(key);
  return k.size() > 64 ? k.substr(0, 12) + k.substr(64) : k;
}
}  // namespace detail

// The loader's ABI check (inline so that the nn tests exercise this very code): throws subset::Error
// (where = `library`) naming both keys unless `library_key` (null: none) equals `expected_key`.
inline void check_nn_abi(const char* library_key, const char* expected_key, const std::string& library) {
  SUBSET_CHECK(library_key && std::strcmp(library_key, expected_key) == 0, library,
               "was built from other libsubset headers or by another toolchain than this program (ABI key "
                   << detail::short_abi_key(library_key) << ", this program expects "
                   << detail::short_abi_key(expected_key) << "): rebuild or reinstall both");
}

}  // namespace subset::cli
