// The safetensors format: 8 bytes of little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data buffer. The reader validates everything before anyone touches the data: sizes,
// offsets inside the buffer, byte counts that match dtype x shape, no overlaps, no holes.
// Writes are atomic: a temporary file in the same folder, fsync, rename, fsync of the folder.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "json.hpp"

namespace ctformer::safetensors {

static_assert(std::endian::native == std::endian::little,
              "ctformer: safetensors I/O assumes a little-endian host");

enum class dtype : unsigned char { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

inline constexpr std::string_view dtype_name(dtype d) {
  constexpr std::string_view names[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"};
  return names[static_cast<int>(d)];
}
inline constexpr std::size_t dtype_size(dtype d) {
  constexpr std::size_t sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1};
  return sizes[static_cast<int>(d)];
}
inline bool parse_dtype(std::string_view s, dtype& out) {
  for (int i = 0; i <= static_cast<int>(dtype::BOOL); ++i)
    if (dtype_name(dtype(i)) == s) {
      out = dtype(i);
      return true;
    }
  return false;
}
template <class T>
constexpr dtype dtype_of() {
  if constexpr (std::is_same_v<T, double>) return dtype::F64;
  else if constexpr (std::is_same_v<T, float>) return dtype::F32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return dtype::I64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return dtype::I32;
  else if constexpr (std::is_same_v<T, std::int16_t>) return dtype::I16;
  else if constexpr (std::is_same_v<T, std::int8_t>) return dtype::I8;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return dtype::U8;
  else static_assert(sizeof(T) == 0, "ctformer: no safetensors dtype for this type");
}

inline std::string shape_str(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// One tensor of a file: name, dtype, shape and where its bytes are.
struct tensor_entry {
  std::string name;  ///< name in the file
  dtype type = dtype::F32;  ///< element type
  std::vector<std::size_t> shape;  ///< dimensions
  /// Byte offsets of the tensor in the data buffer: [begin, end).
  std::size_t begin = 0, end = 0;  ///< byte offsets in the data buffer
  /// The element count; files are checked with checked_elements() when read, so this cannot wrap.
  std::size_t elements() const {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

/// The product of a shape, false when it does not fit in size_t (a zero dimension makes it 0
/// whatever the others are, as in the reference library).
inline bool checked_elements(const std::vector<std::size_t>& shape, std::size_t& n) {
  n = 1;
  for (auto d : shape)
    if (d == 0) {
      n = 0;
      return true;
    }
  for (auto d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return false;
  return true;
}

/// A whole file read into memory and validated.
class file {
 public:
  /// Reads and validates the file at path; fails with the reason when it is malformed.
  static file read(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) fail("safetensors: cannot open '{}': {}", path, std::strerror(errno));
    const auto size = static_cast<std::size_t>(in.tellg());
    std::vector<char> bytes(size);
    in.seekg(0);
    if (size && !in.read(bytes.data(), std::streamsize(size))) fail("safetensors: cannot read '{}'", path);
    return parse(std::move(bytes), path);
  }

  static file parse(std::vector<char> bytes, const std::string& where = "<memory>") {
    file f;
    f.where_ = where;
    f.bytes_ = std::move(bytes);
    const std::size_t size = f.bytes_.size();
    if (size < 8) fail("safetensors: '{}' is truncated: {} bytes, too short for the 8-byte header length", where, size);
    std::uint64_t n = 0;
    std::memcpy(&n, f.bytes_.data(), 8);
    if (n > size - 8)
      fail("safetensors: '{}' is truncated: the header claims {} bytes but only {} follow", where, n, size - 8);
    if (n > (std::uint64_t{100} << 20)) fail("safetensors: '{}': header of {} bytes is implausibly large", where, n);
    json::value header;
    try {
      header = json::value::parse(std::string_view(f.bytes_.data() + 8, std::size_t(n)));
    } catch (const error& e) {
      fail("safetensors: '{}': corrupt header: {}", where, e.what());
    }
    if (!header.is_object()) fail("safetensors: '{}': the header is not a JSON object", where);
    f.data_offset_ = 8 + std::size_t(n);
    const std::size_t data_size = size - f.data_offset_;
    for (const auto& [name, v] : header.as_object()) {
      if (name == "__metadata__") {
        if (!v.is_object()) fail("safetensors: '{}': __metadata__ is not an object", where);
        for (const auto& [k, mv] : v.as_object()) {
          if (!mv.is_string()) fail("safetensors: '{}': metadata '{}' is not a string", where, k);
          f.metadata_.emplace_back(k, mv.as_string());
        }
        continue;
      }
      tensor_entry e;
      e.name = name;
      // A damaged byte in "__metadata__" (or in a tensor's keys) leaves an entry that is neither.
      if (!v.is_object() || !v.find("dtype") || !v.find("shape") || !v.find("data_offsets"))
        fail("safetensors: '{}': damaged header: entry '{}' is neither __metadata__ nor a tensor (a tensor has "
             "dtype, shape and data_offsets)", where, name);
      try {
        if (!parse_dtype(v.at("dtype").as_string(), e.type))
          fail("unknown dtype '{}'", v.at("dtype").as_string());
        for (const auto& d : v.at("shape").as_array()) {
          const long long x = d.as_int();
          if (x < 0) fail("negative dimension {}", x);
          e.shape.push_back(std::size_t(x));
        }
        const auto& off = v.at("data_offsets").as_array();
        if (off.size() != 2) fail("data_offsets must hold two numbers");
        const long long b = off[0].as_int(), en = off[1].as_int();
        if (b < 0 || en < b) fail("data_offsets [{}, {}] are not an interval", b, en);
        e.begin = std::size_t(b);
        e.end = std::size_t(en);
      } catch (const error& err) {
        fail("safetensors: '{}': tensor '{}': {}", where, name, err.what());
      }
      if (e.end > data_size)
        fail("safetensors: '{}' is truncated: tensor '{}' needs bytes [{}, {}) but the data buffer has {}",
             where, name, e.begin, e.end, data_size);
      /// Checked products: a shape like [242243305, 19037413721] (2^62 + 1 elements, which times 4
      /// bytes wraps to 4) must not pass for a 4-byte tensor.
      std::size_t count = 0, want = 0;
      if (!checked_elements(e.shape, count) || __builtin_mul_overflow(count, dtype_size(e.type), &want))
        fail("safetensors: '{}': tensor '{}' has shape {}, whose size in bytes does not fit in 64 bits", where, name,
             shape_str(e.shape));
      if (e.end - e.begin != want)
        fail("safetensors: '{}': tensor '{}' is {} {} ({} bytes) but its data_offsets span {} bytes", where,
             name, dtype_name(e.type), shape_str(e.shape), want, e.end - e.begin);
      f.tensors_.push_back(std::move(e));
    }
    /// Spans must tile the buffer: sorted by offset, each starts where the previous ended.
    std::vector<const tensor_entry*> order;
    for (const auto& t : f.tensors_) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    std::size_t pos = 0;
    for (const auto* t : order) {
      if (t->begin < pos) fail("safetensors: '{}': tensor '{}' overlaps another tensor", where, t->name);
      if (t->begin > pos) fail("safetensors: '{}': a gap of {} bytes precedes tensor '{}'", where, t->begin - pos, t->name);
      pos = t->end;
    }
    if (pos != data_size)
      fail("safetensors: '{}': {} bytes after the last tensor are not described by the header", where, data_size - pos);
    return f;
  }

  /// The tensors, in header order.
  const std::vector<tensor_entry>& tensors() const { return tensors_; }
  /// The tensor called name, or null.
  const tensor_entry* find(std::string_view name) const {
    for (const auto& t : tensors_)
      if (t.name == name) return &t;
    return nullptr;
  }
  /// The bytes of tensor t.
  const char* data(const tensor_entry& t) const { return bytes_.data() + data_offset_ + t.begin; }
  /// The header's __metadata__ entries, in order.
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  /// The metadata value of key, or null.
  const std::string* metadata(std::string_view key) const {
    for (const auto& [k, v] : metadata_)
      if (k == key) return &v;
    return nullptr;
  }
  /// The file's path, for messages.
  const std::string& where() const { return where_; }

 private:
  std::string where_;
  std::vector<char> bytes_;
  std::size_t data_offset_ = 0;
  std::vector<tensor_entry> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

/// Writes `contents` to `path` atomically: temporary file, fsync, rename, fsync of the folder.
/// A crash at any point leaves either the old file or the new one, never a mix.
inline void write_file_atomically(const std::string& path, const std::vector<std::string_view>& parts) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create '{}': {}", tmp, std::strerror(errno));
  auto fail_cleanup = [&](const char* what) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("cannot {} '{}': {}", what, tmp, std::strerror(e));
  };
  for (std::string_view part : parts) {
    const char* p = part.data();
    std::size_t left = part.size();
    while (left) {
      const ssize_t w = ::write(fd, p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail_cleanup("write");
      }
      p += w;
      left -= std::size_t(w);
    }
  }
  if (::fsync(fd) != 0) fail_cleanup("fsync");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail("cannot close '{}': {}", tmp, std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    fail("cannot rename '{}' to '{}': {}", tmp, path, std::strerror(e));
  }
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

/// Collects tensors and metadata, then writes one file.
class writer {
 public:
  /// Copies the bytes: the caller's buffers may change right after.
  void add(std::string name, dtype type, std::vector<std::size_t> shape, const void* data) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    const std::size_t bytes = n * dtype_size(type);
    for (const auto& e : entries_)
      if (e.name == name) fail("safetensors: tensor '{}' added twice", name);
    tensor_entry e{std::move(name), type, std::move(shape), data_.size(), data_.size() + bytes};
    data_.append(static_cast<const char*>(data), bytes);
    entries_.push_back(std::move(e));
  }
  /// Adds or replaces a __metadata__ entry.
  void set_metadata(std::string key, std::string value) {
    for (auto& [k, v] : metadata_)
      if (k == key) {
        v = std::move(value);
        return;
      }
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  /// The header, padded with spaces to a multiple of 8 bytes (as the reference library does).
  std::string header() const {
    json::value h;
    if (!metadata_.empty()) {
      json::value m;
      for (const auto& [k, v] : metadata_) m.set(k, v);
      h.set("__metadata__", std::move(m));
    }
    for (const auto& e : entries_) {
      json::value t;
      t.set("dtype", std::string(dtype_name(e.type)));
      json::array shape;
      for (auto d : e.shape) shape.emplace_back(d);
      t.set("shape", json::value(std::move(shape)));
      t.set("data_offsets", json::value(json::array{json::value(e.begin), json::value(e.end)}));
      h.set(e.name, std::move(t));
    }
    std::string s = h.dump();
    while (s.size() % 8) s.push_back(' ');
    return s;
  }

  /// Writes the file to path atomically: 8-byte header length, header, data.
  void save(const std::string& path) const {
    const std::string h = header();
    char len[8];
    const std::uint64_t n = h.size();
    std::memcpy(len, &n, 8);
    write_file_atomically(path, {std::string_view(len, 8), h, data_});
  }

 private:
  std::vector<tensor_entry> entries_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::string data_;
};

}  // namespace ctformer::safetensors
