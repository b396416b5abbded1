#!/bin/sh
# The whole test suite, as README's test command and .ci/run run it:
#   1. GCC (the system c++): every test, including other vector widths, sanitizers, fuzz replay,
#      firmware under qemu-system-arm, aarch64 under qemu-user, consumers and compile-fail cases;
#   2. Clang 16, when installed: the library's own test areas again (the extra suites above do
#      not depend on the compiler that builds the rest, so they run once), in build-clang/.
# Each build folder is reused when present. Prints the time of each phase.
set -eu
cd "$(dirname "$0")/.."
start=$(date +%s)
phase() { echo "run-tests: $1 after $(( $(date +%s) - start )) s"; }

cmake -S . -B build-tests -DCMAKE_BUILD_TYPE=Release
cmake --build build-tests -j2
phase "GCC build done"
ctest --test-dir build-tests -j2 --output-on-failure
phase "GCC tests done"

clang=$(command -v clang++-16 || true)
if [ -z "$clang" ]; then
  echo "run-tests: SKIPPED the Clang build: clang++-16 not found (tools/install-deps.sh --tests installs it)"
  exit 0
fi
cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$clang" \
  -DCTFORMER_EXTRA_TESTS=OFF -DCTFORMER_BUILD_BENCHMARKS=OFF -DCTFORMER_WERROR=OFF
cmake --build build-clang -j2
phase "Clang build done"
ctest --test-dir build-clang -j2 --output-on-failure -E '\.slow$'
phase "Clang tests done"
