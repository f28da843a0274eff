// Tests for libsubset/core/rng.h. The generator promises the same numbers on every platform, so
// the first outputs are pinned against the published reference algorithms (SplitMix64 seeding,
// xoshiro256**), written out here independently of the library.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "libsubset/core/rng.h"

using subset::Rng;

namespace {

// Reference code after Vigna's public-domain splitmix64.c and xoshiro256starstar.c.
struct ReferenceXoshiro {
  uint64_t s[4];
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  explicit ReferenceXoshiro(uint64_t seed) {
    for (auto& w : s) w = splitmix(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

}  // namespace

TEST_CASE("the reference SplitMix64 matches its published first outputs") {
  // SplitMix64 seeded with 0: widely published test vector.
  uint64_t x = 0;
  CHECK(ReferenceXoshiro::splitmix(x) == 0xe220a8397b1dcdafULL);
  CHECK(ReferenceXoshiro::splitmix(x) == 0x6e789e6aa1b965f4ULL);
  CHECK(ReferenceXoshiro::splitmix(x) == 0x06c45d188009454fULL);
}

TEST_CASE("Rng::next_u64 is xoshiro256** seeded by SplitMix64") {
  for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{42}, uint64_t{0xdeadbeefcafef00dULL}}) {
    Rng rng(seed);
    ReferenceXoshiro ref(seed);
    CHECK(rng.seed() == seed);
    for (int i = 0; i < 1000; ++i) REQUIRE(rng.next_u64() == ref.next());
  }
}

TEST_CASE("same seed gives the same sequence, different seeds differ") {
  Rng a(123), b(123), c(124);
  int equal_to_c = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t va = a.next_u64();
    CHECK(va == b.next_u64());
    equal_to_c += va == c.next_u64();
  }
  CHECK(equal_to_c == 0);

  Rng d(7), e(7);
  for (int i = 0; i < 100; ++i) {
    CHECK(d.uniform_index(1000) == e.uniform_index(1000));
    CHECK(d.uniform01() == e.uniform01());
    CHECK(d.normal() == e.normal());
  }
}

TEST_CASE("uniform_index stays in range") {
  Rng rng(99);
  for (int i = 0; i < 1000; ++i) CHECK(rng.uniform_index(1) == 0);
  for (uint64_t n : {uint64_t{2}, uint64_t{3}, uint64_t{7}, uint64_t{10}, uint64_t{1000}, uint64_t{1} << 40,
                     (uint64_t{1} << 63) + 1, ~uint64_t{0}}) {
    for (int i = 0; i < 2000; ++i) REQUIRE(rng.uniform_index(n) < n);
  }
  // n = 3 * 2^62: a third of the range lies at or above 2^63, so the high values must show up.
  const uint64_t n = 3 * (uint64_t{1} << 62);
  int high = 0;
  for (int i = 0; i < 3000; ++i) {
    const uint64_t v = rng.uniform_index(n);
    REQUIRE(v < n);
    high += v >= (uint64_t{1} << 63);
  }
  CHECK(high > 800);
  CHECK(high < 1200);
}

TEST_CASE("uniform_index is roughly uniform (chi-square, fixed seed)") {
  for (uint64_t n : {uint64_t{10}, uint64_t{7}}) {
    Rng rng(2024);
    const int draws = 100000;
    std::vector<int> counts(n, 0);
    for (int i = 0; i < draws; ++i) ++counts[rng.uniform_index(n)];
    const double expected = static_cast<double>(draws) / static_cast<double>(n);
    double chi2 = 0.0;
    for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
    // df <= 9: P(chi2 > 40) < 1e-5 for a uniform generator, and the seed is fixed.
    CHECK(chi2 < 40.0);
  }
}

TEST_CASE("uniform01 lies in the unit interval with mean 1/2") {
  Rng rng(5);
  double sum = 0.0;
  const int draws = 100000;
  for (int i = 0; i < draws; ++i) {
    const double u = rng.uniform01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  CHECK(std::fabs(sum / draws - 0.5) < 0.01);
  // 53 random bits: the value is the top 53 bits of next_u64 scaled by 2^-53.
  Rng a(11), b(11);
  const uint64_t bits = b.next_u64() >> 11;
  CHECK(a.uniform01() == std::ldexp(static_cast<double>(bits), -53));
}

TEST_CASE("normal has mean 0 and variance 1 over 100k draws") {
  Rng rng(31337);
  const int draws = 100000;
  double sum = 0.0, sum_sq = 0.0;
  int beyond_3 = 0;
  for (int i = 0; i < draws; ++i) {
    const double z = rng.normal();
    REQUIRE(std::isfinite(z));
    sum += z;
    sum_sq += z * z;
    beyond_3 += std::fabs(z) > 3.0;
  }
  const double mean = sum / draws;
  const double var = sum_sq / draws - mean * mean;
  CHECK(std::fabs(mean) < 0.02);  // standard error 0.0032
  CHECK(std::fabs(var - 1.0) < 0.03);  // standard error 0.0045
  // P(|Z| > 3) = 0.0027: about 270 expected.
  CHECK(beyond_3 > 150);
  CHECK(beyond_3 < 400);
}

TEST_CASE("fork is deterministic and independent of call order and parent state") {
  auto first_values = [](Rng r) {
    std::vector<uint64_t> v;
    for (int i = 0; i < 16; ++i) v.push_back(r.next_u64());
    return v;
  };
  const Rng parent(77);
  const auto f3 = first_values(parent.fork(3));
  CHECK(first_values(parent.fork(3)) == f3);

  // Other forks and draws from the parent in between change nothing.
  Rng busy(77);
  for (int i = 0; i < 100; ++i) busy.next_u64();
  (void)busy.fork(0);
  (void)busy.fork(1);
  CHECK(first_values(busy.fork(3)) == f3);

  // Reverse order of forking gives the same streams.
  std::vector<std::vector<uint64_t>> forward, backward(8);
  for (uint64_t k = 0; k < 8; ++k) forward.push_back(first_values(parent.fork(k)));
  for (uint64_t k = 8; k-- > 0;) backward[k] = first_values(parent.fork(k));
  CHECK(forward == backward);

  // Streams differ from each other and from the parent; another parent seed gives other streams.
  const auto p = first_values(Rng(77));
  for (uint64_t i = 0; i < 8; ++i) {
    CHECK(forward[i] != p);
    for (uint64_t j = i + 1; j < 8; ++j) CHECK(forward[i] != forward[j]);
  }
  CHECK(first_values(Rng(78).fork(3)) != f3);
  // A fork of a fork is a new stream too.
  CHECK(first_values(parent.fork(3).fork(3)) != f3);
}
