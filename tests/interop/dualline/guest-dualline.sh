# Runs inside the kernel-peer VM (two NICs): Linux's ip_gre (iseq oseq) towards dpvpn, and a
# second "line" made with tc: a clsact egress filter on eth0 mirrors every GRE frame onto eth1
# (tc mirred), and each NIC has its own netem root qdisc (delay / loss / rate), so the copy on
# eth1 is delayed and dropped independently of the original on eth0. Both NICs are bridged on the
# host with dpvpn's outside port.
#
# PHASES: space separated phase names. Per phase NAME the environment has
#   P_NAME_MIRROR  1: mirror GRE from eth0 onto eth1 (dual line), 0: eth0 only
#   P_NAME_ETH0    netem arguments for eth0's root qdisc (empty: none)
#   P_NAME_ETH1    netem arguments for eth1's root qdisc (empty: none)
# Around every iperf3 upload the script prints "DPVPN-MARK begin|end NAME" and pauses MARK_PAUSE
# seconds, so the host can snapshot dpvpn's counters. iperf3 -J output goes between
# DPVPN-JSON-BEGIN/END NAME; tc statistics between DPVPN-TC-BEGIN/END NAME.
ip=/usr/sbin/ip
tc=/usr/sbin/tc
set -e
# No IPv6 anywhere (router solicitations / MLD on gre1 would be non-IPv4 GRE payloads).
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
# Two addresses on one subnet: each NIC answers ARP only for its own address (no ARP flux).
for f in all eth0 eth1; do
    echo 1 >/proc/sys/net/ipv4/conf/$f/arp_ignore
    echo 2 >/proc/sys/net/ipv4/conf/$f/arp_announce
    echo 0 >/proc/sys/net/ipv4/conf/$f/rp_filter
done
$ip link set eth0 up
$ip link set eth1 up
$ip addr add "$GUEST_OUTER/24" dev eth0
$ip addr add "$GUEST_OUTER2/24" dev eth1
# The GRE packets leave through eth0 with source GUEST_OUTER (eth1 only carries the mirror copies).
$ip route replace "$DPVPN_OUTER/32" dev eth0 src "$GUEST_OUTER"
set +e
# Probe (reported, not used): Linux accepts two GRE devices with the same remote and key when the
# local addresses differ (ip_tunnel looks up (local, remote, key) exactly first).
if $ip link add gre2 type gre remote "$DPVPN_OUTER" local "$GUEST_OUTER2" key "$GRE_KEY" iseq oseq 2>/dev/null &&
   $ip link add gre3 type gre remote "$DPVPN_OUTER" local "$GUEST_OUTER" key "$GRE_KEY" iseq oseq 2>/dev/null; then
    echo "DPVPN-GRE2-PROBE accepted"
else
    echo "DPVPN-GRE2-PROBE refused"
fi
$ip link del gre2 2>/dev/null
$ip link del gre3 2>/dev/null
set -e
# gre1 has no `local`: it receives the copies dpvpn sends to either address (redundant mode), and
# its iseq check (stock Linux: anything older than the last sequence number is dropped) drops the
# second copy of each packet. It sends with source GUEST_OUTER (the route above).
$ip link add gre1 type gre remote "$DPVPN_OUTER" key "$GRE_KEY" iseq oseq ttl 64
$ip link set gre1 up
$ip addr add "$GUEST_INNER/24" dev gre1
$ip route add "$HOST_NET" dev gre1
$ip -d link show gre1
set +e

# dpvpn may still be starting: wait (bounded) for the first answer through the tunnel.
i=0
until ping -c 1 -W 1 "$HOST_INNER" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 60 ]; then echo "DPVPN-FAIL no answer through the tunnel"; exit 3; fi
done

mark() {
    echo "DPVPN-MARK $1 $2"
    sleep "$MARK_PAUSE"
}

clear_tc() {
    $tc qdisc del dev eth0 clsact >/dev/null 2>&1
    $tc qdisc del dev eth0 root >/dev/null 2>&1
    $tc qdisc del dev eth1 root >/dev/null 2>&1
}

rc=0
for name in $PHASES; do
    eval "mirror=\$P_${name}_MIRROR; e0=\$P_${name}_ETH0; e1=\$P_${name}_ETH1"
    clear_tc
    # shellcheck disable=SC2086  # lists of tc words
    if [ -n "$e0" ] && ! $tc qdisc add dev eth0 root netem $e0; then
        echo "DPVPN-FAIL tc qdisc add dev eth0 root netem $e0"; exit 4
    fi
    # shellcheck disable=SC2086
    if [ -n "$e1" ] && ! $tc qdisc add dev eth1 root netem $e1; then
        echo "DPVPN-FAIL tc qdisc add dev eth1 root netem $e1"; exit 4
    fi
    if [ "$mirror" = 1 ]; then
        # clsact's egress hook runs before eth0's root qdisc; mirred hands the copy to eth1's
        # dev_queue_xmit, i.e. through eth1's own netem. Only GRE (IP protocol 47) is mirrored.
        if ! $tc qdisc add dev eth0 clsact ||
           ! $tc filter add dev eth0 egress protocol ip prio 1 u32 match ip protocol 47 0xff \
                action mirred egress mirror dev eth1; then
            echo "DPVPN-FAIL mirred setup"; exit 4
        fi
    fi
    echo "DPVPN-QDISC $name: eth0 [$($tc qdisc show dev eth0 | tr '\n' ';')] eth1 [$($tc qdisc show dev eth1 | tr '\n' ';')] mirror $mirror"
    # The inner round trip, and the two copies of the same GRE packets as they leave the NICs
    # (tcpdump sees a frame when the qdisc hands it to the driver, i.e. after netem).
    echo "DPVPN-DUMP-BEGIN $name"
    cnt=$((3 + 3 * mirror))
    timeout 6 tcpdump -i any -n -tt -l -c "$cnt" 'ip proto 47 and src host '"$GUEST_OUTER" 2>/dev/null &
    dpid=$!
    sleep 1
    ping -c 3 -i 0.3 "$HOST_INNER" >/dev/null 2>&1
    wait $dpid
    echo "DPVPN-DUMP-END $name"
    echo "DPVPN-PING-BEGIN $name"
    ping -c 8 -i 0.2 "$HOST_INNER"
    echo "DPVPN-PING-END $name"
    mark begin "$name"
    echo "DPVPN-JSON-BEGIN $name"
    # Bounded: a collapsed connection must not hang the run.
    timeout $((IPERF_SECONDS + 40)) iperf3 -c "$HOST_INNER" -t "$IPERF_SECONDS" -O "$IPERF_OMIT" -J || rc=5
    echo "DPVPN-JSON-END $name"
    mark end "$name"
    echo "DPVPN-TC-BEGIN $name"
    echo "eth0:"
    $tc -s qdisc show dev eth0
    echo "eth1:"
    $tc -s qdisc show dev eth1
    echo "filter:"
    $tc -s filter show dev eth0 egress
    echo "DPVPN-TC-END $name"
done
clear_tc
$ip -s link show gre1
$ip -s link show eth0
$ip -s link show eth1
exit $rc
