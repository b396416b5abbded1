// WordPiece as BERT (uncased) does it: a basic tokenizer (drop NUL, U+FFFD and C* controls; split
// on whitespace; isolate CJK ideographs; lowercase; NFD and drop Mn marks; split off every
// punctuation character), then greedy longest-match-first pieces with "##" continuations, and
// [UNK] for a word with no full segmentation or more than 100 characters. Training learns
// frequency-ranked merges of "c"/"##c" symbols, as Hugging Face's WordPiece trainer does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../error.hpp"
#include "../text_file.hpp"
#include "../unicode/unicode.hpp"
#include "../../base/utf8.hpp"
#include "hash.hpp"
#include "input_check.hpp"
#include "merge_trainer.hpp"
#include "special_names.hpp"
#include "tokenizer.hpp"

namespace ctformer {

/// How BERT's basic tokenizer normalizes text, and WordPiece's unknown and continuation markers.
struct wordpiece_options {
  bool lowercase = true;        ///< BERT uncased
  bool strip_accents = true;    ///< NFD, then drop Mn (BERT ties this to lowercase)
  bool split_cjk = true;        ///< put spaces around CJK ideographs
  std::size_t max_chars_per_word = 100;  ///< a longer word becomes unk
  std::string unk = "[UNK]";  ///< the unknown token (must be in the vocabulary)
  std::string continuation = "##";  ///< prefix of a piece that continues a word
  utf8::on_invalid on_invalid = utf8::on_invalid::reject;  ///< invalid UTF-8: reject, or repair with U+FFFD
};

/// Settings of wordpiece_tokenizer::train.
struct wordpiece_train_options {
  std::size_t vocab_size = 1000;  ///< specials + alphabet (both "c" and "##c") + merged pieces
  std::int64_t min_frequency = 2;  ///< a pair seen fewer times is never merged
  /// Special tokens; they get the first ids, in order.
  std::vector<std::string> specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  wordpiece_options normalization{};  ///< how the corpus is split into words
};

namespace bert {
/// BERT's _is_chinese_char: the CJK Unified Ideographs blocks and extensions A-E, plus the
/// compatibility ideographs (not Hangul, Hiragana or Katakana).
inline bool is_cjk(char32_t cp) noexcept {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}
/// Every non-alphanumeric printable ASCII character counts, as do Unicode P* categories.
inline bool is_punct(char32_t cp) noexcept {
  if (cp < 0x80) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
  return unicode::is_punctuation(cp);
}
}  // namespace bert

/// BERT's WordPiece: basic tokenization, then greedy longest-match pieces per word.
class wordpiece_tokenizer : public tokenizer {
 public:
  /// One token per line, id = line number - 1. Duplicates and empty lines are errors.
  static wordpiece_tokenizer from_file(const std::string& vocab_txt, wordpiece_options options = {}) {
    return from_string(read_text_file(vocab_txt), vocab_txt, std::move(options));
  }
  /// One token per line, id = line number - 1; name is used in error messages.
  static wordpiece_tokenizer from_string(std::string_view vocab_txt, std::string_view name = "vocab.txt",
                                         wordpiece_options options = {}) {
    if (vocab_txt.empty()) fail("'{}' is an empty file", name);
    std::vector<std::string> tokens;
    for_each_line(vocab_txt, [&](std::size_t n, std::string_view line) {
      if (line.empty()) fail("{} line {}: empty token", name, n);
      if (const std::size_t bad = utf8::first_invalid(line); bad != std::string_view::npos)
        utf8::throw_invalid(line, bad, fmt::format("{} line {}", name, n));
      tokens.emplace_back(line);
    });
    return from_tokens(std::move(tokens), name, std::move(options));
  }
  /// A vocabulary of tokens in id order; name is used in error messages.
  static wordpiece_tokenizer from_tokens(std::vector<std::string> tokens, std::string_view name = "vocabulary",
                                         wordpiece_options options = {});

  /// Learns a vocabulary from a corpus (words from the basic tokenizer with `normalization`).
  static wordpiece_tokenizer train(std::string_view corpus, const wordpiece_train_options& options = {});

  /// The vocabulary as vocab.txt: one token per line.
  std::string vocab_text() const {
    std::string out;
    for (const auto& t : tokens_) (out += t) += '\n';
    return out;
  }
  /// Writes vocab_text() to path.
  void save(const std::string& path) const {
    std::ofstream f(path, std::ios::binary);
    if (!f) fail("cannot open '{}' for writing", path);
    f << vocab_text();
    if (!f) fail("error while writing '{}'", path);
  }

  /// The basic tokenizer's words (before WordPiece), and the pieces as strings.
  std::vector<std::string> basic_tokenize(std::string_view text) const {
    std::vector<std::string> words;
    for_each_word(text, [&](std::string_view w, std::size_t) { words.emplace_back(w); });
    return words;
  }
  /// The pieces of text as strings.
  std::vector<std::string> tokenize(std::string_view text) const {
    std::vector<std::string> out;
    for (std::int32_t id : encode(text)) out.push_back(tokens_[std::size_t(id)]);
    return out;
  }

  std::vector<std::int32_t> encode(std::string_view text) const override {
    std::vector<std::int32_t> out;
    out.reserve(text.size() / 4 + 4);
    for_each_word(text, [&](std::string_view w, std::size_t chars) { word_pieces(w, chars, out); });
    return out;
  }
  /// Pieces joined with spaces, "##" continuations glued to the piece before (as BERT decodes).
  std::string decode(std::span<const std::int32_t> ids, bool keep_specials = false) const override {
    std::string out;
    const std::string_view pre = options_.continuation;
    for (std::int32_t id : ids) {
      if (id < 0 || std::size_t(id) >= tokens_.size()) fail("WordPiece decode: id {} is outside 0..{}", id, tokens_.size() - 1);
      if (!keep_specials && special_[std::size_t(id)]) continue;
      const std::string& t = tokens_[std::size_t(id)];
      if (!out.empty() && t.size() > pre.size() && t.compare(0, pre.size(), pre) == 0) {
        out.append(t, pre.size());
      } else {
        if (!out.empty()) out.push_back(' ');
        out += t;
      }
    }
    return out;
  }
  /// Number of tokens.
  std::size_t vocab_size() const override { return tokens_.size(); }
  /// Ids of the special tokens (-1 for absent kinds).
  const special_tokens& specials() const override { return specials_; }
  std::string id_to_token(std::int32_t id) const override {
    if (id < 0 || std::size_t(id) >= tokens_.size()) fail("WordPiece: id {} is outside 0..{}", id, tokens_.size() - 1);
    return tokens_[std::size_t(id)];
  }
  /// The id of a token, or nothing.
  std::optional<std::int32_t> token_to_id(std::string_view token) const override {
    if (const std::int32_t* id = ids_.find(token)) return *id;
    return std::nullopt;
  }
  /// The normalization and markers in use.
  const wordpiece_options& options() const { return options_; }

  /// Calls f(word_utf8, char_count) for each word of the basic tokenizer.
  template <class F>
  void for_each_word(std::string_view text, F&& f) const;

 private:
  void word_pieces(std::string_view word, std::size_t chars, std::vector<std::int32_t>& out) const;

  std::vector<std::string> tokens_;
  detail::string_map ids_;           ///< every token, verbatim
  detail::string_map continuation_;  ///< "##x" tokens, keyed by x
  std::size_t max_token_bytes_ = 0;
  std::vector<bool> special_;
  special_tokens specials_;
  std::int32_t unk_id_ = -1;
  wordpiece_options options_;
};

inline wordpiece_tokenizer wordpiece_tokenizer::from_tokens(std::vector<std::string> tokens, std::string_view name,
                                                            wordpiece_options options) {
  if (tokens.empty()) fail("{}: the vocabulary is empty", name);
  wordpiece_tokenizer t;
  t.options_ = std::move(options);
  t.tokens_ = std::move(tokens);
  t.ids_.reserve(t.tokens_.size());
  t.special_.assign(t.tokens_.size(), false);
  const std::string_view pre = t.options_.continuation;
  for (std::size_t i = 0; i < t.tokens_.size(); ++i) {
    const std::string& tok = t.tokens_[i];
    if (!t.ids_.insert(tok, std::int32_t(i)))
      fail("{}: duplicate token \"{}\" on lines {} and {}", name, tok, *t.ids_.find(tok) + 1, i + 1);
    if (tok.size() > pre.size() && tok.compare(0, pre.size(), pre) == 0)
      t.continuation_.insert(std::string_view(tok).substr(pre.size()), std::int32_t(i));
    t.max_token_bytes_ = std::max(t.max_token_bytes_, tok.size());  // bounds every lookup
    if (tok.size() > 2 && ((tok.front() == '[' && tok.back() == ']') || (tok.front() == '<' && tok.back() == '>')))
      t.special_[i] = assign_special(t.specials_, tok, std::int32_t(i));
  }
  const std::int32_t* unk = t.ids_.find(t.options_.unk);
  if (!unk) fail("{}: the vocabulary has no unknown token \"{}\"", name, t.options_.unk);
  t.unk_id_ = *unk;
  t.specials_.unk = *unk;
  t.special_[std::size_t(*unk)] = true;
  return t;
}

template <class F>
void wordpiece_tokenizer::for_each_word(std::string_view text, F&& f) const {
  std::string repaired;
  const std::string_view s = detail::checked_utf8(text, options_.on_invalid, repaired, "WordPiece input");
  const bool lower = options_.lowercase, strip = options_.strip_accents;
  std::string ascii;       ///< the current word while it is plain ASCII (already final)
  std::u32string wide;     ///< the current word once it holds a non-ASCII character
  bool is_wide = false;
  std::string piece;
  auto emit_wide = [&] {
    // NFD ordering over the whole word, drop Mn, then split off punctuation.
    if (strip) {
      unicode::canonical_order(wide);
      wide.erase(std::remove_if(wide.begin(), wide.end(), [](char32_t c) { return unicode::is_nonspacing_mark(c); }),
                 wide.end());
    }
    piece.clear();
    std::size_t chars = 0;
    for (char32_t c : wide) {
      if (bert::is_punct(c)) {
        if (chars) f(std::string_view(piece), chars);
        piece.clear();
        utf8::append(piece, c);
        f(std::string_view(piece), std::size_t{1});
        piece.clear();
        chars = 0;
      } else {
        utf8::append(piece, c);
        ++chars;
      }
    }
    if (chars) f(std::string_view(piece), chars);
  };
  auto flush = [&] {
    if (is_wide) {
      emit_wide();
      wide.clear();
      is_wide = false;
    } else if (!ascii.empty()) {
      f(std::string_view(ascii), ascii.size());
    }
    ascii.clear();
  };
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
        flush();
      } else if (b < 0x20 || b == 0x7F) {
        // NUL and the other C0 controls are dropped (not word breaks)
      } else if (bert::is_punct(b)) {
        flush();
        const char c = char(b);
        f(std::string_view(&c, 1), std::size_t{1});
      } else {
        const char c = (lower && b >= 'A' && b <= 'Z') ? char(b + 32) : char(b);
        if (is_wide) wide.push_back(char32_t(static_cast<unsigned char>(c)));
        else ascii.push_back(c);
      }
      continue;
    }
    char32_t cp;
    i += detail::decode_valid(s, i, cp);
    if (cp == utf8::replacement_char || unicode::is_other(cp)) continue;
    if (unicode::is_white_space(cp)) {
      flush();
      continue;
    }
    if (!is_wide) {
      wide.assign(ascii.begin(), ascii.end());
      ascii.clear();
      is_wide = true;
    }
    const bool cjk = options_.split_cjk && bert::is_cjk(cp);
    if (cjk) flush(), is_wide = true;
    std::u32string lowered;
    if (lower) unicode::append_lower(lowered, cp);
    else lowered.push_back(cp);
    for (char32_t c : lowered) {
      if (strip) unicode::append_nfd(wide, c);
      else wide.push_back(c);
    }
    if (cjk) flush();
  }
  flush();
}

inline void wordpiece_tokenizer::word_pieces(std::string_view word, std::size_t chars,
                                             std::vector<std::int32_t>& out) const {
  if (chars > options_.max_chars_per_word) {
    out.push_back(unk_id_);
    return;
  }
  const std::size_t before = out.size();
  for (std::size_t start = 0; start < word.size();) {
    std::size_t end = std::min(word.size(), start + max_token_bytes_);
    while (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;  // char boundary
    const std::int32_t* id = nullptr;
    while (end > start) {
      const std::string_view sub = word.substr(start, end - start);
      id = start == 0 ? ids_.find(sub) : continuation_.find(sub);
      if (id) break;
      do --end;
      while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (!id) {
      out.resize(before);
      out.push_back(unk_id_);
      return;
    }
    out.push_back(*id);
    start = end;
  }
}

inline wordpiece_tokenizer wordpiece_tokenizer::train(std::string_view corpus, const wordpiece_train_options& options) {
  if (corpus.empty()) fail("WordPiece training: empty corpus");
  /// A throwaway tokenizer provides the basic tokenizer with the chosen normalization.
  wordpiece_options norm = options.normalization;
  wordpiece_tokenizer basic = from_tokens({norm.unk}, "training", norm);
  detail::string_map word_index;
  std::vector<std::string> word_text;
  std::vector<std::int64_t> word_count;
  basic.for_each_word(corpus, [&](std::string_view w, std::size_t) {
    if (const std::int32_t* k = word_index.find(w)) {
      ++word_count[std::size_t(*k)];
      return;
    }
    word_index.insert(w, std::int32_t(word_text.size()));
    word_text.emplace_back(w);
    word_count.push_back(1);
  });
  if (word_text.empty()) fail("WordPiece training: empty corpus (no words after normalization)");

  std::vector<std::string> tokens;
  detail::string_map ids;
  auto add = [&](std::string s) {
    if (const std::int32_t* id = ids.find(s)) return *id;
    const std::int32_t id = std::int32_t(tokens.size());
    ids.insert(s, id);
    tokens.push_back(std::move(s));
    return id;
  };
  for (const auto& sp : options.specials) {
    if (ids.find(sp)) fail("WordPiece training: special token \"{}\" is listed twice", sp);
    add(sp);
  }
  if (!ids.find(norm.unk)) add(norm.unk);
  /// The alphabet, in code point order, each character both word-initial and continuing.
  std::vector<char32_t> alphabet;
  for (const auto& w : word_text)
    for (char32_t c : utf8::decode(w)) alphabet.push_back(c);
  std::sort(alphabet.begin(), alphabet.end());
  alphabet.erase(std::unique(alphabet.begin(), alphabet.end()), alphabet.end());
  for (char32_t c : alphabet) {
    std::string s;
    utf8::append(s, c);
    add(s);
    add(norm.continuation + s);
  }
  if (tokens.size() > options.vocab_size)
    fail("WordPiece training: vocab_size {} is below the {} specials and alphabet entries", options.vocab_size,
         tokens.size());
  std::vector<detail::merge_word> words(word_text.size());
  for (std::size_t k = 0; k < word_text.size(); ++k) {
    words[k].count = word_count[k];
    bool first = true;
    for (char32_t c : utf8::decode(word_text[k])) {
      std::string s = first ? std::string() : norm.continuation;
      utf8::append(s, c);
      words[k].symbols.push_back(*ids.find(s));
      first = false;
    }
  }
  const std::size_t pre = norm.continuation.size();
  detail::train_merges(
      words, std::max<std::int64_t>(options.min_frequency, 1),
      [&](std::int32_t a, std::int32_t b) {
        const std::string& right = tokens[std::size_t(b)];
        return add(tokens[std::size_t(a)] + right.substr(std::min(pre, right.size())));
      },
      [&] { return tokens.size() < options.vocab_size; });
  return from_tokens(std::move(tokens), "trained vocabulary", norm);
}

}  // namespace ctformer
