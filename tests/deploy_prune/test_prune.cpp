// Pruning: magnitude pruning reaches the target sparsity in every weight matrix and removes the
// smallest entries; structured pruning removes whole heads and FFN neurons; masks keep pruned
// weights at zero through further training, and a head removed from a block stops contributing.
#include <catch2/catch.hpp>

#include <ctformer/deploy/prune.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/encoder.hpp>
#include <ctformer/train/trainer.hpp>

#include <memory>

using namespace ctformer;

namespace {
constexpr gpt_config cfg{.vocab = 20, .context = 8, .d_model = 16, .heads = 4, .d_ff = 32, .layers = 2};
using M = decoder_lm<cfg>;

void fill(token_batch<2, 8>& b) {
  for (std::size_t i = 0; i < 16; ++i) {
    b.ids.data()[i] = std::int32_t(i * 3 % 20);
    b.targets.data()[i] = std::int32_t((i * 3 + 1) % 20);
    b.attention_mask.data()[i] = 1;
    b.token_type.data()[i] = 0;
  }
}
}  // namespace

TEST_CASE("magnitude pruning removes the smallest weights of every matrix", "[deploy]") {
  auto p = std::make_unique<M::params>();
  M::init(*p, 3);
  auto before = std::make_unique<M::params>(*p);
  auto mask = full_mask<M::params>();
  prune_magnitude(*p, *mask, 0.5);
  const auto rep = measure_sparsity(*p);
  CHECK(rep.weights == Approx(0.5).margin(0.01));
  for_each_tensor(*p, *before, [&](const tensor_info& info, const auto& w, const auto& w0) {
    if (info.role != role::weight) {
      CHECK(std::memcmp(w.data(), w0.data(), w.size() * sizeof(float)) == 0);  // only weight matrices
      return;
    }
    float kept_min = 1e30f, cut_max = 0;
    std::size_t zeros = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w.data()[i] == 0) {
        ++zeros;
        cut_max = std::max(cut_max, std::abs(w0.data()[i]));
      } else {
        kept_min = std::min(kept_min, std::abs(w.data()[i]));
      }
    }
    INFO(info.str());
    CHECK(zeros == w.size() / 2);
    CHECK(cut_max <= kept_min);  // everything removed was at most as large as anything kept
  });
  CHECK_THROWS_WITH(prune_magnitude(*p, *mask, 1.0), Catch::Contains("sparsity must be in [0, 1)"));
}

TEST_CASE("masks keep pruned weights at zero while training continues", "[deploy]") {
  trainer<M, adamw> t;
  auto mask = full_mask<M::params>();
  prune_magnitude(t.weights(), *mask, 0.5);
  t.set_mask(std::move(mask));
  auto b = std::make_unique<token_batch<2, 8>>();
  fill(*b);
  auto ws = std::make_unique<M::workspace<2, 8>>();
  const double first = t.train_step(*b, *ws).loss;
  double last = first;
  for (int i = 0; i < 30; ++i) last = t.train_step(*b, *ws).loss;
  CHECK(last < first);
  CHECK(measure_sparsity(t.weights()).weights == Approx(0.5).margin(0.01));
}

TEST_CASE("structured pruning removes whole heads and FFN neurons", "[deploy]") {
  auto p = std::make_unique<M::params>();
  M::init(*p, 4);
  auto mask = full_mask<M::params>();
  const auto r = prune_structured<M>(*p, *mask, 0.5, 0.25);
  CHECK(r.heads_total == 8);
  CHECK(r.heads_pruned == 4);
  CHECK(r.neurons_total == 64);
  CHECK(r.neurons_pruned == 16);
  // A pruned head's q, k and v columns and its projection rows are all zero; count whole heads.
  const std::size_t C = 16, D = 4;
  std::size_t dead_heads = 0;
  for (const auto& blk : p->h)
    for (std::size_t h = 0; h < 4; ++h) {
      bool dead = true;
      for (std::size_t i = 0; i < C; ++i)
        for (std::size_t d = 0; d < D; ++d)
          for (std::size_t part = 0; part < 3; ++part) dead = dead && blk.qkv.weight(i, part * C + h * D + d) == 0;
      for (std::size_t d = 0; d < D; ++d)
        for (std::size_t j = 0; j < C; ++j) dead = dead && blk.proj.weight(h * D + d, j) == 0;
      dead_heads += dead;
    }
  CHECK(dead_heads == 4);
  // With half the heads gone the model still runs, and its loss is finite.
  auto ws = std::make_unique<M::workspace<2, 8>>();
  auto b = std::make_unique<token_batch<2, 8>>();
  fill(*b);
  CHECK(std::isfinite(M::forward_loss(*p, *ws, *b).loss));
  // The BERT layout (separate q, k, v) is handled too.
  constexpr bert_config bc{.vocab = 20, .context = 8, .d_model = 16, .heads = 4, .d_ff = 32, .layers = 1};
  using E = encoder<bc, classify<2>>;
  auto e = std::make_unique<E::params>();
  E::init(*e, 5);
  auto em = full_mask<E::params>();
  const auto er = prune_structured<E>(*e, *em, 0.25, 0.5);
  CHECK(er.heads_pruned == 1);
  CHECK(er.neurons_pruned == 16);
}
