// expect: optimizer_for
// An optimizer type without step() is rejected where the trainer is named, by the contract
// (optimizer_for, concepts.hpp) that it breaks.
#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

constexpr ctformer::gpt_config cfg{.vocab = 32, .context = 16, .d_model = 16, .heads = 2, .d_ff = 32, .layers = 1};
using model = ctformer::decoder_lm<cfg>;

struct no_step {
  double lr = 1e-3;
  static constexpr int state_tensors = 0;
  template <class P>
  struct state {
    long step = 0;
  };
  template <class P>
  state<P> make_state(const P&) const { return {}; }
};

int main() { ctformer::trainer<model, no_step> t; }
