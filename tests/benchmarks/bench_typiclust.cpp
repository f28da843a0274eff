// typiclust (the selection method) on a store's features: prints the wall time of the whole
// selection (k-means into budget clusters, then typicality within each cluster through FAISS), of
// its k-means alone with the same settings, and of the exact k-NN graph (knn.h, k = 20) on the
// first N rows for each N of --knn. Used by bench_typiclust.sh next to scikit-learn.
//
//   bench_typiclust STORE [--budget 6000] [--iterations 20] [--neighbours 20] [--seeding auto]
//                   [--threads 2] [--seed 0] [--knn 10000,60000]
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"
#include "libsubset/io/store.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/knn.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/typiclust.h"

namespace {

using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_typiclust STORE [--budget 6000] [--iterations 20] [--neighbours 20]\n"
                         "                       [--seeding auto] [--threads 2] [--seed 0] [--knn 10000,60000]\n");
    return 2;
  }
  std::string budget = "6000", iterations = "20", neighbours = "20", seeding = "auto", knn_sizes;
  int threads = 2;
  uint64_t seed = 0;
  for (int a = 2; a + 1 < argc; a += 2) {
    const std::string key = argv[a], value = argv[a + 1];
    if (key == "--budget") budget = value;
    else if (key == "--iterations") iterations = value;
    else if (key == "--neighbours") neighbours = value;
    else if (key == "--seeding") seeding = value;
    else if (key == "--threads") threads = std::stoi(value);
    else if (key == "--seed") seed = std::stoull(value);
    else if (key == "--knn") knn_sizes = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  try {
    subset::set_threads(threads);
    const auto store = subset::io::FeatureStore::open(argv[1]);
    const subset::RowMatrixF x = store.features().read_all();
    const int64_t n = x.rows(), d = x.cols();
    std::printf("# libsubset typiclust: %lld x %lld, threads %s\n", static_cast<long long>(n),
                static_cast<long long>(d), subset::describe_thread_settings().c_str());
    namespace sel = subset::select;
    sel::SelectionRequest r;
    r.n = n;
    r.features = x.data();
    r.dim = d;
    r.budget = std::stoll(budget);
    const auto& spec = sel::method("typiclust");
    const auto selector =
        sel::make_selector("typiclust", spec.params.resolve(
                                       {{"iterations", iterations}, {"neighbours", neighbours}, {"seeding", seeding}}));
    sel::validate_request(spec, r);
    auto t0 = clock_type::now();
    const sel::Selection s = selector->select(r, sel::RunContext{seed, {}});
    const double total = since(t0);
    sel::KMeansOptions o;
    o.k = r.budget;
    o.iterations = std::stoll(iterations);
    o.local_trials = seeding == "greedy" || (seeding == "auto" && o.k <= sel::kTypiclustGreedyUpTo) ? 0 : 1;
    t0 = clock_type::now();
    const auto km = sel::kmeans_fit(r.feature_view(), {}, o, sel::RunContext{seed, {}});
    const double kmeans = since(t0);
    std::printf("ours D=%lld budget=%lld seconds=%.3f kmeans_seconds=%.3f iterations=%lld inertia=%.1f picks=%zu\n",
                static_cast<long long>(d), static_cast<long long>(r.budget), total, kmeans,
                static_cast<long long>(km.iterations), km.inertia, s.indices.size());
    std::stringstream sizes(knn_sizes);
    for (std::string item; std::getline(sizes, item, ',');) {
      const int64_t m = std::min<int64_t>(std::stoll(item), n);
      t0 = clock_type::now();
      const sel::KnnGraph g = sel::knn(x.data(), m, d, 20, {sel::KnnSearch::Exact});
      std::printf("knn D=%lld N=%lld k=20 seconds=%.3f rescans=%lld\n", static_cast<long long>(d),
                  static_cast<long long>(m), since(t0), static_cast<long long>(g.rescans));
    }
    std::fflush(stdout);
    return 0;
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
}
