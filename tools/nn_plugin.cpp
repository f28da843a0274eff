#include "tools/nn_plugin.h"

#include <dlfcn.h>

#include "libsubset/core/error.h"
#ifdef SUBSET_NN_WORKFLOWS_LIBRARY
#include "libsubset/workflows/nn_abi.h"
#endif

namespace subset::cli {

const workflows::NnWorkflows& nn_workflows() {
#ifndef SUBSET_NN_WORKFLOWS_LIBRARY
  SUBSET_FAIL("subset", "this build has no libtorch: configure with -DSUBSET_WITH_TORCH=ON to train models");
#else
  static const workflows::NnWorkflows* table = [] {
    // By file name: the dynamic loader searches this executable's RUNPATH, which points at the
    // build tree's libraries or at the installed lib directory.
    // RTLD_LOCAL: nothing needs this library's symbols (or libtorch's) in the global scope. The
    // libsubset libraries it shares with this executable (the registries its providers go into,
    // subset::Error's typeinfo) are already loaded globally and bound to, and libtorch resolves its
    // own operator registrations through its own dependencies; nn's dlsym(RTLD_DEFAULT, ...) lookups
    // (dnnl_sgemm, omp_*) search the calling library's scope, which holds libtorch's dependencies.
    // Measured: the evaluate, bench, condense, importance and compress CLI tests pass with RTLD_LOCAL
    // as with RTLD_GLOBAL, and LD_DEBUG=bindings shows dnnl_sgemm still bound to libdnnl.
    void* handle = dlopen(SUBSET_NN_WORKFLOWS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    SUBSET_CHECK(handle, SUBSET_NN_WORKFLOWS_LIBRARY, "cannot load the model-training library: " << dlerror());
    using Key = const char* (*)();
    using Entry = const workflows::NnWorkflows* (*)();
    auto key = reinterpret_cast<Key>(dlsym(handle, workflows::kNnWorkflowsAbiSymbol));
    auto entry = reinterpret_cast<Entry>(dlsym(handle, workflows::kNnWorkflowsSymbol));
    SUBSET_CHECK(key && entry, SUBSET_NN_WORKFLOWS_LIBRARY, "is not a libsubset model-training library");
    // Before the table is read: its layout is what the key vouches for.
    check_nn_abi(key(), workflows::kNnWorkflowsAbiKey, SUBSET_NN_WORKFLOWS_LIBRARY);
    const workflows::NnWorkflows* t = entry();
    SUBSET_CHECK(t, SUBSET_NN_WORKFLOWS_LIBRARY, "is not a libsubset model-training library");
    t->install_providers();
    return t;
  }();
  return *table;
#endif
}

}  // namespace subset::cli
