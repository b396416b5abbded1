// Datasets and batch filling: a language-model stream (contiguous chunks, targets = the next
// token), classification (text and label from TSV), regression (text and value) and sentence
// pairs for seq2seq (decoder input = bos + target, decoder target = target + eos). Loaders name
// the file and line of every malformed row. Padding rows (a padded last batch) get attention 0,
// label ignore_index and row weight 0, so they never count in a loss.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "batch.hpp"
#include "encode.hpp"
#include "number.hpp"
#include "sampling.hpp"
#include "text_file.hpp"
#include "tokenizers/tokenizer.hpp"
#include "../base/utf8.hpp"

namespace ctformer {

// ---- language-model stream ------------------------------------------------------------------

/// Chunk i holds tokens[i*S .. i*S+S) as inputs and tokens[i*S+1 .. i*S+S] as targets, so
/// every token but the first is predicted exactly once.
class lm_stream {
 public:
  /// The stream of tokens (at least 2).
  explicit lm_stream(std::vector<std::int32_t> tokens) : tokens_(std::move(tokens)) {
    if (tokens_.size() < 2) fail("language-model stream: need at least 2 tokens, got {}", tokens_.size());
  }
  /// The tokens.
  const std::vector<std::int32_t>& tokens() const { return tokens_; }
  /// Number of whole chunks of seq inputs (and their shifted targets).
  std::size_t chunk_count(std::size_t seq) const { return (tokens_.size() - 1) / seq; }

  /// Fills row r with chunk rows.index[r] (r < rows.count); other rows are padding.
  template <std::size_t B, std::size_t S>
  void fill(token_batch<B, S>& batch, const batch_rows<B>& rows) const {
    for (std::size_t r = 0; r < B; ++r) {
      const bool real = r < rows.count;
      const std::size_t at = real ? rows.index[r] * S : 0;
      if (real && at + S >= tokens_.size())
        fail("language-model stream: chunk {} is past the end ({} chunks of {})", rows.index[r], chunk_count(S), S);
      for (std::size_t j = 0; j < S; ++j) {
        batch.ids(r, j) = real ? tokens_[at + j] : 0;
        batch.targets(r, j) = real ? tokens_[at + j + 1] : ignore_index;
        batch.attention_mask(r, j) = real ? 1 : 0;
        batch.token_type(r, j) = 0;
      }
    }
  }

 private:
  std::vector<std::int32_t> tokens_;
};

// ---- TSV loaders ----------------------------------------------------------------------------

/// How the TSV loaders (load_classification_tsv, load_regression_tsv) read their lines.
struct tsv_options {
  /// Which column holds the label.
  enum class label_at { first, last };
  label_at label_column = label_at::last;  ///< sentiment: "text<TAB>0/1"; sms-spam: "ham<TAB>text"
  /// Class names in index order. Empty: labels are non-negative integers, or, if any label is
  /// not an integer, names indexed in sorted order.
  std::vector<std::string> label_names{};
  bool names_from_data = true;  ///< false: empty label_names means integer labels only
  bool header = false;          ///< skip the first line
  /// Invalid UTF-8: reject (with its byte offset) or repair with U+FFFD.
  utf8::on_invalid on_invalid = utf8::on_invalid::reject;
};

/// Texts with class labels, aligned by index.
struct classification_set {
  std::vector<std::string> texts;  ///< the texts
  std::vector<std::int32_t> labels;  ///< class index of each text
  std::vector<std::string> label_names;  ///< empty for integer labels
  /// Number of classes: label_names' size, or the largest label + 1 if larger.
  std::size_t class_count() const {
    std::int32_t m = -1;
    for (auto l : labels) m = std::max(m, l);
    return std::max<std::size_t>(label_names.size(), std::size_t(m + 1));
  }
};

/// Texts with real-valued targets, aligned by index.
struct regression_set {
  std::vector<std::string> texts;  ///< the texts
  std::vector<float> values;  ///< target value of each text
};

/// Sentence pairs (translation), aligned by index.
struct pair_set {
  /// Source sentences.
  std::vector<std::string> sources, targets;  ///< their translations
};

namespace detail {

struct tsv_row {
  std::size_t line;
  std::string text;
  std::string_view label;
};

/// Splits each line into text and label at the first or last tab, checking UTF-8.
inline std::vector<tsv_row> split_tsv(std::string_view content, std::string_view name, const tsv_options& o,
                                      const char* what) {
  std::vector<tsv_row> rows;
  for_each_line(content, [&](std::size_t n, std::string_view line) {
    if (o.header && n == 1) return;
    if (line.empty()) return;  // blank lines carry no example
    const std::size_t tab = o.label_column == tsv_options::label_at::last ? line.rfind('\t') : line.find('\t');
    if (tab == std::string_view::npos)
      fail("{} line {}: missing {} column (expected a tab-separated {})", name, n, what,
           o.label_column == tsv_options::label_at::last ? "text<TAB>label" : "label<TAB>text");
    std::string_view text = o.label_column == tsv_options::label_at::last ? line.substr(0, tab) : line.substr(tab + 1);
    std::string_view label = o.label_column == tsv_options::label_at::last ? line.substr(tab + 1) : line.substr(0, tab);
    while (!label.empty() && (label.back() == ' ' || label.back() == '\t')) label.remove_suffix(1);
    while (!label.empty() && label.front() == ' ') label.remove_prefix(1);
    if (label.empty()) fail("{} line {}: empty {} column", name, n, what);
    const std::string where = fmt::format("{} line {}", name, n);
    rows.push_back({n, utf8::sanitize(text, o.on_invalid, where), label});
    if (!utf8::valid(label)) utf8::sanitize(label, utf8::on_invalid::reject, where);
  });
  if (rows.empty()) fail("{}: no examples", name);
  return rows;
}

inline bool parse_int(std::string_view s, long long& v) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace detail

inline classification_set parse_classification_tsv(std::string_view content, std::string_view name = "input",
                                                   const tsv_options& o = {}) {
  if (content.empty()) fail("'{}' is an empty file", name);
  auto rows = detail::split_tsv(content, name, o, "label");
  classification_set set;
  set.label_names = o.label_names;
  bool all_int = true;
  for (const auto& r : rows) {
    long long v;
    if (!detail::parse_int(r.label, v)) all_int = false;
  }
  if (set.label_names.empty() && !all_int) {
    if (!o.names_from_data) {
      for (const auto& r : rows) {
        long long v;
        if (!detail::parse_int(r.label, v))
          fail("{} line {}: malformed label \"{}\" (expected an integer class index)", name, r.line, r.label);
      }
    }
    std::vector<std::string> names;
    for (const auto& r : rows) names.emplace_back(r.label);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    set.label_names = std::move(names);
  }
  for (auto& r : rows) {
    std::int32_t label;
    if (set.label_names.empty()) {
      long long v;
      if (!detail::parse_int(r.label, v) || v < 0 || v > 1'000'000)
        fail("{} line {}: malformed label \"{}\" (expected an integer class index)", name, r.line, r.label);
      label = std::int32_t(v);
    } else {
      const auto it = std::find(set.label_names.begin(), set.label_names.end(), r.label);
      if (it == set.label_names.end())
        fail("{} line {}: unknown label \"{}\" (known: {})", name, r.line, r.label, fmt::join(set.label_names, ", "));
      label = std::int32_t(it - set.label_names.begin());
    }
    set.texts.push_back(std::move(r.text));
    set.labels.push_back(label);
  }
  return set;
}

inline classification_set load_classification_tsv(const std::string& path, const tsv_options& o = {}) {
  return parse_classification_tsv(read_text_file(path), path, o);
}

inline regression_set parse_regression_tsv(std::string_view content, std::string_view name = "input",
                                           const tsv_options& o = {}) {
  if (content.empty()) fail("'{}' is an empty file", name);
  auto rows = detail::split_tsv(content, name, o, "value");
  regression_set set;
  for (auto& r : rows) {
    double v = 0;
    if (!detail::parse_real(std::string_view(r.label), v) || !std::isfinite(v))
      fail("{} line {}: malformed value \"{}\" (expected a finite number)", name, r.line, r.label);
    set.texts.push_back(std::move(r.text));
    set.values.push_back(float(v));
  }
  return set;
}

inline regression_set load_regression_tsv(const std::string& path, const tsv_options& o = {}) {
  return parse_regression_tsv(read_text_file(path), path, o);
}

/// "source<TAB>target[<TAB>anything]" per line (the Tatoeba files' third column is attribution).
inline pair_set parse_pairs_tsv(std::string_view content, std::string_view name = "input",
                                utf8::on_invalid mode = utf8::on_invalid::reject) {
  if (content.empty()) fail("'{}' is an empty file", name);
  pair_set set;
  for_each_line(content, [&](std::size_t n, std::string_view line) {
    if (line.empty()) return;
    const std::size_t t1 = line.find('\t');
    if (t1 == std::string_view::npos) fail("{} line {}: missing target column (expected source<TAB>target)", name, n);
    std::size_t t2 = line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) t2 = line.size();
    const std::string where = fmt::format("{} line {}", name, n);
    set.sources.push_back(utf8::sanitize(line.substr(0, t1), mode, where));
    set.targets.push_back(utf8::sanitize(line.substr(t1 + 1, t2 - t1 - 1), mode, where));
  });
  if (set.sources.empty()) fail("{}: no examples", name);
  return set;
}

inline pair_set load_pairs_tsv(const std::string& path, utf8::on_invalid mode = utf8::on_invalid::reject) {
  return parse_pairs_tsv(read_text_file(path), path, mode);
}

// ---- encoding and batch filling ---------------------------------------------------------------

template <std::size_t S>
std::vector<fixed_encoding<S>> encode_texts(const tokenizer& tok, std::span<const std::string> texts,
                                            const encode_options& o = {}) {
  std::vector<fixed_encoding<S>> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(encode_fixed<S>(tok, t, o));
  return out;
}

template <std::size_t B, std::size_t S>
void fill_batch(classification_batch<B, S>& batch, std::span<const fixed_encoding<S>> rows_data,
                std::span<const std::int32_t> labels, const batch_rows<B>& rows) {
  static const fixed_encoding<S> empty{};
  for (std::size_t r = 0; r < B; ++r) {
    const bool real = r < rows.count;
    write_row(batch.ids, batch.attention_mask, batch.token_type, r, real ? rows_data[rows.index[r]] : empty);
    batch.labels(r) = real ? labels[rows.index[r]] : ignore_index;
  }
}

template <std::size_t B, std::size_t S>
void fill_batch(regression_batch<B, S>& batch, std::span<const fixed_encoding<S>> rows_data,
                std::span<const float> values, const batch_rows<B>& rows) {
  static const fixed_encoding<S> empty{};
  for (std::size_t r = 0; r < B; ++r) {
    const bool real = r < rows.count;
    write_row(batch.ids, batch.attention_mask, batch.token_type, r, real ? rows_data[rows.index[r]] : empty);
    batch.values(r) = real ? values[rows.index[r]] : 0.f;
    batch.row_weight(r) = real ? 1.f : 0.f;
  }
}

/// Token ids of a sentence pair, before fitting to a batch's shape.
struct seq2seq_example {
  /// Source token ids.
  std::vector<std::int32_t> source, target;  ///< target token ids
};

inline std::vector<seq2seq_example> encode_pairs(const tokenizer& src_tok, const tokenizer& tgt_tok, const pair_set& set) {
  std::vector<seq2seq_example> out(set.sources.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].source = src_tok.encode(set.sources[i]);
    out[i].target = tgt_tok.encode(set.targets[i]);
  }
  return out;
}

/// Special token ids of a seq2seq model's vocabularies.
struct seq2seq_specials {
  std::int32_t bos;  ///< id that starts every decoder input
  std::int32_t eos;  ///< id that ends sequences
  std::int32_t pad;  ///< padding id
  bool source_eos = true;  ///< append eos to the source too
};

/// src_ids = source (+ eos), truncated to Src; tgt_in = bos + target; tgt_out = target + eos;
/// the target is truncated so both fit Tgt; tgt_out is ignore_index on padding.
template <std::size_t B, std::size_t Src, std::size_t Tgt>
void fill_batch(seq2seq_batch<B, Src, Tgt>& batch, std::span<const seq2seq_example> data, const batch_rows<B>& rows,
                const seq2seq_specials& sp) {
  static_assert(Tgt >= 1, "ctformer: the target length must hold at least bos/eos");
  for (std::size_t r = 0; r < B; ++r) {
    const bool real = r < rows.count;
    const seq2seq_example* ex = real ? &data[rows.index[r]] : nullptr;
    std::size_t ls = 0, lt = 0;
    if (ex) {
      ls = std::min(ex->source.size(), Src - (sp.source_eos ? 1 : 0));
      lt = std::min(ex->target.size(), Tgt - 1);
    }
    const std::size_t src_len = ex ? ls + (sp.source_eos ? 1 : 0) : 0;
    for (std::size_t j = 0; j < Src; ++j) {
      batch.src_ids(r, j) = j < ls ? ex->source[j] : (j < src_len ? sp.eos : sp.pad);
      batch.src_mask(r, j) = j < src_len ? 1 : 0;
    }
    const std::size_t tgt_len = ex ? lt + 1 : 0;
    for (std::size_t j = 0; j < Tgt; ++j) {
      batch.tgt_in(r, j) = j >= tgt_len ? sp.pad : (j == 0 ? sp.bos : ex->target[j - 1]);
      batch.tgt_out(r, j) = j >= tgt_len ? ignore_index : (j < lt ? ex->target[j] : sp.eos);
      batch.tgt_mask(r, j) = j < tgt_len ? 1 : 0;
    }
  }
}

}  // namespace ctformer
