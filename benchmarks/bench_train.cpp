// Training throughput of GPT-2-style models (pre-LN, GELU, learned positions, tied head, AdamW,
// clip 1.0) for two configs, at 1 and 2 threads: tokens/s, model FLOP/s as a fraction of the
// machine's measured peak (model FLOPs per token: 6 N + 12 L T C, N without position embeddings,
// as nanoGPT), and training memory. When PyTorch is importable it runs
// benchmarks/reference/torch_train.py on the same models in the same run and prints the ratio.
//   S: vocab 512, context 128, 4 layers, d_model 256, 4 heads, batch 8
//   M: vocab 2048, context 256, 6 layers, d_model 384, 6 heads, batch 4
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"

using namespace ctformer;
namespace b = ctformer::bench;

#ifndef CTFORMER_SOURCE_DIR
#define CTFORMER_SOURCE_DIR "."
#endif

namespace {

constexpr gpt_config cfg_s{.vocab = 512, .context = 128, .d_model = 256, .heads = 4, .d_ff = 1024, .layers = 4};
constexpr gpt_config cfg_m{.vocab = 2048, .context = 256, .d_model = 384, .heads = 6, .d_ff = 1536, .layers = 6};

struct result {
  double tokens_per_s = 0;
  double step_s = 0;
};

template <gpt_config Cfg, std::size_t B>
result run_ctformer(unsigned threads, int steps) {
  using model = decoder_lm<Cfg>;
  constexpr std::size_t S = Cfg.context;
  set_num_threads(threads);
  adamw opt;
  opt.lr = 1e-3;
  opt.beta2 = 0.95;
  opt.weight_decay = 0.1;
  auto t = std::make_unique<trainer<model, adamw>>(opt);
  auto batch = std::make_unique<token_batch<B, S>>();
  rng r(1);
  for (std::size_t i = 0; i < B * S; ++i) {
    batch->ids.data()[i] = std::int32_t(r.below(Cfg.vocab));
    batch->targets.data()[i] = std::int32_t(r.below(Cfg.vocab));
    batch->attention_mask.data()[i] = 1;
    batch->token_type.data()[i] = 0;
  }
  auto ws = std::make_unique<typename model::template workspace<B, S>>();
  for (int i = 0; i < 3; ++i) t->train_step(*batch, *ws);
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    const auto t0 = b::clock::now();
    t->train_step(*batch, *ws);
    times.push_back(std::chrono::duration<double>(b::clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  set_num_threads(1);
  result res;
  res.step_s = times[times.size() / 2];
  res.tokens_per_s = double(B * S) / res.step_s;
  return res;
}

// Runs the PyTorch reference; returns tokens/s (median step) or 0 when PyTorch is unavailable.
double run_torch(const char* config, unsigned threads, int steps) {
  const std::string script = std::string(CTFORMER_SOURCE_DIR) + "/benchmarks/reference/torch_train.py";
  // torch.set_num_threads does not reach Debian's OpenBLAS, whose own pool would otherwise take
  // every core even in the "1 thread" run: its thread count is pinned through the environment.
  const std::string n = std::to_string(threads);
  const std::string cmd = "OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=" + n + " OPENBLAS_NUM_THREADS=" + n +
                          " env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 " + script + " --config " + config + " --threads " + std::to_string(threads) +
                          " --steps " + std::to_string(steps) + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0;
  char buf[4096];
  std::string out;
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  if (pclose(p) != 0 || out.empty()) return 0;
  try {
    return json::value::parse(out).at("tokens_per_s").as_number();
  } catch (const error&) {
    return 0;
  }
}

template <gpt_config Cfg, std::size_t B>
void bench_config(const char* name, int steps, bool with_torch, double peak1, double peak2) {
  using model = decoder_lm<Cfg>;
  using tr = trainer<model, adamw>;
  constexpr std::size_t S = Cfg.context;
  const double flops_per_token = model::training_flops_per_token(S);
  std::printf("\nconfig %s: vocab %zu, context %zu, %zu layers, d_model %zu, %zu heads, batch %zu; %zu parameters\n",
              name, Cfg.vocab, Cfg.context, Cfg.layers, Cfg.d_model, Cfg.heads, B, model::param_count);
  std::printf("  training memory %.1f MB (weights %.1f, grads %.1f, AdamW state %.1f, activations %.1f); "
              "%.1f MFLOP per token\n",
              double(tr::template bytes_at<B, S>) / 1e6, double(model::weight_bytes) / 1e6,
              double(model::grad_bytes) / 1e6, 2.0 * double(model::weight_bytes) / 1e6,
              double(sizeof(typename model::template workspace<B, S>)) / 1e6, flops_per_token / 1e6);
  std::printf("  %3s %12s %8s %12s %8s %10s\n", "thr", "ctformer", "%peak", "pytorch", "%peak", "ct/torch");
  for (unsigned threads : {1u, 2u}) {
    const double peak = threads == 1 ? peak1 : peak2;
    const result ct = run_ctformer<Cfg, B>(threads, steps);
    const double torch = with_torch ? run_torch(name, threads, steps) : 0;
    std::printf("  %3u %8.0f t/s %7.1f%% ", threads, ct.tokens_per_s, 100 * ct.tokens_per_s * flops_per_token / peak);
    if (torch > 0)
      std::printf("%8.0f t/s %7.1f%% %9.2fx\n", torch, 100 * torch * flops_per_token / peak, ct.tokens_per_s / torch);
    else
      std::printf("%12s %8s %10s\n", "-", "-", "-");
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  b::reexec_without(argv, {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"});
  int steps = 10;
  bool with_torch = true;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (a == "--no-torch") with_torch = false;
    else if (a == "--config" && i + 1 < argc) only = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_train [--steps N] [--config S|M] [--no-torch]\n");
      return 2;
    }
  }
  b::print_machine("bench_train");
  const double peak1 = b::measure_peak_flops(1), peak2 = b::measure_peak_flops(2);
  std::printf("peak:      %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on 2 threads (FMA loop)\n", peak1 / 1e9, peak2 / 1e9);
  std::printf("timing:    median of %d steps after 3 warm-up steps; PyTorch the same, from torch_train.py\n", steps);
  if (only.empty() || only == "S") bench_config<cfg_s, 8>("S", steps, with_torch, peak1, peak2);
  if (only.empty() || only == "M") bench_config<cfg_m, 4>("M", steps, with_torch, peak1, peak2);
  return 0;
}
