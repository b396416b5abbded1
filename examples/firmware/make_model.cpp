// Builds the firmware example's model: trains the small character GPT of firmware_model.hpp on a
// sonnet for a few hundred steps, continues a prompt greedily with the in-memory model (float
// and int8), and exports both as C++ headers whose expected continuation is the in-memory one.
// Then the on-device training's reference: the tiny model's initial weights and the losses of
// its 20 training steps on the host, as train_fp32.hpp; and on-device fine-tuning's: an 8-layer
// model pre-trained here and the losses of fine-tuning its last block, as finetune_fp32.hpp.
//   firmware_make_model <output folder>
#include <ctformer/deploy/export.hpp>
#include <ctformer/deploy/quantize.hpp>
#include <ctformer/train/trainer.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "firmware_model.hpp"

using namespace ctformer;

namespace {

constexpr std::string_view text =
    "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n"
    "Rough winds do shake the darling buds of May,\nAnd summer's lease hath all too short a date;\n"
    "Sometime too hot the eye of heaven shines,\nAnd often is his gold complexion dimm'd;\n"
    "And every fair from fair sometime declines,\nBy chance or nature's changing course untrimm'd;\n"
    "But thy eternal summer shall not fade,\nNor lose possession of that fair thou owest;\n"
    "Nor shall Death brag thou wander'st in his shade,\nWhen in eternal lines to time thou growest:\n"
    "So long as men can breathe or eyes can see,\nSo long lives this, and this gives life to thee.\n";
constexpr std::string_view prompt_text = "Shall I compare thee";
constexpr std::size_t n_generate = 24;

// Every row of b: a random window of the sonnet with next-character targets.
template <std::size_t B, std::size_t S>
void random_windows(token_batch<B, S>& b, rng& r) {
  for (std::size_t i = 0; i < B; ++i) {
    const std::size_t start = std::size_t(r.below(text.size() - S - 1));
    for (std::size_t s = 0; s < S; ++s) {
      b.ids(i, s) = firmware::encode_char(text[start + s]);
      b.targets(i, s) = firmware::encode_char(text[start + s + 1]);
      b.attention_mask(i, s) = 1;
      b.token_type(i, s) = 0;
    }
  }
}

std::string hex_doubles(const double* v, std::size_t n) {
  std::string s;
  char buf[64];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%a%s", v[i], i + 1 < n ? ", " : "");
    s += buf;
  }
  return s;
}

std::string ints(const std::int32_t* v, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += std::to_string(v[i]) + (i + 1 < n ? ", " : "");
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: firmware_make_model <output folder>\n");
    return 2;
  }
  const std::string dir = argv[1];
  using M = firmware::model;
  constexpr std::size_t B = 8, S = firmware::window;
  adamw opt;
  opt.lr = 3e-3;
  opt.weight_decay = 0.0;
  trainer<M, adamw, warmup_cosine> t(opt, warmup_cosine{.lr = 3e-3, .warmup = 20, .total = 400, .min_lr = 3e-4});
  auto batch = std::make_unique<token_batch<B, S>>();
  auto ws = std::make_unique<M::workspace<B, S>>();
  rng r(11);
  double loss = 0;
  for (int step = 0; step < 400; ++step) {
    random_windows(*batch, r);
    loss = t.train_step(*batch, *ws).loss;
  }
  std::printf("trained the firmware model: loss %.3f after 400 steps\n", loss);

  std::int32_t prompt[64];
  for (std::size_t i = 0; i < prompt_text.size(); ++i) prompt[i] = firmware::encode_char(prompt_text[i]);
  auto b1 = std::make_unique<token_batch<1, S>>();
  auto fws = std::make_unique<M::workspace<1, S>>();
  std::int32_t out_f[n_generate], out_q[n_generate];
  firmware::greedy<M>(t.weights(), *fws, *b1, prompt, prompt_text.size(), n_generate, out_f);
  using Q = quantized_lm<M>;
  auto q = std::make_unique<Q::params>();
  Q::quantize(t.weights(), *q);
  auto qws = std::make_unique<Q::workspace<1, S>>();
  firmware::greedy<Q>(*q, *qws, *b1, prompt, prompt_text.size(), n_generate, out_q);

  for (int pass = 0; pass < 2; ++pass) {
    const std::int32_t* out = pass ? out_q : out_f;
    std::string continuation;
    for (std::size_t i = 0; i < n_generate; ++i) continuation += firmware::alphabet[std::size_t(out[i])];
    std::printf("%s in memory: \"%s%s\"\n", pass ? "int8" : "fp32", std::string(prompt_text).c_str(),
                continuation.c_str());
    export_options o;
    o.ns = "firmware_weights";
    o.description = (pass ? "int8 " : "fp32 ") + M::describe();
    o.extra = "inline constexpr std::int32_t prompt[] = {" + ints(prompt, prompt_text.size()) +
              "};\ninline constexpr std::int32_t expected[] = {" + ints(out, n_generate) + "};\n";
    const std::string path = dir + (pass ? "/model_int8.hpp" : "/model_fp32.hpp");
    if (pass)
      export_header(path, *q, o);
    else
      export_header(path, t.weights(), o);
    std::printf("wrote %s\n", path.c_str());
  }

  // On-device training's reference: the same steps from the same initial weights, with the same
  // freestanding train_step and fixed-size optimizer state the device uses.
  using TM = firmware::train_model;
  constexpr std::size_t TS = firmware::train_seq;
  auto p0 = std::make_unique<TM::params>();
  TM::init(*p0, firmware::train_settings().seed);
  auto tp = std::make_unique<TM::params>(*p0);
  auto tg = std::make_unique<TM::params>();
  auto st = std::make_unique<adamw::fixed_state<TM::params>>();
  auto tws = std::make_unique<TM::workspace<1, TS>>();
  auto tb = std::make_unique<token_batch<1, TS>>();
  const adamw topt = firmware::train_optimizer();
  topt.make_state(*tp, *st);
  double losses[firmware::train_steps];
  for (std::size_t t = 0; t < firmware::train_steps; ++t) {
    firmware::train_batch(*tb, t);
    losses[t] = train_step<TM>(*tp, *tg, topt, *st, constant{}, std::span<const token_batch<1, TS>>(tb.get(), 1), *tws,
                               firmware::train_settings())
                    .loss;
  }
  std::printf("on-device training reference: loss %.4f -> %.4f over %zu steps\n", losses[0],
              losses[firmware::train_steps - 1], firmware::train_steps);
  export_options o;
  o.ns = "firmware_train";
  o.description = "initial weights of " + TM::describe();
  o.extra = "inline constexpr double expected_loss[] = {" + hex_doubles(losses, firmware::train_steps) + "};\n";
  export_header(dir + "/train_fp32.hpp", *p0, o);
  std::printf("wrote %s/train_fp32.hpp\n", dir.c_str());

  // On-device fine-tuning's model and reference: the 8-layer model pre-trained on the sonnet,
  // then 20 steps on a new line with the whole model in memory and everything but the last
  // block and ln_f in frozen groups - the path the device does not take (it trains a tail).
  using FM = firmware::finetune_model;
  adamw fopt;
  fopt.lr = 3e-3;
  trainer<FM, adamw, warmup_cosine> ft(fopt, warmup_cosine{.lr = 3e-3, .warmup = 20, .total = 300, .min_lr = 3e-4});
  auto fb = std::make_unique<token_batch<B, TS>>();
  auto pws = std::make_unique<FM::workspace<B, TS>>();
  for (int step = 0; step < 300; ++step) {
    random_windows(*fb, r);
    loss = ft.train_step(*fb, *pws).loss;
  }
  std::printf("pre-trained the fine-tuning model: loss %.3f after 300 steps\n", loss);
  auto fp = std::make_unique<FM::params>(ft.weights());
  auto fg = std::make_unique<FM::params>();
  auto fst = std::make_unique<adamw::fixed_state<FM::params>>();
  auto fws1 = std::make_unique<FM::workspace<1, TS>>();
  const adamw whole = firmware::finetune_optimizer(true);
  whole.make_state(*fp, *fst);
  for (std::size_t t = 0; t < firmware::train_steps; ++t) {
    firmware::finetune_batch(*tb, t);
    losses[t] = train_step<FM>(*fp, *fg, whole, *fst, constant{}, std::span<const token_batch<1, TS>>(tb.get(), 1),
                               *fws1, firmware::train_settings())
                    .loss;
  }
  std::printf("on-device fine-tuning reference: loss %.4f -> %.4f over %zu steps\n", losses[0],
              losses[firmware::train_steps - 1], firmware::train_steps);
  o.ns = "firmware_finetune";
  o.description = "pre-trained weights of " + FM::describe();
  o.extra = "inline constexpr double expected_loss[] = {" + hex_doubles(losses, firmware::train_steps) + "};\n";
  export_header(dir + "/finetune_fp32.hpp", ft.weights(), o);
  std::printf("wrote %s/finetune_fp32.hpp\n", dir.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "firmware_make_model: %s\n", e.what());
  return 1;
}
