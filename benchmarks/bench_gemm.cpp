// GEMM throughput in the three forms a linear layer uses, on transformer shapes, for ctformer's
// xsimd kernel, its scalar twin and OpenBLAS cblas_sgemm (when built with it), at 1 and 2 threads,
// with ratios to OpenBLAS and to the machine's measured FMA peak.
//   NN  C(M,N)  = A(M,K) B(K,N)       forward      y  = x W
//   NT  dA(M,K) += dC(M,N) B(K,N)^T   input grad   dx += dy W^T
//   TN  dB(K,N) += A(M,K)^T dC(M,N)   weight grad  dW += x^T dy
#include <ctformer/tensor/kernels/gemm.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"

#ifdef CTFORMER_HAVE_OPENBLAS
#include <cblas.h>
extern "C" char* openblas_get_corename(void);
extern "C" void openblas_set_num_threads(int);
#endif

namespace k = ctformer::kernels;
namespace b = ctformer::bench;

namespace {

struct problem {
  std::size_t M, K, N;
};

enum class form { nn, nt, tn };
const char* form_name(form f) { return f == form::nn ? "NN" : f == form::nt ? "NT" : "TN"; }

struct operands {
  std::vector<float> a, w, c, dc, da, dw;
  explicit operands(const problem& p) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> d(-1, 1);
    auto fill = [&](std::vector<float>& v, std::size_t n) {
      v.resize(n);
      for (auto& x : v) x = d(rng);
    };
    fill(a, p.M * p.K);
    fill(w, p.K * p.N);
    fill(c, p.M * p.N);
    fill(dc, p.M * p.N);
    fill(da, p.M * p.K);
    fill(dw, p.K * p.N);
  }
};

void run_ctformer(form f, const problem& p, operands& o, ctformer::thread_pool& pool) {
  const auto M = p.M, K = p.K, N = p.N;
  switch (f) {
    case form::nn: k::gemm<float>(false, false, M, N, K, 1.f, o.a.data(), K, o.w.data(), N, 0.f, o.c.data(), N, nullptr, pool); break;
    case form::nt: k::gemm<float>(false, true, M, K, N, 1.f, o.dc.data(), N, o.w.data(), N, 1.f, o.da.data(), K, nullptr, pool); break;
    case form::tn: k::gemm<float>(true, false, K, N, M, 1.f, o.a.data(), K, o.dc.data(), N, 1.f, o.dw.data(), N, nullptr, pool); break;
  }
}

void run_scalar(form f, const problem& p, operands& o) {
  const auto M = p.M, K = p.K, N = p.N;
  switch (f) {
    case form::nn: k::scalar::gemm<float>(false, false, M, N, K, 1.f, o.a.data(), K, o.w.data(), N, 0.f, o.c.data(), N); break;
    case form::nt: k::scalar::gemm<float>(false, true, M, K, N, 1.f, o.dc.data(), N, o.w.data(), N, 1.f, o.da.data(), K); break;
    case form::tn: k::scalar::gemm<float>(true, false, K, N, M, 1.f, o.a.data(), K, o.dc.data(), N, 1.f, o.dw.data(), N); break;
  }
}

#ifdef CTFORMER_HAVE_OPENBLAS
void run_openblas(form f, const problem& p, operands& o) {
  const int M = int(p.M), K = int(p.K), N = int(p.N);
  switch (f) {
    case form::nn: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, o.a.data(), K, o.w.data(), N, 0.f, o.c.data(), N); break;
    case form::nt: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.f, o.dc.data(), N, o.w.data(), N, 1.f, o.da.data(), K); break;
    case form::tn: cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.f, o.a.data(), K, o.dc.data(), N, 1.f, o.dw.data(), N); break;
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  b::reexec_without(argv, {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"});
  bool quick = false;
  unsigned only_threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--threads" && i + 1 < argc) only_threads = unsigned(std::stoul(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_gemm [--quick] [--threads 1|2]\n");
      return 2;
    }
  }
  b::print_machine("bench_gemm");
#ifdef CTFORMER_HAVE_OPENBLAS
  std::printf("openblas:  core %s (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for this process)\n",
              openblas_get_corename());
#else
  std::printf("openblas:  not built in (install libopenblas-dev and reconfigure)\n");
#endif
  const double peak1 = b::measure_peak_flops(1), peak2 = b::measure_peak_flops(2);
  std::printf("peak:      %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on 2 threads (FMA loop)\n\n",
              peak1 / 1e9, peak2 / 1e9);

  const problem shapes[] = {{1024, 256, 768}, {1024, 256, 256}, {1024, 256, 1024}, {1024, 1024, 256}, {1024, 256, 512}};
  std::printf("%-16s %-4s %3s %11s %7s %11s %11s %9s\n", "M x K x N", "form", "thr", "ctformer", "%peak",
              "scalar", "openblas", "ct/blas");
  double worst_ratio[3] = {1e9, 1e9, 1e9};
  for (unsigned threads : {1u, 2u}) {
    if (only_threads && threads != only_threads) continue;
    ctformer::thread_pool pool(threads);
#ifdef CTFORMER_HAVE_OPENBLAS
    openblas_set_num_threads(int(threads));
#endif
    const double peak = threads == 1 ? peak1 : peak2;
    for (const auto& p : shapes) {
      operands o(p);
      const double flops = 2.0 * double(p.M) * double(p.K) * double(p.N);
      for (form f : {form::nn, form::nt, form::tn}) {
        // Interleave ctformer and OpenBLAS over several rounds and keep each one's best, so a
        // noisy neighbour on a shared machine does not favour whichever ran at a quiet moment.
        double t_ct = 1e30, t_bl = 0;
        const int rounds = quick ? 1 : 5;
        for (int r = 0; r < rounds; ++r) {
          t_ct = std::min(t_ct, b::best_time([&] { run_ctformer(f, p, o, pool); }, 0.1));
#ifdef CTFORMER_HAVE_OPENBLAS
          const double tb = b::best_time([&] { run_openblas(f, p, o); }, 0.1);
          t_bl = t_bl == 0 ? tb : std::min(t_bl, tb);
#endif
        }
        double t_sc = 0;
        if (threads == 1 && !quick) t_sc = b::best_time([&] { run_scalar(f, p, o); }, 0.0, 1);
        char shape[32];
        std::snprintf(shape, sizeof shape, "%zux%zux%zu", p.M, p.K, p.N);
        const double g_ct = flops / t_ct / 1e9;
        std::printf("%-16s %-4s %3u %7.1f GF/s %6.1f%% ", shape, form_name(f), threads, g_ct,
                    100.0 * flops / t_ct / peak);
        if (t_sc > 0) std::printf("%6.2f GF/s ", flops / t_sc / 1e9);
        else std::printf("%11s ", "-");
        if (t_bl > 0) {
          const double ratio = t_bl / t_ct;
          std::printf("%6.1f GF/s %8.2fx\n", flops / t_bl / 1e9, ratio);
          worst_ratio[threads] = std::min(worst_ratio[threads], ratio);
        } else {
          std::printf("%11s %9s\n", "-", "-");
        }
        std::fflush(stdout);
      }
    }
  }
#ifdef CTFORMER_HAVE_OPENBLAS
  std::printf("\nworst ctformer/OpenBLAS ratio: %.2fx at 1 thread (goal 0.90x), %.2fx at 2 threads (goal 0.85x)\n",
              worst_ratio[1], worst_ratio[2]);
#endif
  return 0;
}
