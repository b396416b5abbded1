// The README's 15-line example: a GPT as a type, its size and memory checked by the compiler.
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>
using namespace ctformer;

constexpr gpt_config tiny{.vocab = 256, .context = 64, .d_model = 128, .heads = 4, .d_ff = 512, .layers = 4};
using model = decoder_lm<tiny>;                                  // pre-LN GPT, tied head
using train = trainer<model, adamw, warmup_cosine>;
static_assert(model::param_count == 834'304);                    // known at compile time
static_assert(train::bytes_at<16, 64> < 64 * 1024 * 1024);       // a memory budget the compiler enforces

int main() try {
  train t(adamw{}, warmup_cosine{.lr = 1e-3, .warmup = 10, .total = 100});
  auto batch = std::make_unique<token_batch<16, 64>>();           // ids, targets, attention_mask
  auto ws = std::make_unique<model::workspace<16, 64>>();         // activations, allocated once
  for (std::size_t i = 0; i < batch->ids.size(); ++i) {           // bytes of a repeating text
    batch->ids.data()[i] = "hello, ctformer! "[i % 17];
    batch->targets.data()[i] = "hello, ctformer! "[(i + 1) % 17];
    batch->attention_mask.data()[i] = 1;
  }
  double loss = 0;
  for (int i = 0; i < 100; ++i) loss = t.train_step(*batch, *ws).loss;  // forward..update, no heap
  save_weights("tiny.safetensors", t.weights());                  // GPT-2 names: loads in PyTorch
  std::printf("loss after 100 steps: %.3f\n", loss);
  return loss < 0.5 ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "first: %s\n", e.what());
  return 1;
}
