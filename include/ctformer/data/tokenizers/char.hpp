// Character-level tokenizer: one id per Unicode code point seen in a corpus (sorted by code
// point, so the vocabulary does not depend on corpus order), then the specials. Characters not
// in the vocabulary map to <UNK> when there is one, and are an error otherwise.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../error.hpp"
#include "../../io/json.hpp"
#include "../../base/utf8.hpp"
#include "byte.hpp"  // default_specials
#include "hash.hpp"
#include "special_names.hpp"
#include "tokenizer.hpp"

namespace ctformer {

/// One id per Unicode character of a fixed alphabet; specials follow the characters.
class char_tokenizer : public tokenizer {
 public:
  /// The vocabulary is every distinct character of corpus.
  static char_tokenizer build(std::string_view corpus, std::vector<std::string> specials = default_specials(),
                              utf8::on_invalid mode = utf8::on_invalid::reject) {
    if (corpus.empty()) fail("char tokenizer: empty corpus");
    std::u32string chars = utf8::decode(corpus, mode, "char tokenizer corpus");
    std::sort(chars.begin(), chars.end());
    chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
    return char_tokenizer(std::move(chars), std::move(specials), mode);
  }
  /// chars: the alphabet, one id each in order (no duplicates); specials follow.
  char_tokenizer(std::u32string chars, std::vector<std::string> specials, utf8::on_invalid mode = utf8::on_invalid::reject)
      : chars_(std::move(chars)), names_(std::move(specials)), on_invalid_(mode) {
    if (chars_.empty()) fail("char tokenizer: empty alphabet");
    for (std::size_t i = 0; i < chars_.size(); ++i) {
      bool inserted;
      index_.get_or_insert(chars_[i], i, &inserted);
      if (!inserted) fail("char tokenizer: character U+{:04X} is listed twice", unsigned(chars_[i]));
    }
    for (std::size_t i = 0; i < names_.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j)
        if (names_[j] == names_[i]) fail("char tokenizer: special token \"{}\" is listed twice", names_[i]);
      assign_special(specials_, names_[i], std::int32_t(chars_.size() + i));
    }
  }

  /// {"chars": "...", "specials": [...]}: one small JSON document.
  std::string to_json() const {
    json::value v;
    v.set("chars", utf8::encode(chars_));
    json::array sp;
    for (const auto& s : names_) sp.emplace_back(s);
    v.set("specials", json::value(std::move(sp)));
    return v.dump();
  }
  /// Reads what to_json() wrote.
  static char_tokenizer from_json(std::string_view text) {
    const json::value v = json::parse(text);
    std::vector<std::string> sp;
    for (const auto& s : v.at("specials").as_array()) sp.push_back(s.as_string());
    return char_tokenizer(utf8::decode(v.at("chars").as_string()), std::move(sp));
  }

  std::vector<std::int32_t> encode(std::string_view text) const override {
    std::vector<std::int32_t> out;
    out.reserve(text.size());
    std::size_t pos = 0;
    char32_t cp;
    while (pos < text.size()) {
      const std::size_t at = pos;
      if (!utf8::decode_next(text, pos, cp) && on_invalid_ == utf8::on_invalid::reject)
        utf8::throw_invalid(text, at, "char tokenizer input");
      if (const std::uint64_t* i = index_.find(cp)) out.push_back(std::int32_t(*i));
      else if (specials_.unk >= 0) out.push_back(specials_.unk);
      else fail("char tokenizer: character U+{:04X} at byte offset {} is not in the vocabulary", unsigned(cp), at);
    }
    return out;
  }
  std::string decode(std::span<const std::int32_t> ids, bool keep_specials = false) const override {
    std::string out;
    for (std::int32_t id : ids) {
      if (id < 0 || std::size_t(id) >= vocab_size()) fail("char tokenizer: id {} is outside 0..{}", id, vocab_size() - 1);
      if (std::size_t(id) < chars_.size()) utf8::append(out, chars_[std::size_t(id)]);
      else if (keep_specials) out += names_[std::size_t(id) - chars_.size()];
    }
    return out;
  }
  /// Characters plus specials.
  std::size_t vocab_size() const override { return chars_.size() + names_.size(); }
  /// Ids of the special tokens (-1 for absent kinds).
  const special_tokens& specials() const override { return specials_; }
  std::string id_to_token(std::int32_t id) const override {
    if (id < 0 || std::size_t(id) >= vocab_size()) fail("char tokenizer: id {} is outside 0..{}", id, vocab_size() - 1);
    if (std::size_t(id) >= chars_.size()) return names_[std::size_t(id) - chars_.size()];
    std::string s;
    utf8::append(s, chars_[std::size_t(id)]);
    return s;
  }
  /// The id of a special's name or of a one-character token, or nothing.
  std::optional<std::int32_t> token_to_id(std::string_view token) const override {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == token) return std::int32_t(chars_.size() + i);
    const std::u32string cps = utf8::decode(token, utf8::on_invalid::replace);
    if (cps.size() == 1)
      if (const std::uint64_t* i = index_.find(cps[0])) return std::int32_t(*i);
    return std::nullopt;
  }
  /// The characters, in id order.
  const std::u32string& alphabet() const { return chars_; }

 private:
  std::u32string chars_;
  std::vector<std::string> names_;
  special_tokens specials_;
  utf8::on_invalid on_invalid_;
  detail::u64_map index_;  ///< code point -> id
};

}  // namespace ctformer
