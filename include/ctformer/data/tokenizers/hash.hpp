// Small open-addressing hash maps for the tokenizers' hot lookups: byte string -> int32 (a
// vocabulary, keys stored once in an arena) and uint64 -> uint64 (BPE merge pairs). Linear
// probing at load factor <= 1/2; no erase (vocabularies only grow, caches are cleared whole).
// std::unordered_map allocates a node per entry and chases a pointer per probe: too slow here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace ctformer::detail {

inline std::uint64_t hash_mix64(std::uint64_t x) noexcept {
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return x;
}

/// Reads eight bytes at a time; the tail is zero-padded and the length is mixed in, so keys
/// that differ only by trailing NULs still hash apart.
inline std::uint64_t hash_bytes(const char* p, std::size_t n) noexcept {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (std::uint64_t(n) * 0xFF51AFD7ED558CCDull);
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0x9FB21C651E98DF25ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * 0x9FB21C651E98DF25ull;
  }
  return hash_mix64(h);
}

/// Byte string -> int32 value. Keys live in one arena; a slot stores offset, length and value.
class string_map {
 public:
  std::size_t size() const noexcept { return count_; }
  void clear() {
    slots_.assign(slots_.size(), slot{});
    arena_.clear();
    count_ = 0;
  }
  void reserve(std::size_t n) {
    std::size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    if (cap > slots_.size()) rehash(cap);
  }

  /// The value for key, or nullptr.
  const std::int32_t* find(std::string_view key) const noexcept {
    if (slots_.empty()) return nullptr;
    const std::uint64_t h = hash_bytes(key.data(), key.size());
    const std::uint32_t tag = std::uint32_t(h >> 32) | 1u;  ///< never 0: 0 marks an empty slot
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.tag == 0) return nullptr;
      if (s.tag == tag && s.len == key.size() && std::memcmp(arena_.data() + s.off, key.data(), key.size()) == 0)
        return &s.value;
    }
  }
  /// Inserts key -> value; returns false (leaving the old value) when key was present.
  bool insert(std::string_view key, std::int32_t value) {
    if (2 * (count_ + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size());
    const std::uint64_t h = hash_bytes(key.data(), key.size());
    const std::uint32_t tag = std::uint32_t(h >> 32) | 1u;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      slot& s = slots_[i];
      if (s.tag == 0) {
        s = slot{tag, std::uint32_t(key.size()), std::uint64_t(arena_.size()), value};
        arena_.append(key);
        ++count_;
        return true;
      }
      if (s.tag == tag && s.len == key.size() && std::memcmp(arena_.data() + s.off, key.data(), key.size()) == 0)
        return false;
    }
  }
  std::size_t arena_bytes() const noexcept { return arena_.size(); }

 private:
  struct slot {
    std::uint32_t tag = 0, len = 0;
    std::uint64_t off = 0;
    std::int32_t value = 0;
  };
  void rehash(std::size_t cap) {
    std::vector<slot> old(cap);
    old.swap(slots_);
    mask_ = cap - 1;
    for (const slot& s : old) {
      if (s.tag == 0) continue;
      const std::uint64_t h = hash_bytes(arena_.data() + s.off, s.len);
      std::size_t i = h & mask_;
      while (slots_[i].tag != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }
  std::vector<slot> slots_;
  std::string arena_;
  std::size_t mask_ = 0, count_ = 0;
};

/// uint64 key -> uint64 value; the all-ones key is reserved as the empty marker.
class u64_map {
 public:
  static constexpr std::uint64_t empty_key = ~std::uint64_t{0};
  std::size_t size() const noexcept { return count_; }
  void reserve(std::size_t n) {
    std::size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    if (cap > keys_.size()) rehash(cap);
  }
  const std::uint64_t* find(std::uint64_t key) const noexcept {
    if (keys_.empty()) return nullptr;
    for (std::size_t i = hash_mix64(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == empty_key) return nullptr;
    }
  }
  /// Returns the slot's value, inserting `init` when the key is new.
  std::uint64_t& get_or_insert(std::uint64_t key, std::uint64_t init, bool* inserted = nullptr) {
    if (2 * (count_ + 1) > keys_.size()) rehash(keys_.empty() ? 16 : 2 * keys_.size());
    for (std::size_t i = hash_mix64(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) {
        if (inserted) *inserted = false;
        return values_[i];
      }
      if (keys_[i] == empty_key) {
        keys_[i] = key;
        values_[i] = init;
        ++count_;
        if (inserted) *inserted = true;
        return values_[i];
      }
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] != empty_key) f(keys_[i], values_[i]);
  }

 private:
  void rehash(std::size_t cap) {
    std::vector<std::uint64_t> ok(cap, empty_key), ov(cap, 0);
    ok.swap(keys_);
    ov.swap(values_);
    mask_ = cap - 1;
    for (std::size_t j = 0; j < ok.size(); ++j) {
      if (ok[j] == empty_key) continue;
      std::size_t i = hash_mix64(ok[j]) & mask_;
      while (keys_[i] != empty_key) i = (i + 1) & mask_;
      keys_[i] = ok[j];
      values_[i] = ov[j];
    }
  }
  std::vector<std::uint64_t> keys_, values_;
  std::size_t mask_ = 0, count_ = 0;
};

inline constexpr std::uint64_t pair_key(std::int32_t a, std::int32_t b) noexcept {
  return (std::uint64_t(std::uint32_t(a)) << 32) | std::uint32_t(b);
}

}  // namespace ctformer::detail
