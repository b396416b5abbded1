// One optimizer step, freestanding: zero the gradients, forward and backward over the
// micro-batches (gradients summed so that the step equals one over their union), clip by the
// global norm of the tensors that train, the schedule's learning rate, the optimizer's update,
// and a pruning mask. Every object is the caller's (static storage on a microcontroller):
// nothing is allocated, nothing here needs a file system, threads or exceptions.
// trainer::train_step is this function on the trainer's own weights, gradients and optimizer
// state.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "../base/run_mode.hpp"
#include "../concepts.hpp"
#include "../error.hpp"
#include "../models/common.hpp"
#include "../models/init.hpp"
#include "../optim/clip.hpp"
#include "../optim/mask.hpp"
#include "../tensor/visit.hpp"

namespace ctformer {

/// Settings of train_step: gradient clipping, label smoothing, seed.
struct train_options {
  double clip = 1.0;              ///< max global gradient norm; <= 0 disables clipping
  double label_smoothing = 0.0;  ///< of the cross-entropy targets, in [0, 1)
  std::uint64_t seed = 1337;      ///< initialization and dropout
};

/// What one optimizer step reports.
struct step_stats {
  long step = 0;          ///< optimizer steps done, including this one
  double loss = 0;        ///< mean over the step's targets
  std::size_t targets = 0;  ///< targets (non-ignored positions) over the step's micro-batches
  double grad_norm = 0;   ///< before clipping
  double lr = 0;  ///< learning rate of the step
};

/// p, g: the model's weights and gradients; state: the optimizer's (make_state, or a fixed_state
/// in static storage); mask: null, or the pruning mask kept applied. Throws ctformer::error (or,
/// without exceptions, calls the fail handler) leaving the weights as they were when the loss or
/// the gradient norm is not finite.
template <trainable_model Model, class Optim, class State, lr_schedule Sched, shaped_batch Batch,
          shaped_workspace WS>
  requires(check_batch_fits<Batch, WS>() && trainable_on<Model, Batch, WS>)
step_stats train_step(typename Model::params& p, typename Model::params& g, const Optim& opt, State& state,
                      const Sched& sched, std::span<const Batch> micro, WS& ws, const train_options& o,
                      const typename Model::params* mask = nullptr) {
  using T = typename Model::T;
  zero(g);
  std::size_t total = 0;
  for (const auto& b : micro) total += count_targets(b);
  if (total == 0) fail("train_step: the batch has no targets (every label is ignore_index or padding)");
  double loss_sum = 0;
  for (std::size_t i = 0; i < micro.size(); ++i) {
    const run_mode mode = run_mode::training(o.seed, std::uint64_t(state.step) * 1024 + i);
    const loss_value lv = Model::forward_loss(p, ws, micro[i], mode, T(o.label_smoothing));
    if (!std::isfinite(lv.loss)) fail("train_step {}: the loss is not finite ({})", state.step + 1, lv.loss);
    Model::backward(p, g, ws, micro[i], lv, mode, T(o.label_smoothing), T(double(lv.count) / double(total)));
    loss_sum += lv.loss * double(lv.count);
  }
  // Frozen tensors (a frozen param_group) have no gradient, as with torch's requires_grad=False:
  // theirs is zeroed before it could count in the clipping norm.
  if constexpr (requires { state.settings[0].frozen; }) {
    std::size_t k = 0;
    for_each_tensor(g, [&](const tensor_info&, auto& t) {
      if (state.settings[k++].frozen) std::memset(t.data(), 0, t.size() * sizeof(*t.data()));
    });
  }
  step_stats s;
  s.grad_norm = clip_grad_norm(g, o.clip);
  if (!std::isfinite(s.grad_norm))
    fail("train_step {}: the gradient norm is not finite ({}); the update was skipped", state.step + 1, s.grad_norm);
  s.lr = sched(state.step, opt.lr);
  opt.step(p, g, state, s.lr);
  if (mask) apply_mask(p, *mask);
  s.step = state.step;
  s.loss = loss_sum / double(total);
  s.targets = total;
  return s;
}

}  // namespace ctformer
