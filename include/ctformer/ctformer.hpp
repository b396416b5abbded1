// ctformer: transformers as static types, trained on the CPU. The umbrella header.
#pragma once

#include "tensor/kernels.hpp"
#include "tensor/tensor.hpp"
#include "tensor/threading.hpp"
#include "tensor/visit.hpp"

#include "metrics/bleu.hpp"
#include "metrics/classification.hpp"
#include "metrics/cross_validation.hpp"
#include "metrics/evaluate.hpp"
#include "metrics/language.hpp"
#include "metrics/ranking.hpp"
#include "metrics/regression.hpp"
#include "metrics/report.hpp"
#include "metrics/svg.hpp"
#include "train/early_stopping.hpp"
