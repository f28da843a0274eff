#pragma once
// A stand-in for the libtorch score provider (libsubset/select/scores.h), for the tests that run
// the importance methods without libtorch: while a FakeScores lives, compute_scores() answers with
// `fn` (by default a deterministic function of the point's features with many ties) and records
// every request it saw. Not thread-safe; one at a time.
#include <cmath>
#include <functional>
#include <vector>

#include "libsubset/select/scores.h"

namespace subset::test {

class FakeScores {
 public:
  using Fn = std::function<std::vector<float>(const select::ScoreRequest&)>;
  // Score of point i: the integer part of |first feature| mod 5 (ties galore), plus its label / 10.
  static std::vector<float> default_scores(const select::ScoreRequest& r) {
    std::vector<float> s;
    for (int64_t i = 0; i < r.n; ++i)
      s.push_back(std::fmod(std::floor(std::fabs(r.features[i * r.dim])), 5.0f) +
                  0.1f * static_cast<float>((*r.labels)[static_cast<size_t>(i)]));
    return s;
  }
  explicit FakeScores(Fn fn = default_scores) : saved_(select::score_provider()) {
    current() = this;
    fn_ = std::move(fn);
    select::set_score_provider(&call);
  }
  ~FakeScores() {
    select::set_score_provider(saved_);
    current() = nullptr;
  }
  FakeScores(const FakeScores&) = delete;
  FakeScores& operator=(const FakeScores&) = delete;

  struct Seen {
    int64_t n, dim, num_classes, epochs, repeats;
    uint64_t seed;
    select::ScoreKind kind;
    select::ProxySettings proxy;
    std::vector<int64_t> labels;
  };
  const std::vector<Seen>& requests() const { return seen_; }

 private:
  static FakeScores*& current() {
    static FakeScores* p = nullptr;
    return p;
  }
  static std::vector<float> call(const select::ScoreRequest& r) {
    FakeScores* self = current();
    self->seen_.push_back({r.n, r.dim, r.num_classes, r.epochs, r.repeats, r.seed, r.kind, r.proxy,
                           r.labels ? *r.labels : std::vector<int64_t>{}});
    return self->fn_(r);
  }
  select::ScoreProvider saved_;
  Fn fn_;
  std::vector<Seen> seen_;
};

}  // namespace subset::test
