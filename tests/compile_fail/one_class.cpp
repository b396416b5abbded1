// expect: a classification head needs at least two classes
#include <ctformer/models/encoder.hpp>

constexpr ctformer::bert_config cfg{.vocab = 64, .context = 16, .d_model = 32, .heads = 4, .d_ff = 64, .layers = 1};
int main() { return int(ctformer::encoder<cfg, ctformer::classify<1>>::param_count); }
