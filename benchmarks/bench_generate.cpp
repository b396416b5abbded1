// Generation speed with and without the KV cache at context 256: a GPT (vocab 512, 4 layers,
// d_model 256, 4 heads, d_ff 1024, pre-LN, tied) generates greedily from a 1-token prompt until its
// context is full (256 new tokens), three ways, each timed over several runs (best and worst):
//   cache        deploy/generate.hpp with the KV cache: one cached position per token
//   recompute    an incremental forward over the whole prefix from an empty cache for every token
//                (the prefix's true length, run in 64-position passes)
//   full forward deploy/generate.hpp with use_cache = false: decoder_lm::forward over the 256-position
//                window for every token (the reference path)
// The ratios cache / recompute and cache / full forward are printed, with the tokens' agreement.
#include <ctformer/deploy/generate.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/models/init.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"

using namespace ctformer;
namespace b = ctformer::bench;

namespace {

constexpr gpt_config cfg{.vocab = 512, .context = 256, .d_model = 256, .heads = 4, .d_ff = 1024, .layers = 4};
using model = decoder_lm<cfg>;
constexpr std::size_t Ctx = cfg.context;

struct timing {
  double best = 1e30, worst = 0;
  std::vector<std::int32_t> tokens;
};

template <class F>
timing time_runs(int runs, F&& fn) {
  timing t;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = b::clock::now();
    auto toks = fn();
    const double s = std::chrono::duration<double>(b::clock::now() - t0).count();
    t.best = std::min(t.best, s);
    t.worst = std::max(t.worst, s);
    t.tokens = std::move(toks);
  }
  return t;
}

void row(const char* name, const timing& t) {
  const double n = double(t.tokens.size());
  std::printf("  %-13s %10.1f %10.1f %11.3f   %.3f / %.3f s\n", name, n / t.best, n / t.worst, 1e3 * t.best / n,
              t.best, t.worst);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  b::print_machine("bench_generate: KV-cache generation against recomputation");
  std::printf("model:     %s, %zu parameters\n", model::describe().c_str(), model::param_count);
  std::printf("kv cache:  %.2f MB (a compile-time figure: kv_cache<model>::bytes())\n",
              double(kv_cache<model>::bytes()) / 1e6);
  std::printf("task:      greedy, 1-token prompt, until the %zu-position context is full (%zu new tokens); %d runs each\n",
              Ctx, Ctx, runs);

  auto p = std::make_unique<model::params>();
  model::init(*p, 1);
  const std::vector<std::vector<std::int32_t>> prompt = {{7}};
  generate_options o;
  o.max_new_tokens = 10 * Ctx;
  o.sample.temperature = 0;
  o.when_full = context_policy::stop;  // ends after Ctx tokens with reason context_full

  for (unsigned threads : {1u, 2u}) {
    set_num_threads(threads);
    std::printf("\nthreads: %u\n", threads);
    std::printf("  %-13s %10s %10s %11s   %s\n", "", "tokens/s", "(worst)", "ms/token", "time best / worst");
    generator<model, 1> cached_gen, full_gen;
    o.use_cache = true;
    const timing cached = time_runs(runs, [&] { return cached_gen.run(*p, prompt, o)[0].tokens; });
    row("cache", cached);

    auto cache = kv_cache<model>::make();
    const timing recompute = time_runs(runs, [&] {
      std::vector<std::int32_t> seq = prompt[0], out;
      while (seq.size() <= Ctx) {
        cache->clear();
        const float* logits = extend<model>(*p, *cache, 0, std::span<const std::int32_t>(seq));
        const std::int32_t t = sampler::argmax(logits, cfg.vocab);
        seq.push_back(t);
        out.push_back(t);
      }
      return out;
    });
    row("recompute", recompute);

    o.use_cache = false;
    const timing full = time_runs(runs, [&] { return full_gen.run(*p, prompt, o)[0].tokens; });
    row("full forward", full);

    std::printf("  speed-up of the cache: %.1fx over recompute, %.1fx over the full forward (best times; goal >= 5x)\n",
                recompute.best / cached.best, full.best / cached.best);
    std::printf("  tokens: %zu; cache %s recompute, cache %s full forward\n", cached.tokens.size(),
                cached.tokens == recompute.tokens ? "==" : "!=", cached.tokens == full.tokens ? "==" : "!=");
  }
  return 0;
}
