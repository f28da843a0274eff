// Tests for the import traps of libsubset/io/importers.h (issue 19): --scale parsing, the NHWC
// layout (refused when it only looks like NHWC, transposed to C,H,W with the layout given), the
// stratified held-out split (per-class counts computed by hand) and the recorded value range.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/io/importers.h"
#include "libsubset/io/store.h"
#include "support/error_of.h"
#include "support/files.h"
#include "support/npy_builder.h"
#include "support/temp_dir.h"

using subset::io::FeatureStore;
using subset::io::ImageLayout;
using subset::io::OutputOptions;
using subset::io::Split;
using namespace subset::test;

namespace {

OutputOptions to(const std::string& path) {
  OutputOptions o;
  o.path = path;
  return o;
}

// The parameter a ParamError names ("" for any other Error).
template <typename F>
std::string parameter_of(F&& f) {
  try {
    f();
  } catch (const subset::ParamError& e) {
    return e.parameter();
  } catch (const subset::Error&) {
    return "";
  }
  FAIL("no subset::Error thrown");
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool has_note(const subset::io::ImportReport& r, const std::string& part) {
  return std::any_of(r.notes.begin(), r.notes.end(), [&](const std::string& n) { return contains(n, part); });
}

}  // namespace

TEST_CASE("parse_scale: decimals and fractions; zero, negative, non-finite and garbage are refused") {
  const auto s = subset::io::parse_scale("1/255");
  CHECK(s.numerator == 1.0);
  CHECK(s.denominator == 255.0);
  CHECK(s.text == "1/255");
  CHECK(subset::io::parse_scale("0.5").factor() == 0.5);
  CHECK(subset::io::parse_scale("+2e-3").factor() == 0.002);
  CHECK(subset::io::parse_scale("3/4").factor() == 0.75);
  CHECK(subset::io::parse_scale(".25").factor() == 0.25);
  for (const char* bad : {"0", "0/1", "1/0", "-1", "-1/255", "1/-255", "nan", "inf", "-inf", "1e999", "abc", "",
                          "1/", "/255", "1/2/3", " 1", "1 ", "0x10", "1,5", "1e-400"}) {
    CAPTURE(bad);
    CHECK(parameter_of([&] { subset::io::parse_scale(bad); }) == "scale");
  }
}

TEST_CASE("Scale 1/255 gives exactly x / 255 in float32 for every uint8 value") {
  const auto s = subset::io::parse_scale("1/255");
  for (int v = 0; v < 256; ++v) {
    CAPTURE(v);
    CHECK(s.apply(static_cast<float>(v)) == static_cast<float>(v) / 255.0f);
  }
  CHECK(s.apply(255.0f) == 1.0f);
  // A decimal factor is one multiplication in double, rounded to float32.
  CHECK(subset::io::parse_scale("0.1").apply(3.0f) == static_cast<float>(3.0 * 0.1));
}

TEST_CASE("stratified_test_counts: largest remainder, a training row kept per class (hand-computed)") {
  using subset::io::stratified_test_counts;
  // N = 11, T = round(3.3) = 3; quotas 1.36, 0.82, 0.55, 0.27: floors [1,0,0,0], then the two largest
  // remainders (classes 1, 2); the class of one row is never held out.
  CHECK(stratified_test_counts({5, 3, 2, 1}, 0.3) == std::vector<int64_t>{1, 1, 1, 0});
  // Equal remainders (2.5, 2.5): the lower class id first.
  CHECK(stratified_test_counts({10, 10}, 0.25) == std::vector<int64_t>{3, 2});
  // N = 11, T = round(5.5) = 6 (halves away from zero); the three single rows stay, class 3 gives 6.
  CHECK(stratified_test_counts({1, 1, 1, 8}, 0.5) == std::vector<int64_t>{0, 0, 0, 6});
  // A cap that binds: [2, 10] at 0.75: T = 9, quotas 1.5, 7.5; class 0 keeps one row (cap 1), class 1
  // takes the rest (8 of its 10).
  CHECK(stratified_test_counts({2, 10}, 0.75) == std::vector<int64_t>{1, 8});
  // Empty classes (label ids never used) get nothing.
  CHECK(stratified_test_counts({4, 0, 6}, 0.5) == std::vector<int64_t>{2, 0, 3});
  // The total is always round(F * N).
  CHECK(stratified_test_counts({7, 13, 29, 1, 50}, 0.2) ==
        std::vector<int64_t>{1, 3, 6, 0, 10});  // quotas 1.4, 2.6, 5.8, 0.2, 10: floors 1,2,5,0,10 + 2 largest

  CHECK(parameter_of([] { stratified_test_counts({3, 3}, 0.01); }) == "test-fraction");  // holds out no row
  CHECK(parameter_of([] { stratified_test_counts({2, 2}, 0.9); }) == "test-fraction");   // 4 > 2 possible
  CHECK(parameter_of([] { stratified_test_counts({1, 1, 1}, 0.5); }) == "test-fraction");
  for (double f : {0.0, 1.0, -0.1, 1.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    CAPTURE(f);
    CHECK(parameter_of([&] { stratified_test_counts({10, 10}, f); }) == "test-fraction");
  }
  const subset::Error e = error_of([] { stratified_test_counts({2, 2}, 0.9); });
  CHECK(contains(e.message(), "at most 2"));
}

TEST_CASE("stratified_test_rows: per-class counts, sorted distinct rows, deterministic in the seed") {
  std::vector<int64_t> labels;
  for (int i = 0; i < 200; ++i) labels.push_back((i * 7) % 5 == 0 ? 0 : (i % 3) + 1);  // four classes, uneven
  std::vector<int64_t> sizes(4, 0);
  for (int64_t l : labels) ++sizes[l];
  const auto expected = subset::io::stratified_test_counts(sizes, 0.3);
  const auto rows = subset::io::stratified_test_rows(labels, {0.3, 11});
  CHECK(static_cast<int64_t>(rows.size()) == 60);
  CHECK(std::is_sorted(rows.begin(), rows.end()));
  CHECK(std::set<int64_t>(rows.begin(), rows.end()).size() == rows.size());
  std::vector<int64_t> got(4, 0);
  for (int64_t r : rows) ++got[labels[r]];
  CHECK(got == expected);
  CHECK(subset::io::stratified_test_rows(labels, {0.3, 11}) == rows);
  CHECK(subset::io::stratified_test_rows(labels, {0.3, 12}) != rows);
}

TEST_CASE("import_npy: a channels-last 4-D array is refused without a layout and transposed with --layout nhwc") {
  TempDir dir;
  // [N=3, H=2, W=4, C=3]: value 1000 n + 100 h + 10 w + c.
  const int N = 3, H = 2, W = 4, C = 3;
  std::vector<float> nhwc;
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < H; ++h)
      for (int w = 0; w < W; ++w)
        for (int c = 0; c < C; ++c) nhwc.push_back(static_cast<float>(1000 * n + 100 * h + 10 * w + c));
  write_bytes(dir.file("x.npy"), npy_bytes("<f4", false, "(3, 2, 4, 3)", raw_le(nhwc)));
  subset::io::NpyImport req;
  req.features = dir.file("x.npy");

  const subset::Error e = error_of([&] { subset::io::import_npy(req, to(dir.file("a.h5"))); });
  CHECK(contains(e.message(), "looks like NHWC"));
  CHECK(contains(e.message(), "--layout nhwc"));
  CHECK_FALSE(path_exists(dir.file("a.h5")));

  req.layout = ImageLayout::NHWC;
  const auto report = subset::io::import_npy(req, to(dir.file("nhwc.h5")));
  CHECK(report.info.image_shape == std::vector<int64_t>{C, H, W});
  CHECK(has_note(report, "NHWC"));
  const auto x = FeatureStore::open(dir.file("nhwc.h5")).features().read_all();
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w) CHECK(x(n, c * H * W + h * W + w) == 1000 * n + 100 * h + 10 * w + c);

  // nchw keeps the rows as they are.
  req.layout = ImageLayout::NCHW;
  const auto kept = subset::io::import_npy(req, to(dir.file("nchw.h5")));
  CHECK(kept.info.image_shape == std::vector<int64_t>{H, W, C});
  const auto y = FeatureStore::open(dir.file("nchw.h5")).features().read_all();
  for (int n = 0; n < N; ++n)
    for (int i = 0; i < H * W * C; ++i) CHECK(y(n, i) == nhwc[static_cast<size_t>(n * H * W * C + i)]);

  // An explicit image shape must agree with the transpose.
  req.layout = ImageLayout::NHWC;
  req.image_shape = {H, W, C};
  CHECK(parameter_of([&] { subset::io::import_npy(req, to(dir.file("b.h5"))); }) == "image-shape");
  req.image_shape = {C, H, W};
  CHECK_NOTHROW(subset::io::import_npy(req, to(dir.file("c.h5"))));
}

TEST_CASE("import_npy: channels first is assumed and said; ambiguous shapes and a layout for non-4-D are refused") {
  TempDir dir;
  write_bytes(dir.file("nchw.npy"), npy_bytes("<f4", false, "(2, 3, 4, 5)", raw_le(std::vector<float>(120, 1.0f))));
  write_bytes(dir.file("amb.npy"), npy_bytes("<f4", false, "(2, 3, 4, 3)", raw_le(std::vector<float>(72, 1.0f))));
  write_bytes(dir.file("flat.npy"), npy_bytes("<f4", false, "(2, 6)", raw_le(std::vector<float>(12, 1.0f))));
  subset::io::NpyImport req;
  req.features = dir.file("nchw.npy");
  const auto report = subset::io::import_npy(req, to(dir.file("a.h5")));
  CHECK(report.info.image_shape == std::vector<int64_t>{3, 4, 5});
  CHECK(has_note(report, "layout NCHW (channels first)"));

  req.features = dir.file("amb.npy");
  const subset::Error e = error_of([&] { subset::io::import_npy(req, to(dir.file("b.h5"))); });
  CHECK(contains(e.message(), "could be NCHW or NHWC"));
  req.layout = ImageLayout::NHWC;
  CHECK(subset::io::import_npy(req, to(dir.file("b.h5"))).info.image_shape == std::vector<int64_t>{3, 3, 4});

  req.features = dir.file("flat.npy");
  CHECK(parameter_of([&] { subset::io::import_npy(req, to(dir.file("c.h5"))); }) == "layout");
}

TEST_CASE("import_npy: scale, uint8 note, and a stratified split with the rows and labels kept together") {
  TempDir dir;
  // 20 rows of 2 uint8 values: row r = (r, 200 + r / 4); labels: 12 of class 0, 6 of class 1, 2 of 2.
  std::vector<uint8_t> x;
  std::vector<int64_t> labels;
  for (int r = 0; r < 20; ++r) {
    x.push_back(static_cast<uint8_t>(r));
    x.push_back(static_cast<uint8_t>(200 + r / 4));
    labels.push_back(r < 12 ? 0 : r < 18 ? 1 : 2);
  }
  write_bytes(dir.file("x.npy"), npy_bytes("|u1", false, "(20, 2)", raw_le(x)));
  write_bytes(dir.file("y.npy"), npy_bytes("<i8", false, "(20,)", raw_le(labels)));
  subset::io::NpyImport req;
  req.features = dir.file("x.npy");
  req.labels = dir.file("y.npy");

  const auto plain = subset::io::import_npy(req, to(dir.file("plain.h5")));
  CHECK(has_note(plain, "values 0..255 (uint8); add --scale 1/255 for [0, 1]"));
  REQUIRE(plain.info.value_min);
  CHECK(*plain.info.value_min == 0.0);
  CHECK(*plain.info.value_max == 204.0);

  req.scale = subset::io::parse_scale("1/255");
  req.test_split = subset::io::TestSplit{0.25, 5};
  const auto report = subset::io::import_npy(req, to(dir.file("s.h5")));
  CHECK_FALSE(has_note(report, "add --scale"));
  // Sizes [12, 6, 2], T = 5: quotas 3, 1.5, 0.5; floors [3, 1, 0]; the remainders of classes 1 and 2
  // tie (0.5 each), so the fifth row goes to the lower id: [3, 2, 0].
  CHECK(report.info.n() == 15);
  CHECK(report.info.test_n() == 5);
  CHECK(report.info.test_class_counts == std::map<int64_t, int64_t>{{0, 3}, {1, 2}});
  CHECK(report.info.class_counts == std::map<int64_t, int64_t>{{0, 9}, {1, 4}, {2, 2}});
  const FeatureStore store = FeatureStore::open(dir.file("s.h5"));
  const auto train = store.features().read_all();
  const auto test = store.features(Split::Test).read_all();
  const auto train_labels = store.labels(), test_labels = store.labels(Split::Test);
  // Every source row lands once, scaled, with its own label; each split keeps the file's order.
  std::vector<int> seen(20, 0);
  auto check_split = [&](const subset::RowMatrixF& m, const std::vector<int64_t>& l) {
    int last = -1;
    for (int64_t i = 0; i < m.rows(); ++i) {
      const int r = static_cast<int>(std::lround(m(i, 0) * 255.0f));
      REQUIRE(r >= 0);
      REQUIRE(r < 20);
      CHECK(r > last);
      last = r;
      ++seen[r];
      CHECK(m(i, 0) == static_cast<float>(r) / 255.0f);
      CHECK(m(i, 1) == static_cast<float>(200 + r / 4) / 255.0f);
      CHECK(l[static_cast<size_t>(i)] == labels[static_cast<size_t>(r)]);
    }
  };
  check_split(train, train_labels);
  check_split(test, test_labels);
  CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
  CHECK(*report.info.value_min == 0.0);
  CHECK(*report.info.value_max == static_cast<double>(204.0f / 255.0f));

  // The split needs labels and no test file.
  subset::io::NpyImport nolabels;
  nolabels.features = dir.file("x.npy");
  nolabels.test_split = subset::io::TestSplit{0.25, 5};
  CHECK(parameter_of([&] { subset::io::import_npy(nolabels, to(dir.file("n.h5"))); }) == "test-fraction");
  req.test_features = dir.file("x.npy");
  CHECK(parameter_of([&] { subset::io::import_npy(req, to(dir.file("t.h5"))); }) == "test-fraction");
}

TEST_CASE("import_csv: scale and a stratified split") {
  TempDir dir;
  std::string text = "a,b,label\n";
  for (int r = 0; r < 10; ++r) text += std::to_string(r) + "," + std::to_string(-r) + "," + (r < 6 ? "cat" : "dog") + "\n";
  write_bytes(dir.file("t.csv"), text);
  subset::io::CsvImport req;
  req.path = dir.file("t.csv");
  req.label_column = "label";
  req.scale = subset::io::parse_scale("2");
  req.test_split = subset::io::TestSplit{0.5, 1};
  const auto report = subset::io::import_csv(req, to(dir.file("c.h5")));
  // T = 5: quotas 3 and 2.
  CHECK(report.info.test_class_counts == std::map<int64_t, int64_t>{{0, 3}, {1, 2}});
  CHECK(report.info.class_counts == std::map<int64_t, int64_t>{{0, 3}, {1, 2}});
  CHECK(*report.info.value_min == -18.0);
  CHECK(*report.info.value_max == 18.0);
  const FeatureStore store = FeatureStore::open(dir.file("c.h5"));
  std::set<int> rows;
  for (Split s : {Split::Train, Split::Test}) {
    const auto m = store.features(s).read_all();
    const auto l = store.labels(s);
    for (int64_t i = 0; i < m.rows(); ++i) {
      const int r = static_cast<int>(m(i, 0) / 2);
      CHECK(m(i, 1) == -2.0f * r);
      CHECK(l[static_cast<size_t>(i)] == (r < 6 ? 0 : 1));
      rows.insert(r);
    }
  }
  CHECK(rows.size() == 10);

  subset::io::CsvImport nolabel;
  nolabel.path = dir.file("t.csv");
  nolabel.test_split = subset::io::TestSplit{0.5, 1};
  CHECK(parameter_of([&] { subset::io::import_csv(nolabel, to(dir.file("d.h5"))); }) == "test-fraction");

  // A scale that overflows float32 names the value.
  subset::io::CsvImport big;
  big.path = dir.file("t.csv");
  big.label_column = "label";
  big.scale = subset::io::parse_scale("1e38");
  const subset::Error e = error_of([&] { subset::io::import_csv(big, to(dir.file("e.h5"))); });
  CHECK(contains(e.message(), "out of float32 range"));
  CHECK_FALSE(path_exists(dir.file("e.h5")));
}
