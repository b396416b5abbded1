// expect: batch's shape differs from the workspace's
// A batch of 8 rows handed to train_step with a workspace of 32 rows does not compile (it used to
// compile and read past the batch). The instantiation names batch_dims<8, 16> and
// workspace_dims<32, 16>.
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

#include <memory>

constexpr ctformer::gpt_config cfg{.vocab = 32, .context = 16, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1};
using model = ctformer::decoder_lm<cfg>;

int main() {
  ctformer::trainer<model> t;
  auto batch = std::make_unique<ctformer::token_batch<8, 16>>();
  auto ws = std::make_unique<model::workspace<32, 16>>();
  t.train_step(*batch, *ws);
}
