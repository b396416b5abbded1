// expect: sequence length exceeds the model's context
// A workspace for 128 positions on a model with a context of 64.
#include <ctformer/models/decoder_lm.hpp>

#include <memory>

constexpr ctformer::gpt_config cfg{.vocab = 64, .context = 64, .d_model = 32, .heads = 4, .d_ff = 64, .layers = 1};
int main() {
  auto ws = std::make_unique<ctformer::decoder_lm<cfg>::workspace<2, 128>>();
  return ws != nullptr;
}
