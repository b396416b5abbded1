// Seeded sampling: a portable RNG (base/random.hpp's xoshiro256**; unlike std:: distributions it
// gives the same stream on every standard library), shuffles, train/validation/test splits
// (stratified by label: per class and split the count is within one example of the class's
// share, by rounding the class x split matrix with a small max-flow) and batch plans that pad or
// drop the last batch. k-fold indices are metrics/cross_validation.hpp's k_fold / stratified_k_fold.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "../base/random.hpp"
#include "../error.hpp"

namespace ctformer {

/// The sampling generator: xoshiro256** whose state words are SplitMix64 outputs of the seed
/// (one step earlier in SplitMix64's sequence than rng's seeding, which keeps split and shuffle
/// streams as they have always been).
class sample_rng {
 public:
  /// A generator seeded with seed.
  explicit sample_rng(std::uint64_t seed = 0) {
    for (auto& w : g_.s) {
      seed += 0x9E3779B97F4A7C15ull;
      w = mix64(seed - 0x9E3779B97F4A7C15ull);
    }
  }
  /// The next 64 random bits.
  std::uint64_t next() noexcept { return g_.next(); }
  /// Uniform in [0, n), unbiased.
  std::uint64_t uniform(std::uint64_t n) noexcept { return n <= 1 ? 0 : g_.below(n); }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform01() noexcept { return to_unit(next()); }

 private:
  xoshiro256ss g_;
};

template <class T>
void shuffle(std::span<T> v, sample_rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.uniform(i)]);
}

inline std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  sample_rng rng(seed);
  shuffle(std::span<std::size_t>(idx), rng);
  return idx;
}

/// Shares of the examples for validation and test.
struct split_fractions {
  double validation = 0.1;  ///< share for validation
  double test = 0.1;  ///< train gets the rest
};

/// Example indices of the train, validation and test parts.
struct index_split {
  std::vector<std::size_t> train;       ///< indices of the train part
  std::vector<std::size_t> validation;  ///< indices of the validation part
  std::vector<std::size_t> test;        ///< indices of the test part
};

namespace detail {
inline std::array<std::size_t, 3> split_sizes(std::size_t n, const split_fractions& f) {
  if (!(f.validation >= 0 && f.test >= 0 && f.validation + f.test <= 1))
    fail("split: fractions validation={} test={} must be >= 0 and sum to at most 1", f.validation, f.test);
  const std::size_t val = std::size_t(std::llround(f.validation * double(n)));
  const std::size_t test = std::min(n - val, std::size_t(std::llround(f.test * double(n))));
  return {n - val - test, val, test};
}

/// Rounds x (rows x cols, integer row and column sums) to integers with the same sums, each
/// entry to its floor or ceiling. Such a rounding always exists (max-flow integrality): the
/// fractional parts form a feasible flow from rows (supply = row deficit) to columns.
inline std::vector<std::vector<std::size_t>> controlled_round(const std::vector<std::vector<double>>& x,
                                                              const std::vector<std::size_t>& row_sum,
                                                              const std::vector<std::size_t>& col_sum) {
  const std::size_t R = x.size(), C = col_sum.size();
  std::vector<std::vector<std::size_t>> k(R, std::vector<std::size_t>(C));
  std::vector<long> row_need(R), col_need(C);
  std::vector<std::vector<int>> cap(R, std::vector<int>(C, 0)), flow(R, std::vector<int>(C, 0));
  for (std::size_t r = 0; r < R; ++r) {
    long s = 0;
    for (std::size_t c = 0; c < C; ++c) {
      /// A small tolerance keeps exact integers (up to rounding noise) from being rounded up.
      const double fl = std::floor(x[r][c] + 1e-9);
      k[r][c] = std::size_t(fl);
      cap[r][c] = (x[r][c] - fl > 1e-9) ? 1 : 0;
      s += long(fl);
    }
    row_need[r] = long(row_sum[r]) - s;
  }
  for (std::size_t c = 0; c < C; ++c) {
    long s = 0;
    for (std::size_t r = 0; r < R; ++r) s += long(k[r][c]);
    col_need[c] = long(col_sum[c]) - s;
  }
  // Augmenting paths (rows -> cols, back along used edges) on this tiny bipartite graph.
  for (std::size_t r0 = 0; r0 < R; ++r0) {
    while (row_need[r0] > 0) {
      std::vector<long> prev_row(C, -1);  ///< for each column, the row it was reached from
      std::vector<long> prev_col(R, -1);  ///< for each row, the column it was reached from
      std::vector<bool> seen_row(R, false);
      std::vector<std::size_t> queue{r0};
      seen_row[r0] = true;
      long end_col = -1;
      for (std::size_t qi = 0; qi < queue.size() && end_col < 0; ++qi) {
        const std::size_t r = queue[qi];
        for (std::size_t c = 0; c < C && end_col < 0; ++c) {
          if (prev_row[c] >= 0 || flow[r][c] >= cap[r][c]) continue;
          prev_row[c] = long(r);
          if (col_need[c] > 0) {
            end_col = long(c);
            break;
          }
          for (std::size_t r2 = 0; r2 < R; ++r2)
            if (!seen_row[r2] && flow[r2][c] > 0) {
              seen_row[r2] = true;
              prev_col[r2] = long(c);
              queue.push_back(r2);
            }
        }
      }
      if (end_col < 0) fail("stratified split: internal rounding failed (please report)");
      long c = end_col;
      --col_need[std::size_t(c)];
      --row_need[r0];
      for (;;) {
        const std::size_t r = std::size_t(prev_row[std::size_t(c)]);
        ++flow[r][std::size_t(c)];
        if (r == r0) break;
        const long c_back = prev_col[r];
        --flow[r][std::size_t(c_back)];
        c = c_back;
      }
    }
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t c = 0; c < C; ++c) k[r][c] += std::size_t(flow[r][c]);
  return k;
}
}  // namespace detail

inline index_split random_split(std::size_t n, const split_fractions& f, std::uint64_t seed) {
  const auto sizes = detail::split_sizes(n, f);
  const auto idx = shuffled_indices(n, seed);
  index_split s;
  s.validation.assign(idx.begin(), idx.begin() + std::ptrdiff_t(sizes[1]));
  s.test.assign(idx.begin() + std::ptrdiff_t(sizes[1]), idx.begin() + std::ptrdiff_t(sizes[1] + sizes[2]));
  s.train.assign(idx.begin() + std::ptrdiff_t(sizes[1] + sizes[2]), idx.end());
  return s;
}

/// Labels are class indices >= 0. Each split's count of class c is within one of
/// share(c) * split size; split sizes are the same as random_split's.
inline index_split stratified_split(std::span<const std::int32_t> labels, const split_fractions& f, std::uint64_t seed) {
  const std::size_t n = labels.size();
  if (n == 0) fail("stratified split: no examples");
  std::int32_t max_label = -1;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0) fail("stratified split: label {} of example {} is negative", labels[i], i);
    max_label = std::max(max_label, labels[i]);
  }
  std::vector<std::vector<std::size_t>> by_class(std::size_t(max_label) + 1);
  for (std::size_t i = 0; i < n; ++i) by_class[std::size_t(labels[i])].push_back(i);
  const auto sizes = detail::split_sizes(n, f);  ///< train, validation, test
  std::vector<std::vector<double>> x;
  std::vector<std::size_t> rows;
  for (const auto& cls : by_class) {
    std::vector<double> row(3);
    for (std::size_t s = 0; s < 3; ++s) row[s] = double(cls.size()) * double(sizes[s]) / double(n);
    x.push_back(row);
    rows.push_back(cls.size());
  }
  const auto k = detail::controlled_round(x, rows, {sizes[0], sizes[1], sizes[2]});
  sample_rng rng(seed);
  index_split out;
  for (std::size_t c = 0; c < by_class.size(); ++c) {
    auto& cls = by_class[c];
    shuffle(std::span<std::size_t>(cls), rng);
    auto it = cls.begin();
    out.validation.insert(out.validation.end(), it, it + std::ptrdiff_t(k[c][1]));
    it += std::ptrdiff_t(k[c][1]);
    out.test.insert(out.test.end(), it, it + std::ptrdiff_t(k[c][2]));
    it += std::ptrdiff_t(k[c][2]);
    out.train.insert(out.train.end(), it, cls.end());
  }
  /// Mix the classes within each split, so that batches taken in order are not sorted by class.
  shuffle(std::span<std::size_t>(out.train), rng);
  shuffle(std::span<std::size_t>(out.validation), rng);
  shuffle(std::span<std::size_t>(out.test), rng);
  return out;
}

// k-fold and stratified k-fold indices (scikit-learn's KFold / StratifiedKFold): k_fold and
// stratified_k_fold in metrics/cross_validation.hpp, with the driver that uses them.

enum class last_batch { pad, drop };

/// Rows of one batch: index[0..count) are examples, the rest (if any) are padding rows.
template <std::size_t B>
struct batch_rows {
  std::array<std::size_t, B> index{};  ///< examples: indices into the data set
  std::size_t count = 0;  ///< rows holding examples; rows from count on are padding
};

template <std::size_t B>
std::vector<batch_rows<B>> make_batches(std::span<const std::size_t> order, last_batch last = last_batch::pad) {
  static_assert(B > 0, "ctformer: a batch needs at least one row");
  std::vector<batch_rows<B>> out;
  for (std::size_t i = 0; i < order.size(); i += B) {
    batch_rows<B> b;
    b.count = std::min(B, order.size() - i);
    if (b.count < B && last == last_batch::drop) break;
    for (std::size_t j = 0; j < b.count; ++j) b.index[j] = order[i + j];
    out.push_back(b);
  }
  return out;
}

}  // namespace ctformer
