// Output heads for the encoder, chosen by a tag type:
//   mlm                    BERT's masked-LM head: dense -> GELU -> LayerNorm -> x E^T + b (E tied to
//                          the word embeddings unless the config unties it), cross-entropy;
//   mlm_sparse             the same head (same parameters and names) run only at positions that
//                          have a target, e.g. BERT's 15% masked tokens: the same loss and gradients
//                          at a fraction of the cost;
//   classify<N, pooling>   pooled = h[:, 0] ([CLS]) or the mean over real tokens; tanh(pooled Wp + bp)
//                          (BERT's pooler), then a linear layer to N classes, cross-entropy;
//   regress<pooling>       the same pooler and one output, mean squared error.
// Each head owns its parameters and workspace; forward reads the encoder's last hidden states,
// backward ADDS into their gradient.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>

#include "../config.hpp"
#include "../data/batch.hpp"
#include "../layers/linear.hpp"
#include "../losses/cross_entropy.hpp"
#include "../losses/mse.hpp"
#include "../tensor/kernels/activation.hpp"
#include "../tensor/kernels/gemm.hpp"
#include "../tensor/kernels/layernorm.hpp"
#include "common.hpp"

namespace ctformer {

struct mlm {};
struct mlm_sparse {};
template <std::size_t Classes, pooling Pool = pooling::cls>
struct classify {};
template <pooling Pool = pooling::cls>
struct regress {};

namespace detail {

template <class Tag, class T, std::size_t C, std::size_t V, bool Tied>
struct head_impl;

// ---- masked language modelling ------------------------------------------------------------
template <class T, std::size_t C, std::size_t V, bool Tied>
struct head_impl<mlm, T, C, V, Tied> {
  struct params {
    linear_params<T, C, C, flag::hf_transposed> transform;  ///< (C, C)
    layernorm_params<T, C> ln;
    tensor1<T, V> bias;                                     ///< (V)
    [[no_unique_address]] maybe<!Tied, tensor2<T, C, V>> decoder;  ///< (C, V); HF (V, C)
    static constexpr auto fields() {
      return std::tuple_cat(
          std::tuple{nested("cls.predictions.transform.dense.", &params::transform),
                     nested("cls.predictions.transform.LayerNorm.", &params::ln),
                     field("cls.predictions.bias", &params::bias, role::bias)},
          optional_field<!Tied>([] {
            return field("cls.predictions.decoder.weight", &params::decoder, role::weight, flag::hf_transposed);
          }));
    }
  };
  static constexpr std::size_t param_count = C * C + C + 2 * C + V + (Tied ? 0 : C * V);
  static constexpr std::uint64_t signature = 101;
  static std::string describe() { return "mlm"; }
  template <std::size_t B, std::size_t S>
  using batch_type = token_batch<B, S>;

  template <std::size_t B, std::size_t S>
  struct workspace {
    static constexpr std::size_t BS = B * S;
    tensor2<T, BS, C> t_pre, t_act, t_norm;  ///< (BS, C) dense, GELU, LayerNorm
    tensor1<T, BS> mean, rstd;
    tensor2<T, BS, V> logits;                ///< (BS, V)
    tensor1<T, BS> row_loss;
    tensor2<T, BS, C> d1, d2;
  };

  /// The head on n rows x (n, C): dense transform, GELU, LayerNorm, then the decoder into
  /// w.logits (n, V). mlm runs it on every position, mlm_sparse on the gathered target rows; W is
  /// either head's workspace. emb: the tied word embeddings (V, C).
  template <class W>
  static void rows_forward(const params& p, const T* emb, W& w, const T* x, std::size_t n, T eps) {
    kernels::gemm<T>(false, false, n, C, C, T(1), x, C, p.transform.weight.data(), C, T(0), w.t_pre.data(), C,
                     p.transform.bias.data());
    kernels::gelu_forward(w.t_act.data(), w.t_pre.data(), n * C);
    kernels::layernorm_forward<T>(w.t_norm.data(), w.mean.data(), w.rstd.data(), w.t_act.data(),
                                  p.ln.weight.data(), p.ln.bias.data(), n, C, eps);
    if constexpr (Tied)
      kernels::gemm<T>(false, true, n, V, C, T(1), w.t_norm.data(), C, emb, C, T(0), w.logits.data(), V,
                       p.bias.data());
    else
      kernels::gemm<T>(false, false, n, V, C, T(1), w.t_norm.data(), C, p.decoder.data(), V, T(0),
                       w.logits.data(), V, p.bias.data());
  }
  /// Its backward from the cross-entropy of those rows (targets: n ids): parameter gradients are
  /// added into g (and demb when tied); dx (n, C), unless null, becomes dx_beta * dx + d(loss)/dx.
  /// Uses w.d1 and w.d2 as scratch, so dx may be w.d2.
  template <class W>
  static void rows_backward(const params& p, params& g, const T* emb, T* demb, W& w, const T* x,
                            const std::int32_t* targets, std::size_t n, const loss_value& lv, T* dx, T dx_beta,
                            T smoothing, T loss_scale) {
    const T scale = lv.count ? loss_scale / T(lv.count) : T(0);
    cross_entropy_backward<T>(w.logits.data(), targets, n, V, scale, smoothing);
    const T* dl = w.logits.data();
    detail::add_column_sums(g.bias.data(), dl, n, V, V);
    if constexpr (Tied) {
      kernels::gemm<T>(false, false, n, C, V, T(1), dl, V, emb, C, T(0), w.d1.data(), C);
      kernels::gemm<T>(true, false, V, C, n, T(1), dl, V, w.t_norm.data(), C, T(1), demb, C);
    } else {
      kernels::gemm<T>(false, true, n, C, V, T(1), dl, V, p.decoder.data(), V, T(0), w.d1.data(), C);
      kernels::gemm<T>(true, false, C, V, n, T(1), w.t_norm.data(), C, dl, V, T(1), g.decoder.data(), V);
    }
    std::memset(w.d2.data(), 0, n * C * sizeof(T));
    kernels::layernorm_backward<T>(w.d2.data(), g.ln.weight.data(), g.ln.bias.data(), w.d1.data(),
                                   w.t_act.data(), p.ln.weight.data(), w.mean.data(), w.rstd.data(), n, C);
    kernels::gelu_backward(w.d1.data(), w.d2.data(), w.t_pre.data(), n * C, false);
    // Through the dense layer.
    if (dx) kernels::gemm<T>(false, true, n, C, C, T(1), w.d1.data(), C, p.transform.weight.data(), C, dx_beta, dx, C);
    kernels::gemm<T>(true, false, C, C, n, T(1), x, C, w.d1.data(), C, T(1), g.transform.weight.data(), C);
    detail::add_column_sums(g.transform.bias.data(), w.d1.data(), n, C, C);
  }

  template <std::size_t B, std::size_t S>
  static void forward(const params& p, const T* emb, workspace<B, S>& w, const T* hidden, T eps,
                      const std::int32_t*) {
    rows_forward(p, emb, w, hidden, B * S, eps);
  }
  template <std::size_t B, std::size_t S>
  static loss_value loss(workspace<B, S>& w, const batch_type<B, S>& batch, T smoothing) {
    return cross_entropy_forward<T>(w.logits.data(), w.row_loss.data(), batch.targets.data(), B * S, V, smoothing);
  }
  template <std::size_t B, std::size_t S>
  static void backward(const params& p, params& g, const T* emb, T* demb, workspace<B, S>& w,
                       const batch_type<B, S>& batch, const loss_value& lv, const T* hidden, T* dhidden,
                       T smoothing, T loss_scale, const std::int32_t*) {
    rows_backward(p, g, emb, demb, w, hidden, batch.targets.data(), B * S, lv, dhidden, T(1), smoothing, loss_scale);
  }
};

// ---- masked language modelling at the target positions only ---------------------------------
/// forward gathers the rows whose target is not ignore_index (it needs the batch) and runs the
/// transform and the V-wide decoder on those rows alone; workspace.logits holds `count` gathered
/// rows, row i belonging to position rows[i]. Parameters are mlm's, so files interchange.
template <class T, std::size_t C, std::size_t V, bool Tied>
struct head_impl<mlm_sparse, T, C, V, Tied> {
  using dense = head_impl<mlm, T, C, V, Tied>;
  using params = typename dense::params;
  static constexpr std::size_t param_count = dense::param_count;
  static constexpr std::uint64_t signature = 102;
  static constexpr bool needs_batch = true;
  static std::string describe() { return "mlm_sparse"; }
  template <std::size_t B, std::size_t S>
  using batch_type = token_batch<B, S>;

  template <std::size_t B, std::size_t S>
  struct workspace {
    static constexpr std::size_t BS = B * S;
    std::size_t count = 0;                      ///< gathered rows
    std::array<std::uint32_t, BS> rows{};       ///< their positions in the batch
    tensor1<std::int32_t, BS> targets;          ///< (count) their targets
    tensor2<T, BS, C> h, t_pre, t_act, t_norm;  ///< (count, C) hidden, dense, GELU, LayerNorm
    tensor1<T, BS> mean, rstd;
    tensor2<T, BS, V> logits;                   ///< (count, V)
    tensor1<T, BS> row_loss;
    tensor2<T, BS, C> d1, d2;
  };

  template <std::size_t B, std::size_t S>
  static void forward(const params& p, const T* emb, workspace<B, S>& w, const T* hidden, T eps,
                      const std::int32_t*, const batch_type<B, S>& batch) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < B * S; ++i)
      if (batch.targets.data()[i] != ignore_index) {
        w.rows[n] = std::uint32_t(i);
        w.targets(n) = batch.targets.data()[i];
        std::memcpy(w.h.data() + n * C, hidden + i * C, C * sizeof(T));
        ++n;
      }
    w.count = n;
    if (n > 0) dense::rows_forward(p, emb, w, w.h.data(), n, eps);
  }
  template <std::size_t B, std::size_t S>
  static loss_value loss(workspace<B, S>& w, const batch_type<B, S>&, T smoothing) {
    return cross_entropy_forward<T>(w.logits.data(), w.row_loss.data(), w.targets.data(), w.count, V, smoothing);
  }
  template <std::size_t B, std::size_t S>
  static void backward(const params& p, params& g, const T* emb, T* demb, workspace<B, S>& w,
                       const batch_type<B, S>&, const loss_value& lv, const T*, T* dhidden, T smoothing,
                       T loss_scale, const std::int32_t*) {
    const std::size_t n = w.count;
    if (n == 0) return;
    /// d(gathered hidden rows) into d2, then scattered back to their positions.
    dense::rows_backward(p, g, emb, demb, w, w.h.data(), w.targets.data(), n, lv, w.d2.data(), T(0), smoothing,
                         loss_scale);
    for (std::size_t i = 0; i < n; ++i) kernels::axpy(dhidden + std::size_t(w.rows[i]) * C, T(1), w.d2.data() + i * C, C);
  }
};

// ---- pooled heads (classification and regression) ----------------------------------------
template <class T, std::size_t C, std::size_t Out, pooling Pool>
struct pooled_head {
  struct params {
    linear_params<T, C, C, flag::hf_transposed> pooler;    ///< (C, C)
    linear_params<T, C, Out, flag::hf_transposed> out;     ///< (C, Out)
    static constexpr auto fields() {
      return std::tuple{nested("pooler.dense.", &params::pooler), nested("classifier.", &params::out)};
    }
  };
  static constexpr std::size_t param_count = C * C + C + C * Out + Out;
  static constexpr std::size_t outputs = Out;  ///< classes, or 1 for regression

  template <std::size_t B, std::size_t S>
  struct workspace {
    tensor2<T, B, C> pooled, act, d1, d2;  ///< (B, C)
    tensor2<T, B, Out> logits;             ///< (B, Out) logits or predictions
    tensor1<T, B> row_loss;
  };

  template <std::size_t B, std::size_t S>
  static void pool(T* pooled, const T* hidden, const std::int32_t* mask) {
    for (std::size_t b = 0; b < B; ++b) {
      T* dst = pooled + b * C;
      if constexpr (Pool == pooling::cls) {
        std::memcpy(dst, hidden + b * S * C, C * sizeof(T));
      } else {
        std::memset(dst, 0, C * sizeof(T));
        std::size_t n = 0;
        for (std::size_t s = 0; s < S; ++s)
          if (mask[b * S + s]) {
            kernels::axpy(dst, T(1), hidden + (b * S + s) * C, C);
            ++n;
          }
        if (n) kernels::scale(dst, T(1) / T(n), C);
      }
    }
  }
  template <std::size_t B, std::size_t S>
  static void forward(const params& p, workspace<B, S>& w, const T* hidden, const std::int32_t* mask) {
    pool<B, S>(w.pooled.data(), hidden, mask);
    linear_forward(w.act.data(), C, w.pooled.data(), C, B, p.pooler);
    for (std::size_t i = 0; i < B * C; ++i) w.act.data()[i] = std::tanh(w.act.data()[i]);
    linear_forward(w.logits.data(), Out, w.act.data(), C, B, p.out);
  }
  /// dlogits (B, Out) given; adds into the head's gradients and into dhidden.
  template <std::size_t B, std::size_t S>
  static void backward(const params& p, params& g, workspace<B, S>& w, const T* dlogits, const T* /*hidden*/,
                       T* dhidden, const std::int32_t* mask) {
    linear_backward(w.d1.data(), C, write_mode::overwrite, g.out, dlogits, Out, w.act.data(), C, B, p.out);
    for (std::size_t i = 0; i < B * C; ++i) w.d1.data()[i] *= T(1) - w.act.data()[i] * w.act.data()[i];
    linear_backward(w.d2.data(), C, write_mode::overwrite, g.pooler, w.d1.data(), C, w.pooled.data(), C, B, p.pooler);
    for (std::size_t b = 0; b < B; ++b) {
      const T* dp = w.d2.data() + b * C;
      if constexpr (Pool == pooling::cls) {
        kernels::axpy(dhidden + b * S * C, T(1), dp, C);
      } else {
        std::size_t n = 0;
        for (std::size_t s = 0; s < S; ++s) n += mask[b * S + s] != 0;
        if (!n) continue;
        for (std::size_t s = 0; s < S; ++s)
          if (mask[b * S + s]) kernels::axpy(dhidden + (b * S + s) * C, T(1) / T(n), dp, C);
      }
    }
  }
};

template <std::size_t N, pooling Pool, class T, std::size_t C, std::size_t V, bool Tied>
struct head_impl<classify<N, Pool>, T, C, V, Tied> : pooled_head<T, C, N, Pool> {
  static_assert(N >= 2, "ctformer: a classification head needs at least two classes");
  static constexpr std::uint64_t signature = 200 + 2 * N + std::uint64_t(Pool);
  static std::string describe() { return fmt::format("classify<{}, {}>", N, to_string(Pool)); }
  using base = pooled_head<T, C, N, Pool>;
  using typename base::params;
  template <std::size_t B, std::size_t S>
  using workspace = typename base::template workspace<B, S>;
  template <std::size_t B, std::size_t S>
  using batch_type = classification_batch<B, S>;

  template <std::size_t B, std::size_t S>
  static void forward(const params& p, const T*, workspace<B, S>& w, const T* hidden, T,
                      const std::int32_t* mask) {
    base::template forward<B, S>(p, w, hidden, mask);
  }
  template <std::size_t B, std::size_t S>
  static loss_value loss(workspace<B, S>& w, const batch_type<B, S>& batch, T smoothing) {
    return cross_entropy_forward<T>(w.logits.data(), w.row_loss.data(), batch.labels.data(), B, N, smoothing);
  }
  template <std::size_t B, std::size_t S>
  static void backward(const params& p, params& g, const T*, T*, workspace<B, S>& w,
                       const batch_type<B, S>& batch, const loss_value& lv, const T* hidden, T* dhidden,
                       T smoothing, T loss_scale, const std::int32_t* mask) {
    const T scale = lv.count ? loss_scale / T(lv.count) : T(0);
    cross_entropy_backward<T>(w.logits.data(), batch.labels.data(), B, N, scale, smoothing);
    base::template backward<B, S>(p, g, w, w.logits.data(), hidden, dhidden, mask);
  }
};

template <pooling Pool, class T, std::size_t C, std::size_t V, bool Tied>
struct head_impl<regress<Pool>, T, C, V, Tied> : pooled_head<T, C, 1, Pool> {
  static constexpr std::uint64_t signature = 300 + std::uint64_t(Pool);
  static std::string describe() { return fmt::format("regress<{}>", to_string(Pool)); }
  using base = pooled_head<T, C, 1, Pool>;
  using typename base::params;
  template <std::size_t B, std::size_t S>
  using workspace = typename base::template workspace<B, S>;
  template <std::size_t B, std::size_t S>
  using batch_type = regression_batch<B, S>;

  template <std::size_t B, std::size_t S>
  static void forward(const params& p, const T*, workspace<B, S>& w, const T* hidden, T,
                      const std::int32_t* mask) {
    base::template forward<B, S>(p, w, hidden, mask);
  }
  template <std::size_t B, std::size_t S>
  static loss_value loss(workspace<B, S>& w, const batch_type<B, S>& batch, T) {
    T targets[B], weights[B];
    for (std::size_t b = 0; b < B; ++b) {
      targets[b] = T(batch.values(b));
      weights[b] = T(batch.row_weight(b));
    }
    return mse_forward<T>(w.logits.data(), targets, B, weights);
  }
  template <std::size_t B, std::size_t S>
  static void backward(const params& p, params& g, const T*, T*, workspace<B, S>& w,
                       const batch_type<B, S>& batch, const loss_value&, const T* hidden, T* dhidden, T,
                       T loss_scale, const std::int32_t* mask) {
    T targets[B], weights[B], dl[B];
    for (std::size_t b = 0; b < B; ++b) {
      targets[b] = T(batch.values(b));
      weights[b] = T(batch.row_weight(b));
    }
    mse_backward<T>(dl, w.logits.data(), targets, B, weights, loss_scale);
    base::template backward<B, S>(p, g, w, dl, hidden, dhidden, mask);
  }
};

}  // namespace detail
}  // namespace ctformer
