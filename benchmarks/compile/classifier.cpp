// A user's one-file classifier, the second program bench_compile times: a BERT-like encoder with
// a two-class head, trained with fit() on synthetic sentences (class 1: the sequence contains
// token 7), then evaluated. It includes only what it uses.
#include <ctformer/models/encoder.hpp>
#include <ctformer/train/trainer.hpp>

#include <cstdio>
#include <memory>

using namespace ctformer;

constexpr bert_config cfg{.vocab = 64, .context = 32, .d_model = 64, .heads = 4, .d_ff = 128, .layers = 2};
using model = encoder<cfg, classify<2, pooling::mean>>;
using batch = classification_batch<16, 32>;

int main() {
  trainer<model, adamw, warmup_linear> t(adamw{.lr = 1e-3}, warmup_linear{.warmup = 10, .total = 60});
  function_source<batch> data(8, [](std::size_t i, batch& b) {
    rng r(i + 1);
    for (std::size_t row = 0; row < 16; ++row) {
      const bool positive = r.below(2) == 1;
      for (std::size_t s = 0; s < 32; ++s) {
        std::int32_t id = std::int32_t(8 + r.below(56));
        if (positive && s == r.below(32)) id = 7;
        b.ids(row, s) = id;
        b.attention_mask(row, s) = 1;
        b.token_type(row, s) = 0;
      }
      b.labels(row) = positive ? 1 : 0;
    }
  });
  fit_options o;
  o.max_steps = 60;
  o.progress = progress_bar::style::quiet;
  const fit_result r = t.fit(data, o);
  std::printf("final loss %.3f after %ld steps\n", r.last_loss, r.steps);
}
