// The condensation ConvNet's features (nn/internal/network.h) on a DM-sized real batch: seconds of
// the plain autograd-free forward (embed() under NoGradGuard) against the fused embed_inference(),
// best of --repeats, at each thread count, and the largest absolute difference between the two.
//
//   bench_network [--images 2560] [--channels 1] [--size 28] [--threads 1,2] [--repeats 3] [--seed 0]
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/from_blob.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/network.h"

namespace {

namespace in = subset::nn::internal;

template <typename F>
double best_seconds(int repeats, F&& f) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t images = 2560, channels = 1, size = 28;
  int repeats = 3;
  uint64_t seed = 0;
  std::vector<int> threads{1, 2};
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string key = argv[a], value = argv[a + 1];
    if (key == "--images") images = std::stoll(value);
    else if (key == "--channels") channels = std::stoll(value);
    else if (key == "--size") size = std::stoll(value);
    else if (key == "--repeats") repeats = std::stoi(value);
    else if (key == "--seed") seed = std::stoull(value);
    else if (key == "--threads") {
      threads.clear();
      std::stringstream list(value);
      for (std::string item; std::getline(list, item, ',');) threads.push_back(std::stoi(item));
    } else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  try {
    const in::InputShape shape{channels, size, size};
    const in::Network net = in::make_network(in::NetKind::ConvNet, shape, 10, seed, c10::Device(c10::kCPU));
    std::vector<float> values(static_cast<size_t>(images * shape.dim()));
    subset::Rng rng(seed + 1);
    for (auto& v : values) v = static_cast<float>(rng.normal());
    const at::Tensor x =
        at::from_blob(values.data(), {images, channels, size, size}, at::TensorOptions().dtype(at::kFloat)).clone();
    std::printf("images %lld of %lldx%lldx%lld, feature_dim %lld, best of %d\n", static_cast<long long>(images),
                static_cast<long long>(channels), static_cast<long long>(size), static_cast<long long>(size),
                static_cast<long long>(net.feature_dim()), repeats);
    for (int t : threads) {
      at::set_num_threads(t);
      at::Tensor plain, fused;
      const double s_plain = best_seconds(repeats, [&] {
        at::NoGradGuard no_grad;
        plain = net.embed(x);
      });
      const double s_fused = best_seconds(repeats, [&] { fused = net.embed_inference(x); });
      const double diff = (plain - fused).abs().max().item<double>();
      const double scale = plain.abs().max().item<double>();
      std::printf("threads %d: embed %.3f s, embed_inference %.3f s (x%.1f), max abs diff %.3g (max abs %.3g)\n", t,
                  s_plain, s_fused, s_plain / s_fused, diff, scale);
    }
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
  return 0;
}
