#include "tools/nn_plugin.h"

#include <dlfcn.h>

#include "libsubset/core/error.h"

namespace subset::cli {

const workflows::NnWorkflows& nn_workflows() {
#ifndef SUBSET_NN_WORKFLOWS_LIBRARY
  SUBSET_FAIL("subset", "this build has no libtorch: configure with -DSUBSET_WITH_TORCH=ON to train models");
#else
  static const workflows::NnWorkflows* table = [] {
    // By file name: the dynamic loader searches this executable's RUNPATH, which points at the
    // build tree's libraries or at the installed lib directory.
    void* handle = dlopen(SUBSET_NN_WORKFLOWS_LIBRARY, RTLD_NOW | RTLD_GLOBAL);
    SUBSET_CHECK(handle, SUBSET_NN_WORKFLOWS_LIBRARY, "cannot load the model-training library: " << dlerror());
    using Entry = const workflows::NnWorkflows* (*)();
    auto entry = reinterpret_cast<Entry>(dlsym(handle, workflows::kNnWorkflowsSymbol));
    SUBSET_CHECK(entry, SUBSET_NN_WORKFLOWS_LIBRARY, "is not a libsubset model-training library");
    const workflows::NnWorkflows* t = entry();
    SUBSET_CHECK(t && t->abi_version == workflows::kNnWorkflowsAbi, SUBSET_NN_WORKFLOWS_LIBRARY,
                 "belongs to another libsubset version");
    return t;
  }();
  return *table;
#endif
}

}  // namespace subset::cli
