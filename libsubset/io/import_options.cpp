#include "libsubset/io/import_options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <queue>
#include <system_error>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"

namespace subset::io {

namespace {

// A positive finite decimal ("0.5", "+2e-3"); no spaces, signs other than '+', "inf" or "nan".
bool parse_positive(const std::string& text, double& out) {
  const char* b = text.data();
  const char* e = b + text.size();
  if (b != e && *b == '+') ++b;
  if (b == e || !(std::isdigit(static_cast<unsigned char>(*b)) || *b == '.')) return false;
  const auto [ptr, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && ptr == e && std::isfinite(out) && out > 0;
}

__extension__ typedef __int128 int128;  // GCC/Clang; silences -Wpedantic

}  // namespace

Scale parse_scale(const std::string& text) {
  Scale s;
  s.text = text;
  const auto slash = text.find('/');
  const bool ok = slash == std::string::npos
                      ? parse_positive(text, s.numerator)
                      : parse_positive(text.substr(0, slash), s.numerator) &&
                            parse_positive(text.substr(slash + 1), s.denominator);
  SUBSET_CHECK_PARAM(ok, "scale",
                     "expected a positive number or fraction such as 0.5 or 1/255, got '" << text << "'");
  const double f = s.factor();
  SUBSET_CHECK_PARAM(std::isfinite(f) && f > 0, "scale", "'" << text << "' is not a usable factor (it is " << f << ")");
  return s;
}

std::vector<int64_t> stratified_test_counts(const std::vector<int64_t>& sizes, double fraction) {
  SUBSET_CHECK_PARAM(std::isfinite(fraction) && fraction > 0 && fraction < 1, "test-fraction",
                     "must be a fraction strictly between 0 and 1, got " << fraction);
  int64_t n = 0, capacity = 0;
  for (int64_t s : sizes) {
    n += s;
    if (s >= 2) capacity += s - 1;
  }
  const int64_t target = std::llround(fraction * static_cast<double>(n));
  SUBSET_CHECK_PARAM(target > 0, "test-fraction", fraction << " of " << n << " rows holds out no row");
  SUBSET_CHECK_PARAM(target <= capacity, "test-fraction",
                     fraction << " of " << n << " rows is " << target
                              << " rows, but at most " << capacity
                              << " can be held out while every class keeps a training row");
  // Largest remainder on the quotas target * size / n, each class capped at size - 1: the floors
  // first, then one row at a time to the class furthest below its quota (ties to the lower id).
  const size_t k = sizes.size();
  std::vector<int64_t> take(k, 0);
  auto cap = [&](size_t c) { return sizes[c] >= 2 ? sizes[c] - 1 : int64_t{0}; };
  auto deficit = [&](size_t c) { return static_cast<int128>(target) * sizes[c] - static_cast<int128>(take[c]) * n; };
  auto behind = [&](size_t a, size_t b) {  // true when b comes before a
    const int128 da = deficit(a), db = deficit(b);
    return da != db ? da < db : a > b;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(behind)> queue(behind);
  int64_t given = 0;
  for (size_t c = 0; c < k; ++c) {
    take[c] = std::min(static_cast<int64_t>(static_cast<int128>(target) * sizes[c] / n), cap(c));
    given += take[c];
    if (take[c] < cap(c)) queue.push(c);
  }
  while (given < target) {
    const size_t c = queue.top();
    queue.pop();
    ++take[c];
    ++given;
    if (take[c] < cap(c)) queue.push(c);
  }
  return take;
}

std::vector<int64_t> stratified_test_rows(const std::vector<int64_t>& labels, const TestSplit& split) {
  int64_t classes = 0;
  for (int64_t l : labels) {
    SUBSET_CHECK(l >= 0, "labels", "negative label " << l);
    classes = std::max(classes, l + 1);
  }
  std::vector<int64_t> sizes(static_cast<size_t>(classes), 0);
  for (int64_t l : labels) ++sizes[static_cast<size_t>(l)];
  const std::vector<int64_t> take = stratified_test_counts(sizes, split.fraction);
  // The rows of each class, in row order, one after the other.
  std::vector<int64_t> start(static_cast<size_t>(classes) + 1, 0);
  for (int64_t c = 0; c < classes; ++c) start[c + 1] = start[c] + sizes[c];
  std::vector<int64_t> rows(labels.size());
  std::vector<int64_t> next(start.begin(), start.end() - 1);
  for (size_t i = 0; i < labels.size(); ++i) rows[next[labels[i]]++] = static_cast<int64_t>(i);
  const Rng rng(split.seed);
  std::vector<int64_t> out;
  for (int64_t c = 0; c < classes; ++c) {
    if (take[c] == 0) continue;
    Rng draw = rng.fork(static_cast<uint64_t>(c));
    int64_t* first = rows.data() + start[c];
    for (int64_t i = 0; i < take[c]; ++i) {  // partial Fisher-Yates
      const int64_t j = i + static_cast<int64_t>(draw.uniform_index(static_cast<uint64_t>(sizes[c] - i)));
      std::swap(first[i], first[j]);
      out.push_back(first[i]);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace subset::io
