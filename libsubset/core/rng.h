#pragma once
// Seeded, platform-independent random numbers. Written here rather than taken from <random>
// because the standard distributions are implementation-defined: the same seed must give the same
// selection with any compiler or standard library, and at any thread count (use fork() per task).
#include <cstdint>

namespace subset {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  // Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). n must be > 0.
  uint64_t uniform_index(uint64_t n);
  // Uniform double in [0, 1) with 53 random bits.
  double uniform01();
  // Standard normal (Marsaglia polar method).
  double normal();
  // An independent generator for sub-task `stream` (e.g. a thread's chunk of work); the result
  // depends only on this generator's seed and `stream`, never on scheduling.
  Rng fork(uint64_t stream) const;

  uint64_t seed() const { return seed_; }

 private:
  uint64_t seed_;
  uint64_t s_[4];
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace subset
