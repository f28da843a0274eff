// The extension module `libsubset._native`: thin bindings of the library's workflow calls. The
// package around it (tools/python/libsubset/) gives them their Python shape.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "errors.h"
#include "libsubset/core/version.h"
#ifdef SUBSET_PYTHON_WITH_TORCH
#include "libsubset/workflows/nn_entry.h"
#endif

PYBIND11_MODULE(_native, m) {
  m.doc() = "libsubset's C++ core (use the libsubset package, not this module)";
  m.attr("version") = subset::kVersion;
#ifdef SUBSET_PYTHON_WITH_TORCH
  // The autoencoder and the importance scores come from libsubset_workflows_nn (nn_entry.h).
  subset::workflows::install_nn_providers();
  m.attr("with_torch") = true;
#else
  m.attr("with_torch") = false;
#endif
  subset::python::register_error_translation();
  subset::python::bind_select(m);
  subset::python::bind_transform(m);
  subset::python::bind_store(m);
  subset::python::bind_energy(m);
  subset::python::bind_nn(m);
}
