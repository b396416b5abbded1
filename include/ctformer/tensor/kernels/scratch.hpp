// What the GEMM needs of a thread's scratch, as compile-time figures. A hosted build gives each
// thread 5 MiB (packing buffers sized for the caches); a microcontroller gives the one thread
// CTFORMER_SCRATCH_BYTES of static storage, and a firmware sizes it from its model before it
// includes the library:
//   #include <ctformer/tensor/kernels/scratch.hpp>
//   #define CTFORMER_SCRATCH_BYTES (ctformer::kernels::gemm_scratch_bytes<float>(cfg.d_model))
// With a scratch smaller than the blocked path needs, every product runs the few-row path
// (kernels/gemm.hpp), with the same rounding: the figure changes speed and RAM, never results.
#pragma once

#include <cstddef>

namespace ctformer::kernels {

/// The K blocking of every GEMM: the only blocking size that changes rounding.
inline constexpr std::size_t gemm_kc = 256;

/// Scratch for products whose transposed operand has inner dimension up to max_k (inference: the
/// tied LM head's d_model, attention's head size), `cols` columns of it at a time.
/// Never less than one column of a full K block, which any product can then use.
template <class T>
constexpr std::size_t gemm_scratch_bytes(std::size_t max_k, std::size_t cols = 8) {
  const std::size_t k = max_k < gemm_kc ? max_k : gemm_kc;
  return (k * cols > gemm_kc ? k * cols : gemm_kc) * sizeof(T);
}

}  // namespace ctformer::kernels
