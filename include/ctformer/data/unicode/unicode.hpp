// Unicode character properties, case mapping and canonical decomposition (NFD) over the tables
// that tools/gen_unicode.py generates (unicode_tables.hpp; the Unicode version is stated there).
// Lookups are O(1) for properties (two-level table) and O(log n) for decompositions, combining
// classes and case (sorted runs); ASCII short-cuts every one of them.
// Caveat: lowercasing is per code point (no Greek final-sigma context), as HF's Rust tokenizers do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../../base/utf8.hpp"
#include "unicode_tables.hpp"

namespace ctformer::unicode {

inline constexpr std::string_view version = tables::unicode_version;

/// General categories; the order is the generator's CATEGORIES list (Cn, the default, is 0).
enum class category : std::uint8_t {
  Cn, Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po,
  Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co
};

namespace detail {
inline unsigned props(char32_t cp) noexcept {
  if (cp >= 0x110000) return 0;
  const unsigned block = static_cast<unsigned char>(tables::prop_stage1[cp >> tables::block_shift]);
  const std::size_t mask = (std::size_t{1} << tables::block_shift) - 1;
  return static_cast<unsigned char>(tables::prop_stage2[(std::size_t(block) << tables::block_shift) | (cp & mask)]);
}

/// Index of the last run whose first code point is <= cp, or -1. Runs are flattened with
/// `width` values each, the first value being the run's first code point.
template <class T, std::size_t N>
inline std::ptrdiff_t find_run(const T (&runs)[N], std::size_t width, char32_t cp) noexcept {
  std::size_t lo = 0, hi = N / width;  ///< answer in [lo, hi)
  if (hi == 0 || char32_t(runs[0]) > cp) return -1;
  while (hi - lo > 1) {
    const std::size_t mid = (lo + hi) / 2;
    if (char32_t(runs[mid * width]) <= cp) lo = mid;
    else hi = mid;
  }
  return std::ptrdiff_t(lo);
}

template <std::size_t N>
inline char32_t map_case(const std::int32_t (&runs)[N], char32_t cp) noexcept {
  const std::ptrdiff_t r = find_run(runs, 4, cp);
  if (r < 0) return cp;
  const std::int32_t* run = runs + r * 4;  ///< first, last, stride, delta
  const char32_t first = char32_t(run[0]), last = char32_t(run[1]);
  if (cp > last || (cp - first) % char32_t(run[2]) != 0) return cp;
  return char32_t(std::int32_t(cp) + run[3]);
}
}  // namespace detail

inline category general_category(char32_t cp) noexcept { return category(detail::props(cp) & 0x1F); }

inline bool is_letter(char32_t cp) noexcept {
  const auto c = general_category(cp);
  return c >= category::Lu && c <= category::Lo;
}
inline bool is_mark(char32_t cp) noexcept {
  const auto c = general_category(cp);
  return c >= category::Mn && c <= category::Me;
}
inline bool is_nonspacing_mark(char32_t cp) noexcept { return general_category(cp) == category::Mn; }
inline bool is_number(char32_t cp) noexcept {
  const auto c = general_category(cp);
  return c >= category::Nd && c <= category::No;
}
inline bool is_punctuation(char32_t cp) noexcept {
  const auto c = general_category(cp);
  return c >= category::Pc && c <= category::Po;
}
inline bool is_symbol(char32_t cp) noexcept {
  const auto c = general_category(cp);
  return c >= category::Sm && c <= category::So;
}
inline bool is_separator(char32_t cp) noexcept {
  const auto c = general_category(cp);
  return c >= category::Zs && c <= category::Zp;
}
/// Any C* category: Cc, Cf, Cs, Co and unassigned (Cn).
inline bool is_other(char32_t cp) noexcept {
  const auto c = general_category(cp);
  return c == category::Cn || c >= category::Cc;
}
/// The White_Space property (what Python's `regex` module means by \s).
inline bool is_white_space(char32_t cp) noexcept { return detail::props(cp) & tables::white_space_bit; }
/// Extended_Pictographic (emoji and pictographs that emoji sequences are built from).
inline bool is_extended_pictographic(char32_t cp) noexcept { return detail::props(cp) & tables::ext_pict_bit; }

/// Simple (one-to-one) case mappings from UnicodeData.txt.
inline char32_t simple_lower(char32_t cp) noexcept {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  return detail::map_case(tables::lower_runs, cp);
}
inline char32_t simple_upper(char32_t cp) noexcept {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  return detail::map_case(tables::upper_runs, cp);
}
/// Full lowercase of one code point: the simple mapping plus SpecialCasing's one unconditional
/// expansion, U+0130 -> U+0069 U+0307 (the generator asserts it is the only one).
inline void append_lower(std::u32string& out, char32_t cp) {
  if (cp == 0x130) {
    out.push_back(U'i');
    out.push_back(0x307);
    return;
  }
  out.push_back(simple_lower(cp));
}

// ---- canonical decomposition (NFD) --------------------------------------------------------
// API for other parts of ctformer (e.g. NFKC in SentencePiece may reuse it):
//   canonical_decomposition(cp)  the full canonical decomposition of one code point as a view
//                                into the table (already recursive; empty when cp has none;
//                                Hangul syllables are NOT in the table, use append_nfd)
//   combining_class(cp)          the canonical combining class (0 for starters)
//   append_nfd(out, cp)          appends cp's full canonical decomposition, Hangul included,
//                                without reordering
//   canonical_order(s, from)     stable-sorts each run of non-starters in s[from..] by class
//   nfd(u32string_view), nfd_utf8(string_view)   whole-string NFD

inline std::u32string_view canonical_decomposition(char32_t cp) noexcept {
  if (cp < 0xC0) return {};
  const std::ptrdiff_t i = detail::find_run(tables::decomp_key, 1, cp);
  if (i < 0 || tables::decomp_key[i] != cp) return {};
  const std::size_t begin = tables::decomp_offset[i], end = tables::decomp_offset[i + 1];
  return {tables::decomp_pool + begin, end - begin};
}

inline std::uint8_t combining_class(char32_t cp) noexcept {
  if (cp < 0x300) return 0;
  const std::ptrdiff_t r = detail::find_run(tables::ccc_runs, 3, cp);
  if (r < 0 || cp > tables::ccc_runs[r * 3 + 1]) return 0;
  return std::uint8_t(tables::ccc_runs[r * 3 + 2]);
}

namespace hangul {
inline constexpr char32_t s_base = 0xAC00, l_base = 0x1100, v_base = 0x1161, t_base = 0x11A7;
inline constexpr char32_t l_count = 19, v_count = 21, t_count = 28, n_count = v_count * t_count,
                          s_count = l_count * n_count;
}  // namespace hangul

inline void append_nfd(std::u32string& out, char32_t cp) {
  using namespace hangul;
  if (cp >= s_base && cp < s_base + s_count) {  // Hangul syllables decompose algorithmically
    const char32_t s = cp - s_base;
    out.push_back(l_base + s / n_count);
    out.push_back(v_base + (s % n_count) / t_count);
    if (s % t_count) out.push_back(t_base + s % t_count);
    return;
  }
  const auto d = canonical_decomposition(cp);
  if (d.empty()) out.push_back(cp);
  else out.append(d);
}

/// Canonical ordering: within each maximal run of non-starters, a stable sort by combining class
/// (insertion sort: runs are a handful of marks at most).
inline void canonical_order(std::u32string& s, std::size_t from = 0) {
  for (std::size_t i = from + 1; i < s.size(); ++i) {
    const std::uint8_t c = combining_class(s[i]);
    if (c == 0) continue;
    std::size_t j = i;
    const char32_t cp = s[i];
    while (j > from) {
      const std::uint8_t p = combining_class(s[j - 1]);
      if (p <= c) break;  // a starter (0) or an equal/lower class stops the move
      s[j] = s[j - 1];
      --j;
    }
    s[j] = cp;
  }
}

inline std::u32string nfd(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size() + text.size() / 4);
  for (char32_t cp : text) append_nfd(out, cp);
  canonical_order(out);
  return out;
}

inline std::string nfd_utf8(std::string_view text, utf8::on_invalid mode = utf8::on_invalid::reject) {
  return utf8::encode(nfd(utf8::decode(text, mode)));
}

}  // namespace ctformer::unicode
