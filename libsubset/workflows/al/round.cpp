#include "libsubset/workflows/al/round.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/al_proxy.h"
#include "libsubset/select/nearest_rows.h"
#include "libsubset/workflows/al/strategies.h"

namespace subset::workflows::al {
namespace {

// Hands rows out of `source` (one row at a time by index) in blocks of at most `block`.
template <class RowAt>
void emit_blocks(const std::vector<int64_t>& rows, size_t from, size_t to, int64_t dim, int64_t block,
                 std::vector<float>& buf, const RowAt& row_at,
                 const std::function<void(int64_t, const float*, int64_t)>& fn) {
  for (size_t first = from; first < to; first += static_cast<size_t>(block)) {
    const size_t count = std::min(to - first, static_cast<size_t>(block));
    buf.resize(count * static_cast<size_t>(dim));
    for (size_t i = 0; i < count; ++i)
      std::memcpy(buf.data() + i * static_cast<size_t>(dim), row_at(rows[first + i]), static_cast<size_t>(dim) * sizeof(float));
    fn(static_cast<int64_t>(first), buf.data(), static_cast<int64_t>(count));
  }
}

// Measures one phase: wall time and the meter's kWh.
class PhaseMeter {
 public:
  explicit PhaseMeter(const std::optional<energy::MeterOptions>& options)
      : meter_(options ? *options : energy::MeterOptions::from_environment({})) {}
  template <class Fn>
  PhaseCost measure(Fn&& fn) {
    meter_.start();
    fn();
    const energy::EnergyReport report = meter_.stop();
    return PhaseCost{report.seconds, report.kwh()};
  }

 private:
  energy::EnergyMeter meter_;
};

struct Trained {
  std::optional<nn::AlProxy> proxy;
  std::optional<double> accuracy;
};

Trained train_proxy(const RoundData& d, const RoundSettings& s) {
  Trained out;
  const int64_t l = static_cast<int64_t>(d.labelled_rows.size()), dim = d.pool->dim();
  std::vector<float> x(static_cast<size_t>(l * dim));
  d.pool->gather(d.labelled_rows, s.block_rows, [&](int64_t first, const float* rows, int64_t count) {
    std::memcpy(x.data() + first * dim, rows, static_cast<size_t>(count * dim) * sizeof(float));
  });
  TrainSettings proxy = al_proxy_settings(s.proxy, l);
  proxy.seed = Rng(s.seed).fork(0).seed();
  out.proxy.emplace(nn::AlProxy::train(nn::LabelledView{x.data(), d.labels.data(), nullptr, l, dim}, d.num_classes, proxy));
  if (!d.test || !d.test_labels || d.test->rows() == 0) return out;
  std::vector<int64_t> all(static_cast<size_t>(d.test->rows()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  int64_t correct = 0;
  std::vector<float> probs;
  const int64_t c = d.num_classes;
  d.test->gather(all, s.block_rows, [&](int64_t first, const float* rows, int64_t count) {
    probs.resize(static_cast<size_t>(count * c));
    out.proxy->predict(rows, count, probs.data());
    for (int64_t i = 0; i < count; ++i) {
      const float* p = probs.data() + i * c;
      correct += (std::max_element(p, p + c) - p) == (*d.test_labels)[static_cast<size_t>(first + i)];
    }
  });
  out.accuracy = static_cast<double>(correct) / static_cast<double>(all.size());
  return out;
}

// What the strategy reads of the candidates (and labelled rows), filled by the scoring pass.
struct Scored {
  std::vector<float> scores;    // m: uncertainty and bald
  std::vector<float> probs;     // m x c: badge
  std::vector<float> points;    // (m + l) x width: coreset embeddings, typiclust features
  int64_t width = 0;
};

Scored score_candidates(const RoundData& d, const RoundSettings& s, const nn::AlProxy* proxy) {
  const StrategyNeeds needs = strategy_needs(s.strategy);
  const int64_t m = static_cast<int64_t>(d.candidates.size()), l = static_cast<int64_t>(d.labelled_rows.size());
  const int64_t c = d.num_classes;
  Scored out;
  if (!needs.features && !needs.proxy) return out;
  out.width = needs.features ? d.pool->dim() : needs.embeddings ? proxy->embedding_dim() : 0;
  const int64_t w = out.width;
  if (needs.features || needs.labelled_embeddings) out.points.resize(static_cast<size_t>((m + l) * w));
  else if (needs.embeddings) out.points.resize(static_cast<size_t>(m * w));
  if (needs.probabilities && needs.embeddings) out.probs.resize(static_cast<size_t>(m * c));
  else out.scores.resize(static_cast<size_t>(m));
  const Rng dropout_root = Rng(s.seed).fork(2);
  std::vector<float> probs;
  // Rows [0, m) of `points` are the candidates, [m, m + l) the labelled rows.
  const auto pass = [&](const std::vector<int64_t>& rows, int64_t offset, bool labelled) {
    d.pool->gather(rows, s.block_rows, [&](int64_t first, const float* x, int64_t count) {
      float* points = out.points.empty() ? nullptr : out.points.data() + (offset + first) * w;
      if (needs.features) {
        std::memcpy(points, x, static_cast<size_t>(count * w) * sizeof(float));
        return;
      }
      if (needs.passes) {
        probs.resize(static_cast<size_t>(s.options.passes * count * c));
        proxy->predict_dropout(x, count, s.options.passes, s.options.dropout, dropout_root.fork(static_cast<uint64_t>(first)).seed(),
                               probs.data());
        const std::vector<float> b = bald_scores(probs.data(), s.options.passes, count, c);
        std::copy(b.begin(), b.end(), out.scores.begin() + first);
        return;
      }
      float* p = out.probs.empty() ? nullptr : out.probs.data() + first * c;
      if (!p) probs.resize(static_cast<size_t>(count * c));
      proxy->predict(x, count, p ? p : probs.data(), points);
      if (needs.probabilities && !needs.embeddings && !labelled) {
        const std::vector<float> u = uncertainty_scores(s.strategy, probs.data(), count, c);
        std::copy(u.begin(), u.end(), out.scores.begin() + first);
      }
    });
  };
  pass(d.candidates, 0, false);
  if (needs.features || needs.labelled_embeddings) pass(d.labelled_rows, m, true);
  return out;
}

Pick pick(const RoundData& d, const RoundSettings& s, const Scored& sc) {
  const int64_t m = static_cast<int64_t>(d.candidates.size()), l = static_cast<int64_t>(d.labelled_rows.size());
  const uint64_t seed = Rng(s.seed).fork(1).seed();
  const std::string& st = s.strategy;
  if (st == "random") return random_pick(m, s.options.batch, seed);
  if (st == "coreset") return coreset_pick(sc.points.data(), m + l, sc.width, m, s.options.batch, seed);
  if (st == "typiclust") return typiclust_pick(sc.points.data(), m + l, sc.width, m, s.options.batch, seed);
  if (st == "badge") return badge_pick(sc.probs.data(), sc.points.data(), m, d.num_classes, sc.width, s.options.batch, seed);
  return top_scores(sc.scores, s.options.batch);
}

}  // namespace

void StoreRows::gather(const std::vector<int64_t>& rows, int64_t block,
                       const std::function<void(int64_t, const float*, int64_t)>& fn) const {
  // Windows of whole chunks that start at the next wanted row: stretches with none are not read.
  const int64_t window = array_.block_rows_for(size_t{16} << 20), dim = array_.cols();
  std::vector<float> data, buf;
  size_t at = 0;
  while (at < rows.size()) {
    const int64_t begin = rows[at], count = std::min(window, array_.rows() - begin);
    data.resize(static_cast<size_t>(count * dim));
    array_.read_rows(begin, count, data.data());
    size_t end = at;
    while (end < rows.size() && rows[end] < begin + count) ++end;
    emit_blocks(rows, at, end, dim, block, buf, [&](int64_t r) { return data.data() + (r - begin) * dim; }, fn);
    at = end;
  }
}

void MemoryRows::gather(const std::vector<int64_t>& rows, int64_t block,
                        const std::function<void(int64_t, const float*, int64_t)>& fn) const {
  std::vector<float> buf;
  emit_blocks(rows, 0, rows.size(), dim_, block, buf, [&](int64_t r) { return data_ + r * dim_; }, fn);
}

RoundResult run_round(const RoundData& d, const RoundSettings& s) {
  const StrategyNeeds needs = strategy_needs(s.strategy);
  SUBSET_CHECK_PARAM(s.options.batch >= 1, "batch", "batch must be at least 1, got " << s.options.batch);
  SUBSET_CHECK(s.train_only || !d.candidates.empty(), "al query", "no candidate rows left: every pool row is labelled or pending");
  SUBSET_CHECK_PARAM(!needs.proxy || !d.labelled_rows.empty(), "strategy",
                     "strategy " << s.strategy
                                 << " trains a proxy on the labelled rows, and none is labelled yet: label the seed "
                                    "first, or start with random or typiclust (cold start)");
  RoundResult out;
  PhaseMeter meter(s.meter);
  Trained trained;
  const bool train =
      needs.proxy || ((s.measure_accuracy || s.train_only) && !d.labelled_rows.empty() && d.test_labels);
  if (train) {
    if (s.status) s.status("training the proxy on " + std::to_string(d.labelled_rows.size()) + " labelled rows");
    out.training = meter.measure([&] { trained = train_proxy(d, s); });
    out.proxy_trained = true;
    out.test_accuracy = trained.accuracy;
  }
  if (s.train_only) return out;
  if (s.status) s.status("scoring " + std::to_string(d.candidates.size()) + " candidates (" + s.strategy + ")");
  Scored scored;
  out.scoring = meter.measure([&] { scored = score_candidates(d, s, trained.proxy ? &*trained.proxy : nullptr); });
  Pick picked;
  out.selection = meter.measure([&] { picked = pick(d, s, scored); });
  for (int64_t p : picked.positions) out.rows.push_back(d.candidates[static_cast<size_t>(p)]);
  out.scores = std::move(picked.scores);
  return out;
}

std::vector<int64_t> choose_candidates(const RowSource& pool, const std::vector<int64_t>& labelled_rows,
                                       std::vector<int64_t> open, const StrategyOptions& options, uint64_t seed,
                                       int64_t block_rows) {
  const auto eligible = static_cast<int64_t>(open.size());
  if (!options.candidates || *options.candidates >= eligible) return open;
  const int64_t n = *options.candidates;
  std::vector<int64_t> out;
  if (options.candidates_by == "random") {
    for (int64_t p : random_pick(eligible, n, seed).positions) out.push_back(open[static_cast<size_t>(p)]);
  } else {
    const auto l = static_cast<int64_t>(labelled_rows.size());
    SUBSET_CHECK_PARAM(l > 0, "candidates-by",
                       "neighbours needs labelled rows (their nearest neighbours are the candidates); use random "
                       "until some rows are labelled");
    std::vector<float> queries(static_cast<size_t>(l * pool.dim()));
    pool.gather(labelled_rows, block_rows, [&](int64_t first, const float* x, int64_t count) {
      std::copy_n(x, count * pool.dim(), queries.data() + first * pool.dim());
    });
    select::NearestRows nearest(queries.data(), l, pool.dim(), (n + l - 1) / l);
    pool.gather(open, block_rows, [&](int64_t first, const float* x, int64_t count) {
      nearest.add(x, open.data() + first, count);
    });
    // The union, cut to the n nearest to their labelled row when the neighbourhoods overlap little.
    std::vector<std::pair<float, int64_t>> found;
    for (int64_t i = 0; i < l; ++i)
      for (const auto& hit : nearest.neighbours(i)) found.push_back(hit);
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second < b.second : a.first < b.first;
    });
    found.erase(std::unique(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.second == b.second; }),
                found.end());
    if (static_cast<int64_t>(found.size()) > n) {
      std::nth_element(found.begin(), found.begin() + n, found.end());
      found.resize(static_cast<size_t>(n));
    }
    for (const auto& hit : found) out.push_back(hit.second);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace subset::workflows::al
