// Pretrained word vectors (GloVe / word2vec text format: "word v1 ... vD" per line, optionally
// after a "count dim" header line) copied into the rows of a token embedding (V, C), e.g. a model's
// wte after initialize(), for the tokens of a vocabulary. Other rows keep the model's values or get
// an initializer's. The report counts found / missing / duplicate words and holds a per-row mask of
// loaded rows for freeze_rows() / restore_rows(), which keep them fixed during training.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <istream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../base/utf8.hpp"
#include "../error.hpp"
#include "number.hpp"
#include "tokenizers/tokenizer.hpp"

namespace ctformer {

/// Declared here so that this header does not pull in xtensor; callers with a tensor_view have
/// tensor/tensor.hpp already.
template <class T, std::size_t... D>
class tensor_view;

/// How load_word_vectors matches vocabulary tokens to file words and fills the rest.
struct word_vector_options {
  /// How a vocabulary token is looked up in the file: these prefixes are stripped first
  /// (SentencePiece's U+2581 word start, GPT-2's U+0120 "Ġ" space marker).
  std::vector<std::string> strip_prefixes{"\xE2\x96\x81", "\xC4\xA0"};
  /// When the token itself is absent, try its ASCII-lowercased form (GloVe vocabularies are
  /// lowercase); an exact match always wins.
  bool lowercase_fallback = true;
  /// Rows without a vector: left as they are when fill_missing is false (the usual flow: the
  /// model's initialize() ran first, so they already follow its scheme); otherwise filled by init
  /// (row, values), or when init is unset by normal(0, init_std) drawn from seed.
  bool fill_missing = true;
  /// init(row, values) fills a row without a vector; unset: normal(0, init_std) from seed.
  std::function<void(std::size_t, std::span<float>)> init;
  float init_std = 0.02f;  ///< standard deviation of the default fill
  std::uint64_t seed = 0;  ///< seed of the default fill
};

/// What load_word_vectors did.
struct word_vector_report {
  std::size_t dim = 0;              ///< components per vector in the file
  std::size_t file_vectors = 0;     ///< vector lines read
  std::size_t found = 0;            ///< vocabulary rows filled from the file
  std::size_t missing = 0;          ///< rows filled by the initializer
  std::size_t duplicates = 0;       ///< vector lines whose word appeared before (the first is kept)
  std::vector<std::string> duplicate_words;  ///< the first few of them, for messages
  std::vector<std::uint8_t> loaded;          ///< per row: 1 when it holds a pretrained vector

  /// Share of vocabulary rows that hold a pretrained vector.
  double coverage() const noexcept { return loaded.empty() ? 0.0 : double(found) / double(loaded.size()); }
  /// Indices of the rows that hold a pretrained vector.
  std::vector<std::size_t> loaded_rows() const {
    std::vector<std::size_t> r;
    for (std::size_t i = 0; i < loaded.size(); ++i)
      if (loaded[i]) r.push_back(i);
    return r;
  }
};

namespace detail {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> f;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) f.push_back(line.substr(start, i - start));
  }
  return f;
}

inline bool parse_size(std::string_view s, std::size_t& v) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace detail

/// The core: reads vectors from `in` for the tokens of `vocab` into the row-major (rows, cols)
/// matrix at `matrix`. `where` names the source in errors (file name; lines are 1-based).
inline word_vector_report load_word_vectors(std::istream& in, std::span<const std::string> vocab, float* matrix,
                                            std::size_t rows, std::size_t cols, const word_vector_options& opt = {},
                                            std::string_view where = "<stream>") {
  if (vocab.size() != rows)
    fail("word vectors: the vocabulary has {} tokens but the embedding has {} rows", vocab.size(), rows);
  if (cols == 0) fail("word vectors: the embedding has no columns");
  word_vector_report rep;
  rep.loaded.assign(rows, 0);
  /// The words to look for: token -> rows (several tokens may share a word, e.g. "▁the", "the").
  std::unordered_map<std::string, std::vector<std::size_t>> exact, lower;
  for (std::size_t r = 0; r < rows; ++r) {
    std::string_view w = vocab[r];
    for (const auto& p : opt.strip_prefixes)
      if (!p.empty() && w.size() > p.size() && w.substr(0, p.size()) == p) {
        w.remove_prefix(p.size());
        break;
      }
    exact[std::string(w)].push_back(r);
    if (opt.lowercase_fallback) lower[detail::ascii_lower(w)].push_back(r);
  }
  std::vector<std::uint8_t> exact_hit(rows, 0);
  std::unordered_set<std::string> seen;
  std::size_t header_count = 0, line_no = 0;
  bool header = false;
  std::string line;
  std::vector<float> values;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (const std::size_t bad = utf8::first_invalid(line); bad != std::string_view::npos)
      utf8::throw_invalid(line, bad, fmt::format("word vectors '{}' line {}", where, line_no));
    auto f = detail::split_fields(line);
    if (f.empty()) continue;
    if (line_no == 1 && f.size() == 2) {
      std::size_t n, d;
      if (detail::parse_size(f[0], n) && detail::parse_size(f[1], d)) {
        if (d == 0) fail("word vectors '{}': line 1: the header gives dimension 0", where);
        header = true;
        header_count = n;
        rep.dim = d;
        continue;
      }
    }
    if (rep.dim == 0) rep.dim = f.size() - 1;
    if (rep.dim == 0) fail("word vectors '{}': line {}: a word without values", where, line_no);
    if (rep.dim != cols)
      fail("word vectors '{}': the vectors have {} components but the embedding has {} columns (dimension mismatch)",
           where, rep.dim, cols);
    if (f.size() < rep.dim + 1)
      fail("word vectors '{}': line {}: '{}' has {} values, expected {} (dimension mismatch)", where, line_no, f[0],
           f.size() - 1, rep.dim);
    /// The last dim fields are the numbers; anything before them is the word (words may contain
    /// spaces). A number just before them means the line has too many values instead.
    const std::size_t nw = f.size() - rep.dim;
    if (nw > 1) {
      float x;
      const std::string_view t = f[nw - 1];
      if (detail::parse_real(t, x))
        fail("word vectors '{}': line {}: '{}' has {} values, expected {} (dimension mismatch)", where, line_no, f[0],
             f.size() - 1, rep.dim);
    }
    const std::string word = nw == 1 ? std::string(f[0])
                                     : std::string(f[0].data(), std::size_t(f[nw - 1].data() + f[nw - 1].size() - f[0].data()));
    values.resize(rep.dim);
    for (std::size_t k = 0; k < rep.dim; ++k) {
      const std::string_view t = f[nw + k];
      if (!detail::parse_real(t, values[k]))
        fail("word vectors '{}': line {}: value {} of '{}' is not a number: '{}'", where, line_no, k + 1, word, t);
    }
    ++rep.file_vectors;
    if (!seen.insert(word).second) {
      ++rep.duplicates;
      if (rep.duplicate_words.size() < 10) rep.duplicate_words.push_back(word);
      continue;
    }
    const auto put = [&](const std::vector<std::size_t>& targets, bool is_exact) {
      for (std::size_t r : targets) {
        if (exact_hit[r] || (!is_exact && rep.loaded[r])) continue;
        std::copy(values.begin(), values.end(), matrix + r * cols);
        rep.loaded[r] = 1;
        exact_hit[r] = is_exact;
      }
    };
    if (const auto it = exact.find(word); it != exact.end()) put(it->second, true);
    if (opt.lowercase_fallback)
      if (const auto it = lower.find(word); it != lower.end()) put(it->second, false);
  }
  if (in.bad()) fail("word vectors '{}': read error after line {}", where, line_no);
  if (rep.file_vectors == 0) fail("word vectors '{}': no vectors in the file", where);
  if (header && header_count != rep.file_vectors)
    fail("word vectors '{}': the header promises {} vectors but the file has {} (truncated?)", where, header_count,
         rep.file_vectors);
  std::mt19937_64 rng(opt.seed);
  std::normal_distribution<float> normal(0.f, opt.init_std);
  for (std::size_t r = 0; r < rows; ++r) {
    if (rep.loaded[r]) {
      ++rep.found;
      continue;
    }
    ++rep.missing;
    if (!opt.fill_missing) continue;
    const std::span<float> row(matrix + r * cols, cols);
    if (opt.init) opt.init(r, row);
    else for (float& x : row) x = normal(rng);
  }
  return rep;
}

inline word_vector_report load_word_vectors(const std::filesystem::path& file, std::span<const std::string> vocab,
                                            float* matrix, std::size_t rows, std::size_t cols,
                                            const word_vector_options& opt = {}) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("word vectors: cannot open '{}'", file.string());
  return load_word_vectors(in, vocab, matrix, rows, cols, opt, file.string());
}

/// The vocabulary of a tokenizer, id by id.
inline std::vector<std::string> vocabulary_of(const tokenizer& tok) {
  std::vector<std::string> v(tok.vocab_size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = tok.id_to_token(std::int32_t(i));
  return v;
}

inline word_vector_report load_word_vectors(const std::filesystem::path& file, const tokenizer& tok, float* matrix,
                                            std::size_t rows, std::size_t cols, const word_vector_options& opt = {}) {
  const auto vocab = vocabulary_of(tok);
  return load_word_vectors(file, vocab, matrix, rows, cols, opt);
}

/// A model's token embedding as a (V, C) view, e.g. view_of(params.wte).
template <std::size_t V, std::size_t C>
word_vector_report load_word_vectors(const std::filesystem::path& file, const tokenizer& tok,
                                     tensor_view<float, V, C> embedding, const word_vector_options& opt = {}) {
  return load_word_vectors(file, tok, embedding.data(), V, C, opt);
}
template <std::size_t V, std::size_t C>
word_vector_report load_word_vectors(const std::filesystem::path& file, std::span<const std::string> vocab,
                                     tensor_view<float, V, C> embedding, const word_vector_options& opt = {}) {
  return load_word_vectors(file, vocab, embedding.data(), V, C, opt);
}

/// Freezing the loaded rows. After backward and before the optimizer step, zero their gradient:
/// plain SGD and Adam then leave them unchanged. Optimizers with decoupled weight decay (AdamW) still
/// shrink them, so either keep the embedding out of decay or put the rows back after each step
/// with restore_rows() from a snapshot_rows() copy taken once after loading.
inline void freeze_rows(float* grad, std::size_t cols, const std::vector<std::uint8_t>& loaded) {
  for (std::size_t r = 0; r < loaded.size(); ++r)
    if (loaded[r]) std::fill_n(grad + r * cols, cols, 0.f);
}
inline std::vector<float> snapshot_rows(const float* matrix, std::size_t cols, const std::vector<std::uint8_t>& loaded) {
  std::vector<float> saved;
  for (std::size_t r = 0; r < loaded.size(); ++r)
    if (loaded[r]) saved.insert(saved.end(), matrix + r * cols, matrix + (r + 1) * cols);
  return saved;
}
inline void restore_rows(float* matrix, std::size_t cols, const std::vector<std::uint8_t>& loaded,
                         const std::vector<float>& saved) {
  std::size_t k = 0;
  for (std::size_t r = 0; r < loaded.size(); ++r)
    if (loaded[r]) {
      if (k + cols > saved.size()) fail("restore_rows: the snapshot holds fewer rows than the mask marks");
      std::copy_n(saved.data() + k, cols, matrix + r * cols);
      k += cols;
    }
}

}  // namespace ctformer
