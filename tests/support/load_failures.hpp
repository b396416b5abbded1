// Helpers for the load-transaction tests: byte snapshots of a load's target, files rewritten with
// one fault injected (a tensor dropped, reshaped or retyped, a metadata value edited, a file cut
// short), and the message of the ctformer::error a call throws.
#pragma once

#include <catch2/catch.hpp>

#include <ctformer/io/json.hpp>
#include <ctformer/io/safetensors.hpp>
#include <ctformer/tensor/visit.hpp>

#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace ctformer::testing {

// Every byte of every tensor of a params-like struct, appended to out.
template <class P>
void append_bytes(std::vector<unsigned char>& out, const P& p) {
  for_each_tensor(p, [&](const tensor_info&, const auto& t) {
    const auto* b = reinterpret_cast<const unsigned char*>(t.data());
    out.insert(out.end(), b, b + t.size() * sizeof(*t.data()));
  });
}

// The message of the ctformer::error that f throws; any other outcome is reported as such, so a
// CHECK on the message also checks the exception's type.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ctformer::error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not a ctformer::error> ") + e.what();
  } catch (...) {
    return "<not a std::exception>";
  }
  return "<no error>";
}

// One tensor of a file being rewritten; an edit may rename, reshape or retype it, replace its
// bytes or drop it.
struct tensor_copy {
  std::string name;
  safetensors::dtype type;
  std::vector<std::size_t> shape;
  std::vector<char> bytes;
  bool keep = true;
};

// Writes `out` as a copy of `in` with edits applied to each tensor and each metadata value.
inline void rewrite(const safetensors::file& in, const std::string& out,
                    const std::function<void(tensor_copy&)>& edit_tensor,
                    const std::function<void(const std::string& key, std::string& value)>& edit_meta = nullptr) {
  safetensors::writer w;
  for (const auto& [k, v] : in.metadata()) {
    std::string value = v;
    if (edit_meta) edit_meta(k, value);
    w.set_metadata(k, value);
  }
  for (const auto& e : in.tensors()) {
    const std::size_t n = e.end - e.begin;
    tensor_copy t{e.name, e.type, e.shape, std::vector<char>(in.data(e), in.data(e) + n)};
    if (edit_tensor) edit_tensor(t);
    if (!t.keep) continue;
    std::size_t want = safetensors::dtype_size(t.type);
    for (auto d : t.shape) want *= d;
    t.bytes.resize(want);
    w.add(t.name, t.type, t.shape, t.bytes.data());
  }
  w.save(out);
}

inline std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}
inline void write_bytes(const std::string& path, const std::vector<char>& b, std::size_t n) {
  std::ofstream(path, std::ios::binary).write(b.data(), std::streamsize(n));
}

// The lengths at which a file is cut: inside the length field, inside the header, at the start
// of the data, half-way, one byte short.
inline std::vector<std::size_t> cut_points(const std::vector<char>& b) {
  std::uint64_t n = 0;
  std::memcpy(&n, b.data(), 8);
  return {0, 5, 8, 8 + std::size_t(n) / 2, 8 + std::size_t(n), b.size() / 2, b.size() - 1};
}

}  // namespace ctformer::testing
