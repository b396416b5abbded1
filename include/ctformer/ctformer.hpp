// ctformer: transformers as static types, trained on the CPU. The umbrella header.
#pragma once

#include "tensor/kernels.hpp"
#include "tensor/tensor.hpp"
#include "tensor/threading.hpp"
#include "tensor/visit.hpp"
