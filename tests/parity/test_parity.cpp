// Parity with PyTorch for the GPT-like, BERT-like and encoder-decoder models in float: logits,
// loss, every parameter gradient and the losses of five AdamW steps, against the fixtures that
// tests/reference/torch_models.py computed (in double) from the same weights and batches.
// Tolerance: for each tensor, max|ours - ref| <= 1e-4 * max(max|ref|, 1e-3): relative to the
// tensor's scale, with a floor for tensors whose exact gradient is zero (key biases: softmax
// ignores a shift shared by a whole row of scores, so only float rounding remains there).
// This test instantiates all three models; the build prints its compile time.
#include <catch2/catch.hpp>

#include <ctformer/io/weights.hpp>
#include <ctformer/models/init.hpp>
#include <ctformer/tensor/kernels/adamw.hpp>

#include <cmath>
#include <memory>
#include <string>

#include "parity/parity_models.hpp"

using namespace ctformer;
using namespace ctformer::parity;

namespace {

const std::string fixtures = std::string(CTFORMER_TEST_SOURCE_DIR) + "/reference/fixtures/";

template <class Tensor>
void read_int(const safetensors::file& f, const std::string& name, Tensor& t) {
  const auto* e = f.find(name);
  REQUIRE(e);
  REQUIRE(e->type == safetensors::dtype::I32);
  REQUIRE(e->elements() == t.size());
  std::memcpy(t.data(), f.data(*e), t.size() * sizeof(std::int32_t));
}

std::vector<float> read_floats(const safetensors::file& f, const std::string& name) {
  const auto* e = f.find(name);
  INFO("fixture tensor " << name);
  REQUIRE(e);
  REQUIRE(e->type == safetensors::dtype::F32);
  std::vector<float> v(e->elements());
  std::memcpy(v.data(), f.data(*e), v.size() * sizeof(float));
  return v;
}

// max|a - b| / max(max|b|, 1e-3)
double rel_diff(const float* a, const std::vector<float>& b) {
  double num = 0, den = 1e-3;
  for (std::size_t i = 0; i < b.size(); ++i) {
    num = std::max(num, std::abs(double(a[i]) - double(b[i])));
    den = std::max(den, std::abs(double(b[i])));
  }
  return num / den;
}

// Gradients in the file follow Hugging Face layouts; bring ours there before comparing.
template <class Tensor>
std::vector<float> hf_layout(const tensor_info& info, const Tensor& t) {
  std::vector<float> v(t.begin(), t.end());
  if (info.hf_transposed() && t.dimension() == 2) {
    const std::size_t r = t.shape()[0], c = t.shape()[1];
    for (std::size_t i = 0; i < r; ++i)
      for (std::size_t j = 0; j < c; ++j) v[j * r + i] = t.data()[i * c + j];
  }
  return v;
}

template <class M, class Batch, class WS>
void check_model(const std::string& name, Batch& batch, WS& ws) {
  const auto inputs = safetensors::file::read(fixtures + name + "_inputs.safetensors");
  const auto expected = safetensors::file::read(fixtures + name + "_expected.safetensors");
  auto p = std::make_unique<typename M::params>();
  auto g = std::make_unique<typename M::params>();
  load_weights(inputs, *p, {.allow_unexpected = true});
  zero(*g);

  const auto lv = M::forward_loss(*p, ws, batch, run_mode::eval(), label_smoothing);
  // Logits: forward_loss turned them into probabilities, so run forward once more for them.
  const auto logits_ref = read_floats(expected, "logits");
  const auto loss_ref = read_floats(expected, "loss");
  INFO(name << ": loss " << lv.loss << " reference " << loss_ref[0]);
  CHECK(std::abs(lv.loss - loss_ref[0]) <= 1e-4 * std::abs(loss_ref[0]));
  M::backward(*p, *g, ws, batch, lv, run_mode::eval(), label_smoothing);
  std::size_t compared = 0;
  for_each_tensor(*g, [&](const tensor_info& info, const auto& t) {
    const auto ref = read_floats(expected, "grad." + info.str());
    REQUIRE(ref.size() == t.size());
    const auto ours = hf_layout(info, t);
    const double d = rel_diff(ours.data(), ref);
    INFO(name << " gradient " << info.str() << " relative difference " << d);
    CHECK(d <= 1e-4);
    ++compared;
  });
  CHECK(compared + 2 <= expected.tensors().size());
  M::forward(*p, ws, batch, run_mode::eval());
  const float* logits = [&] {
    if constexpr (requires { ws.logits; }) return ws.logits.data();
    else return ws.head_ws.logits.data();
  }();
  REQUIRE(logits_ref.size() > 0);
  INFO(name << " logits");
  CHECK(rel_diff(logits, logits_ref) <= 1e-4);

  // Five AdamW steps (every tensor decayed, as the reference does) and the loss after each.
  const auto losses_ref = read_floats(expected, "adamw_losses");
  auto m = std::make_unique<typename M::params>();
  auto v = std::make_unique<typename M::params>();
  zero(*m);
  zero(*v);
  for (int step = 1; step <= adamw_steps + 1; ++step) {
    zero(*g);
    const auto l = M::forward_loss(*p, ws, batch, run_mode::eval(), label_smoothing);
    INFO(name << " AdamW loss before step " << step << ": " << l.loss << " reference " << losses_ref[step - 1]);
    CHECK(std::abs(l.loss - losses_ref[step - 1]) <= 1e-4 * std::abs(losses_ref[step - 1]));
    if (step > adamw_steps) break;
    M::backward(*p, *g, ws, batch, l, run_mode::eval(), label_smoothing);
    kernels::adamw_step<float> s{.lr = adamw_lr, .weight_decay = adamw_wd, .step = step};
    for_each_tensor(*p, *g, *m, *v, [&](const tensor_info&, auto& w, auto& dw, auto& mw, auto& vw) {
      kernels::adamw_update(w.data(), dw.data(), mw.data(), vw.data(), w.size(), s);
    });
  }
  // PyTorch -> ctformer: load the weights PyTorch's AdamW produced; ctformer's loss on them must
  // be PyTorch's final loss. (Weights are not compared one by one: for parameters whose exact
  // gradient is zero, such as key biases, Adam's update follows the sign of rounding noise.)
  auto t = std::make_unique<typename M::params>();
  load_weights(expected, *t, {.prefixes = {"trained."}, .allow_unexpected = true});
  const auto lt = M::forward_loss(*t, ws, batch, run_mode::eval(), label_smoothing);
  INFO(name << ": loss on PyTorch's trained weights " << lt.loss << " reference " << losses_ref[adamw_steps]);
  CHECK(std::abs(lt.loss - losses_ref[adamw_steps]) <= 1e-4 * std::abs(losses_ref[adamw_steps]));
}

}  // namespace

TEST_CASE("GPT-like model matches PyTorch: logits, loss, gradients, AdamW losses", "[parity]") {
  const auto inputs = safetensors::file::read(fixtures + "gpt_inputs.safetensors");
  auto batch = std::make_unique<token_batch<B, S>>();
  read_int(inputs, "input.ids", batch->ids);
  read_int(inputs, "input.targets", batch->targets);
  read_int(inputs, "input.attention_mask", batch->attention_mask);
  batch->token_type.fill(0);
  auto ws = std::make_unique<gpt_model<>::workspace<B, S>>();
  check_model<gpt_model<>>("gpt", *batch, *ws);
}

TEST_CASE("BERT-like model matches PyTorch: logits, loss, gradients, AdamW losses", "[parity]") {
  const auto inputs = safetensors::file::read(fixtures + "bert_inputs.safetensors");
  auto batch = std::make_unique<token_batch<B, S>>();
  read_int(inputs, "input.ids", batch->ids);
  read_int(inputs, "input.targets", batch->targets);
  read_int(inputs, "input.attention_mask", batch->attention_mask);
  read_int(inputs, "input.token_type", batch->token_type);
  auto ws = std::make_unique<bert_model<>::workspace<B, S>>();
  check_model<bert_model<>>("bert", *batch, *ws);
}

TEST_CASE("Encoder-decoder model matches PyTorch: logits, loss, gradients, AdamW losses", "[parity]") {
  const auto inputs = safetensors::file::read(fixtures + "s2s_inputs.safetensors");
  auto batch = std::make_unique<seq2seq_batch<B, Ss, St>>();
  read_int(inputs, "input.src_ids", batch->src_ids);
  read_int(inputs, "input.src_mask", batch->src_mask);
  read_int(inputs, "input.tgt_in", batch->tgt_in);
  read_int(inputs, "input.tgt_out", batch->tgt_out);
  read_int(inputs, "input.tgt_mask", batch->tgt_mask);
  auto ws = std::make_unique<s2s_model<>::workspace<B, Ss, St>>();
  check_model<s2s_model<>>("s2s", *batch, *ws);
}
