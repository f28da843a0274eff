// k-means (the `kmeans` selection method) on a store's features: prints, per K, the wall time of
// the whole fit (seeding + Lloyd + final assignment + representatives, data already in memory),
// the seeding's share, and the inertia. Used by bench_kmeans.sh next to scikit-learn and FAISS.
//
//   bench_kmeans STORE [--k 100,1000] [--iterations 20] [--init k-means++|random]
//                [--local-trials 0] [--threads 2] [--seed 0] [--repeats 1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"
#include "libsubset/io/store.h"
#include "libsubset/select/kmeans.h"

namespace {

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_kmeans STORE [--k 100,1000] [--iterations 20] [--init k-means++|random]\n"
                 "                    [--local-trials 0] [--threads 2] [--seed 0] [--repeats 1]\n");
    return 2;
  }
  std::vector<int64_t> ks = {100, 1000};
  subset::select::KMeansOptions base;
  int threads = 2, repeats = 1;
  uint64_t seed = 0;
  for (int a = 2; a + 1 < argc; a += 2) {
    const std::string key = argv[a], value = argv[a + 1];
    if (key == "--k") ks = parse_list(value);
    else if (key == "--iterations") base.iterations = std::stoll(value);
    else if (key == "--init") base.init = value == "random" ? subset::select::KMeansInit::Random
                                                            : subset::select::KMeansInit::PlusPlus;
    else if (key == "--local-trials") base.local_trials = std::stoll(value);
    else if (key == "--threads") threads = std::stoi(value);
    else if (key == "--seed") seed = std::stoull(value);
    else if (key == "--repeats") repeats = std::stoi(value);
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  try {
    subset::set_threads(threads);
    const auto store = subset::io::FeatureStore::open(argv[1]);
    const subset::RowMatrixF x = store.features().read_all();
    std::printf("# libsubset kmeans: %lld x %lld, threads %s\n", static_cast<long long>(x.rows()),
                static_cast<long long>(x.cols()), subset::describe_thread_settings().c_str());
    for (int64_t k : ks) {
      for (int r = 0; r < repeats; ++r) {
        subset::select::KMeansOptions o = base;
        o.k = k;
        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        auto t_seed = t0;
        bool seeded = o.init != subset::select::KMeansInit::PlusPlus;
        subset::select::RunContext ctx;
        ctx.seed = seed;
        ctx.progress = [&](int64_t done, int64_t) {
          if (!seeded && done >= k) {
            t_seed = clock::now();
            seeded = true;
          }
        };
        const auto res = subset::select::kmeans_fit(subset::view(x), {}, o, ctx);
        const double s = std::chrono::duration<double>(clock::now() - t0).count();
        const double s_seed = std::chrono::duration<double>(t_seed - t0).count();
        std::printf(
            "ours K=%lld init=%s trials=%lld iterations=%lld seconds=%.3f seeding_seconds=%.3f inertia=%.1f "
            "initial_inertia=%.1f seeding_distances=%.4f lloyd_skipped=%.3f relocated=%lld full_scans=%lld\n",
            static_cast<long long>(k), o.init == subset::select::KMeansInit::Random ? "random" : "k-means++",
            static_cast<long long>(o.init == subset::select::KMeansInit::Random ? 0 : o.trials()),
            static_cast<long long>(res.iterations), s, s_seed, res.inertia, res.initial_inertia,
            res.seeding_distances_brute > 0
                ? static_cast<double>(res.seeding_distances) / static_cast<double>(res.seeding_distances_brute)
                : 0.0,
            static_cast<double>(res.points_skipped) / static_cast<double>(x.rows() * std::max<int64_t>(res.iterations, 1)),
            static_cast<long long>(res.relocated), static_cast<long long>(res.representative_scans));
        std::fflush(stdout);
      }
    }
    return 0;
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
}
