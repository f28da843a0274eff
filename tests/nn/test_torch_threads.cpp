// Tests for libsubset/nn/torch_threads.h: libtorch follows subset::set_threads().
#include <doctest/doctest.h>

#include <ATen/Parallel.h>

#include <string>

#include "libsubset/core/threads.h"
#include "libsubset/nn/torch_threads.h"

TEST_CASE("after enable_torch_thread_control, set_threads is reflected by libtorch") {
  // Registration applies the current count at once.
  subset::set_threads(2);
  at::set_num_threads(1);
  subset::nn::enable_torch_thread_control();
  CHECK(at::get_num_threads() == 2);

  CHECK(subset::set_threads(1) == 1);
  CHECK(at::get_num_threads() == 1);
  CHECK(subset::describe_thread_settings().find(" torch=1") != std::string::npos);

  CHECK(subset::set_threads(2) == 2);
  CHECK(at::get_num_threads() == 2);
  CHECK(subset::describe_thread_settings().find(" torch=2") != std::string::npos);

  // Idempotent: enabling again keeps a single torch entry.
  subset::nn::enable_torch_thread_control();
  const std::string d = subset::describe_thread_settings();
  CHECK(d.find(" torch=") != std::string::npos);
  CHECK(d.find(" torch=", d.find(" torch=") + 1) == std::string::npos);

  subset::set_threads(1);
  CHECK(at::get_num_threads() == 1);
}
