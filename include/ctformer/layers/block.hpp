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
#include "../tensor/kernels/reduce.hpp"
#include "../tensor/tensor.hpp"
#include "activation.hpp"
#include "attention.hpp"
#include "dropout.hpp"
#include "layernorm.hpp"
#include "linear.hpp"
#include "params.hpp"

namespace ctformer {

enum class family : unsigned char { gpt2, bert, bart };

/// Tn is the storage of every tensor: tensor (owning) or const_tensor_ref (a view).
template <class T, std::size_t C, std::size_t F, family Fam, bool Cross,
          template <class, std::size_t...> class Tn = tensor>
struct block_params {
  static constexpr family fam = Fam;  ///< the checkpoint layout (names and weight orientation) the block follows
  /// One fused (C, 3C) q | k | v layer (GPT-2), else three (C, C) ones.
  static constexpr bool fused_qkv = Fam == family::gpt2;
  static constexpr bool cross = Cross;  ///< has cross-attention over an encoder output (decoder blocks of seq2seq)
  /// GPT-2 stores (in, out) like ctformer (Conv1D); BERT and BART use nn.Linear, (out, in).
  /// Residual projections (the attention output and fc2) also carry GPT-2's init scaling flag.
  static constexpr unsigned linear_flags = Fam == family::gpt2 ? flag::none : flag::hf_transposed;
  /// Flags of the residual projections (proj, xproj, fc2).
  static constexpr unsigned residual_flags = linear_flags | flag::residual_proj;

  layernorm_params<T, C, Tn> ln1;  ///< LayerNorm of the attention sub-layer
  [[no_unique_address]] maybe<fused_qkv, linear_params<T, C, 3 * C, linear_flags, Tn>> qkv;  ///< q|k|v fused
  /// Query projection (unfused families).
  [[no_unique_address]] maybe<!fused_qkv, linear_params<T, C, C, linear_flags, Tn>> q;
  /// Key projection (unfused families).
  [[no_unique_address]] maybe<!fused_qkv, linear_params<T, C, C, linear_flags, Tn>> k;
  /// Value projection (unfused families).
  [[no_unique_address]] maybe<!fused_qkv, linear_params<T, C, C, linear_flags, Tn>> v;
  linear_params<T, C, C, residual_flags, Tn> proj;  ///< attention output projection
  [[no_unique_address]] maybe<Cross, layernorm_params<T, C, Tn>> lnx;  ///< LayerNorm of the cross-attention sub-layer
  /// Cross-attention query projection.
  [[no_unique_address]] maybe<Cross, linear_params<T, C, C, linear_flags, Tn>> xq;
  /// Cross-attention key projection (of the encoder output).
  [[no_unique_address]] maybe<Cross, linear_params<T, C, C, linear_flags, Tn>> xk;
  /// Cross-attention value projection (of the encoder output).
  [[no_unique_address]] maybe<Cross, linear_params<T, C, C, linear_flags, Tn>> xv;
  /// Cross-attention output projection.
  [[no_unique_address]] maybe<Cross, linear_params<T, C, C, residual_flags, Tn>> xproj;
  layernorm_params<T, C, Tn> ln2;  ///< LayerNorm of the feed-forward sub-layer
  linear_params<T, C, F, linear_flags, Tn> fc;  ///< feed-forward input layer (C -> F)
  linear_params<T, F, C, residual_flags, Tn> fc2;  ///< feed-forward output layer (F -> C)

  /// Checkpoint names of the members, in the family's layout.
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

/// Compile-time description of one block instance: B sequences of S rows (a training batch; or
/// B = 1 and S = the rows of one inference pass), keys per query Skv (S, or a cache's context),
/// and whether linear layers run through int8 (quantized weights, activations quantized per row).
template <class T_, std::size_t B_, std::size_t S_, std::size_t C_, std::size_t F_, std::size_t H_,
          norm_placement Norm_, ctformer::activation Act_, bool Causal_, bool Cross_,
          std::size_t Ssrc_, bool Dropout_, std::size_t Skv_ = 0, bool Int8_ = false>
struct block_spec {
  using T = T_;  ///< scalar type
  static constexpr std::size_t B = B_;        ///< sequences
  static constexpr std::size_t S = S_;        ///< rows per sequence
  static constexpr std::size_t C = C_;        ///< d_model
  static constexpr std::size_t F = F_;        ///< FFN width
  static constexpr std::size_t H = H_;        ///< attention heads
  static constexpr std::size_t D = C_ / H_;   ///< head width C / H
  static constexpr std::size_t BS = B_ * S_;  ///< rows B * S
  /// Encoder rows per sequence for cross-attention, 1 without it.
  static constexpr std::size_t Ssrc = Cross_ ? Ssrc_ : 1;
  static constexpr std::size_t Skv = Skv_ ? Skv_ : S_;  ///< keys per query: Skv_, or S when Skv_ is 0
  static constexpr norm_placement norm = Norm_;  ///< LayerNorm before or after the residual add
  static constexpr ctformer::activation act = Act_;  ///< activation of the feed-forward network
  static constexpr bool causal = Causal_;    ///< causal self-attention
  static constexpr bool cross = Cross_;      ///< has cross-attention
  static constexpr bool dropout = Dropout_;  ///< has dropout
  static constexpr bool int8 = Int8_;        ///< int8 linear layers
  static constexpr bool pre = Norm_ == norm_placement::pre;  ///< norm == norm_placement::pre
  static_assert(C_ % H_ == 0, "ctformer: heads must divide d_model");
};

/// What one block's forward writes: its activations (what backward needs, for training; the
/// working buffers of one pass, for inference, shared by all layers).
template <class Sp>
struct block_cache {
  using T = typename Sp::T;  ///< scalar type
  static constexpr std::size_t B = Sp::B;      ///< sequences, from Sp
  static constexpr std::size_t S = Sp::S;      ///< rows per sequence, from Sp
  static constexpr std::size_t C = Sp::C;      ///< d_model, from Sp
  static constexpr std::size_t F = Sp::F;      ///< FFN width, from Sp
  static constexpr std::size_t H = Sp::H;      ///< attention heads, from Sp
  static constexpr std::size_t BS = Sp::BS;    ///< rows B * S, from Sp
  static constexpr std::size_t Ss = Sp::Ssrc;  ///< Ssrc (encoder rows per sequence), from Sp
  static constexpr std::size_t Sk = Sp::Skv;   ///< Skv (keys per query), from Sp
  static constexpr bool pre = Sp::pre;      ///< LayerNorm before each sub-layer, from Sp
  static constexpr bool post = !Sp::pre;    ///< LayerNorm after the residual add
  static constexpr bool cross = Sp::cross;  ///< cross-attention, from Sp

  [[no_unique_address]] maybe<pre, tensor2<T, BS, C>> n1;  ///< (BS, C) LN1(x), the attention input
  /// (BS) mean and reciprocal standard deviation of LN1's input.
  tensor1<T, BS> mean1, rstd1;                             ///< (BS)
  tensor2<T, BS, 3 * C> qkv;                               ///< (BS, 3C) q | k | v
  tensor4<T, B, H, S, Sk> att;                             ///< (B, H, S, Skv) probabilities
  tensor2<T, BS, C> att_y;     ///< (BS, C) attention output before the projection
  tensor2<T, BS, C> sum1;      ///< (BS, C) x + attn (the residual sum)
  [[no_unique_address]] maybe<post, tensor2<T, BS, C>> s1;              ///< post: LN1(sum1)
  [[no_unique_address]] maybe<cross && pre, tensor2<T, BS, C>> nx;      ///< pre: LNx(sum1)
  [[no_unique_address]] maybe<cross, tensor1<T, BS>> meanx;  ///< (BS) mean of the cross-attention LayerNorm's input
  /// (BS) reciprocal standard deviation of the cross-attention LayerNorm's input.
  [[no_unique_address]] maybe<cross, tensor1<T, BS>> rstdx;
  [[no_unique_address]] maybe<cross, tensor2<T, BS, C>> xq;             ///< (BS, C) queries
  [[no_unique_address]] maybe<cross, tensor2<T, B * Ss, 2 * C>> xkv;    ///< (B Ssrc, 2C) k | v
  [[no_unique_address]] maybe<cross, tensor4<T, B, H, S, Ss>> xatt;  ///< (B, H, S, Ssrc) cross-attention probabilities
  /// (BS, C) cross-attention output before the projection.
  [[no_unique_address]] maybe<cross, tensor2<T, BS, C>> xatt_y;
  [[no_unique_address]] maybe<cross, tensor2<T, BS, C>> sumx;  ///< (BS, C) the residual sum after cross-attention
  [[no_unique_address]] maybe<cross && post, tensor2<T, BS, C>> sx;     ///< post: LNx(sumx)
  [[no_unique_address]] maybe<pre, tensor2<T, BS, C>> n2;  ///< (BS, C) pre: LN2 output, the FFN input
  /// (BS) mean and reciprocal standard deviation of LN2's input.
  tensor1<T, BS> mean2, rstd2;  ///< (BS)
  tensor2<T, BS, F> fc_pre;    ///< (BS, F) before the activation
  tensor2<T, BS, F> fc_act;    ///< (BS, F) after
  [[no_unique_address]] maybe<post, tensor2<T, BS, C>> sum2;  ///< post: the FFN residual sum
  /// Dropout masks (multipliers), only when the model has dropout.
  [[no_unique_address]] maybe<Sp::dropout, tensor2<T, BS, C>> drop1;
  /// (BS, C) dropout mask of the cross-attention branch.
  [[no_unique_address]] maybe<Sp::dropout && cross, tensor2<T, BS, C>> dropx;
  /// (BS, C) dropout mask of the feed-forward branch.
  [[no_unique_address]] maybe<Sp::dropout, tensor2<T, BS, C>> drop2;
  /// (B, H, S, S) dropout mask of the attention probabilities.
  [[no_unique_address]] maybe<Sp::dropout, tensor4<T, B, H, S, S>> att_mask;
  /// (B, H, S, S) attention probabilities after dropout.
  [[no_unique_address]] maybe<Sp::dropout, tensor4<T, B, H, S, S>> att_dropped;
  /// (B, H, S, Ssrc) dropout mask of the cross-attention probabilities.
  [[no_unique_address]] maybe<Sp::dropout && cross, tensor4<T, B, H, S, Ss>> xatt_mask;
  /// (B, H, S, Ssrc) cross-attention probabilities after dropout.
  [[no_unique_address]] maybe<Sp::dropout && cross, tensor4<T, B, H, S, Ss>> xatt_dropped;
  /// int8 linear layers: the activations quantized per row, and their scales.
  [[no_unique_address]] maybe<Sp::int8, tensor2<std::int8_t, BS, (F > C ? F : C)>> xq8;
  [[no_unique_address]] maybe<Sp::int8, tensor1<float, BS>> xs8;  ///< (BS) scale of each quantized row

  /// What each sub-layer reads: the normalized stream (pre-LN) or the stream itself (post-LN).
  const T* attn_input(const T* x) const {
    if constexpr (pre) return n1.data(); else return x;
  }
  /// The cross-attention sub-layer's input: LNx(sum1) (pre-LN) or s1 (post-LN).
  const T* cross_input() const {
    if constexpr (pre) return nx.data(); else return s1.data();
  }
  /// The residual stream after the attention sub-layer(s): the FFN's residual input.
  const T* ffn_residual() const {
    if constexpr (cross) {
      if constexpr (pre) return sumx.data(); else return sx.data();
    } else {
      if constexpr (pre) return sum1.data(); else return s1.data();
    }
  }
  /// The FFN's input: LN2's output (pre-LN) or the residual stream (post-LN).
  const T* ffn_input() const {
    if constexpr (pre) return n2.data(); else return ffn_residual();
  }
};

/// Backward scratch shared by all blocks of a model (one block runs at a time).
template <class Sp>
struct block_scratch {
  using T = typename Sp::T;  ///< scalar type
  static constexpr std::size_t B = Sp::B;      ///< sequences, from Sp
  static constexpr std::size_t S = Sp::S;      ///< rows per sequence, from Sp
  static constexpr std::size_t C = Sp::C;      ///< d_model, from Sp
  static constexpr std::size_t F = Sp::F;      ///< FFN width, from Sp
  static constexpr std::size_t H = Sp::H;      ///< attention heads, from Sp
  static constexpr std::size_t BS = Sp::BS;    ///< rows B * S, from Sp
  static constexpr std::size_t Ss = Sp::Ssrc;  ///< Ssrc (encoder rows per sequence), from Sp
  static constexpr std::size_t Sk = S > Ss ? S : Ss;  ///< keys per query in datt: max(S, Ssrc)
  tensor2<T, BS, C> dresid;  ///< (BS, C) gradient of the residual stream between sub-layers
  tensor2<T, BS, C> dwork;   ///< (BS, C) the sub-layer at hand: its LayerNorm's or attention's output
                             /// gradient, then its input's
  tensor2<T, BS, C> dbranch; ///< (BS, C) its branch's gradient through the dropout mask; dq of
                             /// cross-attention
  tensor2<T, BS, 3 * C> dqkv;         ///< (BS, 3C)
  tensor2<T, BS, F> dh;               ///< (BS, F)
  tensor4<T, B, H, S, Sk> datt;       ///< (B, H, S, max(S, Ssrc))
  /// (B Ssrc, 2C) gradient of the cross-attention keys and values.
  [[no_unique_address]] maybe<Sp::cross, tensor2<T, B * Ss, 2 * C>> dxkv;
};

/// Inputs a training (or full) forward gives a block besides its own input and parameters.
template <class T>
struct block_context {
  const std::int32_t* key_mask = nullptr;  ///< (B, S) self-attention keys, null = all real
  const T* enc = nullptr;                  ///< (B Ssrc, C) encoder output (cross blocks)
  const std::int32_t* src_mask = nullptr;  ///< (B, Ssrc) encoder keys
  T* denc = nullptr;                       ///< (B Ssrc, C) gradient of the encoder output (adds)
  run_mode mode{};  ///< training (dropout) or inference
  std::uint64_t site = 0;  ///< distinct per block, for dropout streams
};

// ---- where attention finds its keys and values ------------------------------------------------
// A block's forward computes the queries (and its own rows' keys and values) and hands the rest
// to a source: (y, cache, n) for self-attention, reading q | k | v from cache.qkv; (y, cache,
// params, n) for cross-attention, reading the queries from cache.xq. The sources for a full
// sequence are here; a KV cache (cached_self_attention, layers/attention.hpp) and a decoder's
// cached encoder keys (deploy/seq2seq_decode.hpp) are the others.

/// Self-attention over the block's own B x S rows, causal or not, with a key padding mask.
template <class Sp>
struct sequence_self_attention {
  using T = typename Sp::T;  ///< scalar type
  const std::int32_t* key_mask = nullptr;  ///< (B, S) 1 real key, 0 padding; null means all real
  run_mode mode{};  ///< training (dropout) or inference
  float p_drop = 0.0f;  ///< dropout probability on the attention probabilities
  std::uint64_t site = 0;  ///< distinct per block, for dropout streams

  /// Writes the attention output (BS, C) to y from cache.qkv; probabilities go to cache.att.
  void operator()(T* y, block_cache<Sp>& c, std::size_t) const {
    constexpr std::size_t C = Sp::C;
    const qkv_ptrs<T> in{c.qkv.data(), 3 * C, c.qkv.data() + C, 3 * C, c.qkv.data() + 2 * C, 3 * C};
    attention_dropout<T> ad;
    if constexpr (Sp::dropout) ad = {p_drop, c.att_mask.data(), c.att_dropped.data(), site * 8 + 1};
    attention_forward<T, Sp::B, Sp::S, Sp::S, Sp::H, Sp::D>(y, c.att.data(), in,
                                                            attention_mask{key_mask, Sp::causal, 0}, mode, ad);
  }
};

/// Cross-attention over an encoder output (B Ssrc, C), projected to keys and values here.
template <class Sp>
struct sequence_cross_attention {
  using T = typename Sp::T;  ///< scalar type
  const T* enc = nullptr;  ///< (B Ssrc, C) encoder output
  const std::int32_t* src_mask = nullptr;  ///< (B, Ssrc) 1 real encoder key, 0 padding; null means all real
  run_mode mode{};  ///< training (dropout) or inference
  float p_drop = 0.0f;  ///< dropout probability on the attention probabilities
  std::uint64_t site = 0;  ///< distinct per block, for dropout streams

  /// Projects enc to keys and values, then writes the attention output (BS, C) to y from cache.xq.
  template <class P>
  void operator()(T* y, block_cache<Sp>& c, const P& p, std::size_t) const {
    constexpr std::size_t C = Sp::C, Ss = Sp::Ssrc, B = Sp::B;
    linear_forward(c.xkv.data(), 2 * C, enc, C, B * Ss, p.xk);
    linear_forward(c.xkv.data() + C, 2 * C, enc, C, B * Ss, p.xv);
    const qkv_ptrs<T> in{c.xq.data(), C, c.xkv.data(), 2 * C, c.xkv.data() + C, 2 * C};
    attention_dropout<T> ad;
    if constexpr (Sp::dropout) ad = {p_drop, c.xatt_mask.data(), c.xatt_dropped.data(), site * 8 + 3};
    attention_forward<T, B, Sp::S, Ss, Sp::H, Sp::D>(y, c.xatt.data(), in, attention_mask{src_mask, false, 0}, mode,
                                                     ad);
  }
};

/// For blocks without cross-attention.
struct no_cross_attention {};

namespace detail {

/// out = res + drop(sub), with sub computed into `sub` beforehand.
template <class T>
void residual_forward(T* out, const T* res, T* sub, std::size_t n, T* mask, float p, const run_mode& mode,
                      std::uint64_t site) {
  if (mask && mode.train && p > 0.0f) dropout_forward(sub, mask, sub, n, p, mode, site);
  kernels::add(out, res, sub, n);
}

/// d(sub) from d(out) of residual_forward: through the dropout mask when it was applied.
template <class T>
const T* residual_branch_backward(T* scratch, const T* dout, std::size_t n, const T* mask, float p,
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

/// A linear layer of the block: fp32 weights, or int8 ones (deploy/quantize.hpp's overload, found
/// by argument-dependent lookup) with the cache's buffers for the quantized activations.
template <class Sp, class W>
void block_linear(typename Sp::T* y, std::size_t ldy, const typename Sp::T* x, std::size_t ldx, std::size_t n,
                  const W& w, block_cache<Sp>& c) {
  if constexpr (Sp::int8)
    linear_forward(y, ldy, x, ldx, n, w, c.xq8.data(), c.xs8.data());
  else
    linear_forward(y, ldy, x, ldx, n, w);
}

}  // namespace detail

// ---- forward -------------------------------------------------------------------------------------
/// y (n, C) = block(x (n, C)) for the first n <= BS rows: the one forward of every path. Training
/// and full forwards use the sequence sources with n = BS; KV-cache passes and decoding steps use
/// cached sources with n new positions; P is block_params (fp32, owning or a view) or any struct
/// with the same members whose linear layers have a linear_forward overload (int8). x and y must
/// not alias.
template <class Sp, class P, class SelfSource, class CrossSource>
void block_forward(typename Sp::T* y, const typename Sp::T* x, std::size_t n, const P& p, block_cache<Sp>& c,
                   const SelfSource& self_attention, const CrossSource& cross_attention, const run_mode& mode,
                   float p_drop, std::uint64_t site, typename Sp::T eps) {
  using T = typename Sp::T;
  constexpr std::size_t C = Sp::C, F = Sp::F;
  const std::size_t nc = n * C;
  const auto linear = [&](T* out, std::size_t ldo, const T* in, std::size_t ldi, const auto& w) {
    detail::block_linear<Sp>(out, ldo, in, ldi, n, w, c);
  };

  // --- self-attention sub-layer
  if constexpr (Sp::pre) layernorm_forward(c.n1.data(), c.mean1.data(), c.rstd1.data(), x, n, p.ln1, eps);
  const T* a_in = c.attn_input(x);
  if constexpr (P::fused_qkv) {
    linear(c.qkv.data(), 3 * C, a_in, C, p.qkv);
  } else {
    linear(c.qkv.data(), 3 * C, a_in, C, p.q);
    linear(c.qkv.data() + C, 3 * C, a_in, C, p.k);
    linear(c.qkv.data() + 2 * C, 3 * C, a_in, C, p.v);
  }
  self_attention(c.att_y.data(), c, n);
  linear(c.sum1.data(), C, c.att_y.data(), C, p.proj);
  detail::residual_forward(c.sum1.data(), x, c.sum1.data(), nc, detail::data_or_null<decltype(c.drop1), T>(c.drop1),
                           p_drop, mode, site * 8 + 2);
  if constexpr (!Sp::pre) layernorm_forward(c.s1.data(), c.mean1.data(), c.rstd1.data(), c.sum1.data(), n, p.ln1, eps);

  // --- cross-attention sub-layer
  if constexpr (Sp::cross) {
    const T* s = Sp::pre ? c.sum1.data() : c.cross_input();  // its residual input
    if constexpr (Sp::pre) layernorm_forward(c.nx.data(), c.meanx.data(), c.rstdx.data(), s, n, p.lnx, eps);
    linear(c.xq.data(), C, c.cross_input(), C, p.xq);
    cross_attention(c.xatt_y.data(), c, p, n);
    linear(c.sumx.data(), C, c.xatt_y.data(), C, p.xproj);
    detail::residual_forward(c.sumx.data(), s, c.sumx.data(), nc, detail::data_or_null<decltype(c.dropx), T>(c.dropx),
                             p_drop, mode, site * 8 + 4);
    if constexpr (!Sp::pre)
      layernorm_forward(c.sx.data(), c.meanx.data(), c.rstdx.data(), c.sumx.data(), n, p.lnx, eps);
  }

  // --- feed-forward sub-layer
  const T* s = c.ffn_residual();
  if constexpr (Sp::pre) layernorm_forward(c.n2.data(), c.mean2.data(), c.rstd2.data(), s, n, p.ln2, eps);
  linear(c.fc_pre.data(), F, c.ffn_input(), C, p.fc);
  activation_forward<Sp::act>(c.fc_act.data(), c.fc_pre.data(), n * F);
  T* drop2 = detail::data_or_null<decltype(c.drop2), T>(c.drop2);
  if constexpr (Sp::pre) {
    linear(y, C, c.fc_act.data(), F, p.fc2);
    detail::residual_forward(y, s, y, nc, drop2, p_drop, mode, site * 8 + 5);
  } else {
    linear(c.sum2.data(), C, c.fc_act.data(), F, p.fc2);
    detail::residual_forward(c.sum2.data(), s, c.sum2.data(), nc, drop2, p_drop, mode, site * 8 + 5);
    layernorm_forward(y, c.mean2.data(), c.rstd2.data(), c.sum2.data(), n, p.ln2, eps);
  }
}

/// The training (full-sequence) forward: all BS rows, keys and values from the sequence itself.
template <class Sp, family Fam>
void block_forward(typename Sp::T* y, const typename Sp::T* x,
                   const block_params<typename Sp::T, Sp::C, Sp::F, Fam, Sp::cross>& p,
                   block_cache<Sp>& c, const block_context<typename Sp::T>& ctx, float p_drop,
                   typename Sp::T eps) {
  const sequence_self_attention<Sp> self{ctx.key_mask, ctx.mode, p_drop, ctx.site};
  if constexpr (Sp::cross) {
    const sequence_cross_attention<Sp> cross{ctx.enc, ctx.src_mask, ctx.mode, p_drop, ctx.site};
    block_forward<Sp>(y, x, Sp::BS, p, c, self, cross, ctx.mode, p_drop, ctx.site, eps);
  } else {
    block_forward<Sp>(y, x, Sp::BS, p, c, self, no_cross_attention{}, ctx.mode, p_drop, ctx.site, eps);
  }
}

/// Cross blocks take the encoder output as a typed (B Ssrc, C) view: an encoder output of any
/// other shape fails to compile ("tensor shapes differ", naming both shapes).
template <class Sp, family Fam>
  requires(Sp::cross)
void block_forward(typename Sp::T* y, const typename Sp::T* x,
                   const block_params<typename Sp::T, Sp::C, Sp::F, Fam, Sp::cross>& p, block_cache<Sp>& c,
                   in<typename Sp::T, Sp::B * Sp::Ssrc, Sp::C> enc, block_context<typename Sp::T> ctx, float p_drop,
                   typename Sp::T eps) {
  ctx.enc = enc.data();
  block_forward<Sp, Fam>(y, x, p, c, ctx, p_drop, eps);
}

// ---- backward ------------------------------------------------------------------------------------
/// Given dy (BS, C) = dL/dy, ADDS dL/dx into dx and the parameter gradients into g (and, for
/// cross blocks, dL/d(encoder output) into ctx.denc). dy is used as scratch and destroyed.
/// The sub-layers in reverse, each: [LayerNorm] -> residual branch -> linear -> attention or
/// activation -> linear(s) -> [LayerNorm].
template <class Sp, family Fam>
void block_backward(typename Sp::T* dx, typename Sp::T* dy,
                    block_params<typename Sp::T, Sp::C, Sp::F, Fam, Sp::cross>& g,
                    const typename Sp::T* x,
                    const block_params<typename Sp::T, Sp::C, Sp::F, Fam, Sp::cross>& p,
                    const block_cache<Sp>& c, block_scratch<Sp>& scratch,
                    const block_context<typename Sp::T>& ctx, float p_drop) {
  using T = typename Sp::T;
  constexpr std::size_t B = Sp::B, S = Sp::S, C = Sp::C, F = Sp::F, H = Sp::H, D = Sp::D, BS = Sp::BS;
  constexpr auto overwrite = write_mode::overwrite, accumulate = write_mode::accumulate;
  const run_mode& mode = ctx.mode;
  T* ds = scratch.dresid.data();  // dL/d(residual stream) between sub-layers
  T* dwork = scratch.dwork.data();
  T* dbranch = scratch.dbranch.data();
  const auto branch = [&](const T* dsum, const auto& mask) {  ///< through the branch's dropout
    return detail::residual_branch_backward(dbranch, dsum, BS * C,
                                            detail::data_or_null<std::remove_reference_t<decltype(mask)>, const T>(mask),
                                            p_drop, mode);
  };

  // --- feed-forward sub-layer
  {
    const T* dsum = dy;  ///< gradient at the residual sum
    if constexpr (!Sp::pre) {
      layernorm_backward(dwork, overwrite, g.ln2, dy, c.sum2.data(), BS, p.ln2, c.mean2.data(), c.rstd2.data());
      dsum = dwork;
    }
    std::memcpy(ds, dsum, BS * C * sizeof(T));  // the residual path
    const T* dsub = branch(dsum, c.drop2);
    linear_backward(scratch.dh.data(), F, overwrite, g.fc2, dsub, C, c.fc_act.data(), F, BS, p.fc2);
    activation_backward<Sp::act>(scratch.dh.data(), scratch.dh.data(), c.fc_pre.data(), BS * F);
    if constexpr (Sp::pre) {
      linear_backward(dwork, C, overwrite, g.fc, scratch.dh.data(), F, c.ffn_input(), C, BS, p.fc);
      layernorm_backward(ds, accumulate, g.ln2, dwork, c.ffn_residual(), BS, p.ln2, c.mean2.data(), c.rstd2.data());
    } else {
      linear_backward(ds, C, accumulate, g.fc, scratch.dh.data(), F, c.ffn_input(), C, BS, p.fc);
    }
  }

  // --- cross-attention sub-layer
  if constexpr (Sp::cross) {
    constexpr std::size_t Ss = Sp::Ssrc;
    const T* s_in = Sp::pre ? c.sum1.data() : c.cross_input();  // the sub-layer's residual input
    if constexpr (!Sp::pre) {
      layernorm_backward(dwork, overwrite, g.lnx, ds, c.sumx.data(), BS, p.lnx, c.meanx.data(), c.rstdx.data());
      std::memcpy(ds, dwork, BS * C * sizeof(T));
    }
    const T* dsub = branch(ds, c.dropx);
    T* datt_y = dwork;
    linear_backward(datt_y, C, overwrite, g.xproj, dsub, C, c.xatt_y.data(), C, BS, p.xproj);
    /// attention: dq into dbranch, dk | dv into dxkv
    std::memset(dbranch, 0, BS * C * sizeof(T));
    std::memset(scratch.dxkv.data(), 0, B * Ss * 2 * C * sizeof(T));
    const qkv_ptrs<T> in{c.xq.data(), C, c.xkv.data(), 2 * C, c.xkv.data() + C, 2 * C};
    const dqkv_ptrs<T> d{dbranch, C, scratch.dxkv.data(), 2 * C, scratch.dxkv.data() + C, 2 * C};
    attention_dropout<T> ad;
    if constexpr (Sp::dropout)
      ad = {p_drop, const_cast<T*>(c.xatt_mask.data()), const_cast<T*>(c.xatt_dropped.data()), 0};
    attention_backward<T, B, S, Ss, H, D>(d, scratch.datt.data(), datt_y, c.xatt.data(), in,
                                          attention_mask{ctx.src_mask, false, 0}, mode, ad);
    /// projections of the queries (from this stream) and of keys and values (from the encoder)
    T* dq_in = dwork;  ///< datt_y is consumed
    linear_backward(dq_in, C, overwrite, g.xq, dbranch, C, c.cross_input(), C, BS, p.xq);
    linear_backward(ctx.denc, C, accumulate, g.xk, scratch.dxkv.data(), 2 * C, ctx.enc, C, B * Ss, p.xk);
    linear_backward(ctx.denc, C, accumulate, g.xv, scratch.dxkv.data() + C, 2 * C, ctx.enc, C, B * Ss, p.xv);
    if constexpr (Sp::pre)
      layernorm_backward(ds, accumulate, g.lnx, dq_in, s_in, BS, p.lnx, c.meanx.data(), c.rstdx.data());
    else
      kernels::axpy(ds, T(1), dq_in, BS * C);
  }

  // --- self-attention sub-layer
  {
    if constexpr (!Sp::pre) {
      layernorm_backward(dwork, overwrite, g.ln1, ds, c.sum1.data(), BS, p.ln1, c.mean1.data(), c.rstd1.data());
      std::memcpy(ds, dwork, BS * C * sizeof(T));
    }
    kernels::axpy(dx, T(1), ds, BS * C);  // ds is dL/d(sum1); the residual path carries it to x
    const T* dsub = branch(ds, c.drop1);
    T* datt_y = dwork;
    linear_backward(datt_y, C, overwrite, g.proj, dsub, C, c.att_y.data(), C, BS, p.proj);
    T* dqkv = scratch.dqkv.data();
    std::memset(dqkv, 0, BS * 3 * C * sizeof(T));
    const qkv_ptrs<T> in{c.qkv.data(), 3 * C, c.qkv.data() + C, 3 * C, c.qkv.data() + 2 * C, 3 * C};
    const dqkv_ptrs<T> d{dqkv, 3 * C, dqkv + C, 3 * C, dqkv + 2 * C, 3 * C};
    attention_dropout<T> ad;
    if constexpr (Sp::dropout)
      ad = {p_drop, const_cast<T*>(c.att_mask.data()), const_cast<T*>(c.att_dropped.data()), 0};
    attention_backward<T, B, S, S, H, D>(d, scratch.datt.data(), datt_y, c.att.data(), in,
                                         attention_mask{ctx.key_mask, Sp::causal, 0}, mode, ad);
    /// pre-LN: the projections' input gradient goes to dwork, then through LN1 into dx;
    /// post-LN: the projections read x directly, so it adds into dx.
    T* da_in = Sp::pre ? dwork : dx;
    const write_mode first = Sp::pre ? overwrite : accumulate;
    const T* a_in = c.attn_input(x);
    if constexpr (Fam == family::gpt2) {
      linear_backward(da_in, C, first, g.qkv, dqkv, 3 * C, a_in, C, BS, p.qkv);
    } else {
      linear_backward(da_in, C, first, g.q, dqkv, 3 * C, a_in, C, BS, p.q);
      linear_backward(da_in, C, accumulate, g.k, dqkv + C, 3 * C, a_in, C, BS, p.k);
      linear_backward(da_in, C, accumulate, g.v, dqkv + 2 * C, 3 * C, a_in, C, BS, p.v);
    }
    if constexpr (Sp::pre)
      layernorm_backward(dx, accumulate, g.ln1, da_in, x, BS, p.ln1, c.mean1.data(), c.rstd1.data());
  }
}

}  // namespace ctformer
