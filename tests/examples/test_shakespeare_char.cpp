// examples/shakespeare_char: its training code (shakespeare.hpp, shared with the example) reaches
// the validation loss PyTorch reaches on tinyshakespeare with nanoGPT's CPU settings ([slow]; it
// prints its wall time), and a quick run on a small synthetic text checks the plumbing.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "../../examples/shakespeare_char/shakespeare.hpp"
#include "support/test_support.hpp"

namespace sc = shakespeare_char;

TEST_CASE("shakespeare_char: 90/10 split, sorted vocabulary, a short run learns and samples", "[train]") {
  const auto path = std::filesystem::path(CTFORMER_TEST_BINARY_DIR) / "shakespeare_char_small.txt";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 300; ++i) out << "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind.\n";
  }
  const auto c = sc::load(path.string());
  const std::size_t n = c.train.size() + c.val.size();
  REQUIRE(n == std::filesystem::file_size(path));  // ASCII: one id per byte
  REQUIRE(c.train.size() == std::size_t(double(n) * 0.9));
  REQUIRE(c.tokenizer.id_to_token(0) == "\n");      // code-point order, no special tokens
  REQUIRE(c.tokenizer.vocab_size() == 23);
  sc::settings s;
  s.iterations = 60;
  s.warmup = 10;
  s.progress = ctformer::progress_bar::style::quiet;
  s.sample_chars = 40;
  s.sample_prompt = "To";
  const auto r = sc::train(c, s);
  REQUIRE(r.model_vocab == 65);
  REQUIRE(r.steps == 60);
  REQUIRE(r.val_history.size() == 1);
  REQUIRE(r.val_loss < 0.5 * std::log(23.0));  // a repetitive text is learned quickly
  REQUIRE(r.sample.size() == 42);
  REQUIRE(r.sample.rfind("To", 0) == 0);
  // The same seed gives the same run.
  const auto again = sc::train(c, s);
  REQUIRE(again.val_loss == r.val_loss);
  REQUIRE(again.sample == r.sample);
  std::filesystem::remove(path);
}

TEST_CASE("shakespeare_char rejects texts too short to split", "[train]") {
  const auto path = std::filesystem::path(CTFORMER_TEST_BINARY_DIR) / "shakespeare_char_tiny.txt";
  { std::ofstream(path, std::ios::binary) << "hello world\n"; }
  REQUIRE_THROWS_WITH(sc::load(path.string()), Catch::Contains("too short"));
  std::filesystem::remove(path);
}

TEST_CASE("shakespeare_char reaches PyTorch's validation loss for nanoGPT's CPU settings on tinyshakespeare", "[slow][train]") {
  CTFORMER_REQUIRE_DATA(path, "tinyshakespeare/input.txt");
  const auto c = sc::load(path.string());
  REQUIRE(c.tokenizer.vocab_size() == 65);
  sc::settings s;
  s.progress = ctformer::progress_bar::style::lines;
  s.log_every = 100;
  s.sample_chars = 200;
  const auto r = sc::train(c, s);
  std::printf("shakespeare_char: validation loss %.4f after %ld steps; training %.1f s, total %.1f s (%u thread(s))\n"
              "sample:\n%s\n",
              r.val_loss, r.steps, r.train_seconds, r.total_seconds, ctformer::num_threads(), r.sample.c_str());
  INFO("validation loss " << r.val_loss);
  REQUIRE(r.steps == 2000);
  // nanoGPT's README quotes 1.88 for these settings, from its 20-batch random estimate. Measured on
  // every position of the split, the same model and settings in PyTorch
  // (tests/reference/shakespeare_char_torch.py, seed 1337) reach 1.8886 with biases and 1.9004
  // without, and ctformer 1.895-1.904 over seeds: the bound is PyTorch's range plus run-to-run noise.
  REQUIRE(r.val_loss <= 1.91);
  REQUIRE(r.sample.size() == 201);
}
