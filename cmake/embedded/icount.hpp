// Instruction counting on qemu's MPS2 boards: SysTick runs from the processor clock and, under
// `qemu-system-arm -icount shift=0`, the virtual clock advances one nanosecond per executed
// instruction, so SysTick ticks are proportional to instructions. The ratio is calibrated against
// a loop of known length, which keeps the board's clock frequency out of it. Without -icount the
// figures are host time, not instructions. These are instruction counts, not MCU time: no cache,
// flash wait state or pipeline is modelled.
#pragma once  // include in one translation unit: it defines the SysTick handler

#include <cstdint>

namespace ctformer_icount {

inline volatile std::uint32_t wraps = 0;

struct systick {
  volatile std::uint32_t csr, rvr, cvr;
};
inline systick& st() { return *reinterpret_cast<systick*>(0xE000E010u); }

inline void start() {
  st().csr = 0;
  st().rvr = 0x00FFFFFFu;
  st().cvr = 0;
  st().csr = 0x7u;  // processor clock, interrupt on wrap, enabled
  while (st().cvr == 0) {
  }  // the counter holds 0 until its first reload
}

inline std::uint64_t ticks() {
  std::uint32_t w, v;
  do {
    w = wraps;
    v = st().cvr;
  } while (w != wraps);
  return std::uint64_t(w) * 0x01000000u + (0x00FFFFFFu - v);
}

// Instructions per tick, from a loop of 2 instructions (subs, bne) times n.
inline double calibrate() {
  constexpr std::uint32_t n = 1u << 20;
  const std::uint64_t t0 = ticks();
  std::uint32_t i = n;
  __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(i) : : "cc");
  const std::uint64_t t1 = ticks();
  return double(2u * n) / double(t1 - t0);
}

}  // namespace ctformer_icount

extern "C" __attribute__((used)) void ctformer_systick_handler() { ctformer_icount::wraps = ctformer_icount::wraps + 1; }
