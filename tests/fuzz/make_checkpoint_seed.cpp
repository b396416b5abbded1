// Writes the checkpoint harness's seed (corpus/checkpoint/tiny.bin): a real training-state
// checkpoint of fuzz_checkpoint.cpp's trainer after two steps. Not built by CMake; rerun by hand
// after changing the checkpoint format or the harness's model:
//   c++ -std=c++20 -O1 -DFMT_HEADER_ONLY -Iinclude tests/fuzz/make_checkpoint_seed.cpp -o /tmp/seed
//   /tmp/seed tests/fuzz/corpus/checkpoint/tiny.bin
#include <ctformer/io/checkpoint.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

#include <cstdio>
#include <memory>

namespace {
constexpr ctformer::gpt_config tiny{.vocab = 17, .context = 8, .d_model = 8, .heads = 2, .d_ff = 16, .layers = 2};
using gpt = ctformer::decoder_lm<tiny>;
}  // namespace

int main(int argc, char** argv) {
  using namespace ctformer;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_checkpoint_seed <output file>\n");
    return 2;
  }
  trainer<gpt, adamw> t;
  auto b = std::make_unique<token_batch<1, 8>>();
  for (std::size_t s = 0; s < 8; ++s) {
    b->ids(0, s) = std::int32_t(s);
    b->targets(0, s) = std::int32_t(s + 1);
    b->attention_mask(0, s) = 1;
    b->token_type(0, s) = 0;
  }
  auto ws = std::make_unique<gpt::workspace<1, 8>>();
  for (int i = 0; i < 2; ++i) t.train_step(*b, *ws);
  save_checkpoint(argv[1], t, json::value::parse(R"({"epoch": 1, "batch": 3})"));
  return 0;
}
