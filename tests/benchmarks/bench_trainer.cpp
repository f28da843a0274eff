// The proxy-model trainer (nn::train_and_test) on a store's /features and /labels, tested on
// /test/features and /test/labels: prints, per run, the wall seconds of each epoch (timed between
// on_epoch calls), their mean, the test pass's seconds and the test accuracy. Used by
// bench_trainer.sh next to the same MLP in PyTorch (peers_trainer.py).
//
//   bench_trainer STORE [--threads 2] [--model mlp] [--epochs 5] [--batch 256] [--hidden 256]
//                 [--lr 1e-3] [--seed 0] [--repeats 1] [--gemm onednn|aten]
// --gemm aten: the layers' matrix products through at::addmm (OpenBLAS) instead of oneDNN.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"
#include "libsubset/io/store.h"
#include "libsubset/nn/internal/linear.h"
#include "libsubset/nn/trainer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_trainer STORE [--threads 2] [--model mlp] [--epochs 5] [--batch 256] [--hidden 256]\n"
                 "                     [--lr 1e-3] [--seed 0] [--repeats 1] [--gemm onednn|aten]\n");
    return 2;
  }
  subset::nn::TrainSettings settings;
  settings.schedule = "epochs";  // the figures of docs/benchmarks.md: a fixed number of epochs
  int threads = 2, repeats = 1;
  std::string gemm = "onednn";
  for (int a = 2; a + 1 < argc; a += 2) {
    const std::string key = argv[a], value = argv[a + 1];
    if (key == "--threads") threads = std::stoi(value);
    else if (key == "--model") settings.model = value;
    else if (key == "--epochs") settings.epochs = std::stoll(value);
    else if (key == "--batch") settings.batch = std::stoll(value);
    else if (key == "--hidden") settings.hidden = std::stoll(value);
    else if (key == "--lr") settings.learning_rate = std::stod(value);
    else if (key == "--seed") settings.seed = std::stoull(value);
    else if (key == "--repeats") repeats = std::stoi(value);
    else if (key == "--gemm") gemm = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  try {
    subset::set_threads(threads);
    subset::nn::internal::set_onednn_gemm(gemm == "onednn");
    const auto store = subset::io::FeatureStore::open(argv[1]);
    const subset::RowMatrixF x = store.features().read_all();
    const subset::RowMatrixF xt = store.features(subset::io::Split::Test).read_all();
    const std::vector<int64_t> y = store.labels(), yt = store.labels(subset::io::Split::Test);
    int64_t classes = store.info().num_classes();
    for (int64_t label : yt) classes = std::max(classes, label + 1);
    const subset::nn::LabelledView train{x.data(), y.data(), nullptr, x.rows(), x.cols()};
    const subset::nn::LabelledView test{xt.data(), yt.data(), nullptr, xt.rows(), xt.cols()};
    using clock = std::chrono::steady_clock;
    const uint64_t seed = settings.seed;
    for (int r = 0; r < repeats; ++r) {
      std::vector<double> epoch_seconds;
      auto last = clock::now();
      settings.seed = seed + static_cast<uint64_t>(r);
      settings.on_epoch = [&](int64_t, int64_t, double) {
        const auto now = clock::now();
        epoch_seconds.push_back(std::chrono::duration<double>(now - last).count());
        last = now;
      };
      const auto outcome = subset::nn::train_and_test(train, test, classes, settings);
      const double test_seconds = std::chrono::duration<double>(clock::now() - last).count();
      if (r == 0) {
        std::printf("# libsubset trainer: %lld x %lld, test %lld, %s\n", static_cast<long long>(x.rows()),
                    static_cast<long long>(x.cols()), static_cast<long long>(xt.rows()),
                    subset::describe_thread_settings().c_str());
        std::printf("# matrix products: %s\n", subset::nn::internal::onednn_gemm_available()
                                                      ? "oneDNN sgemm"
                                                      : "at::addmm (OpenBLAS), ATen kernels on the calling thread");
      }
      double sum = 0;
      std::string per_epoch;
      for (double s : epoch_seconds) {
        sum += s;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%.3f", per_epoch.empty() ? "" : " ", s);
        per_epoch += buf;
      }
      std::printf("ours-%s threads=%d epochs=%lld seconds_per_epoch=%.3f epoch_seconds=%s test_seconds=%.3f "
                  "final_loss=%.9f test_accuracy=%.4f\n",
                  gemm.c_str(), threads, static_cast<long long>(*subset::nn::resolve_defaults(settings).epochs),
                  sum / static_cast<double>(epoch_seconds.size()), per_epoch.c_str(), test_seconds, outcome.final_loss,
                  outcome.test_accuracy);
      std::fflush(stdout);
    }
    return 0;
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
}
