// Tests for libsubset/nn/autoencoder.h: on structured data (points near a low-dimensional subspace)
// the autoencoder reconstructs far better than the mean predictor; its saved state applies with the
// same bits; training is the same at 1 and 2 threads; the layer widths are parsed and checked; and
// libsubset_workflows_nn (linked here) installs it as the registry's provider.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/core/threads.h"
#include "libsubset/nn/autoencoder.h"
#include "libsubset/nn/gemm_backend.h"
#include "libsubset/transform/registry.h"
#include "libsubset/workflows/nn_entry.h"
#include "support/error_of.h"

using namespace subset;

namespace {

// n rows near a 3-dimensional subspace of R^d, in [0, 1]-like ranges.
RowMatrixF structured(int64_t n, int64_t d, uint64_t seed) {
  Rng rng(seed);
  RowMatrixF basis(3, d);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < d; ++j) basis(i, j) = static_cast<float>(rng.normal() / std::sqrt(static_cast<double>(d)));
  RowMatrixF x(n, d);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t j = 0; j < d; ++j) x(r, j) = 0.5f + static_cast<float>(0.01 * rng.normal());
    for (int64_t i = 0; i < 3; ++i) x.row(r) += static_cast<float>(rng.normal()) * basis.row(i);
  }
  return x;
}

ParamMap settings(int64_t epochs = 40, const std::string& encoder = "16", const std::string& decoder = "mirror") {
  return transform::method("autoencoder")
      .params.resolve({{"encoder", encoder}, {"decoder", decoder}, {"epochs", std::to_string(epochs)},
                       {"batch", "64"}, {"lr", "0.003"}});
}

std::unique_ptr<transform::Transform> trained(const RowMatrixF& x, int64_t k, const ParamMap& p, uint64_t seed = 3) {
  auto ae = nn::make_autoencoder(p);
  transform::FitOptions o;
  o.dim = k;
  o.seed = seed;
  ae->fit(transform::rows_of(view(x)), o);
  return ae;
}

double mse(const RowMatrixF& a, const RowMatrixF& b) {
  return (a - b).cast<double>().squaredNorm() / static_cast<double>(a.size());
}

}  // namespace

TEST_CASE("the autoencoder reconstructs structured data far better than the mean predictor") {
  const RowMatrixF all = structured(2500, 24, 1);  // one subspace for both splits
  const RowMatrixF train = all.topRows(2000), test = all.bottomRows(500);
  const auto ae = trained(train, 3, settings());
  REQUIRE(ae->can_reconstruct());
  auto reconstruction_mse = [&](const RowMatrixF& x) {
    const RowMatrixF codes = ae->apply(view(x));
    CHECK(codes.cols() == 3);
    RowMatrixF back(x.rows(), x.cols());
    ae->reconstruct(view(codes), back.data());
    return mse(back, x);
  };
  const Eigen::RowVectorXf mean = train.colwise().mean();
  const RowMatrixF predicted = mean.replicate(test.rows(), 1);
  const double baseline = mse(test, predicted);
  const double got = reconstruction_mse(test);
  INFO("test mse " << got << ", mean predictor " << baseline);
  CHECK(got < 0.1 * baseline);
  CHECK(reconstruction_mse(train) < 0.1 * baseline);
  const ModelState s = ae->save();
  CHECK(s.stats["epoch_mse"].size() == 40);
  CHECK(s.stats["epoch_mse"].back().get<double>() < s.stats["epoch_mse"].front().get<double>());
}

TEST_CASE("a loaded autoencoder applies and reconstructs with the same bits; seeds reproduce") {
  const RowMatrixF x = structured(500, 12, 4);
  const auto ae = trained(x, 2, settings(3, "8,6", "5"));
  const ModelState s = ae->save();
  CHECK(s.arrays.at("encoder_0_weight").shape == std::vector<int64_t>{8, 12});
  CHECK(s.arrays.at("encoder_1_weight").shape == std::vector<int64_t>{6, 8});
  CHECK(s.arrays.at("encoder_2_weight").shape == std::vector<int64_t>{2, 6});
  CHECK(s.arrays.at("decoder_0_weight").shape == std::vector<int64_t>{5, 2});
  CHECK(s.arrays.at("decoder_1_weight").shape == std::vector<int64_t>{12, 5});
  CHECK(s.arrays.at("decoder_1_bias").shape == std::vector<int64_t>{12});
  workflows::install_nn_providers();  // transform::load makes the autoencoder through the provider
  const auto loaded = transform::load(s, "model");
  const RowMatrixF codes = ae->apply(view(x));
  CHECK(loaded->apply(view(x)) == codes);
  RowMatrixF a(x.rows(), x.cols()), b(x.rows(), x.cols());
  ae->reconstruct(view(codes), a.data());
  loaded->reconstruct(view(codes), b.data());
  CHECK(a == b);
  CHECK(trained(x, 2, settings(3, "8,6", "5"))->apply(view(x)) == codes);
  CHECK(trained(x, 2, settings(3, "8,6", "5"), 4)->apply(view(x)) != codes);

  ModelState wrong = s;
  wrong.arrays.erase("decoder_1_bias");
  CHECK(test::error_of([&] { transform::load(wrong, "m.h5"); }).message().find("decoder_1_bias") != std::string::npos);
}

TEST_CASE("training gives the same weights at 1 and 2 threads") {
  const RowMatrixF x = structured(3000, 64, 5);
  set_threads(1);
  const ModelState one = trained(x, 4, settings(2, "128"))->save();
  set_threads(2);
  const ModelState two = trained(x, 4, settings(2, "128"))->save();
  set_threads(0);
  // The same bits on oneDNN's fixed-block products; libtorch's fallback (SUBSET_NN_GEMM=fallback,
  // or a oneDNN without dnnl_sgemm) sums in a thread-dependent order, so there only close.
  const bool same_bits = std::string(nn::gemm_backend()) == "onednn-sgemm";
  for (const auto& [name, array] : one.arrays) {
    CAPTURE(name);
    const auto& other = two.arrays.at(name).values;
    if (same_bits) {
      CHECK(array.values == other);
    } else {
      REQUIRE(array.values.size() == other.size());
      for (size_t i = 0; i < other.size(); ++i) CHECK(array.values[i] == doctest::Approx(other[i]).epsilon(1e-3));
    }
  }
}

TEST_CASE("layer widths: comma-separated positive integers") {
  CHECK(nn::parse_widths("", "encoder").empty());
  CHECK(nn::parse_widths("512,256,7", "encoder") == std::vector<int64_t>{512, 256, 7});
  for (const char* bad : {"0", "-3", "12,", ",4", "a", "1,,2", "4.5", "99999999999"}) {
    INFO(bad);
    const Error e = test::error_of([&] { nn::parse_widths(bad, "decoder"); });
    CHECK(e.where() == "decoder");
  }
  CHECK(test::error_of([] { nn::make_autoencoder(settings(1, "x")); }).where() == "encoder");
}

TEST_CASE("install_nn_providers() installs the autoencoder as the registry's provider") {
  workflows::install_nn_providers();
  CHECK(transform::available("autoencoder"));
  CHECK(transform::create("autoencoder", settings())->name() == "autoencoder");
}
