// A separate process for the checkpoint tests (tests/train/test_checkpoint.cpp):
//   resume_worker straight <steps> <weights_out>
//   resume_worker first    <steps> <checkpoint_dir>              trains to <steps>, checkpoints there
//   resume_worker second   <steps> <checkpoint_dir> <weights_out> resumes and trains to <steps>
//   resume_worker save-loop <checkpoint_path>                    saves checkpoints until killed
// The model has dropout and the data source samples windows with its own generator, so exact
// resume needs the step, the optimizer state and the source's generator state.
#include <ctformer/io/checkpoint.hpp>

#include "train/workers/resume_models.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace ctformer;

namespace {

using model = testing::resume_model;
using batch = token_batch<4, 16>;
using trainer_t = testing::resume_trainer;

// Random windows of a fixed pseudo-text, drawn with the source's own generator.
class window_source : public batch_source<batch> {
 public:
  std::size_t size() const override { return 8; }
  void get(std::size_t, batch& b) override {
    for (std::size_t i = 0; i < 4; ++i) {
      const std::size_t start = std::size_t(r_.below(1000));
      for (std::size_t s = 0; s < 16; ++s) {
        b.ids(i, s) = token(start + s);
        b.targets(i, s) = token(start + s + 1);
        b.attention_mask(i, s) = 1;
        b.token_type(i, s) = 0;
      }
    }
  }
  json::value save_state() const override { return to_json(r_.state()); }
  void load_state(const json::value& v) override { r_.set_state(rng_state_from_json(v)); }

 private:
  static std::int32_t token(std::size_t i) { return std::int32_t((i * 7 + (i / 5) * 3) % 32); }
  rng r_{42};
};

std::unique_ptr<trainer_t> make_trainer() {
  adamw opt;
  opt.lr = 3e-3;
  return std::make_unique<trainer_t>(opt, warmup_cosine{.lr = 3e-3, .warmup = 4, .total = 40, .min_lr = 3e-4});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const std::string mode = argv[1];
  try {
    if (mode == "save-loop") {
      // A big model, so that each save takes a while: the test kills this process mid-save.
      auto t = std::make_unique<testing::big_trainer>();
      auto ws = std::make_unique<testing::big_model::workspace<4, 16>>();
      auto b = std::make_unique<batch>();
      window_source src;
      for (long k = 0;; ++k) {
        src.get(0, *b);
        t->train_step(*b, *ws);
        save_checkpoint(argv[2], *t);
        std::printf("saved %ld\n", k);
        std::fflush(stdout);
      }
    }
    const long steps = std::atol(argv[2]);
    auto t = make_trainer();
    window_source src;
    fit_options o;
    o.max_steps = steps;
    o.progress = progress_bar::style::quiet;
    if (mode == "straight") {
      t->fit(src, static_cast<batch_source<batch>*>(nullptr), o);
      save_weights(argv[3], t->weights(), {.layout = weight_layout::native});
    } else if (mode == "first") {
      o.checkpoint_dir = argv[3];
      o.checkpoint_every = steps;
      t->fit(src, static_cast<batch_source<batch>*>(nullptr), o);
    } else if (mode == "second") {
      o.checkpoint_dir = argv[3];
      o.resume = true;
      const auto r = t->fit(src, static_cast<batch_source<batch>*>(nullptr), o);
      if (!r.resumed) {
        std::fprintf(stderr, "did not resume\n");
        return 3;
      }
      save_weights(argv[4], t->weights(), {.layout = weight_layout::native});
    } else {
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resume_worker: %s\n", e.what());
    return 1;
  }
  return 0;
}
