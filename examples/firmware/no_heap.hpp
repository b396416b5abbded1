// Include in exactly one translation unit of a firmware: every operator new reports and aborts,
// so a program that prints its result has provably allocated nothing.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>

[[noreturn]] inline void no_heap() {
  std::fputs("firmware: heap allocation attempted\n", stderr);
  std::abort();
}
void* operator new(std::size_t) { no_heap(); }
void* operator new[](std::size_t) { no_heap(); }
void* operator new(std::size_t, std::align_val_t) { no_heap(); }
void* operator new[](std::size_t, std::align_val_t) { no_heap(); }
void operator delete(void*) noexcept {}
void operator delete[](void*) noexcept {}
void operator delete(void*, std::size_t) noexcept {}
void operator delete[](void*, std::size_t) noexcept {}
void operator delete(void*, std::align_val_t) noexcept {}
void operator delete[](void*, std::align_val_t) noexcept {}
void operator delete(void*, std::size_t, std::align_val_t) noexcept {}
void operator delete[](void*, std::size_t, std::align_val_t) noexcept {}
