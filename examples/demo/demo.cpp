// The README's first command runs this. Until the training demo lands it fits a linear layer
// y = x W + b to a hidden target map with the library's own kernels (GEMM forward and backward,
// AdamW), and prints the loss falling.
#include <ctformer/ctformer.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>

namespace k = ctformer::kernels;
constexpr std::size_t N = 256, C = 64, F = 32;  // rows, inputs, outputs

struct problem {
  ctformer::tensor2<float, N, C> x;       // (N, C)
  ctformer::tensor2<float, N, F> target;  // (N, F)
  ctformer::tensor2<float, C, F> w, dw, m_w, v_w;
  ctformer::tensor1<float, F> b, db, m_b, v_b;
  ctformer::tensor2<float, N, F> y, dy;
};

int main() {
  auto p = std::make_unique<problem>();
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 1.f);
  ctformer::tensor2<float, C, F> w_true;
  for (auto& v : w_true) v = nd(rng) / 8;
  for (auto& v : p->x) v = nd(rng);
  k::gemm_nn<float>(N, F, C, p->x.data(), C, w_true.data(), F, p->target.data(), F);
  for (auto& v : p->target) v += 0.01f * nd(rng);
  p->w.fill(0);
  p->b.fill(0);
  for (auto* t : {&p->m_w, &p->v_w}) t->fill(0);
  p->m_b.fill(0);
  p->v_b.fill(0);

  k::adamw_step<float> opt;
  opt.lr = 3e-2f;
  opt.weight_decay = 0;
  const auto t0 = std::chrono::steady_clock::now();
  float loss = 0;
  for (int step = 1; step <= 300; ++step) {
    k::gemm_nn<float>(N, F, C, p->x.data(), C, p->w.data(), F, p->y.data(), F, p->b.data());
    loss = 0;
    for (std::size_t i = 0; i < N * F; ++i) {
      const float d = p->y.data()[i] - p->target.data()[i];
      loss += d * d / (N * F);
      p->dy.data()[i] = 2 * d / (N * F);
    }
    p->dw.fill(0);
    p->db.fill(0);
    k::gemm_tn<float>(C, F, N, p->x.data(), C, p->dy.data(), F, p->dw.data(), F);
    for (std::size_t i = 0; i < N; ++i) k::axpy(p->db.data(), 1.f, p->dy.data() + i * F, F);
    opt.step = step;
    k::adamw_update(p->w.data(), p->dw.data(), p->m_w.data(), p->v_w.data(), C * F, opt);
    k::adamw_update(p->b.data(), p->db.data(), p->m_b.data(), p->v_b.data(), F, opt);
    if (step == 1 || step % 50 == 0) std::printf("step %3d  mse %.6f\n", step, loss);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("fitted a %zux%zu linear layer in %.3f s (simd: %s); final mse %.6f (noise floor 1e-4)\n",
              C, F, s, std::string(k::simd_arch_name()).c_str(), loss);
  return loss < 1e-3f ? 0 : 1;
}
