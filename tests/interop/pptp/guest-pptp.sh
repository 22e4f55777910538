# Runs inside the kernel-peer VM: pptp-linux + pppd with the kernel's ppp_generic and ppp_mppe dial
# dpvpn several times in a row, one pppd per phase (so every phase after the first is a reconnect).
# Three server configurations, the host restarting dpvpn between them at each DPVPN-RESTART:
#   A (mppe_stateful = allow, auth = mschapv2, chap-md5, mppe_bits = any):
#                              stateless  require-mppe-128 (pppd refuses stateful by default)
#                              mppe40     require-mppe-40
#                              clear      nomppe
#                              md5        nomppe, CHAP-MD5 (the client refuses MS-CHAP v1 and v2)
#                              badpass    a wrong password: pppd must give up (auth failure)
#   B (mppe_stateful = prefer): stateful  require-mppe-128 mppe-stateful
#                              jitter-on  stateful MPPE, netem 3 ms +- 1 ms, iperf3 upstream
#   C (prefer, reorder = off): jitter-off the same with dpvpn's window off
#   D (peer_window = enforce): windowed   require-mppe-128 (stateless)
#   E (shaper_rate = 4mbit):   shaped     require-mppe-128 (stateless)
# Every iperf3 is bounded: a stalled session fails its check instead of hanging the run.
# Each good phase pings and runs iperf3 both ways to the host namespace behind dpvpn, then hangs
# up. Results go to the console between DPVPN-* markers. Variables come from run-vm.sh --env.
ip=/usr/sbin/ip
$ip link set eth0 up
$ip addr add "$GUEST_OUTER/24" dev eth0

# The authentication protocols the client refuses: all but MS-CHAPv2 unless a phase says otherwise.
REFUSE_AUTH="refuse-chap refuse-mschap"

# One pppd in the background; its exit code lands in /tmp/pppd.rc.
dial() {  # dial PASSWORD OPTIONS...
    pass=$1; shift
    rm -f /tmp/pppd.rc
    # shellcheck disable=SC2086  # REFUSE_AUTH is a list of options
    ( pppd pty "pptp $DPVPN_OUTER --nolaunchpppd" nodetach user "$PPTP_USER" password "$pass" \
          remotename dpvpn noauth nodefaultroute noipdefault refuse-eap refuse-pap $REFUSE_AUTH \
          lcp-echo-interval 0 logfd 1 "$@"; echo $? >/tmp/pppd.rc ) &
}

# Wait (bounded) for ppp0 to get its IPCP address; prints it.
wait_up() {
    i=0
    while [ "$i" -lt 60 ]; do
        a=$($ip -4 -o addr show dev ppp0 2>/dev/null | sed -n 's/.* inet \([0-9.]*\).*/\1/p')
        if [ -n "$a" ]; then echo "$a"; return 0; fi
        [ -f /tmp/pppd.rc ] && return 1
        sleep 0.5; i=$((i + 1))
    done
    return 1
}

# Hang up: SIGTERM makes pppd send LCP Terminate-Request and pptp close the call and connection.
hang_up() {
    killall pppd 2>/dev/null
    i=0
    while [ ! -f /tmp/pppd.rc ] && [ "$i" -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
    echo "DPVPN-PPPD-EXIT $1 $(cat /tmp/pppd.rc 2>/dev/null || echo timeout)"
    killall -9 pppd pptp 2>/dev/null
    sleep 1
}

# Each phase has its own iperf3 server on the host (PORT_<phase>), so one stalled test cannot
# keep the next one waiting for a busy server.
port_of() { eval echo "\$PORT_$(echo "$1" | tr - _)"; }

phase() {  # phase NAME OPTIONS...
    name=$1; shift
    echo "DPVPN-PHASE-BEGIN $name"
    dial "$PPTP_PASS" "$@"
    if ! addr=$(wait_up); then
        echo "DPVPN-FAIL $name: ppp0 got no address"
        hang_up "$name"
        return
    fi
    echo "DPVPN-UP $name $addr"
    $ip route add "$HOST_NET" dev ppp0
    echo "DPVPN-PING-BEGIN $name"
    ping -c 10 -i 0.2 -W 2 "$HOST_INNER"
    echo "DPVPN-PING-END $name"
    for dir in up down; do
        flag=""
        [ "$dir" = down ] && flag="-R"
        echo "DPVPN-JSON-BEGIN $name-$dir"
        timeout $((IPERF_SECONDS + 30)) iperf3 -c "$HOST_INNER" -p "$(port_of "$name")" -t "$IPERF_SECONDS" --connect-timeout 5000 -J $flag
        echo "DPVPN-JSON-END $name-$dir"
    done
    hang_up "$name"
    echo "DPVPN-PHASE-END $name"
}


# The host restarts dpvpn with the next configuration: wait (bounded) until dpvpn stops answering
# pings on its outside address, then until it answers again.
restart() {
    echo "DPVPN-RESTART $1"
    i=0
    while ping -c 1 -W 1 "$DPVPN_OUTER" >/dev/null 2>&1 && [ "$i" -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
    i=0
    until ping -c 1 -W 1 "$DPVPN_OUTER" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -ge 60 ]; then echo "DPVPN-FAIL dpvpn did not come back after restart $1"; exit 3; fi
    done
}

# Stateful MPPE through a jittery link (netem reorders): iperf3 upstream only.
jitter() {  # jitter NAME
    echo "DPVPN-PHASE-BEGIN $1"
    dial "$PPTP_PASS" require-mppe-128 mppe-stateful
    if ! addr=$(wait_up); then echo "DPVPN-FAIL $1: ppp0 got no address"; hang_up "$1"; return; fi
    echo "DPVPN-UP $1 $addr"
    $ip route add "$HOST_NET" dev ppp0
    tc qdisc add dev eth0 root netem delay 3ms 1ms
    echo "DPVPN-JSON-BEGIN $1-up"
    timeout $((JITTER_SECONDS + 30)) iperf3 -c "$HOST_INNER" -p "$(port_of "$1")" -t "$JITTER_SECONDS" --connect-timeout 5000 -J
    echo "DPVPN-JSON-END $1-up"
    tc qdisc del dev eth0 root
    hang_up "$1"
    echo "DPVPN-PHASE-END $1"
}

phase stateless require-mppe-128
phase mppe40 require-mppe-40
phase clear nomppe
REFUSE_AUTH="refuse-mschap refuse-mschap-v2"
phase md5 nomppe
REFUSE_AUTH="refuse-chap refuse-mschap"
echo "DPVPN-PHASE-BEGIN badpass"
dial "wrong-$PPTP_PASS" require-mppe-128
i=0
while [ ! -f /tmp/pppd.rc ] && [ "$i" -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
echo "DPVPN-PPPD-EXIT badpass $(cat /tmp/pppd.rc 2>/dev/null || echo timeout)"
killall -9 pppd pptp 2>/dev/null
echo "DPVPN-PHASE-END badpass"
restart B
phase stateful require-mppe-128 mppe-stateful
jitter jitter-on
restart C
jitter jitter-off
restart D
phase windowed require-mppe-128
restart E
phase shaped require-mppe-128
exit 0
