#!/usr/bin/env bash
# Smoke test of the kernel-peer VM: builds the image (cached), boots it on a tap inside a private
# network namespace and proves the guest has what the interop tests rely on: the GRE, netem, PPP
# (MPPE, PPTP) and WireGuard modules, working iproute2 GRE links and netem qdiscs, pppd/pptp/wg
# binaries that run, and a network path to the host (ping, then iperf3 to a server the host runs).
#
# Usage: bash tests/interop/vm/smoke-test.sh      (as root; exits 77, meson's "skipped", otherwise)
# Addresses are RFC 5737 TEST-NET-1 inside the test's own namespace and VM only.
set -euo pipefail

if [[ $EUID -ne 0 ]]; then
    echo "SKIP: vm-smoke needs root (network namespaces, taps)"
    exit 77
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS="dpvpn-smoke-$$"
TAP="dpvtap$$"            # at most 13 characters, within IFNAMSIZ
HOST_IP=192.0.2.1 GUEST_IP=192.0.2.2
VM_TIMEOUT=240

die() { echo "smoke-test: FAIL: $*" >&2; exit 1; }
log() { echo "smoke-test: $*"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dpvpn-smoke.XXXXXX")
IPERF_PID=""
cleanup() {
    # run-vm.sh has already stopped qemu (its own trap); the tap went away with qemu.
    if [[ -n "$IPERF_PID" ]] && kill -0 "$IPERF_PID" 2>/dev/null; then
        kill "$IPERF_PID" 2>/dev/null || true
    fi
    [[ -z "$IPERF_PID" ]] || wait "$IPERF_PID" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v iperf3 >/dev/null || {
    log "installing iperf3 on the host for the server side"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null ||
        die "iperf3 is missing on the host and could not be installed"
}

# Build (or confirm) the image before starting the clock on anything else.
"$SCRIPT_DIR/build-image.sh" || die "image build failed"

ip netns add "$NS" || die "cannot create network namespace $NS"
ip -n "$NS" link set lo up

# The server listens on every address of the namespace, which holds only lo and the tap, so it can
# start before the tap exists. -1: exit after one test; timeout bounds it if the guest never calls.
ip netns exec "$NS" timeout $((VM_TIMEOUT + 30)) \
    iperf3 -s -1 -J --logfile "$TMP/iperf-server.json" &
IPERF_PID=$!

cat >"$TMP/guest.sh" <<EOF
#!/bin/sh
# Runs inside the VM. Each step prints SMOKE-... so the host can tell which one failed.
fail() { echo "SMOKE-FAIL: \$*"; exit 1; }
IP=/usr/sbin/ip TC=/usr/sbin/tc
echo "SMOKE-UPTIME=\$(cut -d' ' -f1 /proc/uptime)"

\$IP link set eth0 up || fail "eth0 up"
\$IP addr add $GUEST_IP/24 dev eth0 || fail "address on eth0"

for m in ip_gre sch_netem ppp_mppe pptp wireguard; do
    grep -q "^\$m " /proc/modules || modprobe "\$m" || fail "module \$m not loaded nor loadable"
done
echo "SMOKE-MODULES-OK"

\$IP link add gre1 type gre remote $HOST_IP local $GUEST_IP key 42 iseq oseq || fail "gre link"
\$IP -d link show gre1 | grep -q 'ikey 0.0.0.42' || fail "gre1 lacks key 42"
\$IP link del gre1
\$TC qdisc add dev eth0 root netem delay 1ms || fail "netem qdisc"
\$TC qdisc show dev eth0 | grep -q netem || fail "netem qdisc not shown"
\$TC qdisc del dev eth0 root
\$IP link add wg0 type wireguard || fail "wireguard link"
wg show wg0 >/dev/null || fail "wg show"
\$IP link del wg0
[ -c /dev/ppp ] && [ -c /dev/net/tun ] || fail "/dev/ppp or /dev/net/tun missing"
pppd --version 2>&1 | grep -q 'pppd version' || fail "pppd does not run"
pptp --version 2>&1 | grep -q 'pptp version' || fail "pptp does not run"
echo "SMOKE-FEATURES-OK"

# The first echo also waits for ARP; give the link a few tries.
ping -c 3 -W 2 $HOST_IP || fail "ping $HOST_IP"
echo "SMOKE-PING-OK"

iperf3 -c $HOST_IP -t 3 -J >/tmp/iperf.json 2>&1 || { cat /tmp/iperf.json; fail "iperf3"; }
bps=\$(grep -A 12 '"sum_sent"' /tmp/iperf.json | sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' | head -n 1)
echo "SMOKE-IPERF-CLIENT-BPS=\$bps"
echo "SMOKE-OK"
EOF

log "booting the VM in namespace $NS on tap $TAP"
start=$(date +%s)
rc=0
"$SCRIPT_DIR/run-vm.sh" --netns "$NS" --tap "$TAP" --guest-script "$TMP/guest.sh" \
    --timeout "$VM_TIMEOUT" --log "$TMP/console.log" \
    --on-tap-up "ip addr add $HOST_IP/24 dev \$TAP" || rc=$?
elapsed=$(($(date +%s) - start))

console=$(tr -d '\r' <"$TMP/console.log")
[[ $rc -eq 0 ]] || die "guest exited $rc ($(grep -o 'SMOKE-FAIL:.*' <<<"$console" || echo 'no SMOKE-FAIL line'))"
grep -q 'SMOKE-MODULES-OK' <<<"$console" || die "modules check did not pass"
grep -q 'SMOKE-FEATURES-OK' <<<"$console" || die "GRE/netem/WireGuard/PPP checks did not pass"
grep -q 'SMOKE-PING-OK' <<<"$console" || die "ping from the guest to $HOST_IP failed"

# The server's own report is the figure we trust: it counts what actually arrived.
timeout 10 tail --pid="$IPERF_PID" -f /dev/null || die "iperf3 server did not finish"
wait "$IPERF_PID" || die "iperf3 server failed: $(cat "$TMP/iperf-server.json")"
IPERF_PID=""
bps=$(sed -n '/"sum_received"/,/}/s/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' \
      "$TMP/iperf-server.json" | head -n 1)
[[ -n "$bps" ]] || die "no sum_received.bits_per_second in the iperf3 server report"
awk -v b="$bps" 'BEGIN { exit !(b > 0) }' || die "iperf3 measured $bps bit/s"

uptime=$(grep -o 'SMOKE-UPTIME=[0-9.]*' <<<"$console" | cut -d= -f2)
log "guest reached its script ${uptime:-?} s after kernel start; whole run ${elapsed} s"
log "iperf3 guest -> host over the tap: $(awk -v b="$bps" 'BEGIN { printf "%.2f", b / 1e9 }') Gbit/s"
log "PASS"
