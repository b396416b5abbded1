// Text cleaning, one optional step per function and clean() to chain them in a fixed order:
// HTML (tags, comments, script/style bodies; entities decoded), control/format characters,
// emoji or all symbols, contraction expansion, Unicode lowercasing, accent stripping (NFD, drop
// Mn), stop words, whitespace normalization. Every step takes and returns UTF-8; invalid input
// is rejected with its byte offset or repaired with U+FFFD, as chosen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "../error.hpp"
#include "unicode/unicode.hpp"
#include "../base/utf8.hpp"

namespace ctformer::cleaning {

/// Applies f(cp, out) to every code point of s (which must be valid UTF-8).
template <class F>
std::string map_code_points(std::string_view s, F&& f) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  char32_t cp;
  while (pos < s.size()) {
    utf8::decode_next(s, pos, cp);
    f(cp, out);
  }
  return out;
}

/// Full lowercase per code point (SpecialCasing's unconditional U+0130 included; no final sigma).
inline std::string lowercase(std::string_view s) {
  std::u32string tmp;
  return map_code_points(s, [&](char32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(char(unicode::simple_lower(cp)));
      return;
    }
    tmp.clear();
    unicode::append_lower(tmp, cp);
    for (char32_t c : tmp) utf8::append(out, c);
  });
}

/// NFD, then drop nonspacing marks (Mn): "café" -> "cafe", "Ångström" -> "Angstrom".
inline std::string strip_accents(std::string_view s) {
  std::u32string d = unicode::nfd(utf8::decode(s, utf8::on_invalid::replace));
  std::string out;
  out.reserve(s.size());
  for (char32_t c : d)
    if (!unicode::is_nonspacing_mark(c)) utf8::append(out, c);
  return out;
}

/// Drops control characters (Cc except \t \n \r) and format characters (Cf, e.g. U+200B).
inline std::string remove_control(std::string_view s) {
  return map_code_points(s, [](char32_t cp, std::string& out) {
    const auto c = unicode::general_category(cp);
    if ((c == unicode::category::Cc && cp != '\t' && cp != '\n' && cp != '\r') || c == unicode::category::Cf) return;
    utf8::append(out, cp);
  });
}

enum class symbols { keep, emoji, all };

/// Emoji: Extended_Pictographic characters and the pieces emoji sequences are built from
/// (regional indicators, skin-tone modifiers, ZWJ, variation selector 16, keycap, tags).
inline bool is_emoji_part(char32_t cp) {
  return unicode::is_extended_pictographic(cp) || (cp >= 0x1F1E6 && cp <= 0x1F1FF) || (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
         cp == 0x200D || cp == 0xFE0F || cp == 0x20E3 || (cp >= 0xE0020 && cp <= 0xE007F);
}

/// symbols::emoji removes emoji; symbols::all removes emoji and every S* character (math,
/// currency, modifier and other symbols).
inline std::string remove_symbols(std::string_view s, symbols which = symbols::emoji) {
  if (which == symbols::keep) return std::string(s);
  return map_code_points(s, [&](char32_t cp, std::string& out) {
    if (is_emoji_part(cp) || (which == symbols::all && unicode::is_symbol(cp))) return;
    utf8::append(out, cp);
  });
}

/// Runs of White_Space become one space; leading and trailing whitespace go.
inline std::string normalize_whitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending = false;
  std::size_t pos = 0;
  char32_t cp;
  while (pos < s.size()) {
    utf8::decode_next(s, pos, cp);
    if (unicode::is_white_space(cp)) {
      pending = !out.empty();
      continue;
    }
    if (pending) out.push_back(' ');
    pending = false;
    utf8::append(out, cp);
  }
  return out;
}

namespace detail {
inline bool ascii_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/// The decoded character of an entity name ("amp", "#39", "#x27"), or 0 when unknown.
inline char32_t entity_value(std::string_view name) {
  if (name.size() > 1 && name[0] == '#') {
    char32_t v = 0;
    const bool hex = name[1] == 'x' || name[1] == 'X';
    const std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 7) return 0;
    for (char c : digits) {
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return 0;
      v = v * (hex ? 16 : 10) + char32_t(d);
    }
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return utf8::replacement_char;
    return v;
  }
  static const struct { std::string_view n; char32_t v; } named[] = {
      {"amp", '&'},     {"lt", '<'},       {"gt", '>'},      {"quot", '"'},    {"apos", '\''},
      {"nbsp", 0xA0},   {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"lsquo", 0x2018},
      {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"copy", 0xA9},   {"reg", 0xAE},
      {"trade", 0x2122}, {"euro", 0x20AC}, {"pound", 0xA3},  {"eacute", 0xE9}, {"egrave", 0xE8}};
  for (const auto& e : named)
    if (e.n == name) return e.v;
  return 0;
}

inline bool starts_with_ci(std::string_view s, std::size_t at, std::string_view w) {
  if (at + w.size() > s.size()) return false;
  for (std::size_t i = 0; i < w.size(); ++i) {
    char c = s[at + i];
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
    if (c != w[i]) return false;
  }
  return true;
}
}  // namespace detail

/// Removes tags (<...>), comments and the bodies of <script> and <style>; decodes character
/// references (&amp; &#39; &#x27; and common named ones); drops unknown named entities. A tag
/// becomes a space when it separates words (<br>, </p>), which whitespace normalization folds.
inline std::string strip_html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '<') {
      if (s.compare(i, 4, "<!--") == 0) {
        const std::size_t e = s.find("-->", i + 4);
        i = e == std::string_view::npos ? s.size() : e + 3;
        continue;
      }
      const std::size_t j = i + 1 + (i + 1 < s.size() && s[i + 1] == '/');
      if (j < s.size() && (detail::ascii_alpha(static_cast<unsigned char>(s[j])) || s[j] == '!' || s[j] == '?')) {
        const std::size_t e = s.find('>', j);
        if (e != std::string_view::npos) {
          std::size_t next = e + 1;
          if (s[i + 1] != '/') {
            for (std::string_view body : {std::string_view("script"), std::string_view("style")}) {
              const std::size_t after = j + body.size();
              if (!detail::starts_with_ci(s, j, body) || (after < s.size() && detail::ascii_alpha(static_cast<unsigned char>(s[after]))))
                continue;
              /// Skip the body up to and including the matching closing tag.
              const std::string close = "</" + std::string(body);
              std::size_t k = e;
              while (k < s.size() && !detail::starts_with_ci(s, k, close)) ++k;
              const std::size_t ke = s.find('>', k);
              next = ke == std::string_view::npos ? s.size() : ke + 1;
              break;
            }
          }
          i = next;
          if (!out.empty() && out.back() != ' ') out.push_back(' ');
          continue;
        }
      }
    } else if (c == '&') {
      const std::size_t e = s.find(';', i + 1);
      if (e != std::string_view::npos && e - i <= 10) {
        const std::string_view name = s.substr(i + 1, e - i - 1);
        bool word = !name.empty();
        for (char ch : name)
          if (!(detail::ascii_alpha(static_cast<unsigned char>(ch)) || (ch >= '0' && ch <= '9') || ch == '#')) word = false;
        if (word) {
          if (const char32_t v = detail::entity_value(name)) utf8::append(out, v);
          i = e + 1;
          continue;
        }
      }
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

/// English contractions: "don't" -> "do not", "I'm" -> "I am", "can't" -> "cannot", with ' or ’.
/// A capital first letter is kept ("Don't" -> "Do not"). 's is expanded only after pronouns and
/// question words (it's, that's, what's), where it cannot be a possessive.
inline std::string expand_contractions(std::string_view s) {
  struct rule { std::string_view from, to; };
  /// Whole words first (irregular forms), then the regular suffixes.
  static const rule whole[] = {{"can't", "cannot"}, {"won't", "will not"}, {"shan't", "shall not"},
                               {"ain't", "is not"}, {"let's", "let us"},   {"y'all", "you all"},
                               {"ma'am", "madam"},  {"o'clock", "of the clock"}};
  static const std::string_view s_words[] = {"it", "that", "what", "there", "here", "who", "where", "how",
                                             "he", "she", "this", "when", "why"};
  static const rule suffix[] = {{"n't", " not"}, {"'re", " are"}, {"'ve", " have"}, {"'ll", " will"},
                                {"'m", " am"},   {"'d", " would"}};
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  std::size_t i = 0;
  while (i < s.size()) {
    /// A word: ASCII letters and apostrophes (' or U+2019).
    std::size_t e = i;
    std::string word;  ///< lowercased, apostrophes as '
    std::string raw;
    while (e < s.size()) {
      const unsigned char c = static_cast<unsigned char>(s[e]);
      if (detail::ascii_alpha(c)) {
        word.push_back(char(c | 0x20));
        raw.push_back(char(c));
        ++e;
      } else if (c == '\'') {
        word.push_back('\'');
        raw.push_back('\'');
        ++e;
      } else if (s.compare(e, 3, "\xE2\x80\x99") == 0) {
        word.push_back('\'');
        raw.push_back('\'');
        e += 3;
      } else {
        break;
      }
    }
    if (e == i) {
      out.push_back(s[i++]);
      continue;
    }
    const bool cap = !raw.empty() && raw[0] >= 'A' && raw[0] <= 'Z';
    auto emit = [&](std::string_view lower_text) {
      std::string t(lower_text);
      if (cap && !t.empty() && t[0] >= 'a' && t[0] <= 'z') t[0] = char(t[0] - 32);
      out += t;
    };
    bool done = false;
    for (const auto& r : whole)
      if (word == r.from) {
        emit(r.to);
        done = true;
        break;
      }
    if (!done && word.size() > 2 && word.compare(word.size() - 2, 2, "'s") == 0) {
      const std::string_view stem = std::string_view(word).substr(0, word.size() - 2);
      for (auto w : s_words)
        if (stem == w) {
          out += std::string_view(raw).substr(0, stem.size());
          out += " is";
          done = true;
          break;
        }
    }
    if (!done)
      for (const auto& r : suffix) {
        if (word.size() > r.from.size() && word.compare(word.size() - r.from.size(), r.from.size(), r.from) == 0) {
          out += std::string_view(raw).substr(0, word.size() - r.from.size());
          out += r.to;
          done = true;
          break;
        }
      }
    if (!done) out.append(s.substr(i, e - i));
    i = e;
  }
  return out;
}

using stop_words = std::unordered_set<std::string>;

/// Drops whitespace-separated words whose lowercase form, without surrounding punctuation, is a
/// stop word; the punctuation stays ("the, end" -> ", end" with {"the"}). Output words are
/// separated by single spaces.
inline std::string remove_stop_words(std::string_view s, const stop_words& stops) {
  std::string out;
  std::size_t i = 0;
  auto is_space = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (i < s.size()) {
    while (i < s.size() && is_space(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t e = i;
    while (e < s.size() && !is_space(static_cast<unsigned char>(s[e]))) ++e;
    if (e == i) break;
    const std::string_view w = s.substr(i, e - i);
    /// The core: from the first to the last letter or digit (ASCII punctuation trimmed).
    std::size_t a = 0, b = w.size();
    auto punct = [](unsigned char c) { return c < 0x80 && !(detail::ascii_alpha(c) || (c >= '0' && c <= '9')); };
    while (a < b && punct(static_cast<unsigned char>(w[a]))) ++a;
    while (b > a && punct(static_cast<unsigned char>(w[b - 1]))) --b;
    std::string kept;
    if (a < b && stops.count(lowercase(w.substr(a, b - a)))) kept = std::string(w.substr(0, a)) + std::string(w.substr(b));
    else kept = std::string(w);
    if (!kept.empty()) {
      if (!out.empty()) out.push_back(' ');
      out += kept;
    }
    i = e;
  }
  return out;
}

/// Which cleaning steps clean() runs; each field turns one step on or off.
struct options {
  bool html = false;  ///< strip HTML tags, comments, script/style bodies; decode entities
  bool control = true;  ///< drop control and format characters
  symbols remove_symbols = symbols::keep;  ///< keep symbols, or remove emoji or all symbols
  bool contractions = false;  ///< expand English contractions
  bool lowercase = false;  ///< Unicode lowercasing
  bool accents = false;  ///< strip accents (NFD, drop Mn)
  const stop_words* stops = nullptr;  ///< remove these stop words (null: none)
  bool whitespace = true;  ///< normalize whitespace
  /// Invalid UTF-8: reject (with its byte offset) or repair with U+FFFD.
  utf8::on_invalid on_invalid = utf8::on_invalid::reject;
};

/// The chosen steps in the order listed in `options`.
inline std::string clean(std::string_view text, const options& o = {}, std::string_view where = {}) {
  std::string s = utf8::sanitize(text, o.on_invalid, where);
  if (o.html) s = strip_html(s);
  if (o.control) s = remove_control(s);
  if (o.remove_symbols != symbols::keep) s = remove_symbols(s, o.remove_symbols);
  if (o.contractions) s = expand_contractions(s);
  if (o.lowercase) s = lowercase(s);
  if (o.accents) s = strip_accents(s);
  if (o.stops) s = remove_stop_words(s, *o.stops);
  if (o.whitespace) s = normalize_whitespace(s);
  return s;
}

}  // namespace ctformer::cleaning
