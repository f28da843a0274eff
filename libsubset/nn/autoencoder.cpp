#include "libsubset/nn/autoencoder.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/index_select.h>
#include <ATen/ops/mse_loss.h>
#include <ATen/ops/zeros.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/adam.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/intra_op.h"
#include "libsubset/nn/gemm_backend.h"
#include "libsubset/nn/internal/linear.h"
#include "libsubset/nn/torch_threads.h"

namespace subset::nn {
namespace {

size_t sz(int64_t v) { return static_cast<size_t>(v); }

// Rows per forward pass when applying (no autograd).
constexpr int64_t kApplyRows = 4096;

// Layers as {weight [out, in], bias [out], ...}; ReLU after all but the last.
at::Tensor run_layers(const std::vector<at::Tensor>& layers, at::Tensor x) {
  for (size_t i = 0; i < layers.size(); i += 2) {
    x = internal::linear(x, layers[i], layers[i + 1]);
    if (i + 2 < layers.size()) x = x.relu_();
  }
  return x;
}

class Autoencoder : public transform::Transform {
 public:
  explicit Autoencoder(const ParamMap& params)
      : encoder_text_(params.get_string("encoder")),
        decoder_text_(params.get_string("decoder")),
        epochs_(params.get_int("epochs")),
        batch_(params.get_int("batch")),
        lr_(params.get_float("lr")),
        device_name_(params.get_string("device")),
        device_(internal::parse_device(device_name_)) {
    encoder_widths_ = parse_widths(encoder_text_, "encoder");
    if (decoder_text_ == "mirror") decoder_widths_.assign(encoder_widths_.rbegin(), encoder_widths_.rend());
    else decoder_widths_ = parse_widths(decoder_text_, "decoder");
    enable_torch_thread_control();
  }

  std::string_view name() const override { return "autoencoder"; }
  int64_t input_dim() const override { return d_; }
  int64_t output_dim() const override { return k_; }
  bool can_reconstruct() const override { return true; }

  void fit(const transform::RowSource& rows, const transform::FitOptions& options) override {
    d_ = rows.dim;
    k_ = options.dim;
    const int64_t n = rows.rows;
    SUBSET_CHECK(n >= 1, "autoencoder", "there are no rows to train on");
    const Rng root(options.seed);
    Rng init(root.fork(0).seed());
    encoder_.clear();
    decoder_.clear();
    for (const auto& [from, to] : layer_shapes(encoder_widths_, d_, k_)) add_layer(encoder_, init, from, to);
    for (const auto& [from, to] : layer_shapes(decoder_widths_, k_, d_)) add_layer(decoder_, init, from, to);

    RowMatrixF x = transform::read_all(rows);
    const at::Tensor host = at::from_blob(x.data(), {n, d_}, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor data = device_.is_cpu() ? host : host.to(device_);
    std::vector<at::Tensor> params = encoder_;
    params.insert(params.end(), decoder_.begin(), decoder_.end());

    internal::SerialIntraOp serial;
    at::AutoGradMode grad_mode(true);
    internal::Adam adam(params, lr_);
    Rng order_rng(root.fork(1).seed());
    const int64_t batch = std::min(batch_, n);
    std::vector<int64_t> order(sz(n));
    const at::Tensor order_host = at::from_blob(order.data(), {n}, at::TensorOptions().dtype(at::kLong));
    const at::Tensor x_buffer = at::empty({batch, d_}, data.options());
    std::vector<double> epoch_loss;
    for (int64_t epoch = 1; epoch <= epochs_; ++epoch) {
      check_interrupted();
      std::iota(order.begin(), order.end(), int64_t{0});
      for (int64_t i = n - 1; i > 0; --i) std::swap(order[sz(i)], order[order_rng.uniform_index(static_cast<uint64_t>(i) + 1)]);
      const at::Tensor epoch_rows = device_.is_cpu() ? order_host : order_host.to(device_);
      at::Tensor total = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device_));
      for (int64_t start = 0; start < n; start += batch) {
        const int64_t b = std::min(batch, n - start);
        at::Tensor xb = b == batch ? x_buffer : x_buffer.narrow(0, 0, b);
        {
          const internal::OmpThreads threads(internal::bulk_threads());
          at::index_select_out(xb, data, 0, epoch_rows.narrow(0, start, b));
        }
        adam.zero_grad();
        const at::Tensor loss = at::mse_loss(run_layers(decoder_, run_layers(encoder_, xb)), xb);
        loss.backward();
        adam.step();
        total.add_(loss.detach(), static_cast<double>(b));  // per-row mean squared errors, summed
      }
      epoch_loss.push_back(total.item<double>() / static_cast<double>(n));
      if (options.status) {
        std::ostringstream line;
        line << "autoencoder: epoch " << epoch << "/" << epochs_ << ", training mse " << epoch_loss.back();
        options.status(line.str());
      }
      if (options.progress) {
        ProgressUpdate u;
        u.done = epoch;
        u.total = epochs_;
        u.what = "fitting autoencoder";
        u.unit = "epochs";
        options.progress(u);
      }
    }
    for (auto& p : params) p.requires_grad_(false);
    stats_ = {{"epoch_mse", epoch_loss}, {"steps", adam.steps()}, {"backend", gemm_backend()}};
  }

  using Transform::apply;
  void apply(MatrixViewF rows, float* out) const override { forward(encoder_, rows, k_, out); }
  void reconstruct(MatrixViewF codes, float* out) const override { forward(decoder_, codes, d_, out); }

  ModelState save() const override {
    ModelState s;
    s.method = "autoencoder";
    s.input_dim = d_;
    s.output_dim = k_;
    s.params = {{"encoder", encoder_text_}, {"decoder", decoder_text_}, {"epochs", epochs_},
                {"batch", batch_}, {"lr", lr_}, {"device", device_name_}};
    s.stats = stats_;
    save_layers(encoder_, "encoder", s);
    save_layers(decoder_, "decoder", s);
    return s;
  }

  void load(const ModelState& state, const std::string& where) override {
    d_ = state.input_dim;
    k_ = state.output_dim;
    stats_ = state.stats;
    encoder_ = load_layers(state, "encoder", layer_shapes(encoder_widths_, d_, k_), where);
    decoder_ = load_layers(state, "decoder", layer_shapes(decoder_widths_, k_, d_), where);
  }

 private:
  // (in, out) of each layer from `from` through the hidden widths to `to`.
  static std::vector<std::pair<int64_t, int64_t>> layer_shapes(const std::vector<int64_t>& hidden, int64_t from,
                                                               int64_t to) {
    std::vector<std::pair<int64_t, int64_t>> out;
    int64_t in = from;
    for (int64_t w : hidden) {
      out.emplace_back(in, w);
      in = w;
    }
    out.emplace_back(in, to);
    return out;
  }

  void add_layer(std::vector<at::Tensor>& layers, Rng& rng, int64_t in, int64_t out) const {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    layers.push_back(internal::uniform_parameter(rng, out, in, bound, device_));
    layers.push_back(internal::uniform_parameter(rng, out, 0, bound, device_));
  }

  static void save_layers(const std::vector<at::Tensor>& layers, const std::string& prefix, ModelState& s) {
    for (size_t i = 0; i < layers.size(); ++i) {
      const at::Tensor t = layers[i].detach().to(at::kCPU).contiguous();
      const std::string name = prefix + "_" + std::to_string(i / 2) + (i % 2 == 0 ? "_weight" : "_bias");
      FloatArray& a = s.arrays[name];
      a.shape.assign(t.sizes().begin(), t.sizes().end());
      a.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    }
  }

  std::vector<at::Tensor> load_layers(const ModelState& s, const std::string& prefix,
                                      const std::vector<std::pair<int64_t, int64_t>>& shapes,
                                      const std::string& where) const {
    std::vector<at::Tensor> layers;
    for (size_t i = 0; i < shapes.size(); ++i) {
      const auto [in, out] = shapes[i];
      const std::string base = prefix + "_" + std::to_string(i) + "_";
      const FloatArray& w = s.array(base + "weight", {out, in}, where);
      const FloatArray& b = s.array(base + "bias", {out}, where);
      const auto options = at::TensorOptions().dtype(at::kFloat);
      layers.push_back(at::from_blob(const_cast<float*>(w.values.data()), {out, in}, options).to(device_, at::kFloat, false, true));
      layers.push_back(at::from_blob(const_cast<float*>(b.values.data()), {out}, options).to(device_, at::kFloat, false, true));
    }
    return layers;
  }

  // out [rows, width] = layers(rows), in blocks of kApplyRows, without autograd.
  void forward(const std::vector<at::Tensor>& layers, MatrixViewF rows, int64_t width, float* out) const {
    internal::SerialIntraOp serial;
    at::NoGradGuard no_grad;
    for (int64_t first = 0; first < rows.rows(); first += kApplyRows) {
      const int64_t count = std::min<int64_t>(kApplyRows, rows.rows() - first);
      const at::Tensor x = at::from_blob(const_cast<float*>(rows.data() + first * rows.cols()), {count, rows.cols()},
                                         at::TensorOptions().dtype(at::kFloat));
      const at::Tensor y = run_layers(layers, device_.is_cpu() ? x : x.to(device_)).to(at::kCPU).contiguous();
      std::memcpy(out + first * width, y.data_ptr<float>(), sizeof(float) * sz(count * width));
    }
  }

  std::string encoder_text_, decoder_text_;
  std::vector<int64_t> encoder_widths_, decoder_widths_;
  int64_t epochs_, batch_;
  double lr_;
  std::string device_name_;
  c10::Device device_;
  int64_t d_ = 0, k_ = 0;
  std::vector<at::Tensor> encoder_, decoder_;
  nlohmann::json stats_ = nlohmann::json::object();
};

}  // namespace

std::vector<int64_t> parse_widths(const std::string& text, const std::string& option) {
  std::vector<int64_t> out;
  if (text.empty()) return out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const bool digits = !item.empty() && item.size() <= 9 && item.find_first_not_of("0123456789") == std::string::npos;
    SUBSET_CHECK_PARAM(digits && std::stoll(item) >= 1, option,
                 "layer widths must be positive integers separated by commas, got '" << text << "'");
    out.push_back(std::stoll(item));
  }
  SUBSET_CHECK_PARAM(text.back() != ',', option, "layer widths must be positive integers separated by commas, got '" << text << "'");
  return out;
}

std::unique_ptr<transform::Transform> make_autoencoder(const ParamMap& params) {
  return std::make_unique<Autoencoder>(params);
}

}  // namespace subset::nn
