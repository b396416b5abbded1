#!/bin/sh
# Instructions per generated token and per model FLOP of the firmware example on qemu's Cortex-M4
# (mps2-an386) and Cortex-M7 (mps2-an500) boards, at -O2, fp32 (one-row KV cache) and int8 (a full
# forward over the 48-token window per token), plus flash / RAM from arm-none-eabi-size.
# These are instruction counts under `qemu-system-arm -icount shift=0`, not MCU time.
#   benchmarks/firmware_icount.sh <host build folder> [work folder]
# The host build must have built firmware_fp32 (it writes the model headers).
set -eu
host=${1:?usage: $0 <host build folder> [work folder]}
src=$(cd "$(dirname "$0")/.." && pwd)
work=${2:-$host/firmware_icount}
models=$(cd "$host/examples/firmware" && pwd)
for board in cortex-m4 cortex-m7; do
  bin=$work/$board
  cmake -S "$src" -B "$bin" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/toolchains/$board.cmake" \
        -DCTFORMER_FIRMWARE_MODEL_DIR="$models" >/dev/null
  cmake --build "$bin" -j1 --target firmware_fp32 firmware_int8 >/dev/null
  machine=$(sed -n 's/^CTFORMER_QEMU_BOARD:STRING=//p' "$bin/CMakeCache.txt")
  for p in fp32 int8; do
    elf=$bin/examples/firmware/firmware_$p.elf
    echo "== $board ($machine) $p"
    arm-none-eabi-size "$elf" | tail -1
    qemu-system-arm -M "$machine" -icount shift=0 -nographic \
      -semihosting-config enable=on,target=native -kernel "$elf" | grep -E "instructions|stack peak|matches|DIFFERS"
  done
done
