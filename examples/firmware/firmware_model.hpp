// The firmware example's models: a small character-level GPT, its alphabet, and the greedy
// generation that both the in-memory model (make_model.cpp) and the firmware (firmware.cpp) run,
// a full forward per token over a fixed window (no cache, nothing allocated); and a tiny GPT with
// the training run that the host and the device (train.cpp) both make, step by step.
// On a microcontroller it also sizes the kernels' scratch from the model, so include it before
// any other ctformer header.
#pragma once

#include <ctformer/base/platform.hpp>
#include <ctformer/config.hpp>
#include <ctformer/tensor/kernels/scratch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <string_view>

namespace firmware {

inline constexpr std::string_view alphabet =
    "\n !',-.:;?abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
inline constexpr ctformer::gpt_config cfg{.vocab = alphabet.size(), .context = 48, .d_model = 64, .heads = 4,
                                          .d_ff = 256, .layers = 2};
// On-device training: vocab 64 (the alphabet and two spare ids), context 16, d_model 32, 2 layers.
inline constexpr ctformer::gpt_config train_cfg{.vocab = 64, .context = 16, .d_model = 32, .heads = 2,
                                                .d_ff = 64, .layers = 2};
// On-device fine-tuning: the same shape with 8 layers, pre-trained on the host; its 284 KB of
// weights stay in flash (more than the 256 KiB of RAM the fine-tuning may use).
inline constexpr ctformer::gpt_config finetune_cfg{.vocab = 64, .context = 16, .d_model = 32, .heads = 2,
                                                   .d_ff = 64, .layers = 8};

}  // namespace firmware

// The thread scratch, sized from the model: generation's transposed products (the tied LM head,
// attention's scores) have depth d_model at most. Hosted builds keep their 5 MiB.
#if defined(CTFORMER_BARE_METAL) && !defined(CTFORMER_SCRATCH_BYTES)
#define CTFORMER_SCRATCH_BYTES (ctformer::kernels::gemm_scratch_bytes<float>(firmware::cfg.d_model))
#endif

#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/optim/optimizers.hpp>
#include <ctformer/train/step.hpp>

namespace firmware {

using model = ctformer::decoder_lm<cfg>;
inline constexpr std::size_t window = cfg.context;

inline std::int32_t encode_char(char c) {
  const auto p = alphabet.find(c);
  return p == std::string_view::npos ? 1 : std::int32_t(p);  // unknown -> space
}

// Greedy continuation of prompt[0:n_prompt] by n tokens into out; Model is decoder_lm or
// quantized_lm (both have forward(params, workspace, batch) filling ws.logits).
template <class Model, class Params, class Workspace>
void greedy(const Params& p, Workspace& ws, ctformer::token_batch<1, window>& b, const std::int32_t* prompt,
            std::size_t n_prompt, std::size_t n, std::int32_t* out) {
  for (std::size_t s = 0; s < window; ++s) {
    b.ids(0, s) = s < n_prompt ? prompt[s] : 0;
    b.attention_mask(0, s) = 1;  // causal: later positions never change earlier logits
    b.targets(0, s) = ctformer::ignore_index;
    b.token_type(0, s) = 0;
  }
  std::size_t len = n_prompt;
  for (std::size_t t = 0; t < n && len < window; ++t) {
    Model::forward(p, ws, b);
    const float* row = ws.logits.data() + (len - 1) * cfg.vocab;
    std::int32_t best = 0;
    for (std::int32_t v = 1; v < std::int32_t(cfg.vocab); ++v)
      if (row[v] > row[best]) best = v;
    out[t] = best;
    b.ids(0, len++) = best;
  }
}

// ---- on-device training: 20 AdamW steps of batch 1 over windows of a line of verse
using train_model = ctformer::decoder_lm<train_cfg>;
inline constexpr std::size_t train_steps = 20, train_seq = train_cfg.context;
inline constexpr std::string_view train_text = "Shall I compare thee to a summer's day? Thou art more lovely";

inline ctformer::adamw train_optimizer() {
  ctformer::adamw o;
  o.lr = 1e-2;
  o.weight_decay = 0.01;
  return o;
}
inline ctformer::train_options train_settings() {
  ctformer::train_options o;
  o.clip = 1.0;
  o.seed = 5;
  return o;
}
// Step t trains on the window of train_text starting at t (next-character targets).
inline void train_batch(ctformer::token_batch<1, train_seq>& b, std::size_t t) {
  const std::size_t start = t % (train_text.size() - train_seq);
  for (std::size_t s = 0; s < train_seq; ++s) {
    b.ids(0, s) = encode_char(train_text[start + s]);
    b.targets(0, s) = encode_char(train_text[start + s + 1]);
    b.attention_mask(0, s) = 1;
    b.token_type(0, s) = 0;
  }
}

// Compares each on-device training step's loss with the host's (within 1e-5 relative) and
// prints both; integers only, since newlib-nano's printf has no floating point.
struct loss_check {
  bool same = true;
  double worst = 0;  // the largest relative difference so far
  void step(std::size_t t, double loss, double want) {
    const double rel = std::abs(loss - want) / std::abs(want);
    worst = rel > worst ? rel : worst;
    same = same && rel <= 1e-5;
    std::printf("step %2lu loss x 1e6: %lu (host %lu)\n", (unsigned long)(t + 1), (unsigned long)(loss * 1e6 + 0.5),
                (unsigned long)(want * 1e6 + 0.5));
  }
  void report() const {
    std::printf("largest relative difference from the host: %lu x 1e-9\n", (unsigned long)(worst * 1e9 + 0.5));
  }
};

// ---- on-device fine-tuning: the last block and ln_f of a pre-trained 8-layer model train (the
// embeddings and blocks 0-6 stay frozen in flash), 20 AdamW steps over the three windows of a
// line the pre-training never saw. The host makes the same steps on the whole model with the
// rest in frozen groups.
using finetune_model = ctformer::decoder_lm<finetune_cfg>;
inline constexpr std::size_t finetune_first = finetune_cfg.layers - 1;
using finetune_tail = finetune_model::tail<finetune_first>;
inline constexpr std::string_view finetune_text = "When to the sessions of sweet silent thought I summon up";

inline ctformer::adamw finetune_optimizer(bool whole_model) {
  ctformer::adamw o = train_optimizer();
  o.lr = 1e-2;
  if (whole_model) {  // the same trajectory: everything but the tail frozen
    ctformer::param_group embeddings, blocks;
    embeddings.prefixes = {"wte.", "wpe."};
    embeddings.frozen = true;
    blocks.layers_below = int(finetune_first);
    blocks.frozen = true;
    o.groups = {embeddings, blocks};
  }
  return o;
}
inline constexpr std::size_t finetune_windows = 3;
static_assert(finetune_windows * train_seq < finetune_text.size());
// Step t trains on window t mod 3.
inline void finetune_batch(ctformer::token_batch<1, train_seq>& b, std::size_t t) {
  const std::size_t start = (t % finetune_windows) * train_seq;
  for (std::size_t s = 0; s < train_seq; ++s) {
    b.ids(0, s) = encode_char(finetune_text[start + s]);
    b.targets(0, s) = encode_char(finetune_text[start + s + 1]);
    b.attention_mask(0, s) = 1;
    b.token_type(0, s) = 0;
  }
}

}  // namespace firmware
