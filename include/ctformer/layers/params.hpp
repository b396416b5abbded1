// Parameter structs shared by the layers: a LayerNorm's scale and shift, and a linear layer's
// weight (in, out) and bias (out). Models nest them under their own names (GPT-2, BERT, BART
// style) through fields(), so names live with the model and layouts live here.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>

#include "../tensor/tensor.hpp"
#include "../tensor/visit.hpp"

namespace ctformer {

/// Tn is the storage: tensor (owning) or const_tensor_ref (a view of weights kept elsewhere).
template <class T, std::size_t C, template <class, std::size_t...> class Tn = tensor>
struct layernorm_params {
  static constexpr std::size_t features = C;  ///< C, the normalized width
  Tn<T, C> weight;  ///< (C) scale, initialized to 1
  Tn<T, C> bias;    ///< (C) shift, initialized to 0
  /// Checkpoint names of the members: "weight", "bias".
  static constexpr auto fields() {
    return std::tuple{field("weight", &layernorm_params::weight, role::norm),
                      field("bias", &layernorm_params::bias, role::bias)};
  }
};

/// y = x W + b. Flags (flag::hf_transposed, flag::residual_proj) apply to the weight.
template <class T, std::size_t In, std::size_t Out, unsigned Flags = flag::none,
          template <class, std::size_t...> class Tn = tensor>
struct linear_params {
  /// Input width In, output width Out.
  static constexpr std::size_t in_features = In, out_features = Out;  ///< output width Out
  Tn<T, In, Out> weight;  ///< (In, Out)
  Tn<T, Out> bias;        ///< (Out)
  /// Checkpoint names of the members: "weight", "bias".
  static constexpr auto fields() {
    return std::tuple{field("weight", &linear_params::weight, role::weight, Flags),
                      field("bias", &linear_params::bias, role::bias)};
  }
};

/// A member that is not there (a learned table when the encoding is sinusoidal, a head weight
/// when it is tied). Occupies no storage with [[no_unique_address]].
struct absent {};

/// A member that exists only when On: `[[no_unique_address]] maybe<pre, tensor1<T, C>> mean;`.
template <bool On, class P>
using maybe = std::conditional_t<On, P, absent>;

}  // namespace ctformer
