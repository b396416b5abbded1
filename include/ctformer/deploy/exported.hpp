// The other half of deploy/export.hpp, for the program that compiles an exported header in:
// load_exported() copies the constexpr arrays into a params struct (in static storage on a
// device), checking names and sizes in visiting order. No heap, no file system.
#pragma once

#include <cstddef>
#include <cstring>

#include "../error.hpp"
#include "../tensor/visit.hpp"

namespace ctformer {

struct exported_tensor {
  const char* name;
  const void* data;
  std::size_t bytes;
};

template <class P, std::size_t N>
void load_exported(P& params, const exported_tensor (&tensors)[N]) {
  std::size_t k = 0;
  for_each_tensor(params, [&](const tensor_info& info, auto& t) {
    char buf[256];
    const auto name = info.format(buf);
    if (k >= N) fail("load_exported: the header has {} tensors, the model more", N);
    const auto& e = tensors[k++];
    if (name != e.name || e.bytes != t.size() * sizeof(*t.data()))
      fail("load_exported: tensor {} is '{}' ({} bytes) in the header but '{}' ({} bytes) in the model", k - 1, e.name,
           e.bytes, name, t.size() * sizeof(*t.data()));
    std::memcpy(t.data(), e.data, e.bytes);
  });
  if (k != N) fail("load_exported: the header has {} tensors, the model {}", N, k);
}

}  // namespace ctformer
