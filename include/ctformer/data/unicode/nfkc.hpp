// Unicode normalization forms NFD, NFC, NFKD and NFKC (UAX #15), from the tables tools/gen_nfkc.py
// generates (nfkc_tables.hpp states the Unicode version), in namespace unicode::normal_forms.
// Algorithm: full recursive decomposition (Hangul by arithmetic), stable ordering of each run of
// non-starters by combining class, then canonical composition of the pairs that are not blocked.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../../base/utf8.hpp"
#include "nfkc_tables.hpp"

namespace ctformer::unicode::normal_forms {

namespace detail {

inline constexpr char32_t hangul_s_base = 0xAC00, hangul_l_base = 0x1100, hangul_v_base = 0x1161,
                          hangul_t_base = 0x11A7;
inline constexpr int hangul_l_count = 19, hangul_v_count = 21, hangul_t_count = 28,
                     hangul_n_count = hangul_v_count * hangul_t_count,
                     hangul_s_count = hangul_l_count * hangul_n_count;

inline constexpr std::size_t decomposition_count = std::size(tables::decomposition_entries);

/// Where each entry's mapping starts in decomposition_pool (prefix sums of the lengths).
inline constexpr auto decomposition_offsets = [] {
  std::array<std::uint16_t, decomposition_count + 1> off{};
  for (std::size_t i = 0; i < decomposition_count; ++i)
    off[i + 1] = static_cast<std::uint16_t>(off[i] + ((tables::decomposition_entries[i] >> 22) & 31));
  return off;
}();
static_assert(decomposition_offsets[decomposition_count] == std::size(tables::decomposition_pool),
              "nfkc_tables.hpp: decomposition lengths do not add up to the pool size");

/// Index of cp's entry in decomposition_entries, or -1.
inline std::ptrdiff_t find_decomposition(char32_t cp) noexcept {
  const auto* first = std::begin(tables::decomposition_entries);
  const auto* last = std::end(tables::decomposition_entries);
  const auto* it = std::lower_bound(first, last, std::uint32_t(cp),
                                    [](std::uint32_t e, std::uint32_t c) { return (e & 0x1FFFFF) < c; });
  return it != last && (*it & 0x1FFFFF) == cp ? it - first : -1;
}

inline void decompose_into(char32_t cp, bool compat, std::u32string& out) {
  if (cp >= hangul_s_base && cp < hangul_s_base + hangul_s_count) {
    const int s = int(cp - hangul_s_base);
    out.push_back(hangul_l_base + s / hangul_n_count);
    out.push_back(hangul_v_base + (s % hangul_n_count) / hangul_t_count);
    if (s % hangul_t_count) out.push_back(hangul_t_base + s % hangul_t_count);
    return;
  }
  const std::ptrdiff_t i = find_decomposition(cp);
  if (i < 0 || (!compat && (tables::decomposition_entries[i] >> 21 & 1))) {
    out.push_back(cp);
    return;
  }
  for (std::size_t k = decomposition_offsets[i]; k < decomposition_offsets[i + 1]; ++k)
    decompose_into(tables::decomposition_pool[k], compat, out);
}

/// Stable sort of every run of non-starters by combining class (insertion sort: runs are short).
inline void canonical_order(std::u32string& s);

}  // namespace detail

inline std::uint8_t combining_class(char32_t cp) noexcept {
  const auto* first = std::begin(tables::combining_class_runs);
  const auto* last = std::end(tables::combining_class_runs);
  const auto* it = std::upper_bound(first, last, (std::uint32_t(cp) << 8) | 0xFF);
  return it == first ? 0 : static_cast<std::uint8_t>(it[-1] & 0xFF);
}

/// The canonical composite of (first, second), or 0 when they do not compose.
inline char32_t compose_pair(char32_t first, char32_t second) noexcept {
  using namespace detail;
  if (first >= hangul_l_base && first < hangul_l_base + hangul_l_count && second >= hangul_v_base &&
      second < hangul_v_base + hangul_v_count)
    return hangul_s_base + ((first - hangul_l_base) * hangul_v_count + (second - hangul_v_base)) * hangul_t_count;
  if (first >= hangul_s_base && first < hangul_s_base + hangul_s_count &&
      (first - hangul_s_base) % hangul_t_count == 0 && second > hangul_t_base &&
      second < hangul_t_base + hangul_t_count)
    return first + (second - hangul_t_base);
  const std::uint64_t key = (std::uint64_t(first) << 21) | second;
  const auto* first_key = std::begin(tables::composition_keys);
  const auto* last_key = std::end(tables::composition_keys);
  const auto* it = std::lower_bound(first_key, last_key, key);
  return it != last_key && *it == key ? tables::composition_values[it - first_key] : 0;
}

inline void detail::canonical_order(std::u32string& s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    const std::uint8_t c = combining_class(s[i]);
    if (c == 0) continue;
    std::size_t j = i;
    while (j > 0 && combining_class(s[j - 1]) > c) {
      std::swap(s[j - 1], s[j]);
      --j;
    }
  }
}

/// Full decomposition followed by canonical ordering.
inline std::u32string nfd(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) detail::decompose_into(c, false, out);
  detail::canonical_order(out);
  return out;
}
inline std::u32string nfkd(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) detail::decompose_into(c, true, out);
  detail::canonical_order(out);
  return out;
}

/// Canonical composition of an already decomposed and ordered string: a character composes with
/// the last starter unless a character between them has a class >= its own (it is blocked).
inline std::u32string compose(std::u32string s) {
  constexpr std::size_t none = std::size_t(-1);
  std::size_t starter_at = none, kept = 0;
  int last_class = 0;  ///< class of the last character kept after the starter (0: adjacent)
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char32_t c = s[i];
    const int cls = combining_class(c);
    if (starter_at != none && (last_class < cls || last_class == 0)) {
      if (const char32_t composite = compose_pair(s[starter_at], c)) {
        s[starter_at] = composite;
        continue;
      }
    }
    if (cls == 0) {
      starter_at = kept;
      last_class = 0;
    } else {
      last_class = cls;
    }
    s[kept++] = c;
  }
  s.resize(kept);
  return s;
}

inline std::u32string nfc(std::u32string_view s) { return compose(nfd(s)); }
inline std::u32string nfkc(std::u32string_view s) { return compose(nfkd(s)); }

/// UTF-8 convenience: invalid input is rejected or repaired as utf8::decode does.
inline std::string nfkc(std::string_view utf8_text, utf8::on_invalid mode = utf8::on_invalid::reject) {
  return utf8::encode(nfkc(utf8::decode(utf8_text, mode)));
}
inline std::string nfc(std::string_view utf8_text, utf8::on_invalid mode = utf8::on_invalid::reject) {
  return utf8::encode(nfc(utf8::decode(utf8_text, mode)));
}

}  // namespace ctformer::unicode::normal_forms
