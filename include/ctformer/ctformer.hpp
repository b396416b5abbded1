// ctformer: transformers as static types, trained on the CPU. The umbrella header.
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "tensor/kernels.hpp"
#include "tensor/random.hpp"
#include "tensor/tensor.hpp"
#include "tensor/threading.hpp"
#include "tensor/visit.hpp"

#include "data/augment.hpp"
#include "data/batch.hpp"
#include "data/cleaning.hpp"
#include "data/datasets.hpp"
#include "data/encode.hpp"
#include "data/sampling.hpp"
#include "data/text_file.hpp"
#include "data/tokenizers/bpe.hpp"
#include "data/tokenizers/byte.hpp"
#include "data/tokenizers/char.hpp"
#include "data/tokenizers/tokenizer.hpp"
#include "data/tokenizers/wordpiece.hpp"
#include "data/unicode/unicode.hpp"
#include "data/utf8.hpp"

#include "layers/attention.hpp"
#include "layers/block.hpp"
#include "layers/dropout.hpp"
#include "layers/embedding.hpp"
#include "layers/layernorm.hpp"
#include "layers/linear.hpp"
#include "layers/params.hpp"

#include "models/decoder_lm.hpp"
#include "models/encoder.hpp"
#include "models/heads.hpp"
#include "models/init.hpp"
#include "models/seq2seq.hpp"

#include "losses/bce.hpp"
#include "losses/cross_entropy.hpp"
#include "losses/mse.hpp"

#include "optim/clip.hpp"
#include "optim/optimizers.hpp"
#include "schedules/schedules.hpp"

#include "train/progress.hpp"
#include "train/trainer.hpp"

#include "io/json.hpp"
#include "io/safetensors.hpp"
#include "io/weights.hpp"
