#include "libsubset/linalg/blas_info.h"

#include <dlfcn.h>

#include "libsubset/core/threads.h"

namespace subset::linalg {

std::string BlasInfo::summary() const {
  return thread_control ? name : name + " (no thread control: products may differ across thread counts)";
}

BlasInfo blas_info() {
  BlasInfo info;
  info.int_bytes = SUBSET_BLAS_INT_BYTES;
  info.thread_control = blas_thread_control().set != nullptr;
  info.name = info.thread_control ? "openblas" : "unknown";
  if (info.thread_control)
    if (auto config = reinterpret_cast<const char* (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
      info.config = config();
  return info;
}

}  // namespace subset::linalg
