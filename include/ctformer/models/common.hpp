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

inline const std::int32_t* mask_or_null(const std::int32_t* mask, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (mask[i] == 0) return mask;
  return nullptr;
}

}  // namespace ctformer::detail
