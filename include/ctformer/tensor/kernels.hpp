// All xsimd kernels and their scalar twins (namespace ctformer::kernels::scalar).
#pragma once

#include "kernels/activation.hpp"
#include "kernels/adamw.hpp"
#include "kernels/gemm.hpp"
#include "kernels/int8.hpp"
#include "kernels/layernorm.hpp"
#include "kernels/reduce.hpp"
#include "kernels/simd.hpp"
#include "kernels/softmax.hpp"
