// Times the geometric selectors (kcenter, herding) on a store's /features and prints measured
// figures: wall time of select() (data already in memory), quality (covering radius, mean gap),
// the share of point updates the pruning skipped, and peak RSS against the feature matrix.
// Optionally writes the picks (one index per line) so that bench_select_geometry.sh can compare
// them with the numpy brute force run on the same data.
//
// usage: bench_select_geometry STORE [--kcenter K1,K2,...] [--herding K1,...] [--repeats R]
//                              [--init-index I] [--seed S] [--threads T] [--picks-dir DIR]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"
#include "libsubset/io/store.h"
#include "libsubset/select/registry.h"

namespace {

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(std::stoll(item));
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_select_geometry STORE [--kcenter K,...] [--herding K,...] [--repeats R]\n"
                 "       [--init-index I] [--seed S] [--threads T] [--picks-dir DIR]\n");
    return 2;
  }
  std::vector<int64_t> kcenter_ks{600, 6000}, herding_ks{600};
  int repeats = 3, threads = 0;
  int64_t init_index = 0;
  uint64_t seed = 0;
  std::string picks_dir;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string opt = argv[i], val = argv[i + 1];
    if (opt == "--kcenter")
      kcenter_ks = parse_list(val);
    else if (opt == "--herding")
      herding_ks = parse_list(val);
    else if (opt == "--repeats")
      repeats = std::max(1, std::atoi(val.c_str()));
    else if (opt == "--init-index")
      init_index = std::stoll(val);
    else if (opt == "--seed")
      seed = std::stoull(val);
    else if (opt == "--threads")
      threads = std::atoi(val.c_str());
    else if (opt == "--picks-dir")
      picks_dir = val;
    else {
      std::fprintf(stderr, "unknown option %s\n", opt.c_str());
      return 2;
    }
  }
  try {
    subset::set_threads(threads);
    const auto store = subset::io::FeatureStore::open(argv[1]);
    const auto t0 = std::chrono::steady_clock::now();
    const subset::RowMatrixF x = store.features().read_all();
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double matrix_mb = static_cast<double>(x.size()) * 4.0 / (1024.0 * 1024.0);
    std::printf("# %s: %lld x %lld float32 (%.1f MiB), loaded in %.3f s; threads: %s\n", argv[1],
                static_cast<long long>(x.rows()), static_cast<long long>(x.cols()), matrix_mb, load_s,
                subset::describe_thread_settings().c_str());
    std::printf("# peak RSS after loading: %.1f MiB (%.2fx the matrix)\n", peak_rss_mb(), peak_rss_mb() / matrix_mb);

    auto run = [&](const std::string& method, int64_t k) {
      subset::ParamMap params = subset::select::method(method).params.resolve({});
      if (method == "kcenter") params.set("init-index", init_index);
      const auto selector = subset::select::make_selector(method, params);
      subset::select::SelectionRequest request;
      request.n = x.rows();
      request.dim = x.cols();
      request.features = x.data();
      request.budget = k;
      subset::select::validate_request(subset::select::method(method), request);
      subset::select::RunContext context;
      context.seed = seed;
      std::vector<double> times;
      subset::select::Selection sel;
      for (int r = 0; r < repeats; ++r) {
        const auto s0 = std::chrono::steady_clock::now();
        sel = selector->select(request, context);
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());
      }
      const double t = median(times);
      std::printf("%-8s K=%-6lld median %8.3f s  (%d runs, min %.3f)  %.3f ms/pick", method.c_str(),
                  static_cast<long long>(k), t, repeats, *std::min_element(times.begin(), times.end()),
                  1e3 * t / static_cast<double>(k));
      if (method == "kcenter") {
        const double skipped = sel.stats["point_updates_skipped"].get<double>();
        const double total = skipped + sel.stats["distance_evaluations"].get<double>();
        std::printf("  covering_radius %.4f  point updates skipped %.1f%% (whole clusters %.1f%%), made %.1f%%",
                    sel.stats["covering_radius"].get<double>(), 100.0 * skipped / total,
                    100.0 * sel.stats["skipped_by_cluster"].get<double>() / total,
                    100.0 * sel.stats["updates"].get<double>() / total);
      } else {
        std::printf("  mean_gap %.4f  exact evaluations %.1f per pick", sel.stats["mean_gap"].get<double>(),
                    sel.stats["distance_evaluations"].get<double>() / static_cast<double>(k));
      }
      std::printf("  peak RSS %.1f MiB (%.2fx the matrix)\n", peak_rss_mb(), peak_rss_mb() / matrix_mb);
      std::printf("#   stats %s\n", sel.stats.dump().c_str());
      std::fflush(stdout);
      if (!picks_dir.empty()) {
        std::ofstream out(picks_dir + "/ours_" + method + "_" + std::to_string(k) + ".txt");
        for (int64_t i : sel.indices) out << i << '\n';
      }
    };
    for (int64_t k : kcenter_ks) run("kcenter", k);
    for (int64_t k : herding_ks) run("herding", k);
    return 0;
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
}
