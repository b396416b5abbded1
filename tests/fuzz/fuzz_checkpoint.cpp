// Fuzzes loading a training-state checkpoint (io/checkpoint.hpp) into a small GPT's trainer: the
// metadata (format, signature, model), the training state's JSON (optimizer, step, seed, RNG
// words, data) and the model and AdamW moment tensors. A rejected file must leave the trainer
// exactly as it was (the load is a transaction); the harness checks that too.
#include <ctformer/io/checkpoint.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_common.hpp"

namespace {
constexpr ctformer::gpt_config tiny{.vocab = 17, .context = 8, .d_model = 8, .heads = 2, .d_ff = 16, .layers = 2};
using gpt = ctformer::decoder_lm<tiny>;
using trainer_t = ctformer::trainer<gpt, ctformer::adamw>;

// A byte-for-byte copy of what a load may change: weights, moments, step and seed.
std::vector<unsigned char> snapshot(trainer_t& t) {
  std::vector<unsigned char> out;
  const auto add = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    out.insert(out.end(), b, b + n);
  };
  ctformer::for_each_tensor(t.weights(), [&](const ctformer::tensor_info&, const auto& x) {
    add(x.data(), x.size() * sizeof(*x.data()));
  });
  t.state().visit([&](const char*, const auto& buf) {
    ctformer::for_each_tensor(buf, [&](const ctformer::tensor_info&, const auto& x) {
      add(x.data(), x.size() * sizeof(*x.data()));
    });
  });
  add(&t.state().step, sizeof t.state().step);
  add(&t.options().seed, sizeof t.options().seed);
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctformer;
  static auto t = std::make_unique<trainer_t>();
  const auto before = snapshot(*t);
  bool rejected = true;
  fuzz::run([&] {
    std::vector<char> bytes(data, data + size);
    const auto f = safetensors::file::parse(std::move(bytes), "fuzz.checkpoint");
    load_checkpoint(f, "fuzz.checkpoint", *t);
    rejected = false;
  });
  if (rejected) fuzz::require(snapshot(*t) == before, "a rejected checkpoint changed the trainer");
  return 0;
}
