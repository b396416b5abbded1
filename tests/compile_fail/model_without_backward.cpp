// expect: trainable_on
// A model type with a forward but no backward cannot be trained: train_step names the contract
// (trainable_on, concepts.hpp) that it breaks.
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

#include <memory>

constexpr ctformer::gpt_config cfg{.vocab = 32, .context = 16, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1};
using base = ctformer::decoder_lm<cfg>;

struct forward_only {
  using T = base::T;
  using params = base::params;
  template <std::size_t B, std::size_t S>
  struct workspace : base::workspace<B, S> {};
  static constexpr std::size_t param_count = base::param_count, weight_bytes = base::weight_bytes;
  static constexpr std::uint64_t signature = base::signature;
  static std::string describe() { return "forward_only"; }
  static void init(params& p, std::uint64_t seed) { base::init(p, seed); }
  template <std::size_t B, std::size_t S>
  static ctformer::loss_value forward_loss(const params& p, workspace<B, S>& ws, const ctformer::token_batch<B, S>& b,
                                           const ctformer::run_mode& mode = {}, T smoothing = T(0)) {
    return base::forward_loss(p, ws, b, mode, smoothing);
  }
};

int main() {
  ctformer::trainer<forward_only> t;
  auto batch = std::make_unique<ctformer::token_batch<4, 16>>();
  auto ws = std::make_unique<forward_only::workspace<4, 16>>();
  t.train_step(*batch, *ws);
}
