// KV cache and the incremental forward of decoder_lm (fp32 or int8): new positions run through the
// model's own layer stack while the keys and values of earlier positions come from the cache
// (their own are appended), so a new token costs O(params + L * context * d_model) instead of a
// full forward over the prefix. The block is the training one (layers/block.hpp) with a cached
// attention source, so its logits equal the full forward's bit for bit at any vector width.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>

#include "../error.hpp"
#include "../layers/attention.hpp"
#include "../layers/block.hpp"
#include "../models/decoder_lm.hpp"
#include "../tensor/tensor.hpp"

namespace ctformer {

/// The weights a cache pass runs on: the model's own params, or a view of weights kept elsewhere
/// (Model::params_view, e.g. in a microcontroller's flash).
template <class P, class Model>
concept weights_of = std::same_as<P, typename Model::params> || std::same_as<P, typename Model::params_view>;

/// The cache of a decoder_lm (or of its quantized_lm) for B independent sequences (batch rows),
/// plus the buffers of one pass of up to `rows` new positions. Its size is a compile-time figure
/// (`bytes`); make() puts it on the heap once (or declare it static), and nothing in it grows.
template <class Model, std::size_t B = 1, std::size_t Rows = 0>
struct kv_cache {
  using model_type = Model;  ///< the model whose keys and values are cached
  using T = typename Model::T;  ///< scalar type
  static constexpr std::size_t L = Model::L;      ///< the model's layers
  static constexpr std::size_t Ctx = Model::Ctx;  ///< the model's context length
  static constexpr std::size_t C = Model::C;      ///< the model's d_model
  static constexpr std::size_t H = Model::H;      ///< the model's attention heads
  static constexpr std::size_t F = Model::F;      ///< the model's FFN width
  static constexpr std::size_t V = Model::V;      ///< the model's vocabulary size
  static constexpr std::size_t D = C / H;         ///< head width C / H
  static constexpr std::size_t batch = B;  ///< independent sequences (batch rows)
  /// Positions per pass: prompts are prefilled in chunks of this many; a decoding step needs B.
  static constexpr std::size_t rows = Rows ? Rows : std::max<std::size_t>(B, std::min<std::size_t>(Ctx, 64));
  static_assert(B > 0, "ctformer kv_cache: batch must be positive");
  static_assert(rows >= B, "ctformer kv_cache: a pass must hold one position per batch row");
  static constexpr bool pre = Model::pre;  ///< the model is pre-LN (has ln_f)
  /// Buffers of one pass of up to rows positions over Ctx keys.
  using spec = typename Model::template pass_spec<rows, Ctx>;
  /// Attention over the cache, in power-of-two pieces of at most rows positions.
  using source = cached_self_attention<T, Ctx, H, D, std::bit_floor(rows)>;

  tensor4<T, L, B, Ctx, C> k;             ///< (L, B, Ctx, C) keys of every cached position
  tensor4<T, L, B, Ctx, C> v;             ///< (L, B, Ctx, C) values
  std::array<std::size_t, B> length{};    ///< positions cached per batch row

  // ---- one pass: work row r is token ids[r] of batch row row_of[r] at position pos_of[r]
  std::array<std::int32_t, rows> ids{};  ///< (R) token id of each work row
  std::array<std::size_t, rows> row_of{};  ///< (R) batch row of each work row
  std::array<std::size_t, rows> pos_of{};  ///< (R) position of each work row in its sequence
  /// (R, C) the residual stream, in and out of a block.
  tensor2<T, rows, C> x, y;               ///< (R, C) the residual stream, in and out of a block
  block_cache<spec> work;                 ///< one block's buffers, shared by the layers
  [[no_unique_address]] maybe<pre, tensor2<T, rows, C>> normed;  ///< (R, C) ln_f output
  tensor2<T, rows, V> logits;             ///< (R, V) logits of the pass's rows

  static constexpr std::size_t bytes() { return sizeof(kv_cache); }  ///< a compile-time figure

  /// The cache on the heap, keys and values zeroed: positions past a row's length get exactly zero
  /// attention weight, and 0 * v must be 0, so the stale entries have to be finite.
  static std::unique_ptr<kv_cache> make() {
    auto c = std::make_unique<kv_cache>();
    std::memset(c->k.data(), 0, c->k.size() * sizeof(T));
    std::memset(c->v.data(), 0, c->v.size() * sizeof(T));
    return c;
  }
  /// Forgetting is O(1): entries past length are never attended to (and are finite).
  void clear() { length.fill(0); }
  /// Forgets the positions of batch row b.
  void clear(std::size_t b) { length[b] = 0; }

  /// Keys of layer l, batch row b: (Ctx, C).
  T* keys(std::size_t l, std::size_t b) { return k.data() + (l * B + b) * Ctx * C; }
  /// Values of layer l, batch row b: (Ctx, C).
  T* values(std::size_t l, std::size_t b) { return v.data() + (l * B + b) * Ctx * C; }
  /// Logits (V) of work row r of the last pass.
  const T* logits_row(std::size_t r) const { return logits.data() + r * V; }
};

/// One pass over the n work rows staged in c.ids / row_of / pos_of (rows of one batch row in
/// increasing consecutive positions, each run starting where that row's cache ends). Appends their
/// keys and values and leaves the logits of rows [logits_from, n) in c.logits. The embedding, the
/// layer stack and the head are the model's own (Model::embed_rows, blocks_forward, logits_rows),
/// with keys and values from the cache: the same calls as the full forward, so the logits equal
/// its logits bit for bit.
template <class Model, std::size_t B, std::size_t R, weights_of<Model> P>
void cached_pass(const P& p, kv_cache<Model, B, R>& c, std::size_t n,
                 std::size_t logits_from) {
  using cache = kv_cache<Model, B, R>;
  using T = typename Model::T;
  constexpr std::size_t C = cache::C;
  if (n == 0) return;
  if (n > cache::rows) fail("kv cache: a pass holds at most {} positions, got {}", cache::rows, n);

  Model::embed_rows(p, c.ids.data(), c.pos_of.data(), n, c.x.data());
  T* stream[2] = {c.x.data(), c.y.data()};
  Model::template blocks_forward<typename cache::spec>(
      p, n, [&](std::size_t l) { return stream[l % 2]; },
      [&](std::size_t) -> block_cache<typename cache::spec>& { return c.work; },
      [&](std::size_t l) {
        return typename cache::source{c.keys(l, 0), c.values(l, 0), c.row_of.data(), c.pos_of.data()};
      },
      run_mode::eval());
  for (std::size_t r = 0; r < n; ++r) c.length[c.row_of[r]] = std::max(c.length[c.row_of[r]], c.pos_of[r] + 1);

  if (logits_from >= n) return;
  T* normed = nullptr;
  if constexpr (cache::pre) normed = c.normed.data();
  Model::logits_rows(p, stream[cache::L % 2] + logits_from * C, n - logits_from, c.logits.data() + logits_from * cache::V,
                     normed, c.work);
}

namespace detail {

/// Stages ids of batch row b pass by pass. want: 0 no logits, 1 the last id's, 2 every id's.
template <class Model, std::size_t B, std::size_t R, weights_of<Model> P>
const typename Model::T* extend_row(const P& p, kv_cache<Model, B, R>& c, std::size_t b,
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
    /// Only logits somebody reads are computed.
    const std::size_t from = want == 2 ? 0 : (want == 1 && final_pass ? n - 1 : n);
    cached_pass<Model>(p, c, n, from);
    if (want == 2) std::memcpy(all_logits + at * cache::V, c.logits.data(), n * cache::V * sizeof(typename Model::T));
    if (final_pass && want) last = c.logits_row(n - 1);
  }
  return last;
}

}  // namespace detail

/// Appends ids to batch row b's cached sequence, in passes of up to kv_cache::rows positions.
/// Returns the logits of the last id (V values, valid until the next pass). When all_logits is
/// given it receives the logits of every id ((ids.size(), V), row-major). Throws when the row would
/// pass the model's context.
template <class Model, std::size_t B, std::size_t R, weights_of<Model> P>
const typename Model::T* extend(const P& p, kv_cache<Model, B, R>& c, std::size_t b,
                                std::span<const std::int32_t> ids, typename Model::T* all_logits = nullptr) {
  return detail::extend_row<Model>(p, c, b, ids, all_logits ? 2 : 1, all_logits);
}

/// Keys and values only: a prefix whose logits nobody reads.
template <class Model, std::size_t B, std::size_t R, weights_of<Model> P>
void prefill(const P& p, kv_cache<Model, B, R>& c, std::size_t b,
             std::span<const std::int32_t> ids) {
  detail::extend_row<Model>(p, c, b, ids, 0, nullptr);
}

/// One new token for each of the listed batch rows, in a single pass (so the weights are read once
/// for all of them). The logits of entry i land in c.logits_row(i).
template <class Model, std::size_t B, std::size_t R, weights_of<Model> P>
void step(const P& p, kv_cache<Model, B, R>& c, std::span<const std::size_t> batch_rows,
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
