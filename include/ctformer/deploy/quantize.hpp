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
#include "../layers/embedding.hpp"
#include "../layers/params.hpp"
#include "../models/common.hpp"
#include "../models/decoder_lm.hpp"
#include "../tensor/kernels/activation.hpp"
#include "../tensor/kernels/int8.hpp"
#include "../tensor/kernels/layernorm.hpp"
#include "../tensor/kernels/reduce.hpp"

namespace ctformer {

// A linear layer y = x W + b with W quantized per output channel: weight (Out, In) int8.
template <std::size_t In, std::size_t Out>
struct qlinear {
  tensor2<std::int8_t, Out, In> weight;  // (Out, In)
  tensor1<float, Out> scale;             // (Out)
  tensor1<float, Out> bias;              // (Out)
  static constexpr auto fields() {
    return std::tuple{field("weight", &qlinear::weight, role::weight), field("weight_scale", &qlinear::scale, role::bias),
                      field("bias", &qlinear::bias, role::bias)};
  }
};

namespace detail {

// W (In, Out) float -> per-column int8 (stored transposed) and scales.
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

template <class Model>
struct quantized_lm {
  static_assert(std::is_same_v<typename Model::T, float>, "ctformer: quantize a float model");
  static constexpr gpt_config Cfg = Model::config;
  static constexpr std::size_t V = Model::V, Ctx = Model::Ctx, C = Model::C, H = Model::H, F = Model::F,
                               L = Model::L, D = C / H;
  static constexpr bool pre = Model::pre, tied = Model::tied, learned_pos = Model::learned_pos;

  struct block {
    layernorm_params<float, C> ln1;
    qlinear<C, 3 * C> qkv;
    qlinear<C, C> proj;
    layernorm_params<float, C> ln2;
    qlinear<C, F> fc;
    qlinear<F, C> fc2;
    static constexpr auto fields() {
      return std::tuple{nested("ln_1.", &block::ln1), nested("attn.c_attn.", &block::qkv),
                        nested("attn.c_proj.", &block::proj), nested("ln_2.", &block::ln2),
                        nested("mlp.c_fc.", &block::fc), nested("mlp.c_proj.", &block::fc2)};
    }
  };
  struct params {
    tensor2<std::int8_t, V, C> wte;  // (V, C) per-row int8
    tensor1<float, V> wte_scale;     // (V)
    [[no_unique_address]] maybe<learned_pos, tensor2<float, Ctx, C>> wpe;
    std::array<block, L> h;
    [[no_unique_address]] maybe<pre, layernorm_params<float, C>> ln_f;
    [[no_unique_address]] maybe<!tied, qlinear<C, V>> lm_head;
    static constexpr auto fields() {
      return std::tuple_cat(
          std::tuple{field("wte.weight", &params::wte, role::embedding), field("wte.weight_scale", &params::wte_scale, role::bias)},
          detail::optional_field<learned_pos>([] { return field("wpe.weight", &params::wpe, role::embedding); }),
          std::tuple{layers("h.", &params::h)},
          detail::optional_field<pre>([] { return nested("ln_f.", &params::ln_f); }),
          detail::optional_field<!tied>([] { return nested("lm_head.", &params::lm_head); }));
    }
  };

  static constexpr std::size_t weight_bytes = sizeof(params);

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

  // The float model the int8 one stands for (each weight replaced by q * s).
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

  template <std::size_t B, std::size_t S>
  struct workspace {
    static_assert(S <= Ctx, "ctformer: sequence length exceeds the model's context");
    static constexpr std::size_t batch = B, seq = S, BS = B * S, Kmax = F > C ? F : C;
    tensor2<float, BS, C> x, s, n;        // (BS, C) stream, mid-block stream, normalized
    tensor2<float, BS, 3 * C> qkv;        // (BS, 3C)
    tensor4<float, B, H, S, S> att;       // (B, H, S, S)
    tensor2<float, BS, C> att_y;          // (BS, C)
    tensor2<float, BS, F> h;              // (BS, F)
    tensor2<std::int8_t, BS, Kmax> xq;    // (BS, max(C, F)) quantized activations
    tensor1<float, BS> xs;                // (BS) their scales
    tensor1<float, BS> mean, rstd;
    tensor2<float, BS, V> logits;         // (BS, V)
    tensor1<float, BS> row_loss;
  };

  // y (rows, Out) = x (rows, In) W + b through int8.
  template <std::size_t Rows, std::size_t In, std::size_t Out, class WS>
  static void linear(float* y, std::size_t ldy, const float* x, const qlinear<In, Out>& w, WS& ws) {
    kernels::quantize_rows(ws.xq.data(), ws.xs.data(), x, Rows, In, In);
    kernels::gemm_s8(Rows, Out, In, ws.xq.data(), ws.xs.data(), w.weight.data(), w.scale.data(), w.bias.data(), y,
                     ldy);
  }

  // Logits for every position land in ws.logits (as decoder_lm::forward, in eval mode).
  template <std::size_t B, std::size_t S>
  static void forward(const params& p, workspace<B, S>& ws, const token_batch<B, S>& batch) {
    constexpr std::size_t BS = B * S;
    constexpr float eps = float(Cfg.ln_eps);
    float* x = ws.x.data();
    for (std::size_t r = 0; r < BS; ++r) {
      const std::int32_t id = batch.ids.data()[r];
      if (id < 0 || std::size_t(id) >= V) fail("token id {} at position {} is outside the vocabulary (size {})", id, r, V);
      for (std::size_t c = 0; c < C; ++c) x[r * C + c] = float(p.wte(std::size_t(id), c)) * p.wte_scale(std::size_t(id));
    }
    if constexpr (learned_pos)
      positions_forward<float, B, S, Ctx, C>(inout<float, BS, C>(x), in<float, Ctx, C>(p.wpe.data()));
    else
      positions_forward<float, B, S, Ctx, C>(inout<float, BS, C>(x), in<float, Ctx, C>(sinusoidal_table<float, Ctx, C>().data()));
    const std::int32_t* mask = detail::mask_or_null(batch.attention_mask.data(), BS);
    for (std::size_t l = 0; l < L; ++l) {
      const block& b = p.h[l];
      const float* a_in = x;
      if constexpr (pre) {
        kernels::layernorm_forward<float>(ws.n.data(), ws.mean.data(), ws.rstd.data(), x, b.ln1.weight.data(),
                                          b.ln1.bias.data(), BS, C, eps);
        a_in = ws.n.data();
      }
      linear<BS, C, 3 * C>(ws.qkv.data(), 3 * C, a_in, b.qkv, ws);
      const qkv_ptrs<float> qkv{ws.qkv.data(), 3 * C, ws.qkv.data() + C, 3 * C, ws.qkv.data() + 2 * C, 3 * C};
      attention_forward<float, B, S, S, H, D>(ws.att_y.data(), ws.att.data(), qkv, attention_mask{mask, true, 0});
      linear<BS, C, C>(ws.s.data(), C, ws.att_y.data(), b.proj, ws);
      kernels::add(ws.s.data(), ws.s.data(), x, BS * C);
      if constexpr (!pre) {  // s = LN1(x + attn(x)), through n (the kernel does not work in place)
        kernels::layernorm_forward<float>(ws.n.data(), ws.mean.data(), ws.rstd.data(), ws.s.data(), b.ln1.weight.data(),
                                          b.ln1.bias.data(), BS, C, eps);
        std::memcpy(ws.s.data(), ws.n.data(), BS * C * sizeof(float));
      }
      const float* f_in = ws.s.data();
      if constexpr (pre) {
        kernels::layernorm_forward<float>(ws.n.data(), ws.mean.data(), ws.rstd.data(), ws.s.data(), b.ln2.weight.data(),
                                          b.ln2.bias.data(), BS, C, eps);
        f_in = ws.n.data();
      }
      linear<BS, C, F>(ws.h.data(), F, f_in, b.fc, ws);
      if constexpr (Cfg.act == activation::gelu)
        kernels::gelu_forward(ws.h.data(), ws.h.data(), BS * F);
      else
        kernels::relu_forward(ws.h.data(), ws.h.data(), BS * F);
      linear<BS, F, C>(x, C, ws.h.data(), b.fc2, ws);
      kernels::add(x, x, ws.s.data(), BS * C);
      if constexpr (!pre) {
        kernels::layernorm_forward<float>(ws.n.data(), ws.mean.data(), ws.rstd.data(), x, b.ln2.weight.data(),
                                          b.ln2.bias.data(), BS, C, eps);
        std::memcpy(x, ws.n.data(), BS * C * sizeof(float));
      }
    }
    const float* xf = x;
    if constexpr (pre) {
      kernels::layernorm_forward<float>(ws.n.data(), ws.mean.data(), ws.rstd.data(), x, p.ln_f.weight.data(),
                                        p.ln_f.bias.data(), BS, C, eps);
      xf = ws.n.data();
    }
    kernels::quantize_rows(ws.xq.data(), ws.xs.data(), xf, BS, C, C);
    if constexpr (tied)
      kernels::gemm_s8(BS, V, C, ws.xq.data(), ws.xs.data(), p.wte.data(), p.wte_scale.data(), nullptr,
                       ws.logits.data(), V);
    else
      kernels::gemm_s8(BS, V, C, ws.xq.data(), ws.xs.data(), p.lm_head.weight.data(), p.lm_head.scale.data(), nullptr,
                       ws.logits.data(), V);
  }

  template <std::size_t B, std::size_t S>
  static loss_value forward_loss(const params& p, workspace<B, S>& ws, const token_batch<B, S>& batch) {
    forward(p, ws, batch);
    return cross_entropy_forward<float>(ws.logits.data(), ws.row_loss.data(), batch.targets.data(), B * S, V);
  }
};

}  // namespace ctformer
