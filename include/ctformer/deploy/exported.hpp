// The other half of deploy/export.hpp, for the program that compiles an exported header in:
// bind_exported() points a params view (Model::params_view) at the constexpr arrays, so the
// weights stay where the linker put them (flash on a microcontroller) and RAM holds one pointer
// per tensor; load_exported() copies them into an owning params struct instead (weights that
// will change: fine-tuning on the device). Both check names and sizes in visiting order. No
// heap, no file system.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

#include "../error.hpp"
#include "../tensor/visit.hpp"

namespace ctformer {

/// One tensor of an exported header: its checkpoint name and its bytes.
struct exported_tensor {
  const char* name;  ///< checkpoint name
  const void* data;  ///< the tensor's elements
  std::size_t bytes;  ///< size of data in bytes
};

namespace detail {
/// Tensor k of the header must be the model's next tensor, by name and size.
template <class Tensor>
const exported_tensor& exported_match(std::span<const exported_tensor> tensors, std::size_t k,
                                      const tensor_info& info, const Tensor& t, const char* who) {
  char buf[256];
  const auto name = info.format(buf);
  const std::size_t N = tensors.size();
  if (k >= N) fail("{}: the header has {} tensors, the model more", who, N);
  const auto& e = tensors[k];
  if (name != e.name || e.bytes != t.size() * sizeof(*t.data()))
    fail("{}: tensor {} is '{}' ({} bytes) in the header but '{}' ({} bytes) in the model", who, k, e.name, e.bytes,
         name, t.size() * sizeof(*t.data()));
  return e;
}
}  // namespace detail

/// view: a params struct whose storage is const_tensor_ref. Binds every tensor to the header's
/// array of the same name and size; the arrays must outlive the view (they are constexpr).
template <class P>
void bind_exported(P& view, std::span<const exported_tensor> tensors) {
  const std::size_t N = tensors.size();
  std::size_t k = 0;
  for_each_tensor(view, [&](const tensor_info& info, auto& t) {
    const auto& e = detail::exported_match(tensors, k++, info, t, "bind_exported");
    t.ptr = static_cast<const typename std::remove_cvref_t<decltype(t)>::value_type*>(e.data);
  });
  if (k != N) fail("bind_exported: the header has {} tensors, the model {}", N, k);
}
template <class P, std::size_t N>
void bind_exported(P& view, const exported_tensor (&tensors)[N]) {
  bind_exported(view, std::span<const exported_tensor>(tensors, N));
}

template <class P, std::size_t N>
void load_exported(P& params, const exported_tensor (&tensors)[N]) {
  std::size_t k = 0;
  for_each_tensor(params, [&](const tensor_info& info, auto& t) {
    const auto& e = detail::exported_match(std::span<const exported_tensor>(tensors, N), k++, info, t, "load_exported");
    std::memcpy(t.data(), e.data, e.bytes);
  });
  if (k != N) fail("load_exported: the header has {} tensors, the model {}", N, k);
}

}  // namespace ctformer
