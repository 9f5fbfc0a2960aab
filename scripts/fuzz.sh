#!/usr/bin/env bash
# Runs every libFuzzer target for a while (not part of CI). Builds with clang,
# ASan+UBSan; new corpus entries go to a scratch folder, crashes to fuzz-out/.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 600)] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRAWL_FUZZ=ON -DTRAWL_SANITIZE=ON \
  -DTRAWL_TESTS=OFF -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 > /dev/null
cmake --build build-fuzz
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in tests/fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
fi
mkdir -p fuzz-out
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$t/." "$work/" 2>/dev/null || true
  echo "== $t for ${secs}s"
  "build-fuzz/tests/fuzz/$t" "$work" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz-out/$t-" -print_final_stats=1 2>&1 | grep -E "stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Done" || true
  rm -rf "$work"
done
ls fuzz-out
