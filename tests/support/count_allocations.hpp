// Replaces the global operator new / delete so that a test can count heap allocations in a
// region: set `alloc_count::counting`, run the code, read `alloc_count::allocations`.
// Include it in exactly one translation unit of a test executable (the replacements are
// program-wide definitions).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace alloc_count {
inline std::atomic<bool> counting{false};
inline std::atomic<long> allocations{0};
inline void* counted(std::size_t n, std::size_t align = 0) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = align ? std::aligned_alloc(align, (n + align - 1) / align * align) : std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace alloc_count

void* operator new(std::size_t n) { return alloc_count::counted(n); }
void* operator new[](std::size_t n) { return alloc_count::counted(n); }
void* operator new(std::size_t n, std::align_val_t a) { return alloc_count::counted(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return alloc_count::counted(n, std::size_t(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
