// The transformer block, forward and backward, for every architecture: self-attention (causal or
// not, with a key padding mask), optional cross-attention over an encoder's output, and the
// feed-forward network fc -> GELU/ReLU -> fc2, each wrapped in a residual with LayerNorm.
//   pre-LN : s = x + drop(attn(LN1 x)); [s = s + drop(xattn(LNx s, enc))]; y = s + drop(ffn(LN2 s))
//   post-LN: s = LN1(x + drop(attn x)); [s = LNx(s + drop(xattn(s, enc)))]; y = LN2(s + drop(ffn s))
// Parameters carry the naming of a model family (GPT-2, BERT, BART), the code is shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>

#include "../config.hpp"
#include "../tensor/kernels/activation.hpp"
#include "../tensor/kernels/reduce.hpp"
#include "../tensor/tensor.hpp"
#include "attention.hpp"
#include "dropout.hpp"
#include "layernorm.hpp"
#include "linear.hpp"
#include "params.hpp"

namespace ctformer {

enum class family : unsigned char { gpt2, bert, bart };

template <class T, std::size_t C, std::size_t F, family Fam, bool Cross>
struct block_params {
  static constexpr bool fused_qkv = Fam == family::gpt2;
  static constexpr bool cross = Cross;
  // GPT-2 stores (in, out) like ctformer (Conv1D); BERT and BART use nn.Linear, (out, in).
  // Residual projections (the attention output and fc2) also carry GPT-2's init scaling flag.
  static constexpr unsigned linear_flags = Fam == family::gpt2 ? flag::none : flag::hf_transposed;
  static constexpr unsigned residual_flags = linear_flags | flag::residual_proj;

  layernorm_params<T, C> ln1;
  [[no_unique_address]] maybe<fused_qkv, linear_params<T, C, 3 * C, linear_flags>> qkv;  // q|k|v fused
  [[no_unique_address]] maybe<!fused_qkv, linear_params<T, C, C, linear_flags>> q;
  [[no_unique_address]] maybe<!fused_qkv, linear_params<T, C, C, linear_flags>> k;
  [[no_unique_address]] maybe<!fused_qkv, linear_params<T, C, C, linear_flags>> v;
  linear_params<T, C, C, residual_flags> proj;
  [[no_unique_address]] maybe<Cross, layernorm_params<T, C>> lnx;
  [[no_unique_address]] maybe<Cross, linear_params<T, C, C, linear_flags>> xq;
  [[no_unique_address]] maybe<Cross, linear_params<T, C, C, linear_flags>> xk;
  [[no_unique_address]] maybe<Cross, linear_params<T, C, C, linear_flags>> xv;
  [[no_unique_address]] maybe<Cross, linear_params<T, C, C, residual_flags>> xproj;
  layernorm_params<T, C> ln2;
  linear_params<T, C, F, linear_flags> fc;
  linear_params<T, F, C, residual_flags> fc2;

  static constexpr auto fields() {
    using S = block_params;
    if constexpr (Fam == family::gpt2) {
      return std::tuple{nested("ln_1.", &S::ln1), nested("attn.c_attn.", &S::qkv),
                        nested("attn.c_proj.", &S::proj), nested("ln_2.", &S::ln2),
                        nested("mlp.c_fc.", &S::fc), nested("mlp.c_proj.", &S::fc2)};
    } else if constexpr (Fam == family::bert) {
      return std::tuple{nested("attention.self.query.", &S::q), nested("attention.self.key.", &S::k),
                        nested("attention.self.value.", &S::v),
                        nested("attention.output.dense.", &S::proj),
                        nested("attention.output.LayerNorm.", &S::ln1),
                        nested("intermediate.dense.", &S::fc), nested("output.dense.", &S::fc2),
                        nested("output.LayerNorm.", &S::ln2)};
    } else if constexpr (!Cross) {
      return std::tuple{nested("self_attn.q_proj.", &S::q), nested("self_attn.k_proj.", &S::k),
                        nested("self_attn.v_proj.", &S::v), nested("self_attn.out_proj.", &S::proj),
                        nested("self_attn_layer_norm.", &S::ln1), nested("fc1.", &S::fc),
                        nested("fc2.", &S::fc2), nested("final_layer_norm.", &S::ln2)};
    } else {
      return std::tuple{nested("self_attn.q_proj.", &S::q), nested("self_attn.k_proj.", &S::k),
                        nested("self_attn.v_proj.", &S::v), nested("self_attn.out_proj.", &S::proj),
                        nested("self_attn_layer_norm.", &S::ln1),
                        nested("encoder_attn.q_proj.", &S::xq), nested("encoder_attn.k_proj.", &S::xk),
                        nested("encoder_attn.v_proj.", &S::xv),
                        nested("encoder_attn.out_proj.", &S::xproj),
                        nested("encoder_attn_layer_norm.", &S::lnx), nested("fc1.", &S::fc),
                        nested("fc2.", &S::fc2), nested("final_layer_norm.", &S::ln2)};
    }
  }
};

// Compile-time description of one block instance.
template <class T_, std::size_t B_, std::size_t S_, std::size_t C_, std::size_t F_, std::size_t H_,
          norm_placement Norm_, ctformer::activation Act_, bool Causal_, bool Cross_,
          std::size_t Ssrc_, bool Dropout_>
struct block_spec {
  using T = T_;
  static constexpr std::size_t B = B_, S = S_, C = C_, F = F_, H = H_, D = C_ / H_, BS = B_ * S_;
  static constexpr std::size_t Ssrc = Cross_ ? Ssrc_ : 1;
  static constexpr norm_placement norm = Norm_;
  static constexpr ctformer::activation act = Act_;
  static constexpr bool causal = Causal_, cross = Cross_, dropout = Dropout_;
  static constexpr bool pre = Norm_ == norm_placement::pre;
  static_assert(C_ % H_ == 0, "ctformer: heads must divide d_model");
};

// What backward needs from forward, per block.
template <class Sp>
struct block_cache {
  using T = typename Sp::T;
  static constexpr std::size_t B = Sp::B, S = Sp::S, C = Sp::C, F = Sp::F, H = Sp::H, BS = Sp::BS,
                               Ss = Sp::Ssrc;

  tensor2<T, BS, C> n1;        // (BS, C) pre: LN1(x), the attention input; post: unused
  tensor1<T, BS> mean1, rstd1; // (BS)
  tensor2<T, BS, 3 * C> qkv;   // (BS, 3C) q | k | v
  tensor4<T, B, H, S, S> att;  // (B, H, S, S) probabilities
  tensor2<T, BS, C> att_y;     // (BS, C) attention output before the projection
  tensor2<T, BS, C> sum1;      // (BS, C) pre: x + attn; post: the pre-norm sum
  tensor2<T, BS, C> s1;        // (BS, C) post: LN1(sum1); pre: unused
  [[no_unique_address]] maybe<Sp::cross, tensor2<T, BS, C>> nx;        // LNx input/output
  [[no_unique_address]] maybe<Sp::cross, tensor1<T, BS>> meanx;
  [[no_unique_address]] maybe<Sp::cross, tensor1<T, BS>> rstdx;
  [[no_unique_address]] maybe<Sp::cross, tensor2<T, BS, C>> xq;        // (BS, C) queries
  [[no_unique_address]] maybe<Sp::cross, tensor2<T, B * Ss, 2 * C>> xkv;  // (B Ssrc, 2C) k | v
  [[no_unique_address]] maybe<Sp::cross, tensor4<T, B, H, S, Ss>> xatt;
  [[no_unique_address]] maybe<Sp::cross, tensor2<T, BS, C>> xatt_y;
  [[no_unique_address]] maybe<Sp::cross, tensor2<T, BS, C>> sumx;
  [[no_unique_address]] maybe<Sp::cross, tensor2<T, BS, C>> sx;        // post: LNx(sumx)
  tensor2<T, BS, C> n2;        // (BS, C) pre: LN2 output, the FFN input
  tensor1<T, BS> mean2, rstd2;
  tensor2<T, BS, F> fc_pre;    // (BS, F) before the activation
  tensor2<T, BS, F> fc_act;    // (BS, F) after
  tensor2<T, BS, C> sum2;      // (BS, C) post: the pre-norm sum of the FFN residual
  // Dropout masks (multipliers), only when the model has dropout.
  [[no_unique_address]] maybe<Sp::dropout, tensor2<T, BS, C>> drop1;
  [[no_unique_address]] maybe<Sp::dropout && Sp::cross, tensor2<T, BS, C>> dropx;
  [[no_unique_address]] maybe<Sp::dropout, tensor2<T, BS, C>> drop2;
  [[no_unique_address]] maybe<Sp::dropout, tensor4<T, B, H, S, S>> att_mask;
  [[no_unique_address]] maybe<Sp::dropout, tensor4<T, B, H, S, S>> att_dropped;
  [[no_unique_address]] maybe<Sp::dropout && Sp::cross, tensor4<T, B, H, S, Ss>> xatt_mask;
  [[no_unique_address]] maybe<Sp::dropout && Sp::cross, tensor4<T, B, H, S, Ss>> xatt_dropped;
};

// Backward scratch shared by all blocks of a model (one block runs at a time).
template <class Sp>
struct block_scratch {
  using T = typename Sp::T;
  static constexpr std::size_t B = Sp::B, S = Sp::S, C = Sp::C, F = Sp::F, H = Sp::H, BS = Sp::BS,
                               Ss = Sp::Ssrc;
  static constexpr std::size_t Sk = S > Ss ? S : Ss;
  tensor2<T, BS, C> dresid;  // (BS, C) gradient of the residual stream between sub-layers
  tensor2<T, BS, C> dwork;   // (BS, C) the sub-layer at hand: its LayerNorm's or attention's output
                             // gradient, then its input's
  tensor2<T, BS, C> dbranch; // (BS, C) its branch's gradient through the dropout mask; dq of
                             // cross-attention
  tensor2<T, BS, 3 * C> dqkv;         // (BS, 3C)
  tensor2<T, BS, F> dh;               // (BS, F)
  tensor4<T, B, H, S, Sk> datt;       // (B, H, S, max(S, Ssrc))
  [[no_unique_address]] maybe<Sp::cross, tensor2<T, B * Ss, 2 * C>> dxkv;
};

// Inputs a block reads besides its own input and parameters.
template <class T>
struct block_context {
  const std::int32_t* key_mask = nullptr;  // (B, S) self-attention keys, null = all real
  const T* enc = nullptr;                  // (B Ssrc, C) encoder output (cross blocks)
  const std::int32_t* src_mask = nullptr;  // (B, Ssrc) encoder keys
  T* denc = nullptr;                       // (B Ssrc, C) gradient of the encoder output (adds)
  run_mode mode{};
  std::uint64_t site = 0;  // distinct per block, for dropout streams
};

namespace detail {

template <class Sp>
void activation_forward(typename Sp::T* y, const typename Sp::T* x, std::size_t n) {
  if constexpr (Sp::act == activation::gelu)
    kernels::gelu_forward(y, x, n);
  else
    kernels::relu_forward(y, x, n);
}
template <class Sp>
void activation_backward(typename Sp::T* dx, const typename Sp::T* dy, const typename Sp::T* x, std::size_t n) {
  if constexpr (Sp::act == activation::gelu)
    kernels::gelu_backward(dx, dy, x, n, false);
  else
    kernels::relu_backward(dx, dy, x, n, false);
}

// out = res + drop(sub), with sub computed into `sub` beforehand.
template <class T>
void residual_add(T* out, const T* res, T* sub, std::size_t n, T* mask, float p, const run_mode& mode,
                  std::uint64_t site) {
  if (mask && mode.train && p > 0.0f) dropout_forward(sub, mask, sub, n, p, mode, site);
  kernels::add(out, res, sub, n);
}

// d(sub) from d(out) of residual_add: through the dropout mask when it was applied.
template <class T>
const T* residual_sub_grad(T* scratch, const T* dout, std::size_t n, const T* mask, float p,
                           const run_mode& mode) {
  if (!(mask && mode.train && p > 0.0f)) return dout;
  for (std::size_t i = 0; i < n; ++i) scratch[i] = dout[i] * mask[i];
  return scratch;
}

template <class P, class T>
constexpr T* data_or_null(P& x) {
  if constexpr (std::is_same_v<std::remove_cv_t<P>, absent>)
    return nullptr;
  else
    return x.data();
}

}  // namespace detail

// y (BS, C) = block(x). x and y must not alias.
template <class Sp, family Fam>
void block_forward(typename Sp::T* y, const typename Sp::T* x,
                   const block_params<typename Sp::T, Sp::C, Sp::F, Fam, Sp::cross>& p,
                   block_cache<Sp>& c, const block_context<typename Sp::T>& ctx, float p_drop,
                   typename Sp::T eps) {
  using T = typename Sp::T;
  constexpr std::size_t B = Sp::B, S = Sp::S, C = Sp::C, F = Sp::F, H = Sp::H, D = Sp::D, BS = Sp::BS;
  const run_mode& mode = ctx.mode;
  T* drop1 = detail::data_or_null<decltype(c.drop1), T>(c.drop1);
  T* drop2 = detail::data_or_null<decltype(c.drop2), T>(c.drop2);

  // --- self-attention sub-layer
  const T* a_in = x;
  if constexpr (Sp::pre) {
    kernels::layernorm_forward<T>(c.n1.data(), c.mean1.data(), c.rstd1.data(), x, p.ln1.weight.data(),
                                  p.ln1.bias.data(), BS, C, eps);
    a_in = c.n1.data();
  }
  if constexpr (Fam == family::gpt2) {
    linear_forward<T, BS, C, 3 * C>(c.qkv.data(), 3 * C, a_in, C, p.qkv);
  } else {
    linear_forward<T, BS, C, C>(c.qkv.data(), 3 * C, a_in, C, p.q);
    linear_forward<T, BS, C, C>(c.qkv.data() + C, 3 * C, a_in, C, p.k);
    linear_forward<T, BS, C, C>(c.qkv.data() + 2 * C, 3 * C, a_in, C, p.v);
  }
  {
    const qkv_ptrs<T> in{c.qkv.data(), 3 * C, c.qkv.data() + C, 3 * C, c.qkv.data() + 2 * C, 3 * C};
    attention_dropout<T> ad;
    if constexpr (Sp::dropout) ad = {p_drop, c.att_mask.data(), c.att_dropped.data(), ctx.site * 8 + 1};
    attention_forward<T, B, S, S, H, D>(c.att_y.data(), c.att.data(), in,
                                        attention_mask{ctx.key_mask, Sp::causal, 0}, mode, ad);
  }
  T* sub = c.sum1.data();  // the projection lands here, then the residual sum replaces it
  linear_forward<T, BS, C, C>(sub, C, c.att_y.data(), C, p.proj);
  detail::residual_add(c.sum1.data(), x, sub, BS * C, drop1, p_drop, mode, ctx.site * 8 + 2);
  const T* s = c.sum1.data();
  if constexpr (!Sp::pre) {
    kernels::layernorm_forward<T>(c.s1.data(), c.mean1.data(), c.rstd1.data(), c.sum1.data(),
                                  p.ln1.weight.data(), p.ln1.bias.data(), BS, C, eps);
    s = c.s1.data();
  }

  // --- cross-attention sub-layer
  if constexpr (Sp::cross) {
    constexpr std::size_t Ss = Sp::Ssrc;
    T* dropx = detail::data_or_null<decltype(c.dropx), T>(c.dropx);
    const T* x_in = s;
    if constexpr (Sp::pre) {
      kernels::layernorm_forward<T>(c.nx.data(), c.meanx.data(), c.rstdx.data(), s, p.lnx.weight.data(),
                                    p.lnx.bias.data(), BS, C, eps);
      x_in = c.nx.data();
    }
    linear_forward<T, BS, C, C>(c.xq.data(), C, x_in, C, p.xq);
    linear_forward<T, B * Ss, C, C>(c.xkv.data(), 2 * C, ctx.enc, C, p.xk);
    linear_forward<T, B * Ss, C, C>(c.xkv.data() + C, 2 * C, ctx.enc, C, p.xv);
    const qkv_ptrs<T> in{c.xq.data(), C, c.xkv.data(), 2 * C, c.xkv.data() + C, 2 * C};
    attention_dropout<T> ad;
    if constexpr (Sp::dropout) ad = {p_drop, c.xatt_mask.data(), c.xatt_dropped.data(), ctx.site * 8 + 3};
    attention_forward<T, B, S, Ss, H, D>(c.xatt_y.data(), c.xatt.data(), in,
                                         attention_mask{ctx.src_mask, false, 0}, mode, ad);
    linear_forward<T, BS, C, C>(c.sumx.data(), C, c.xatt_y.data(), C, p.xproj);
    detail::residual_add(c.sumx.data(), s, c.sumx.data(), BS * C, dropx, p_drop, mode, ctx.site * 8 + 4);
    s = c.sumx.data();
    if constexpr (!Sp::pre) {
      kernels::layernorm_forward<T>(c.sx.data(), c.meanx.data(), c.rstdx.data(), c.sumx.data(),
                                    p.lnx.weight.data(), p.lnx.bias.data(), BS, C, eps);
      s = c.sx.data();
    }
  }

  // --- feed-forward sub-layer
  const T* f_in = s;
  if constexpr (Sp::pre) {
    kernels::layernorm_forward<T>(c.n2.data(), c.mean2.data(), c.rstd2.data(), s, p.ln2.weight.data(),
                                  p.ln2.bias.data(), BS, C, eps);
    f_in = c.n2.data();
  }
  linear_forward<T, BS, C, F>(c.fc_pre.data(), F, f_in, C, p.fc);
  detail::activation_forward<Sp>(c.fc_act.data(), c.fc_pre.data(), BS * F);
  if constexpr (Sp::pre) {
    linear_forward<T, BS, F, C>(y, C, c.fc_act.data(), F, p.fc2);
    detail::residual_add(y, s, y, BS * C, drop2, p_drop, mode, ctx.site * 8 + 5);
  } else {
    linear_forward<T, BS, F, C>(c.sum2.data(), C, c.fc_act.data(), F, p.fc2);
    detail::residual_add(c.sum2.data(), s, c.sum2.data(), BS * C, drop2, p_drop, mode, ctx.site * 8 + 5);
    kernels::layernorm_forward<T>(y, c.mean2.data(), c.rstd2.data(), c.sum2.data(), p.ln2.weight.data(),
                                  p.ln2.bias.data(), BS, C, eps);
  }
}

// Cross blocks take the encoder output as a typed (B Ssrc, C) view: an encoder output of any
// other shape fails to compile ("tensor shapes differ", naming both shapes).
template <class Sp, family Fam>
  requires(Sp::cross)
void block_forward(typename Sp::T* y, const typename Sp::T* x,
                   const block_params<typename Sp::T, Sp::C, Sp::F, Fam, Sp::cross>& p, block_cache<Sp>& c,
                   in<typename Sp::T, Sp::B * Sp::Ssrc, Sp::C> enc, block_context<typename Sp::T> ctx, float p_drop,
                   typename Sp::T eps) {
  ctx.enc = enc.data();
  block_forward<Sp, Fam>(y, x, p, c, ctx, p_drop, eps);
}

// Given dy (BS, C) = dL/dy, ADDS dL/dx into dx and the parameter gradients into g (and, for
// cross blocks, dL/d(encoder output) into ctx.denc). dy is used as scratch and destroyed.
template <class Sp, family Fam>
void block_backward(typename Sp::T* dx, typename Sp::T* dy,
                    block_params<typename Sp::T, Sp::C, Sp::F, Fam, Sp::cross>& g,
                    const typename Sp::T* x,
                    const block_params<typename Sp::T, Sp::C, Sp::F, Fam, Sp::cross>& p,
                    const block_cache<Sp>& c, block_scratch<Sp>& scratch,
                    const block_context<typename Sp::T>& ctx, float p_drop) {
  using T = typename Sp::T;
  constexpr std::size_t B = Sp::B, S = Sp::S, C = Sp::C, F = Sp::F, H = Sp::H, D = Sp::D, BS = Sp::BS;
  const run_mode& mode = ctx.mode;
  const T* drop1 = detail::data_or_null<const decltype(c.drop1), const T>(c.drop1);
  const T* drop2 = detail::data_or_null<const decltype(c.drop2), const T>(c.drop2);

  // ds: gradient with respect to the residual stream between sub-layers.
  T* ds = scratch.dresid.data();
  const T* s_ffn;  // the FFN sub-layer's residual input
  if constexpr (Sp::cross) {
    s_ffn = Sp::pre ? c.sumx.data() : c.sx.data();
  } else {
    s_ffn = Sp::pre ? c.sum1.data() : c.s1.data();
  }

  // --- feed-forward sub-layer
  {
    const T* dsum;  // gradient at the residual sum
    if constexpr (Sp::pre) {
      dsum = dy;
    } else {
      std::memset(scratch.dwork.data(), 0, BS * C * sizeof(T));
      kernels::layernorm_backward<T>(scratch.dwork.data(), g.ln2.weight.data(), g.ln2.bias.data(), dy,
                                     c.sum2.data(), p.ln2.weight.data(), c.mean2.data(),
                                     c.rstd2.data(), BS, C);
      dsum = scratch.dwork.data();
    }
    std::memcpy(ds, dsum, BS * C * sizeof(T));  // the residual path
    const T* dsub = detail::residual_sub_grad(scratch.dbranch.data(), dsum, BS * C, drop2, p_drop, mode);
    // fc2: dh = dsub fc2^T (overwrite), then through the activation into dh again.
    kernels::gemm<T>(false, true, BS, F, C, T(1), dsub, C, p.fc2.weight.data(), C, T(0), scratch.dh.data(), F);
    kernels::gemm<T>(true, false, F, C, BS, T(1), c.fc_act.data(), F, dsub, C, T(1), g.fc2.weight.data(), C);
    detail::add_column_sums(g.fc2.bias.data(), dsub, BS, C, C);
    detail::activation_backward<Sp>(scratch.dh.data(), scratch.dh.data(), c.fc_pre.data(), BS * F);
    const T* f_in = Sp::pre ? c.n2.data() : s_ffn;
    if constexpr (Sp::pre) {
      kernels::gemm<T>(false, true, BS, C, F, T(1), scratch.dh.data(), F, p.fc.weight.data(), F, T(0), scratch.dwork.data(), C);
      kernels::gemm<T>(true, false, C, F, BS, T(1), f_in, C, scratch.dh.data(), F, T(1), g.fc.weight.data(), F);
      detail::add_column_sums(g.fc.bias.data(), scratch.dh.data(), BS, F, F);
      kernels::layernorm_backward<T>(ds, g.ln2.weight.data(), g.ln2.bias.data(), scratch.dwork.data(), s_ffn,
                                     p.ln2.weight.data(), c.mean2.data(), c.rstd2.data(), BS, C);
    } else {
      linear_backward<T, BS, C, F>(ds, C, g.fc, scratch.dh.data(), F, f_in, C, p.fc);
    }
  }

  // --- cross-attention sub-layer
  if constexpr (Sp::cross) {
    constexpr std::size_t Ss = Sp::Ssrc;
    const T* dropx = detail::data_or_null<const decltype(c.dropx), const T>(c.dropx);
    const T* s_in = Sp::pre ? c.sum1.data() : c.s1.data();  // the sub-layer's residual input
    T* dsum = ds;
    if constexpr (!Sp::pre) {
      std::memset(scratch.dwork.data(), 0, BS * C * sizeof(T));
      kernels::layernorm_backward<T>(scratch.dwork.data(), g.lnx.weight.data(), g.lnx.bias.data(), ds,
                                     c.sumx.data(), p.lnx.weight.data(), c.meanx.data(),
                                     c.rstdx.data(), BS, C);
      std::memcpy(ds, scratch.dwork.data(), BS * C * sizeof(T));
    }
    const T* dsub = detail::residual_sub_grad(scratch.dbranch.data(), dsum, BS * C, dropx, p_drop, mode);
    // out projection: datt_y (in dwork) = dsub xproj^T
    T* datt_y = scratch.dwork.data();
    kernels::gemm<T>(false, true, BS, C, C, T(1), dsub, C, p.xproj.weight.data(), C, T(0), datt_y, C);
    kernels::gemm<T>(true, false, C, C, BS, T(1), c.xatt_y.data(), C, dsub, C, T(1), g.xproj.weight.data(), C);
    detail::add_column_sums(g.xproj.bias.data(), dsub, BS, C, C);
    // attention: dq into dbranch, dk|dv into dxkv
    std::memset(scratch.dbranch.data(), 0, BS * C * sizeof(T));
    std::memset(scratch.dxkv.data(), 0, B * Ss * 2 * C * sizeof(T));
    const qkv_ptrs<T> in{c.xq.data(), C, c.xkv.data(), 2 * C, c.xkv.data() + C, 2 * C};
    const dqkv_ptrs<T> d{scratch.dbranch.data(), C, scratch.dxkv.data(), 2 * C, scratch.dxkv.data() + C, 2 * C};
    attention_dropout<T> ad;
    if constexpr (Sp::dropout) ad = {p_drop, const_cast<T*>(c.xatt_mask.data()), const_cast<T*>(c.xatt_dropped.data()), 0};
    attention_backward<T, B, S, Ss, H, D>(d, scratch.datt.data(), datt_y, c.xatt.data(), in,
                                          attention_mask{ctx.src_mask, false, 0}, mode, ad);
    // projections of queries (from this stream) and keys/values (from the encoder)
    const T* xq_in = Sp::pre ? c.nx.data() : s_in;
    T* dxq_in = datt_y;  // reuse: gradient wrt the queries' input
    std::memset(dxq_in, 0, BS * C * sizeof(T));
    linear_backward<T, BS, C, C>(dxq_in, C, g.xq, scratch.dbranch.data(), C, xq_in, C, p.xq);
    linear_backward<T, B * Ss, C, C>(ctx.denc, C, g.xk, scratch.dxkv.data(), 2 * C, ctx.enc, C, p.xk);
    linear_backward<T, B * Ss, C, C>(ctx.denc, C, g.xv, scratch.dxkv.data() + C, 2 * C, ctx.enc, C, p.xv);
    if constexpr (Sp::pre) {
      kernels::layernorm_backward<T>(ds, g.lnx.weight.data(), g.lnx.bias.data(), dxq_in, s_in,
                                     p.lnx.weight.data(), c.meanx.data(), c.rstdx.data(), BS, C);
    } else {
      kernels::axpy(ds, T(1), dxq_in, BS * C);
    }
  }

  // --- self-attention sub-layer
  {
    if constexpr (!Sp::pre) {
      std::memset(scratch.dwork.data(), 0, BS * C * sizeof(T));
      kernels::layernorm_backward<T>(scratch.dwork.data(), g.ln1.weight.data(), g.ln1.bias.data(), ds,
                                     c.sum1.data(), p.ln1.weight.data(), c.mean1.data(),
                                     c.rstd1.data(), BS, C);
      std::memcpy(ds, scratch.dwork.data(), BS * C * sizeof(T));
    }
    // ds is now dL/d(sum1); the residual path carries it to x.
    kernels::axpy(dx, T(1), ds, BS * C);
    const T* dsub = detail::residual_sub_grad(scratch.dbranch.data(), ds, BS * C, drop1, p_drop, mode);
    T* datt_y = scratch.dwork.data();
    kernels::gemm<T>(false, true, BS, C, C, T(1), dsub, C, p.proj.weight.data(), C, T(0), datt_y, C);
    kernels::gemm<T>(true, false, C, C, BS, T(1), c.att_y.data(), C, dsub, C, T(1), g.proj.weight.data(), C);
    detail::add_column_sums(g.proj.bias.data(), dsub, BS, C, C);
    std::memset(scratch.dqkv.data(), 0, BS * 3 * C * sizeof(T));
    const qkv_ptrs<T> in{c.qkv.data(), 3 * C, c.qkv.data() + C, 3 * C, c.qkv.data() + 2 * C, 3 * C};
    const dqkv_ptrs<T> d{scratch.dqkv.data(), 3 * C, scratch.dqkv.data() + C, 3 * C, scratch.dqkv.data() + 2 * C, 3 * C};
    attention_dropout<T> ad;
    if constexpr (Sp::dropout) ad = {p_drop, const_cast<T*>(c.att_mask.data()), const_cast<T*>(c.att_dropped.data()), 0};
    attention_backward<T, B, S, S, H, D>(d, scratch.datt.data(), datt_y, c.att.data(), in,
                                         attention_mask{ctx.key_mask, Sp::causal, 0}, mode, ad);
    const T* a_in = Sp::pre ? c.n1.data() : x;
    T* da_in = Sp::pre ? scratch.dwork.data() : dx;  // post-LN: the projections read x directly
    if constexpr (Sp::pre) std::memset(da_in, 0, BS * C * sizeof(T));
    if constexpr (Fam == family::gpt2) {
      linear_backward<T, BS, C, 3 * C>(da_in, C, g.qkv, scratch.dqkv.data(), 3 * C, a_in, C, p.qkv);
    } else {
      linear_backward<T, BS, C, C>(da_in, C, g.q, scratch.dqkv.data(), 3 * C, a_in, C, p.q);
      linear_backward<T, BS, C, C>(da_in, C, g.k, scratch.dqkv.data() + C, 3 * C, a_in, C, p.k);
      linear_backward<T, BS, C, C>(da_in, C, g.v, scratch.dqkv.data() + 2 * C, 3 * C, a_in, C, p.v);
    }
    if constexpr (Sp::pre) {
      kernels::layernorm_backward<T>(dx, g.ln1.weight.data(), g.ln1.bias.data(), da_in, x,
                                     p.ln1.weight.data(), c.mean1.data(), c.rstd1.data(), BS, C);
    }
  }
}

}  // namespace ctformer
