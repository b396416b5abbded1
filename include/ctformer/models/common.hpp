// Small pieces the model types share: optional fields in a fields() tuple, and the padding mask
// reduced to null when a batch has no padding (so attention takes its fast unmasked path).
#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>

namespace ctformer::detail {

// fields() entry present only when On; make() builds the entry.
template <bool On, class Make>
constexpr auto optional_field(Make make) {
  if constexpr (On)
    return std::tuple{make()};
  else
    return std::tuple<>{};
}

// sqrt usable in constant expressions (std::sqrt is not constexpr in C++20).
constexpr double constexpr_sqrt(double x) {
  if (x <= 0) return 0;
  double r = x > 1 ? x : 1;
  for (int i = 0; i < 64; ++i) r = 0.5 * (r + x / r);
  return r;
}

inline const std::int32_t* mask_or_null(const std::int32_t* mask, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (mask[i] == 0) return mask;
  return nullptr;
}

}  // namespace ctformer::detail
