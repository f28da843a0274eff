// The compression transforms on a store's features, data in memory: prints, per task, the wall
// time and a quality figure. Used by bench_compress.sh next to scikit-learn (peers_compress.py).
//   pca-exact, pca-randomized   time of the fit; explained = sum of the K explained-variance ratios;
//                               also the time to transform all rows
//   gaussian-rp, sparse-rp      time of fit + transform of all rows (scikit-learn's fit_transform);
//                               distance_ratio = mean over the pairs of the first SAMPLE rows of
//                               ||y_i - y_j|| / ||x_i - x_j||
//
//   bench_compress STORE [--k 64] [--tasks pca-exact,pca-randomized,gaussian-rp,sparse-rp]
//                  [--repeats 1] [--threads 2] [--seed 0] [--sample 1000]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"
#include "libsubset/io/store.h"
#include "libsubset/transform/registry.h"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Mean over pairs i < j of the first `sample` rows of ||y_i - y_j|| / ||x_i - x_j|| (pairs at
// distance 0 skipped), through Gram matrices in double.
double distance_ratio(const subset::RowMatrixF& x, const subset::RowMatrixF& y, int64_t sample) {
  const Eigen::MatrixXd xs = x.topRows(sample).cast<double>(), ys = y.topRows(sample).cast<double>();
  const Eigen::MatrixXd gx = xs * xs.transpose(), gy = ys * ys.transpose();
  double sum = 0;
  int64_t pairs = 0;
  for (int64_t i = 0; i < sample; ++i)
    for (int64_t j = i + 1; j < sample; ++j) {
      const double dx = gx(i, i) + gx(j, j) - 2 * gx(i, j), dy = gy(i, i) + gy(j, j) - 2 * gy(i, j);
      if (dx <= 0) continue;
      sum += std::sqrt(std::max(dy, 0.0) / dx);
      ++pairs;
    }
  return sum / static_cast<double>(pairs);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_compress STORE [--k 64] [--tasks pca-exact,pca-randomized,gaussian-rp,sparse-rp]\n"
                 "                      [--repeats 1] [--threads 2] [--seed 0] [--sample 1000]\n");
    return 2;
  }
  int64_t k = 64, sample = 1000;
  int threads = 2, repeats = 1;
  uint64_t seed = 0;
  std::vector<std::string> tasks = {"pca-exact", "pca-randomized", "gaussian-rp", "sparse-rp"};
  for (int a = 2; a + 1 < argc; a += 2) {
    const std::string key = argv[a], value = argv[a + 1];
    if (key == "--k") k = std::stoll(value);
    else if (key == "--tasks") tasks = split(value);
    else if (key == "--repeats") repeats = std::stoi(value);
    else if (key == "--threads") threads = std::stoi(value);
    else if (key == "--seed") seed = std::stoull(value);
    else if (key == "--sample") sample = std::stoll(value);
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  try {
    using namespace subset;
    set_threads(threads);
    const auto store = io::FeatureStore::open(argv[1]);
    const RowMatrixF x = store.features().read_all();
    std::printf("# libsubset compress: %lld x %lld, threads %s\n", static_cast<long long>(x.rows()),
                static_cast<long long>(x.cols()), describe_thread_settings().c_str());
    for (const std::string& task : tasks) {
      const bool is_pca = task.rfind("pca-", 0) == 0;
      const std::string method_name = is_pca ? "pca" : task;
      const transform::MethodSpec& spec = transform::method(method_name);
      std::map<std::string, std::string> given;
      if (is_pca) given["solver"] = task.substr(4);
      const ParamMap params = spec.params.resolve(given);
      for (int r = 0; r < repeats; ++r) {
        auto t = transform::create(method_name, params);
        transform::FitOptions options;
        options.dim = k;
        options.seed = seed;
        const auto t0 = Clock::now();
        t->fit(transform::rows_of(view(x)), options);
        const double fit_seconds = seconds_since(t0);
        const auto t1 = Clock::now();
        const RowMatrixF y = t->apply(view(x));
        const double apply_seconds = seconds_since(t1);
        if (is_pca) {
          std::printf("ours task=%s K=%lld seconds=%.4f transform_seconds=%.4f explained=%.6f\n", task.c_str(),
                      static_cast<long long>(k), fit_seconds, apply_seconds,
                      t->save().stats["explained_variance_ratio_sum"].get<double>());
        } else {
          std::printf("ours task=%s K=%lld seconds=%.4f fit_seconds=%.4f distance_ratio=%.4f\n", task.c_str(),
                      static_cast<long long>(k), fit_seconds + apply_seconds, fit_seconds,
                      distance_ratio(x, y, std::min<int64_t>(sample, x.rows())));
        }
        std::fflush(stdout);
      }
    }
    return 0;
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
}
