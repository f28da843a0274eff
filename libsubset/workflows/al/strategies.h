#pragma once
// The query strategies of `subset al query` and `al simulate` (docs/active-learning.md,
// "Strategies"): the math that needs no libtorch, over the candidates of one round. A strategy
// returns positions into the candidate list (the caller keeps it in ascending pool-row order, so
// "ties by the lower position" is "ties by the lower row") and one score per pick, higher first.
//
// What each needs from the proxy (strategy_needs): random and typiclust none (typiclust reads the
// features store: it is the cold-start strategy); entropy, margin and least-confidence the class
// probabilities; bald T stochastic passes of them; coreset the penultimate embeddings of the
// candidates and of the labelled rows; badge probabilities and embeddings of the candidates.
#include <cstdint>
#include <string>
#include <vector>

namespace subset::workflows::al {

const std::vector<std::string>& strategy_names();

struct StrategyNeeds {
  bool proxy = false;         // a proxy trained on the labelled rows
  bool probabilities = false;  // class probabilities of the candidates
  bool embeddings = false;     // penultimate activations of the candidates
  bool labelled_embeddings = false;  // ... and of the labelled rows (coreset)
  bool passes = false;         // T stochastic passes (bald)
  bool features = false;       // the candidates' and labelled rows' features (typiclust)
};
// Throws ParamError naming "strategy" for an unknown name, listing the known ones.
StrategyNeeds strategy_needs(const std::string& strategy);

struct Pick {
  std::vector<int64_t> positions;  // into the candidates, in pick order, unique
  std::vector<float> scores;       // one per pick
};

// Per-candidate scores, higher = more worth a label, from probs (m x c, row-major):
//   entropy           -sum_k p_k ln p_k (0 ln 0 = 0)
//   margin            1 - (p_(1) - p_(2)), p_(1) >= p_(2) the two largest (c = 1: 0)
//   least-confidence  1 - p_(1)
std::vector<float> uncertainty_scores(const std::string& strategy, const float* probs, int64_t m, int64_t c);

// BALD (Houlsby et al. 2011; Gal et al. 2017) from `passes` stochastic passes, probs[t][i][k]
// (passes x m x c): the mutual information H(mean_t p_t) - mean_t H(p_t), >= 0.
std::vector<float> bald_scores(const float* probs, int64_t passes, int64_t m, int64_t c);

// The min(budget, m) highest scores, highest first; ties (and NaN, ranked last) by the lower position.
Pick top_scores(const std::vector<float>& scores, int64_t budget);

// min(budget, m) positions drawn uniformly without replacement from Rng(seed) (a partial
// Fisher-Yates shuffle), in draw order; scores 0.
Pick random_pick(int64_t m, int64_t budget, uint64_t seed);

// Core-set (Sener & Savarese 2018): k-center greedy (select's kcenter) over `points` (n x dim
// row-major), whose rows [0, m) are the candidates and rows [m, n) the labelled rows, which count
// as already selected. Picks are candidates; scores their distance to the nearest point chosen
// before them (labelled rows included). With no labelled row the first pick is Rng(seed)'s draw.
Pick coreset_pick(const float* points, int64_t n, int64_t dim, int64_t m, int64_t budget, uint64_t seed);

// BADGE (Ash et al. 2020): k-means++ seeding on the gradient embeddings g_i = a_i (x) h_i of the
// last layer's cross-entropy at the predicted label, a_i = p_i - onehot(argmax_k p_ik) (ties: lowest
// class), h_i the penultimate activations (m x dim). g is never formed: <g_i, g_j> = <a_i, a_j> <h_i, h_j>.
// The first centre is the largest |g_i| (lowest position on ties), as the paper's code does; every
// later one is drawn with probability proportional to D_i^2, the squared distance of g_i to its
// nearest centre: u = Rng(seed).uniform01() * sum D^2 (one draw per centre after the first), the
// first position in order whose running sum of D^2 exceeds u. When every open D^2 is 0 (duplicates
// only) the lowest open position is taken. Scores: |g| for the first, D at its draw for the others.
Pick badge_pick(const float* probs, const float* embeddings, int64_t m, int64_t c, int64_t dim, int64_t budget,
                uint64_t seed);

// TypiClust (select's typiclust: k-means into budget + labelled clusters, the most typical open
// point of the clusters with the fewest labelled rows) over `points` laid out as for coreset_pick.
// Scores: typicality.
Pick typiclust_pick(const float* points, int64_t n, int64_t dim, int64_t m, int64_t budget, uint64_t seed);

}  // namespace subset::workflows::al
