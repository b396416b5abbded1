// int8 quantization of a decoder_lm: every weight within half a step of its float value; the
// int8 forward close to the float forward of the same weights (and to the dequantized model); a
// safetensors round trip of the quantized model; size close to a quarter.
#include <catch2/catch.hpp>

#include <ctformer/deploy/kv_cache.hpp>
#include <ctformer/deploy/quantize.hpp>
#include <ctformer/io/weights.hpp>
#include <ctformer/models/init.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>
#include "support/exported_table.hpp"
#include "support/test_support.hpp"

using namespace ctformer;

namespace {

constexpr gpt_config pre_cfg{.vocab = 40, .context = 16, .d_model = 64, .heads = 4, .d_ff = 256, .layers = 2};
constexpr gpt_config post_cfg{.vocab = 40, .context = 16, .d_model = 64, .heads = 4, .d_ff = 256, .layers = 2,
                              .norm = norm_placement::post, .act = activation::relu, .pos = positional::sinusoidal,
                              .tied_head = false};

template <std::size_t B, std::size_t S>
void fill(token_batch<B, S>& b) {
  for (std::size_t i = 0; i < B * S; ++i) {
    b.ids.data()[i] = std::int32_t((i * 7 + 3) % 40);
    b.targets.data()[i] = std::int32_t((i * 7 + 10) % 40);
    b.attention_mask.data()[i] = 1;
    b.token_type.data()[i] = 0;
  }
}

template <gpt_config Cfg>
void check_model() {
  using M = decoder_lm<Cfg>;
  using Q = quantized_lm<M>;
  auto p = std::make_unique<typename M::params>();
  M::init(*p, 7);
  auto q = std::make_unique<typename Q::params>();
  Q::quantize(*p, *q);

  // Weights within half a quantization step.
  auto back = std::make_unique<typename M::params>();
  Q::dequantize(*q, *back);
  double worst = 0;
  for_each_tensor(*p, *back, [&](const tensor_info&, const auto& a, const auto& b) {
    double m = 0, e = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      m = std::max(m, std::abs(double(a.data()[i])));
      e = std::max(e, std::abs(double(a.data()[i]) - double(b.data()[i])));
    }
    if (m > 0) worst = std::max(worst, e / m);
  });
  CHECK(worst <= 0.5 / 127 + 1e-6);

  // Forward: int8 logits close to the float model's, loss within 1%.
  constexpr std::size_t B = 2, S = 16;
  auto batch = std::make_unique<token_batch<B, S>>();
  fill(*batch);
  auto fws = std::make_unique<typename M::template workspace<B, S>>();
  auto qws = std::make_unique<typename Q::template workspace<B, S>>();
  M::forward(*p, *fws, *batch);
  Q::forward(*q, *qws, *batch);
  double num = 0, den = 0;
  for (std::size_t i = 0; i < B * S * M::V; ++i) {
    num = std::max(num, std::abs(double(fws->logits.data()[i]) - double(qws->logits.data()[i])));
    den = std::max(den, std::abs(double(fws->logits.data()[i])));
  }
  INFO("logit difference " << num << " of scale " << den);
  CHECK(num <= 0.05 * den);
  const double lf = M::forward_loss(*p, *fws, *batch).loss, lq = Q::forward_loss(*q, *qws, *batch).loss;
  INFO("loss float " << lf << " int8 " << lq);
  CHECK(std::abs(lq - lf) <= 0.01 * lf);

  // Save and load as safetensors: I8 weights and F32 scales, bit-identical.
  const auto path = testing::temp_path("q.safetensors").string();
  save_weights(path, *q, {.layout = weight_layout::native});
  const auto f = safetensors::file::read(path);
  REQUIRE(f.find("h.0.attn.c_attn.weight"));
  CHECK(f.find("h.0.attn.c_attn.weight")->type == safetensors::dtype::I8);
  CHECK(f.find("h.0.attn.c_attn.weight_scale")->type == safetensors::dtype::F32);
  auto q2 = std::make_unique<typename Q::params>();
  load_weights(path, *q2, {.layout = weight_layout::native});
  CHECK(std::memcmp(q.get(), q2.get(), sizeof(*q)) == 0);
  Q::forward(*q2, *qws, *batch);
  // Size: int8 weights are a quarter of float; scales, norms and biases add a little.
  CHECK(double(M::weight_bytes) / double(Q::weight_bytes) > 3.4);
  std::remove(path.c_str());
}

// The int8 model through the KV cache: the same block and layer stack with cached keys and
// values, so every position's logits equal the int8 full forward's bit for bit, whether the
// prompt is prefilled in one pass, in uneven chunks or one token at a time.
template <gpt_config Cfg>
void check_int8_cache() {
  using M = decoder_lm<Cfg>;
  using Q = quantized_lm<M>;
  auto p = std::make_unique<typename M::params>();
  M::init(*p, 11);
  auto q = std::make_unique<typename Q::params>();
  Q::quantize(*p, *q);
  constexpr std::size_t S = 13, V = M::V;
  auto batch = std::make_unique<token_batch<1, S>>();
  fill(*batch);
  auto ws = std::make_unique<typename Q::template workspace<1, S>>();
  Q::forward(*q, *ws, *batch);
  const std::span<const std::int32_t> ids(batch->ids.data(), S);
  for (const std::size_t chunk : {S, std::size_t(5), std::size_t(1)}) {
    auto cache = kv_cache<Q>::make();
    std::vector<float> logits(S * V);
    for (std::size_t at = 0; at < S; at += chunk) {
      const std::size_t n = std::min(chunk, S - at);
      extend<Q>(*q, *cache, 0, ids.subspan(at, n), logits.data() + at * V);
    }
    INFO("chunk " << chunk);
    CHECK(std::memcmp(logits.data(), ws->logits.data(), S * V * sizeof(float)) == 0);
  }
  // A one-row cache (the firmware's): the smallest pass buffers, the same bits.
  auto one = kv_cache<Q, 1, 1>::make();
  std::vector<float> logits(S * V);
  extend<Q>(*q, *one, 0, ids, logits.data());
  CHECK(std::memcmp(logits.data(), ws->logits.data(), S * V * sizeof(float)) == 0);
  // The int8 weights read where they are (flash), through a view: the same bits.
  const testing::exported_table<typename Q::params> tab(*q);
  typename Q::params_view view;
  bind_exported(view, tab.span());
  one->clear();
  std::vector<float> viewed(S * V);
  extend<Q>(view, *one, 0, ids, viewed.data());
  CHECK(viewed == logits);
}

}  // namespace

TEST_CASE("the int8 KV cache gives the int8 full forward's logits bit for bit", "[deploy]") {
  check_int8_cache<pre_cfg>();
  check_int8_cache<post_cfg>();
}

TEST_CASE("int8 quantization of a pre-LN GPT with tied head", "[deploy]") { check_model<pre_cfg>(); }
TEST_CASE("int8 quantization of a post-LN GPT with untied head and sinusoidal positions", "[deploy]") {
  check_model<post_cfg>();
}

TEST_CASE("an int8 tensor loads only from an I8 tensor", "[deploy]") {
  using Q = quantized_lm<decoder_lm<pre_cfg>>;
  auto q = std::make_unique<Q::params>();
  auto p = std::make_unique<decoder_lm<pre_cfg>::params>();
  decoder_lm<pre_cfg>::init(*p, 1);
  const auto path = testing::temp_path("notq.safetensors").string();
  save_weights(path, *p, {.layout = weight_layout::native});
  CHECK_THROWS_WITH(load_weights(path, *q, {.layout = weight_layout::native, .allow_unexpected = true}),
                    Catch::Contains("tensor 'wte.weight' has dtype F32 but the model needs I8"));
  std::remove(path.c_str());
}
