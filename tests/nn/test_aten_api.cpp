// libsubset/nn uses libtorch's public API only (issue 13): no ATen/c10 `detail` internals, whose
// names and behaviour change between releases; and the CUDA checks of parse_device (classifier.h)
// that replaced the CUDA hooks.

// libtorch first, then doctest (support/torch_doctest.h).
#include <ATen/Context.h>
#include <torch/cuda.h>
#include "support/torch_doctest.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/nn/internal/classifier.h"
#include "support/error_of.h"

namespace {

// libsubset/nn of this source tree: this file is tests/nn/test_aten_api.cpp.
std::filesystem::path nn_sources() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "libsubset" / "nn";
}

}  // namespace

TEST_CASE("aten api: libsubset/nn names no detail namespace of ATen or c10") {
  const std::filesystem::path root = nn_sources();
  REQUIRE(std::filesystem::is_directory(root));
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".cpp" && ext != ".h") continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    for (const std::string internal : {"at::detail::", "c10::detail::", "torch::detail::", "ATen/detail/"}) {
      CAPTURE(entry.path().string());
      CHECK(text.str().find(internal) == std::string::npos);
    }
  }
  CHECK(files > 10);
}

TEST_CASE("aten api: a CUDA device is refused with the reason, build or GPU") {
  if (torch::cuda::is_available()) return;  // a CUDA build with a GPU accepts it
  const subset::Error e = subset::test::error_of([] { subset::nn::internal::parse_device("cuda:0"); });
  CHECK(e.where() == "device");
  const bool built = at::Context::hasCUDART();
  CHECK(e.message().find(built ? "no CUDA GPU is visible" : "this libtorch build has no CUDA") != std::string::npos);
}
