// BLEU with NLTK's semantics (nltk.translate.bleu_score, 3.8), the second named BLEU mode beside
// sacreBLEU's (bleu.hpp). Over token lists, not text: no tokenizer. Per order n, each segment
// adds its clipped n-gram matches to the numerator and max(1, its n-gram count) to the
// denominator (NLTK counts at least one n-gram per segment and order, where sacreBLEU counts
// none); the closest reference length breaks ties to the shorter; BP = exp(1 - r/c) when c <= r
// (0 for an empty corpus); BLEU = BP * exp(sum_n w_n log p_n) over the p_n > 0, in [0, 1]. No
// unigram match at all gives 0 whatever the smoothing. Smoothing is one of NLTK's
// SmoothingFunction methods 0-7 (Chen and Cherry 2014), with NLTK's quirks kept: method4 uses
// the corpus's total hypothesis length, and methods 5 and 6 read the last segment's references
// and hypothesis. Parity: tests/metrics/test_bleu_nltk.cpp against fixtures written by NLTK.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "../error.hpp"

namespace ctformer::metrics::nltk {

/// A token list: one hypothesis or one reference.
using tokens = std::vector<std::string>;

/// NLTK's SmoothingFunction: method (0-7) and its parameters, with NLTK's defaults.
struct smoothing {
  int method = 0;        ///< 0: none (a zero precision counts as DBL_MIN), 1-7: Chen and Cherry's
  double epsilon = 0.1;  ///< method 1: the count given to an order without matches
  double alpha = 5;      ///< method 6: the interpolation weight
  double k = 5;          ///< method 4: the length scale
};

/// Options of corpus_bleu / sentence_bleu, as NLTK's arguments.
struct bleu_options {
  std::vector<double> weights{0.25, 0.25, 0.25, 0.25};  ///< one weight per order, from unigrams
  nltk::smoothing smoothing{};                          ///< SmoothingFunction method and parameters; default: method 0
  bool auto_reweigh = false;  ///< uniform weights over the hypothesis length when it is under 4
};

namespace detail {

/// A precision as NLTK keeps it: an unreduced fraction until smoothing turns it into a number.
struct fraction {
  double num = 0, den = 1;
  double value() const { return num / den; }
};

inline std::unordered_map<std::string, std::size_t> ngrams(const tokens& t, std::size_t n) {
  std::unordered_map<std::string, std::size_t> out;
  if (t.size() < n) return out;
  for (std::size_t i = 0; i + n <= t.size(); ++i) {
    std::string key;
    for (std::size_t j = 0; j < n; ++j) (key += t[i + j]) += '\x1f';
    ++out[key];
  }
  return out;
}

/// NLTK's modified_precision: clipped matches over max(1, hypothesis n-grams).
inline fraction modified_precision(std::span<const tokens> refs, const tokens& hyp, std::size_t n) {
  const auto counts = ngrams(hyp, n);
  std::unordered_map<std::string, std::size_t> max_ref;
  for (const auto& r : refs) {
    const auto rc = ngrams(r, n);
    for (const auto& [g, c] : counts) {
      (void)c;
      const auto it = rc.find(g);
      max_ref[g] = std::max(max_ref[g], it == rc.end() ? std::size_t(0) : it->second);
    }
  }
  std::size_t num = 0, total = 0;
  for (const auto& [g, c] : counts) {
    num += std::min(c, max_ref[g]);
    total += c;
  }
  return {double(num), double(std::max<std::size_t>(1, total))};
}

/// The reference length closest to hyp_len, the shorter on a tie.
inline std::size_t closest_ref_length(std::span<const tokens> refs, std::size_t hyp_len) {
  std::size_t best = refs[0].size();
  for (const auto& r : refs) {
    const auto d = [&](std::size_t len) { return len > hyp_len ? len - hyp_len : hyp_len - len; };
    if (d(r.size()) < d(best) || (d(r.size()) == d(best) && r.size() < best)) best = r.size();
  }
  return best;
}

}  // namespace detail

/// Corpus BLEU as nltk.translate.bleu_score.corpus_bleu: references[i] are the references of
/// hypotheses[i]. Returns a value in [0, 1]. Throws ctformer::error for mismatched sizes, a
/// segment without references, bad weights or smoothing, and where NLTK raises (method 6 with
/// no trigram match).
inline double corpus_bleu(std::span<const std::vector<tokens>> references, std::span<const tokens> hypotheses,
                          const bleu_options& o = {}) {
  if (references.size() != hypotheses.size())
    fail("nltk::corpus_bleu: {} hypotheses but {} reference lists", hypotheses.size(), references.size());
  if (o.weights.empty()) fail("nltk::corpus_bleu: no weights");
  if (o.smoothing.method < 0 || o.smoothing.method > 7)
    fail("nltk::corpus_bleu: smoothing method {} (NLTK has 0-7)", o.smoothing.method);
  const std::size_t orders = o.weights.size();
  std::vector<double> num(orders + 1, 0.0), den(orders + 1, 0.0);
  std::size_t hyp_len = 0, ref_len = 0;
  for (std::size_t s = 0; s < hypotheses.size(); ++s) {
    if (references[s].empty()) fail("nltk::corpus_bleu: segment {} has no reference", s);
    for (std::size_t n = 1; n <= orders; ++n) {
      const auto p = detail::modified_precision(references[s], hypotheses[s], n);
      num[n] += p.num;
      den[n] += p.den;
    }
    hyp_len += hypotheses[s].size();
    ref_len += detail::closest_ref_length(references[s], hypotheses[s].size());
  }
  const double bp = hyp_len > ref_len ? 1.0 : hyp_len == 0 ? 0.0 : std::exp(1.0 - double(ref_len) / double(hyp_len));
  if (num[1] == 0) return 0.0;
  std::vector<detail::fraction> frac(orders);
  for (std::size_t i = 0; i < orders; ++i) frac[i] = {num[i + 1], den[i + 1]};
  std::vector<double> p(orders);
  for (std::size_t i = 0; i < orders; ++i) p[i] = frac[i].value();
  const smoothing& sm = o.smoothing;
  const tokens& last_hyp = hypotheses.back();
  const std::span<const tokens> last_refs = references.back();
  const auto method4 = [&] {
    int inc = 1;
    for (std::size_t i = 0; i < orders; ++i)
      if (frac[i].num == 0 && hyp_len > 1) {
        p[i] = (1.0 / (std::pow(2.0, inc) * sm.k / std::log(double(hyp_len)))) / frac[i].den;
        ++inc;
      }
  };
  const auto method5 = [&] {
    std::vector<double> plus1(p);
    plus1.push_back(detail::modified_precision(last_refs, last_hyp, 5).value());
    double prev = p[0] + 1;
    for (std::size_t i = 0; i < orders; ++i) {
      p[i] = (prev + p[i] + plus1[i + 1]) / 3;
      prev = p[i];
    }
  };
  switch (sm.method) {
    case 0:
      for (std::size_t i = 0; i < orders; ++i)
        if (frac[i].num == 0) p[i] = DBL_MIN;
      break;
    case 1:
      for (std::size_t i = 0; i < orders; ++i)
        if (frac[i].num == 0) p[i] = sm.epsilon / frac[i].den;
      break;
    case 2:
      for (std::size_t i = 1; i < orders; ++i) p[i] = (frac[i].num + 1) / (frac[i].den + 1);
      break;
    case 3: {
      int inc = 1;
      for (std::size_t i = 0; i < orders; ++i)
        if (frac[i].num == 0) p[i] = 1.0 / (std::pow(2.0, inc++) * frac[i].den);
      break;
    }
    case 4: method4(); break;
    case 5: method5(); break;
    case 6:
      if (orders < 3 || p[2] == 0) fail("nltk::corpus_bleu: smoothing method 6 needs a non-zero trigram precision");
      for (std::size_t i = 2; i < orders; ++i) {
        const double pi0 = p[i - 2] == 0 ? 0.0 : p[i - 1] * p[i - 1] / p[i - 2];
        const double l = last_hyp.size() >= i + 1 ? double(last_hyp.size() - i) : 0.0;
        p[i] = (frac[i].num + sm.alpha * pi0) / (l + sm.alpha);
      }
      break;
    case 7:
      method4();
      method5();
      break;
  }
  std::vector<double> w = o.weights;
  if (o.auto_reweigh && hyp_len < 4 && w == std::vector<double>{0.25, 0.25, 0.25, 0.25})
    w.assign(hyp_len, 1.0 / double(hyp_len));
  double s = 0;
  for (std::size_t i = 0; i < std::min(w.size(), p.size()); ++i)
    if (p[i] > 0) s += w[i] * std::log(p[i]);
  return bp * std::exp(s);
}

/// Sentence BLEU as nltk.translate.bleu_score.sentence_bleu: corpus BLEU of one segment.
inline double sentence_bleu(std::span<const tokens> references, const tokens& hypothesis, const bleu_options& o = {}) {
  const std::vector<tokens> refs(references.begin(), references.end());
  return corpus_bleu(std::span<const std::vector<tokens>>(&refs, 1), std::span<const tokens>(&hypothesis, 1), o);
}

}  // namespace ctformer::metrics::nltk
