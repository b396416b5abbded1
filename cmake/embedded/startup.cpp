// Start-up for the Cortex-M firmware of ctformer's examples, on qemu's MPS2 boards: the vector
// table, a reset handler that enables the FPU, copies .data from flash, zeroes .bss, paints the
// stack, runs static constructors and main(), then reports the stack's peak and exits through
// semihosting with main's return value. Nothing here depends on ctformer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "semihosting.hpp"

extern "C" {
extern std::uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern std::uint32_t __stack_limit[], __stack_top[];
extern void (*__preinit_array_start[])(), (*__preinit_array_end[])();
extern void (*__init_array_start[])(), (*__init_array_end[])();
int main();
[[noreturn]] void ctformer_reset_handler();
void ctformer_fault_handler();
// SysTick's handler; icount.hpp defines it when a program counts instructions.
void ctformer_systick_handler() __attribute__((weak, alias("ctformer_fault_handler")));
}

namespace {

constexpr std::uint32_t stack_paint = 0x5AC3A5C3u;

// Coprocessor Access Control Register: full access to CP10 and CP11 (the FPU).
void enable_fpu() {
#if defined(__ARM_FP)
  volatile std::uint32_t& cpacr = *reinterpret_cast<volatile std::uint32_t*>(0xE000ED88u);
  cpacr = cpacr | (0xFu << 20);
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
}

// Untouched paint words, counted up from the bottom of the stack region.
std::size_t stack_unused_bytes() {
  const std::uint32_t* p = __stack_limit;
  while (p < __stack_top && *p == stack_paint) ++p;
  return std::size_t(reinterpret_cast<const char*>(p) - reinterpret_cast<const char*>(__stack_limit));
}

}  // namespace

extern "C" std::size_t ctformer_stack_peak_bytes() {
  return std::size_t(reinterpret_cast<const char*>(__stack_top) - reinterpret_cast<const char*>(__stack_limit)) -
         stack_unused_bytes();
}

extern "C" [[noreturn]] __attribute__((noinline)) void ctformer_run() {
  for (auto f = __preinit_array_start; f != __preinit_array_end; ++f) (*f)();
  for (auto f = __init_array_start; f != __init_array_end; ++f) (*f)();
  const int rc = main();
  ctformer_semihosting::write_str("stack peak: ");
  ctformer_semihosting::write_uint(ctformer_stack_peak_bytes());
  ctformer_semihosting::write_str(" bytes\n");
  std::exit(rc);
}

// Plain word loops, before anything else runs; the stack painting stops 256 bytes below the
// handler's own frame.
extern "C" [[noreturn]] void ctformer_reset_handler() {
  enable_fpu();
  for (std::uint32_t *s = __data_load, *d = __data_start; d < __data_end;) *d++ = *s++;
  for (std::uint32_t* d = __bss_start; d < __bss_end;) *d++ = 0;
  std::uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (std::uint32_t* d = __stack_limit; d < sp - 64;) *d++ = stack_paint;
  ctformer_run();
}

extern "C" void ctformer_fault_handler() {
  ctformer_semihosting::write_str("firmware: fault or unexpected interrupt\n");
  ctformer_semihosting::exit(3);
}

// Initial stack pointer, then the 15 system exceptions; no peripheral interrupts are used.
__attribute__((section(".vectors"), used)) void (*const ctformer_vectors[16])() = {
    reinterpret_cast<void (*)()>(__stack_top),
    ctformer_reset_handler,
    ctformer_fault_handler,  // NMI
    ctformer_fault_handler,  // HardFault
    ctformer_fault_handler,  // MemManage
    ctformer_fault_handler,  // BusFault
    ctformer_fault_handler,  // UsageFault
    nullptr, nullptr, nullptr, nullptr,
    ctformer_fault_handler,  // SVCall
    ctformer_fault_handler,  // DebugMonitor
    nullptr,
    ctformer_fault_handler,  // PendSV
    ctformer_systick_handler,
};
