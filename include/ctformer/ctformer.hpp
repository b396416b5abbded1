// ctformer: transformers as static types, trained on the CPU. The umbrella header.
#pragma once

#include "tensor/kernels.hpp"
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
#include "io/json.hpp"
