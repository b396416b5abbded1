// What a user's program does first: include ctformer, build fixed tensors, run a kernel.
#include <ctformer/ctformer.hpp>

#include <cstdio>
#include <string>

int main() {
  static ctformer::tensor2<float, 2, 3> x;    // (B, K)
  static ctformer::tensor2<float, 3, 2> w;    // (K, N)
  static ctformer::tensor2<float, 2, 2> y;    // (B, N)
  x = {{1, 2, 3}, {4, 5, 6}};
  w = {{1, 0}, {0, 1}, {1, 1}};
  ctformer::kernels::gemm_nn<float>(2, 2, 3, x.data(), 3, w.data(), 2, y.data(), 2);
  const bool ok = y(0, 0) == 4 && y(0, 1) == 5 && y(1, 0) == 10 && y(1, 1) == 11;
  std::printf("y = [[%g %g] [%g %g]] simd=%s\n", y(0, 0), y(0, 1), y(1, 0), y(1, 1),
              std::string(ctformer::kernels::simd_arch_name()).c_str());
  std::puts(ok ? "consumer ok" : "consumer FAILED");
  return ok ? 0 : 1;
}
