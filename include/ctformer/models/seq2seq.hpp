// seq2seq<seq2seq_config>: the original Transformer (encoder-decoder) as a static type.
//   encoder: x = sqrt(C) embed_src[src] + pos; x = enc_layer_l(x) (padded source keys masked)
//   decoder: y = sqrt(C) embed_tgt[tgt_in] + pos; y = dec_layer_l(y, x) (causal self-attention,
//            cross-attention over the encoder output); logits = y E_tgt^T (tied) or y W.
// Pre-LN adds a final LayerNorm to each stack. Names follow BART's layout (encoder.layers.0.
// self_attn.q_proj.weight, decoder.layers.0.encoder_attn.k_proj.weight, ...; nn.Linear in files).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../concepts.hpp"
#include "../config.hpp"
#include "../data/batch.hpp"
#include "../layers/block.hpp"
#include "../layers/embedding.hpp"
#include "../losses/cross_entropy.hpp"
#include "../tensor/kernels/gemm.hpp"
#include "../tensor/kernels/layernorm.hpp"
#include "common.hpp"
#include "init.hpp"

namespace ctformer {

/// Encoder-decoder Transformer (BART layout): Le encoder layers, Ld decoder layers with cross-attention.
template <seq2seq_config Cfg, class T_ = float>
struct seq2seq {
  using T = T_;  ///< scalar type of weights and activations
  static constexpr seq2seq_config config = Cfg;  ///< the configuration
  static constexpr std::size_t Vs = Cfg.src_vocab;    ///< source vocabulary size
  static constexpr std::size_t Vt = Cfg.tgt_vocab;    ///< target vocabulary size
  static constexpr std::size_t Cs = Cfg.src_context;  ///< source context length
  static constexpr std::size_t Ct = Cfg.tgt_context;  ///< target context length
  static constexpr std::size_t C = Cfg.d_model;       ///< d_model
  static constexpr std::size_t H = Cfg.heads;         ///< attention heads
  static constexpr std::size_t F = Cfg.d_ff;          ///< FFN width
  static constexpr std::size_t Le = Cfg.enc_layers;   ///< encoder layers
  static constexpr std::size_t Ld = Cfg.dec_layers;   ///< decoder layers
  static_assert(detail::check_dims<Vs, Cs, C, H, F, Cfg.head_dim>());
  static_assert(detail::check_dims<Vt, Ct, C, H, F, Cfg.head_dim>());
  static_assert(Le > 0 && Ld > 0, "ctformer config: enc_layers and dec_layers must be positive");
  /// Positions use learned tables (else sinusoidal).
  static constexpr bool learned_pos = Cfg.pos == positional::learned;
  static constexpr bool pre = Cfg.norm == norm_placement::pre;  ///< LayerNorm before each sub-layer, plus final ones
  static constexpr bool tied = Cfg.tied_head;  ///< the output projection shares the target embeddings
  static constexpr bool has_dropout = Cfg.dropout > 0.0f;  ///< the config's dropout is positive
  static constexpr T eps = T(Cfg.ln_eps);  ///< LayerNorm epsilon
  /// As in the original Transformer, embeddings are scaled by sqrt(d_model).
  static constexpr double embed_scale_d = detail::constexpr_sqrt(double(C));

  using enc_layer = block_params<T, C, F, family::bart, false>;  ///< one encoder layer's parameters
  /// One decoder layer's parameters (with cross-attention).
  using dec_layer = block_params<T, C, F, family::bart, true>;

  /// The weights, in BART's layout.
  struct params {
    tensor2<T, Vs, C> enc_embed;                                        ///< (Vs, C)
    [[no_unique_address]] maybe<learned_pos, tensor2<T, Cs, C>> enc_pos; ///< (Cs, C)
    std::array<enc_layer, Le> enc;  ///< (Le) encoder layers
    [[no_unique_address]] maybe<pre, layernorm_params<T, C>> enc_ln;  ///< final encoder LayerNorm (pre-LN only)
    tensor2<T, Vt, C> dec_embed;                                        ///< (Vt, C)
    [[no_unique_address]] maybe<learned_pos, tensor2<T, Ct, C>> dec_pos; ///< (Ct, C)
    std::array<dec_layer, Ld> dec;  ///< (Ld) decoder layers
    [[no_unique_address]] maybe<pre, layernorm_params<T, C>> dec_ln;  ///< final decoder LayerNorm (pre-LN only)
    [[no_unique_address]] maybe<!tied, tensor2<T, C, Vt>> lm_head;      ///< (C, Vt); HF (Vt, C)
    /// Checkpoint names of the members, in BART's layout.
    static constexpr auto fields() {
      using P = params;
      return std::tuple_cat(
          std::tuple{field("encoder.embed_tokens.weight", &P::enc_embed, role::embedding)},
          detail::optional_field<learned_pos>(
              [] { return field("encoder.embed_positions.weight", &P::enc_pos, role::embedding); }),
          std::tuple{layers("encoder.layers.", &P::enc)},
          detail::optional_field<pre>([] { return nested("encoder.layer_norm.", &P::enc_ln); }),
          std::tuple{field("decoder.embed_tokens.weight", &P::dec_embed, role::embedding)},
          detail::optional_field<learned_pos>(
              [] { return field("decoder.embed_positions.weight", &P::dec_pos, role::embedding); }),
          std::tuple{layers("decoder.layers.", &P::dec)},
          detail::optional_field<pre>([] { return nested("decoder.layer_norm.", &P::dec_ln); }),
          detail::optional_field<!tied>(
              [] { return field("lm_head.weight", &P::lm_head, role::weight, flag::hf_transposed); }));
    }
  };

  /// Parameters of one attention sub-layer (four C x C projections with biases).
  static constexpr std::size_t attn_params = 4 * (C * C + C);
  /// Parameters of one feed-forward sub-layer.
  static constexpr std::size_t ffn_params = (C * F + F) + (F * C + C);
  /// Parameters of one encoder layer.
  static constexpr std::size_t enc_layer_count = attn_params + ffn_params + 4 * C;
  /// Parameters of one decoder layer.
  static constexpr std::size_t dec_layer_count = 2 * attn_params + ffn_params + 6 * C;
  /// Parameters of the whole model.
  static constexpr std::size_t param_count = Vs * C + (learned_pos ? (Cs + Ct) * C : 0) + Le * enc_layer_count +
                                             Vt * C + Ld * dec_layer_count + (pre ? 4 * C : 0) +
                                             (tied ? 0 : C * Vt);
  /// Compile-time signature of config and scalar type.
  static constexpr std::uint64_t signature =
      detail::signature_builder{}.add(config_signature(Cfg)).add(std::uint64_t(sizeof(T))).h;
  /// The model in words: scalar type and config.
  static std::string describe() { return fmt::format("seq2seq<{}>{}", scalar_name<T>(), ctformer::describe(Cfg)); }

  /// Initialization by the config's scheme (GPT-2's residual scaling counts the layers).
  static void init(params& p, std::uint64_t seed) {
    initialize(p, Cfg.init, double(Cfg.init_std), (Le + Ld), seed);
  }
  static constexpr std::size_t weight_bytes = param_count * sizeof(T);  ///< bytes of the weights
  static constexpr std::size_t grad_bytes = weight_bytes;  ///< bytes of one gradient

  /// Activations of a training forward of B pairs (source Ss, target St tokens), and backward scratch.
  template <std::size_t B, std::size_t Ss, std::size_t St>
  struct workspace {
    static_assert(B > 0 && Ss > 0 && St > 0, "ctformer: batch and sequences must be positive");
    static_assert(Ss <= Cs, "ctformer: source length exceeds the model's source context");
    static_assert(St <= Ct, "ctformer: target length exceeds the model's target context");
    static constexpr std::size_t batch = B;     ///< batch B
    static constexpr std::size_t src_seq = Ss;  ///< source length Ss
    static constexpr std::size_t tgt_seq = St;  ///< target length St
    static constexpr std::size_t BSs = B * Ss;  ///< source rows B * Ss
    static constexpr std::size_t BSt = B * St;  ///< target rows B * St
    /// The encoder layers' compile-time description.
    using enc_spec = block_spec<T, B, Ss, C, F, H, Cfg.norm, Cfg.act, false, false, 1, has_dropout>;
    /// The decoder layers' compile-time description.
    using dec_spec = block_spec<T, B, St, C, F, H, Cfg.norm, Cfg.act, true, true, Ss, has_dropout>;
    using batch_type = seq2seq_batch<B, Ss, St>;  ///< the batch type this workspace takes

    tensor3<T, Le + 1, BSs, C> enc_stream;  ///< (Le+1, BSs, C) inputs of the encoder layers and the last output
    std::array<block_cache<enc_spec>, Le> enc_cache;  ///< (Le) the encoder layers' activations
    [[no_unique_address]] maybe<pre, tensor2<T, BSs, C>> enc_out;  ///< after enc_ln
    [[no_unique_address]] maybe<pre, tensor1<T, BSs>> enc_mean;  ///< (BSs) mean of enc_ln's input
    /// (BSs) reciprocal standard deviation of enc_ln's input.
    [[no_unique_address]] maybe<pre, tensor1<T, BSs>> enc_rstd;
    [[no_unique_address]] maybe<has_dropout, tensor2<T, BSs, C>> enc_drop;  ///< (BSs, C) source embedding dropout mask
    tensor3<T, Ld + 1, BSt, C> dec_stream;  ///< (Ld+1, BSt, C) inputs of the decoder layers and the last output
    std::array<block_cache<dec_spec>, Ld> dec_cache;  ///< (Ld) the decoder layers' activations
    [[no_unique_address]] maybe<pre, tensor2<T, BSt, C>> dec_out;  ///< (BSt, C) after dec_ln
    [[no_unique_address]] maybe<pre, tensor1<T, BSt>> dec_mean;  ///< (BSt) mean of dec_ln's input
    /// (BSt) reciprocal standard deviation of dec_ln's input.
    [[no_unique_address]] maybe<pre, tensor1<T, BSt>> dec_rstd;
    [[no_unique_address]] maybe<has_dropout, tensor2<T, BSt, C>> dec_drop;  ///< (BSt, C) target embedding dropout mask
    tensor2<T, BSt, Vt> logits;  ///< (BSt, Vt) logits -> probabilities -> dlogits
    tensor1<T, BSt> row_loss;  ///< (BSt) per-row loss
    block_scratch<enc_spec> enc_scratch;  ///< backward scratch of the encoder layers
    block_scratch<dec_spec> dec_scratch;  ///< backward scratch of the decoder layers
    /// (BSs, C) gradient buffers of the encoder side (two, swapped per layer).
    tensor2<T, BSs, C> denc, denc_prev;  ///< gradient of the encoder output, then of its stream
    /// (BSt, C) gradients of the decoder's residual stream (two buffers, swapped per layer).
    tensor2<T, BSt, C> ddec, ddec_prev;  ///< (BSt, C)
    const std::int32_t* src_mask = nullptr;  ///< (B, Ss) source keys of the last forward (null: no padding)
    const std::int32_t* tgt_mask = nullptr;  ///< (B, St) target keys of the last forward (null: no padding)

    /// The encoder's output (BSs, C): after enc_ln (pre-LN) or the last layer's.
    const T* encoder_output() const {
      if constexpr (pre) return enc_out.data(); else return enc_stream.data() + Le * BSs * C;
    }
    /// Writable, for decoders that encode each source once and place the result here.
    T* encoder_output() {
      if constexpr (pre) return enc_out.data(); else return enc_stream.data() + Le * BSs * C;
    }
    /// The decoder's output (BSt, C): after dec_ln (pre-LN) or the last layer's.
    const T* decoder_output() const {
      if constexpr (pre) return dec_out.data(); else return dec_stream.data() + Ld * BSt * C;
    }
  };
  /// Bytes of a training workspace for B pairs of Ss source and St target tokens.
  template <std::size_t B, std::size_t Ss, std::size_t St>
  static constexpr std::size_t activation_bytes = sizeof(workspace<B, Ss, St>);
  /// Forward FLOPs per target token with source length ss and target length st.
  static constexpr double forward_flops_per_token(std::size_t ss = Cs, std::size_t st = Ct) {
    // per target token, counting the encoder's work once per source token as well
    return 2.0 * double(param_count - Vs * C) + 4.0 * double(Le) * double(ss) * double(C) +
           4.0 * double(Ld) * double(st + ss) * double(C);
  }
  /// Training FLOPs per token: three forwards.
  static constexpr double training_flops_per_token(std::size_t ss = Cs, std::size_t st = Ct) {
    return 3.0 * forward_flops_per_token(ss, st);
  }

  /// The decoder's layer stack, shared by training, full decoding and the cached decoding steps
  /// (deploy/seq2seq_decode.hpp): block l reads stream(l) and writes stream(l + 1) for n rows, with
  /// its buffers in cache(l), its own keys and values from self(l) and the source's from cross(l).
  template <class Sp, class Stream, class Cache, class Self, class Cross>
  static void decoder_blocks_forward(const params& p, std::size_t n, Stream&& stream, Cache&& cache, Self&& self,
                                     Cross&& cross, const run_mode& mode) {
    for (std::size_t l = 0; l < Ld; ++l)
      block_forward<Sp>(stream(l + 1), stream(l), n, p.dec[l], cache(l), self(l), cross(l), mode, Cfg.dropout,
                        1000 + l, eps);
  }

  /// The encoder alone (also used by generation, which encodes the source once).
  template <std::size_t B, std::size_t Ss, std::size_t St>
  static void encode(const params& p, workspace<B, Ss, St>& ws, const seq2seq_batch<B, Ss, St>& batch,
                     const run_mode& mode) {
    constexpr std::size_t BSs = B * Ss;
    const T scale = T(embed_scale_d);
    T* x0 = ws.enc_stream.data();
    embedding_forward<T, BSs, Vs, C>(out<T, BSs, C>(x0), in<std::int32_t, BSs>(batch.src_ids.data()),
                                     in<T, Vs, C>(p.enc_embed.data()), scale);
    if constexpr (learned_pos)
      positions_forward<T, B, Ss, Cs, C>(inout<T, BSs, C>(x0), in<T, Cs, C>(p.enc_pos.data()));
    else
      positions_forward<T, B, Ss, Cs, C>(inout<T, BSs, C>(x0), in<T, Cs, C>(sinusoidal_table<T, Cs, C>().data()));
    if constexpr (has_dropout)
      if (mode.train) dropout_forward(x0, ws.enc_drop.data(), x0, BSs * C, Cfg.dropout, mode, 0);
    ws.src_mask = detail::mask_or_null(batch.src_mask.data(), BSs);
    for (std::size_t l = 0; l < Le; ++l) {
      block_context<T> ctx;
      ctx.key_mask = ws.src_mask;
      ctx.mode = mode;
      ctx.site = l + 1;
      block_forward<typename workspace<B, Ss, St>::enc_spec, family::bart>(
          ws.enc_stream.data() + (l + 1) * BSs * C, ws.enc_stream.data() + l * BSs * C, p.enc[l],
          ws.enc_cache[l], ctx, Cfg.dropout, eps);
    }
    if constexpr (pre)
      kernels::layernorm_forward<T>(ws.enc_out.data(), ws.enc_mean.data(), ws.enc_rstd.data(),
                                    ws.enc_stream.data() + Le * BSs * C, p.enc_ln.weight.data(),
                                    p.enc_ln.bias.data(), BSs, C, eps);
  }

  /// The decoder over the encoder output already in ws; logits land in ws.logits.
  template <std::size_t B, std::size_t Ss, std::size_t St>
  static void decode(const params& p, workspace<B, Ss, St>& ws, const seq2seq_batch<B, Ss, St>& batch,
                     const run_mode& mode) {
    constexpr std::size_t BSt = B * St;
    const T scale = T(embed_scale_d);
    T* y0 = ws.dec_stream.data();
    embedding_forward<T, BSt, Vt, C>(out<T, BSt, C>(y0), in<std::int32_t, BSt>(batch.tgt_in.data()),
                                     in<T, Vt, C>(p.dec_embed.data()), scale);
    if constexpr (learned_pos)
      positions_forward<T, B, St, Ct, C>(inout<T, BSt, C>(y0), in<T, Ct, C>(p.dec_pos.data()));
    else
      positions_forward<T, B, St, Ct, C>(inout<T, BSt, C>(y0), in<T, Ct, C>(sinusoidal_table<T, Ct, C>().data()));
    if constexpr (has_dropout)
      if (mode.train) dropout_forward(y0, ws.dec_drop.data(), y0, BSt * C, Cfg.dropout, mode, 1);
    ws.tgt_mask = detail::mask_or_null(batch.tgt_mask.data(), BSt);
    using spec = typename workspace<B, Ss, St>::dec_spec;
    const T* enc = in<T, B * Ss, C>(ws.encoder_output()).data();
    decoder_blocks_forward<spec>(
        p, BSt, [&](std::size_t l) { return ws.dec_stream.data() + l * BSt * C; },
        [&](std::size_t l) -> block_cache<spec>& { return ws.dec_cache[l]; },
        [&](std::size_t l) { return sequence_self_attention<spec>{ws.tgt_mask, mode, Cfg.dropout, 1000 + l}; },
        [&](std::size_t l) { return sequence_cross_attention<spec>{enc, ws.src_mask, mode, Cfg.dropout, 1000 + l}; },
        mode);
    if constexpr (pre)
      kernels::layernorm_forward<T>(ws.dec_out.data(), ws.dec_mean.data(), ws.dec_rstd.data(),
                                    ws.dec_stream.data() + Ld * BSt * C, p.dec_ln.weight.data(),
                                    p.dec_ln.bias.data(), BSt, C, eps);
    if constexpr (tied)
      kernels::gemm<T>(false, true, BSt, Vt, C, T(1), ws.decoder_output(), C, p.dec_embed.data(), C, T(0),
                       ws.logits.data(), Vt);
    else
      kernels::gemm<T>(false, false, BSt, Vt, C, T(1), ws.decoder_output(), C, p.lm_head.data(), Vt, T(0),
                       ws.logits.data(), Vt);
  }

  /// Encoder, then decoder and LM head over the batch.
  template <std::size_t B, std::size_t Ss, std::size_t St, std::size_t Bb, std::size_t Sbs, std::size_t Sbt>
  static void forward(const params& p, workspace<B, Ss, St>& ws, const seq2seq_batch<Bb, Sbs, Sbt>& batch,
                      const run_mode& mode = {}) {
    static_assert(check_batch_fits<seq2seq_batch<Bb, Sbs, Sbt>, workspace<B, Ss, St>>());
    encode(p, ws, batch, mode);
    decode(p, ws, batch, mode);
  }

  /// Mean cross-entropy of the last forward's logits over the targets tgt_out.
  template <std::size_t B, std::size_t Ss, std::size_t St, std::size_t Bb, std::size_t Sbs, std::size_t Sbt>
  static loss_value loss(workspace<B, Ss, St>& ws, const seq2seq_batch<Bb, Sbs, Sbt>& batch, T label_smoothing = T(0)) {
    static_assert(check_batch_fits<seq2seq_batch<Bb, Sbs, Sbt>, workspace<B, Ss, St>>());
    return cross_entropy_forward<T>(ws.logits.data(), ws.row_loss.data(), batch.tgt_out.data(), B * St, Vt,
                                    label_smoothing);
  }

  /// forward(), then loss().
  template <std::size_t B, std::size_t Ss, std::size_t St, std::size_t Bb, std::size_t Sbs, std::size_t Sbt>
  static loss_value forward_loss(const params& p, workspace<B, Ss, St>& ws, const seq2seq_batch<Bb, Sbs, Sbt>& batch,
                                 const run_mode& mode = {}, T label_smoothing = T(0)) {
    forward(p, ws, batch, mode);
    return loss(ws, batch, label_smoothing);
  }

  /// ADDS the gradient of loss_scale * (the mean loss of loss()) into g.
  template <std::size_t B, std::size_t Ss, std::size_t St, std::size_t Bb, std::size_t Sbs, std::size_t Sbt>
  static void backward(const params& p, params& g, workspace<B, Ss, St>& ws,
                       const seq2seq_batch<Bb, Sbs, Sbt>& batch, const loss_value& lv, const run_mode& mode = {},
                       T label_smoothing = T(0), T loss_scale = T(1)) {
    static_assert(check_batch_fits<seq2seq_batch<Bb, Sbs, Sbt>, workspace<B, Ss, St>>());
    constexpr std::size_t BSs = B * Ss, BSt = B * St;
    using W = workspace<B, Ss, St>;
    const T escale = T(embed_scale_d);
    const T scale = lv.count ? loss_scale / T(lv.count) : T(0);
    cross_entropy_backward<T>(ws.logits.data(), batch.tgt_out.data(), BSt, Vt, scale, label_smoothing);
    const T* dl = ws.logits.data();
    // ---- decoder
    T* dh = pre ? ws.ddec_prev.data() : ws.ddec.data();
    if constexpr (tied) {
      kernels::gemm<T>(false, false, BSt, C, Vt, T(1), dl, Vt, p.dec_embed.data(), C, T(0), dh, C);
      kernels::gemm<T>(true, false, Vt, C, BSt, T(1), dl, Vt, ws.decoder_output(), C, T(1), g.dec_embed.data(), C);
    } else {
      kernels::gemm<T>(false, true, BSt, C, Vt, T(1), dl, Vt, p.lm_head.data(), Vt, T(0), dh, C);
      kernels::gemm<T>(true, false, C, Vt, BSt, T(1), ws.decoder_output(), C, dl, Vt, T(1), g.lm_head.data(), Vt);
    }
    if constexpr (pre) {
      std::memset(ws.ddec.data(), 0, BSt * C * sizeof(T));
      kernels::layernorm_backward<T>(ws.ddec.data(), g.dec_ln.weight.data(), g.dec_ln.bias.data(), dh,
                                     ws.dec_stream.data() + Ld * BSt * C, p.dec_ln.weight.data(),
                                     ws.dec_mean.data(), ws.dec_rstd.data(), BSt, C);
    }
    T* denc = pre ? ws.denc_prev.data() : ws.denc.data();  // gradient of the encoder output
    std::memset(denc, 0, BSs * C * sizeof(T));
    T* dcur = ws.ddec.data();
    T* dnext = ws.ddec_prev.data();
    for (std::size_t l = Ld; l-- > 0;) {
      block_context<T> ctx;
      ctx.key_mask = ws.tgt_mask;
      ctx.enc = ws.encoder_output();
      ctx.src_mask = ws.src_mask;
      ctx.denc = denc;
      ctx.mode = mode;
      ctx.site = 1000 + l;
      std::memset(dnext, 0, BSt * C * sizeof(T));
      block_backward<typename W::dec_spec, family::bart>(dnext, dcur, g.dec[l], ws.dec_stream.data() + l * BSt * C,
                                                         p.dec[l], ws.dec_cache[l], ws.dec_scratch, ctx, Cfg.dropout);
      std::swap(dcur, dnext);
    }
    if constexpr (has_dropout)
      if (mode.train)
        for (std::size_t i = 0; i < BSt * C; ++i) dcur[i] *= ws.dec_drop.data()[i];
    if constexpr (learned_pos)
      positions_backward<T, B, St, Ct, C>(inout<T, Ct, C>(g.dec_pos.data()), in<T, BSt, C>(dcur));
    embedding_backward<T, BSt, Vt, C>(inout<T, Vt, C>(g.dec_embed.data()), in<T, BSt, C>(dcur),
                                      in<std::int32_t, BSt>(batch.tgt_in.data()), escale);
    // ---- encoder
    if constexpr (pre) {
      std::memset(ws.denc.data(), 0, BSs * C * sizeof(T));
      kernels::layernorm_backward<T>(ws.denc.data(), g.enc_ln.weight.data(), g.enc_ln.bias.data(), denc,
                                     ws.enc_stream.data() + Le * BSs * C, p.enc_ln.weight.data(),
                                     ws.enc_mean.data(), ws.enc_rstd.data(), BSs, C);
    }
    T* ecur = ws.denc.data();
    T* enext = ws.denc_prev.data();
    for (std::size_t l = Le; l-- > 0;) {
      block_context<T> ctx;
      ctx.key_mask = ws.src_mask;
      ctx.mode = mode;
      ctx.site = l + 1;
      std::memset(enext, 0, BSs * C * sizeof(T));
      block_backward<typename W::enc_spec, family::bart>(enext, ecur, g.enc[l], ws.enc_stream.data() + l * BSs * C,
                                                         p.enc[l], ws.enc_cache[l], ws.enc_scratch, ctx, Cfg.dropout);
      std::swap(ecur, enext);
    }
    if constexpr (has_dropout)
      if (mode.train)
        for (std::size_t i = 0; i < BSs * C; ++i) ecur[i] *= ws.enc_drop.data()[i];
    if constexpr (learned_pos)
      positions_backward<T, B, Ss, Cs, C>(inout<T, Cs, C>(g.enc_pos.data()), in<T, BSs, C>(ecur));
    embedding_backward<T, BSs, Vs, C>(inout<T, Vs, C>(g.enc_embed.data()), in<T, BSs, C>(ecur),
                                      in<std::int32_t, BSs>(batch.src_ids.data()), escale);
  }
};

}  // namespace ctformer
