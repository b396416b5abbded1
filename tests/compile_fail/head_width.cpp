// expect: head width times heads must equal d_model
// A head width of 16 with 4 heads does not make the model's width of 32.
#include <ctformer/models/encoder.hpp>

constexpr ctformer::bert_config cfg{.vocab = 64, .context = 16, .d_model = 32, .heads = 4, .d_ff = 64,
                                    .layers = 1, .head_dim = 16};
int main() { return int(ctformer::encoder<cfg>::param_count); }
