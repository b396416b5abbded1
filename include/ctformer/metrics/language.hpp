// Language-model metrics over real tokens only (target != ignore_index): mean cross-entropy
// L = -(1/N) sum log softmax(z_t)[y_t] in nats, perplexity exp(L), and token accuracy
// (argmax == target). log-softmax runs in double with the row maximum subtracted, so float
// logits of any magnitude neither overflow nor lose the small probabilities.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "classification.hpp"
#include "core.hpp"

namespace ctformer::metrics {

/// -log softmax(row)[target], in double.
inline double token_nll(real_view row, std::size_t target) {
  const double mx = row[argmax(row)];
  double z = 0;
  for (std::size_t j = 0; j < row.size(); ++j) z += std::exp(row[j] - mx);
  return -(row[target] - mx - std::log(z));
}

/// Perplexity from a summed negative log-likelihood (nats) over `tokens` real tokens.
inline double perplexity_from_nll(double nll_sum, std::size_t tokens) {
  detail::require_nonempty(tokens, "perplexity");
  return std::exp(nll_sum / double(tokens));
}

/// Streams token logits (or precomputed NLL sums and hard predictions): memory O(1).
class language_metrics {
 public:
  /// Zeroes every sum and count.
  void reset() { *this = language_metrics{}; }

  /// Adds the NLL and argmax hit of every token whose target is not ignore_index.
  void update(const token_output& out) {
    const std::size_t v = out.vocab;
    if (v == 0) fail("language_metrics: vocabulary size is 0");
    if (out.logits.size() != out.targets.size() * v)
      fail("language_metrics: {} logits for {} tokens of a {}-word vocabulary", out.logits.size(), out.targets.size(), v);
    for (std::size_t i = 0; i < out.targets.size(); ++i) {
      const std::int32_t t = out.targets[i];
      if (t == ignore_index) continue;
      if (t < 0 || std::size_t(t) >= v) fail("language_metrics: target {} at token {} is outside [0, {})", t, i, v);
      const real_view row = out.logits.subview(i * v, v);
      detail::require_finite(row, "language_metrics", "logit");
      nll_ += token_nll(row, std::size_t(t));
      ++tokens_;
      correct_ += argmax(row) == std::size_t(t);
      ++scored_;
    }
  }
  /// A loss computed elsewhere: the SUM of per-token NLL over `tokens` real tokens.
  void add_nll(double nll_sum, std::size_t tokens) {
    if (!std::isfinite(nll_sum)) fail("language_metrics: NLL sum is {}", nll_sum);
    nll_ += nll_sum;
    tokens_ += tokens;
  }
  /// Hard predictions (e.g. from greedy decoding); ignore_index targets are skipped.
  void add_predictions(std::span<const std::int32_t> targets, std::span<const std::int32_t> predicted) {
    detail::require_same_size(targets.size(), predicted.size(), "language_metrics");
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (targets[i] == ignore_index) continue;
      correct_ += targets[i] == predicted[i];
      ++scored_;
    }
  }

  /// Tokens with an NLL.
  std::size_t tokens() const noexcept { return tokens_; }
  /// Mean NLL per token, in nats; throws if there is no token.
  double loss() const {
    detail::require_nonempty(tokens_, "language_metrics (no real token)");
    return nll_ / double(tokens_);
  }
  /// exp(loss()).
  double perplexity() const { return std::exp(loss()); }
  /// Fraction of predicted tokens equal to their target; throws if there is none.
  double token_accuracy() const {
    detail::require_nonempty(scored_, "token_accuracy (no real token)");
    return double(correct_) / double(scored_);
  }

  /// "loss" and "perplexity" when NLL was seen, "token_accuracy" when predictions were seen.
  metric_set result() const {
    if (tokens_ == 0 && scored_ == 0) detail::require_nonempty(0, "language_metrics (no real token)");
    metric_set m;
    if (tokens_ > 0) {
      m.set("loss", loss());
      m.set("perplexity", perplexity());
    }
    if (scored_ > 0) m.set("token_accuracy", token_accuracy());
    return m;
  }

 private:
  double nll_ = 0;
  std::size_t tokens_ = 0;   ///< tokens with an NLL
  std::size_t correct_ = 0;  ///< argmax == target
  std::size_t scored_ = 0;   ///< tokens with a prediction
};

/// Token accuracy over real tokens: positions whose target equals `ignore` (ignore_index by
/// default, or a pad id) are skipped.
inline double token_accuracy(std::span<const std::int32_t> targets, std::span<const std::int32_t> predicted,
                             std::int32_t ignore = ignore_index) {
  detail::require_same_size(targets.size(), predicted.size(), "token_accuracy");
  std::size_t hit = 0, n = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i] == ignore) continue;
    hit += targets[i] == predicted[i];
    ++n;
  }
  detail::require_nonempty(n, "token_accuracy (no real token)");
  return double(hit) / double(n);
}

/// Perplexity of (tokens, vocab) logits against targets, skipping ignore_index.
inline double perplexity(std::span<const std::int32_t> targets, real_view logits, std::size_t vocab) {
  language_metrics m;
  m.update({targets, logits, vocab});
  return m.perplexity();
}

}  // namespace ctformer::metrics
