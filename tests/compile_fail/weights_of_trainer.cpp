// expect: expected weights \(a params struct: Model::params, trainer.weights\(\)
// Loading into a trainer instead of its weights() names the slip.
#include <ctformer/io/weights.hpp>
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

constexpr ctformer::gpt_config cfg{.vocab = 32, .context = 16, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1};

int main() {
  ctformer::trainer<ctformer::decoder_lm<cfg>> t;
  ctformer::load_weights("model.safetensors", t);  // should be t.weights()
}
