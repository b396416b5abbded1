// encoder<bert_config, Head>: a BERT-like encoder as a static type, with a head chosen by tag
// (mlm, mlm_sparse, classify<N, pooling>, regress<pooling>; see heads.hpp).
//   e = word[ids] + position[s] + token_type[tt]; x = LN(e); x = layer_l(x) (bidirectional
//   self-attention, padded keys masked); pre-LN adds a final LayerNorm; the head reads x.
// Names follow Hugging Face BERT (embeddings.word_embeddings.weight, encoder.layer.0.attention.
// self.query.weight, ...; nn.Linear layout in files). The body's type depends on the config only,
// so a body trained under one head loads under another (fine-tuning).
#pragma once

#include <array>
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
#include "../tensor/kernels/layernorm.hpp"
#include "common.hpp"
#include "init.hpp"
#include "heads.hpp"

namespace ctformer {

/// The encoder's body (embeddings, layers), outside encoder<> so its type ignores the head.
template <bert_config Cfg, class T>
struct encoder_body_params {
  static constexpr std::size_t V = Cfg.vocab;        ///< vocabulary size
  static constexpr std::size_t Ctx = Cfg.context;    ///< context length
  static constexpr std::size_t C = Cfg.d_model;      ///< d_model
  static constexpr std::size_t F = Cfg.d_ff;         ///< FFN width
  static constexpr std::size_t L = Cfg.layers;       ///< layers
  static constexpr std::size_t TV = Cfg.type_vocab;  ///< token types
  static constexpr bool learned_pos = Cfg.pos == positional::learned;  ///< learned position table
  static constexpr bool pre = Cfg.norm == norm_placement::pre;  ///< LayerNorm before each sub-layer, plus a final one
  using layer_type = block_params<T, C, F, family::bert, false>;  ///< one layer's parameters

  tensor2<T, V, C> word;                                                 ///< (V, C)
  [[no_unique_address]] maybe<learned_pos, tensor2<T, Ctx, C>> position;  ///< (Ctx, C)
  tensor2<T, TV, C> token_type;                                          ///< (TV, C)
  layernorm_params<T, C> emb_ln;  ///< LayerNorm after the embedding sum
  std::array<layer_type, L> layer;  ///< (L) the layers
  [[no_unique_address]] maybe<pre, layernorm_params<T, C>> final_ln;  ///< final LayerNorm (pre-LN only)
  /// Checkpoint names of the members, in BERT's layout.
  static constexpr auto fields() {
    using P = encoder_body_params;
    return std::tuple_cat(
        std::tuple{field("embeddings.word_embeddings.weight", &P::word, role::embedding)},
        detail::optional_field<learned_pos>(
            [] { return field("embeddings.position_embeddings.weight", &P::position, role::embedding); }),
        std::tuple{field("embeddings.token_type_embeddings.weight", &P::token_type, role::embedding),
                   nested("embeddings.LayerNorm.", &P::emb_ln), layers("encoder.layer.", &P::layer)},
        detail::optional_field<pre>([] { return nested("encoder.final_layer_norm.", &P::final_ln); }));
  }
};

/// Encoder (BERT-like) with a task head: embeddings, L bidirectional layers, then Head.
template <bert_config Cfg, class Head = mlm, class T_ = float>
struct encoder {
  using T = T_;  ///< scalar type of weights and activations
  static constexpr bert_config config = Cfg;  ///< the configuration
  static constexpr std::size_t V = Cfg.vocab;        ///< vocabulary size
  static constexpr std::size_t Ctx = Cfg.context;    ///< context length
  static constexpr std::size_t C = Cfg.d_model;      ///< d_model
  static constexpr std::size_t H = Cfg.heads;        ///< attention heads
  static constexpr std::size_t F = Cfg.d_ff;         ///< FFN width
  static constexpr std::size_t L = Cfg.layers;       ///< layers
  static constexpr std::size_t TV = Cfg.type_vocab;  ///< token types
  static_assert(detail::check_dims<V, Ctx, C, H, F, Cfg.head_dim>());
  static_assert(L > 0, "ctformer config: layers must be positive");
  static_assert(TV > 0, "ctformer config: type_vocab must be positive");
  static constexpr bool learned_pos = Cfg.pos == positional::learned;  ///< learned position table
  static constexpr bool pre = Cfg.norm == norm_placement::pre;  ///< LayerNorm before each sub-layer, plus a final one
  static constexpr bool has_dropout = Cfg.dropout > 0.0f;  ///< the config's dropout is positive
  static constexpr T eps = T(Cfg.ln_eps);  ///< LayerNorm epsilon

  using layer_type = block_params<T, C, F, family::bert, false>;  ///< one layer's parameters
  using head_type = detail::head_impl<Head, T, C, V, Cfg.tied_head>;  ///< the head's implementation for this model
  static_assert(task_head<head_type>, "ctformer: the encoder's head breaks the task_head contract (concepts.hpp)");

  /// The encoder without its head: what pretraining hands to fine-tuning. Its type depends on the
  /// config and scalar type only, so a body trained under one head is assignable to another's.
  using body_params = encoder_body_params<Cfg, T>;
  /// Body and head weights.
  struct params {
    body_params body;  ///< embeddings and layers
    typename head_type::params head;  ///< the task head's weights
    /// Checkpoint names: the body's and the head's, unprefixed.
    static constexpr auto fields() {
      return std::tuple{nested("", &params::body), nested("", &params::head)};
    }
  };

  /// Parameters of one layer.
  static constexpr std::size_t layer_param_count = 3 * (C * C + C) + (C * C + C) + 2 * C + (C * F + F) +
                                                   (F * C + C) + 2 * C;
  /// Parameters of the body (embeddings, layers, final LayerNorm).
  static constexpr std::size_t body_param_count = V * C + (learned_pos ? Ctx * C : 0) + TV * C + 2 * C +
                                                  L * layer_param_count + (pre ? 2 * C : 0);
  /// Parameters of the whole model, head included.
  static constexpr std::size_t param_count = body_param_count + head_type::param_count;
  /// N of the FLOPs estimate: parameters without the position and token-type tables.
  static constexpr std::size_t flops_n = param_count - (learned_pos ? Ctx * C : 0) - TV * C;
  /// Forward FLOPs per token at sequence length seq: 2 N + 4 L seq C.
  static constexpr double forward_flops_per_token(std::size_t seq = Ctx) {
    return 2.0 * double(flops_n) + 4.0 * double(L) * double(seq) * double(C);
  }
  /// Training FLOPs per token: three forwards.
  static constexpr double training_flops_per_token(std::size_t seq = Ctx) {
    return 3.0 * forward_flops_per_token(seq);
  }
  /// Compile-time signature of config, scalar type and head.
  static constexpr std::uint64_t signature = detail::signature_builder{}
                                                 .add(config_signature(Cfg))
                                                 .add(std::uint64_t(sizeof(T)))
                                                 .add(head_type::signature)
                                                 .h;
  /// The model in words: head, scalar type and config.
  static std::string describe() {
    return fmt::format("encoder<{}, {}>{}", head_type::describe(), scalar_name<T>(), ctformer::describe(Cfg));
  }

  /// Initialization by the config's scheme (GPT-2's residual scaling counts the layers).
  static void init(params& p, std::uint64_t seed) {
    initialize(p, Cfg.init, double(Cfg.init_std), L, seed);
  }
  static constexpr std::size_t weight_bytes = param_count * sizeof(T);  ///< bytes of the weights
  static constexpr std::size_t grad_bytes = weight_bytes;  ///< bytes of one gradient

  /// Activations of a training forward of B sequences of S tokens, and backward scratch.
  template <std::size_t B, std::size_t S>
  struct workspace {
    static_assert(B > 0 && S > 0, "ctformer: batch and sequence must be positive");
    static_assert(S <= Ctx, "ctformer: sequence length exceeds the model's context");
    static constexpr std::size_t batch = B;   ///< batch B
    static constexpr std::size_t seq = S;     ///< sequence length S
    static constexpr std::size_t BS = B * S;  ///< rows B * S
    using spec = block_spec<T, B, S, C, F, H, Cfg.norm, Cfg.act, false, false, 1, has_dropout>;  ///< the layers' spec
    using batch_type = typename head_type::template batch_type<B, S>;  ///< the batch type this workspace takes

    tensor2<T, BS, C> emb_sum;                     ///< (BS, C) before the embedding LayerNorm
    /// (BS) mean and reciprocal standard deviation of the embedding LayerNorm's input.
    tensor1<T, BS> emb_mean, emb_rstd;  ///< (BS)
    [[no_unique_address]] maybe<has_dropout, tensor2<T, BS, C>> emb_drop;  ///< (BS, C) embedding dropout mask
    tensor3<T, L + 1, BS, C> stream;               ///< (L+1, BS, C)
    std::array<block_cache<spec>, L> cache;  ///< (L) the layers' activations
    [[no_unique_address]] maybe<pre, tensor2<T, BS, C>> xf;  ///< (BS, C) after the final LayerNorm (pre-LN)
    [[no_unique_address]] maybe<pre, tensor1<T, BS>> mean_f;  ///< (BS) mean of the final LayerNorm's input
    [[no_unique_address]] maybe<pre, tensor1<T, BS>> rstd_f;  ///< (BS) of the final LayerNorm
    typename head_type::template workspace<B, S> head_ws;  ///< the head's activations
    block_scratch<spec> scratch;  ///< backward scratch shared by the layers
    /// (BS, C) gradients of the residual stream (two buffers, swapped per layer).
    tensor2<T, BS, C> dstream, dprev;  ///< (BS, C)
    const std::int32_t* key_mask = nullptr;  ///< of the last forward (null: no padding)

    /// The last hidden state (BS, C): the final LayerNorm's output (pre-LN) or the last layer's.
    const T* final_hidden() const {
      if constexpr (pre) return xf.data(); else return stream.data() + L * BS * C;
    }
  };
  /// Bytes of a training workspace for B sequences of S tokens.
  template <std::size_t B, std::size_t S>
  static constexpr std::size_t activation_bytes = sizeof(workspace<B, S>);

  /// The body: embeddings, LayerNorm, layers (and the final LayerNorm for pre-LN).
  template <std::size_t B, std::size_t S, class Batch>
  static void forward_body(const body_params& p, workspace<B, S>& ws, const Batch& batch, const run_mode& mode) {
    static_assert(check_batch_fits<Batch, workspace<B, S>>());
    constexpr std::size_t BS = B * S;
    T* e = ws.emb_sum.data();
    embedding_forward<T, BS, V, C>(out<T, BS, C>(e), in<std::int32_t, BS>(batch.ids.data()),
                                   in<T, V, C>(p.word.data()));
    if constexpr (learned_pos)
      positions_forward<T, B, S, Ctx, C>(inout<T, BS, C>(e), in<T, Ctx, C>(p.position.data()));
    else
      positions_forward<T, B, S, Ctx, C>(inout<T, BS, C>(e), in<T, Ctx, C>(sinusoidal_table<T, Ctx, C>().data()));
    for (std::size_t r = 0; r < BS; ++r) {
      const std::int32_t tt = batch.token_type.data()[r];
      if (tt < 0 || std::size_t(tt) >= TV)
        fail("token type {} at position {} is outside [0, {})", tt, r, TV);
      kernels::axpy(e + r * C, T(1), p.token_type.data() + std::size_t(tt) * C, C);
    }
    T* x0 = ws.stream.data();
    kernels::layernorm_forward<T>(x0, ws.emb_mean.data(), ws.emb_rstd.data(), e, p.emb_ln.weight.data(),
                                  p.emb_ln.bias.data(), BS, C, eps);
    if constexpr (has_dropout)
      if (mode.train) dropout_forward(x0, ws.emb_drop.data(), x0, BS * C, Cfg.dropout, mode, 0);
    ws.key_mask = detail::mask_or_null(batch.attention_mask.data(), BS);
    for (std::size_t l = 0; l < L; ++l) {
      block_context<T> ctx;
      ctx.key_mask = ws.key_mask;
      ctx.mode = mode;
      ctx.site = l + 1;
      block_forward<typename workspace<B, S>::spec, family::bert>(
          ws.stream.data() + (l + 1) * BS * C, ws.stream.data() + l * BS * C, p.layer[l], ws.cache[l], ctx,
          Cfg.dropout, eps);
    }
    if constexpr (pre)
      kernels::layernorm_forward<T>(ws.xf.data(), ws.mean_f.data(), ws.rstd_f.data(),
                                    ws.stream.data() + L * BS * C, p.final_ln.weight.data(),
                                    p.final_ln.bias.data(), BS, C, eps);
  }

  /// Body, then the head on the last hidden state.
  template <std::size_t B, std::size_t S, class Batch>
  static void forward(const params& p, workspace<B, S>& ws, const Batch& batch, const run_mode& mode = {}) {
    forward_body(p.body, ws, batch, mode);
    if constexpr (requires { head_type::needs_batch; })  // heads that read the targets (mlm_sparse)
      head_type::template forward<B, S>(p.head, p.body.word.data(), ws.head_ws, ws.final_hidden(), eps,
                                        batch.attention_mask.data(), batch);
    else
      head_type::template forward<B, S>(p.head, p.body.word.data(), ws.head_ws, ws.final_hidden(), eps,
                                        batch.attention_mask.data());
  }

  /// The head's loss of the last forward.
  template <std::size_t B, std::size_t S, class Batch>
  static loss_value loss(workspace<B, S>& ws, const Batch& batch, T label_smoothing = T(0)) {
    return head_type::template loss<B, S>(ws.head_ws, batch, label_smoothing);
  }

  /// forward(), then loss().
  template <std::size_t B, std::size_t S, class Batch>
  static loss_value forward_loss(const params& p, workspace<B, S>& ws, const Batch& batch,
                                 const run_mode& mode = {}, T label_smoothing = T(0)) {
    forward(p, ws, batch, mode);
    return loss(ws, batch, label_smoothing);
  }

  /// ADDS the gradient of loss_scale * (the mean loss of loss()) into g.
  template <std::size_t B, std::size_t S, class Batch>
  static void backward(const params& p, params& g, workspace<B, S>& ws, const Batch& batch,
                       const loss_value& lv, const run_mode& mode = {}, T label_smoothing = T(0),
                       T loss_scale = T(1)) {
    static_assert(check_batch_fits<Batch, workspace<B, S>>());
    constexpr std::size_t BS = B * S;
    using spec = typename workspace<B, S>::spec;
    T* dh = pre ? ws.dprev.data() : ws.dstream.data();
    std::memset(dh, 0, BS * C * sizeof(T));
    head_type::template backward<B, S>(p.head, g.head, p.body.word.data(), g.body.word.data(), ws.head_ws, batch, lv,
                                  ws.final_hidden(), dh, label_smoothing, loss_scale,
                                  batch.attention_mask.data());
    const body_params& pb = p.body;
    body_params& gb = g.body;
    if constexpr (pre) {
      std::memset(ws.dstream.data(), 0, BS * C * sizeof(T));
      kernels::layernorm_backward<T>(ws.dstream.data(), gb.final_ln.weight.data(), gb.final_ln.bias.data(), dh,
                                     ws.stream.data() + L * BS * C, pb.final_ln.weight.data(),
                                     ws.mean_f.data(), ws.rstd_f.data(), BS, C);
    }
    T* dcur = ws.dstream.data();
    T* dnext = ws.dprev.data();
    for (std::size_t l = L; l-- > 0;) {
      block_context<T> ctx;
      ctx.key_mask = ws.key_mask;
      ctx.mode = mode;
      ctx.site = l + 1;
      std::memset(dnext, 0, BS * C * sizeof(T));
      block_backward<spec, family::bert>(dnext, dcur, gb.layer[l], ws.stream.data() + l * BS * C, pb.layer[l],
                                         ws.cache[l], ws.scratch, ctx, Cfg.dropout);
      std::swap(dcur, dnext);
    }
    if constexpr (has_dropout)
      if (mode.train)
        for (std::size_t i = 0; i < BS * C; ++i) dcur[i] *= ws.emb_drop.data()[i];
    /// Through the embedding LayerNorm into the three embedding tables.
    std::memset(dnext, 0, BS * C * sizeof(T));
    kernels::layernorm_backward<T>(dnext, gb.emb_ln.weight.data(), gb.emb_ln.bias.data(), dcur,
                                   ws.emb_sum.data(), pb.emb_ln.weight.data(), ws.emb_mean.data(),
                                   ws.emb_rstd.data(), BS, C);
    if constexpr (learned_pos)
      positions_backward<T, B, S, Ctx, C>(inout<T, Ctx, C>(gb.position.data()), in<T, BS, C>(dnext));
    for (std::size_t r = 0; r < BS; ++r)
      kernels::axpy(gb.token_type.data() + std::size_t(batch.token_type.data()[r]) * C, T(1), dnext + r * C, C);
    embedding_backward<T, BS, V, C>(inout<T, V, C>(gb.word.data()), in<T, BS, C>(dnext),
                                    in<std::int32_t, BS>(batch.ids.data()));
  }
};

}  // namespace ctformer
