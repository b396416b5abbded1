// The README's first command: a GPT-like decoder learns 3-digit addition from scratch.
// Problems "123+456=" are generated on the fly; the model writes the 4-digit sum least significant
// digit first (so each digit depends on the digits and carry just seen; the demo prints it the
// usual way round). 1,000 problems are held out and never trained on; the demo reports their
// exact-match accuracy, saves the weights, reloads them and shows a few predictions.
#include <ctformer/ctformer.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_set>

using namespace ctformer;

namespace {

// Tokens: 0-9 digits, 10 '+', 11 '=', 12 padding/end.
constexpr std::int32_t plus = 10, equals = 11, pad = 12;
constexpr std::size_t S = 12;  // "ddd+ddd=" then 4 answer digits: inputs are the first 12 tokens
constexpr gpt_config cfg{.vocab = 13, .context = 16, .d_model = 96, .heads = 4, .d_ff = 384, .layers = 3};
using model = decoder_lm<cfg>;
constexpr std::size_t B = 64;
using batch = token_batch<B, S>;

// The 13 tokens of a problem: a, '+', b, '=', the sum reversed, written as digits.
void encode(int a, int b, std::int32_t* seq) {
  const int c = a + b;
  for (int i = 0; i < 3; ++i) seq[i] = (a / int(std::pow(10, 2 - i))) % 10;
  seq[3] = plus;
  for (int i = 0; i < 3; ++i) seq[4 + i] = (b / int(std::pow(10, 2 - i))) % 10;
  seq[7] = equals;
  for (int i = 0; i < 4; ++i) seq[8 + i] = (c / int(std::pow(10, i))) % 10;
  seq[12] = pad;
}

// Row r of a batch: inputs seq[0:12], targets seq[1:13], loss on the answer digits only.
void fill_row(batch& bt, std::size_t r, int a, int b) {
  std::int32_t seq[13];
  encode(a, b, seq);
  for (std::size_t s = 0; s < S; ++s) {
    bt.ids(r, s) = seq[s];
    bt.targets(r, s) = s >= 7 && s < 11 ? seq[s + 1] : ignore_index;
    bt.attention_mask(r, s) = 1;
    bt.token_type(r, s) = 0;
  }
}

std::uint32_t key(int a, int b) { return std::uint32_t(a * 1000 + b); }

// Greedy decoding of the 4 answer digits for up to B problems at once (a full forward per digit).
void solve(const model::params& p, model::workspace<B, S>& ws, batch& bt, const std::vector<std::pair<int, int>>& probs,
           std::size_t first, std::vector<int>& answers) {
  const std::size_t n = std::min(B, probs.size() - first);
  for (std::size_t r = 0; r < B; ++r) {
    const auto [a, b] = probs[first + std::min(r, n - 1)];
    fill_row(bt, r, a, b);
    for (std::size_t s = 8; s < S; ++s) bt.ids(r, s) = pad;  // the answer is not given
  }
  int pred[B][4] = {};
  for (std::size_t d = 0; d < 4; ++d) {
    model::forward(p, ws, bt, run_mode::eval());
    for (std::size_t r = 0; r < B; ++r) {
      // The logits at position 7 + d predict answer digit d (position 8 + d).
      const float* row = ws.logits.data() + (r * S + 7 + d) * cfg.vocab;
      std::int32_t best = 0;
      for (std::int32_t t = 1; t < 10; ++t)
        if (row[t] > row[best]) best = t;
      pred[r][d] = best;
      bt.ids(r, 8 + d) = best;
    }
  }
  for (std::size_t r = 0; r < n; ++r)
    answers[first + r] = pred[r][0] + 10 * pred[r][1] + 100 * pred[r][2] + 1000 * pred[r][3];
}

double exact_match(const model::params& p, model::workspace<B, S>& ws, batch& bt,
                   const std::vector<std::pair<int, int>>& probs, std::vector<int>& answers) {
  answers.assign(probs.size(), -1);
  for (std::size_t i = 0; i < probs.size(); i += B) solve(p, ws, bt, probs, i, answers);
  std::size_t right = 0;
  for (std::size_t i = 0; i < probs.size(); ++i) right += answers[i] == probs[i].first + probs[i].second;
  return double(right) / double(probs.size());
}

}  // namespace

int main(int argc, char** argv) try {
  // demo [steps] [--out DIR]: the log and the weights go to DIR (default: the current directory).
  long steps = 3000;
  std::filesystem::path out = ".";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--out") == 0 && i + 1 < argc)
      out = argv[++i];
    else if (char* end = nullptr; (steps = std::strtol(argv[i], &end, 10)) <= 0 || *end != '\0')
      fail("usage: demo [steps] [--out DIR]; '{}' is not a positive number of steps", argv[i]);
  }
  std::filesystem::create_directories(out);
  const std::string log_path = (out / "demo_train_log.jsonl").string();
  const std::string weights_path = (out / "demo_addition.safetensors").string();
  const auto t0 = std::chrono::steady_clock::now();
  std::printf("ctformer demo: a %zu-layer GPT (d_model %zu, %zu parameters) learns 3-digit addition\n",
              cfg.layers, cfg.d_model, model::param_count);
  std::printf("simd %s, %u thread(s); training memory %.1f MB (a compile-time figure)\n",
              std::string(kernels::simd_arch_name()).c_str(), num_threads(),
              double(trainer<model, adamw, warmup_cosine>::bytes_at<B, S>) / 1e6);

  // 1,000 held-out problems the model never trains on.
  rng r(2024);
  std::vector<std::pair<int, int>> held_out;
  std::unordered_set<std::uint32_t> held;
  while (held_out.size() < 1000) {
    const int a = int(r.below(1000)), b = int(r.below(1000));
    if (held.insert(key(a, b)).second) held_out.emplace_back(a, b);
  }

  adamw opt;
  opt.lr = 2e-3;
  opt.beta2 = 0.99;
  opt.weight_decay = 0.1;
  trainer<model, adamw, warmup_cosine> t(opt, warmup_cosine{.lr = 2e-3, .warmup = 100, .total = steps, .min_lr = 1e-4});
  rng data(7);
  function_source<batch> train(1000, [&](std::size_t, batch& bt) {
    for (std::size_t row = 0; row < B; ++row) {
      int a, b;
      do {
        a = int(data.below(1000));
        b = int(data.below(1000));
      } while (held.count(key(a, b)));
      fill_row(bt, row, a, b);
    }
  });
  function_source<batch> val(4, [&](std::size_t i, batch& bt) {
    for (std::size_t row = 0; row < B; ++row) fill_row(bt, row, held_out[i * B + row].first, held_out[i * B + row].second);
  });
  fit_options o;
  o.max_steps = steps;
  o.eval_every = 500;
  o.log_every = 50;
  o.log_path = log_path;
  const auto fr = t.fit(train, &val, o);
  if (fr.interrupted) {  // an unfinished model never replaces a saved one
    std::printf("interrupted after %ld steps: nothing saved\n", fr.steps);
    return 130;
  }
  std::printf("trained %ld steps in %.1f s; final train loss %.4f, held-out loss %.4f\n", fr.steps, fr.seconds,
              fr.last_loss, fr.val_history.empty() ? 0.0 : fr.val_history.back().second);

  auto ws = std::make_unique<model::workspace<B, S>>();
  auto bt = std::make_unique<batch>();
  std::vector<int> answers;
  const double acc = exact_match(t.weights(), *ws, *bt, held_out, answers);
  std::printf("exact match on 1,000 held-out problems: %.1f%%\n", 100.0 * acc);

  save_weights(weights_path, t.weights());
  auto reloaded = std::make_unique<model::params>();
  load_weights(weights_path, *reloaded);
  std::vector<int> again;
  const double acc2 = exact_match(*reloaded, *ws, *bt, held_out, again);
  std::printf("saved to %s, reloaded: exact match %.1f%% (%s)\n", weights_path.c_str(), 100.0 * acc2,
              again == answers ? "identical predictions" : "PREDICTIONS DIFFER");
  for (std::size_t i = 0; i < 8; ++i) {
    const auto [a, b] = held_out[i];
    std::printf("  %3d+%3d=%-4d %s\n", a, b, again[i], again[i] == a + b ? "ok" : "wrong");
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("demo finished in %.1f s\n", total);
  return acc >= 0.99 && again == answers ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "demo: %s\n", e.what());
  return 1;
}
