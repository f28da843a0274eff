#pragma once
// What the linked BLAS is, and so what linalg's products promise (product.h).
#include <string>

#include "libsubset/linalg/blas_config.h"

namespace subset::linalg {

struct BlasInfo {
  std::string name;             // "openblas" where its thread control is found, else "unknown"
  std::string config;           // OpenBLAS's build description (openblas_get_config), or ""
  int int_bytes = 0;            // the Fortran INTEGER width measured at configure time
  bool thread_control = false;  // BlasSingleThread can pin it to one thread
  // "The same bits at any thread count" holds for BLAS products only with thread control.
  bool same_bits_any_threads() const { return thread_control; }
  // One line for stats (`blas`): "openblas", or "unknown (no thread control: products may differ
  // across thread counts)".
  std::string summary() const;
};

// Looked up on every call (cheap): tests replace the thread control
// (override_blas_thread_control_for_testing in core/threads.h).
BlasInfo blas_info();

}  // namespace subset::linalg
