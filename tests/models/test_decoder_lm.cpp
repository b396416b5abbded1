// decoder_lm: gradient checks in double on every parameter (pre-LN and post-LN, tied and untied,
// learned and sinusoidal positions, GELU and ReLU, with padding), constexpr figures, padding
// invariance.
#include <catch2/catch.hpp>

#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/init.hpp>

#include <memory>

#include "support/gradcheck.hpp"

using namespace ctformer;

namespace {

template <class M, std::size_t B, std::size_t S>
void fill_batch(token_batch<B, S>& b, unsigned seed, std::size_t pad_from = S) {
  rng r(seed);
  for (std::size_t i = 0; i < B; ++i)
    for (std::size_t s = 0; s < S; ++s) {
      const bool real = s < pad_from || i == 0;
      b.ids(i, s) = std::int32_t(r.below(M::V));
      b.targets(i, s) = real ? std::int32_t(r.below(M::V)) : ignore_index;
      b.attention_mask(i, s) = real ? 1 : 0;
      b.token_type(i, s) = 0;
    }
}

template <class M>
void gradcheck_model(unsigned seed, double smoothing = 0.0) {
  constexpr std::size_t B = 2, S = 5;
  using ws_t = typename M::template workspace<B, S>;
  auto p = std::make_unique<typename M::params>();
  auto g = std::make_unique<typename M::params>();
  auto ws = std::make_unique<ws_t>();
  auto batch = std::make_unique<token_batch<B, S>>();
  initialize(*p, init_scheme::normal, 0.3, M::L, seed);
  // LayerNorm scales and biases away from 1 and 0 so their gradients are exercised.
  for_each_tensor(*p, [&](const tensor_info& info, auto& t) {
    if (info.role == role::norm || info.role == role::bias) {
      rng r(seed + t.size());
      for (auto& v : t) v += 0.2 * r.normal();
    }
  });
  fill_batch<M>(*batch, seed, 3);
  zero(*g);
  const auto lv = M::forward_loss(*p, *ws, *batch, run_mode::eval(), smoothing);
  M::backward(*p, *g, *ws, *batch, lv, run_mode::eval(), smoothing);
  auto r = testing::check_gradients(*p, *g, [&] { return M::forward_loss(*p, *ws, *batch, run_mode::eval(), smoothing).loss; });
  INFO("worst " << r.worst << " at " << r.where << " numeric " << r.num << " analytic " << r.ana
                << " over " << r.checked << " elements");
  REQUIRE(r.checked == M::param_count);
  REQUIRE(r.worst <= 1.0);
}

constexpr gpt_config base{.vocab = 11, .context = 6, .d_model = 8, .heads = 2, .d_ff = 12, .layers = 2};
constexpr gpt_config post_untied{.vocab = 11, .context = 6, .d_model = 8, .heads = 2, .d_ff = 12, .layers = 2,
                                 .norm = norm_placement::post, .act = activation::relu,
                                 .pos = positional::sinusoidal, .tied_head = false};

}  // namespace

TEST_CASE("decoder_lm gradients match central differences (pre-LN, tied, learned, GELU)", "[grad]") {
  gradcheck_model<decoder_lm<base, double>>(1);
}

TEST_CASE("decoder_lm gradients match central differences (post-LN, untied, sinusoidal, ReLU)", "[grad]") {
  gradcheck_model<decoder_lm<post_untied, double>>(2);
}

TEST_CASE("decoder_lm gradients with label smoothing", "[grad]") {
  gradcheck_model<decoder_lm<base, double>>(3, 0.1);
}

TEST_CASE("decoder_lm constexpr figures agree with its parameters", "[models]") {
  using M = decoder_lm<base, float>;
  auto p = std::make_unique<M::params>();
  REQUIRE(count_scalars(*p) == M::param_count);
  using M2 = decoder_lm<post_untied, float>;
  auto p2 = std::make_unique<M2::params>();
  REQUIRE(count_scalars(*p2) == M2::param_count);
  STATIC_REQUIRE(M::weight_bytes == M::param_count * sizeof(float));
  STATIC_REQUIRE(M::activation_bytes<2, 5> > 0);
  STATIC_REQUIRE(M::training_flops_per_token() == 3 * M::forward_flops_per_token());
}
