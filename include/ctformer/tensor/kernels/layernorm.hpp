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

template <class T>
void layernorm_forward(T* CTFORMER_RESTRICT y, T* mean, T* rstd, const T* CTFORMER_RESTRICT x,
                       const T* w, const T* b, std::size_t rows, std::size_t C, T eps = T(1e-5)) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C;
    T* yr = y + r * C;
    std::size_t j = 0;
    B vs(T(0));
    for (; j + W <= C; j += W) vs += B::load_unaligned(xr + j);
    T s = xsimd::hadd(vs);
    for (; j < C; ++j) s += xr[j];
    const T m = s / T(C);
    const B vm(m);
    B vv(T(0));
    for (j = 0; j + W <= C; j += W) {
      const B d = B::load_unaligned(xr + j) - vm;
      vv = fmadd(d, d, vv);
    }
    T v = xsimd::hadd(vv);
    for (; j < C; ++j) v += (xr[j] - m) * (xr[j] - m);
    const T rs = T(1) / std::sqrt(v / T(C) + eps);
    const B vr(rs);
    for (j = 0; j + W <= C; j += W) {
      const B n = (B::load_unaligned(xr + j) - vm) * vr;
      fmadd(n, B::load_unaligned(w + j), B::load_unaligned(b + j)).store_unaligned(yr + j);
    }
    for (; j < C; ++j) yr[j] = (xr[j] - m) * rs * w[j] + b[j];
    if (mean) mean[r] = m;
    if (rstd) rstd[r] = rs;
  }
}

template <class T>
void layernorm_backward(T* CTFORMER_RESTRICT dx, T* CTFORMER_RESTRICT dw, T* CTFORMER_RESTRICT db,
                        const T* dy, const T* x, const T* w, const T* mean, const T* rstd,
                        std::size_t rows, std::size_t C) {
  using B = simd<T>;
  constexpr std::size_t W = B::size;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C;
    const T* dyr = dy + r * C;
    T* dxr = dx + r * C;
    const T m = mean[r], rs = rstd[r];
    const B vm(m), vr(rs);
    // Two means over the row: of g = dy * w and of g * n.
    B vg(T(0)), vgn(T(0));
    std::size_t j = 0;
    for (; j + W <= C; j += W) {
      const B n = (B::load_unaligned(xr + j) - vm) * vr;
      const B g = B::load_unaligned(dyr + j) * B::load_unaligned(w + j);
      vg += g;
      vgn = fmadd(g, n, vgn);
    }
    T sg = xsimd::hadd(vg), sgn = xsimd::hadd(vgn);
    for (; j < C; ++j) {
      const T n = (xr[j] - m) * rs;
      const T g = dyr[j] * w[j];
      sg += g;
      sgn += g * n;
    }
    const T mg = sg / T(C), mgn = sgn / T(C);
    const B vmg(mg), vmgn(mgn);
    for (j = 0; j + W <= C; j += W) {
      const B n = (B::load_unaligned(xr + j) - vm) * vr;
      const B d = B::load_unaligned(dyr + j);
      const B g = d * B::load_unaligned(w + j);
      (B::load_unaligned(db + j) + d).store_unaligned(db + j);
      fmadd(d, n, B::load_unaligned(dw + j)).store_unaligned(dw + j);
      const B gx = (g - vmg - n * vmgn) * vr;
      (B::load_unaligned(dxr + j) + gx).store_unaligned(dxr + j);
    }
    for (; j < C; ++j) {
      const T n = (xr[j] - m) * rs;
      const T g = dyr[j] * w[j];
      db[j] += dyr[j];
      dw[j] += dyr[j] * n;
      dxr[j] += (g - mg - n * mgn) * rs;
    }
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
