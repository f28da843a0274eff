#pragma once
// What an import may do to the values and rows it reads, given as options of `subset import`:
// --scale (a factor every value is multiplied by) and --test-fraction/--seed (a stratified held-out
// split made from the training rows). Parsed and computed here; applied by the importers.
#include <cstdint>
#include <string>
#include <vector>

namespace subset::io {

// --scale: a positive finite factor every feature value is multiplied by, written as a decimal
// ("0.5", "2e-3") or a fraction A/B of two such numbers ("1/255"). A value v (already float32) becomes
// float32((double(v) * numerator) / denominator): "1/255" gives exactly numpy's
// x.astype(float32) / 255 for integer pixels, the Fashion-MNIST import's values.
struct Scale {
  double numerator = 1;
  double denominator = 1;
  std::string text;  // as given, e.g. "1/255"; recorded in the store
  double factor() const { return numerator / denominator; }
  float apply(float v) const {
    return static_cast<float>(static_cast<double>(v) * numerator / denominator);
  }
};
// Throws ParamError naming "scale" for anything but a positive finite number or fraction.
Scale parse_scale(const std::string& text);

// `import --test-fraction F --seed S`: a stratified held-out split made from the training rows.
struct TestSplit {
  double fraction = 0;  // in (0, 1)
  uint64_t seed = 0;
};
// How many rows of each class (class_sizes[c] rows of class c) go to the test split: T =
// round(F * N) in all (halves away from zero), divided in proportion to the class sizes by largest
// remainder (ties to the lower class id), except that a class keeps at least one row for training
// (a class of one row is never held out). Throws ParamError naming "test-fraction" when T is 0 or
// larger than what can be held out under that rule, or F is not in (0, 1).
std::vector<int64_t> stratified_test_counts(const std::vector<int64_t>& class_sizes, double fraction);
// The rows (ascending) held out for labels[0..N): stratified_test_counts of the label counts, the
// rows of class c drawn uniformly from its rows by Rng(seed).fork(c). Deterministic in the seed.
std::vector<int64_t> stratified_test_rows(const std::vector<int64_t>& labels, const TestSplit& split);

}  // namespace subset::io
