// KV cache and the incremental forward of decoder_lm: new positions run through every block while
// the keys and values of earlier positions come from the cache (their own are appended), so a new
// token costs O(params + L * context * d_model) instead of a full forward over the prefix.
// It calls decoder_lm::forward's kernels in the same order with the same arguments (eval mode), so
// its logits equal the full forward's bit for bit at any vector width (elementwise kernels never round by position).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>

#include "../error.hpp"
#include "../layers/attention.hpp"
#include "../layers/embedding.hpp"
#include "../models/decoder_lm.hpp"
#include "../tensor/kernels/activation.hpp"
#include "../tensor/kernels/gemm.hpp"
#include "../tensor/kernels/layernorm.hpp"
#include "../tensor/kernels/reduce.hpp"
#include "../tensor/tensor.hpp"

namespace ctformer {

// The cache of a decoder_lm for B independent sequences (batch rows), plus the scratch of one pass
// of up to `rows` new positions. Its size is a compile-time figure (`bytes`); make() puts it on
// the heap once, and nothing in it grows afterwards.
template <class Model, std::size_t B = 1, std::size_t Rows = 0>
struct kv_cache {
  using model_type = Model;
  using T = typename Model::T;
  static constexpr std::size_t L = Model::L, Ctx = Model::Ctx, C = Model::C, H = Model::H, F = Model::F,
                               V = Model::V, D = C / H;
  static constexpr std::size_t batch = B;
  // Positions per pass: prompts are prefilled in chunks of this many; a decoding step needs B.
  static constexpr std::size_t rows = Rows ? Rows : std::max<std::size_t>(B, std::min<std::size_t>(Ctx, 64));
  static_assert(B > 0, "ctformer kv_cache: batch must be positive");
  static_assert(rows >= B, "ctformer kv_cache: a pass must hold one position per batch row");
  static constexpr bool pre = Model::pre;

  tensor4<T, L, B, Ctx, C> k;             // (L, B, Ctx, C) keys of every cached position
  tensor4<T, L, B, Ctx, C> v;             // (L, B, Ctx, C) values
  std::array<std::size_t, B> length{};    // positions cached per batch row

  // ---- one pass: work row r is token ids[r] of batch row row_of[r] at position pos_of[r]
  std::array<std::int32_t, rows> ids{};
  std::array<std::size_t, rows> row_of{};
  std::array<std::size_t, rows> pos_of{};
  tensor2<T, rows, C> x, y;               // (R, C) block input and output
  tensor2<T, rows, C> n;                  // (R, C) pre: LN1 / LN2 / ln_f output
  tensor2<T, rows, 3 * C> qkv;            // (R, 3C) q | k | v of the new positions
  tensor3<T, H, rows, Ctx> att;           // (H, R, Ctx) attention probabilities of one piece
  tensor2<T, rows, C> att_y;              // (R, C) attention output before the projection
  tensor2<T, rows, C> sum1;               // (R, C) the attention residual sum
  [[no_unique_address]] maybe<!pre, tensor2<T, rows, C>> s1;    // post: LN1(sum1)
  [[no_unique_address]] maybe<!pre, tensor2<T, rows, C>> sum2;  // post: the FFN residual sum
  tensor2<T, rows, F> fc_pre, fc_act;     // (R, F) before and after the activation
  tensor2<T, rows, V> logits;             // (R, V) logits of the pass's rows

  static constexpr std::size_t bytes() { return sizeof(kv_cache); }  // a compile-time figure

  // The cache on the heap, keys and values zeroed: positions past a row's length get exactly zero
  // attention weight, and 0 * v must be 0, so the stale entries have to be finite.
  static std::unique_ptr<kv_cache> make() {
    auto c = std::make_unique<kv_cache>();
    std::memset(c->k.data(), 0, c->k.size() * sizeof(T));
    std::memset(c->v.data(), 0, c->v.size() * sizeof(T));
    return c;
  }
  // Forgetting is O(1): entries past length are never attended to (and are finite).
  void clear() { length.fill(0); }
  void clear(std::size_t b) { length[b] = 0; }

  T* keys(std::size_t l, std::size_t b) { return k.data() + (l * B + b) * Ctx * C; }
  T* values(std::size_t l, std::size_t b) { return v.data() + (l * B + b) * Ctx * C; }
  const T* logits_row(std::size_t r) const { return logits.data() + r * V; }
};

namespace detail {

// Attention of Sq consecutive new positions of one sequence over its cached keys, with Sq a power
// of two at most MaxSq chosen at run time (rows of attention are independent, so a run of any
// length is cut into power-of-two pieces without changing a bit).
template <class T, std::size_t Ctx, std::size_t H, std::size_t D, std::size_t MaxSq>
void cached_attention_piece(std::size_t sq, T* y, T* att, const qkv_ptrs<T>& in, std::size_t first_pos) {
  if constexpr (MaxSq > 1) {
    if (sq < MaxSq) return cached_attention_piece<T, Ctx, H, D, MaxSq / 2>(sq, y, att, in, first_pos);
  }
  attention_forward<T, 1, MaxSq, Ctx, H, D>(y, att, in, attention_mask{nullptr, true, first_pos}, run_mode::eval());
}

template <class Cache>
void cached_attention(Cache& c, std::size_t l, std::size_t n) {
  using T = typename Cache::T;
  constexpr std::size_t C = Cache::C, Ctx = Cache::Ctx, H = Cache::H, D = Cache::D;
  constexpr std::size_t max_piece = std::bit_floor(Cache::rows);
  std::size_t r = 0;
  while (r < n) {
    // A run: consecutive positions of one batch row.
    std::size_t e = r + 1;
    while (e < n && c.row_of[e] == c.row_of[r] && c.pos_of[e] == c.pos_of[e - 1] + 1) ++e;
    const std::size_t b = c.row_of[r];
    while (r < e) {
      const std::size_t sq = std::min(max_piece, std::bit_floor(e - r));
      const qkv_ptrs<T> in{c.qkv.data() + r * 3 * C, 3 * C, c.keys(l, b), C, c.values(l, b), C};
      cached_attention_piece<T, Ctx, H, D, max_piece>(sq, c.att_y.data() + r * C, c.att.data(), in, c.pos_of[r]);
      r += sq;
    }
  }
}

template <class Model, class T>
void ffn_activation(T* y, const T* x, std::size_t count) {
  if constexpr (Model::config.act == activation::gelu)
    kernels::gelu_forward(y, x, count);
  else
    kernels::relu_forward(y, x, count);
}

}  // namespace detail

// One pass over the n work rows staged in c.ids / row_of / pos_of (rows of one batch row in
// increasing consecutive positions, each run starting where that row's cache ends). Appends their
// keys and values and leaves the logits of rows [logits_from, n) in c.logits.
// Mirrors decoder_lm::forward and block_forward (GPT-2 family, self-attention only, eval mode).
template <class Model, std::size_t B, std::size_t R>
void cached_pass(const typename Model::params& p, kv_cache<Model, B, R>& c, std::size_t n,
                 std::size_t logits_from) {
  using cache = kv_cache<Model, B, R>;
  using T = typename Model::T;
  constexpr std::size_t C = cache::C, F = cache::F, V = cache::V, L = cache::L, Ctx = cache::Ctx;
  constexpr bool pre = Model::pre;
  constexpr T eps = Model::eps;
  if (n == 0) return;
  if (n > cache::rows) fail("kv cache: a pass holds at most {} positions, got {}", cache::rows, n);

  // Embeddings: token row plus position row, as embedding_forward and positions_forward do.
  const T* pos_table;
  if constexpr (Model::learned_pos)
    pos_table = p.wpe.data();
  else
    pos_table = sinusoidal_table<T, Ctx, C>().data();
  for (std::size_t r = 0; r < n; ++r) {
    const std::int32_t id = c.ids[r];
    if (id < 0 || std::size_t(id) >= V)
      fail("token id {} at position {} is outside the vocabulary (size {})", id, c.pos_of[r], V);
    if (c.pos_of[r] >= Ctx) fail("position {} is beyond the model's context of {}", c.pos_of[r], Ctx);
    T* xr = c.x.data() + r * C;
    std::memcpy(xr, p.wte.data() + std::size_t(id) * C, C * sizeof(T));
    kernels::add(xr, xr, pos_table + c.pos_of[r] * C, C);
  }

  T* x = c.x.data();
  T* y = c.y.data();
  for (std::size_t l = 0; l < L; ++l) {
    const auto& h = p.h[l];
    // --- self-attention sub-layer
    const T* a_in = x;
    if constexpr (pre) {
      kernels::layernorm_forward<T>(c.n.data(), nullptr, nullptr, x, h.ln1.weight.data(), h.ln1.bias.data(), n, C, eps);
      a_in = c.n.data();
    }
    kernels::gemm<T>(false, false, n, 3 * C, C, T(1), a_in, C, h.qkv.weight.data(), 3 * C, T(0), c.qkv.data(),
                     3 * C, h.qkv.bias.data());
    for (std::size_t r = 0; r < n; ++r) {
      const T* kv = c.qkv.data() + r * 3 * C;
      std::memcpy(c.keys(l, c.row_of[r]) + c.pos_of[r] * C, kv + C, C * sizeof(T));
      std::memcpy(c.values(l, c.row_of[r]) + c.pos_of[r] * C, kv + 2 * C, C * sizeof(T));
    }
    detail::cached_attention(c, l, n);
    T* sum1 = c.sum1.data();
    kernels::gemm<T>(false, false, n, C, C, T(1), c.att_y.data(), C, h.proj.weight.data(), C, T(0), sum1, C,
                     h.proj.bias.data());
    kernels::add(sum1, x, sum1, n * C);
    const T* s = sum1;
    if constexpr (!pre) {
      kernels::layernorm_forward<T>(c.s1.data(), nullptr, nullptr, sum1, h.ln1.weight.data(), h.ln1.bias.data(), n, C, eps);
      s = c.s1.data();
    }
    // --- feed-forward sub-layer
    const T* f_in = s;
    if constexpr (pre) {
      kernels::layernorm_forward<T>(c.n.data(), nullptr, nullptr, s, h.ln2.weight.data(), h.ln2.bias.data(), n, C, eps);
      f_in = c.n.data();
    }
    kernels::gemm<T>(false, false, n, F, C, T(1), f_in, C, h.fc.weight.data(), F, T(0), c.fc_pre.data(), F,
                     h.fc.bias.data());
    detail::ffn_activation<Model>(c.fc_act.data(), c.fc_pre.data(), n * F);
    if constexpr (pre) {
      kernels::gemm<T>(false, false, n, C, F, T(1), c.fc_act.data(), F, h.fc2.weight.data(), C, T(0), y, C,
                       h.fc2.bias.data());
      kernels::add(y, s, y, n * C);
    } else {
      T* sum2 = c.sum2.data();
      kernels::gemm<T>(false, false, n, C, F, T(1), c.fc_act.data(), F, h.fc2.weight.data(), C, T(0), sum2, C,
                       h.fc2.bias.data());
      kernels::add(sum2, s, sum2, n * C);
      kernels::layernorm_forward<T>(y, nullptr, nullptr, sum2, h.ln2.weight.data(), h.ln2.bias.data(), n, C, eps);
    }
    std::swap(x, y);
  }
  for (std::size_t r = 0; r < n; ++r) c.length[c.row_of[r]] = std::max(c.length[c.row_of[r]], c.pos_of[r] + 1);

  if (logits_from >= n) return;
  const std::size_t m = n - logits_from;
  const T* hidden = x + logits_from * C;
  if constexpr (pre) {
    kernels::layernorm_forward<T>(c.n.data(), nullptr, nullptr, hidden, p.ln_f.weight.data(), p.ln_f.bias.data(), m,
                                  C, eps);
    hidden = c.n.data();
  }
  T* out = c.logits.data() + logits_from * V;
  if constexpr (Model::tied)
    kernels::gemm<T>(false, true, m, V, C, T(1), hidden, C, p.wte.data(), C, T(0), out, V);
  else
    kernels::gemm<T>(false, false, m, V, C, T(1), hidden, C, p.lm_head.data(), V, T(0), out, V);
}

namespace detail {

// Stages ids of batch row b pass by pass. want: 0 no logits, 1 the last id's, 2 every id's.
template <class Model, std::size_t B, std::size_t R>
const typename Model::T* extend_row(const typename Model::params& p, kv_cache<Model, B, R>& c, std::size_t b,
                                    std::span<const std::int32_t> ids, int want, typename Model::T* all_logits) {
  using cache = kv_cache<Model, B, R>;
  if (b >= B) fail("kv cache: batch row {} is outside 0..{}", b, B - 1);
  if (c.length[b] + ids.size() > cache::Ctx)
    fail("kv cache: {} cached positions plus {} new ones exceed the model's context of {}", c.length[b], ids.size(),
         cache::Ctx);
  const typename Model::T* last = nullptr;
  for (std::size_t at = 0; at < ids.size(); at += cache::rows) {
    const std::size_t n = std::min(cache::rows, ids.size() - at);
    const std::size_t start = c.length[b];
    for (std::size_t r = 0; r < n; ++r) {
      c.ids[r] = ids[at + r];
      c.row_of[r] = b;
      c.pos_of[r] = start + r;
    }
    const bool final_pass = at + n == ids.size();
    // Only logits somebody reads are computed.
    const std::size_t from = want == 2 ? 0 : (want == 1 && final_pass ? n - 1 : n);
    cached_pass<Model>(p, c, n, from);
    if (want == 2) std::memcpy(all_logits + at * cache::V, c.logits.data(), n * cache::V * sizeof(typename Model::T));
    if (final_pass && want) last = c.logits_row(n - 1);
  }
  return last;
}

}  // namespace detail

// Appends ids to batch row b's cached sequence, in passes of up to kv_cache::rows positions.
// Returns the logits of the last id (V values, valid until the next pass). When all_logits is
// given it receives the logits of every id ((ids.size(), V), row-major). Throws when the row would
// pass the model's context.
template <class Model, std::size_t B, std::size_t R>
const typename Model::T* extend(const typename Model::params& p, kv_cache<Model, B, R>& c, std::size_t b,
                                std::span<const std::int32_t> ids, typename Model::T* all_logits = nullptr) {
  return detail::extend_row<Model>(p, c, b, ids, all_logits ? 2 : 1, all_logits);
}

// Keys and values only: a prefix whose logits nobody reads.
template <class Model, std::size_t B, std::size_t R>
void prefill(const typename Model::params& p, kv_cache<Model, B, R>& c, std::size_t b,
             std::span<const std::int32_t> ids) {
  detail::extend_row<Model>(p, c, b, ids, 0, nullptr);
}

// One new token for each of the listed batch rows, in a single pass (so the weights are read once
// for all of them). The logits of entry i land in c.logits_row(i).
template <class Model, std::size_t B, std::size_t R>
void step(const typename Model::params& p, kv_cache<Model, B, R>& c, std::span<const std::size_t> batch_rows,
          std::span<const std::int32_t> ids) {
  using cache = kv_cache<Model, B, R>;
  if (batch_rows.size() != ids.size()) fail("kv cache step: {} rows but {} ids", batch_rows.size(), ids.size());
  if (batch_rows.size() > cache::rows) fail("kv cache step: at most {} rows per pass", cache::rows);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::size_t b = batch_rows[i];
    if (b >= B) fail("kv cache: batch row {} is outside 0..{}", b, B - 1);
    for (std::size_t j = 0; j < i; ++j)
      if (batch_rows[j] == b) fail("kv cache step: batch row {} is listed twice", b);
    if (c.length[b] >= cache::Ctx) fail("kv cache: batch row {} already holds the full context of {}", b, cache::Ctx);
    c.ids[i] = ids[i];
    c.row_of[i] = b;
    c.pos_of[i] = c.length[b];
  }
  cached_pass<Model>(p, c, ids.size(), 0);
}

}  // namespace ctformer
