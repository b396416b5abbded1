// Text generation for decoder LMs: greedy, temperature, top-k and top-p (nucleus) sampling with a
// seed, stop tokens, a token limit and a per-token callback that may stop early; with the KV cache
// (default) or, as the reference, a full forward over the window for every new token.
//   p(t) ~ exp(logit_t / temperature) over the top_k most likely tokens, then cut to the smallest
//   set (in order of probability) whose mass reaches top_p, renormalized. Draws use ctformer::rng.
// A sequence that fills the context stops (context_full) or slides: its window restarts from its
// last slide_keep tokens, which are run through the model again. Both paths slide identically.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <type_traits>
#include <vector>

#include "../data/batch.hpp"
#include "../error.hpp"
#include "../base/random.hpp"
#include "kv_cache.hpp"

namespace ctformer {

/// How the next token is chosen: temperature, top-k, top-p, seed and vocabulary limit.
struct sampling {
  float temperature = 1.0f;  ///< <= 0: greedy (argmax, ties to the lowest id)
  std::size_t top_k = 0;     ///< keep the k most likely tokens (0: all)
  float top_p = 1.0f;        ///< then the smallest most-likely set whose probability reaches top_p (1: all)
  std::uint64_t seed = 0;    ///< batch row b draws from rng(seed + b)
  std::size_t vocab_limit = 0;  ///< draw only ids below this (0: all), for a vocabulary padded past the tokenizer's
  /// True when the choice is the argmax: temperature <= 0 (or NaN), or top_k == 1.
  bool greedy() const { return !(temperature > 0.0f) || top_k == 1; }
};

/// The distribution a draw uses, and the draw. Scratch is sized once for the vocabulary, so
/// sampling allocates nothing. Ties between equal logits are broken by the lower id.
class sampler {
 public:
  /// Scratch for a vocabulary of vocab tokens; fails when vocab is 0.
  explicit sampler(std::size_t vocab) : prob_(vocab), order_(vocab) {
    if (vocab == 0) fail("sampler: empty vocabulary");
  }
  /// Vocabulary size the scratch was sized for.
  std::size_t vocab() const { return prob_.size(); }

  /// Index of the largest of n logits (the lowest index among equals).
  template <class T>
  static std::int32_t argmax(const T* logits, std::size_t n) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < n; ++i)
      if (logits[i] > logits[best]) best = i;
    return std::int32_t(best);
  }

  /// Fills probabilities() (zero outside the kept set) and kept() (the kept ids, most likely first
  /// when a filter sorted them, otherwise in id order). Returns how many tokens were kept.
  template <class T>
  std::size_t distribution(const T* logits, const sampling& s) {
    check(s);
    const std::size_t V = s.vocab_limit ? std::min(s.vocab_limit, vocab()) : vocab();
    std::fill(prob_.begin(), prob_.end(), 0.0);
    if (s.greedy()) {
      order_[0] = argmax(logits, V);
      prob_[std::size_t(order_[0])] = 1.0;
      return kept_ = 1;
    }
    double mx = double(logits[0]);
    for (std::size_t i = 1; i < V; ++i) mx = std::max(mx, double(logits[i]));
    const double inv_t = 1.0 / double(s.temperature);
    // prob_ holds unnormalized weights exp((logit - max) / temperature) until the end.
    for (std::size_t i = 0; i < V; ++i) prob_[i] = std::exp((double(logits[i]) - mx) * inv_t);
    std::iota(order_.begin(), order_.begin() + std::ptrdiff_t(V), std::int32_t(0));
    std::size_t keep = V;
    const bool by_k = s.top_k > 0 && s.top_k < V, by_p = s.top_p < 1.0f;
    if (by_k || by_p) {
      keep = by_k ? s.top_k : V;
      /// Sorted by logit (not by weight, which can underflow to ties), then by id.
      std::partial_sort(order_.begin(), order_.begin() + std::ptrdiff_t(keep), order_.begin() + std::ptrdiff_t(V),
                        [&](std::int32_t a, std::int32_t b) {
                          return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                        });
      for (std::size_t i = keep; i < V; ++i) prob_[std::size_t(order_[i])] = 0.0;
      if (by_p) {
        double total = 0;
        for (std::size_t i = 0; i < keep; ++i) total += prob_[std::size_t(order_[i])];
        const double target = double(s.top_p) * total;
        double cum = 0;
        std::size_t m = 0;
        while (m < keep) {
          cum += prob_[std::size_t(order_[m++])];
          if (cum >= target) break;
        }
        for (std::size_t i = m; i < keep; ++i) prob_[std::size_t(order_[i])] = 0.0;
        keep = m;
      }
    }
    double z = 0;
    for (std::size_t i = 0; i < keep; ++i) z += prob_[std::size_t(order_[i])];
    const double inv_z = 1.0 / z;
    for (std::size_t i = 0; i < keep; ++i) prob_[std::size_t(order_[i])] *= inv_z;
    return kept_ = keep;
  }
  /// Probabilities of the last distribution() call, zero outside the kept set.
  std::span<const double> probabilities() const { return prob_; }
  /// The ids kept by the last distribution() call.
  std::span<const std::int32_t> kept() const { return {order_.data(), kept_}; }

  /// One token from distribution(logits, s). Greedy takes no draw from r; otherwise exactly one.
  template <class T>
  std::int32_t sample(const T* logits, const sampling& s, rng& r) {
    const std::size_t keep = distribution(logits, s);
    if (s.greedy()) return order_[0];
    const double u = r.uniform();
    double cum = 0;
    for (std::size_t i = 0; i < keep; ++i) {
      cum += prob_[std::size_t(order_[i])];
      if (u < cum) return order_[i];
    }
    return order_[keep - 1];  // u within rounding of 1
  }

  /// Fails unless temperature is finite and top_p is in (0, 1].
  static void check(const sampling& s) {
    if (!std::isfinite(s.temperature)) fail("sampling: temperature must be finite, got {}", s.temperature);
    if (!(s.top_p > 0.0f && s.top_p <= 1.0f)) fail("sampling: top_p must be in (0, 1], got {}", s.top_p);
  }

 private:
  std::vector<double> prob_;
  std::vector<std::int32_t> order_;
  std::size_t kept_ = 0;
};

enum class stop_reason : unsigned char {
  max_new_tokens,  ///< produced the requested number of tokens
  stop_token,      ///< produced one of the stop tokens (it is the last token returned)
  callback,        ///< the callback returned false
  context_full     // the window reached the model's context and the policy is stop
};
constexpr const char* to_string(stop_reason r) {
  switch (r) {
    case stop_reason::max_new_tokens: return "max_new_tokens";
    case stop_reason::stop_token: return "stop_token";
    case stop_reason::callback: return "callback";
    case stop_reason::context_full: return "context_full";
  }
  return "?";
}

enum class context_policy : unsigned char { stop, slide };

/// Generation settings: length, sampling, stop tokens, and what happens when the context is full.
struct generate_options {
  std::size_t max_new_tokens = 128;  ///< most tokens generated per prompt
  sampling sample{};  ///< how each token is chosen
  std::vector<std::int32_t> stop_tokens{};  ///< generation of a row ends after any of these
  context_policy when_full = context_policy::slide;  ///< slide the window, or stop, at the model's context
  std::size_t slide_keep = 0;  ///< tokens the window keeps when it slides (0: three quarters of the context)
  bool use_cache = true;       ///< false: a full forward over the window for every token (the reference)
};

/// The outcome of one prompt.
struct generation {
  std::vector<std::int32_t> tokens;  ///< the new tokens only
  stop_reason reason = stop_reason::max_new_tokens;  ///< why generation ended
  std::size_t slides = 0;            ///< how often the window slid
};

/// Runs generation for up to B prompts at once. Owns the KV cache (or, uncached, a full-forward
/// workspace) and the sampler scratch, allocated once and reused across run() calls; the token
/// loop allocates nothing (the result vectors are reserved before it starts).
template <class Model, std::size_t B = 1>
class generator {
 public:
  using params = typename Model::params;  ///< the model's weights
  using T = typename Model::T;  ///< scalar type
  using cache_type = kv_cache<Model, B>;  ///< the KV cache for B rows
  /// The full-forward workspace (use_cache = false).
  using workspace_type = typename Model::template workspace<B, Model::Ctx>;
  using batch_type = token_batch<B, Model::Ctx>;  ///< a window of B rows of the model's context
  /// The model's context and vocabulary size.
  static constexpr std::size_t Ctx = Model::Ctx, V = Model::V;  ///< vocabulary size

  generator() : sampler_(V) {}

  /// The KV cache.
  cache_type& cache() { return *cache_; }

  /// callback(row, token) or callback(token), returning bool (false stops that row) or void;
  /// it runs after each new token, including a final stop token.
  template <class Callback>
  std::vector<generation> run(const params& p, std::span<const std::vector<std::int32_t>> prompts,
                              const generate_options& o, Callback&& callback) {
    if (prompts.empty() || prompts.size() > B)
      fail("generate: {} prompts for a generator of batch {}", prompts.size(), B);
    sampler::check(o.sample);
    const std::size_t keep = o.slide_keep ? o.slide_keep : std::max<std::size_t>(1, Ctx * 3 / 4);
    if (keep > Ctx) fail("generate: slide_keep {} exceeds the model's context of {}", keep, Ctx);
    for (auto t : o.stop_tokens)
      if (t < 0 || std::size_t(t) >= V) fail("generate: stop token {} is outside the vocabulary (size {})", t, V);
    if (o.use_cache && !cache_) cache_ = cache_type::make();
    if (!o.use_cache && !ws_) {
      ws_ = std::make_unique<workspace_type>();
      batch_ = std::make_unique<batch_type>();
    }
    if (cache_) cache_->clear();

    const std::size_t rows = prompts.size();
    std::vector<generation> out(rows);
    std::array<std::vector<std::int32_t>, B> seq;  ///< prompt + generated, per row
    std::array<std::size_t, B> start{};           ///< the window is seq[start, end)
    std::array<bool, B> done{};
    std::array<rng, B> gens;
    for (std::size_t b = 0; b < rows; ++b) {
      const auto& pr = prompts[b];
      if (pr.empty()) fail("generate: prompt {} is empty (the model needs a token to condition on)", b);
      for (std::size_t i = 0; i < pr.size(); ++i)
        if (pr[i] < 0 || std::size_t(pr[i]) >= V)
          fail("generate: prompt {} token {} is {}, outside the vocabulary (size {})", b, i, pr[i], V);
      seq[b].reserve(pr.size() + o.max_new_tokens);
      seq[b].assign(pr.begin(), pr.end());
      out[b].tokens.reserve(o.max_new_tokens);
      gens[b].reseed(o.sample.seed + b);
      done[b] = o.max_new_tokens == 0;
    }

    std::array<std::size_t, B> active{};
    std::array<std::int32_t, B> last{};
    std::array<const T*, B> logits{};
    for (;;) {
      /// Rows still running; windows that outgrew the context stop or slide.
      std::size_t n_active = 0;
      for (std::size_t b = 0; b < rows; ++b) {
        if (done[b]) continue;
        if (seq[b].size() - start[b] > Ctx) {
          if (o.when_full == context_policy::stop) {
            done[b] = true;
            out[b].reason = stop_reason::context_full;
            continue;
          }
          start[b] = seq[b].size() - keep;
          ++out[b].slides;
          if (cache_ && o.use_cache) cache_->clear(b);
        }
        active[n_active++] = b;
      }
      if (n_active == 0) break;

      if (o.use_cache) {
        // Bring each cache up to the window but its last token, then run all last tokens together.
        for (std::size_t i = 0; i < n_active; ++i) {
          const std::size_t b = active[i];
          const std::size_t have = start[b] + cache_->length[b], end = seq[b].size();
          prefill<Model>(p, *cache_, b, std::span<const std::int32_t>(seq[b].data() + have, end - 1 - have));
          last[i] = seq[b][end - 1];
        }
        step<Model>(p, *cache_, std::span<const std::size_t>(active.data(), n_active),
                    std::span<const std::int32_t>(last.data(), n_active));
        for (std::size_t i = 0; i < n_active; ++i) logits[i] = cache_->logits_row(i);
      } else {
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t j = 0; j < Ctx; ++j) {
            const bool real = b < rows && start[b] + j < seq[b].size();
            batch_->ids(b, j) = real ? seq[b][start[b] + j] : 0;
            /// Every position is marked real: causality already hides the filler after the window,
            /// and an all-ones mask keeps attention on the same (unmasked) path as the cache.
            batch_->attention_mask(b, j) = 1;
            batch_->targets(b, j) = ignore_index;
            batch_->token_type(b, j) = 0;
          }
        Model::forward(p, *ws_, *batch_, run_mode::eval());
        for (std::size_t i = 0; i < n_active; ++i) {
          const std::size_t b = active[i];
          logits[i] = ws_->logits.data() + (b * Ctx + (seq[b].size() - start[b] - 1)) * V;
        }
      }

      for (std::size_t i = 0; i < n_active; ++i) {
        const std::size_t b = active[i];
        const std::int32_t tok = sampler_.sample(logits[i], o.sample, gens[b]);
        seq[b].push_back(tok);
        out[b].tokens.push_back(tok);
        bool go = true;
        if constexpr (std::is_invocable_v<Callback&, std::size_t, std::int32_t>) {
          if constexpr (std::is_void_v<std::invoke_result_t<Callback&, std::size_t, std::int32_t>>)
            callback(b, tok);
          else
            go = bool(callback(b, tok));
        } else {
          if constexpr (std::is_void_v<std::invoke_result_t<Callback&, std::int32_t>>)
            callback(tok);
          else
            go = bool(callback(tok));
        }
        if (std::find(o.stop_tokens.begin(), o.stop_tokens.end(), tok) != o.stop_tokens.end()) {
          done[b] = true;
          out[b].reason = stop_reason::stop_token;
        } else if (!go) {
          done[b] = true;
          out[b].reason = stop_reason::callback;
        } else if (out[b].tokens.size() >= o.max_new_tokens) {
          done[b] = true;
          out[b].reason = stop_reason::max_new_tokens;
        }
      }
    }
    return out;
  }
  /// run() without a callback.
  std::vector<generation> run(const params& p, std::span<const std::vector<std::int32_t>> prompts,
                              const generate_options& o) {
    return run(p, prompts, o, [](std::int32_t) {});
  }

 private:
  std::unique_ptr<cache_type> cache_;
  std::unique_ptr<workspace_type> ws_;
  std::unique_ptr<batch_type> batch_;
  sampler sampler_;
};

/// One prompt. callback(token) -> bool (false stops) or void.
template <class Model, class Callback>
generation generate(const typename Model::params& p, std::span<const std::int32_t> prompt, const generate_options& o,
                    Callback&& callback) {
  generator<Model, 1> g;
  const std::vector<std::int32_t> one(prompt.begin(), prompt.end());
  return std::move(g.run(p, std::span<const std::vector<std::int32_t>>(&one, 1), o,
                         std::forward<Callback>(callback))[0]);
}
template <class Model>
generation generate(const typename Model::params& p, std::span<const std::int32_t> prompt,
                    const generate_options& o = {}) {
  return generate<Model>(p, prompt, o, [](std::int32_t) {});
}

/// Up to B prompts in one batch (each row its own window, cache row and generator rng(seed + row)).
/// callback(row, token) -> bool or void.
template <class Model, std::size_t B, class Callback>
std::vector<generation> generate_batch(const typename Model::params& p,
                                       std::span<const std::vector<std::int32_t>> prompts,
                                       const generate_options& o, Callback&& callback) {
  generator<Model, B> g;
  return g.run(p, prompts, o, std::forward<Callback>(callback));
}
template <class Model, std::size_t B>
std::vector<generation> generate_batch(const typename Model::params& p,
                                       std::span<const std::vector<std::int32_t>> prompts,
                                       const generate_options& o = {}) {
  generator<Model, B> g;
  return g.run(p, prompts, o);
}

}  // namespace ctformer
