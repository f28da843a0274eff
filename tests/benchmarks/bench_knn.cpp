// The k-NN graph (knn.h) on the first N rows of a store, for each N of --sizes: the exact search,
// the approximate one (IVF) at each --probes, and, for comparison, FAISS's HNSW at each --ef
// (built and searched by FAISS alone: its graph depends on the thread count, which is why knn.h
// does not use it). Prints seconds and recall@k against the exact graph: the fraction of the k
// returned neighbours of a point whose exact distance is at most its exact k-th distance (ties at
// the k-th distance count as found), over all points. Used by bench_knn.sh.
//
//   bench_knn STORE [--sizes 10000,20000,60000] [--k 20] [--probes 4,8,16] [--lists 0]
//             [--ef 0] [--threads 2]
#include <faiss/IndexHNSW.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"
#include "libsubset/io/store.h"
#include "libsubset/select/knn.h"

namespace {

namespace sel = subset::select;
using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }
// Process CPU seconds (all threads): less sensitive than wall time to other jobs on a shared machine.
double cpu_since(std::clock_t c0) { return static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC; }

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');) out.push_back(std::stoll(item));
  return out;
}

double sq_dist(const float* a, const float* b, int64_t d) {
  double s = 0.0;
  for (int64_t j = 0; j < d; ++j) s += (static_cast<double>(a[j]) - b[j]) * (static_cast<double>(a[j]) - b[j]);
  return s;
}

// `found` holds up to `per_row` neighbour candidates per point (-1 and the point itself ignored).
double recall(const float* x, int64_t d, const sel::KnnGraph& exact, const std::vector<int64_t>& found,
              int64_t per_row) {
  int64_t hits = 0;
  for (int64_t q = 0; q < exact.n; ++q) {
    const double kth = exact.distances(q)[exact.k - 1] * (1.0 + 1e-5);
    int64_t row_hits = 0;
    for (int64_t j = 0; j < per_row; ++j) {
      const int64_t i = found[static_cast<size_t>(q * per_row + j)];
      if (i >= 0 && i != q && sq_dist(x + q * d, x + i * d, d) <= kth) ++row_hits;
    }
    hits += std::min(row_hits, exact.k);
  }
  return static_cast<double>(hits) / static_cast<double>(exact.n * exact.k);
}

void run_hnsw(const float* x, int64_t n, int64_t d, const sel::KnnGraph& exact, const std::vector<int64_t>& efs) {
  auto t0 = clock_type::now();
  faiss::IndexHNSWFlat index(static_cast<int>(d), 32);
  index.add(n, x);
  const double build = since(t0);
  const int64_t m = exact.k + 1;
  std::vector<float> dist(static_cast<size_t>(n * m));
  std::vector<int64_t> idx(static_cast<size_t>(n * m));
  for (int64_t ef : efs) {
    index.hnsw.efSearch = static_cast<int>(ef);
    t0 = clock_type::now();
    index.search(n, x, m, dist.data(), idx.data());
    std::printf("hnsw D=%lld N=%lld k=%lld M=32 efSearch=%lld seconds=%.3f build_seconds=%.3f recall=%.4f\n",
                static_cast<long long>(d), static_cast<long long>(n), static_cast<long long>(exact.k),
                static_cast<long long>(ef), build + since(t0), build, recall(x, d, exact, idx, m));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt = {{"--sizes", "10000,20000,60000"}, {"--k", "20"}, {"--probes", "4,8,16"},
                                            {"--lists", "0"}, {"--ef", "0"}, {"--threads", "2"}};
  bool usage = argc < 2 || argc % 2 != 0;
  for (int a = 2; a + 1 < argc && !usage; a += 2) {
    usage = opt.count(argv[a]) == 0;
    opt[argv[a]] = argv[a + 1];
  }
  if (usage) {
    std::fprintf(stderr, "usage: bench_knn STORE [--sizes 10000,20000,60000] [--k 20] [--probes 4,8,16]\n"
                         "                 [--lists 0] [--ef 0] [--threads 2]\n");
    return 2;
  }
  const std::string sizes = opt["--sizes"], probes = opt["--probes"], efs = opt["--ef"];
  const int64_t k = std::stoll(opt["--k"]), lists = std::stoll(opt["--lists"]);
  try {
    subset::set_threads(std::stoi(opt["--threads"]));
    const subset::RowMatrixF x = subset::io::FeatureStore::open(argv[1]).features().read_all();
    const int64_t d = x.cols();
    std::printf("# libsubset knn: %lld x %lld, threads %s\n", static_cast<long long>(x.rows()),
                static_cast<long long>(d), subset::describe_thread_settings().c_str());
    for (int64_t n : parse_list(sizes)) {
      n = std::min<int64_t>(n, x.rows());
      auto t0 = clock_type::now();
      std::clock_t c0 = std::clock();
      const sel::KnnGraph exact = sel::knn(x.data(), n, d, k, {sel::KnnSearch::Exact});
      std::printf("exact D=%lld N=%lld k=%lld seconds=%.3f cpu_seconds=%.3f rescans=%lld\n",
                  static_cast<long long>(d), static_cast<long long>(n), static_cast<long long>(exact.k), since(t0),
                  cpu_since(c0), static_cast<long long>(exact.rescans));
      std::fflush(stdout);
      for (int64_t p : parse_list(probes)) {
        t0 = clock_type::now();
        c0 = std::clock();
        const sel::KnnGraph g = sel::knn(x.data(), n, d, k, {sel::KnnSearch::Approximate, lists, p});
        const double seconds = since(t0), cpu = cpu_since(c0);
        std::printf("ivf D=%lld N=%lld k=%lld lists=%lld probes=%lld seconds=%.3f cpu_seconds=%.3f recall=%.4f "
                    "rescans=%lld\n",
                    static_cast<long long>(d), static_cast<long long>(n), static_cast<long long>(g.k),
                    static_cast<long long>(g.lists), static_cast<long long>(g.probes), seconds, cpu,
                    recall(x.data(), d, exact, g.indices, g.k), static_cast<long long>(g.rescans));
        std::fflush(stdout);
      }
      std::vector<int64_t> ef_list = parse_list(efs);
      ef_list.erase(std::remove(ef_list.begin(), ef_list.end(), 0), ef_list.end());
      if (!ef_list.empty()) run_hnsw(x.data(), n, d, exact, ef_list);
      std::fflush(stdout);
    }
    return 0;
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
}
