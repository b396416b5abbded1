// expect: batch's shape differs from the workspace's
// A classification batch of 32 rows through an encoder workspace of 16 rows does not compile (it
// used to compile and silently use half the rows).
#include <ctformer/models/encoder.hpp>

#include <memory>

constexpr ctformer::bert_config cfg{.vocab = 32, .context = 16, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1};
using model = ctformer::encoder<cfg, ctformer::classify<2>>;

int main() {
  auto p = std::make_unique<model::params>();
  auto batch = std::make_unique<ctformer::classification_batch<32, 16>>();
  auto ws = std::make_unique<model::workspace<16, 16>>();
  model::forward(*p, *ws, *batch);
}
