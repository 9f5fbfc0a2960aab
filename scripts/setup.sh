#!/usr/bin/env bash
# Installs Trawl's dependencies (Debian 12 packages only), builds it, and runs
# `trawl analyze` on the sample capture. Safe to run again.
# Usage: scripts/setup.sh [--no-demo]   (TRAWL_BUILD_DIR, default build)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config clang-14 libclang-rt-14-dev
  libpcap-dev zlib1g-dev libzstd-dev libssl-dev libgtest-dev
  python3 python3-scapy python3-jsonschema tshark tcpdump zstd gzip
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  # tshark asks whether non-root users may capture; answer for it.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; then
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
fi

build=${TRAWL_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRAWL_WERROR=ON ${TRAWL_CMAKE_ARGS:-} > /dev/null
cmake --build "$build"

if [ "${1:-}" != "--no-demo" ]; then
  echo
  echo "\$ $build/trawl analyze samples/wikipedia.pcap -o trawl-out/sample"
  "$build/trawl" analyze samples/wikipedia.pcap -o trawl-out/sample --no-progress
fi
