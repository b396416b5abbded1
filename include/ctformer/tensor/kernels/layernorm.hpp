// LayerNorm over rows of length C: y = (x - mean) * rstd * w + b, rstd = 1 / sqrt(var + eps),
// with the biased variance (as PyTorch). Forward caches mean and rstd per row.
// Backward (adds into dx, dw, db): with n = (x - mean) * rstd and g = dy * w,
// dx += rstd * (g - mean(g) - n * mean(g * n)), dw += dy * n, db += dy.
#pragma once

#include <cmath>
#include <cstddef>

#include "simd.hpp"

CTFORMER_KERNELS_BEGIN

namespace ctformer::kernels {

/// Rows are walked one batch at a time with a padded last batch (see simd.hpp), so a row's result
/// depends only on its values and C: the same row gives the same bits in any batch of rows.
template <class T>
void layernorm_forward(T* CTFORMER_RESTRICT y, T* mean, T* rstd, const T* CTFORMER_RESTRICT x,
                       const T* w, const T* b, std::size_t rows, std::size_t C, T eps = T(1e-5)) {
  using B = simd<T>;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C;
    T* yr = y + r * C;
    B vs(T(0));
    for_each_block<T>(C, [&](std::size_t j, std::size_t count) { vs += load_n(xr + j, count); });
    const T m = v::hadd(vs) / T(C);
    const B vm(m);
    B vv(T(0));
    for_each_block<T>(C, [&](std::size_t j, std::size_t count) {
      const B d = load_n(xr + j, count, m) - vm;  ///< padding m: d is exactly 0 there
      vv = v::fma(d, d, vv);
    });
    const T rs = T(1) / std::sqrt(v::hadd(vv) / T(C) + eps);
    const B vr(rs);
    elementwise(yr, C, [&](B xv, B wv, B bv) { return v::fma((xv - vm) * vr, wv, bv); }, xr, w, b);
    if (mean) mean[r] = m;
    if (rstd) rstd[r] = rs;
  }
}

template <class T>
void layernorm_backward(T* CTFORMER_RESTRICT dx, T* CTFORMER_RESTRICT dw, T* CTFORMER_RESTRICT db,
                        const T* dy, const T* x, const T* w, const T* mean, const T* rstd,
                        std::size_t rows, std::size_t C) {
  using B = simd<T>;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C;
    const T* dyr = dy + r * C;
    T* dxr = dx + r * C;
    const T m = mean[r], rs = rstd[r];
    const B vm(m), vr(rs);
    /// Two means over the row: of g = dy * w and of g * n (padding dy = 0 adds nothing).
    B vg(T(0)), vgn(T(0));
    for_each_block<T>(C, [&](std::size_t j, std::size_t count) {
      const B n = (load_n(xr + j, count, m) - vm) * vr;
      const B g = load_n(dyr + j, count) * load_n(w + j, count);
      vg += g;
      vgn = v::fma(g, n, vgn);
    });
    const B vmg(v::hadd(vg) / T(C)), vmgn(v::hadd(vgn) / T(C));
    for_each_block<T>(C, [&](std::size_t j, std::size_t count) {
      const B n = (load_n(xr + j, count) - vm) * vr;
      const B d = load_n(dyr + j, count);
      const B g = d * load_n(w + j, count);
      store_n<T>(load_n(db + j, count) + d, db + j, count);
      store_n<T>(v::fma(d, n, load_n(dw + j, count)), dw + j, count);
      store_n<T>(load_n(dxr + j, count) + (g - vmg - n * vmgn) * vr, dxr + j, count);
    });
  }
}

namespace scalar {

template <class T>
void layernorm_forward(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b,
                       std::size_t rows, std::size_t C, T eps = T(1e-5)) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C;
    T m = 0;
    for (std::size_t j = 0; j < C; ++j) m += xr[j];
    m /= T(C);
    T v = 0;
    for (std::size_t j = 0; j < C; ++j) v += (xr[j] - m) * (xr[j] - m);
    v /= T(C);
    const T rs = T(1) / std::sqrt(v + eps);
    for (std::size_t j = 0; j < C; ++j) y[r * C + j] = (xr[j] - m) * rs * w[j] + b[j];
    if (mean) mean[r] = m;
    if (rstd) rstd[r] = rs;
  }
}

template <class T>
void layernorm_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const T* mean,
                        const T* rstd, std::size_t rows, std::size_t C) {
  for (std::size_t r = 0; r < rows; ++r) {
    T mg = 0, mgn = 0;
    for (std::size_t j = 0; j < C; ++j) {
      const T n = (x[r * C + j] - mean[r]) * rstd[r];
      mg += dy[r * C + j] * w[j];
      mgn += dy[r * C + j] * w[j] * n;
    }
    mg /= T(C);
    mgn /= T(C);
    for (std::size_t j = 0; j < C; ++j) {
      const T n = (x[r * C + j] - mean[r]) * rstd[r];
      db[j] += dy[r * C + j];
      dw[j] += dy[r * C + j] * n;
      dx[r * C + j] += (dy[r * C + j] * w[j] - mg - n * mgn) * rstd[r];
    }
  }
}

}  // namespace scalar
}  // namespace ctformer::kernels

CTFORMER_KERNELS_END
