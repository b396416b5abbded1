// expect: trainable_model
// A model's weights (or any non-model type) where trainer expects a model type: the constraint
// (trainable_model, concepts.hpp) is named.
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

constexpr ctformer::gpt_config cfg{.vocab = 32, .context = 16, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1};

int main() {
  ctformer::trainer<ctformer::decoder_lm<cfg>::params> t;  // should be trainer<decoder_lm<cfg>>
}
