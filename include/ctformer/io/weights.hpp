// Model weights as safetensors, with the names and layouts Hugging Face uses. Tensors marked
// hf_transposed are written (out, in) as nn.Linear stores them and transposed back on load.
// Loading checks every name, dtype and shape first and lists every mismatch in one error; the
// model is only written to when the whole file fits (by copies that cannot fail), so a bad file
// loses nothing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../tensor/visit.hpp"
#include "safetensors.hpp"

namespace ctformer {

enum class weight_layout : unsigned char {
  huggingface,  ///< nn.Linear weights (out, in), as transformers' files
  native        // ctformer's own (in, out) everywhere
};

/// How save_weights and add_weights name and lay out tensors.
struct save_options {
  weight_layout layout = weight_layout::huggingface;  ///< orientation of linear weights in the file
  std::string prefix;                                          ///< prepended to every name
  std::vector<std::pair<std::string, std::string>> metadata;   ///< added to __metadata__
};

/// How load_weights finds and checks tensors.
struct load_options {
  weight_layout layout = weight_layout::huggingface;  ///< orientation of linear weights in the file
  /// Prefixes tried in turn ("transformer." for GPT2LMHeadModel files, "bert." for BERT heads, ...).
  std::vector<std::string> prefixes{"", "transformer.", "bert.", "model."};
  bool allow_unexpected = false;  ///< extra tensors in the file are an error unless allowed
  /// Tensors that files commonly carry and a model never loads (causal-mask buffers, ids).
  std::vector<std::string> ignore_suffixes{".attn.bias", ".attn.masked_bias", "position_ids"};
  /// Only tensors whose name starts with one of these are loaded (empty: all). Fine-tuning uses
  /// it to load a body and keep a freshly initialized head.
  std::vector<std::string> only;
  /// Check everything and throw on a problem, but write nothing (checkpoints validate all their
  /// parts before loading any).
  bool validate_only = false;
  /// A NaN or infinite value in a floating-point tensor is a problem (a damaged or diverged file)
  /// unless allowed.
  bool allow_non_finite = false;
  /// load_weights refuses a ctformer training checkpoint (use load_checkpoint to resume from it or
  /// load_pretrained to start from its weights) unless allowed; its tensors are "model."-prefixed.
  bool allow_checkpoint = false;
};

namespace detail {

template <class Tensor>
std::vector<std::size_t> file_shape(const Tensor& t, bool transpose) {
  std::vector<std::size_t> s(t.shape().begin(), t.shape().end());
  if (transpose && s.size() == 2) std::swap(s[0], s[1]);
  return s;
}

inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000) << 16;
  std::uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  ///< subnormal: renormalize
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3FF) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Element i of a file tensor of dtype d, as double.
inline double element(const char* p, safetensors::dtype d, std::size_t i) {
  using safetensors::dtype;
  switch (d) {
    case dtype::F64: { double v; std::memcpy(&v, p + 8 * i, 8); return v; }
    case dtype::F32: { float v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case dtype::F16: { std::uint16_t v; std::memcpy(&v, p + 2 * i, 2); return half_to_float(v); }
    case dtype::BF16: {
      std::uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      const std::uint32_t bits = std::uint32_t(v) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case dtype::I64: { std::int64_t v; std::memcpy(&v, p + 8 * i, 8); return double(v); }
    case dtype::I32: { std::int32_t v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case dtype::I16: { std::int16_t v; std::memcpy(&v, p + 2 * i, 2); return v; }
    case dtype::I8: return double(static_cast<std::int8_t>(p[i]));
    case dtype::U8: return double(static_cast<unsigned char>(p[i]));
    case dtype::BOOL: return p[i] ? 1.0 : 0.0;
  }
  return 0;
}

inline bool is_float(safetensors::dtype d) {
  using safetensors::dtype;
  return d == dtype::F64 || d == dtype::F32 || d == dtype::F16 || d == dtype::BF16;
}

inline bool starts_with_any(std::string_view s, const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return true;
  for (const auto& p : prefixes)
    if (s.substr(0, p.size()) == p) return true;
  return false;
}

}  // namespace detail

/// Adds every tensor of a params-like struct to a safetensors writer.
template <class P>
void add_weights(safetensors::writer& w, const P& params, const save_options& opt = {}) {
  for_each_tensor(params, [&](const tensor_info& info, const auto& t) {
    using T = typename std::remove_cvref_t<decltype(t)>::value_type;
    const bool tr = opt.layout == weight_layout::huggingface && info.hf_transposed() && t.dimension() == 2;
    auto shape = detail::file_shape(t, tr);
    if (!tr) {
      w.add(opt.prefix + info.str(), safetensors::dtype_of<T>(), std::move(shape), t.data());
    } else {
      const std::size_t r = t.shape()[0], c = t.shape()[1];
      std::vector<T> buf(r * c);
      for (std::size_t i = 0; i < r; ++i)
        for (std::size_t j = 0; j < c; ++j) buf[j * r + i] = t.data()[i * c + j];
      w.add(opt.prefix + info.str(), safetensors::dtype_of<T>(), std::move(shape), buf.data());
    }
  });
}

template <class P>
void save_weights(const std::string& path, const P& params, const save_options& opt = {}) {
  safetensors::writer w;
  w.set_metadata("format", "pt");  // lets Hugging Face's loaders accept the file
  for (const auto& [k, v] : opt.metadata) w.set_metadata(k, v);
  add_weights(w, params, opt);
  w.save(path);
}

namespace detail {

/// A checked load: for each tensor of a params-like struct, in visiting order, the file entry its
/// values come from (null: `only` leaves that tensor alone). Only plan_weights can fail; applying a
/// plan allocates nothing and cannot, which is what makes every load a transaction.
struct weights_plan {
  const safetensors::file* file = nullptr;
  weight_layout layout = weight_layout::huggingface;
  std::vector<const safetensors::tensor_entry*> entries;
};

/// Checks every name, shape and dtype against the file; throws ctformer::error listing every
/// problem. Writes nothing.
template <class P>
weights_plan plan_weights(const safetensors::file& f, const P& params, const load_options& opt) {
  /// Pick the prefix under which the most expected names exist.
  std::string prefix;
  std::size_t best = 0;
  for (const auto& pre : opt.prefixes) {
    std::size_t hits = 0;
    for_each_tensor(params, [&](const tensor_info& info, const auto&) {
      if (f.find(pre + info.str())) ++hits;
    });
    if (hits > best) {
      best = hits;
      prefix = pre;
    }
  }
  weights_plan plan{&f, opt.layout, {}};
  std::vector<std::string> problems;
  std::vector<std::string> used;
  for_each_tensor(params, [&](const tensor_info& info, const auto& t) {
    const std::string name = info.str();
    plan.entries.push_back(nullptr);
    if (!starts_with_any(name, opt.only)) return;
    const auto* e = f.find(prefix + name);
    if (!e) {
      problems.push_back(fmt::format("missing tensor '{}'", prefix + name));
      return;
    }
    plan.entries.back() = e;
    used.push_back(e->name);
    const bool tr = opt.layout == weight_layout::huggingface && info.hf_transposed() && t.dimension() == 2;
    const auto want = file_shape(t, tr);
    if (e->shape != want)
      problems.push_back(fmt::format("tensor '{}' has shape {} in the file but the model expects {}", e->name,
                                     safetensors::shape_str(e->shape), safetensors::shape_str(want)));
    using V = typename std::remove_cvref_t<decltype(t)>::value_type;
    if constexpr (std::is_integral_v<V>) {
      // Integer tensors (quantized weights) load only from their exact dtype.
      if (e->type != safetensors::dtype_of<V>())
        problems.push_back(fmt::format("tensor '{}' has dtype {} but the model needs {}", e->name,
                                       safetensors::dtype_name(e->type),
                                       safetensors::dtype_name(safetensors::dtype_of<V>())));
    } else if (!is_float(e->type)) {
      problems.push_back(fmt::format("tensor '{}' has dtype {} but the model needs floating point", e->name,
                                     safetensors::dtype_name(e->type)));
    } else if (!opt.allow_non_finite) {
      const char* src = f.data(*e);
      const std::size_t n = (e->end - e->begin) / safetensors::dtype_size(e->type);
      std::size_t bad = 0, first = 0;
      double first_value = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double x = element(src, e->type, i);
        if (!std::isfinite(x) && bad++ == 0) {
          first = i;
          first_value = x;
        }
      }
      if (bad)
        problems.push_back(fmt::format("tensor '{}' holds {} non-finite value{} (the first, {}, at element {}; "
                                       "load_options::allow_non_finite loads it anyway)",
                                       e->name, bad, bad == 1 ? "" : "s", first_value, first));
    }
  });
  if (!opt.allow_unexpected) {
    for (const auto& e : f.tensors()) {
      if (std::find(used.begin(), used.end(), e.name) != used.end()) continue;
      if (!starts_with_any(e.name.substr(std::min(prefix.size(), e.name.size())), opt.only)) continue;
      bool ignorable = false;
      for (const auto& s : opt.ignore_suffixes)
        if (e.name.size() >= s.size() && e.name.compare(e.name.size() - s.size(), s.size(), s) == 0) ignorable = true;
      if (!ignorable) problems.push_back(fmt::format("unexpected tensor '{}' in the file", e.name));
    }
  }
  if (!problems.empty()) {
    std::string msg = fmt::format("cannot load weights from '{}': {} problem{}", f.where(), problems.size(),
                                  problems.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < problems.size() && i < 20; ++i) msg += "\n  " + problems[i];
    if (problems.size() > 20) msg += fmt::format("\n  ... and {} more", problems.size() - 20);
    throw error(msg);
  }
  return plan;
}

/// Copies (converting, transposing) a plan made for this struct's type into it.
template <class P>
void apply_weights(const weights_plan& plan, P& params) noexcept {
  std::size_t k = 0;
  for_each_tensor(params, [&](const tensor_info& info, auto& t) {
    using T = typename std::remove_cvref_t<decltype(t)>::value_type;
    const auto* e = plan.entries[k++];
    if (!e) return;
    const char* src = plan.file->data(*e);
    const bool tr = plan.layout == weight_layout::huggingface && info.hf_transposed() && t.dimension() == 2;
    const std::size_t n = t.size();
    if (!tr && e->type == safetensors::dtype_of<T>()) {
      std::memcpy(t.data(), src, n * sizeof(T));
      return;
    }
    const std::size_t r = t.shape()[0], c = t.dimension() == 2 ? t.shape()[1] : 1;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t fi = tr ? (i % c) * r + i / c : i;  ///< file index of our element i
      t.data()[i] = T(element(src, e->type, fi));
    }
  });
}

}  // namespace detail

/// Loads from an already-read file; see load_weights.
template <class P>
void load_weights(const safetensors::file& f, P& params, const load_options& opt = {}) {
  if (!opt.allow_checkpoint)
    if (const std::string* format = f.metadata("ctformer.format"))
      fail("cannot load weights from '{}': it is a ctformer training checkpoint ({}), not a weights file; use "
           "load_checkpoint to resume training from it or load_pretrained to start from its weights",
           f.where(), *format);
  const detail::weights_plan plan = detail::plan_weights(f, params, opt);
  if (!opt.validate_only) detail::apply_weights(plan, params);
}

/// Loads a params-like struct from a safetensors file. Throws ctformer::error listing every
/// missing tensor, wrong shape or dtype, unexpected tensor and tensor holding NaN or infinity, or
/// naming a training checkpoint as such; params are untouched on error.
template <class P>
void load_weights(const std::string& path, P& params, const load_options& opt = {}) {
  load_weights(safetensors::file::read(path), params, opt);
}

}  // namespace ctformer

namespace ctformer {

/// Fine-tuning's entry point: loads the tensors named by `only` (for example the encoder body,
/// {"embeddings.", "encoder."}) from either a ctformer training checkpoint or a weights file with
/// Hugging Face names (GPT-2, BERT; optional "transformer." / "bert." prefixes), into a model whose
/// other parts (a new head) keep their fresh initialization. Returns how many tensors were loaded.
template <class P>
std::size_t load_pretrained(const std::string& path, P& params, const std::vector<std::string>& only = {}) {
  const auto f = safetensors::file::read(path);
  load_options o;
  o.only = only;
  o.allow_unexpected = true;  // the pretrained head (an MLM head, say) is not wanted
  if (f.metadata("ctformer.format")) {
    o.layout = weight_layout::native;
    o.prefixes = {"model."};
  }
  const detail::weights_plan plan = detail::plan_weights(f, params, o);
  std::size_t n = 0;
  for (const auto* e : plan.entries) n += e != nullptr;
  detail::apply_weights(plan, params);
  return n;
}

}  // namespace ctformer
