// BLEU with sacreBLEU 2.x semantics: 13a tokenization (mteval-v13a), clipped n-gram matches up
// to order 4 against the max count over references, the closest reference length (ties to the
// shorter), BP = exp(1 - r/c) when c < r, BLEU = 100 * BP * exp(mean log p_n), and the
// smoothings 'none', 'floor' (0.1), 'add-k' (1) and 'exp' (mteval's), at corpus or sentence level.
// Whitespace is Python's str.split() set (includes U+00A0, U+202F); text must be valid UTF-8.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../base/utf8.hpp"
#include "core.hpp"

namespace ctformer::metrics {

enum class bleu_smoothing { none, floor, add_k, exp };
/// tok_13a: sacreBLEU's default. none: text is already tokenized, split on whitespace only.
enum class bleu_tokenizer { tok_13a, none };

/// Options of sacreBLEU's BLEU: smoothing, maximum n-gram order, effective order, tokenizer.
struct bleu_options {
  bleu_smoothing smoothing = bleu_smoothing::exp;  ///< sacreBLEU's default
  std::optional<double> smooth_value;               ///< default 0.1 for floor, 1 for add-k
  std::size_t max_order = 4;                        ///< longest n-gram order
  /// Average only over orders the hypotheses reach (sacreBLEU's effective_order); on by default
  /// for sentence_bleu, off for corpus_bleu, as in sacreBLEU.
  bool effective_order = false;
  bleu_tokenizer tokenizer = bleu_tokenizer::tok_13a;  ///< how hypotheses and references are tokenized
};

/// Sufficient statistics: sums over sentences, so corpus BLEU streams.
struct bleu_stats {
  std::uint64_t hyp_len = 0;           ///< hypothesis tokens
  std::uint64_t ref_len = 0;           ///< reference tokens: per sentence, the closest reference length
  std::vector<std::uint64_t> correct;  ///< clipped n-gram matches per order 1..max_order
  std::vector<std::uint64_t> total;    ///< hypothesis n-grams per order 1..max_order

  /// Adds another's statistics, order by order.
  void add(const bleu_stats& o) {
    if (correct.size() < o.correct.size()) {
      correct.resize(o.correct.size(), 0);
      total.resize(o.total.size(), 0);
    }
    hyp_len += o.hyp_len;
    ref_len += o.ref_len;
    for (std::size_t i = 0; i < o.correct.size(); ++i) {
      correct[i] += o.correct[i];
      total[i] += o.total[i];
    }
  }
};

/// A BLEU score and its parts.
struct bleu_score {
  double score = 0;                ///< 0..100
  double bp = 0;                   ///< brevity penalty
  double ratio = 0;                ///< hyp_len / ref_len
  std::vector<double> precisions;  ///< per order, in percent, after smoothing
  bleu_stats stats;                ///< the statistics it was computed from
};

namespace detail {

/// Python's str.isspace() code points: what str.split() and str.rstrip() treat as whitespace.
inline bool py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

inline void require_utf8(std::string_view s, std::string_view what) {
  const std::size_t bad = utf8::first_invalid(s);
  if (bad != std::string_view::npos) fail("{}: invalid UTF-8 at byte {}", what, bad);
}

/// Tokens split on Python whitespace, joined by single spaces (views into `out` follow).
inline std::string py_split_join(std::string_view s) {
  std::string out;
  std::size_t pos = 0;
  bool in_token = false;
  while (pos < s.size()) {
    const std::size_t start = pos;
    char32_t cp;
    utf8::decode_next(s, pos, cp);
    if (py_space(cp)) {
      in_token = false;
    } else {
      if (!in_token && !out.empty()) out.push_back(' ');
      out.append(s.substr(start, pos - start));
      in_token = true;
    }
  }
  return out;
}

inline std::string_view py_rstrip(std::string_view s) {
  /// Find the end of the last non-space code point.
  std::size_t pos = 0, keep = 0;
  while (pos < s.size()) {
    char32_t cp;
    utf8::decode_next(s, pos, cp);
    if (!py_space(cp)) keep = pos;
  }
  return s.substr(0, keep);
}

/// Python's str.replace: non-overlapping, left to right.
inline std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  return out;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// The ASCII punctuation that 13a always splits off: { | } ~ [ \ ] ^ _ ` space ! " # $ % &
/// ( ) * + : ; < = > ? @ /  (not - ' . , which have their own rules or none).
inline bool split_always(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 0x7B && u <= 0x7E) || (u >= 0x5B && u <= 0x60) || (u >= 0x20 && u <= 0x26) || (u >= 0x28 && u <= 0x2B) ||
         (u >= 0x3A && u <= 0x40) || u == 0x2F;
}

}  // namespace detail

/// sacreBLEU's Tokenizer13a on one line. The regular expressions of its four passes look at one
/// character before or after ASCII punctuation only, so they run on UTF-8 bytes unchanged: a
/// multi-byte character is never '.', ',', '-' or a digit.
inline std::string tokenize_13a(std::string_view line) {
  detail::require_utf8(line, "tokenize_13a");
  std::string s(line);
  s = detail::replace_all(std::move(s), "<skipped>", "");
  s = detail::replace_all(std::move(s), "-\n", "");
  s = detail::replace_all(std::move(s), "\n", " ");
  s = detail::replace_all(std::move(s), "&quot;", "\"");
  s = detail::replace_all(std::move(s), "&amp;", "&");
  s = detail::replace_all(std::move(s), "&lt;", "<");
  s = detail::replace_all(std::move(s), "&gt;", ">");
  s = " " + s + " ";
  std::string a;  ///< pass 1: pad the always-split punctuation
  for (char c : s) {
    if (detail::split_always(c)) {
      a.push_back(' ');
      a.push_back(c);
      a.push_back(' ');
    } else {
      a.push_back(c);
    }
  }
  std::string b;  ///< pass 2: ([^0-9])([.,]) -> "\1 \2 "
  for (std::size_t i = 0; i < a.size();) {
    if (i + 1 < a.size() && !detail::is_digit(a[i]) && (a[i + 1] == '.' || a[i + 1] == ',')) {
      b.push_back(a[i]);
      b.push_back(' ');
      b.push_back(a[i + 1]);
      b.push_back(' ');
      i += 2;
    } else {
      b.push_back(a[i++]);
    }
  }
  std::string c;  ///< pass 3: ([.,])([^0-9]) -> " \1 \2"
  for (std::size_t i = 0; i < b.size();) {
    if (i + 1 < b.size() && (b[i] == '.' || b[i] == ',') && !detail::is_digit(b[i + 1])) {
      c.push_back(' ');
      c.push_back(b[i]);
      c.push_back(' ');
      c.push_back(b[i + 1]);
      i += 2;
    } else {
      c.push_back(b[i++]);
    }
  }
  std::string d;  ///< pass 4: ([0-9])(-) -> "\1 \2 "
  for (std::size_t i = 0; i < c.size();) {
    if (i + 1 < c.size() && detail::is_digit(c[i]) && c[i + 1] == '-') {
      d.push_back(c[i]);
      d.push_back(' ');
      d.push_back('-');
      d.push_back(' ');
      i += 2;
    } else {
      d.push_back(c[i++]);
    }
  }
  return detail::py_split_join(d);
}

namespace detail {

/// The tokens of a segment after sacreBLEU's preprocessing (rstrip, then the tokenizer).
inline std::string bleu_preprocess(std::string_view segment, bleu_tokenizer tok) {
  require_utf8(segment, "bleu");
  const std::string_view s = py_rstrip(segment);
  return tok == bleu_tokenizer::tok_13a ? tokenize_13a(s) : py_split_join(s);
}

inline std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find(' ', start);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// n-gram -> count for one order. Tokens are views into one space-joined string, so an n-gram
/// is the substring from its first token to its last: a unique key with no copy.
using ngram_counts = std::unordered_map<std::string_view, std::uint32_t>;

inline ngram_counts count_ngrams(const std::vector<std::string_view>& toks, std::size_t n) {
  ngram_counts m;
  for (std::size_t i = 0; i + n <= toks.size(); ++i) {
    const char* b = toks[i].data();
    const char* e = toks[i + n - 1].data() + toks[i + n - 1].size();
    ++m[std::string_view(b, std::size_t(e - b))];
  }
  return m;
}

inline double my_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

}  // namespace detail

/// Statistics of one hypothesis against its references.
inline bleu_stats bleu_sentence_stats(std::string_view hypothesis, std::span<const std::string> references,
                                      const bleu_options& o = {}) {
  if (references.empty()) fail("bleu: a hypothesis has no reference");
  if (o.max_order == 0) fail("bleu: max_order must be at least 1");
  const std::string hyp = detail::bleu_preprocess(hypothesis, o.tokenizer);
  const auto hyp_toks = detail::split_spaces(hyp);
  std::vector<std::string> refs;
  refs.reserve(references.size());
  for (const auto& r : references) refs.push_back(detail::bleu_preprocess(r, o.tokenizer));
  std::vector<std::vector<std::string_view>> ref_toks;
  for (const auto& r : refs) ref_toks.push_back(detail::split_spaces(r));

  bleu_stats st;
  st.hyp_len = hyp_toks.size();
  /// Closest reference length; a tie goes to the shorter reference.
  std::uint64_t best_len = 0, best_diff = UINT64_MAX;
  for (const auto& rt : ref_toks) {
    const std::uint64_t len = rt.size();
    const std::uint64_t diff = len > st.hyp_len ? len - st.hyp_len : st.hyp_len - len;
    if (diff < best_diff || (diff == best_diff && len < best_len)) {
      best_diff = diff;
      best_len = len;
    }
  }
  st.ref_len = best_len;
  st.correct.assign(o.max_order, 0);
  st.total.assign(o.max_order, 0);
  for (std::size_t n = 1; n <= o.max_order; ++n) {
    const auto hyp_counts = detail::count_ngrams(hyp_toks, n);
    detail::ngram_counts max_ref;
    for (const auto& rt : ref_toks)
      for (const auto& [g, c] : detail::count_ngrams(rt, n)) {
        auto& m = max_ref[g];
        m = std::max(m, c);
      }
    for (const auto& [g, c] : hyp_counts) {
      st.total[n - 1] += c;
      if (auto it = max_ref.find(g); it != max_ref.end()) st.correct[n - 1] += std::min(c, it->second);
    }
  }
  return st;
}

/// BLEU from (summed) statistics, as sacreBLEU's compute_bleu.
inline bleu_score compute_bleu(const bleu_stats& st, const bleu_options& o = {}) {
  const std::size_t order = o.max_order;
  if (st.correct.size() != order || st.total.size() != order)
    fail("compute_bleu: statistics hold {} orders, options ask for {}", st.correct.size(), order);
  double smooth = 0;
  if (o.smoothing == bleu_smoothing::floor) smooth = o.smooth_value.value_or(0.1);
  if (o.smoothing == bleu_smoothing::add_k) smooth = o.smooth_value.value_or(1.0);
  bleu_score r;
  r.stats = st;
  const double sys_len = double(st.hyp_len), ref_len = double(st.ref_len);
  r.ratio = st.ref_len ? sys_len / ref_len : 0.0;
  r.bp = sys_len < ref_len ? (sys_len > 0 ? std::exp(1 - ref_len / sys_len) : 0.0) : 1.0;
  r.precisions.assign(order, 0.0);
  if (std::all_of(st.correct.begin(), st.correct.end(), [](auto c) { return c == 0; })) return r;  // no match: 0

  double mteval = 1;  ///< 'exp': each order without a match halves the smoothed count again
  std::size_t eff_order = order;
  for (std::size_t n = 1; n <= order; ++n) {
    double correct = double(st.correct[n - 1]), total = double(st.total[n - 1]);
    if (o.smoothing == bleu_smoothing::add_k && n > 1) {
      correct += smooth;
      total += smooth;
    }
    if (total == 0) break;
    if (o.effective_order) eff_order = n;
    if (correct == 0) {
      if (o.smoothing == bleu_smoothing::exp) {
        mteval *= 2;
        r.precisions[n - 1] = 100.0 / (mteval * total);
      } else if (o.smoothing == bleu_smoothing::floor) {
        r.precisions[n - 1] = 100.0 * smooth / total;
      }
    } else {
      r.precisions[n - 1] = 100.0 * correct / total;
    }
  }
  double s = 0;
  for (std::size_t n = 0; n < eff_order; ++n) s += detail::my_log(r.precisions[n]);
  r.score = r.bp * std::exp(s / double(eff_order));
  return r;
}

/// Corpus BLEU: references[i] holds the references of hypotheses[i] (one or more).
inline bleu_score corpus_bleu(std::span<const std::string> hypotheses, std::span<const std::vector<std::string>> references,
                              const bleu_options& o = {}) {
  detail::require_same_size(hypotheses.size(), references.size(), "corpus_bleu");
  detail::require_nonempty(hypotheses.size(), "corpus_bleu");
  bleu_stats st;
  st.correct.assign(o.max_order, 0);
  st.total.assign(o.max_order, 0);
  for (std::size_t i = 0; i < hypotheses.size(); ++i) st.add(bleu_sentence_stats(hypotheses[i], references[i], o));
  return compute_bleu(st, o);
}

/// Corpus BLEU with exactly one reference per hypothesis.
inline bleu_score corpus_bleu(std::span<const std::string> hypotheses, std::span<const std::string> references,
                              const bleu_options& o = {}) {
  detail::require_same_size(hypotheses.size(), references.size(), "corpus_bleu");
  detail::require_nonempty(hypotheses.size(), "corpus_bleu");
  bleu_stats st;
  st.correct.assign(o.max_order, 0);
  st.total.assign(o.max_order, 0);
  for (std::size_t i = 0; i < hypotheses.size(); ++i)
    st.add(bleu_sentence_stats(hypotheses[i], std::span<const std::string>(&references[i], 1), o));
  return compute_bleu(st, o);
}

/// Sentence BLEU with the given options.
inline bleu_score sentence_bleu(std::string_view hypothesis, std::span<const std::string> references,
                                const bleu_options& o) {
  return compute_bleu(bleu_sentence_stats(hypothesis, references, o), o);
}

/// Sentence BLEU with sacrebleu.sentence_bleu's defaults: exp smoothing, effective order on.
inline bleu_score sentence_bleu(std::string_view hypothesis, std::span<const std::string> references) {
  bleu_options o;
  o.effective_order = true;
  return sentence_bleu(hypothesis, references, o);
}

/// Decoded text of one batch for the evaluation loop: one reference per hypothesis.
struct translation_output {
  std::span<const std::string> hypotheses;  ///< decoded outputs
  std::span<const std::string> references;  ///< one reference per hypothesis
};

/// Streams sentence statistics; memory O(max_order), no sentence kept. Reports "bleu".
class bleu_metrics {
 public:
  /// Empty accumulator with options `o`.
  explicit bleu_metrics(bleu_options o = {}) : o_(std::move(o)) { reset(); }
  /// Forgets every sentence.
  void reset() {
    st_ = {};
    st_.correct.assign(o_.max_order, 0);
    st_.total.assign(o_.max_order, 0);
    sentences_ = 0;
  }
  /// Adds one hypothesis scored against its references.
  void add(std::string_view hypothesis, std::span<const std::string> references) {
    st_.add(bleu_sentence_stats(hypothesis, references, o_));
    ++sentences_;
  }
  /// Adds each hypothesis of a batch with its one reference.
  void update(const translation_output& out) {
    detail::require_same_size(out.hypotheses.size(), out.references.size(), "bleu_metrics");
    for (std::size_t i = 0; i < out.hypotheses.size(); ++i) add(out.hypotheses[i], out.references.subspan(i, 1));
  }
  /// Corpus BLEU of the sentences so far; throws if there is none.
  bleu_score score() const {
    detail::require_nonempty(sentences_, "bleu_metrics");
    return compute_bleu(st_, o_);
  }
  /// "bleu": corpus BLEU, 0..100.
  metric_set result() const {
    metric_set m;
    m.set("bleu", score().score);
    return m;
  }

 private:
  bleu_options o_;
  bleu_stats st_;
  std::size_t sentences_ = 0;
};

}  // namespace ctformer::metrics
