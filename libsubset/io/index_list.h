#pragma once
// Plain index lists for tools outside the HDF5 world: FILE.txt (one index per line) or FILE.npy
// (1-D int64, np.load reads it). Written atomically, like every output.
#include <cstdint>
#include <string>
#include <vector>

namespace subset::io {

// Throws Error for another extension, an existing file without force, or an unwritable directory.
void check_index_list_path(const std::string& path, bool force);
void write_index_list(const std::string& path, bool force, const std::vector<int64_t>& indices);

}  // namespace subset::io
