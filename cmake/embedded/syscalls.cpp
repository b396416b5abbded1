// newlib's system calls for the firmware: stdout and stderr go to the semihosting console, exit()
// ends qemu with its status, and malloc (newlib's stdio buffers only; ctformer never allocates)
// gets the linker script's small .heap region. Files do not exist.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <sys/stat.h>

#include "semihosting.hpp"

extern "C" {
extern char __heap_start[], __heap_end[];

int _write(int fd, const char* buf, int n) {
  if (fd != 1 && fd != 2) {
    errno = EBADF;
    return -1;
  }
  ctformer_semihosting::write(buf, std::size_t(n));
  return n;
}

[[noreturn]] void _exit(int status) { ctformer_semihosting::exit(status); }

void* _sbrk(std::ptrdiff_t increment) {
  static char* brk = __heap_start;
  if (increment > __heap_end - brk) {
    ctformer_semihosting::write_str("firmware: heap exhausted\n");
    errno = ENOMEM;
    return reinterpret_cast<void*>(-1);
  }
  char* old = brk;
  brk += increment;
  return old;
}

int _read(int, char*, int) { errno = EBADF; return -1; }
int _close(int) { errno = EBADF; return -1; }
int _lseek(int, int, int) { errno = ESPIPE; return -1; }
int _fstat(int, struct stat* st) {
  st->st_mode = S_IFCHR;
  return 0;
}
int _isatty(int fd) { return fd <= 2; }
int _getpid() { return 1; }
int _kill(int, int) {
  errno = EINVAL;
  return -1;
}
}
