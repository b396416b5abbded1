// for_each_tensor: one visitor over every tensor of a params-like struct, or over several structs
// of the same type in lockstep (weights, gradients, moments). Structs describe their tensors with
// a static constexpr fields() tuple, so optimizers, checkpoints, gradient checks and quantization
// are written once and never name a field. Visiting allocates nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace ctformer {

/// What a tensor is for: optimizers decay weights only, by default.
enum class role : unsigned char { weight, bias, norm, embedding };

// Layout and initialization facts a field may carry (bit flags).
namespace flag {
inline constexpr unsigned none = 0;
/// A (in, out) matrix whose Hugging Face layout is (out, in): nn.Linear rather than Conv1D.
inline constexpr unsigned hf_transposed = 1;
/// A projection back into the residual stream: GPT-2 scales its init by 1/sqrt(2 L).
inline constexpr unsigned residual_proj = 2;
}  // namespace flag

constexpr std::string_view role_name(role r) noexcept {
  switch (r) {
    case role::weight: return "weight";
    case role::bias: return "bias";
    case role::norm: return "norm";
    case role::embedding: return "embedding";
  }
  return "?";
}

/// The dotted name of a tensor inside nested structs ("h.3.attn.c_attn.weight"), kept as parts on
/// the stack; str() or format() join them only when a caller wants text.
class tensor_info {
 public:
  static constexpr int max_depth = 8;  ///< deepest nesting of parts kept

  ctformer::role role = ctformer::role::weight;  ///< of the tensor: weight, bias, norm or embedding
  /// Index of the enclosing block in the outermost array (the layer), or -1.
  int layer = -1;
  /// The field's flag:: bits (hf_transposed, residual_proj).
  unsigned flags = 0;
  /// True if flags holds flag::hf_transposed.
  bool hf_transposed() const noexcept { return flags & flag::hf_transposed; }
  /// True if flags holds flag::residual_proj.
  bool residual_proj() const noexcept { return flags & flag::residual_proj; }

  /// The dotted name as a string ("h.3.attn.c_attn.weight").
  std::string str() const {
    char buf[256];
    return std::string(format(buf));
  }
  /// Writes the dotted name into buf (truncated to N - 1 characters) and returns a view of it.
  template <std::size_t N>
  std::string_view format(char (&buf)[N]) const noexcept {
    std::size_t pos = 0;
    auto put = [&](const char* s) {
      while (*s && pos + 1 < N) buf[pos++] = *s++;
    };
    for (int i = 0; i < depth_; ++i) {
      put(parts_[i]);
      if (index_[i] >= 0) {
        char num[24];
        std::snprintf(num, sizeof num, "%d.", index_[i]);
        put(num);
      }
    }
    buf[pos < N ? pos : N - 1] = '\0';
    return std::string_view(buf, pos);
  }
  /// True if the dotted name begins with prefix.
  bool starts_with(std::string_view prefix) const {
    return std::string_view(str()).substr(0, prefix.size()) == prefix;
  }

  /// Internal: the visitor pushes and pops parts as it descends.
  void push(const char* part, int index) noexcept {
    parts_[depth_] = part;
    index_[depth_] = index;
    ++depth_;
  }
  /// Internal: removes the innermost part.
  void pop() noexcept { --depth_; }
  /// Number of parts currently pushed.
  int depth() const noexcept { return depth_; }

 private:
  std::array<const char*, max_depth> parts_{};
  std::array<int, max_depth> index_{};
  int depth_ = 0;
};

// ---- field descriptors ----------------------------------------------------------------

/// Describes one tensor member of S: its name, member pointer, role and flag:: bits.
template <class S, class M>
struct tensor_field {
  const char* name;  ///< name of the tensor in checkpoints
  M S::*member;  ///< the member of S
  ctformer::role role;  ///< weight, bias, norm or embedding
  unsigned flags;  ///< flag:: bits (hf_transposed, residual_proj)
};

/// Describes a nested params struct member of S, whose tensor names get prefix.
template <class S, class M>
struct struct_field {
  const char* prefix;  ///< ends with '.' unless empty
  M S::*member;  ///< the member of S
};

/// Describes a std::array member of S, element i named prefix + (first + i) + ".".
template <class S, class M, std::size_t N>
struct array_field {
  const char* prefix;  ///< "h." -> "h.0.", "h.1.", ...
  std::array<M, N> S::*member;  ///< the member of S
  int first;           ///< the index of element 0 ("h.7." for the last block of a fine-tuned tail)
};

/// A tensor member with its role and flag:: bits.
template <class S, class M>
constexpr tensor_field<S, M> field(const char* name, M S::*member, role r = role::weight,
                                   unsigned field_flags = flag::none) {
  return {name, member, r, field_flags};
}
/// A nested params-like struct.
template <class S, class M>
constexpr struct_field<S, M> nested(const char* prefix, M S::*member) {
  return {prefix, member};
}
/// A std::array of params-like structs (the layers), numbered from first.
template <class S, class M, std::size_t N>
constexpr array_field<S, M, N> layers(const char* prefix, std::array<M, N> S::*member, int first = 0) {
  return {prefix, member, first};
}

template <class S>
concept visitable = requires { std::remove_cvref_t<S>::fields(); };

namespace detail {

template <class F, class... S>
void visit_struct(tensor_info& info, F& f, S&... s);

template <class F, class Str, class M, class... S>
void visit_field(const tensor_field<Str, M>& fld, tensor_info& info, F& f, S&... s) {
  info.push(fld.name, -1);
  const auto saved_role = info.role;
  const unsigned saved_flags = info.flags;
  info.role = fld.role;
  info.flags = fld.flags;
  f(static_cast<const tensor_info&>(info), (s.*(fld.member))...);
  info.role = saved_role;
  info.flags = saved_flags;
  info.pop();
}

template <class F, class Str, class M, class... S>
void visit_field(const struct_field<Str, M>& fld, tensor_info& info, F& f, S&... s) {
  info.push(fld.prefix, -1);
  visit_struct(info, f, (s.*(fld.member))...);
  info.pop();
}

template <class F, class Str, class M, std::size_t N, class... S>
void visit_field(const array_field<Str, M, N>& fld, tensor_info& info, F& f, S&... s) {
  const int saved_layer = info.layer;
  for (std::size_t i = 0; i < N; ++i) {
    const int index = fld.first + static_cast<int>(i);
    info.push(fld.prefix, index);
    if (saved_layer < 0) info.layer = index;
    visit_struct(info, f, (s.*(fld.member))[i]...);
    info.layer = saved_layer;
    info.pop();
  }
}

template <class F, class... S>
void visit_struct(tensor_info& info, F& f, S&... s) {
  using first = std::remove_cvref_t<std::tuple_element_t<0, std::tuple<S...>>>;
  static_assert((std::is_same_v<first, std::remove_cvref_t<S>> && ...),
                "ctformer: for_each_tensor visits structs of one type in lockstep");
  constexpr auto fields = first::fields();
  std::apply([&](const auto&... fld) { (visit_field(fld, info, f, s...), ...); }, fields);
}

template <class Tuple, std::size_t... I>
void for_each_tensor_impl(Tuple&& args, std::index_sequence<I...>) {
  auto& f = std::get<sizeof...(I)>(args);
  tensor_info info;
  visit_struct(info, f, std::get<I>(args)...);
}

}  // namespace detail

namespace detail {
template <class S>
constexpr std::size_t count_tensors();
template <class Str, class M>
constexpr std::size_t count_field(const tensor_field<Str, M>*) {
  return 1;
}
template <class Str, class M>
constexpr std::size_t count_field(const struct_field<Str, M>*) {
  return count_tensors<M>();
}
template <class Str, class M, std::size_t N>
constexpr std::size_t count_field(const array_field<Str, M, N>*) {
  return N * count_tensors<M>();
}
template <class S>
constexpr std::size_t count_tensors() {
  return std::apply([](const auto&... f) { return (std::size_t{0} + ... + count_field(&f)); }, S::fields());
}
}  // namespace detail

/// How many tensors for_each_tensor visits in a P: a compile-time figure (fixed-size optimizer
/// state in static storage sizes its per-tensor settings by it).
template <class P>
inline constexpr std::size_t tensor_count_v = detail::count_tensors<std::remove_cvref_t<P>>();

// for_each_tensor(p, f) calls f(info, w) for every tensor of p;
// for_each_tensor(p, g, f) calls f(info, w, dw) with matching tensors of p and g; and so on.
// The structs must have one type (constness may differ). f comes last.
namespace detail {
template <class Tuple, std::size_t... I>
constexpr bool all_visitable(std::index_sequence<I...>) {
  return (visitable<std::tuple_element_t<I, Tuple>> && ...);
}
}  // namespace detail

template <class... Args>
void for_each_tensor(Args&&... args) {
  static_assert(sizeof...(Args) >= 2, "ctformer: for_each_tensor(structs..., visitor)");
  constexpr bool ok = detail::all_visitable<std::tuple<Args...>>(std::make_index_sequence<sizeof...(Args) - 1>{});
  /// The most common slip: a trainer (or a model type's instance) where its weights belong.
  static_assert(ok, "ctformer: expected weights (a params struct: Model::params, trainer.weights(), a "
                    "params_view), not a trainer, a model or a config");
  if constexpr (ok)
    detail::for_each_tensor_impl(std::forward_as_tuple(args...), std::make_index_sequence<sizeof...(Args) - 1>{});
}

namespace detail {
/// The data of every tensor of p, in visiting order.
template <class P>
auto tensor_pointers(const P& p) {
  std::array<const void*, tensor_count_v<P>> ptrs{};
  std::size_t k = 0;
  for_each_tensor(p, [&](const tensor_info&, const auto& t) { ptrs[k++] = t.data(); });
  return ptrs;
}
}  // namespace detail

/// Structs with the same fields whose storage differs (params and params_view, or a block of
/// either): copy_tensors copies every tensor of from into to; view_tensors points the view at
/// from's tensors (from must outlive it).
template <class From, class To>
void copy_tensors(const From& from, To& to) {
  static_assert(tensor_count_v<From> == tensor_count_v<To>, "ctformer: copy_tensors between different structs");
  const auto src = detail::tensor_pointers(from);
  std::size_t k = 0;
  for_each_tensor(to, [&](const tensor_info&, auto& t) {
    std::memcpy(t.data(), src[k++], t.size() * sizeof(*t.data()));
  });
}
template <class From, class View>
void view_tensors(const From& from, View& view) {
  static_assert(tensor_count_v<From> == tensor_count_v<View>, "ctformer: view_tensors between different structs");
  const auto src = detail::tensor_pointers(from);
  std::size_t k = 0;
  for_each_tensor(view, [&](const tensor_info&, auto& t) {
    t.ptr = static_cast<const typename std::remove_cvref_t<decltype(t)>::value_type*>(src[k++]);
  });
}

/// Number of scalars over all tensors of a params-like struct type (constexpr when possible).
template <class P>
std::size_t count_scalars(const P& p) {
  std::size_t n = 0;
  for_each_tensor(p, [&](const tensor_info&, const auto& t) { n += t.size(); });
  return n;
}

}  // namespace ctformer
