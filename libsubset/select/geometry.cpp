// The 8-bit copy's bounds of geometry.h (its kernels are linalg's, kernels.h).
#include "libsubset/select/internal/geometry.h"

#include <algorithm>
#include <cmath>

#include "libsubset/core/error.h"

namespace subset::select::geometry {

TargetLevels::TargetLevels(const int16_t* t, int64_t dim) : levels(t, t + dim) {
  if (linalg::use_vnni()) {
    hi.resize(static_cast<size_t>(dim));
    lo.resize(static_cast<size_t>(dim));
    for (int64_t j = 0; j < dim; ++j) {
      const int v = t[j];
      SUBSET_CHECK(v >= -kMaxTargetLevel && v <= kMaxTargetLevel, "dot_u8", "target level " << v << " out of range");
      const int h = (v + 128 + 32768) / 256 - 128;  // floor((v + 128) / 256)
      hi[static_cast<size_t>(j)] = static_cast<int8_t>(h);
      lo[static_cast<size_t>(j)] = static_cast<int8_t>(v - 256 * h);
    }
  }
}

void dot_u8_rows(const uint8_t* q, int64_t rows, int64_t dim, const TargetLevels& t, int64_t* out) {
  if (!t.hi.empty() && linalg::use_vnni()) return linalg::dot_u8_i16_rows_split(q, rows, dim, t.hi.data(), t.lo.data(), out);
  linalg::dot_u8_i16_rows(q, rows, dim, t.levels.data(), out);
}

namespace {

// ||x^_a - x^_b|| - e_a - e_b, given the exact sum of products of their levels.
double quantized_bound(const Quantized& qz, size_t a, size_t b, double level_dot) {
  const double la = qz.lo[a], lb = qz.lo[b], sa = qz.step[a], sb = qz.step[b];
  const auto& sq_norm = qz.sq_norm;
  const auto& error = qz.error;
  const double t0 = static_cast<double>(qz.dim) * la * lb, t1 = la * sb * qz.q_sum[b], t2 = lb * sa * qz.q_sum[a];
  const double t3 = sa * sb * level_dot;
  const double est = sq_norm[a] + sq_norm[b] - 2.0 * (t0 + t1 + t2 + t3);
  const double slack =
      1e-12 * (sq_norm[a] + sq_norm[b] + 2.0 * (std::abs(t0) + std::abs(t1) + std::abs(t2) + std::abs(t3)));
  const double l = std::sqrt(std::max(0.0, est - slack)) - error[a] - error[b];
  return l > 0.0 ? l : 0.0;
}

}  // namespace

double Quantized::lower_bound(int64_t i, int64_t j) const {
  return quantized_bound(*this, static_cast<size_t>(i), static_cast<size_t>(j), dot_u8_u8(row(i), row(j), dim));
}

Quantized::Reference Quantized::reference(int64_t j) const {
  Reference ref;
  ref.index = j;
  if (linalg::use_vnni()) {
    ref.shifted.resize(static_cast<size_t>(dim));
    const uint8_t* r = row(j);
    for (int64_t k = 0; k < dim; ++k)
      ref.shifted[static_cast<size_t>(k)] = static_cast<int8_t>(static_cast<int>(r[k]) - 128);
  }
  return ref;
}

double Quantized::lower_bound(int64_t i, const Reference& j) const {
  double level_dot;
  if (!j.shifted.empty() && linalg::use_vnni()) {
    // q_i . q_j = q_i . (q_j - 128) + 128 sum(q_i), all exact integers
    level_dot = static_cast<double>(linalg::dot_u8_s8(row(i), j.shifted.data(), dim)) +
                128.0 * q_sum[static_cast<size_t>(i)];
  } else {
    level_dot = dot_u8_u8(row(i), row(j.index), dim);
  }
  return quantized_bound(*this, static_cast<size_t>(i), static_cast<size_t>(j.index), level_dot);
}

}  // namespace subset::select::geometry
