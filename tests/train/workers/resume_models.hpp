// Models shared by the checkpoint tests and their worker process.
#pragma once

#include <ctformer/models/decoder_lm.hpp>
#include <ctformer/train/trainer.hpp>

namespace ctformer::testing {

inline constexpr gpt_config resume_cfg{.vocab = 32, .context = 16, .d_model = 32, .heads = 4, .d_ff = 64,
                                       .layers = 2, .dropout = 0.1f};
using resume_model = decoder_lm<resume_cfg>;
using resume_trainer = trainer<resume_model, adamw, warmup_cosine>;

// Big enough (about 75 MB of checkpoint) that writing one takes a while: the kill test lands
// its SIGKILL in the middle of writes.
inline constexpr gpt_config big_cfg{.vocab = 32, .context = 16, .d_model = 256, .heads = 4, .d_ff = 1024,
                                    .layers = 8};
using big_model = decoder_lm<big_cfg>;
using big_trainer = trainer<big_model, adamw>;

}  // namespace ctformer::testing
