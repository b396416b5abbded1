// decoder_lm<gpt_config>: a GPT-like decoder-only language model as a static type.
//   x = wte[ids] (+ wpe or sinusoidal positions); x = block_l(x) with causal self-attention;
//   pre-LN: x = ln_f(x); logits = x wte^T (tied) or x lm_head; loss = cross-entropy over targets.
// Names follow Hugging Face GPT-2 (wte.weight, h.0.attn.c_attn.weight, ..., Conv1D layout).
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
#include "../error.hpp"
#include "../layers/block.hpp"
#include "../layers/embedding.hpp"
#include "../layers/layernorm.hpp"
#include "../losses/cross_entropy.hpp"
#include "../tensor/kernels/gemm.hpp"
#include "../tensor/kernels/layernorm.hpp"
#include "common.hpp"
#include "init.hpp"

namespace ctformer {

/// Decoder-only language model (GPT-2 layout): token and position embeddings, L causal blocks, LM head.
template <gpt_config Cfg, class T_ = float>
struct decoder_lm {
  using T = T_;  ///< scalar type of weights and activations
  static constexpr gpt_config config = Cfg;  ///< the configuration
  static constexpr std::size_t V = Cfg.vocab;      ///< vocabulary size
  static constexpr std::size_t Ctx = Cfg.context;  ///< context length
  static constexpr std::size_t C = Cfg.d_model;    ///< d_model
  static constexpr std::size_t H = Cfg.heads;      ///< attention heads
  static constexpr std::size_t F = Cfg.d_ff;       ///< FFN width
  static constexpr std::size_t L = Cfg.layers;     ///< number of blocks
  static_assert(detail::check_dims<V, Ctx, C, H, F, Cfg.head_dim>());
  static_assert(L > 0, "ctformer config: layers must be positive");
  static constexpr bool learned_pos = Cfg.pos == positional::learned;  ///< learned position table
  static constexpr bool pre = Cfg.norm == norm_placement::pre;  ///< LayerNorm before each sub-layer, plus a final ln_f
  static constexpr bool tied = Cfg.tied_head;  ///< the LM head shares wte
  static constexpr bool has_dropout = Cfg.dropout > 0.0f;  ///< the config's dropout is positive
  static constexpr T eps = T(Cfg.ln_eps);  ///< LayerNorm epsilon

  using block_type = block_params<T, C, F, family::gpt2, false>;  ///< one block's parameters

  /// The weights, stored by Tn: params owns them (training, fine-tuning); params_view points at
  /// weights kept elsewhere, read-only (an exported header in flash: bind_exported()).
  template <template <class, std::size_t...> class Tn>
  struct params_of {
    Tn<T, V, C> wte;                                                   ///< (V, C)
    [[no_unique_address]] maybe<learned_pos, Tn<T, Ctx, C>> wpe;       ///< (Ctx, C)
    std::array<block_params<T, C, F, family::gpt2, false, Tn>, L> h;  ///< (L) the blocks
    [[no_unique_address]] maybe<pre, layernorm_params<T, C, Tn>> ln_f;  ///< final LayerNorm (pre-LN only)
    [[no_unique_address]] maybe<!tied, Tn<T, C, V>> lm_head;           ///< (C, V); HF stores (V, C)
    /// Checkpoint names of the members, in GPT-2's layout.
    static constexpr auto fields() {
      using P = params_of;
      return std::tuple_cat(
          std::tuple{field("wte.weight", &P::wte, role::embedding)},
          detail::optional_field<learned_pos>([] { return field("wpe.weight", &P::wpe, role::embedding); }),
          std::tuple{layers("h.", &P::h)},
          detail::optional_field<pre>([] { return nested("ln_f.", &P::ln_f); }),
          detail::optional_field<!tied>(
              [] { return field("lm_head.weight", &P::lm_head, role::weight, flag::hf_transposed); }));
    }
  };
  using params = params_of<tensor>;  ///< owning weights
  using params_view = params_of<const_tensor_ref>;  ///< read-only view of weights kept elsewhere

  // ---- constexpr figures -------------------------------------------------------------
  /// Parameters of one block.
  static constexpr std::size_t block_param_count = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C +
                                                   (C * F + F) + (F * C + C);
  /// Parameters of the whole model.
  static constexpr std::size_t param_count = V * C + (learned_pos ? Ctx * C : 0) + L * block_param_count +
                                             (pre ? 2 * C : 0) + (tied ? 0 : C * V);
  /// nanoGPT's estimate: N excludes position embeddings; attention adds 2 * 2 * T * C per layer.
  static constexpr std::size_t flops_n = param_count - (learned_pos ? Ctx * C : 0);
  /// Forward FLOPs per token at sequence length seq: 2 N + 4 L seq C.
  static constexpr double forward_flops_per_token(std::size_t seq = Ctx) {
    return 2.0 * double(flops_n) + 4.0 * double(L) * double(seq) * double(C);
  }
  /// Training (forward and backward) FLOPs per token at sequence length seq: 6 N + 12 L seq C.
  static constexpr double training_flops_per_token(std::size_t seq = Ctx) {
    return 6.0 * double(flops_n) + 12.0 * double(L) * double(seq) * double(C);
  }
  /// Identity for checkpoints: a compile-time signature of the type, and the same in words.
  static constexpr std::uint64_t signature =
      detail::signature_builder{}.add(config_signature(Cfg)).add(std::uint64_t(sizeof(T))).h;
  /// The model in words: scalar type and config.
  static std::string describe() { return fmt::format("decoder_lm<{}>{}", scalar_name<T>(), ctformer::describe(Cfg)); }

  /// Initialization by the config's scheme (GPT-2's residual scaling counts the layers).
  static void init(params& p, std::uint64_t seed) {
    initialize(p, Cfg.init, double(Cfg.init_std), L, seed);
  }
  static constexpr std::size_t weight_bytes = param_count * sizeof(T);  ///< bytes of the weights
  static constexpr std::size_t grad_bytes = weight_bytes;  ///< bytes of one gradient

  // ---- activations ---------------------------------------------------------------------
  /// Blocks First..L-1 keep what backward needs; blocks before First (frozen when fine-tuning a
  /// tail, see below) run through one shared cache and a second stream buffer. First = 0 is the
  /// whole model's training workspace.
  template <std::size_t B, std::size_t S, std::size_t First = 0>
  struct basic_workspace {
    static_assert(B > 0 && S > 0, "ctformer: batch and sequence must be positive");
    static_assert(S <= Ctx, "ctformer: sequence length exceeds the model's context");
    static_assert(First < L, "ctformer: the first trained block must be one of the model's blocks");
    static constexpr std::size_t batch = B;            ///< batch B
    static constexpr std::size_t seq = S;              ///< sequence length S
    static constexpr std::size_t BS = B * S;           ///< rows B * S
    static constexpr std::size_t first = First;        ///< first trained block
    static constexpr std::size_t trained = L - First;  ///< trained blocks L - First
    static constexpr bool has_frozen = First > 0;  ///< blocks before First run frozen
    using spec = block_spec<T, B, S, C, F, H, Cfg.norm, Cfg.act, true, false, 1, has_dropout>;  ///< the blocks' spec
    using batch_type = token_batch<B, S>;  ///< the batch type this workspace takes

    tensor3<T, trained + 1, BS, C> stream;           ///< inputs of blocks First.. and the last output
    std::array<block_cache<spec>, trained> cache;  ///< (trained) the activations of blocks First..L-1
    [[no_unique_address]] maybe<has_frozen, block_cache<spec>> frozen_cache;  ///< blocks < First
    [[no_unique_address]] maybe<has_frozen, tensor2<T, BS, C>> frozen_x;      ///< their other buffer
    [[no_unique_address]] maybe<has_dropout, tensor2<T, BS, C>> emb_drop;  ///< (BS, C) embedding dropout mask
    [[no_unique_address]] maybe<pre, tensor2<T, BS, C>> xf;  ///< (BS, C) after ln_f
    [[no_unique_address]] maybe<pre, tensor1<T, BS>> mean_f;  ///< (BS) mean of ln_f's input
    [[no_unique_address]] maybe<pre, tensor1<T, BS>> rstd_f;  ///< (BS) reciprocal standard deviation of ln_f's input
    tensor2<T, BS, V> logits;                        ///< (BS, V) logits -> probabilities -> dlogits
    tensor1<T, BS> row_loss;                         ///< (BS)
    block_scratch<spec> scratch;  ///< backward scratch shared by the blocks
    /// Gradients of the residual stream (two buffers, swapped per block).
    tensor2<T, BS, C> dstream, dprev;                ///< (BS, C)
    const std::int32_t* key_mask = nullptr;          ///< of the last forward (null: no padding)

    /// The input of block l >= First (l = L: the last block's output).
    T* input(std::size_t l) { return stream.data() + (l - First) * BS * C; }
    /// The input of block l >= First (l = L: the last block's output), read-only.
    const T* input(std::size_t l) const { return stream.data() + (l - First) * BS * C; }
    /// The last hidden state (BS, C): ln_f's output (pre-LN) or the last block's output.
    const T* final_hidden() const {
      if constexpr (pre) return xf.data(); else return input(L);
    }
  };
  template <std::size_t B, std::size_t S>
  struct workspace : basic_workspace<B, S, 0> {};
  /// Bytes of a training workspace for B sequences of S tokens.
  template <std::size_t B, std::size_t S>
  static constexpr std::size_t activation_bytes = sizeof(workspace<B, S>);

  // ---- the layer stack ---------------------------------------------------------------------
  /// Every forward of this architecture runs its blocks here: training and full forwards, the KV
  /// cache's passes (deploy/kv_cache.hpp), int8 inference (deploy/quantize.hpp, whose params have
  /// the same members) and a fine-tuned tail. Blocks lo..hi-1, with weights h[0..hi-lo): block l
  /// reads stream(l) and writes stream(l + 1) for n rows, with its buffers in cache(l) and its
  /// keys and values from source(l).
  template <class Sp, class Blk, class Stream, class Cache, class Source>
  static void layers_forward(const Blk* h, std::size_t lo, std::size_t hi, std::size_t n, Stream&& stream,
                             Cache&& cache, Source&& source, const run_mode& mode) {
    for (std::size_t l = lo; l < hi; ++l)
      block_forward<Sp>(stream(l + 1), stream(l), n, h[l - lo], cache(l), source(l), no_cross_attention{}, mode,
                        Cfg.dropout, l + 1, eps);
  }
  /// layers_forward over all L blocks of p.
  template <class Sp, class P, class Stream, class Cache, class Source>
  static void blocks_forward(const P& p, std::size_t n, Stream&& stream, Cache&& cache, Source&& source,
                             const run_mode& mode) {
    layers_forward<Sp>(p.h.data(), 0, L, n, stream, cache, source, mode);
  }

  /// The buffers of an inference pass of up to Rows rows whose queries see up to Keys keys.
  template <std::size_t Rows, std::size_t Keys, bool Int8 = false>
  using pass_spec = block_spec<T, 1, Rows, C, F, H, Cfg.norm, Cfg.act, true, false, 1, false, Keys, Int8>;

  /// x (n, C) = wte[ids[r]] + position pos[r], row by row (what embedding_forward and
  /// positions_forward compute for a full sequence).
  template <class P>
  static void embed_rows(const P& p, const std::int32_t* ids, const std::size_t* pos, std::size_t n, T* x) {
    const T* pos_table;
    if constexpr (learned_pos)
      pos_table = p.wpe.data();
    else
      pos_table = sinusoidal_table<T, Ctx, C>().data();
    for (std::size_t r = 0; r < n; ++r) {
      if (ids[r] < 0 || std::size_t(ids[r]) >= V)
        fail("token id {} at position {} is outside the vocabulary (size {})", ids[r], pos[r], V);
      if (pos[r] >= Ctx) fail("position {} is beyond the model's context of {}", pos[r], Ctx);
      T* xr = x + r * C;
      std::memcpy(xr, p.wte.data() + std::size_t(ids[r]) * C, C * sizeof(T));
      kernels::add(xr, xr, pos_table + pos[r] * C, C);
    }
  }

  /// logits (m, V) of hidden states (m, C): ln_f (pre-LN, into normed) and the LM head.
  template <class P, class Cache>
  static void logits_rows(const P& p, const T* hidden, std::size_t m, T* logits, T* normed, Cache&) {
    if constexpr (pre) {
      layernorm_forward(normed, static_cast<T*>(nullptr), static_cast<T*>(nullptr), hidden, m, p.ln_f, eps);
      hidden = normed;
    }
    if constexpr (tied)
      kernels::gemm<T>(false, true, m, V, C, T(1), hidden, C, p.wte.data(), C, T(0), logits, V);
    else
      kernels::gemm<T>(false, false, m, V, C, T(1), hidden, C, p.lm_head.data(), V, T(0), logits, V);
  }

 private:
  // ---- the pieces of a training forward and backward, shared by the model and its tails -----
  /// Embeddings (of p: the weights or a view) into x0, with their dropout.
  template <class P, class WS, class Batch>
  static void embed_forward(const P& p, T* x0, WS& ws, const Batch& batch, const run_mode& mode) {
    constexpr std::size_t B = WS::batch, S = WS::seq, BS = WS::BS;
    embedding_forward<T, BS, V, C>(out<T, BS, C>(x0), in<std::int32_t, BS>(batch.ids.data()),
                                   in<T, V, C>(p.wte.data()));
    if constexpr (learned_pos)
      positions_forward<T, B, S, Ctx, C>(inout<T, BS, C>(x0), in<T, Ctx, C>(p.wpe.data()));
    else
      positions_forward<T, B, S, Ctx, C>(inout<T, BS, C>(x0), in<T, Ctx, C>(sinusoidal_table<T, Ctx, C>().data()));
    if constexpr (has_dropout)
      if (mode.train) dropout_forward(x0, ws.emb_drop.data(), x0, BS * C, Cfg.dropout, mode, 0);
    ws.key_mask = detail::mask_or_null(batch.attention_mask.data(), BS);
  }

  /// Blocks First..L-1 (weights h), keeping their activations in ws.
  template <class Blk, class WS>
  static void trained_blocks_forward(const Blk* h, WS& ws, const run_mode& mode) {
    using spec = typename WS::spec;
    layers_forward<spec>(
        h, WS::first, L, WS::BS, [&](std::size_t l) { return ws.input(l); },
        [&](std::size_t l) -> block_cache<spec>& { return ws.cache[l - WS::first]; },
        [&](std::size_t l) { return sequence_self_attention<spec>{ws.key_mask, mode, Cfg.dropout, l + 1}; }, mode);
  }

  /// ln_f (pre-LN; ln_f is absent otherwise) and the LM head (head: wte (V, C) when tied, else
  /// lm_head (C, V)) into ws.logits.
  template <class LnF, class WS>
  static void head_forward(const LnF& ln_f, const T* head, WS& ws) {
    constexpr std::size_t BS = WS::BS;
    if constexpr (pre)
      kernels::layernorm_forward<T>(ws.xf.data(), ws.mean_f.data(), ws.rstd_f.data(), ws.input(L),
                                    ln_f.weight.data(), ln_f.bias.data(), BS, C, eps);
    kernels::gemm<T>(false, tied, BS, V, C, T(1), ws.final_hidden(), C, head, tied ? C : V, T(0),
                     ws.logits.data(), V);
  }

  /// From the probabilities in ws.logits back to the gradient of the last block's output, which
  /// it returns (in ws.dstream). Adds the head's gradient into g_head (null: the head is frozen)
  /// and ln_f's into g_ln_f.
  template <class LnF, class WS, class Batch>
  static T* head_backward(const LnF& ln_f, const T* head, LnF& g_ln_f, T* g_head, WS& ws, const Batch& batch,
                          const loss_value& lv, T label_smoothing, T loss_scale) {
    constexpr std::size_t BS = WS::BS;
    const T scale = lv.count ? loss_scale / T(lv.count) : T(0);
    cross_entropy_backward<T>(ws.logits.data(), batch.targets.data(), BS, V, scale, label_smoothing);
    const T* dlogits = ws.logits.data();
    T* dh = pre ? ws.dprev.data() : ws.dstream.data();  // gradient of the final hidden state
    if constexpr (tied) {
      kernels::gemm<T>(false, false, BS, C, V, T(1), dlogits, V, head, C, T(0), dh, C);
      if (g_head) kernels::gemm<T>(true, false, V, C, BS, T(1), dlogits, V, ws.final_hidden(), C, T(1), g_head, C);
    } else {
      kernels::gemm<T>(false, true, BS, C, V, T(1), dlogits, V, head, V, T(0), dh, C);
      if (g_head) kernels::gemm<T>(true, false, C, V, BS, T(1), ws.final_hidden(), C, dlogits, V, T(1), g_head, V);
    }
    if constexpr (pre) {
      std::memset(ws.dstream.data(), 0, BS * C * sizeof(T));
      kernels::layernorm_backward<T>(ws.dstream.data(), g_ln_f.weight.data(), g_ln_f.bias.data(), dh, ws.input(L),
                                     ln_f.weight.data(), ws.mean_f.data(), ws.rstd_f.data(), BS, C);
    }
    return ws.dstream.data();
  }

  /// Blocks L-1 down to First (weights h, gradients g added into); returns the gradient of block
  /// First's input.
  template <class WS>
  static T* trained_blocks_backward(const block_type* h, block_type* g, WS& ws, const run_mode& mode) {
    constexpr std::size_t BS = WS::BS, First = WS::first;
    using spec = typename WS::spec;
    T* dcur = ws.dstream.data();
    T* dnext = ws.dprev.data();
    for (std::size_t l = L; l-- > First;) {
      block_context<T> ctx;
      ctx.key_mask = ws.key_mask;
      ctx.mode = mode;
      ctx.site = l + 1;
      std::memset(dnext, 0, BS * C * sizeof(T));
      block_backward<spec, family::gpt2>(dnext, dcur, g[l - First], ws.input(l), h[l - First],
                                         ws.cache[l - First], ws.scratch, ctx, Cfg.dropout);
      std::swap(dcur, dnext);
    }
    return dcur;
  }

 public:
  // ---- forward ---------------------------------------------------------------------------
  /// Logits for every position land in ws.logits. Padding (attention_mask 0) is never attended to.
  template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
  static void forward(const params& p, workspace<B, S>& ws, const token_batch<Bb, Sb>& batch,
                      const run_mode& mode = {}) {
    static_assert(check_batch_fits<token_batch<Bb, Sb>, workspace<B, S>>());
    embed_forward(p, ws.input(0), ws, batch, mode);
    trained_blocks_forward(p.h.data(), ws, mode);
    head_forward(p.ln_f, head_weights(p), ws);
  }

  /// Mean cross-entropy over the positions whose target is not ignore_index. Turns the logits
  /// into probabilities (call after forward, before backward).
  template <std::size_t B, std::size_t S, std::size_t First, std::size_t Bb, std::size_t Sb>
  static loss_value loss(basic_workspace<B, S, First>& ws, const token_batch<Bb, Sb>& batch, T label_smoothing = T(0)) {
    static_assert(check_batch_fits<token_batch<Bb, Sb>, basic_workspace<B, S, First>>());
    return cross_entropy_forward<T>(ws.logits.data(), ws.row_loss.data(), batch.targets.data(), B * S, V,
                                    label_smoothing);
  }

  /// forward(), then loss(): the mean cross-entropy over the targets.
  template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
  static loss_value forward_loss(const params& p, workspace<B, S>& ws, const token_batch<Bb, Sb>& batch,
                                 const run_mode& mode = {}, T label_smoothing = T(0)) {
    forward(p, ws, batch, mode);
    return loss(ws, batch, label_smoothing);
  }

  // ---- backward --------------------------------------------------------------------------
  /// ADDS into g the gradient of loss_scale * L, where L is the mean loss that loss() returned
  /// (its count is passed back in so that accumulation over micro-batches can rescale).
  template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
  static void backward(const params& p, params& g, workspace<B, S>& ws, const token_batch<Bb, Sb>& batch,
                       const loss_value& lv, const run_mode& mode = {}, T label_smoothing = T(0),
                       T loss_scale = T(1)) {
    static_assert(check_batch_fits<token_batch<Bb, Sb>, workspace<B, S>>());
    constexpr std::size_t BS = B * S;
    head_backward(p.ln_f, head_weights(p), g.ln_f, head_weights(g), ws, batch, lv,
                  label_smoothing, loss_scale);
    T* dx = trained_blocks_backward(p.h.data(), g.h.data(), ws, mode);
    if constexpr (has_dropout)
      if (mode.train)
        for (std::size_t i = 0; i < BS * C; ++i) dx[i] *= ws.emb_drop.data()[i];
    if constexpr (learned_pos)
      positions_backward<T, B, S, Ctx, C>(inout<T, Ctx, C>(g.wpe.data()), in<T, BS, C>(dx));
    embedding_backward<T, BS, V, C>(inout<T, V, C>(g.wte.data()), in<T, BS, C>(dx),
                                    in<std::int32_t, BS>(batch.ids.data()));
  }

  // ---- fine-tuning a tail ------------------------------------------------------------------
  /// Blocks First..L-1, ln_f and an untied head train; the embeddings, blocks 0..First-1 and a
  /// tied head stay frozen where they are (a params_view: flash on a microcontroller) and get no
  /// gradient, no optimizer state and no stored activations. tail<First> is a model of its own
  /// (concepts.hpp): train_step<M::tail<First>>(tp, tg, opt, state, ...) trains it, its params,
  /// gradients and optimizer state have the tail's size, and its memory is a compile-time figure.
  /// The trajectory equals training the whole model with the frozen part in a frozen
  /// param_group (tests/models/test_fine_tune.cpp).
  template <std::size_t First>
  struct tail {
    static_assert(First < L, "ctformer: tail<First>: First must name one of the model's blocks");
    using T = decoder_lm::T;  ///< scalar type
    using model = decoder_lm;  ///< the whole model
    /// Index of the first trained block; trained = L - First blocks.
    static constexpr std::size_t first = First, trained = L - First;  ///< blocks trained

    /// The trainable tensors: blocks First..L-1, ln_f and an untied head.
    struct params {
      std::array<block_type, trained> h;                             ///< blocks First..L-1
      [[no_unique_address]] maybe<pre, layernorm_params<T, C>> ln_f;  ///< final LayerNorm (pre-LN only)
      [[no_unique_address]] maybe<!tied, tensor<T, C, V>> lm_head;   ///< (C, V)
      /// The whole model's weights, of which the frozen part is read (not a tensor: for_each_tensor
      /// does not visit it; in gradients and optimizer state it stays null).
      const params_view* base = nullptr;
      /// Checkpoint names of the members, blocks numbered from First.
      static constexpr auto fields() {
        using P = params;
        return std::tuple_cat(
            std::tuple{layers("h.", &P::h, int(First))},
            detail::optional_field<pre>([] { return nested("ln_f.", &P::ln_f); }),
            detail::optional_field<!tied>(
                [] { return field("lm_head.weight", &P::lm_head, role::weight, flag::hf_transposed); }));
      }
    };
    /// Parameters of the trained part.
    static constexpr std::size_t param_count =
        trained * block_param_count + (pre ? 2 * C : 0) + (tied ? 0 : C * V);
    /// Compile-time signature: the model's and First.
    static constexpr std::uint64_t signature =
        detail::signature_builder{}.add(decoder_lm::signature).add(std::uint64_t(First)).h;
    /// The model in words, with First.
    static std::string describe() { return fmt::format("{}::tail<{}>", decoder_lm::describe(), First); }
    /// A fresh tail (the config's scheme; the values the whole model's init gives these tensors).
    static void init(params& tp, std::uint64_t seed) { initialize(tp, Cfg.init, double(Cfg.init_std), L, seed); }

    /// The trainable part starts from the model's weights: copies them from base (flash) and keeps
    /// base for the frozen rest.
    static void take(const params_view& base, params& tp) {
      for (std::size_t i = 0; i < trained; ++i) copy_tensors(base.h[First + i], tp.h[i]);
      if constexpr (pre) copy_tensors(base.ln_f, tp.ln_f);
      if constexpr (!tied) std::memcpy(tp.lm_head.data(), base.lm_head.data(), C * V * sizeof(T));
      tp.base = &base;
    }
    /// The tail's tensors written back into the whole model's (owning) weights.
    static void put(const params& tp, decoder_lm::params& p) {
      for (std::size_t i = 0; i < trained; ++i) copy_tensors(tp.h[i], p.h[First + i]);
      if constexpr (pre) copy_tensors(tp.ln_f, p.ln_f);
      if constexpr (!tied) std::memcpy(p.lm_head.data(), tp.lm_head.data(), C * V * sizeof(T));
    }

    template <std::size_t B, std::size_t S>
    struct workspace : basic_workspace<B, S, First> {};

    template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
    static void forward(const params& tp, workspace<B, S>& ws, const token_batch<Bb, Sb>& batch,
                        const run_mode& mode = {}) {
      static_assert(check_batch_fits<token_batch<Bb, Sb>, workspace<B, S>>());
      using spec = typename workspace<B, S>::spec;
      if (!tp.base) fail("{}: no frozen weights; call take(base, tail) first", describe());
      const params_view& f = *tp.base;
      T* x = ws.input(First);
      if constexpr (First > 0) {
        /// The frozen blocks alternate between two buffers and end in the first trained block's input.
        T* const bufs[2] = {ws.input(First), ws.frozen_x.data()};
        embed_forward(f, bufs[First % 2], ws, batch, mode);
        layers_forward<spec>(
            f.h.data(), 0, First, workspace<B, S>::BS, [&](std::size_t l) { return bufs[(First - l) % 2]; },
            [&](std::size_t) -> block_cache<spec>& { return ws.frozen_cache; },
            [&](std::size_t l) { return sequence_self_attention<spec>{ws.key_mask, mode, Cfg.dropout, l + 1}; },
            mode);
      } else {
        embed_forward(f, x, ws, batch, mode);
      }
      trained_blocks_forward(tp.h.data(), ws, mode);
      if constexpr (tied)
        head_forward(tp.ln_f, f.wte.data(), ws);
      else
        head_forward(tp.ln_f, tp.lm_head.data(), ws);
    }

    /// forward(), then loss(): the mean cross-entropy over the targets.
    template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
    static loss_value forward_loss(const params& tp, workspace<B, S>& ws, const token_batch<Bb, Sb>& batch,
                                   const run_mode& mode = {}, T label_smoothing = T(0)) {
      forward(tp, ws, batch, mode);
      return decoder_lm::loss(ws, batch, label_smoothing);
    }

    /// ADDS into g the gradient of loss_scale * L over the trained tensors only.
    template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
    static void backward(const params& tp, params& g, workspace<B, S>& ws, const token_batch<Bb, Sb>& batch,
                         const loss_value& lv, const run_mode& mode = {}, T label_smoothing = T(0),
                         T loss_scale = T(1)) {
      static_assert(check_batch_fits<token_batch<Bb, Sb>, workspace<B, S>>());
      if constexpr (tied)
        head_backward(tp.ln_f, tp.base->wte.data(), g.ln_f, static_cast<T*>(nullptr), ws, batch, lv,
                      label_smoothing, loss_scale);
      else
        head_backward(tp.ln_f, tp.lm_head.data(), g.ln_f, g.lm_head.data(), ws, batch, lv, label_smoothing,
                      loss_scale);
      trained_blocks_backward(tp.h.data(), g.h.data(), ws, mode);
    }

    /// RAM of fine-tuning with batch B of S tokens: the trained weights, their gradients, an
    /// optimizer's state_tensors moments (AdamW: 2) and the activations; the frozen part is not
    /// counted (it stays where base points).
    template <std::size_t B, std::size_t S>
    static constexpr std::size_t training_bytes(int state_tensors) {
      return std::size_t(2 + state_tensors) * param_count * sizeof(T) + sizeof(workspace<B, S>);
    }
  };

 private:
  template <class P>
  static const T* head_weights(const P& p) {
    if constexpr (tied) return p.wte.data(); else return p.lm_head.data();
  }
  template <class P>
  static T* head_weights(P& p) {
    if constexpr (tied) return p.wte.data(); else return p.lm_head.data();
  }
};

}  // namespace ctformer
