// Bit-for-bit comparison of two params-like structs (weights, gradients, optimizer moments),
// written once against for_each_tensor. first_diff, when given, names the first differing
// tensor and element.
#pragma once

#include <ctformer/tensor/visit.hpp>

#include <cstddef>
#include <cstring>
#include <sstream>
#include <string>

namespace ctformer::testing {

template <class P>
bool same_bits(const P& a, const P& b, std::string* first_diff = nullptr) {
  bool same = true;
  for_each_tensor(a, b, [&](const tensor_info& info, const auto& x, const auto& y) {
    if (!same || std::memcmp(x.data(), y.data(), x.size() * sizeof(*x.data())) == 0) return;
    same = false;
    if (!first_diff) return;
    std::ostringstream os;
    os << info.str();
    for (std::size_t i = 0; i < x.size(); ++i)
      if (std::memcmp(x.data() + i, y.data() + i, sizeof(*x.data())) != 0) {
        os << " [" << i << "] " << x.data()[i] << " vs " << y.data()[i];
        break;
      }
    *first_diff = os.str();
  });
  return same;
}

}  // namespace ctformer::testing
