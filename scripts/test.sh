#!/usr/bin/env bash
# Runs the whole test suite: sets up and builds (scripts/setup.sh), runs every
# test, then builds with clang + ASan/UBSan and runs the unit tests and fuzz
# corpora under the sanitizers. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

scripts/setup.sh --no-demo

echo "== tests (RelWithDebInfo, g++)"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

echo "== unit tests and fuzz corpora under ASan+UBSan (clang)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTRAWL_WERROR=ON -DTRAWL_SANITIZE=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 > /dev/null
cmake --build build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -L unit --timeout 600
echo "== all tests passed"
