// On-device training: 20 AdamW steps (clipping, the constant schedule) of a tiny GPT (vocab 64,
// context 16, d_model 32, 2 layers, batch 1) with every object in static storage - weights,
// gradients, optimizer state, activations, the batch - and no heap (operator new aborts). The
// initial weights and the host's losses come from train_fp32.hpp (firmware_make_model); the
// program prints each step's loss and exits 0 only when every one is within 1e-5 (relative) of
// the host's. Its RAM is a compile-time figure, printed at the end.
#include "firmware_model.hpp"  // first: it sizes the kernels' scratch on a microcontroller

#include <cmath>
#include <cstdio>
#include <span>

#include <ctformer/deploy/exported.hpp>
#include <ctformer/schedules/schedules.hpp>

#include "no_heap.hpp"
#include "train_fp32.hpp"

#if !defined(CTFORMER_FIRMWARE_STACK_BYTES)
#define CTFORMER_FIRMWARE_STACK_BYTES 0
#define CTFORMER_FIRMWARE_HEAP_BYTES 0
#endif

namespace {
using M = firmware::train_model;
constexpr std::size_t S = firmware::train_seq;
using state_t = ctformer::adamw::fixed_state<M::params>;

M::params weights, grads;
state_t state;
M::workspace<1, S> ws;
ctformer::token_batch<1, S> batch;

// Everything training holds, known before the program runs.
constexpr std::size_t ram_bytes = sizeof(weights) + sizeof(grads) + sizeof(state) + sizeof(ws) + sizeof(batch) +
                                  ctformer::thread_pool::scratch_bytes + CTFORMER_FIRMWARE_STACK_BYTES +
                                  CTFORMER_FIRMWARE_HEAP_BYTES;
static_assert(sizeof(firmware_train::expected_loss) / sizeof(double) == firmware::train_steps);
}  // namespace

int main() {
  ctformer::load_exported(weights, firmware_train::tensors);
  const ctformer::adamw opt = firmware::train_optimizer();
  opt.make_state(weights, state);
  firmware::loss_check check;
  for (std::size_t t = 0; t < firmware::train_steps; ++t) {
    firmware::train_batch(batch, t);
    const auto s = ctformer::train_step<M>(weights, grads, opt, state, ctformer::constant{},
                                           std::span<const ctformer::token_batch<1, S>>(&batch, 1), ws,
                                           firmware::train_settings());
    check.step(t, s.loss, firmware_train::expected_loss[t]);
  }
  check.report();
  std::printf("RAM by the compile-time figure: %lu bytes (weights %lu, gradients %lu, AdamW state %lu, "
              "activations %lu, scratch %lu, stack and heap %lu)\n",
              (unsigned long)ram_bytes, (unsigned long)sizeof(weights), (unsigned long)sizeof(grads),
              (unsigned long)sizeof(state), (unsigned long)sizeof(ws), (unsigned long)ctformer::thread_pool::scratch_bytes,
              (unsigned long)(CTFORMER_FIRMWARE_STACK_BYTES + CTFORMER_FIRMWARE_HEAP_BYTES));
  std::printf("%s\n", check.same ? "on-device training matches the host's losses"
                           : "ON-DEVICE TRAINING DIFFERS FROM THE HOST");
  return check.same ? 0 : 1;
}
