// Learning-rate schedules: callables from the 0-based optimizer step (and the optimizer's own lr)
// to a learning rate. There is one peak learning rate: a schedule's `lr` when it is given, and
// the optimizer's `lr` when it is not (so `adamw{.lr = 5e-4}` with `warmup_cosine{.warmup = 100}`
// peaks at 5e-4).
//   constant       lr
//   step_decay     lr * gamma^floor(t / step_size)                       (torch StepLR)
//   exponential    lr * gamma^t                                          (torch ExponentialLR)
//   warmup_cosine  lr (t+1)/warmup for t < warmup, then min + (lr-min)(1 + cos(pi (t-w)/(total-w)))/2,
//                  then min after total                   (torch LinearLR, then CosineAnnealingLR)
//   warmup_linear  the same warm-up, then a straight line from lr to min at total
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>

namespace ctformer {

/// The peak learning rate at every step.
struct constant {
  std::optional<double> lr;  ///< peak learning rate; empty: the optimizer's lr
  /// The learning rate at step t, given the optimizer's lr.
  double operator()(long, double optimizer_lr = 0) const { return lr.value_or(optimizer_lr); }
};

/// lr * gamma^floor(t / step_size) (torch StepLR).
struct step_decay {
  std::optional<double> lr;  ///< peak learning rate; empty: the optimizer's lr
  long step_size = 1000;  ///< steps between decays
  double gamma = 0.1;  ///< factor applied every step_size steps
  /// The learning rate at step t, given the optimizer's lr.
  double operator()(long t, double optimizer_lr = 0) const {
    return lr.value_or(optimizer_lr) * std::pow(gamma, double(t / step_size));
  }
};

/// lr * gamma^t (torch ExponentialLR).
struct exponential {
  std::optional<double> lr;  ///< peak learning rate; empty: the optimizer's lr
  double gamma = 0.999;  ///< factor applied every step
  /// The learning rate at step t, given the optimizer's lr.
  double operator()(long t, double optimizer_lr = 0) const { return lr.value_or(optimizer_lr) * std::pow(gamma, double(t)); }
};

/// Linear warm-up to lr over warmup steps, then cosine decay to min_lr at total, then min_lr.
struct warmup_cosine {
  std::optional<double> lr;  ///< peak learning rate; empty: the optimizer's lr
  long warmup = 100;  ///< warm-up steps: lr (t + 1) / warmup for t < warmup
  long total = 1000;  ///< step at which min_lr is reached
  double min_lr = 0.0;  ///< learning rate at and after total
  /// The learning rate at step t, given the optimizer's lr.
  double operator()(long t, double optimizer_lr = 0) const {
    const double lr = this->lr.value_or(optimizer_lr);
    if (t < warmup) return lr * double(t + 1) / double(warmup);
    if (t >= total) return min_lr;
    const double progress = double(t - warmup) / double(std::max(1L, total - warmup));
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
  }
};

/// Linear warm-up to lr over warmup steps, then a straight line to min_lr at total, then min_lr.
struct warmup_linear {
  std::optional<double> lr;  ///< peak learning rate; empty: the optimizer's lr
  long warmup = 100;  ///< warm-up steps: lr (t + 1) / warmup for t < warmup
  long total = 1000;  ///< step at which min_lr is reached
  double min_lr = 0.0;  ///< learning rate at and after total
  /// The learning rate at step t, given the optimizer's lr.
  double operator()(long t, double optimizer_lr = 0) const {
    const double lr = this->lr.value_or(optimizer_lr);
    if (t < warmup) return lr * double(t + 1) / double(warmup);
    if (t >= total) return min_lr;
    const double progress = double(t - warmup) / double(std::max(1L, total - warmup));
    return lr + (min_lr - lr) * progress;
  }
};

}  // namespace ctformer
