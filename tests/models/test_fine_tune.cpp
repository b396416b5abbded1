// Fine-tuning a tail (decoder_lm::tail<First>): blocks First..L-1, ln_f and an untied head train
// while the rest stays frozen behind a view. Its gradients, and its trajectory under
// train_step (AdamW, clipping, dropout), must equal bit for bit training the whole model with
// the frozen part in a frozen param_group; the frozen tensors must get no gradient and no state.
#include <catch2/catch.hpp>

#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/optim/optimizers.hpp>
#include <ctformer/schedules/schedules.hpp>
#include <ctformer/train/step.hpp>

#include <cstring>
#include <memory>

using namespace ctformer;

namespace {

template <std::size_t B, std::size_t S>
void fill_batch(token_batch<B, S>& b, std::size_t vocab, unsigned seed) {
  rng r(seed);
  for (std::size_t i = 0; i < B; ++i)
    for (std::size_t s = 0; s < S; ++s) {
      const bool real = i == 0 || s < S - 2;  // the second row ends in padding
      b.ids(i, s) = std::int32_t(r.below(vocab));
      b.targets(i, s) = real ? std::int32_t(r.below(vocab)) : ignore_index;
      b.attention_mask(i, s) = real ? 1 : 0;
      b.token_type(i, s) = 0;
    }
}

template <class P>
bool same_bits(const P& a, const P& b) {
  bool same = true;
  for_each_tensor(a, b, [&](const tensor_info&, const auto& x, const auto& y) {
    same = same && std::memcmp(x.data(), y.data(), x.size() * sizeof(*x.data())) == 0;
  });
  return same;
}

// The whole model's tensors that the tail trains, copied out as a tail.
template <class Tail, class P>
std::unique_ptr<typename Tail::params> tail_of(const P& p) {
  auto view = std::make_unique<typename Tail::model::params_view>();
  view_tensors(p, *view);
  auto t = std::make_unique<typename Tail::params>();
  Tail::take(*view, *t);
  t->base = nullptr;
  return t;
}

template <class M, std::size_t First>
void check_tail_equals_frozen_groups() {
  using Tail = typename M::template tail<First>;
  constexpr std::size_t B = 2, S = 6;
  auto p = std::make_unique<typename M::params>();
  M::init(*p, 21);
  // Norms and biases away from 1 and 0, so that their gradients are exercised.
  for_each_tensor(*p, [&](const tensor_info& info, auto& t) {
    if (info.role == role::norm || info.role == role::bias) {
      rng r(7 + t.size());
      for (auto& v : t) v += 0.1f * float(r.normal());
    }
  });
  const auto p0 = std::make_unique<typename M::params>(*p);
  auto base = std::make_unique<typename M::params_view>();
  view_tensors(*p0, *base);  // the frozen weights, read through a view as from flash

  // The whole model, the frozen part in frozen groups.
  adamw opt;
  opt.lr = 5e-3;
  opt.weight_decay = 0.1;
  adamw full_opt = opt;
  full_opt.groups = {param_group{.prefixes = {"wte.", "wpe."}, .frozen = true},
                     param_group{.layers_below = int(First), .frozen = true}};
  auto g = std::make_unique<typename M::params>();
  auto st = std::make_unique<adamw::fixed_state<typename M::params>>();
  full_opt.make_state(*p, *st);
  auto ws = std::make_unique<typename M::template workspace<B, S>>();

  // The tail: its weights start from the model's, the rest is read through base.
  auto tp = std::make_unique<typename Tail::params>();
  Tail::take(*base, *tp);
  auto tg = std::make_unique<typename Tail::params>();
  auto tst = std::make_unique<adamw::fixed_state<typename Tail::params>>();
  opt.make_state(*tp, *tst);
  auto tws = std::make_unique<typename Tail::template workspace<B, S>>();

  train_options o;
  o.clip = 0.03;  // below the gradient norm: clipping acts
  o.seed = 3;
  auto batch = std::make_unique<token_batch<B, S>>();
  for (int step = 0; step < 4; ++step) {
    fill_batch(*batch, M::V, 100 + step);
    const std::span<const token_batch<B, S>> micro(batch.get(), 1);
    const step_stats a = train_step<M>(*p, *g, full_opt, *st, constant{}, micro, *ws, o);
    const step_stats b = train_step<Tail>(*tp, *tg, opt, *tst, constant{}, micro, *tws, o);
    INFO("step " << step);
    CHECK(a.loss == b.loss);
    CHECK(a.grad_norm == b.grad_norm);
    CHECK(a.grad_norm > o.clip);
    // The gradients of the trained tensors, bit for bit, and none for the frozen ones.
    CHECK(same_bits(*tail_of<Tail>(*g), *tg));
    bool frozen_zero = true;
    for_each_tensor(*g, [&](const tensor_info& info, const auto& t) {
      const bool frozen = info.layer >= 0 ? info.layer < int(First) : (info.starts_with("wte") || info.starts_with("wpe"));
      if (frozen)
        for (std::size_t i = 0; i < t.size(); ++i) frozen_zero = frozen_zero && t.data()[i] == 0;
    });
    CHECK(frozen_zero);
    CHECK(same_bits(*tail_of<Tail>(*p), *tp));
  }
  // The weights did change, and the frozen part of the whole model did not.
  CHECK_FALSE(same_bits(*tail_of<Tail>(*p0), *tp));
  CHECK(std::memcmp(p->wte.data(), p0->wte.data(), p->wte.size() * sizeof(float)) == 0);
  if (First > 0)
    CHECK(std::memcmp(p->h[0].fc.weight.data(), p0->h[0].fc.weight.data(), p->h[0].fc.weight.size() * sizeof(float)) == 0);
  // put() writes the tail back into a whole model.
  auto merged = std::make_unique<typename M::params>(*p0);
  Tail::put(*tp, *merged);
  CHECK(same_bits(*merged, *p));
}

constexpr gpt_config pre_tied{.vocab = 23, .context = 8, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 3};
constexpr gpt_config post_untied{.vocab = 19, .context = 8, .d_model = 16, .heads = 4, .d_ff = 24, .layers = 3,
                                 .norm = norm_placement::post, .act = activation::relu, .pos = positional::sinusoidal,
                                 .tied_head = false, .dropout = 0.1f};

}  // namespace

TEST_CASE("fine-tuning a tail equals frozen param groups: pre-LN, tied head", "[models][fine_tune]") {
  using M = decoder_lm<pre_tied>;
  SECTION("last block") { check_tail_equals_frozen_groups<M, 2>(); }
  SECTION("last two blocks") { check_tail_equals_frozen_groups<M, 1>(); }
  SECTION("every block") { check_tail_equals_frozen_groups<M, 0>(); }
}

TEST_CASE("fine-tuning a tail equals frozen param groups: post-LN, untied head, dropout", "[models][fine_tune]") {
  using M = decoder_lm<post_untied>;
  SECTION("last block") { check_tail_equals_frozen_groups<M, 2>(); }
  SECTION("last two blocks") { check_tail_equals_frozen_groups<M, 1>(); }
}

TEST_CASE("a tail's memory covers the trained part only", "[models][fine_tune]") {
  using M = decoder_lm<pre_tied>;
  using Tail = M::tail<2>;
  static_assert(Tail::param_count == M::block_param_count + 2 * M::C);
  static_assert(tensor_count_v<Tail::params> == 12 + 2);
  // Weights, gradients and AdamW's two moments of the tail, plus its activations: one block's
  // cache instead of three, but a shared cache for the frozen blocks.
  static_assert(sizeof(M::tail<2>::workspace<2, 6>) < sizeof(M::workspace<2, 6>));
  static_assert(Tail::training_bytes<2, 6>(2) ==
                4 * Tail::param_count * sizeof(float) + sizeof(Tail::workspace<2, 6>));
  // Names and layers continue the whole model's numbering.
  auto tp = std::make_unique<Tail::params>();
  std::string names;
  for_each_tensor(*tp, [&](const tensor_info& info, const auto&) {
    if (info.role == role::norm) names += info.str() + "@" + std::to_string(info.layer) + " ";
  });
  CHECK(names == "h.2.ln_1.weight@2 h.2.ln_2.weight@2 ln_f.weight@-1 ");
  // Training without the frozen weights bound is an error, not a crash.
  auto ws = std::make_unique<Tail::workspace<1, 4>>();
  auto b = std::make_unique<token_batch<1, 4>>();
  fill_batch(*b, M::V, 1);
  CHECK_THROWS_WITH(Tail::forward_loss(*tp, *ws, *b), Catch::Contains("no frozen weights"));
}
