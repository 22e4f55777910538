#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap test of the reorder window in the GRE path.

scapy builds a GRE stream whose sequence numbers are shuffled within groups of 8, with copies,
one lost packet and one forged far-ahead number. Tunnel 1 runs the window (on), tunnel 2 runs
it off (stock Linux behaviour). The inside output is checked packet by packet: tunnel 1 must
deliver every number but the lost one exactly once and strictly in order, tunnel 2 exactly what
a drop-anything-older receiver delivers; the window counters must match to the packet.
"""
import os
import random
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import Checks  # noqa: E402
from dpvpn_harness import Daemon  # noqa: E402

from scapy.all import GRE, IP, UDP, Ether, ICMPv6ND_RS, IPv6, Raw, rdpcap, wrpcap  # noqa: E402

OUT_MAC, PEER_MAC, HOST_MAC = "02:70:63:61:70:00", "02:00:00:00:01:02", "02:00:00:00:02:02"
CONFIG = """
[dpvpn]
mbufs = 4095
[outside]
device = net_pcap0
devargs = rx_pcap={d}/outside-in.pcap,{out_tx}
address = 192.0.2.1/24
static_neighbors = 192.0.2.2 {p}, 192.0.2.3 {p}
[inside]
device = net_pcap1
devargs = rx_pcap={d}/inside-in.pcap,{in_tx}
address = 10.0.0.1/24
static_neighbors = 10.0.0.2 {h}
[tunnel 1]
protocol = gre
peer = 192.0.2.2
sequence = yes
reorder_window = 64
reorder_hold_ms = 50
routes = 10.1.0.0/24
[tunnel 2]
protocol = gre
peer = 192.0.2.3
sequence = yes
reorder = off
routes = 10.2.0.0/24
"""


IPV6_SEQ = 60   # tunnel 1's number 60 carries IPv6 (a peer's router solicitation, say)


def frame(tunnel, seq, payload_seq=None):
    peer = f"192.0.2.{tunnel + 1}"
    n = seq if payload_seq is None else payload_seq
    outer = Ether(src=PEER_MAC, dst=OUT_MAC) / IP(src=peer, dst="192.0.2.1")
    if tunnel == 1 and seq == IPV6_SEQ:
        return outer / GRE(seqnum_present=1, sequence_number=seq, proto=0x86DD) / IPv6() / ICMPv6ND_RS()
    return (outer / GRE(seqnum_present=1, sequence_number=seq) /
            IP(src=f"10.{tunnel}.0.2", dst="10.0.0.2") / UDP(sport=tunnel, dport=9) / Raw(n.to_bytes(4, "big")))


def shuffled(n, group, rng):
    order = []
    for start in range(0, n, group):
        g = list(range(start, min(n, start + group)))
        rng.shuffle(g)
        order += g
    return order


def main():
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 1
    check = Checks(f"pcap-reorder (workers={workers})")
    rng = random.Random(7)
    d = tempfile.mkdtemp(prefix="dpvpn-reorder-pcap-")
    try:
        # Tunnel 1: 0..199 shuffled in groups of 8, 150 never sent, copies of 10..19 after 40,
        # one forged number far ahead.
        # The first packet a window sees sets its start, so the stream starts with 0.
        order1 = [0] + [s for s in shuffled(200, 8, rng) if s not in (0, 150)]
        at = order1.index(40) + 1
        order1[at:at] = list(range(10, 20))
        order1.insert(100, 100000)
        # Tunnel 2 (window off): 0..99 shuffled in groups of 8.
        order2 = [0] + [s for s in shuffled(100, 8, rng) if s != 0]
        frames = [frame(1, s) for s in order1] + [frame(2, s) for s in order2]
        wrpcap(f"{d}/outside-in.pcap", frames, linktype=1)
        wrpcap(f"{d}/inside-in.pcap", [Ether(src=HOST_MAC, dst="02:70:63:61:70:01") /
                                        IP(src="10.0.0.2", dst="10.0.0.1") / UDP()], linktype=1)
        with open(f"{d}/dpvpn.ini", "w") as f:
            f.write(CONFIG.format(d=d, p=PEER_MAC, h=HOST_MAC,
                                  out_tx=",".join(f"tx_pcap={d}/outside-out{q}.pcap" for q in range(workers)),
                                  in_tx=",".join(f"tx_pcap={d}/inside-out{q}.pcap" for q in range(workers))))
        # Stock Linux receiver (drop anything not newer than the last delivered):
        last, expect2 = -1, []
        for s in order2:
            if s > last:
                expect2.append(s)
                last = s
        # With 2 workers tunnel 2 belongs to worker 1: its packets cross the handoff ring first.
        ncpu = os.cpu_count() or 1
        lcores = "0" if workers == 1 else ",".join(f"{i}@{i % ncpu}" for i in range(workers + 1))
        dmn = Daemon(f"{d}/dpvpn.ini", lcores=lcores)
        dmn.start()
        try:
            dmn.wait_for(lambda: dmn.rx_total() >= len(frames) + 1, timeout=30, what="all frames received")
            # The gap at 150 is given up by the periodic sweep after 50 ms, with no more traffic.
            dmn.wait_for(lambda: dmn.query("/dpvpn/tunnel,1")["reorder"]["held"] == 0, timeout=5,
                         what="window 1 drained by the sweep")
            dmn.wait_for(lambda: dmn.query("/dpvpn/info")["mbufs_in_use"] == 0, timeout=5,
                         what="mbuf pool back to 0")
            w1 = dmn.query("/dpvpn/tunnel,1")["reorder"]
            w2 = dmn.query("/dpvpn/tunnel,2")["reorder"]
            drops = dmn.query("/dpvpn/drops")
        finally:
            dmn.stop()
        out = [p for q in range(workers) for p in rdpcap(f"{d}/inside-out{q}.pcap") if UDP in p]
        got1 = [int.from_bytes(bytes(p[UDP].payload), "big") for p in out if p[UDP].sport == 1]
        got2 = [int.from_bytes(bytes(p[UDP].payload), "big") for p in out if p[UDP].sport == 2]
        want1 = [s for s in range(200) if s not in (IPV6_SEQ, 150)]
        check(got1 == want1, f"window on: every IPv4 number but 150 once, in order (got {len(got1)}, "
                             f"first disorder at {next((i for i, (a, b) in enumerate(zip(got1, want1)) if a != b), None)})")
        check(got2 == expect2, f"window off: exactly what a drop-older receiver delivers ({len(got2)} vs {len(expect2)})")
        check(w1["accepted"] == 199, f"accepted {w1['accepted']} == 199")
        check(w1["duplicated"] == 10, f"duplicated {w1['duplicated']} == 10")
        check(w1["lost"] == 1, f"lost {w1['lost']} == 1")
        check(w1["far_ahead"] == 1, f"far_ahead {w1['far_ahead']} == 1")
        check(w1["under_window"] == 0, f"under_window {w1['under_window']} == 0")
        check(w1["buffered"] > 50, f"buffered {w1['buffered']} > 50 (shuffled groups had to wait)")
        check(w1["accepted"] + w1["under_window"] + w1["duplicated"] + w1["far_ahead"] + w1["freed"] == len(order1),
              "window on: every input counted exactly once")
        check(w2["mode"] == "off" and w2["accepted"] == len(expect2), f"window off accepted {w2['accepted']}")
        check(w2["under_window"] == len(order2) - len(expect2), f"window off under_window {w2['under_window']}")
        check(w2["buffered"] == 0 and w2["duplicated"] == 0, "window off never waits")
        # The IPv6 packet used up its number (no 50 ms gap, no loss) and was dropped as it left.
        check(drops["gre_unknown_proto"] == 1, "the numbered IPv6 packet is dropped as gre_unknown_proto")
        check(drops["window_duplicated"] == 10 and drops["window_far_ahead"] == 1, "/dpvpn/drops shows the window's drops")
        check(dmn.returncode == 0 and dmn.mbufs_in_use_after_shutdown() == 0, "clean exit, no mbuf leaked")
    finally:
        if check.failed:
            print("artifacts kept in", d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
