// nmt_nfkc rules from this library's Unicode tables, for the models ctformer trains: NFKC of each
// character that changes, recomposition of each character's full compatibility decomposition, and
// SentencePiece's rules for controls and spaces. Unlike SentencePiece's ICU-built map it does not
// list every equivalent spelling (fullwidth letter + combining accent stays partly decomposed).
// Kept apart from the tokenizer, which reads the map from the model and needs no NFKC tables.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "../unicode/nfkc.hpp"
#include "sentencepiece_normalizer.hpp"

namespace ctformer::spm {

/// Applies rules by longest match, one code point at a time when none matches.
inline std::u32string apply_rules(const std::map<std::u32string, std::u32string>& rules, std::u32string_view s,
                                  std::size_t max_len) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = std::min(max_len, s.size() - i);
    for (; len > 0; --len) {
      const auto it = rules.find(std::u32string(s.substr(i, len)));
      if (it != rules.end()) {
        out += it->second;
        break;
      }
    }
    if (len == 0) {
      out.push_back(s[i]);
      len = 1;
    }
    i += len;
  }
  return out;
}

/// The NMT-NFKC rules from this library's Unicode tables: NFKC of each character that changes,
/// recomposition of each character's full compatibility decomposition (so "e" U+0301 becomes "é"),
/// the control characters SentencePiece deletes, the spaces it maps to " " (U+FF5E FULLWIDTH TILDE
/// is kept, as in SentencePiece), and nothing that shorter rules already produce.
inline std::map<std::u32string, std::u32string> nmt_nfkc_rules() {
  namespace tab = unicode::tables;
  std::map<std::u32string, std::u32string> rules;
  const auto add_char = [&](char32_t cp) {
    const std::u32string one(1, cp), n = unicode::normal_forms::nfkc(one);
    if (n != one) rules[one] = n;
    const std::u32string d = unicode::normal_forms::nfkd(one);
    if (d.size() >= 2) {
      const std::u32string c = unicode::normal_forms::nfc(d);
      if (c != d) rules[d] = c;
    }
  };
  for (std::uint32_t e : tab::decomposition_entries) add_char(e & 0x1FFFFF);
  for (char32_t s = 0xAC00; s <= 0xD7A3; ++s) add_char(s);
  for (char32_t c : {0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0xB, 0xE, 0xF, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                     0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x7F, 0x8F, 0x9F})
    rules[std::u32string(1, c)].clear();
  for (char32_t c : {0x9, 0xA, 0xC, 0xD, 0x1680, 0x200B, 0x200C, 0x200E, 0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD})
    rules[std::u32string(1, c)].assign(1, U' ');
  rules.erase(std::u32string(1, 0xFF5E));
  /// Keep a longer rule only when the shorter ones do not already give its result.
  std::map<std::u32string, std::u32string> kept;
  std::size_t max_len = 1;
  for (const auto& [k, v] : rules) {
    if (k.size() == 1) kept.emplace(k, v);
    max_len = std::max(max_len, k.size());
  }
  for (std::size_t len = 2; len <= max_len; ++len)
    for (const auto& [k, v] : rules)
      if (k.size() == len && apply_rules(kept, k, len - 1) != v) kept.emplace(k, v);
  return kept;
}

inline const std::string& nmt_nfkc_charsmap() {
  static const std::string blob = charsmap::compile(nmt_nfkc_rules());
  return blob;
}

}  // namespace ctformer::spm
