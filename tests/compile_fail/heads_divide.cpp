// expect: heads must divide d_model
// 4 heads cannot split a width of 30.
#include <ctformer/models/decoder_lm.hpp>

constexpr ctformer::gpt_config cfg{.vocab = 64, .context = 16, .d_model = 30, .heads = 4, .d_ff = 64, .layers = 1};
int main() { return int(ctformer::decoder_lm<cfg>::param_count); }
