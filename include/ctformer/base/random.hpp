// Reproducible random numbers that do not depend on the standard library's distributions (which
// differ between implementations) nor on the thread count. counter_rng maps (key, index) to a
// number with SplitMix64's finalizer, so element i of a dropout mask is the same whichever thread
// draws it; rng is a small sequential generator (xoshiro256**) whose state can be saved.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace ctformer {

/// SplitMix64's output function: a bijective 64-bit mixer.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// A key derived from several integers (seed, step, layer, site...).
constexpr std::uint64_t derive_key(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                                   std::uint64_t c = 0) noexcept {
  return mix64(mix64(mix64(seed ^ 0x5851F42D4C957F2Dull) + a) + b) + c;
}

/// Uniform in [0, 1) with 53 random bits.
constexpr double to_unit(std::uint64_t x) noexcept { return double(x >> 11) * 0x1.0p-53; }

/// A stateless generator: value i is a hash of (key, i), so draws need no order.
struct counter_rng {
  std::uint64_t key = 0;  ///< the stream's key (derive_key)
  /// 64 random bits of draw i.
  constexpr std::uint64_t bits(std::uint64_t i) const noexcept { return mix64(key ^ mix64(i)); }
  /// Draw i, uniform in [0, 1).
  constexpr double uniform(std::uint64_t i) const noexcept { return to_unit(bits(i)); }
};

/// The high 64 bits of a 64 x 64-bit product, in portable code (32-bit targets have no 128-bit
/// integer type).
constexpr std::uint64_t mul_hi64(std::uint64_t a, std::uint64_t b, std::uint64_t& lo) noexcept {
  const std::uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32, b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
  const std::uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const std::uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
  lo = (mid << 32) | (p00 & 0xFFFFFFFFu);
  return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/// xoshiro256** (Blackman and Vigna): the state step shared by every sequential generator here.
struct xoshiro256ss {
  std::array<std::uint64_t, 4> s{};  ///< the generator state
  /// The next 64 random bits.
  constexpr std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  /// Uniform integer in [0, n) without modulo bias (Lemire's multiply-and-reject); 0 for n == 0.
  constexpr std::uint64_t below(std::uint64_t n) noexcept {
    if (n == 0) return 0;
    for (;;) {
      std::uint64_t low = 0;
      const std::uint64_t high = mul_hi64(next(), n, low);
      if (low >= n || low >= (0 - n) % n) return high;
    }
  }
  /// x rotated left by k bits.
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
};

/// xoshiro256** seeded through SplitMix64. Normal deviates use Box-Muller with both outputs.
class rng {
 public:
  /// A generator seeded with seed.
  explicit rng(std::uint64_t seed = 0) noexcept { reseed(seed); }

  /// Restarts the sequence of seed and forgets a spare normal deviate.
  void reseed(std::uint64_t seed) noexcept {
    std::uint64_t x = seed;
    for (auto& w : g_.s) {
      x += 0x9E3779B97F4A7C15ull;
      w = mix64(x);
    }
    has_spare_ = false;
  }

  /// The next 64 random bits.
  std::uint64_t next() noexcept { return g_.next(); }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() noexcept { return to_unit(next()); }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n) without modulo bias (Lemire's method with rejection).
  std::uint64_t below(std::uint64_t n) noexcept { return g_.below(n); }
  /// A standard normal deviate (Box-Muller; the second of each pair is kept for the next call).
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double th = 6.283185307179586 * u2;
    spare_ = r * std::sin(th);
    has_spare_ = true;
    return r * std::cos(th);
  }
  /// A normal deviate with the given mean and standard deviation.
  double normal(double mean, double stddev) noexcept { return mean + stddev * normal(); }

  /// The full state, for checkpoints.
  struct state_type {
    std::array<std::uint64_t, 4> s;  ///< xoshiro256** state words
    bool has_spare;  ///< a Box-Muller deviate is waiting
    double spare;  ///< the waiting deviate
  };
  /// The full state, for checkpoints.
  state_type state() const noexcept { return {g_.s, has_spare_, spare_}; }
  /// Restores a state from state().
  void set_state(const state_type& st) noexcept {
    g_.s = st.s;
    has_spare_ = st.has_spare;
    spare_ = st.spare;
  }

 private:
  xoshiro256ss g_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace ctformer
