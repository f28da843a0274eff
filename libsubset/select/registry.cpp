#include "libsubset/select/registry.h"

#include <algorithm>
#include <cmath>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/lookup.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/allocation.h"
#include "libsubset/select/balanced.h"
#include "libsubset/select/herding.h"
#include "libsubset/select/internal/herding_streamed.h"
#include "libsubset/select/internal/kmeans_streamed.h"
#include "libsubset/select/importance.h"
#include "libsubset/select/kcenter.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/moderate.h"
#include "libsubset/select/probcover.h"
#include "libsubset/select/random.h"
#include "libsubset/select/sampling.h"
#include "libsubset/select/stratified.h"
#include "libsubset/select/typiclust.h"

namespace subset::select {
namespace {

double bytes(double count, double each) { return count * each; }
// Beside the per-point figures: buffers whose size does not grow with the points (measured with
// 2,000 points); FAISS's brute-force k-NN tiles (4096 queries x 1024 points, and their norms).
constexpr double kFixedBytes = 4.0 * 1024 * 1024;
constexpr double kFaissTileBytes = 32.0 * 1024 * 1024;

template <typename T>
MethodSpec entry(std::string summary, bool needs_features, bool needs_labels, bool has_centroids = false) {
  ParamSchema schema = T::params();
  std::string name = schema.owner();
  return MethodSpec{std::move(name), std::move(summary), needs_features, needs_labels, has_centroids, false,
                    std::move(schema), [](const ParamMap& p) { return std::make_unique<T>(p); }, nullptr, nullptr};
}

// The importance methods: one selector class, told its score kind; features and labels to train
// the proxy on.
template <ScoreKind K>
MethodSpec importance(std::string summary) {
  // Memory: libtorch is loaded before the plan (it counts as resident); the proxy's training copy of
  // the rows and its per-point outputs.
  MethodSpec spec{score_kind_name(K), std::move(summary), true, true, false, true, ImportanceSelector::params(K),
                  [](const ParamMap& p) { return std::make_unique<ImportanceSelector>(K, p); },
                  [](int64_t n, int64_t d, int64_t) { return static_cast<double>(n) * (4.0 * static_cast<double>(d) + 64); },
                  nullptr};
  spec.trains_on_shares = true;
  return spec;
}

// A table entry with its memory needs (MethodSpec::memory_in_memory, memory_on_disk).
MethodSpec with_memory(MethodSpec spec, std::function<double(int64_t, int64_t, int64_t)> in_memory,
                       std::function<double(int64_t, int64_t, int64_t)> on_disk = nullptr) {
  spec.memory_in_memory = std::move(in_memory);
  spec.memory_on_disk = std::move(on_disk);
  return spec;
}

MethodSpec on_ranks(MethodSpec spec) {
  spec.distributes = true;
  return spec;
}

}  // namespace

const std::vector<MethodSpec>& methods() {
  static const std::vector<MethodSpec> table = {
      entry<RandomSelector>("uniform sampling without replacement", false, false),
      entry<BalancedSelector>("the same number of points from every class", false, true),
      entry<StratifiedSelector>("points from each class in proportion to its size", false, true),
      // In memory: the seeding's sketch of min(128, d) values per point, held twice (by point and
      // by cluster), distances and labels; centroids and sums. Measured: 2.0 KB a point for d >= 128.
      // On disk: the seeding's or Lloyd's per-point state, centroids and sums (kmeans_streamed.h);
      // on ranks, each holds that state for all n points.
      on_ranks(with_memory(entry<KMeansSelector>("k-means: the point nearest each centroid, weighted by cluster size", true,
                                        false, true),
                  [](int64_t n, int64_t d, int64_t k) {
                    return bytes(n, 16.0 * static_cast<double>(std::min<int64_t>(d, 128)) + 64) + bytes(k, d * 24.0) +
                           kFixedBytes;
                  },
                  [](int64_t n, int64_t d, int64_t k) {
                    return kmeans_internal::kmeans_streamed_bytes(n, d, k, current_threads());
                  })),
      // In memory: the 8-bit copy, the 32-value sketch, distance and centre per point. On disk:
      // distance and centre per point, the centres, and per block the radius of each centre's points.
      on_ranks(with_memory(entry<KCenterSelector>("greedy farthest-first traversal (k-center greedy): covers the data", true,
                                         false),
                  [](int64_t n, int64_t d, int64_t k) {
                    return bytes(n, d + 32 * 4 + 40.0) + bytes(k, d * 4 + 64.0) + kFixedBytes;
                  },
                  [](int64_t n, int64_t d, int64_t k) { return bytes(n, 12 + 8.0) + bytes(k, d * 4 + 64.0); })),
      // In memory: the 8-bit copy and a bound per point. On disk: a chosen flag per point, the
      // groups' bounding balls (herding_streamed.h: at most 4 bytes a point), the means and sums.
      on_ranks(with_memory(entry<HerdingSelector>("greedy mean matching: the subset mean tracks the data mean", true, false),
                  [](int64_t n, int64_t d, int64_t k) { return bytes(n, d + 16.0) + bytes(k, 16.0) + kFixedBytes; },
                  [](int64_t n, int64_t d, int64_t k) {
                    return bytes(n, 1 + kHerdingSummaryBytesPerRow) + bytes(d + 8, 48.0) + bytes(k, 16.0);
                  })),
      // Measured (2,000 to 80,000 points, d = 64 and 512): typiclust as kmeans plus its k-NN lists;
      // probcover its k-NN graph; both FAISS's search tiles. moderate: a distance a point.
      with_memory(entry<TypiclustSelector>("k-means into budget clusters, the most typical point of each (TypiClust)",
                                           true, false),
                  [](int64_t n, int64_t d, int64_t) {
                    return bytes(n, 16.0 * static_cast<double>(std::min<int64_t>(d, 128)) + 256) + kFaissTileBytes;
                  }),
      with_memory(entry<ProbCoverSelector>("greedy maximum coverage of delta-balls on the k-NN graph (ProbCover)", true,
                                           false),
                  [](int64_t n, int64_t d, int64_t) {
                    return bytes(n, 4.0 * static_cast<double>(d) + 1024) + kFaissTileBytes;
                  }),
      with_memory(entry<ModerateSelector>(
                      "per class, the points nearest the median distance to the class centre (Moderate-DS)", true, true),
                  [](int64_t n, int64_t, int64_t) { return bytes(n, 64.0); }),
      importance<ScoreKind::Loss>("importance: cross-entropy under a proxy model"),
      importance<ScoreKind::El2n>("importance: L2 norm of softmax minus one-hot label (EL2N)"),
      importance<ScoreKind::Grand>("importance: norm of the loss gradient at the last layer (GraNd)"),
      importance<ScoreKind::Forgetting>("importance: forgetting events during proxy training"),
      importance<ScoreKind::Entropy>("uncertainty: entropy of the proxy's prediction"),
      importance<ScoreKind::Margin>("uncertainty: 1 - (top-1 minus top-2 probability)"),
      importance<ScoreKind::LeastConfidence>("uncertainty: 1 - top-1 probability"),
  };
  return table;
}

const MethodSpec& method(std::string_view name) { return find_by_name(methods(), name, "method"); }

std::unique_ptr<Selector> make_selector(std::string_view name, const ParamMap& params) {
  const MethodSpec& spec = method(name);
  spec.params.validate(params);
  return spec.create(params);
}

void validate_request(const MethodSpec& spec, const SelectionRequest& r, bool per_class) {
  SUBSET_CHECK(r.n > 0, spec.name, "there are no points to select from");
  SUBSET_CHECK_PARAM(r.budget >= 1, "budget", "budget must be at least 1, got " << r.budget);
  std::vector<int64_t> seen = r.already_selected;
  std::sort(seen.begin(), seen.end());
  for (size_t i = 0; i < seen.size(); ++i) {
    SUBSET_CHECK(seen[i] >= 0 && seen[i] < r.n, "already selected",
                 "index " << seen[i] << " is out of range for " << r.n << " points");
    SUBSET_CHECK(i == 0 || seen[i] != seen[i - 1], "already selected", "index " << seen[i] << " appears twice");
  }
  const int64_t open = r.n - static_cast<int64_t>(seen.size());
  SUBSET_CHECK_PARAM(r.budget <= open, "budget",
               "budget " << r.budget << " exceeds the " << open << " points not yet selected"
                         << (seen.empty() ? "" : " (of " + std::to_string(r.n) + ")"));
  if (spec.needs_features) {
    // Per class, features on disk are read into memory a class at a time (select_per_class).
    SUBSET_CHECK((r.has_features() || (r.streamed() && (spec.streams() || per_class)) ||
                  (r.shared() && spec.trains_on_shares && !per_class)) &&
                     r.dim >= 1,
                 spec.name,
                 "method needs features" << (r.streamed() ? " in memory" : ""));
  }
  if (spec.needs_labels) {
    SUBSET_CHECK(r.labels, spec.name, "method needs labels, and the store has none");
    check_classes(r);
  }
}

void check_classes(const SelectionRequest& r) {
  SUBSET_CHECK(r.labels && static_cast<int64_t>(r.labels->size()) == r.n, "labels",
               "need one label per point (" << r.n << ")");
  std::vector<int64_t> sizes(static_cast<size_t>(std::max<int64_t>(r.num_classes, 0)), 0);
  for (int64_t l : *r.labels) {
    SUBSET_CHECK(l >= 0, "labels", "negative label " << l);
    if (l >= static_cast<int64_t>(sizes.size())) sizes.resize(static_cast<size_t>(l) + 1, 0);
    ++sizes[static_cast<size_t>(l)];
  }
  for (size_t c = 0; c < sizes.size(); ++c)
    SUBSET_CHECK(sizes[c] > 0, "labels", "class " << c << " has no points");
}

Selection select_per_class(const Selector& selector, const SelectionRequest& request, const RunContext& context) {
  check_classes(request);
  const auto& labels = *request.labels;
  std::vector<int64_t> available = available_per_class(labels, request.already_selected);
  available.resize(std::max(available.size(), static_cast<size_t>(request.num_classes)), 0);
  const std::vector<int64_t> take = balanced_allocation(available, request.budget);

  std::vector<std::vector<int64_t>> members(take.size());
  for (int64_t i = 0; i < request.n; ++i) members[static_cast<size_t>(labels[static_cast<size_t>(i)])].push_back(i);
  std::vector<int64_t> local_of(static_cast<size_t>(request.n), -1);

  std::vector<Selection> picks(take.size());
  nlohmann::json per_class = nlohmann::json::array();
  const Rng seeds(context.seed);
  std::vector<float> all_scores;
  if (!request.scores) all_scores = selector.score(request, context);
  const std::vector<float>* scores = request.scores ? request.scores : &all_scores;
  const bool sliced = !scores->empty();
  if (sliced)
    SUBSET_CHECK(static_cast<int64_t>(scores->size()) == request.n, "scores",
                 "need one score per point (" << request.n << "), got " << scores->size());
  // One progress for the whole run: each class's own (done, total) is placed in its share of
  // kPerClassUnits, weighted by its cost (points x picks, as for the geometric methods), instead of
  // every class starting again at 0%. When the scores were computed here, that was the long part
  // (its progress went out as it is) and the per-class picks are quick orderings: not reported.
  constexpr int64_t kPerClassUnits = 1000000;
  std::vector<double> share_end(take.size(), 0.0);
  {
    double cost = 0.0;
    for (size_t c = 0; c < take.size(); ++c) {
      if (take[c] > 0) cost += static_cast<double>(members[c].size()) * static_cast<double>(take[c]);
      share_end[c] = cost;
    }
    for (double& e : share_end) e = cost > 0 ? e / cost : 1.0;
  }
  const bool report_classes = static_cast<bool>(context.progress) && all_scores.empty();
  for (size_t c = 0; c < take.size(); ++c) {
    if (take[c] == 0) {
      per_class.push_back(nlohmann::json::object());
      continue;
    }
    const double from = c == 0 ? 0.0 : share_end[c - 1], to = share_end[c];
    const auto& m = members[c];
    for (size_t j = 0; j < m.size(); ++j) local_of[static_cast<size_t>(m[j])] = static_cast<int64_t>(j);
    SelectionRequest sub;
    sub.n = static_cast<int64_t>(m.size());
    sub.budget = take[c];
    std::vector<float> rows;
    if (request.has_features()) {
      rows.resize(m.size() * static_cast<size_t>(request.dim));
      for (size_t j = 0; j < m.size(); ++j)
        std::copy_n(request.features + m[j] * request.dim, request.dim, rows.data() + j * request.dim);
      sub.features = rows.data();
      sub.dim = request.dim;
    } else if (request.streamed()) {
      // Features on disk: one pass gathers this class's rows (the workflow checked that the
      // largest class fits in memory), so a class costs one read of the store.
      rows.resize(m.size() * static_cast<size_t>(request.dim));
      size_t j = 0;
      request.on_disk->for_each_block([&](int64_t first, MatrixViewF block) {
        for (; j < m.size() && m[j] < first + block.rows(); ++j)
          std::copy_n(block.data() + (m[j] - first) * request.dim, request.dim, rows.data() + j * request.dim);
      });
      sub.features = rows.data();
      sub.dim = request.dim;
    }
    const std::vector<int64_t> one_class(m.size(), 0);
    sub.labels = &one_class;
    std::vector<float> class_scores;
    if (sliced) {
      for (int64_t i : m) class_scores.push_back((*scores)[static_cast<size_t>(i)]);
      sub.scores = &class_scores;
    }
    for (int64_t a : request.already_selected)
      if (labels[static_cast<size_t>(a)] == static_cast<int64_t>(c)) sub.already_selected.push_back(local_of[a]);
    RunContext sub_context{seeds.fork(c).seed(), nullptr};
    if (report_classes)
      sub_context.progress = [&context, from, to](int64_t done, int64_t total) {
        const double f = total > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0) : 0.0;
        context.report(std::llround((from + (to - from) * f) * kPerClassUnits), kPerClassUnits);
      };
    picks[c] = selector.select(sub, sub_context);
    for (auto& i : picks[c].indices) i = m[static_cast<size_t>(i)];
    per_class.push_back(picks[c].stats);
  }

  if (report_classes) context.report(kPerClassUnits, kPerClassUnits);
  std::vector<size_t> counts;
  for (const auto& p : picks) counts.push_back(p.indices.size());
  Selection out;
  const bool weighted = std::any_of(picks.begin(), picks.end(), [](const Selection& p) { return !p.weights.empty(); });
  const bool scored = std::any_of(picks.begin(), picks.end(), [](const Selection& p) { return !p.scores.empty(); });
  const bool centroids = std::any_of(picks.begin(), picks.end(), [](const Selection& p) { return p.centroids.rows() > 0; });
  if (centroids) out.centroids.resize(request.budget, request.dim);
  for (const auto& [c, j] : interleave_order(counts)) {
    if (centroids) out.centroids.row(static_cast<Eigen::Index>(out.indices.size())) = picks[c].centroids.row(j);
    out.indices.push_back(picks[c].indices[j]);
    if (weighted) out.weights.push_back(picks[c].weights.empty() ? 1.0f : picks[c].weights[j]);
    if (scored) out.scores.push_back(picks[c].scores.empty() ? 0.0f : picks[c].scores[j]);
  }
  out.stats["per_class"] = per_class;
  out.stats["class_budget"] = take;
  return out;
}

}  // namespace subset::select
