// Padding changes nothing: the same sequences padded to two lengths give the same loss and the
// same gradient for every parameter, bit for bit, for all three architectures.
#include <catch2/catch.hpp>

#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/models/init.hpp>
#include <ctformer/models/seq2seq.hpp>

#include "support/same_bits.hpp"

#include <cstring>
#include <memory>

using namespace ctformer;
using testing::same_bits;

namespace {

constexpr gpt_config gcfg{.vocab = 20, .context = 16, .d_model = 16, .heads = 2, .d_ff = 24, .layers = 2};
constexpr bert_config bcfg{.vocab = 20, .context = 16, .d_model = 16, .heads = 2, .d_ff = 24, .layers = 2};
constexpr seq2seq_config scfg{.src_vocab = 20, .tgt_vocab = 20, .src_context = 16, .tgt_context = 16,
                              .d_model = 16, .heads = 2, .d_ff = 24, .enc_layers = 2, .dec_layers = 2};
constexpr std::size_t B = 2;
const std::size_t lens[B] = {5, 3};
const std::int32_t seq[B][5] = {{3, 7, 1, 9, 4}, {8, 2, 6, 0, 0}};
const std::int32_t tgt[B][5] = {{5, 2, 11, 3, 7}, {4, 13, 1, 0, 0}};

template <std::size_t S, class Batch>
void fill_lm(Batch& b) {
  for (std::size_t i = 0; i < B; ++i)
    for (std::size_t s = 0; s < S; ++s) {
      const bool real = s < lens[i];
      b.ids(i, s) = real ? seq[i][s % 5] : 0;
      b.attention_mask(i, s) = real;
      if constexpr (requires { b.targets; }) b.targets(i, s) = real ? tgt[i][s % 5] : ignore_index;
      b.token_type(i, s) = 0;
    }
}

template <class M, class Batch1, class Batch2, class W1, class W2>
void check_same(Batch1& b1, Batch2& b2, W1& w1, W2& w2, unsigned seed) {
  auto p = std::make_unique<typename M::params>();
  initialize(*p, init_scheme::normal, 0.2, 2, seed);
  auto g1 = std::make_unique<typename M::params>();
  auto g2 = std::make_unique<typename M::params>();
  zero(*g1);
  zero(*g2);
  const auto l1 = M::forward_loss(*p, w1, b1);
  M::backward(*p, *g1, w1, b1, l1);
  const auto l2 = M::forward_loss(*p, w2, b2);
  M::backward(*p, *g2, w2, b2, l2);
  REQUIRE(l1.count == l2.count);
  REQUIRE(l1.loss == l2.loss);
  std::string where;
  const bool same = same_bits(*g1, *g2, &where);
  INFO("first differing gradient: " << where);
  REQUIRE(same);
}

}  // namespace

TEST_CASE("decoder_lm: padding to 6 or 11 positions gives identical loss and gradients", "[models]") {
  using M = decoder_lm<gcfg>;
  auto b1 = std::make_unique<token_batch<B, 6>>();
  auto b2 = std::make_unique<token_batch<B, 11>>();
  fill_lm<6>(*b1);
  fill_lm<11>(*b2);
  auto w1 = std::make_unique<M::workspace<B, 6>>();
  auto w2 = std::make_unique<M::workspace<B, 11>>();
  check_same<M>(*b1, *b2, *w1, *w2, 1);
}

TEST_CASE("encoder: padding to 6 or 11 positions gives identical loss and gradients", "[models]") {
  using M = encoder<bcfg, classify<3, pooling::mean>>;
  auto b1 = std::make_unique<classification_batch<B, 6>>();
  auto b2 = std::make_unique<classification_batch<B, 11>>();
  fill_lm<6>(*b1);
  fill_lm<11>(*b2);
  b1->labels(0) = b2->labels(0) = 2;
  b1->labels(1) = b2->labels(1) = 0;
  auto w1 = std::make_unique<M::workspace<B, 6>>();
  auto w2 = std::make_unique<M::workspace<B, 11>>();
  check_same<M>(*b1, *b2, *w1, *w2, 2);
  using MLM = encoder<bcfg, mlm>;
  auto m1 = std::make_unique<token_batch<B, 6>>();
  auto m2 = std::make_unique<token_batch<B, 11>>();
  fill_lm<6>(*m1);
  fill_lm<11>(*m2);
  auto v1 = std::make_unique<MLM::workspace<B, 6>>();
  auto v2 = std::make_unique<MLM::workspace<B, 11>>();
  check_same<MLM>(*m1, *m2, *v1, *v2, 3);
}

TEST_CASE("seq2seq: padding source and target gives identical loss and gradients", "[models]") {
  using M = seq2seq<scfg>;
  auto b1 = std::make_unique<seq2seq_batch<B, 6, 5>>();
  auto b2 = std::make_unique<seq2seq_batch<B, 12, 9>>();
  auto fill = [](auto& b, std::size_t Ss, std::size_t St) {
    for (std::size_t i = 0; i < B; ++i) {
      for (std::size_t s = 0; s < Ss; ++s) {
        const bool real = s < lens[i];
        b.src_ids(i, s) = real ? seq[i][s % 5] : 0;
        b.src_mask(i, s) = real;
      }
      for (std::size_t s = 0; s < St; ++s) {
        const bool real = s < lens[1 - i];
        b.tgt_in(i, s) = real ? tgt[1 - i][s % 5] : 0;
        b.tgt_out(i, s) = real ? seq[1 - i][s % 5] : ignore_index;
        b.tgt_mask(i, s) = real;
      }
    }
  };
  fill(*b1, 6, 5);
  fill(*b2, 12, 9);
  auto w1 = std::make_unique<M::workspace<B, 6, 5>>();
  auto w2 = std::make_unique<M::workspace<B, 12, 9>>();
  check_same<M>(*b1, *b2, *w1, *w2, 4);
}
