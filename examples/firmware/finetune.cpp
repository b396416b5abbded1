// On-device fine-tuning within 256 KiB of RAM: an 8-layer GPT pre-trained on the host
// (finetune_fp32.hpp, 284 KB of weights: more than the RAM allowed) stays in flash, read through
// a params_view; only its last block and ln_f train (decoder_lm::tail, chosen at compile time),
// so only they get RAM copies, gradients and AdamW moments, and only they keep activations for
// backward. 20 AdamW steps (clipping, the constant schedule) over the three windows of a line
// the pre-training never saw; the program exits 0 only when every loss is within 1e-5
// (relative) of the host's, which trained the whole model in memory with everything else in
// frozen groups, and the line's loss has fallen. The RAM budget is a static_assert.
#include "firmware_model.hpp"  // first: it sizes the kernels' scratch on a microcontroller

#include <cmath>
#include <cstdio>
#include <span>

#include <ctformer/deploy/exported.hpp>
#include <ctformer/schedules/schedules.hpp>

#include "finetune_fp32.hpp"
#include "no_heap.hpp"

#if !defined(CTFORMER_FIRMWARE_STACK_BYTES)
#define CTFORMER_FIRMWARE_STACK_BYTES 0
#define CTFORMER_FIRMWARE_HEAP_BYTES 0
#endif

namespace {
using M = firmware::finetune_model;
using Tail = firmware::finetune_tail;
constexpr std::size_t S = firmware::train_seq;
using state_t = ctformer::adamw::fixed_state<Tail::params>;

M::params_view frozen;  // one pointer per tensor; the weights stay in flash
Tail::params weights, grads;
state_t state;
Tail::workspace<1, S> ws;
ctformer::token_batch<1, S> batch;

constexpr std::size_t ram_bytes = sizeof(frozen) + sizeof(weights) + sizeof(grads) + sizeof(state) + sizeof(ws) +
                                  sizeof(batch) + ctformer::thread_pool::scratch_bytes +
                                  CTFORMER_FIRMWARE_STACK_BYTES + CTFORMER_FIRMWARE_HEAP_BYTES;
// What training the whole model the same way would hold: weights, gradients, two moments and
// the activations of every block.
constexpr std::size_t whole_model_bytes = 4 * M::weight_bytes + sizeof(M::workspace<1, S>);
#if defined(CTFORMER_BARE_METAL)
static_assert(ram_bytes <= 256 * 1024, "on-device fine-tuning must fit in 256 KiB of RAM");
static_assert(M::weight_bytes > 256 * 1024, "the example's point: the model's weights alone exceed the RAM");
#endif
static_assert(sizeof(firmware_finetune::expected_loss) / sizeof(double) == firmware::train_steps);
// The mean loss over the line's windows (no dropout, no update).
double line_loss() {
  double sum = 0;
  for (std::size_t w = 0; w < firmware::finetune_windows; ++w) {
    firmware::finetune_batch(batch, w);
    sum += Tail::forward_loss(weights, ws, batch, ctformer::run_mode::eval()).loss;
  }
  return sum / double(firmware::finetune_windows);
}
}  // namespace

int main() {
  ctformer::bind_exported(frozen, firmware_finetune::tensors);
  Tail::take(frozen, weights);
  const ctformer::adamw opt = firmware::finetune_optimizer(false);
  opt.make_state(weights, state);
  const double before = line_loss();
  firmware::loss_check check;
  for (std::size_t t = 0; t < firmware::train_steps; ++t) {
    firmware::finetune_batch(batch, t);
    const auto s = ctformer::train_step<Tail>(weights, grads, opt, state, ctformer::constant{},
                                              std::span<const ctformer::token_batch<1, S>>(&batch, 1), ws,
                                              firmware::train_settings());
    check.step(t, s.loss, firmware_finetune::expected_loss[t]);
  }
  check.report();
  const double after = line_loss();
  std::printf("the new line's loss x 1e6: %lu before fine-tuning, %lu after\n", (unsigned long)(before * 1e6 + 0.5),
              (unsigned long)(after * 1e6 + 0.5));
  const bool learned = after < 0.8 * before;
  std::printf("trained: blocks %lu-%lu and ln_f, %lu of %lu parameters; frozen in flash: %lu bytes\n",
              (unsigned long)Tail::first, (unsigned long)(M::L - 1), (unsigned long)Tail::param_count,
              (unsigned long)M::param_count, (unsigned long)M::weight_bytes);
  std::printf("RAM by the compile-time figure: %lu bytes (trained weights %lu, gradients %lu, AdamW state %lu, "
              "activations %lu, scratch %lu, stack and heap %lu); training the whole model: %lu bytes\n",
              (unsigned long)ram_bytes, (unsigned long)sizeof(weights), (unsigned long)sizeof(grads),
              (unsigned long)sizeof(state), (unsigned long)sizeof(ws), (unsigned long)ctformer::thread_pool::scratch_bytes,
              (unsigned long)(CTFORMER_FIRMWARE_STACK_BYTES + CTFORMER_FIRMWARE_HEAP_BYTES),
              (unsigned long)whole_model_bytes);
  std::printf("%s\n", !check.same     ? "ON-DEVICE FINE-TUNING DIFFERS FROM THE HOST"
                     : !learned ? "ON-DEVICE FINE-TUNING DID NOT LOWER THE LOSS BY 20%"
                                : "on-device fine-tuning matches the host's losses");
  return check.same && learned ? 0 : 1;
}
