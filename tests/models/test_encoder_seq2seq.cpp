// encoder (MLM, classification with [CLS] and mean pooling, regression) and seq2seq: gradient
// checks in double on every parameter, with padding masks and cross-attention; constexpr figures.
#include <catch2/catch.hpp>

#include <ctformer/models/encoder.hpp>
#include <ctformer/models/init.hpp>
#include <ctformer/models/seq2seq.hpp>

#include <memory>

#include "support/gradcheck.hpp"

using namespace ctformer;

namespace {

constexpr std::size_t B = 2, S = 5;

// Real tokens, then padding from position `len` in every row but the first.
template <class Batch>
void fill_inputs(Batch& b, std::size_t V, std::size_t TV, rng& r, std::size_t len) {
  for (std::size_t i = 0; i < B; ++i)
    for (std::size_t s = 0; s < S; ++s) {
      const bool real = s < len || i == 0;
      b.ids(i, s) = std::int32_t(r.below(V));
      b.attention_mask(i, s) = real ? 1 : 0;
      b.token_type(i, s) = std::int32_t(s >= 2 ? r.below(TV) : 0);
    }
}

template <class P>
void perturb_norms(P& p, unsigned seed) {
  for_each_tensor(p, [&](const tensor_info& info, auto& t) {
    if (info.role == role::norm || info.role == role::bias) {
      rng r(seed + t.size());
      for (auto& v : t) v += 0.2 * r.normal();
    }
  });
}

template <class M, class Batch>
void gradcheck(Batch& batch, unsigned seed, double smoothing = 0.0) {
  using ws_t = typename M::template workspace<B, S>;
  auto p = std::make_unique<typename M::params>();
  auto g = std::make_unique<typename M::params>();
  auto ws = std::make_unique<ws_t>();
  initialize(*p, init_scheme::normal, 0.3, M::L, seed);
  perturb_norms(*p, seed);
  zero(*g);
  const auto lv = M::forward_loss(*p, *ws, batch, run_mode::eval(), smoothing);
  M::backward(*p, *g, *ws, batch, lv, run_mode::eval(), smoothing);
  auto r = testing::check_gradients(*p, *g, [&] { return M::forward_loss(*p, *ws, batch, run_mode::eval(), smoothing).loss; });
  INFO("worst " << r.worst << " at " << r.where << " numeric " << r.num << " analytic " << r.ana);
  REQUIRE(r.checked == M::param_count);
  REQUIRE(r.worst <= 1.0);
}

constexpr bert_config bert_post{.vocab = 13, .context = 6, .d_model = 8, .heads = 2, .d_ff = 12, .layers = 2};
constexpr bert_config bert_pre{.vocab = 13, .context = 6, .d_model = 8, .heads = 2, .d_ff = 12, .layers = 2,
                               .norm = norm_placement::pre, .act = activation::relu,
                               .pos = positional::sinusoidal, .tied_head = false};

}  // namespace

TEST_CASE("encoder with MLM head: gradients match central differences", "[grad]") {
  rng r(5);
  auto batch = std::make_unique<token_batch<B, S>>();
  fill_inputs(*batch, 13, 2, r, 3);
  for (std::size_t i = 0; i < B * S; ++i)
    batch->targets.data()[i] = (i % 3 == 0 && batch->attention_mask.data()[i]) ? std::int32_t(r.below(13)) : ignore_index;
  gradcheck<encoder<bert_post, mlm, double>>(*batch, 11);
  gradcheck<encoder<bert_pre, mlm, double>>(*batch, 12, 0.1);
}

TEST_CASE("encoder with classification heads ([CLS] and mean pooling): gradients", "[grad]") {
  rng r(6);
  auto batch = std::make_unique<classification_batch<B, S>>();
  fill_inputs(*batch, 13, 2, r, 2);
  batch->labels(0) = 2;
  batch->labels(1) = 0;
  gradcheck<encoder<bert_post, classify<3, pooling::cls>, double>>(*batch, 21);
  gradcheck<encoder<bert_pre, classify<3, pooling::mean>, double>>(*batch, 22);
}

TEST_CASE("encoder with a regression head: gradients", "[grad]") {
  rng r(7);
  auto batch = std::make_unique<regression_batch<B, S>>();
  fill_inputs(*batch, 13, 2, r, 4);
  batch->values(0) = 0.7f;
  batch->values(1) = -1.3f;
  batch->row_weight(0) = 1;
  batch->row_weight(1) = 1;
  gradcheck<encoder<bert_post, regress<pooling::mean>, double>>(*batch, 31);
}

namespace {
constexpr seq2seq_config s2s_pre{.src_vocab = 9, .tgt_vocab = 10, .src_context = 7, .tgt_context = 6,
                                 .d_model = 8, .heads = 2, .d_ff = 12, .enc_layers = 2, .dec_layers = 2};
constexpr seq2seq_config s2s_post{.src_vocab = 9, .tgt_vocab = 10, .src_context = 7, .tgt_context = 6,
                                  .d_model = 8, .heads = 2, .d_ff = 12, .enc_layers = 1, .dec_layers = 2,
                                  .norm = norm_placement::post, .act = activation::gelu,
                                  .pos = positional::learned, .tied_head = false};

template <class M>
void gradcheck_s2s(unsigned seed) {
  constexpr std::size_t Ss = 4, St = 5;
  auto batch = std::make_unique<seq2seq_batch<B, Ss, St>>();
  rng r(seed);
  for (std::size_t i = 0; i < B; ++i) {
    for (std::size_t s = 0; s < Ss; ++s) {
      batch->src_ids(i, s) = std::int32_t(r.below(M::Vs));
      batch->src_mask(i, s) = (i == 0 || s < 2) ? 1 : 0;
    }
    for (std::size_t s = 0; s < St; ++s) {
      const bool real = i == 0 || s < 3;
      batch->tgt_in(i, s) = std::int32_t(r.below(M::Vt));
      batch->tgt_out(i, s) = real ? std::int32_t(r.below(M::Vt)) : ignore_index;
      batch->tgt_mask(i, s) = real ? 1 : 0;
    }
  }
  auto p = std::make_unique<typename M::params>();
  auto g = std::make_unique<typename M::params>();
  auto ws = std::make_unique<typename M::template workspace<B, Ss, St>>();
  initialize(*p, init_scheme::xavier_normal, 0.3, 2, seed);
  perturb_norms(*p, seed);
  zero(*g);
  const auto lv = M::forward_loss(*p, *ws, *batch, run_mode::eval(), 0.1);
  M::backward(*p, *g, *ws, *batch, lv, run_mode::eval(), 0.1);
  auto rep = testing::check_gradients(*p, *g, [&] { return M::forward_loss(*p, *ws, *batch, run_mode::eval(), 0.1).loss; });
  INFO("worst " << rep.worst << " at " << rep.where << " numeric " << rep.num << " analytic " << rep.ana);
  REQUIRE(rep.checked == M::param_count);
  REQUIRE(rep.worst <= 1.0);
}
}  // namespace

TEST_CASE("seq2seq with cross-attention: gradients match central differences", "[grad]") {
  gradcheck_s2s<seq2seq<s2s_pre, double>>(41);
  gradcheck_s2s<seq2seq<s2s_post, double>>(42);
}

TEST_CASE("encoder and seq2seq constexpr figures agree with their parameters", "[models]") {
  using E = encoder<bert_post, classify<3>, float>;
  auto e = std::make_unique<E::params>();
  REQUIRE(count_scalars(*e) == E::param_count);
  REQUIRE(count_scalars(e->body) == E::body_param_count);
  using E2 = encoder<bert_pre, mlm, float>;
  auto e2 = std::make_unique<E2::params>();
  REQUIRE(count_scalars(*e2) == E2::param_count);
  using S1 = seq2seq<s2s_pre, float>;
  auto s1 = std::make_unique<S1::params>();
  REQUIRE(count_scalars(*s1) == S1::param_count);
  using S2 = seq2seq<s2s_post, float>;
  auto s2 = std::make_unique<S2::params>();
  REQUIRE(count_scalars(*s2) == S2::param_count);
}
