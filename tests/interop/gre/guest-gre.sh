# Runs inside the kernel-peer VM: Linux's own ip_gre with key and sequence numbers talks to
# dpvpn, then ping and iperf3 reach the host namespace behind it. Results go to the console
# between DPVPN-* markers for the host to parse. Variables come from run-vm.sh --env.
ip=/usr/sbin/ip
set -e
$ip link set eth0 up
$ip addr add "$GUEST_OUTER/24" dev eth0
$ip link add gre1 type gre remote "$DPVPN_OUTER" local "$GUEST_OUTER" key "$GRE_KEY" iseq oseq ttl 64
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
echo "DPVPN-PING-BEGIN"
ping -c 20 -i 0.2 "$HOST_INNER"
echo "DPVPN-PING-END"
# dpvpn answers pings to its own inside address through the tunnel.
ping -c 3 -W 2 "$DPVPN_INNER" && echo "DPVPN-OWN-PING ok"
for dir in up down; do
    flag=""
    [ "$dir" = down ] && flag="-R"
    echo "DPVPN-JSON-BEGIN $dir"
    iperf3 -c "$HOST_INNER" -t "$IPERF_SECONDS" -J $flag
    echo "DPVPN-JSON-END $dir"
done
$ip -s link show gre1
exit 0
