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

template <gpt_config Cfg, class T_ = float>
struct decoder_lm {
  using T = T_;
  static constexpr gpt_config config = Cfg;
  static constexpr std::size_t V = Cfg.vocab, Ctx = Cfg.context, C = Cfg.d_model, H = Cfg.heads,
                               F = Cfg.d_ff, L = Cfg.layers;
  static_assert(detail::check_dims<V, Ctx, C, H, F, Cfg.head_dim>());
  static_assert(L > 0, "ctformer config: layers must be positive");
  static constexpr bool learned_pos = Cfg.pos == positional::learned;
  static constexpr bool pre = Cfg.norm == norm_placement::pre;
  static constexpr bool tied = Cfg.tied_head;
  static constexpr bool has_dropout = Cfg.dropout > 0.0f;
  static constexpr T eps = T(Cfg.ln_eps);

  using block_type = block_params<T, C, F, family::gpt2, false>;

  // The weights, stored by Tn: params owns them (training, fine-tuning); params_view points at
  // weights kept elsewhere, read-only (an exported header in flash: bind_exported()).
  template <template <class, std::size_t...> class Tn>
  struct params_of {
    Tn<T, V, C> wte;                                                   // (V, C)
    [[no_unique_address]] maybe<learned_pos, Tn<T, Ctx, C>> wpe;       // (Ctx, C)
    std::array<block_params<T, C, F, family::gpt2, false, Tn>, L> h;
    [[no_unique_address]] maybe<pre, layernorm_params<T, C, Tn>> ln_f;
    [[no_unique_address]] maybe<!tied, Tn<T, C, V>> lm_head;           // (C, V); HF stores (V, C)
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
  using params = params_of<tensor>;
  using params_view = params_of<const_tensor_ref>;

  // ---- constexpr figures -------------------------------------------------------------
  static constexpr std::size_t block_param_count = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C +
                                                   (C * F + F) + (F * C + C);
  static constexpr std::size_t param_count = V * C + (learned_pos ? Ctx * C : 0) + L * block_param_count +
                                             (pre ? 2 * C : 0) + (tied ? 0 : C * V);
  // nanoGPT's estimate: N excludes position embeddings; attention adds 2 * 2 * T * C per layer.
  static constexpr std::size_t flops_n = param_count - (learned_pos ? Ctx * C : 0);
  static constexpr double forward_flops_per_token(std::size_t seq = Ctx) {
    return 2.0 * double(flops_n) + 4.0 * double(L) * double(seq) * double(C);
  }
  static constexpr double training_flops_per_token(std::size_t seq = Ctx) {
    return 6.0 * double(flops_n) + 12.0 * double(L) * double(seq) * double(C);
  }
  // Identity for checkpoints: a compile-time signature of the type, and the same in words.
  static constexpr std::uint64_t signature =
      detail::signature_builder{}.add(config_signature(Cfg)).add(std::uint64_t(sizeof(T))).h;
  static std::string describe() { return fmt::format("decoder_lm<{}>{}", scalar_name<T>(), ctformer::describe(Cfg)); }

  // Initialization by the config's scheme (GPT-2's residual scaling counts the layers).
  static void init(params& p, std::uint64_t seed) {
    initialize(p, Cfg.init, double(Cfg.init_std), L, seed);
  }
  static constexpr std::size_t weight_bytes = param_count * sizeof(T);
  static constexpr std::size_t grad_bytes = weight_bytes;

  // ---- activations ---------------------------------------------------------------------
  template <std::size_t B, std::size_t S>
  struct workspace {
    static_assert(B > 0 && S > 0, "ctformer: batch and sequence must be positive");
    static_assert(S <= Ctx, "ctformer: sequence length exceeds the model's context");
    static constexpr std::size_t batch = B, seq = S, BS = B * S;
    using spec = block_spec<T, B, S, C, F, H, Cfg.norm, Cfg.act, true, false, 1, has_dropout>;
    using batch_type = token_batch<B, S>;

    tensor3<T, L + 1, BS, C> stream;                 // (L+1, BS, C) block inputs and last output
    std::array<block_cache<spec>, L> cache;
    [[no_unique_address]] maybe<has_dropout, tensor2<T, BS, C>> emb_drop;
    [[no_unique_address]] maybe<pre, tensor2<T, BS, C>> xf;  // (BS, C) after ln_f
    [[no_unique_address]] maybe<pre, tensor1<T, BS>> mean_f;
    [[no_unique_address]] maybe<pre, tensor1<T, BS>> rstd_f;
    tensor2<T, BS, V> logits;                        // (BS, V) logits -> probabilities -> dlogits
    tensor1<T, BS> row_loss;                         // (BS)
    block_scratch<spec> scratch;
    tensor2<T, BS, C> dstream, dprev;                // (BS, C)
    const std::int32_t* key_mask = nullptr;          // of the last forward (null: no padding)

    const T* final_hidden() const {
      if constexpr (pre) return xf.data(); else return stream.data() + L * BS * C;
    }
  };
  template <std::size_t B, std::size_t S>
  static constexpr std::size_t activation_bytes = sizeof(workspace<B, S>);

  // ---- the layer stack ---------------------------------------------------------------------
  // Every forward of this architecture runs its blocks here: training and full forwards, the KV
  // cache's passes (deploy/kv_cache.hpp) and int8 inference (deploy/quantize.hpp, whose params
  // have the same members). Block l reads stream(l) and writes stream(l + 1) for n rows, with its
  // buffers in cache(l) and its keys and values from source(l).
  template <class Sp, class P, class Stream, class Cache, class Source>
  static void blocks_forward(const P& p, std::size_t n, Stream&& stream, Cache&& cache, Source&& source,
                             const run_mode& mode) {
    for (std::size_t l = 0; l < L; ++l)
      block_forward<Sp>(stream(l + 1), stream(l), n, p.h[l], cache(l), source(l), no_cross_attention{}, mode,
                        Cfg.dropout, l + 1, eps);
  }

  // The buffers of an inference pass of up to Rows rows whose queries see up to Keys keys.
  template <std::size_t Rows, std::size_t Keys, bool Int8 = false>
  using pass_spec = block_spec<T, 1, Rows, C, F, H, Cfg.norm, Cfg.act, true, false, 1, false, Keys, Int8>;

  // x (n, C) = wte[ids[r]] + position pos[r], row by row (what embedding_forward and
  // positions_forward compute for a full sequence).
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

  // logits (m, V) of hidden states (m, C): ln_f (pre-LN, into normed) and the LM head.
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

  // ---- forward ---------------------------------------------------------------------------
  // Logits for every position land in ws.logits. Padding (attention_mask 0) is never attended to.
  template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
  static void forward(const params& p, workspace<B, S>& ws, const token_batch<Bb, Sb>& batch,
                      const run_mode& mode = {}) {
    static_assert(check_batch_fits<token_batch<Bb, Sb>, workspace<B, S>>());
    constexpr std::size_t BS = B * S;
    T* x0 = ws.stream.data();
    embedding_forward<T, BS, V, C>(out<T, BS, C>(x0), in<std::int32_t, BS>(batch.ids.data()),
                                   in<T, V, C>(p.wte.data()));
    if constexpr (learned_pos)
      positions_forward<T, B, S, Ctx, C>(inout<T, BS, C>(x0), in<T, Ctx, C>(p.wpe.data()));
    else
      positions_forward<T, B, S, Ctx, C>(inout<T, BS, C>(x0), in<T, Ctx, C>(sinusoidal_table<T, Ctx, C>().data()));
    if constexpr (has_dropout)
      if (mode.train) dropout_forward(x0, ws.emb_drop.data(), x0, BS * C, Cfg.dropout, mode, 0);
    ws.key_mask = detail::mask_or_null(batch.attention_mask.data(), BS);
    using spec = typename workspace<B, S>::spec;
    blocks_forward<spec>(
        p, BS, [&](std::size_t l) { return ws.stream.data() + l * BS * C; },
        [&](std::size_t l) -> block_cache<spec>& { return ws.cache[l]; },
        [&](std::size_t l) { return sequence_self_attention<spec>{ws.key_mask, mode, Cfg.dropout, l + 1}; }, mode);
    if constexpr (pre)
      kernels::layernorm_forward<T>(ws.xf.data(), ws.mean_f.data(), ws.rstd_f.data(),
                                    ws.stream.data() + L * BS * C, p.ln_f.weight.data(),
                                    p.ln_f.bias.data(), BS, C, eps);
    if constexpr (tied)
      kernels::gemm<T>(false, true, BS, V, C, T(1), ws.final_hidden(), C, p.wte.data(), C, T(0),
                       ws.logits.data(), V);
    else
      kernels::gemm<T>(false, false, BS, V, C, T(1), ws.final_hidden(), C, p.lm_head.data(), V, T(0),
                       ws.logits.data(), V);
  }

  // Mean cross-entropy over the positions whose target is not ignore_index. Turns the logits
  // into probabilities (call after forward, before backward).
  template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
  static loss_value loss(workspace<B, S>& ws, const token_batch<Bb, Sb>& batch, T label_smoothing = T(0)) {
    static_assert(check_batch_fits<token_batch<Bb, Sb>, workspace<B, S>>());
    return cross_entropy_forward<T>(ws.logits.data(), ws.row_loss.data(), batch.targets.data(), B * S, V,
                                    label_smoothing);
  }

  template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
  static loss_value forward_loss(const params& p, workspace<B, S>& ws, const token_batch<Bb, Sb>& batch,
                                 const run_mode& mode = {}, T label_smoothing = T(0)) {
    forward(p, ws, batch, mode);
    return loss(ws, batch, label_smoothing);
  }

  // ---- backward --------------------------------------------------------------------------
  // ADDS into g the gradient of loss_scale * L, where L is the mean loss that loss() returned
  // (its count is passed back in so that accumulation over micro-batches can rescale).
  template <std::size_t B, std::size_t S, std::size_t Bb, std::size_t Sb>
  static void backward(const params& p, params& g, workspace<B, S>& ws, const token_batch<Bb, Sb>& batch,
                       const loss_value& lv, const run_mode& mode = {}, T label_smoothing = T(0),
                       T loss_scale = T(1)) {
    static_assert(check_batch_fits<token_batch<Bb, Sb>, workspace<B, S>>());
    constexpr std::size_t BS = B * S;
    using spec = typename workspace<B, S>::spec;
    const T scale = lv.count ? loss_scale / T(lv.count) : T(0);
    cross_entropy_backward<T>(ws.logits.data(), batch.targets.data(), BS, V, scale, label_smoothing);
    const T* dlogits = ws.logits.data();
    T* dh = pre ? ws.dprev.data() : ws.dstream.data();  // gradient of the final hidden state
    if constexpr (tied) {
      kernels::gemm<T>(false, false, BS, C, V, T(1), dlogits, V, p.wte.data(), C, T(0), dh, C);
      kernels::gemm<T>(true, false, V, C, BS, T(1), dlogits, V, ws.final_hidden(), C, T(1), g.wte.data(), C);
    } else {
      kernels::gemm<T>(false, true, BS, C, V, T(1), dlogits, V, p.lm_head.data(), V, T(0), dh, C);
      kernels::gemm<T>(true, false, C, V, BS, T(1), ws.final_hidden(), C, dlogits, V, T(1), g.lm_head.data(), V);
    }
    if constexpr (pre) {
      std::memset(ws.dstream.data(), 0, BS * C * sizeof(T));
      kernels::layernorm_backward<T>(ws.dstream.data(), g.ln_f.weight.data(), g.ln_f.bias.data(), dh,
                                     ws.stream.data() + L * BS * C, p.ln_f.weight.data(),
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
      block_backward<spec, family::gpt2>(dnext, dcur, g.h[l], ws.stream.data() + l * BS * C, p.h[l],
                                         ws.cache[l], ws.scratch, ctx, Cfg.dropout);
      std::swap(dcur, dnext);
    }
    if constexpr (has_dropout)
      if (mode.train)
        for (std::size_t i = 0; i < BS * C; ++i) dcur[i] *= ws.emb_drop.data()[i];
    if constexpr (learned_pos)
      positions_backward<T, B, S, Ctx, C>(inout<T, Ctx, C>(g.wpe.data()), in<T, BS, C>(dcur));
    embedding_backward<T, BS, V, C>(inout<T, V, C>(g.wte.data()), in<T, BS, C>(dcur),
                                    in<std::int32_t, BS>(batch.ids.data()));
  }
};

}  // namespace ctformer
