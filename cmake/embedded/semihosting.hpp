// ARM semihosting, the few calls the firmware needs: write to the debugger's console and exit
// with a status (qemu: -semihosting-config enable=on,target=native makes that its exit code).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ctformer_semihosting {

enum : std::uint32_t { sys_open = 0x01, sys_write = 0x05, sys_exit = 0x18, sys_exit_extended = 0x20 };

// Operation in r0, argument block in r1, result in r0; BKPT 0xAB traps on M-profile cores.
inline std::uint32_t call(std::uint32_t op, const void* arg) {
  register std::uint32_t r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

// The console's output handle: SYS_OPEN of the special name ":tt" in mode 4 ("w") is stdout.
inline std::uint32_t console() {
  static std::uint32_t handle = 0;
  static bool opened = false;
  if (!opened) {
    static const char name[] = ":tt";
    const std::uint32_t block[3] = {std::uint32_t(reinterpret_cast<std::uintptr_t>(name)), 4u, 3u};
    handle = call(sys_open, block);
    opened = true;
  }
  return handle;
}

inline void write(const char* s, std::size_t n) {
  const std::uint32_t block[3] = {console(), std::uint32_t(reinterpret_cast<std::uintptr_t>(s)), std::uint32_t(n)};
  call(sys_write, block);
}

inline void write_str(const char* s) {
  std::size_t n = 0;
  while (s[n]) ++n;
  write(s, n);
}

inline void write_uint(std::size_t v) {
  char buf[24];
  char* p = buf + sizeof buf;
  *--p = '\0';
  do *--p = char('0' + v % 10); while ((v /= 10) != 0);
  write_str(p);
}

[[noreturn]] inline void exit(int status) {
  // ADP_Stopped_ApplicationExit with the status as its subcode.
  const std::uint32_t block[2] = {0x20026u, std::uint32_t(status)};
  call(sys_exit_extended, block);
  for (;;) call(sys_exit, reinterpret_cast<const void*>(std::uintptr_t(0x20026u)));
}

}  // namespace ctformer_semihosting
