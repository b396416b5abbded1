#!/bin/sh
# Installs the Debian packages ctformer needs that are missing, and nothing else.
#   tools/install-deps.sh          what building the library, examples and demo needs
#   tools/install-deps.sh --tests  plus what the test suite needs (aarch64 cross compiler, qemu-user,
#                                  sentencepiece for the spm_encode interoperability test, Clang 16
#                                  with libc++ and its runtime with libFuzzer (the second compiler's
#                                  build and the fuzz harnesses), and the Cortex-M cross compiler,
#                                  newlib and qemu-system-arm for firmware, doxygen for the API reference)
# As root it runs apt-get; otherwise it prints the apt-get line to run and fails.
set -eu

pkgs="cmake make g++ xtensor-dev libxsimd-dev libfmt-dev catch2"
if [ "${1:-}" = "--tests" ]; then
  pkgs="$pkgs g++-aarch64-linux-gnu qemu-user sentencepiece clang-16 libclang-rt-16-dev libc++-16-dev libc++abi-16-dev"
  pkgs="$pkgs gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm doxygen"
elif [ -n "${1:-}" ]; then
  echo "usage: $0 [--tests]" >&2
  exit 2
fi

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all required Debian packages are present"
  exit 0
fi

echo "install-deps: missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: not root; please run:  sudo apt-get install -y$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends $missing
fi
