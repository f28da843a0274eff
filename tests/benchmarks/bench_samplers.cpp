// random, balanced and stratified on 10^8 virtual indices (no features are read): prints the wall
// time of each selection. Labels are 10 classes drawn at random, so class sizes differ slightly.
// Usage: bench_samplers [N] [FRACTION]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/registry.h"

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 100000000;
  const double fraction = argc > 2 ? std::atof(argv[2]) : 0.1;
  try {
    std::vector<int64_t> labels(static_cast<size_t>(n));
    subset::Rng rng(1);
    for (auto& l : labels) l = static_cast<int64_t>(rng.uniform_index(10));
    for (const char* name : {"random", "balanced", "stratified"}) {
      for (double f : {0.001, fraction}) {
        subset::select::SelectionRequest r;
        r.n = n;
        r.labels = &labels;
        r.budget = static_cast<int64_t>(f * static_cast<double>(n));
        const auto& spec = subset::select::method(name);
        const auto selector = subset::select::make_selector(name, spec.params.resolve({}));
        const auto t0 = std::chrono::steady_clock::now();
        subset::select::validate_request(spec, r);
        const auto sel = selector->select(r, {7, {}});
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%-10s n=%lld k=%lld: %.3f s (%zu picked)\n", name, static_cast<long long>(n),
                    static_cast<long long>(r.budget), s, sel.indices.size());
      }
    }
    return 0;
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
}
