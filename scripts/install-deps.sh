#!/usr/bin/env bash
# Installs what dpvpn needs to build, test and run its demo on Debian 12 (as root).
# Idempotent: packages already present are left alone; apt-get update runs only when needed.
set -euo pipefail

PACKAGES=(
    # build
    gcc clang libclang-rt-14-dev meson ninja-build pkg-config
    dpdk dpdk-dev libdpdk-dev libipsec-mb-dev libssl-dev libnuma-dev
    # tests, demo and benchmarks
    python3 python3-scapy python3-matplotlib python3-cryptography tshark iperf3 iproute2 ethtool procps
    openvpn openssl
    qemu-system-x86 cpio busybox
)

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: run as root (apt-get install)" >&2
    exit 1
fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer no without a prompt.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
