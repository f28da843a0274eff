#pragma once
// The machine's physical memory, to refuse before any allocation a request it cannot hold:
// libtorch would otherwise fill it page by page, swapping for minutes, before it fails or the
// kernel kills the process.
#include <unistd.h>

namespace subset {

// Bytes of physical memory, or 0 when the system does not say.
inline double physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? static_cast<double>(pages) * static_cast<double>(page_size) : 0.0;
}

}  // namespace subset
