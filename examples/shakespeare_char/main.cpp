// shakespeare_char: trains a character-level GPT on a text file with nanoGPT's CPU settings,
// reports the validation loss and the wall time, then samples text with the KV-cache generator.
//   shakespeare_char <text file> [iterations] [save prefix] [seed]
// e.g. build/examples/shakespeare_char ../shared/data/tinyshakespeare/input.txt
#include <cstdio>
#include <cstdlib>
#include <string>

#include "shakespeare.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <text file> [iterations (2000)] [save prefix (none: -)] [seed (1337)]\n", argv[0]);
    return 2;
  }
  try {
    shakespeare_char::settings s;
    if (argc > 2) s.iterations = std::atol(argv[2]);
    if (argc > 3 && std::string(argv[3]) != "-") s.save_prefix = argv[3];
    if (argc > 4) s.seed = std::strtoull(argv[4], nullptr, 10);
    s.eval_every = 500;
    const auto c = shakespeare_char::load(argv[1]);
    std::printf("%s: %zu characters, vocabulary %zu; train %zu, validation %zu\n", argv[1],
                c.train.size() + c.val.size(), c.tokenizer.vocab_size(), c.train.size(), c.val.size());
    std::printf("model: 4 layers, 4 heads, d_model 128, context 64; batch 12, %ld iterations; %u thread(s), simd %s\n",
                s.iterations, ctformer::num_threads(), std::string(ctformer::kernels::simd_arch_name()).c_str());
    const auto r = shakespeare_char::train(c, s);
    std::printf("parameters: %zu (model vocabulary %zu)\n", r.params, r.model_vocab);
    for (const auto& [step, loss] : r.val_history) std::printf("  step %5ld  validation loss %.4f\n", step, loss);
    std::printf("validation loss %.4f after %ld steps (nanoGPT's figure for these settings: 1.88)\n", r.val_loss, r.steps);
    std::printf("training wall time %.1f s (including %zu validation passes); total %.1f s\n", r.train_seconds,
                r.val_history.size(), r.total_seconds);
    if (!s.save_prefix.empty())
      std::printf("saved %s.safetensors and %s.tokenizer.json\n", s.save_prefix.c_str(), s.save_prefix.c_str());
    std::printf("---- sample (%zu characters, temperature %.1f, top-k %zu, seed %llu, KV cache) ----\n%s\n----\n",
                s.sample_chars, double(s.temperature), s.top_k, (unsigned long long)s.sample_seed, r.sample.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shakespeare_char: %s\n", e.what());
    return 1;
  }
}
