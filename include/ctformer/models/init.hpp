// Seeded, reproducible initialization of any params-like struct, by tensor role:
// LayerNorm scales 1, biases 0, embeddings normal(0, std), weights (in, out) by the scheme:
// gpt2 normal(0, std) with residual projections scaled by 1/sqrt(2 L); normal(0, std);
// xavier_uniform U(+-sqrt(6/(in+out))); xavier_normal normal(0, sqrt(2/(in+out)));
// kaiming normal(0, sqrt(2/in)). Each tensor draws from its own stream keyed by its name.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../config.hpp"
#include "../base/random.hpp"
#include "../tensor/visit.hpp"

namespace ctformer {

namespace detail {
inline std::uint64_t hash_name(std::string_view s) noexcept {
  std::uint64_t h = 1469598103934665603ull;  ///< FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
}  // namespace detail

template <class P>
void initialize(P& params, init_scheme scheme, double stddev, std::size_t layers, std::uint64_t seed) {
  for_each_tensor(params, [&](const tensor_info& info, auto& t) {
    using T = typename std::remove_reference_t<decltype(t)>::value_type;
    char buf[256];
    rng r(seed ^ detail::hash_name(info.format(buf)));
    const std::size_t n = t.size();
    T* d = t.data();
    switch (info.role) {
      case role::norm:
        for (std::size_t i = 0; i < n; ++i) d[i] = T(1);
        return;
      case role::bias:
        for (std::size_t i = 0; i < n; ++i) d[i] = T(0);
        return;
      case role::embedding:
        for (std::size_t i = 0; i < n; ++i) d[i] = T(r.normal(0.0, stddev));
        return;
      case role::weight:
        break;
    }
    const double fan_in = double(t.shape()[0]);
    const double fan_out = t.dimension() > 1 ? double(t.shape()[1]) : 1.0;
    switch (scheme) {
      case init_scheme::gpt2: {
        const double s = info.residual_proj() ? stddev / std::sqrt(2.0 * double(layers)) : stddev;
        for (std::size_t i = 0; i < n; ++i) d[i] = T(r.normal(0.0, s));
        break;
      }
      case init_scheme::normal:
        for (std::size_t i = 0; i < n; ++i) d[i] = T(r.normal(0.0, stddev));
        break;
      case init_scheme::xavier_uniform: {
        const double a = std::sqrt(6.0 / (fan_in + fan_out));
        for (std::size_t i = 0; i < n; ++i) d[i] = T(r.uniform(-a, a));
        break;
      }
      case init_scheme::xavier_normal: {
        const double s = std::sqrt(2.0 / (fan_in + fan_out));
        for (std::size_t i = 0; i < n; ++i) d[i] = T(r.normal(0.0, s));
        break;
      }
      case init_scheme::kaiming: {
        const double s = std::sqrt(2.0 / fan_in);
        for (std::size_t i = 0; i < n; ++i) d[i] = T(r.normal(0.0, s));
        break;
      }
    }
  });
}

/// Sets every tensor to zero (gradients, optimizer moments).
template <class P>
void zero(P& params) {
  for_each_tensor(params, [](const tensor_info&, auto& t) { std::fill(t.data(), t.data() + t.size(), 0); });
}

}  // namespace ctformer
