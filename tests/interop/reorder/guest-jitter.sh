# Runs inside the kernel-peer VM: Linux's own ip_gre with key and sequence numbers (iseq oseq)
# talks to dpvpn; iperf3 TCP reaches the host namespace behind it, once per phase, with or
# without netem delay variation on eth0 (which carries the GRE packets towards dpvpn).
#
# PHASES is a list of NAME:QDISC:DIRS, QDISC one of none (the default qdisc), delay (netem
# $NETEM_DELAY: same mean delay, no variation) or jitter (netem $NETEM), DIRS a comma list of
# up (iperf3 guest -> host) and down (-R), e.g. "a:delay:up,down b:jitter:up".
# Around every iperf3 run the script prints "DPVPN-MARK begin|end NAME-DIR" and pauses
# MARK_PAUSE seconds, so the host can snapshot dpvpn's counters between runs. iperf3 -J output
# goes between DPVPN-JSON-BEGIN/END NAME-DIR markers. Variables come from run-vm.sh --env.
ip=/usr/sbin/ip
tc=/usr/sbin/tc
set -e
$ip link set eth0 up
$ip addr add "$GUEST_OUTER/24" dev eth0
$ip link add gre1 type gre remote "$DPVPN_OUTER" local "$GUEST_OUTER" key "$GRE_KEY" iseq oseq ttl 64
$ip link set gre1 up
$ip addr add "$GUEST_INNER/24" dev gre1
$ip route add "$HOST_NET" dev gre1
# An IPv6 address on gre1 for the probe below (no DAD: nothing answers on the other side).
$ip -6 addr add fd00:99::2/64 dev gre1 nodad
$ip -d link show gre1
# LINE_RATE (e.g. 200mbit): the sender's line, a token bucket on gre1 ahead of netem on eth0, for
# every phase. It keeps the emulated CPU below saturation, so netem's own cost under TCG does
# not decide the goodput (the patch's authors measured on a 200 Mbit/s path).
if [ -n "$LINE_RATE" ]; then
    $tc qdisc add dev gre1 root tbf rate "$LINE_RATE" burst 256kb latency 50ms
    echo "DPVPN-LINE $($tc qdisc show dev gre1 | head -n 1)"
fi
set +e

# dpvpn may still be starting: wait (bounded) for the first answer through the tunnel.
i=0
until ping -c 1 -W 1 "$HOST_INNER" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 60 ]; then echo "DPVPN-FAIL no answer through the tunnel"; exit 3; fi
done

# Probe: one non-IPv4 packet (IPv6 in GRE) takes a sequence number like any other; then IPv4
# pings at once. A receiver that drops the IPv6 packet before its sequence window sees a gap
# and holds the pings behind it for its hold time. (Linux advances iseq for every protocol.)
sleep 1
ping -c 3 -i 0.2 "$HOST_INNER" >/dev/null 2>&1
echo "DPVPN-V6PROBE-BEGIN"
ping -6 -c 1 -W 1 fd00:99::1 >/dev/null 2>&1 &
sleep 0.05
ping -c 3 -i 0.1 -W 2 "$HOST_INNER"
wait
echo "DPVPN-V6PROBE-END"

mark() {
    echo "DPVPN-MARK $1 $2"
    sleep "$MARK_PAUSE"
}

rc=0
for p in $PHASES; do
    name=${p%%:*}
    rest=${p#*:}
    kind=${rest%%:*}
    dirs=$(echo "${rest#*:}" | tr , ' ')
    $tc qdisc del dev eth0 root >/dev/null 2>&1
    args=""
    [ "$kind" = delay ] && args=$NETEM_DELAY
    [ "$kind" = jitter ] && args=$NETEM
    # shellcheck disable=SC2086  # a list of tc words
    if [ -n "$args" ] && ! $tc qdisc add dev eth0 root netem $args; then
        echo "DPVPN-FAIL tc qdisc add dev eth0 root netem $args"
        exit 4
    fi
    echo "DPVPN-QDISC $name: $($tc qdisc show dev eth0 | head -n 1)"
    echo "DPVPN-PING-BEGIN $name"
    ping -c 10 -i 0.2 "$HOST_INNER"
    echo "DPVPN-PING-END $name"
    for dir in $dirs; do
        flag=""
        [ "$dir" = down ] && flag="-R"
        mark begin "$name-$dir"
        # The guest's CPU over the run (/proc/stat): under TCG the guest is usually the bottleneck.
        echo "DPVPN-CPU-BEGIN $name-$dir $(head -n 1 /proc/stat)"
        echo "DPVPN-JSON-BEGIN $name-$dir"
        # Bounded: a collapsed connection must not hang the run.
        timeout $((IPERF_SECONDS + 40)) iperf3 -c "$HOST_INNER" -t "$IPERF_SECONDS" -O 1 -J $flag || rc=5
        echo "DPVPN-JSON-END $name-$dir"
        echo "DPVPN-CPU-END $name-$dir $(head -n 1 /proc/stat)"
        mark end "$name-$dir"
    done
    echo "DPVPN-TC-BEGIN $name"
    $tc -s qdisc show dev eth0
    echo "DPVPN-TC-END $name"
done
$tc qdisc del dev eth0 root >/dev/null 2>&1
[ -n "$LINE_RATE" ] && $tc -s qdisc show dev gre1
$ip -s link show gre1
$ip -s link show eth0
exit $rc
