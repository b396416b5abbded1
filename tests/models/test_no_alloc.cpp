// Forward plus backward make no heap allocation, for all three architectures, on 1 and 2
// threads: this file replaces the global operator new and counts calls while a step runs.
#include <catch2/catch.hpp>

#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/models/init.hpp>
#include <ctformer/models/seq2seq.hpp>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

#include "support/count_allocations.hpp"

using alloc_count::allocations;
using alloc_count::counting;

using namespace ctformer;

namespace {

constexpr gpt_config gcfg{.vocab = 64, .context = 32, .d_model = 32, .heads = 4, .d_ff = 64, .layers = 2,
                          .dropout = 0.1f};
constexpr bert_config bcfg{.vocab = 64, .context = 32, .d_model = 32, .heads = 4, .d_ff = 64, .layers = 2,
                           .dropout = 0.1f};
constexpr seq2seq_config scfg{.src_vocab = 64, .tgt_vocab = 64, .src_context = 32, .tgt_context = 32,
                              .d_model = 32, .heads = 4, .d_ff = 64, .enc_layers = 2, .dec_layers = 2,
                              .dropout = 0.1f};

template <class M, class Batch, class WS>
long allocations_in_step(Batch& batch, WS& ws) {
  auto p = std::make_unique<typename M::params>();
  auto g = std::make_unique<typename M::params>();
  initialize(*p, init_scheme::normal, 0.02, 2, 1);
  zero(*g);
  const auto mode = run_mode::training(7, 1);
  auto lv = M::forward_loss(*p, ws, batch, mode);  // warm-up: first-use statics
  M::backward(*p, *g, ws, batch, lv, mode);
  allocations = 0;
  counting = true;
  lv = M::forward_loss(*p, ws, batch, mode);
  M::backward(*p, *g, ws, batch, lv, mode);
  counting = false;
  return allocations.load();
}

template <std::size_t B, std::size_t S, class Batch>
void fill(Batch& b) {
  for (std::size_t i = 0; i < B; ++i)
    for (std::size_t s = 0; s < S; ++s) {
      b.ids(i, s) = std::int32_t((i * 7 + s * 3) % 64);
      b.attention_mask(i, s) = s < S - i;
      b.token_type(i, s) = 0;
      if constexpr (requires { b.targets; }) b.targets(i, s) = s < S - i ? std::int32_t(s % 64) : ignore_index;
    }
  if constexpr (requires { b.labels; })
    for (std::size_t i = 0; i < B; ++i) b.labels(i) = std::int32_t(i % 2);
}

}  // namespace

TEST_CASE("forward and backward allocate nothing on the heap", "[models]") {
  // The counter sees allocations (so a zero below means something).
  allocations = 0;
  counting = true;
  auto probe = std::make_unique<int>(1);
  counting = false;
  REQUIRE(allocations.load() == 1);
  for (unsigned threads : {1u, 2u}) {
    set_num_threads(threads);
    INFO("threads: " << threads);
    {
      auto b = std::make_unique<token_batch<4, 32>>();
      fill<4, 32>(*b);
      auto ws = std::make_unique<decoder_lm<gcfg>::workspace<4, 32>>();
      CHECK(allocations_in_step<decoder_lm<gcfg>>(*b, *ws) == 0);
    }
    {
      auto b = std::make_unique<classification_batch<4, 32>>();
      fill<4, 32>(*b);
      auto ws = std::make_unique<encoder<bcfg, classify<2>>::workspace<4, 32>>();
      CHECK(allocations_in_step<encoder<bcfg, classify<2>>>(*b, *ws) == 0);
      auto mb = std::make_unique<token_batch<4, 32>>();
      fill<4, 32>(*mb);
      auto mws = std::make_unique<encoder<bcfg, mlm>::workspace<4, 32>>();
      CHECK(allocations_in_step<encoder<bcfg, mlm>>(*mb, *mws) == 0);
    }
    {
      auto b = std::make_unique<seq2seq_batch<4, 32, 24>>();
      for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t s = 0; s < 32; ++s) {
          b->src_ids(i, s) = std::int32_t(s % 64);
          b->src_mask(i, s) = s < 30;
        }
        for (std::size_t s = 0; s < 24; ++s) {
          b->tgt_in(i, s) = std::int32_t((s + 1) % 64);
          b->tgt_out(i, s) = s < 20 ? std::int32_t((s + 2) % 64) : ignore_index;
          b->tgt_mask(i, s) = s < 20;
        }
      }
      auto ws = std::make_unique<seq2seq<scfg>::workspace<4, 32, 24>>();
      CHECK(allocations_in_step<seq2seq<scfg>>(*b, *ws) == 0);
    }
  }
  set_num_threads(1);
}
