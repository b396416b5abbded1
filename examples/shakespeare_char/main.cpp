// shakespeare_char: trains a character-level GPT on a text file with nanoGPT's CPU settings,
// reports the validation loss and the wall time, then samples text with the KV-cache generator.
//   shakespeare_char <text file> [--iterations N] [--seed N] [--save PREFIX] [--weight-decay X]
//                    [--decay-embeddings 0|1] [--clip X] [--sample N]
// e.g. build/examples/shakespeare_char ../shared/data/tinyshakespeare/input.txt
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "shakespeare.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr,
                 "usage: %s <text file> [--iterations N (2000)] [--seed N (1337)] [--save PREFIX] [--weight-decay X (0.1)]\n"
                 "       [--decay-embeddings 0|1 (1)] [--clip X (1.0)] [--sample N characters (500)]\n",
                 argv[0]);
    return 2;
  }
  try {
    shakespeare_char::settings s;
    s.eval_every = 500;
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) ctformer::fail("option {} needs a value", a);
      const char* v = argv[++i];
      if (a == "--iterations") s.iterations = std::atol(v);
      else if (a == "--seed") s.seed = std::strtoull(v, nullptr, 10);
      else if (a == "--save") s.save_prefix = v;
      else if (a == "--weight-decay") s.weight_decay = std::atof(v);
      else if (a == "--decay-embeddings") s.decay_embeddings = std::atoi(v) != 0;
      else if (a == "--clip") s.clip = std::atof(v);
      else if (a == "--sample") s.sample_chars = std::size_t(std::atol(v));
      else ctformer::fail("unknown option {}", a);
    }
    if (s.iterations < s.eval_every) s.eval_every = 0;
    const auto c = shakespeare_char::load(argv[1]);
    std::printf("%s: %zu characters, vocabulary %zu; train %zu, validation %zu\n", argv[1],
                c.train.size() + c.val.size(), c.tokenizer.vocab_size(), c.train.size(), c.val.size());
    std::printf("model: 4 layers, 4 heads, d_model 128, context 64; batch 12, %ld iterations, lr %g -> %g (warm-up %ld), "
                "AdamW (%g, %g) weight decay %g (embeddings %s), clip %g, seed %llu; %u thread(s), simd %s\n",
                s.iterations, s.lr, s.min_lr, s.warmup, s.beta1, s.beta2, s.weight_decay,
                s.decay_embeddings ? "too" : "not", s.clip, (unsigned long long)s.seed, ctformer::num_threads(),
                std::string(ctformer::kernels::simd_arch_name()).c_str());
    const auto r = shakespeare_char::train(c, s);
    std::printf("parameters: %zu (model vocabulary %zu)\n", r.params, r.model_vocab);
    for (const auto& [step, loss] : r.val_history) std::printf("  step %5ld  validation loss %.4f\n", step, loss);
    std::printf("validation loss %.4f after %ld steps (every position of the validation split; nanoGPT's README: 1.88)\n",
                r.val_loss, r.steps);
    std::printf("training wall time %.1f s (including %zu validation passes); total %.1f s\n", r.train_seconds,
                r.val_history.size(), r.total_seconds);
    if (!s.save_prefix.empty())
      std::printf("saved %s.safetensors and %s.tokenizer.json\n", s.save_prefix.c_str(), s.save_prefix.c_str());
    if (s.sample_chars)
      std::printf("---- sample (%zu characters, temperature %.1f, top-k %zu, seed %llu, KV cache) ----\n%s\n----\n",
                  s.sample_chars, double(s.temperature), s.top_k, (unsigned long long)s.sample_seed, r.sample.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shakespeare_char: %s\n", e.what());
    return 1;
  }
}
