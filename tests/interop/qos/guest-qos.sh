# Runs inside the kernel-peer VM: latency under load through dpvpn's shaped tunnels.
# gre1 (key 1) reaches HOST_A through tunnel 1 (shaper + fq_codel), gre2 (key 2) reaches
# HOST_B through tunnel 2 (same shaper, qos = fifo). For each: pings while idle, then pings
# while iperf3 -R saturates the tunnel towards us; then four competing flows through gre1.
# TCP negotiates ECN. Output goes to the console between DPVPN-* markers for the host.
ip=/usr/sbin/ip
set -e
$ip link set eth0 up
$ip addr add "$GUEST_OUTER/24" dev eth0
$ip link add gre1 type gre remote "$DPVPN_OUTER" local "$GUEST_OUTER" key 1 ttl 64
$ip link add gre2 type gre remote "$DPVPN_OUTER" local "$GUEST_OUTER" key 2 ttl 64
$ip link set gre1 up
$ip link set gre2 up
$ip addr add "$GUEST_A/24" dev gre1
$ip addr add "$GUEST_B/24" dev gre2
$ip route add "$HOST_A/32" dev gre1
$ip route add "$HOST_B/32" dev gre2
echo 1 > /proc/sys/net/ipv4/tcp_ecn
set +e

for h in "$HOST_A" "$HOST_B"; do
    i=0
    until ping -c 1 -W 1 "$h" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -ge 60 ]; then echo "DPVPN-FAIL no answer from $h"; exit 3; fi
    done
done

pings() {   # NAME HOST COUNT
    echo "DPVPN-PING-BEGIN $1"
    ping -c "$3" -i 0.1 -W 3 "$2"
    echo "DPVPN-PING-END $1"
}

rc=0
for run in a b; do
    h=$HOST_A
    [ "$run" = b ] && h=$HOST_B
    pings "idle-$run" "$h" 30
    iperf3 -c "$h" -R -t "$LOAD_SECONDS" -J > "/tmp/iperf-$run.json" 2>&1 &
    pid=$!
    sleep "$RAMP_SECONDS"
    pings "loaded-$run" "$h" "$PING_COUNT"
    wait $pid || rc=4
    echo "DPVPN-JSON-BEGIN bulk-$run"
    cat "/tmp/iperf-$run.json"
    echo "DPVPN-JSON-END bulk-$run"
done
echo "DPVPN-JSON-BEGIN fair"
iperf3 -c "$HOST_A" -R -P 4 -t "$FAIR_SECONDS" -J || rc=5
echo "DPVPN-JSON-END fair"
exit $rc
