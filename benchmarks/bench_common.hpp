// Shared benchmark plumbing: a machine report (CPU, compiler, flags, SIMD, threads), best-of-N
// wall timing, the machine's measured peak FLOP/s from an FMA loop, and a re-exec that drops
// environment variables (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) for this process only.
#pragma once

#include <ctformer/tensor/kernels/simd.hpp>
#include <ctformer/tensor/threading.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#ifndef CTFORMER_BENCH_FLAGS
#define CTFORMER_BENCH_FLAGS "?"
#endif

namespace ctformer::bench {

// If any of `vars` is set, unset them and exec this program again, so that libraries which read
// them at load time (OpenBLAS does) see a clean environment. Returns normally otherwise.
inline void reexec_without(char** argv, std::initializer_list<const char*> vars) {
  bool any = false;
  for (const char* v : vars) {
    if (std::getenv(v)) {
      std::fprintf(stderr, "note: unsetting %s=%s for this benchmark process\n", v, std::getenv(v));
      unsetenv(v);
      any = true;
    }
  }
  if (any) {
    execv("/proc/self/exe", argv);
    std::perror("execv /proc/self/exe");  // fall through: keep going with the cleaned env
  }
}

inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
      auto p = line.find(':');
      if (p != std::string::npos) return line.substr(p + 2);
    }
  }
  return "unknown";
}

inline void print_machine(const char* title) {
  std::printf("== %s ==\n", title);
  std::printf("cpu:       %s (%u hardware threads)\n", cpu_model().c_str(),
              std::thread::hardware_concurrency());
#if defined(__clang__)
  std::printf("compiler:  clang %s\n", __clang_version__);
#elif defined(__GNUC__)
  std::printf("compiler:  g++ %s\n", __VERSION__);
#endif
  std::printf("flags:     %s\n", CTFORMER_BENCH_FLAGS);
  std::printf("simd:      %s (%zu floats per vector)\n",
              std::string(kernels::simd_arch_name()).c_str(), kernels::simd_width<float>);
}

using clock = std::chrono::steady_clock;

// Best wall time of fn() in seconds over repeated runs lasting at least min_total seconds.
template <class F>
double best_time(F&& fn, double min_total = 0.3, int min_reps = 3) {
  fn();  // warm-up
  double best = 1e30, total = 0;
  for (int r = 0; r < min_reps || total < min_total; ++r) {
    auto t0 = clock::now();
    fn();
    double s = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::min(best, s);
    total += s;
    if (r > 1000) break;
  }
  return best;
}

namespace detail {
// 12 independent FMA chains, enough to cover FMA latency times the number of FMA pipes.
inline double fma_loop(long iters) {
  using B = kernels::simd<float>;
  B acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = B(float(i) * 1e-3f);
  const B a(0.999999f), b(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = xsimd::fma(acc[i], a, b);
  }
  float s = 0;
  for (int i = 0; i < 12; ++i) s += xsimd::hadd(acc[i]);
  return double(s);
}
}  // namespace detail

// Peak single-precision FLOP/s of `threads` cores, measured with an FMA loop (2 flops per lane).
inline double measure_peak_flops(unsigned threads) {
  const long iters = 40'000'000;
  const double flops_per_thread = double(iters) * 12 * 2 * kernels::simd_width<float>;
  double best = 0;
  // Best of several runs: on a shared virtual machine a sibling tenant can steal a core briefly.
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<std::thread> ts;
    volatile double sink = 0;
    auto t0 = clock::now();
    for (unsigned t = 1; t < threads; ++t) ts.emplace_back([&] { sink = sink + detail::fma_loop(iters); });
    sink = sink + detail::fma_loop(iters);
    for (auto& t : ts) t.join();
    double s = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::max(best, flops_per_thread * threads / s);
  }
  return best;
}

}  // namespace ctformer::bench
