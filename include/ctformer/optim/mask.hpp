// Parameter masks: a params-shaped struct of 0 (held at zero) and 1 (free). deploy/prune.hpp
// makes them; apply_mask() keeps masked weights at zero, and a trainer given a mask re-applies it
// after every optimizer step, so fine-tuning a pruned model keeps it pruned.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>

#include "../tensor/visit.hpp"

namespace ctformer {

/// A mask with every entry 1.
template <class P>
std::unique_ptr<P> full_mask() {
  auto m = std::make_unique<P>();
  for_each_tensor(*m, [](const tensor_info&, auto& t) { std::fill(t.data(), t.data() + t.size(), 1); });
  return m;
}

/// w *= mask, everywhere.
template <class P>
void apply_mask(P& params, const P& mask) {
  for_each_tensor(params, mask, [](const tensor_info&, auto& w, const auto& m) {
    for (std::size_t i = 0; i < w.size(); ++i) w.data()[i] *= m.data()[i];
  });
}

}  // namespace ctformer
