#!/usr/bin/env bash
# Installs Trawl's dependencies (Debian 12 packages only), builds it, and runs
# `trawl analyze` on the sample capture. Safe to run again.
# Usage: scripts/setup.sh [--no-demo]   (TRAWL_BUILD_DIR, default build)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config clang-14 libclang-rt-14-dev
  libpcap-dev zlib1g-dev libzstd-dev libssl-dev libgtest-dev libgoogle-perftools-dev publicsuffix
  libmaxminddb-dev mmdb-bin libcurl4-openssl-dev nlohmann-json3-dev
  python3 python3-scapy python3-jsonschema tshark tcpdump zstd gzip
  # tests/integration/auth_real_servers.py: real servers and clients in
  # network namespaces (docs/testing-real-servers.md)
  iproute2 openssl curl swaks sshpass openssh-client
  dovecot-pop3d dovecot-imapd postfix libsasl2-modules vsftpd nginx openssh-server
  samba smbclient
  # tests/lab (real attack tools against those servers)
  nmap hydra dnsmasq-base bind9-dnsutils
  # trawl sinkhole: its configuration file (toml++); tests against real
  # clients and INetSim (bench/sinkhole_vs_inetsim.py)
  libtomlplusplus-dev wget netcat-openbsd ftp iputils-ping inetsim
  # the case: SQLite (case.db), ClickHouse (--sink clickhouse://), the HTML
  # report checked in headless Chromium
  libsqlite3-dev sqlite3 clickhouse-server clickhouse-client chromium python3-websocket
)
# Daemons installed only for that test: it runs them with its own configs, so
# the system copies must not start now nor at boot (see below).
server_units=(dovecot.service dovecot.socket postfix.service vsftpd.service nginx.service smbd.service nmbd.service samba-ad-dc.service
  ssh.service ssh.socket inetsim.service clickhouse-server.service)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  # tshark asks whether non-root users may capture; answer for it. postfix asks
  # for a mail setup: none (the test writes its own config).
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  # Keep the package scripts from starting the servers: a policy-rc.d that
  # answers 101 ("action forbidden") for the length of the install, removed
  # afterwards. An existing policy-rc.d (containers have one) is left alone.
  units_before=()
  for u in "${server_units[@]}"; do
    [ -e "/lib/systemd/system/$u" ] && units_before+=("$u")
  done
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by trawl scripts/setup.sh during apt-get install\nexit 101\n' \
      | $SUDO tee "$policy" > /dev/null
    $SUDO chmod 755 "$policy"
    made_policy=1
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; then
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
  if ((made_policy)); then
    $SUDO rm -f "$policy"
    trap - EXIT
  fi
  # The servers this run installed stay off at boot too (units that existed
  # before are not touched).
  if [ -d /run/systemd/system ]; then
    for u in "${server_units[@]}"; do
      if [[ " ${units_before[*]} " != *" $u "* ]] && [ -e "/lib/systemd/system/$u" ]; then
        $SUDO systemctl disable --now "$u" > /dev/null 2>&1 || true
      fi
    done
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
