// Character-level GPT on a text file with nanoGPT's CPU settings (README "I only have a macbook"):
// 4 layers, 4 heads, d_model 128, context 64, batch 12, 2000 iterations, AdamW (0.9, 0.99), weight
// decay 0.1 on every matrix and embedding, clip 1.0, lr 1e-3 with 100 warm-up steps then cosine to
// 1e-4, dropout 0, random windows of the first 90% of the text. Validation loss is the mean over
// every position of the last 10%, cut into 64-character windows. Shared by the example and its test.
#pragma once

#include <ctformer/ctformer.hpp>
#include <ctformer/deploy/generate.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace shakespeare_char {

using namespace ctformer;

constexpr std::size_t context = 64, batch_size = 12;

struct settings {
  long iterations = 2000;
  double lr = 1e-3, min_lr = 1e-4;
  long warmup = 100;
  double beta1 = 0.9, beta2 = 0.99, weight_decay = 0.1, clip = 1.0;
  bool decay_embeddings = true;        // nanoGPT today decays every 2-D tensor; early 2023 it did not
  std::uint64_t seed = 1337;           // initialization; the data sampler uses seed + 1
  long eval_every = 0;                 // extra validation passes while training (0: only at the end)
  progress_bar::style progress = progress_bar::style::automatic;
  long log_every = 100;
  std::string save_prefix;             // <prefix>.safetensors and <prefix>.tokenizer.json when set
  // Sampling after training, with the generation API (nanoGPT's sample.py: "\n", 0.8, top-k 200).
  std::size_t sample_chars = 500;
  std::string sample_prompt = "\n";
  float temperature = 0.8f;
  std::size_t top_k = 200;
  std::uint64_t sample_seed = 1337;
};

struct corpus {
  char_tokenizer tokenizer;
  std::vector<std::int32_t> train, val;  // the first 90% and the last 10% of the characters
};

// The vocabulary is every character of the whole text, sorted (as nanoGPT's prepare.py).
inline corpus load(const std::string& path) {
  const std::string text = read_text_file(path);
  if (const std::size_t bad = utf8::first_invalid(text); bad != std::string_view::npos)
    utf8::throw_invalid(text, bad, fmt::format("'{}' line {}", path,
                                               1 + std::count(text.begin(), text.begin() + std::ptrdiff_t(bad), '\n')));
  corpus c{char_tokenizer::build(text, {}), {}, {}};
  const std::vector<std::int32_t> ids = c.tokenizer.encode(text);
  const std::size_t cut = std::size_t(double(ids.size()) * 0.9);
  c.train.assign(ids.begin(), ids.begin() + std::ptrdiff_t(cut));
  c.val.assign(ids.begin() + std::ptrdiff_t(cut), ids.end());
  if (c.train.size() <= context || c.val.size() <= context)
    fail("'{}' is too short: each split needs more than {} characters", path, context);
  return c;
}

struct result {
  std::size_t vocab = 0, model_vocab = 0, params = 0;
  long steps = 0;
  double val_loss = 0;      // with the final weights
  double last_train_loss = 0;
  double train_seconds = 0; // fit(), including its validation passes
  double total_seconds = 0; // training, validation and sampling
  std::vector<std::pair<long, double>> val_history;
  std::string sample;
  stop_reason sample_stop = stop_reason::max_new_tokens;
};

// One training batch: windows at uniformly random offsets of a split, as nanoGPT's get_batch.
template <class Batch>
void fill_random_windows(Batch& b, const std::vector<std::int32_t>& split, rng& data) {
  for (std::size_t row = 0; row < Batch::batch; ++row) {
    const std::size_t at = std::size_t(data.below(split.size() - Batch::seq));
    for (std::size_t j = 0; j < Batch::seq; ++j) {
      b.ids(row, j) = split[at + j];
      b.targets(row, j) = split[at + j + 1];
      b.attention_mask(row, j) = 1;
      b.token_type(row, j) = 0;
    }
  }
}

// Validation covers every position of a split once, in consecutive windows; batch i holds windows
// i*B .. i*B+B-1 (the last batch fewer, its other rows ignored).
template <class Batch>
std::size_t validation_batch_count(const lm_stream& stream) {
  return (stream.chunk_count(Batch::seq) + Batch::batch - 1) / Batch::batch;
}
template <class Batch>
void fill_validation_batch(Batch& b, const lm_stream& stream, std::size_t i) {
  const std::size_t windows = stream.chunk_count(Batch::seq);
  batch_rows<Batch::batch> rows;
  rows.count = std::min(Batch::batch, windows - i * Batch::batch);
  for (std::size_t k = 0; k < rows.count; ++k) rows.index[k] = i * Batch::batch + k;
  stream.fill(b, rows);
}

template <std::size_t V>
constexpr gpt_config model_config{.vocab = V, .context = context, .d_model = 128, .heads = 4, .d_ff = 512,
                                  .layers = 4};

// Trains the model whose vocabulary has V entries (V >= the corpus's alphabet).
template <std::size_t V>
result train_with_vocab(const corpus& c, const settings& s) {
  using model = decoder_lm<model_config<V>>;
  using batch = token_batch<batch_size, context>;
  const auto t0 = std::chrono::steady_clock::now();
  result r;
  r.vocab = c.tokenizer.vocab_size();
  r.model_vocab = V;
  r.params = model::param_count;

  adamw opt;
  opt.lr = s.lr;
  opt.beta1 = s.beta1;
  opt.beta2 = s.beta2;
  opt.weight_decay = s.weight_decay;
  opt.decay.embeddings = s.decay_embeddings;
  auto t = std::make_unique<trainer<model, adamw, warmup_cosine>>(
      opt, warmup_cosine{.lr = s.lr, .warmup = s.warmup, .total = s.iterations, .min_lr = s.min_lr},
      train_options{.clip = s.clip, .seed = s.seed});

  // Training batches: windows at uniformly random offsets of the train split, as nanoGPT's get_batch.
  rng data(s.seed + 1);
  const std::vector<std::int32_t>& tr = c.train;
  function_source<batch> train(std::size_t(s.iterations),
                               [&](std::size_t, batch& b) { fill_random_windows(b, tr, data); });
  // Validation: every position of the split once, in consecutive 64-character windows.
  const lm_stream val_stream(c.val);
  function_source<batch> val(validation_batch_count<batch>(val_stream),
                             [&](std::size_t i, batch& b) { fill_validation_batch(b, val_stream, i); });

  fit_options o;
  o.max_steps = s.iterations;
  o.eval_every = s.eval_every > 0 ? s.eval_every : s.iterations;
  o.restore_best = false;  // nanoGPT reports the final weights
  o.progress = s.progress;
  o.log_every = s.log_every;
  if (!s.save_prefix.empty()) o.save_path = s.save_prefix + ".safetensors";
  const fit_result fr = t->fit(train, &val, o);
  r.steps = fr.steps;
  r.last_train_loss = fr.last_loss;
  r.train_seconds = fr.seconds;
  r.val_history = fr.val_history;
  r.val_loss = fr.val_history.empty() ? 0.0 : fr.val_history.back().second;
  if (!s.save_prefix.empty()) {
    std::FILE* f = std::fopen((s.save_prefix + ".tokenizer.json").c_str(), "wb");
    if (!f) fail("cannot write '{}.tokenizer.json'", s.save_prefix);
    const std::string js = c.tokenizer.to_json();
    std::fwrite(js.data(), 1, js.size(), f);
    std::fclose(f);
  }

  if (s.sample_chars > 0) {
    generate_options g;
    g.max_new_tokens = s.sample_chars;
    // Ids past the tokenizer's vocabulary (the model's is rounded up) are never drawn.
    g.sample = {.temperature = s.temperature, .top_k = s.top_k, .seed = s.sample_seed, .vocab_limit = r.vocab};
    const std::vector<std::int32_t> prompt = c.tokenizer.encode(s.sample_prompt);
    const generation out = generate<model>(t->weights(), prompt, g);
    r.sample = s.sample_prompt + c.tokenizer.decode(out.tokens);
    r.sample_stop = out.reason;
  }
  r.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// The vocabulary is a compile-time size: the smallest of 65 (tinyshakespeare's alphabet), 128 and
// 256 that holds the corpus's characters. Unused ids are never targets, so they only cost a little.
inline result train(const corpus& c, const settings& s) {
  const std::size_t v = c.tokenizer.vocab_size();
  if (v <= 65) return train_with_vocab<65>(c, s);
  if (v <= 128) return train_with_vocab<128>(c, s);
  if (v <= 256) return train_with_vocab<256>(c, s);
  fail("the text has {} distinct characters; this example supports at most 256", v);
}

}  // namespace shakespeare_char
