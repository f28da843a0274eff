// Reads a store's /features whole, then streams it in row blocks, and prints the timings.
// Used by bench_io.sh next to h5py doing the same read.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "libsubset/core/error.h"
#include "libsubset/io/store.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_store_read STORE [repeats]\n");
    return 2;
  }
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  try {
    const auto store = subset::io::FeatureStore::open(argv[1]);
    const auto features = store.features();
    const double mb = features.rows() * features.cols() * 4.0 / 1e6;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto m = features.read_all();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double checksum = 0;
      for (int64_t i = 0; i < m.rows(); i += 997) checksum += m(i, 0);
      std::printf("read_all %.1f MB %.4f s %.2f GB/s (checksum %.3f)\n", mb, s, mb / 1e3 / s, checksum);
    }
    return 0;
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
}
