#!/usr/bin/env bash
# Control for the jitter interop test: the same VM and netem jitter, but plain IP to a host
# namespace (no GRE, no dpvpn). It shows how much TCP goodput the jittery path itself costs
# this guest, so the window's result can be judged against what the link allows.
# "delay 3ms 1ms rate 10gbit" is the same jitter without reordering: with a rate, netem never
# sends a packet before the one queued ahead of it, so every packet leaves at the latest send
# time of those before it, which is exactly what a perfect reorder window delivers. Its goodput
# is the most any receiver that restores order can reach on this path.
#   perf/reorder/jitter_control.sh        (root; about 70 s)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/dpvpn-jitter-control.XXXXXX)
NS=dpvjc$$
cleanup() {
    ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
cat > "$WORK/guest.sh" <<'GUEST'
ip=/usr/sbin/ip
$ip link set eth0 up
$ip addr add 192.0.2.2/24 dev eth0
i=0; until ping -c1 -W1 192.0.2.1 >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 30 ] || exit 3; done
for q in "delay 3ms limit 10000" "delay 3ms 1ms limit 10000" "delay 3ms 1ms rate 10gbit limit 10000" \
         "delay 3ms limit 10000" "delay 3ms 1ms limit 10000" "delay 3ms 1ms rate 10gbit limit 10000"; do
    tc qdisc replace dev eth0 root netem $q
    echo "CONTROL netem $q"
    iperf3 -c 192.0.2.1 -t 8 -O 1 | grep receiver
done
exit 0
GUEST
ip netns add "$NS"
"$ROOT/tests/interop/vm/run-vm.sh" --netns "$NS" --tap "dvjc$$" --guest-script "$WORK/guest.sh" \
    --timeout 240 --quiet --log "$WORK/console.log" \
    --on-tap-up 'ip addr add 192.0.2.1/24 dev $TAP; ip link set lo up; iperf3 -s -D'
grep -E "CONTROL|receiver" "$WORK/console.log"
