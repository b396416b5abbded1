// int8 post-training quantization of a decoder_lm for inference. Every weight matrix becomes
// int8 with one symmetric scale per output channel (w ~ q * s, s = max|w| / 127), stored one output
// channel per row; the tied embedding is quantized per row (its rows are both the lookup table and
// the LM head's output channels). Activations are quantized per row on the fly, so each linear
// layer is one int8 GEMM (kernels/int8.hpp) plus a float scale. LayerNorms, biases and positions
// stay float. quantized_lm<Model> loads and saves as safetensors (I8 weights + F32 "weight_scale").
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <vector>

#include "../layers/attention.hpp"
#include "../layers/block.hpp"
#include "../layers/embedding.hpp"
#include "../layers/layernorm.hpp"
#include "../layers/params.hpp"
#include "../models/common.hpp"
#include "../models/decoder_lm.hpp"
#include "../tensor/kernels/int8.hpp"
#include "../tensor/kernels/reduce.hpp"

namespace ctformer {

/// A linear layer y = x W + b with W quantized per output channel: weight (Out, In) int8.
/// Tn: tensor (owning) or const_tensor_ref (a view of weights in flash).
template <std::size_t In, std::size_t Out, template <class, std::size_t...> class Tn = tensor>
struct qlinear {
  Tn<std::int8_t, Out, In> weight;  ///< (Out, In)
  Tn<float, Out> scale;             ///< (Out)
  Tn<float, Out> bias;              ///< (Out)
  /// Checkpoint names of the members: "weight", "weight_scale", "bias".
  static constexpr auto fields() {
    return std::tuple{field("weight", &qlinear::weight, role::weight), field("weight_scale", &qlinear::scale, role::bias),
                      field("bias", &qlinear::bias, role::bias)};
  }
};

/// y (rows, Out) = x (rows, In) W + b through int8: x is quantized per row into xq (rows, >= In)
/// with scales xs (rows), then one int8 GEMM. The block (layers/block.hpp) calls this for
/// quantized weights, with its cache's buffers.
template <std::size_t In, std::size_t Out, template <class, std::size_t...> class Tn>
void linear_forward(float* y, std::size_t ldy, const float* x, std::size_t ldx, std::size_t rows,
                    const qlinear<In, Out, Tn>& w, std::int8_t* xq, float* xs) {
  kernels::quantize_rows(xq, xs, x, rows, In, ldx);
  kernels::gemm_s8(rows, Out, In, xq, xs, w.weight.data(), w.scale.data(), w.bias.data(), y, ldy);
}

namespace detail {

/// W (In, Out) float -> per-column int8 (stored transposed) and scales.
template <std::size_t In, std::size_t Out>
void quantize_linear(qlinear<In, Out>& q, const float* w, const float* b) {
  static thread_local std::vector<float> wt;
  wt.resize(In * Out);
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) wt[o * In + i] = w[i * Out + o];
  kernels::quantize_rows(q.weight.data(), q.scale.data(), wt.data(), Out, In, In);
  if (b)
    std::memcpy(q.bias.data(), b, Out * sizeof(float));
  else
    std::memset(q.bias.data(), 0, Out * sizeof(float));
}

template <std::size_t In, std::size_t Out>
void dequantize_linear(float* w, float* b, const qlinear<In, Out>& q) {
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) w[i * Out + o] = float(q.weight(o, i)) * q.scale(o);
  if (b) std::memcpy(b, q.bias.data(), Out * sizeof(float));
}

}  // namespace detail

/// A decoder_lm with int8 linear weights (per-output-row scales) and int8 token embeddings (per-row scales).
template <class Model>
struct quantized_lm {
  static_assert(std::is_same_v<typename Model::T, float>, "ctformer: quantize a float model");
  using T = float;  ///< activations, norms, biases and scales stay float
  static constexpr gpt_config Cfg = Model::config;  ///< the model's config
  static constexpr std::size_t V = Model::V;      ///< the model's vocabulary size
  static constexpr std::size_t Ctx = Model::Ctx;  ///< the model's context length
  static constexpr std::size_t C = Model::C;      ///< the model's d_model
  static constexpr std::size_t H = Model::H;      ///< the model's attention heads
  static constexpr std::size_t F = Model::F;      ///< the model's FFN width
  static constexpr std::size_t L = Model::L;      ///< the model's layers
  static constexpr std::size_t D = C / H;         ///< head width C / H
  static constexpr bool pre = Model::pre;                  ///< pre-LN, as the model's
  static constexpr bool tied = Model::tied;                ///< tied LM head, as the model's
  static constexpr bool learned_pos = Model::learned_pos;  ///< learned positions, as the model's

  /// Storage Tn: params owns the weights; params_view reads them where they are (bind_exported()).
  template <template <class, std::size_t...> class Tn>
  struct block_of {
    static constexpr bool fused_qkv = true;  ///< GPT-2's c_attn
    layernorm_params<float, C, Tn> ln1;  ///< LayerNorm of the attention sub-layer
    qlinear<C, 3 * C, Tn> qkv;  ///< fused q | k | v projection
    qlinear<C, C, Tn> proj;  ///< attention output projection
    layernorm_params<float, C, Tn> ln2;  ///< LayerNorm of the feed-forward sub-layer
    qlinear<C, F, Tn> fc;  ///< feed-forward input layer (C -> F)
    qlinear<F, C, Tn> fc2;  ///< feed-forward output layer (F -> C)
    /// Checkpoint names of the members, in GPT-2's layout.
    static constexpr auto fields() {
      using B = block_of;
      return std::tuple{nested("ln_1.", &B::ln1), nested("attn.c_attn.", &B::qkv), nested("attn.c_proj.", &B::proj),
                        nested("ln_2.", &B::ln2), nested("mlp.c_fc.", &B::fc), nested("mlp.c_proj.", &B::fc2)};
    }
  };
  /// The quantized weights, stored by Tn.
  template <template <class, std::size_t...> class Tn>
  struct params_of {
    Tn<std::int8_t, V, C> wte;  ///< (V, C) per-row int8
    Tn<float, V> wte_scale;     ///< (V)
    [[no_unique_address]] maybe<learned_pos, Tn<float, Ctx, C>> wpe;  ///< (Ctx, C) learned positions, float
    std::array<block_of<Tn>, L> h;  ///< (L) the blocks
    [[no_unique_address]] maybe<pre, layernorm_params<float, C, Tn>> ln_f;  ///< final LayerNorm (pre-LN only)
    [[no_unique_address]] maybe<!tied, qlinear<C, V, Tn>> lm_head;  ///< the untied head, quantized
    /// Checkpoint names of the members, in GPT-2's layout.
    static constexpr auto fields() {
      using P = params_of;
      return std::tuple_cat(
          std::tuple{field("wte.weight", &P::wte, role::embedding), field("wte.weight_scale", &P::wte_scale, role::bias)},
          detail::optional_field<learned_pos>([] { return field("wpe.weight", &P::wpe, role::embedding); }),
          std::tuple{layers("h.", &P::h)},
          detail::optional_field<pre>([] { return nested("ln_f.", &P::ln_f); }),
          detail::optional_field<!tied>([] { return nested("lm_head.", &P::lm_head); }));
    }
  };
  using block = block_of<tensor>;  ///< one owning block
  using params = params_of<tensor>;  ///< owning weights
  using params_view = params_of<const_tensor_ref>;  ///< read-only view of weights kept elsewhere

  static constexpr std::size_t weight_bytes = sizeof(params);  ///< bytes of params

  /// Quantizes the float weights p into q.
  static void quantize(const typename Model::params& p, params& q) {
    kernels::quantize_rows(q.wte.data(), q.wte_scale.data(), p.wte.data(), V, C, C);
    if constexpr (learned_pos) q.wpe = p.wpe;
    for (std::size_t l = 0; l < L; ++l) {
      const auto& s = p.h[l];
      auto& d = q.h[l];
      d.ln1 = s.ln1;
      d.ln2 = s.ln2;
      detail::quantize_linear(d.qkv, s.qkv.weight.data(), s.qkv.bias.data());
      detail::quantize_linear(d.proj, s.proj.weight.data(), s.proj.bias.data());
      detail::quantize_linear(d.fc, s.fc.weight.data(), s.fc.bias.data());
      detail::quantize_linear(d.fc2, s.fc2.weight.data(), s.fc2.bias.data());
    }
    if constexpr (pre) q.ln_f = p.ln_f;
    if constexpr (!tied) detail::quantize_linear(q.lm_head, p.lm_head.data(), nullptr);
  }

  /// The float model the int8 one stands for (each weight replaced by q * s).
  static void dequantize(const params& q, typename Model::params& p) {
    for (std::size_t v = 0; v < V; ++v)
      for (std::size_t c = 0; c < C; ++c) p.wte(v, c) = float(q.wte(v, c)) * q.wte_scale(v);
    if constexpr (learned_pos) p.wpe = q.wpe;
    for (std::size_t l = 0; l < L; ++l) {
      auto& d = p.h[l];
      const auto& s = q.h[l];
      d.ln1 = s.ln1;
      d.ln2 = s.ln2;
      detail::dequantize_linear(d.qkv.weight.data(), d.qkv.bias.data(), s.qkv);
      detail::dequantize_linear(d.proj.weight.data(), d.proj.bias.data(), s.proj);
      detail::dequantize_linear(d.fc.weight.data(), d.fc.bias.data(), s.fc);
      detail::dequantize_linear(d.fc2.weight.data(), d.fc2.bias.data(), s.fc2);
    }
    if constexpr (pre) p.ln_f = q.ln_f;
    if constexpr (!tied) detail::dequantize_linear(p.lm_head.data(), nullptr, q.lm_head);
  }

  // ---- inference: decoder_lm's layer stack and block, with int8 linear layers ------------------
  /// The model's pass_spec with int8 linear layers.
  template <std::size_t Rows, std::size_t Keys>
  using pass_spec = typename Model::template pass_spec<Rows, Keys, true>;

  /// The model's layer stack, run on these params.
  template <class Sp, class P, class Stream, class Cache, class Source>
  static void blocks_forward(const P& p, std::size_t n, Stream&& stream, Cache&& cache, Source&& source,
                             const run_mode& mode) {
    Model::template blocks_forward<Sp>(p, n, stream, cache, source, mode);
  }

  /// x (n, C) = dequantized wte[ids[r]] + position pos[r].
  template <class P>
  static void embed_rows(const P& p, const std::int32_t* ids, const std::size_t* pos, std::size_t n, float* x) {
    const float* pos_table;
    if constexpr (learned_pos)
      pos_table = p.wpe.data();
    else
      pos_table = sinusoidal_table<float, Ctx, C>().data();
    for (std::size_t r = 0; r < n; ++r) {
      if (ids[r] < 0 || std::size_t(ids[r]) >= V)
        fail("token id {} at position {} is outside the vocabulary (size {})", ids[r], pos[r], V);
      if (pos[r] >= Ctx) fail("position {} is beyond the model's context of {}", pos[r], Ctx);
      const std::size_t id = std::size_t(ids[r]);
      float* xr = x + r * C;
      for (std::size_t c = 0; c < C; ++c) xr[c] = float(p.wte(id, c)) * p.wte_scale(id);
      kernels::add(xr, xr, pos_table + pos[r] * C, C);
    }
  }

  /// logits (m, V) of hidden states (m, C): ln_f (pre-LN) and the int8 LM head.
  template <class P, class Cache>
  static void logits_rows(const P& p, const float* hidden, std::size_t m, float* logits, float* normed,
                          Cache& c) {
    if constexpr (pre) {
      layernorm_forward(normed, static_cast<float*>(nullptr), static_cast<float*>(nullptr), hidden, m, p.ln_f,
                        float(Cfg.ln_eps));
      hidden = normed;
    }
    kernels::quantize_rows(c.xq8.data(), c.xs8.data(), hidden, m, C, C);
    if constexpr (tied)
      kernels::gemm_s8(m, V, C, c.xq8.data(), c.xs8.data(), p.wte.data(), p.wte_scale.data(), nullptr, logits, V);
    else
      kernels::gemm_s8(m, V, C, c.xq8.data(), c.xs8.data(), p.lm_head.weight.data(), p.lm_head.scale.data(), nullptr,
                       logits, V);
  }

  /// Buffers of an eval-mode forward over B sequences of S tokens.
  template <std::size_t B, std::size_t S>
  struct workspace {
    static_assert(S <= Ctx, "ctformer: sequence length exceeds the model's context");
    static constexpr std::size_t batch = B;   ///< batch B
    static constexpr std::size_t seq = S;     ///< sequence length S
    static constexpr std::size_t BS = B * S;  ///< rows B * S
    /// The blocks' spec: int8 linear layers, causal, keys = S.
    using spec = block_spec<float, B, S, C, F, H, Cfg.norm, Cfg.act, true, false, 1, false, S, true>;
    /// (BS, C) the residual stream, in and out of a block.
    tensor2<float, BS, C> x, y;           ///< (BS, C) the residual stream, in and out of a block
    block_cache<spec> work;               ///< one block's buffers, shared by the layers
    [[no_unique_address]] maybe<pre, tensor2<float, BS, C>> normed;  ///< (BS, C) ln_f output
    tensor2<float, BS, V> logits;         ///< (BS, V)
    tensor1<float, BS> row_loss;  ///< (BS) per-row loss
    std::array<std::size_t, BS> pos{};    ///< the position of each row
  };

  /// Logits for every position land in ws.logits (as decoder_lm::forward, in eval mode).
  template <class P, std::size_t B, std::size_t S>
  static void forward(const P& p, workspace<B, S>& ws, const token_batch<B, S>& batch) {
    constexpr std::size_t BS = B * S;
    using spec = typename workspace<B, S>::spec;
    for (std::size_t r = 0; r < BS; ++r) ws.pos[r] = r % S;
    embed_rows(p, batch.ids.data(), ws.pos.data(), BS, ws.x.data());
    const std::int32_t* mask = detail::mask_or_null(batch.attention_mask.data(), BS);
    float* stream[2] = {ws.x.data(), ws.y.data()};
    blocks_forward<spec>(
        p, BS, [&](std::size_t l) { return stream[l % 2]; },
        [&](std::size_t) -> block_cache<spec>& { return ws.work; },
        [&](std::size_t) { return sequence_self_attention<spec>{mask, run_mode::eval(), 0.0f, 0}; }, run_mode::eval());
    float* normed = nullptr;
    if constexpr (pre) normed = ws.normed.data();
    logits_rows(p, stream[L % 2], BS, ws.logits.data(), normed, ws.work);
  }

  /// forward(), then the mean cross-entropy over the targets.
  template <class P, std::size_t B, std::size_t S>
  static loss_value forward_loss(const P& p, workspace<B, S>& ws, const token_batch<B, S>& batch) {
    forward(p, ws, batch);
    return cross_entropy_forward<float>(ws.logits.data(), ws.row_loss.data(), batch.targets.data(), B * S, V);
  }
};

}  // namespace ctformer
