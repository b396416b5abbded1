// Fixed-shape tensors and non-owning views with compile-time shapes.
// tensor<T, D...> owns its storage (xt::xtensor_fixed, row-major; on bare metal fixed_array, a
// plain array with the part of its interface the library uses, because xtensor's containers pull
// in <iostream>). tensor_view<T, D...> is a pointer plus a compile-time shape that hands slices
// (per layer, per batch row, per head) to layers and kernels without copying; views of different
// shapes never convert silently.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../base/platform.hpp"

#if !defined(CTFORMER_BARE_METAL)
CTFORMER_THIRD_PARTY_BEGIN  // see base/platform.hpp
#include <xtensor/xfixed.hpp>
CTFORMER_THIRD_PARTY_END
#endif

namespace ctformer {

/// Row-major storage of Π D elements with a compile-time shape: what tensor<T, D...> is on bare
/// metal. Value-initialised like xtensor_fixed is not: static storage zeroes it anyway.
template <class T, std::size_t... D>
struct fixed_array {
  using value_type = T;  ///< element type
  using size_type = std::size_t;  ///< index type
  static constexpr std::size_t rank = sizeof...(D);  ///< number of dimensions
  static constexpr std::size_t count = (std::size_t{1} * ... * D);  ///< number of elements, Π D
  using shape_type = std::array<std::size_t, rank>;  ///< type of shape()
  static constexpr shape_type shape_v{D...};  ///< the shape (D...)

  alignas(16) T storage[count];  ///< the elements, row-major

  constexpr T* data() noexcept { return storage; }  ///< pointer to the first element
  constexpr const T* data() const noexcept { return storage; }  ///< pointer to the first element
  /// Number of elements, Π D.
  static constexpr std::size_t size() noexcept { return count; }
  /// Number of dimensions.
  static constexpr std::size_t dimension() noexcept { return rank; }
  /// The shape (D...).
  static constexpr const shape_type& shape() noexcept { return shape_v; }
  /// Extent of dimension i.
  static constexpr std::size_t shape(std::size_t i) noexcept { return shape_v[i]; }
  constexpr T* begin() noexcept { return storage; }  ///< first element
  constexpr T* end() noexcept { return storage + count; }  ///< one past the last element
  constexpr const T* begin() const noexcept { return storage; }  ///< first element
  constexpr const T* end() const noexcept { return storage + count; }  ///< one past the last element
  /// Sets every element to v.
  constexpr void fill(const T& v) noexcept {
    for (auto& x : storage) x = v;
  }
  /// Element access with one index per dimension.
  template <class... I>
    requires(sizeof...(I) == rank)
  constexpr T& operator()(I... idx) noexcept {
    return storage[offset(idx...)];
  }
  /// Read-only element access with one index per dimension.
  template <class... I>
    requires(sizeof...(I) == rank)
  constexpr const T& operator()(I... idx) const noexcept {
    return storage[offset(idx...)];
  }

 private:
  template <class... I>
  static constexpr std::size_t offset(I... idx) noexcept {
    std::size_t off = 0, k = 0;
    ((off = off * shape_v[k++] + static_cast<std::size_t>(idx)), ...);
    return off;
  }
};

#if defined(CTFORMER_BARE_METAL)
template <class T, std::size_t... D>
using tensor = fixed_array<T, D...>;
#else
template <class T, std::size_t... D>
using tensor = xt::xtensor_fixed<T, xt::xshape<D...>>;
#endif
template <class T, std::size_t D0>
using tensor1 = tensor<T, D0>;
template <class T, std::size_t D0, std::size_t D1>
using tensor2 = tensor<T, D0, D1>;
template <class T, std::size_t D0, std::size_t D1, std::size_t D2>
using tensor3 = tensor<T, D0, D1, D2>;
template <class T, std::size_t D0, std::size_t D1, std::size_t D2, std::size_t D3>
using tensor4 = tensor<T, D0, D1, D2, D3>;

/// A tensor whose elements live elsewhere and are only read: a pointer to constant data (weights
/// compiled into flash, an exported header's arrays) with an owning tensor's compile-time shape and
/// the part of its interface forwards use. Params structs take it as their storage template
/// (Model::params_view) to run on weights without copying them.
template <class T, std::size_t... D>
struct const_tensor_ref {
  using value_type = T;  ///< element type
  using size_type = std::size_t;  ///< index type
  static constexpr std::size_t rank = sizeof...(D);  ///< number of dimensions
  static constexpr std::size_t count = (std::size_t{1} * ... * D);  ///< number of elements, Π D
  using shape_type = std::array<std::size_t, rank>;  ///< type of shape()
  static constexpr shape_type shape_v{D...};  ///< the shape (D...)

  const T* ptr = nullptr;  ///< first element of the row-major data

  constexpr const T* data() const noexcept { return ptr; }  ///< pointer to the first element
  /// Number of elements, Π D.
  static constexpr std::size_t size() noexcept { return count; }
  /// Number of dimensions.
  static constexpr std::size_t dimension() noexcept { return rank; }
  /// The shape (D...).
  static constexpr const shape_type& shape() noexcept { return shape_v; }
  /// Read-only element access with one index per dimension.
  template <class... I>
    requires(sizeof...(I) == rank)
  constexpr const T& operator()(I... idx) const noexcept {
    std::size_t off = 0, k = 0;
    ((off = off * shape_v[k++] + static_cast<std::size_t>(idx)), ...);
    return ptr[off];
  }
};

/// The storage template of a params struct: tensor (owning) or const_tensor_ref (a view).
template <template <class, std::size_t...> class Tn>
inline constexpr bool is_view_storage = false;
template <>
inline constexpr bool is_view_storage<const_tensor_ref> = true;

template <std::size_t... D>
inline constexpr std::size_t product_v = (std::size_t{1} * ... * D);

namespace detail {

template <std::size_t... D>
struct dims {};

/// Instantiated only when two shapes differ, so the compiler's note names both shapes.
template <class Expected, class Got>
constexpr bool shapes_match_v = std::is_same_v<Expected, Got>;

template <class Expected, class Got>
constexpr void require_same_shape() {
  static_assert(shapes_match_v<Expected, Got>,
                "ctformer: tensor shapes differ (see 'Expected = dims<...>' and "
                "'Got = dims<...>' in the instantiation note)");
}

template <class T, std::size_t... D>
struct tail_view;

}  // namespace detail

template <class T, std::size_t... D>
class tensor_view;

template <class T>
struct is_tensor_view : std::false_type {};
template <class T, std::size_t... D>
struct is_tensor_view<tensor_view<T, D...>> : std::true_type {};

/// A pointer to Π D elements laid out row-major with shape (D...).
template <class T, std::size_t... D>
class tensor_view {
  static_assert(sizeof...(D) >= 1, "ctformer: a tensor_view needs at least one dimension");

 public:
  using element_type = T;  ///< T, possibly const
  using value_type = std::remove_const_t<T>;  ///< T without const
  static constexpr std::size_t rank = sizeof...(D);  ///< number of dimensions
  static constexpr std::size_t size = product_v<D...>;  ///< number of elements, Π D
  static constexpr std::array<std::size_t, rank> shape{D...};  ///< the shape (D...)
  /// Row-major strides in elements: strides[i] is the product of the dimensions after i.
  static constexpr std::array<std::size_t, rank> strides = [] {
    std::array<std::size_t, rank> s{};
    std::size_t acc = 1;
    for (std::size_t i = rank; i-- > 0;) {
      s[i] = acc;
      acc *= shape[i];
    }
    return s;
  }();

  constexpr tensor_view() noexcept = default;
  /// View of the Π D elements starting at data.
  constexpr explicit tensor_view(T* data) noexcept : data_(data) {}

  /// Views of owning tensors: the shapes must agree exactly.
  template <class U, std::size_t... E>
    requires std::is_same_v<std::remove_const_t<T>, U>
  constexpr tensor_view(fixed_array<U, E...>& t) noexcept  // NOLINT
      : data_(t.data()) {
    detail::require_same_shape<detail::dims<D...>, detail::dims<E...>>();
  }
  /// Read-only view of a const owning tensor: the shapes must agree exactly.
  template <class U, std::size_t... E>
    requires(std::is_same_v<std::remove_const_t<T>, U> && std::is_const_v<T>)
  constexpr tensor_view(const fixed_array<U, E...>& t) noexcept  // NOLINT
      : data_(t.data()) {
    detail::require_same_shape<detail::dims<D...>, detail::dims<E...>>();
  }
#if !defined(CTFORMER_BARE_METAL)
  template <class U, class FSH, xt::layout_type L, bool Sh, class Tag>
    requires std::is_same_v<std::remove_const_t<T>, U>
  constexpr tensor_view(xt::xfixed_container<U, FSH, L, Sh, Tag>& t) noexcept  // NOLINT
      : data_(t.data()) {
    check_fixed_shape<FSH>();
  }
  template <class U, class FSH, xt::layout_type L, bool Sh, class Tag>
    requires(std::is_same_v<std::remove_const_t<T>, U> && std::is_const_v<T>)
  constexpr tensor_view(const xt::xfixed_container<U, FSH, L, Sh, Tag>& t) noexcept  // NOLINT
      : data_(t.data()) {
    check_fixed_shape<FSH>();
  }
#endif

  /// Mutable view -> read-only view; any other shape is a compile error naming both shapes.
  template <class U, std::size_t... E>
    requires(std::is_same_v<T, const U> || std::is_same_v<T, U>)
  constexpr tensor_view(tensor_view<U, E...> other) noexcept  // NOLINT
      : data_(other.data()) {
    detail::require_same_shape<detail::dims<D...>, detail::dims<E...>>();
  }

  constexpr T* data() const noexcept { return data_; }  ///< pointer to the first element
  constexpr T* begin() const noexcept { return data_; }  ///< first element
  constexpr T* end() const noexcept { return data_ + size; }  ///< one past the last element

  /// Element access with one index per dimension.
  template <class... I>
    requires(sizeof...(I) == rank)
  constexpr T& operator()(I... idx) const noexcept {
    std::size_t off = 0, k = 0;
    ((off += static_cast<std::size_t>(idx) * strides[k++]), ...);
    return data_[off];
  }

  /// Slice along the first axis: a view of rank-1 (or an element for rank 1).
  constexpr decltype(auto) operator[](std::size_t i) const noexcept {
    if constexpr (rank == 1) {
      return data_[i];
    } else {
      using sub = typename detail::tail_view<T, D...>::type;
      return sub(data_ + i * strides[0]);
    }
  }

  /// Same elements, another shape of the same size.
  template <std::size_t... E>
  constexpr tensor_view<T, E...> reshape() const noexcept {
    static_assert(product_v<E...> == size, "ctformer: reshape must keep the number of elements");
    return tensor_view<T, E...>(data_);
  }
  /// The same elements as a rank-1 view of length Π D.
  constexpr tensor_view<T, size> flat() const noexcept { return tensor_view<T, size>(data_); }

  /// Rows [Start, Start + Count) of the first axis, as a view of the same rank.
  template <std::size_t Count>
  constexpr auto rows(std::size_t start) const noexcept {
    return rows_impl<Count>(start, std::make_index_sequence<rank - 1>{});
  }

 private:
#if !defined(CTFORMER_BARE_METAL)
  template <class FSH>
  static constexpr void check_fixed_shape() {
    using got = decltype(to_dims(FSH{}));
    detail::require_same_shape<detail::dims<D...>, got>();
  }
  template <std::size_t... E>
  static constexpr detail::dims<E...> to_dims(xt::fixed_shape<E...>) {
    return {};
  }
#endif
  template <std::size_t Count, std::size_t... I>
  constexpr auto rows_impl(std::size_t start, std::index_sequence<I...>) const noexcept {
    return tensor_view<T, Count, shape[I + 1]...>(data_ + start * strides[0]);
  }

  T* data_ = nullptr;
};

namespace detail {
template <class T, std::size_t D0, std::size_t... D>
struct tail_view<T, D0, D...> {
  using type = tensor_view<T, D...>;
};
}  // namespace detail

/// Names used in layer signatures: outputs first, then inputs (see DESIGN.md section 3).
template <class T, std::size_t... D>
using out = tensor_view<T, D...>;
template <class T, std::size_t... D>
using inout = tensor_view<T, D...>;
template <class T, std::size_t... D>
using cache = tensor_view<T, D...>;
template <class T, std::size_t... D>
using in = tensor_view<const T, D...>;

/// A view of an owning tensor with its shape deduced.
template <class T, std::size_t... D>
constexpr tensor_view<T, D...> view_of(fixed_array<T, D...>& t) noexcept {
  return tensor_view<T, D...>(t.data());
}
template <class T, std::size_t... D>
constexpr tensor_view<const T, D...> view_of(const fixed_array<T, D...>& t) noexcept {
  return tensor_view<const T, D...>(t.data());
}
#if !defined(CTFORMER_BARE_METAL)
template <class T, std::size_t... D, xt::layout_type L, bool Sh, class Tag>
constexpr tensor_view<T, D...> view_of(
    xt::xfixed_container<T, xt::fixed_shape<D...>, L, Sh, Tag>& t) noexcept {
  return tensor_view<T, D...>(t.data());
}
template <class T, std::size_t... D, xt::layout_type L, bool Sh, class Tag>
constexpr tensor_view<const T, D...> view_of(
    const xt::xfixed_container<T, xt::fixed_shape<D...>, L, Sh, Tag>& t) noexcept {
  return tensor_view<const T, D...>(t.data());
}
#endif

/// A (R, C) block inside a wider row-major matrix: row r starts at data + r * ld.
/// Used for one head's columns of a fused (S, 3C) projection.
template <class T, std::size_t R, std::size_t C>
class strided_view {
 public:
  static constexpr std::size_t rows = R;  ///< number of rows R
  static constexpr std::size_t cols = C;  ///< number of columns C
  /// Block whose row r starts at data + r * ld.
  constexpr strided_view(T* data, std::size_t ld) noexcept : data_(data), ld_(ld) {}
  /// Mutable view -> read-only view.
  template <class U>
    requires std::is_same_v<T, const U>
  constexpr strided_view(strided_view<U, R, C> o) noexcept  // NOLINT
      : data_(o.data()), ld_(o.ld()) {}
  constexpr T* data() const noexcept { return data_; }  ///< pointer to element (0, 0)
  /// Leading dimension: elements between the starts of consecutive rows.
  constexpr std::size_t ld() const noexcept { return ld_; }
  /// Element (r, c).
  constexpr T& operator()(std::size_t r, std::size_t c) const noexcept { return data_[r * ld_ + c]; }
  constexpr T* row(std::size_t r) const noexcept { return data_ + r * ld_; }  ///< pointer to the start of row r

 private:
  T* data_;
  std::size_t ld_;
};

/// Columns [col, col + C) of every row of a (R, W) view.
template <std::size_t C, class T, std::size_t R, std::size_t W>
constexpr strided_view<T, R, C> columns(tensor_view<T, R, W> v, std::size_t col) noexcept {
  static_assert(C <= W, "ctformer: column block wider than the matrix");
  return strided_view<T, R, C>(v.data() + col, W);
}

template <class T, std::size_t... D>
void fill(tensor_view<T, D...> v, std::remove_const_t<T> value) noexcept {
  for (auto& x : v) x = value;
}

}  // namespace ctformer
