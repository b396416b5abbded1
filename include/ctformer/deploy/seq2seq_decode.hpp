// Greedy decoding and beam search for encoder-decoder models. Each source is encoded once; the
// decoder then runs one step per target token, through a scorer that gives log p(y_t | stream_next_<t, x).
// A hypothesis scores log P(y) / lp(|y|) with GNMT's lp(n) = ((5 + n) / 6)^alpha, |y| counting eos.
// Two step engines: `cached` keeps self-attention K/V per position and the cross-attention K/V of
// the encoder output, so step t costs O(L (C^2 + C F + (t + Ss) C) + V C); `recompute` reruns the
// decoder over all St positions every step, O(L St (C^2 + C F + St C) + St V C), as a reference.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "../data/datasets.hpp"
#include "../error.hpp"
#include "../layers/attention.hpp"
#include "../layers/block.hpp"
#include "../layers/embedding.hpp"
#include "../layers/layernorm.hpp"
#include "../layers/linear.hpp"
#include "../models/seq2seq.hpp"
#include "../tensor/kernels/gemm.hpp"

namespace ctformer {

/// What the search algorithms need from a model: up to rows() prefixes scored at once.
///   start(n)             n rows, each the empty prefix (the decoder has seen only bos)
///   advance(parent, tok) row r becomes old row parent[r] followed by tok[r], r < parent.size()
///   log_probs(out)       out (n, V): log-probabilities of the next token of each current row
template <class S>
concept decode_scorer = requires(S& s, std::span<const std::size_t> parent, std::span<const std::int32_t> tok,
                                 std::span<double> out, std::size_t n) {
  { s.rows() } -> std::convertible_to<std::size_t>;
  { s.vocab_size() } -> std::convertible_to<std::size_t>;
  { s.max_length() } -> std::convertible_to<std::size_t>;
  s.start(n);
  s.advance(parent, tok);
  s.log_probs(out);
};

/// Settings of greedy_decode: the eos id and the length limit.
struct decode_options {
  std::int32_t eos = -1;     ///< ends a hypothesis (required)
  std::size_t max_len = 0;   ///< most tokens generated, eos included (0: the scorer's max_length())
};

/// Settings of beam_search: beam width, length penalty, hypotheses returned.
struct beam_options : decode_options {
  std::size_t beam = 4;          ///< hypotheses kept per step
  double length_penalty = 0.0;   ///< alpha; 0 ranks by log-probability alone, > 0 favours longer output
  std::size_t n_best = 1;        ///< how many finished hypotheses to return (at most `beam`)
};

/// One decoded output.
struct hypothesis {
  std::vector<std::int32_t> tokens;  ///< generated tokens, eos not included
  double log_prob = 0;               ///< sum of the log-probabilities, eos included when `ended`
  double score = 0;                  ///< log_prob / lp(length())
  bool ended = false;                ///< true: ended with eos; false: stopped at max_len
  /// Tokens counted for the length penalty: the tokens, plus eos when it ended.
  std::size_t length() const { return tokens.size() + (ended ? 1 : 0); }
};

/// GNMT's length penalty ((5 + n) / 6)^alpha.
inline double length_penalty(std::size_t n, double alpha) {
  return alpha == 0.0 ? 1.0 : std::pow((5.0 + double(n)) / 6.0, alpha);
}

namespace detail {

inline std::size_t decode_limit(const decode_options& o, std::size_t scorer_max) {
  if (o.eos < 0) fail("decode: the eos id is not set");
  if (scorer_max == 0) fail("decode: the scorer allows no tokens");
  return o.max_len ? std::min(o.max_len, scorer_max) : scorer_max;
}

/// log-softmax of one row of logits, in double (the beam sums many of them).
template <class T>
void log_softmax_row(double* out, const T* logits, std::size_t V) {
  double mx = double(logits[0]);
  for (std::size_t v = 1; v < V; ++v) mx = std::max(mx, double(logits[v]));
  double sum = 0;
  for (std::size_t v = 0; v < V; ++v) sum += std::exp(double(logits[v]) - mx);
  const double lse = mx + std::log(sum);
  for (std::size_t v = 0; v < V; ++v) out[v] = double(logits[v]) - lse;
}

/// The argmax of a row, the lowest id on ties (the order beam search breaks ties in too).
inline std::int32_t argmax_row(const double* row, std::size_t V) {
  std::size_t best = 0;
  for (std::size_t v = 1; v < V; ++v)
    if (row[v] > row[best]) best = v;
  return std::int32_t(best);
}

}  // namespace detail

/// Greedy decoding of the scorer's first n rows (their sources set beforehand): each row takes its
/// most probable token until eos or max_len. Rows are independent; finished rows idle on eos.
template <decode_scorer S>
std::vector<hypothesis> greedy_decode(S& sc, std::size_t n, const decode_options& o) {
  const std::size_t max_len = detail::decode_limit(o, sc.max_length());
  if (n == 0 || n > sc.rows()) fail("greedy_decode: {} rows requested, the scorer holds 1..{}", n, sc.rows());
  const std::size_t V = sc.vocab_size();
  std::vector<hypothesis> out(n);
  std::vector<double> lp(n * V);
  std::vector<std::size_t> parent(n);
  std::vector<std::int32_t> tok(n);
  std::vector<bool> done(n, false);
  for (std::size_t r = 0; r < n; ++r) parent[r] = r;
  sc.start(n);
  for (std::size_t t = 0; t < max_len; ++t) {
    sc.log_probs(std::span<double>(lp));
    bool all_done = true;
    for (std::size_t r = 0; r < n; ++r) {
      tok[r] = std::int32_t(o.eos);
      if (done[r]) continue;
      const double* row = lp.data() + r * V;
      const std::int32_t best = detail::argmax_row(row, V);
      hypothesis& h = out[r];
      h.log_prob += row[best];
      if (best == o.eos) {
        h.ended = true;
        done[r] = true;
      } else {
        h.tokens.push_back(best);
        tok[r] = best;
        done[r] = t + 1 == max_len;
      }
      all_done = all_done && done[r];
    }
    if (all_done) break;
    sc.advance(std::span<const std::size_t>(parent), std::span<const std::int32_t>(tok));
  }
  for (auto& h : out) h.score = h.log_prob;  // greedy ranks nothing; score = log-probability
  return out;
}

/// Beam search over the scorer's source (every row decodes the same source). Per step the
/// candidates (row, token) are ranked by log-probability (ties: lower row, then lower token); an
/// eos among the best `beam` finishes a hypothesis, the best non-eos candidates fill the beam. It
/// stops when `beam` hypotheses have finished, or when no live hypothesis can still beat the best
/// finished score (a bound that holds for alpha >= 0 and alpha < 0), or at max_len. Returns the
/// n_best finished hypotheses, best score first. With beam 1 this is greedy_decode exactly.
template <decode_scorer S>
std::vector<hypothesis> beam_search(S& sc, const beam_options& o) {
  const std::size_t max_len = detail::decode_limit(o, sc.max_length());
  const std::size_t k = o.beam;
  if (k == 0 || k > sc.rows()) fail("beam_search: beam {} must be in 1..{} (the scorer's rows)", k, sc.rows());
  const std::size_t V = sc.vocab_size();
  const double alpha = o.length_penalty;
  struct live {
    std::vector<std::int32_t> tokens;
    double log_prob;
  };
  struct candidate {
    double log_prob;
    std::size_t row;
    std::int32_t token;
  };
  std::vector<live> beams{live{{}, 0.0}}, next;
  std::vector<hypothesis> finished;
  std::vector<double> lp(k * V);
  std::vector<candidate> cand;
  std::vector<std::size_t> parent;
  std::vector<std::int32_t> tok;
  auto finish = [&](const live& b, const candidate& c) {
    hypothesis h;
    h.tokens = b.tokens;
    h.ended = c.token == o.eos;
    if (!h.ended) h.tokens.push_back(c.token);
    h.log_prob = c.log_prob;
    h.score = h.log_prob / length_penalty(h.length(), alpha);
    finished.push_back(std::move(h));
  };
  sc.start(1);
  for (std::size_t t = 0; t < max_len; ++t) {
    const std::size_t n = beams.size();
    sc.log_probs(std::span<double>(lp.data(), n * V));
    cand.clear();
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t v = 0; v < V; ++v) cand.push_back({beams[r].log_prob + lp[r * V + v], r, std::int32_t(v)});
    /// Only the first 2k candidates can matter: k of them may be eos, k more fill the beam.
    const std::size_t keep = std::min(cand.size(), 2 * k);
    std::partial_sort(cand.begin(), cand.begin() + std::ptrdiff_t(keep), cand.end(),
                      [](const candidate& a, const candidate& b) {
                        if (a.log_prob != b.log_prob) return a.log_prob > b.log_prob;
                        if (a.row != b.row) return a.row < b.row;
                        return a.token < b.token;
                      });
    const bool last = t + 1 == max_len;
    next.clear();
    parent.clear();
    tok.clear();
    for (std::size_t i = 0; i < keep && next.size() < k; ++i) {
      const candidate& c = cand[i];
      if (c.token == o.eos || last) {
        if (i < k) finish(beams[c.row], c);
        continue;
      }
      live b{beams[c.row].tokens, c.log_prob};
      b.tokens.push_back(c.token);
      next.push_back(std::move(b));
      parent.push_back(c.row);
      tok.push_back(c.token);
    }
    if (next.empty() || finished.size() >= k) break;
    if (!finished.empty()) {
      double best = finished.front().score;
      for (const auto& h : finished) best = std::max(best, h.score);
      /// A live prefix of length m and log-probability q <= 0 ends with length in (m, max_len] and
      /// log-probability <= q, so its score is at most q / lp(max_len) (alpha >= 0) or q / lp(m + 1).
      double bound = -std::numeric_limits<double>::infinity();
      for (const auto& b : next) {
        const std::size_t m = b.tokens.size();
        bound = std::max(bound, b.log_prob / length_penalty(alpha >= 0 ? max_len : m + 1, alpha));
      }
      if (best >= bound) break;
    }
    sc.advance(std::span<const std::size_t>(parent), std::span<const std::int32_t>(tok));
    std::swap(beams, next);
  }
  if (finished.empty()) fail("beam_search: no hypothesis finished (max_len {})", max_len);
  std::stable_sort(finished.begin(), finished.end(),
                   [](const hypothesis& a, const hypothesis& b) { return a.score > b.score; });
  finished.resize(std::min(finished.size(), std::max<std::size_t>(1, std::min(o.n_best, k))));
  return finished;
}

// ---- the scorer of a seq2seq model -------------------------------------------------------------

enum class decode_engine { cached, recompute };

/// Scores up to K rows of a seq2seq<Cfg> model: sources of at most Ss tokens (eos appended as in
/// training, by fill_batch), hypotheses of at most St tokens. set_sources() encodes each source
/// once; a row decodes the source of its slot, and a row made by advance() inherits its parent's.
template <class Model, std::size_t K, std::size_t Ss = Model::Cs, std::size_t St = Model::Ct,
          decode_engine Engine = decode_engine::cached>
class seq2seq_scorer {
 public:
  using T = typename Model::T;  ///< scalar type
  using params = typename Model::params;  ///< the model's weights
  static constexpr std::size_t C = Model::C;    ///< the model's d_model
  static constexpr std::size_t F = Model::F;    ///< the model's FFN width
  static constexpr std::size_t H = Model::H;    ///< the model's attention heads
  static constexpr std::size_t D = C / H;       ///< head width C / H
  static constexpr std::size_t V = Model::Vt;   ///< the model's target vocabulary size
  static constexpr std::size_t Ld = Model::Ld;  ///< the model's decoder layers
  static_assert(K > 0, "ctformer: a scorer needs at least one row");
  static_assert(Ss <= Model::Cs && St <= Model::Ct, "ctformer: scorer lengths exceed the model's contexts");

  /// A scorer over the weights p (which must outlive it); sp gives the bos, eos and pad ids.
  seq2seq_scorer(const params& p, const seq2seq_specials& sp) : p_(&p), sp_(sp) {
    if (sp.bos < 0 || sp.eos < 0 || sp.pad < 0) fail("seq2seq_scorer: bos, eos and pad ids must be set");
    enc_ws_ = std::make_unique<enc_ws>();
    enc_batch_ = std::make_unique<enc_batch>();
    enc_out_.assign(K * Ss * C, T(0));
    src_mask_.assign(K * Ss, 0);
    if constexpr (Engine == decode_engine::cached) {
      cross_k_.assign(Ld * K * Ss * C, T(0));
      cross_v_.assign(Ld * K * Ss * C, T(0));
      self_k_.assign(Ld * K * St * C, T(0));
      self_v_.assign(Ld * K * St * C, T(0));
      self_k_next_.assign(self_k_.size(), T(0));
      self_v_next_.assign(self_v_.size(), T(0));
      stream_.assign(2 * K * C, T(0));
      normed_.assign(K * C, T(0));
      logits_.assign(K * V, T(0));
      work_ = std::make_unique<block_cache<step_spec>>();
    } else {
      ws_ = std::make_unique<full_ws>();
      batch_ = std::make_unique<full_batch>();
      prefix_.resize(K);
    }
  }

  /// Most rows scored at once: K.
  std::size_t rows() const { return K; }
  /// Target vocabulary size V.
  std::size_t vocab_size() const { return V; }
  /// Most target positions: St.
  std::size_t max_length() const { return St; }

  /// Encodes 1..K sources (token ids without specials). With one source every row decodes it.
  void set_sources(std::span<const std::vector<std::int32_t>> sources) {
    if (sources.empty() || sources.size() > K)
      fail("seq2seq_scorer: {} sources; the scorer holds 1..{}", sources.size(), K);
    slots_ = sources.size();
    for (std::size_t s = 0; s < slots_; ++s) {
      const seq2seq_example ex{sources[s], {}};
      batch_rows<1> rows;
      rows.count = 1;
      fill_batch(*enc_batch_, std::span<const seq2seq_example>(&ex, 1), rows, sp_);
      Model::encode(*p_, *enc_ws_, *enc_batch_, run_mode::eval());
      std::memcpy(enc_out_.data() + s * Ss * C, enc_ws_->encoder_output(), Ss * C * sizeof(T));
      for (std::size_t j = 0; j < Ss; ++j) src_mask_[s * Ss + j] = enc_batch_->src_mask(0, j);
      if constexpr (Engine == decode_engine::cached) {
        // Cross-attention keys and values of this source, once per decoder layer.
        for (std::size_t l = 0; l < Ld; ++l) {
          const auto& L = p_->dec[l];
          linear_forward(cross_k_.data() + (l * K + s) * Ss * C, C, enc_out_.data() + s * Ss * C, C, Ss, L.xk);
          linear_forward(cross_v_.data() + (l * K + s) * Ss * C, C, enc_out_.data() + s * Ss * C, C, Ss, L.xv);
        }
      }
    }
    n_ = 0;
  }
  /// Encodes one source that every row decodes.
  void set_source(std::span<const std::int32_t> source) {
    const std::vector<std::int32_t> one(source.begin(), source.end());
    set_sources(std::span<const std::vector<std::int32_t>>(&one, 1));
  }

  /// n rows (1..K), each the empty prefix (the decoder has seen only bos).
  void start(std::size_t n) {
    if (slots_ == 0) fail("seq2seq_scorer: set_sources() before start()");
    if (n == 0 || n > K) fail("seq2seq_scorer: start({}) outside 1..{}", n, K);
    if (slots_ > 1 && n != slots_) fail("seq2seq_scorer: start({}) with {} sources: one row per source", n, slots_);
    n_ = n;
    t_ = 0;
    for (std::size_t r = 0; r < n; ++r) {
      slot_[r] = slots_ == 1 ? 0 : r;
      input_[r] = sp_.bos;
    }
    if constexpr (Engine == decode_engine::recompute)
      for (auto& pf : prefix_) pf.clear();
  }

  void advance(std::span<const std::size_t> parent, std::span<const std::int32_t> tok) {
    if (parent.size() != tok.size() || parent.empty() || parent.size() > K)
      fail("seq2seq_scorer: advance with {} parents and {} tokens", parent.size(), tok.size());
    if (t_ + 1 >= St) fail("seq2seq_scorer: the hypotheses already fill the target length {}", St);
    std::array<std::size_t, K> slot{};
    for (std::size_t r = 0; r < parent.size(); ++r) {
      if (parent[r] >= n_) fail("seq2seq_scorer: parent {} of row {} is not a current row (< {})", parent[r], r, n_);
      if (tok[r] < 0 || std::size_t(tok[r]) >= V) fail("seq2seq_scorer: token {} outside the vocabulary", tok[r]);
      slot[r] = slot_[parent[r]];
    }
    if constexpr (Engine == decode_engine::cached) {
      /// Rows take their parent's self-attention cache (positions 0..t).
      bool identity = parent.size() == n_;
      for (std::size_t r = 0; r < parent.size() && identity; ++r) identity = parent[r] == r;
      if (!identity) {
        const std::size_t used = (t_ + 1) * C;
        for (std::size_t l = 0; l < Ld; ++l)
          for (std::size_t r = 0; r < parent.size(); ++r) {
            std::memcpy(self_k_next_.data() + (l * K + r) * St * C, self_k_.data() + (l * K + parent[r]) * St * C, used * sizeof(T));
            std::memcpy(self_v_next_.data() + (l * K + r) * St * C, self_v_.data() + (l * K + parent[r]) * St * C, used * sizeof(T));
          }
        std::swap(self_k_, self_k_next_);
        std::swap(self_v_, self_v_next_);
      }
    } else {
      std::vector<std::vector<std::int32_t>> old(prefix_.begin(), prefix_.begin() + std::ptrdiff_t(n_));
      for (std::size_t r = 0; r < parent.size(); ++r) prefix_[r] = old[parent[r]];
    }
    n_ = parent.size();
    for (std::size_t r = 0; r < n_; ++r) {
      slot_[r] = slot[r];
      input_[r] = tok[r];
      if constexpr (Engine == decode_engine::recompute) prefix_[r].push_back(tok[r]);
    }
    ++t_;
  }

  /// Writes (n, V) log-probabilities of the next token of each current row into out.
  void log_probs(std::span<double> out) {
    if (n_ == 0) fail("seq2seq_scorer: start() before log_probs()");
    if (out.size() < n_ * V) fail("seq2seq_scorer: log_probs needs room for {} x {} values", n_, V);
    if constexpr (Engine == decode_engine::cached) {
      step_cached();
      for (std::size_t r = 0; r < n_; ++r) detail::log_softmax_row(out.data() + r * V, logits_.data() + r * V, V);
    } else {
      step_recompute();
      for (std::size_t r = 0; r < n_; ++r)
        detail::log_softmax_row(out.data() + r * V, ws_->logits.data() + (r * St + t_) * V, V);
    }
  }

 private:
  using enc_ws = typename Model::template workspace<1, Ss, 1>;
  using enc_batch = seq2seq_batch<1, Ss, 1>;
  using full_ws = typename Model::template workspace<K, Ss, St>;
  using full_batch = seq2seq_batch<K, Ss, St>;

  const std::int32_t* row_mask(std::size_t r) const { return src_mask_.data() + slot_[r] * Ss; }

  /// The buffers of one decoding step (K rows, one position each) and its attention sources: the
  /// self-attention cache, and the source's keys and values projected once in set_sources().
  using step_spec = block_spec<T, 1, K, C, F, H, Model::config.norm, Model::config.act, true, true, Ss, false, St>;
  using self_source = cached_self_attention<T, St, H, D, std::bit_floor(K)>;

  /// One decoder position for the n current rows, through the model's decoder layer stack.
  void step_cached() {
    const std::size_t n = n_, t = t_;
    T* stream[2] = {stream_.data(), stream_.data() + K * C};
    // Embedding (scaled by sqrt(C)) plus position t.
    for (std::size_t r = 0; r < n; ++r) {
      T* xr = stream[0] + r * C;
      std::memcpy(xr, p_->dec_embed.data() + std::size_t(input_[r]) * C, C * sizeof(T));
      kernels::scale(xr, T(Model::embed_scale_d), C);
      const T* pos;
      if constexpr (Model::learned_pos)
        pos = p_->dec_pos.data() + t * C;
      else
        pos = sinusoidal_table<T, Model::Ct, C>().data() + t * C;
      kernels::add(xr, xr, pos, C);
      row_of_[r] = r;
      pos_of_[r] = t;
    }
    const auto cross = [this](std::size_t l) {
      return [this, l](T* y, block_cache<step_spec>& c, const auto&, std::size_t rows) {
        for (std::size_t r = 0; r < rows; ++r) {
          const std::size_t s = slot_[r];
          const qkv_ptrs<T> in{c.xq.data() + r * C, C, cross_k_.data() + (l * K + s) * Ss * C, C,
                               cross_v_.data() + (l * K + s) * Ss * C, C};
          attention_forward<T, 1, 1, Ss, H, D>(y + r * C, c.xatt.data(), in, attention_mask{source_mask(r), false, 0});
        }
      };
    };
    Model::template decoder_blocks_forward<step_spec>(
        *p_, n, [&](std::size_t l) { return stream[l % 2]; },
        [&](std::size_t) -> block_cache<step_spec>& { return *work_; },
        [&](std::size_t l) {
          return self_source{self_k_.data() + l * K * St * C, self_v_.data() + l * K * St * C, row_of_.data(),
                             pos_of_.data()};
        },
        cross, run_mode::eval());
    const T* h = stream[Ld % 2];
    if constexpr (Model::pre) {  // the decoder's final norm
      layernorm_forward(normed_.data(), static_cast<T*>(nullptr), static_cast<T*>(nullptr), h, n, p_->dec_ln,
                        Model::eps);
      h = normed_.data();
    }
    if constexpr (Model::tied)
      kernels::gemm<T>(false, true, n, V, C, T(1), h, C, p_->dec_embed.data(), C, T(0), logits_.data(), V);
    else
      kernels::gemm<T>(false, false, n, V, C, T(1), h, C, p_->lm_head.data(), V, T(0), logits_.data(), V);
  }

  /// The same padding rule as training: no mask at all when the source has no padding.
  const std::int32_t* source_mask(std::size_t r) const {
    return detail::mask_or_null(row_mask(r), Ss);
  }

  /// The whole decoder over bos + prefix, padded to St (causal attention keeps the padding out).
  void step_recompute() {
    full_batch& b = *batch_;
    full_ws& ws = *ws_;
    for (std::size_t r = 0; r < K; ++r) {
      const std::size_t src_r = r < n_ ? r : 0;
      std::memcpy(ws.encoder_output() + r * Ss * C, enc_out_.data() + slot_[src_r] * Ss * C, Ss * C * sizeof(T));
      for (std::size_t j = 0; j < Ss; ++j) b.src_mask(r, j) = row_mask(src_r)[j];
      const auto& pf = prefix_[src_r];
      for (std::size_t j = 0; j < St; ++j) {
        b.tgt_in(r, j) = j == 0 ? sp_.bos : (j - 1 < pf.size() ? pf[j - 1] : sp_.pad);
        b.tgt_out(r, j) = ignore_index;
        b.tgt_mask(r, j) = 1;
      }
    }
    ws.src_mask = detail::mask_or_null(b.src_mask.data(), K * Ss);
    Model::decode(*p_, ws, b, run_mode::eval());
  }

  const params* p_;
  seq2seq_specials sp_;
  std::unique_ptr<enc_ws> enc_ws_;
  std::unique_ptr<enc_batch> enc_batch_;
  std::vector<T> enc_out_;               ///< (slots, Ss, C) encoder output per source
  std::vector<std::int32_t> src_mask_;   ///< (slots, Ss)
  std::size_t slots_ = 0, n_ = 0, t_ = 0;
  std::array<std::size_t, K> slot_{};    ///< the source slot of each row
  std::array<std::int32_t, K> input_{};  ///< the token each row feeds at position t
  /// cached engine
  std::vector<T> cross_k_, cross_v_;  ///< (Ld, slots, Ss, C) cross-attention keys and values
  /// (Ld, K, St, C) self-attention cache, and the buffer a beam reorder copies it into
  std::vector<T> self_k_, self_v_, self_k_next_, self_v_next_;
  /// one decoding step: the residual stream in and out of a block (2, K, C), the final norm's
  /// output (K, C), the (K, V) logits, each row's cache row and position, and one block's buffers
  std::vector<T> stream_, normed_, logits_;
  std::array<std::size_t, K> row_of_{}, pos_of_{};
  std::unique_ptr<block_cache<step_spec>> work_;
  /// recompute engine
  std::unique_ptr<full_ws> ws_;
  std::unique_ptr<full_batch> batch_;
  std::vector<std::vector<std::int32_t>> prefix_;
};

}  // namespace ctformer
