#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap test of ECN/DSCP across tunnels and of the per-tunnel shaper with fq_codel.

Encapsulation (RFC 6040 normal mode, RFC 2983): tunnel 1 inherits DSCP, tunnel 2 sets DSCP 46;
both copy the inner ECN field to the outer header, checked with scapy and tshark.
Decapsulation: all 16 inner/outer ECN pairs arrive on tunnel 1 and leave per RFC 6040's table;
outer CE over inner Not-ECT is dropped as ecn_ce_not_ect, the odd pairs are counted.
Shaping: tunnel 3 runs at 2 Mbit/s with fq_codel; a 40-packet bulk flow arrives in one burst,
then a 4-packet sparse flow: the sparse packets must leave long before the bulk's tail, the
output's pace must match the rate, and its queue counters must add up. The bulk flow is
ECN-capable and waits far beyond CoDel's target for more than an interval: CoDel marks it CE
(inner and, by RFC 6040 encapsulation, outer) instead of dropping. Tunnel 4 is the same
with qos = fifo: the sparse flow waits behind the bulk.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import Checks  # noqa: E402
from dpvpn_harness import Daemon  # noqa: E402
from pcapenv import HOST_MAC, IN_MAC, OUT_MAC, PEER_MAC, ports_config  # noqa: E402

from scapy.all import GRE, IP, UDP, Ether, Raw, rdpcap, wrpcap  # noqa: E402

RATE = 2_000_000
CONFIG = """
[tunnel 1]
protocol = gre
peer = 192.0.2.2
dscp = inherit
routes = 10.1.0.0/24
[tunnel 2]
protocol = gre
peer = 192.0.2.3
dscp = 46
routes = 10.2.0.0/24
[tunnel 3]
protocol = gre
peer = 192.0.2.4
shaper_rate = {rate}
shaper_burst = 3000
routes = 10.3.0.0/24
[tunnel 4]
protocol = gre
peer = 192.0.2.5
shaper_rate = {rate}
shaper_burst = 3000
qos = fifo
routes = 10.4.0.0/24
"""
NE, E1, E0, CE = 0, 1, 2, 3
# RFC 6040 section 4.2: (inner, outer) -> inner field after decapsulation, None = drop.
RFC6040 = {
    (NE, NE): NE, (NE, E0): NE, (NE, E1): NE, (NE, CE): None,
    (E0, NE): E0, (E0, E0): E0, (E0, E1): E1, (E0, CE): CE,
    (E1, NE): E1, (E1, E0): E1, (E1, E1): E1, (E1, CE): CE,
    (CE, NE): CE, (CE, E0): CE, (CE, E1): CE, (CE, CE): CE,
}
ODD = {(NE, E0), (NE, E1), (E1, E0), (CE, E1)}   # the (!) and (!!!) pairs that are still delivered


def tshark_tos(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "gre", "-T", "fields", "-E", "occurrence=a",
                          "-e", "ip.dst", "-e", "ip.dsfield.dscp", "-e", "ip.dsfield.ecn",
                          "-e", "udp.dstport"], capture_output=True, text=True, timeout=60).stdout
    # Several values of a field (outer, inner header) come comma separated, outer first.
    return [[v.split(",")[0] for v in line.split("\t")] for line in out.splitlines() if line]


def main():
    check = Checks("pcap-qos")
    d = tempfile.mkdtemp(prefix="dpvpn-qos-pcap-")
    try:
        # Outside: every inner/outer ECN pair on tunnel 1; the pair rides in the UDP port.
        out_frames = []
        for (inner, outer) in RFC6040:
            out_frames.append(Ether(src=PEER_MAC, dst=OUT_MAC) / IP(src="192.0.2.2", dst="192.0.2.1", tos=0x20 | outer) /
                              GRE() / IP(src="10.1.0.2", dst="10.0.0.2", tos=0x28 | inner) /
                              UDP(sport=1, dport=1000 + inner * 4 + outer))
        # Inside: each TOS pattern to tunnels 1 and 2, then a bulk and a sparse flow to 3 and 4.
        in_frames = []
        for tid in (1, 2):
            for tos in range(0, 256, 5):
                in_frames.append(Ether(src=HOST_MAC, dst=IN_MAC) / IP(src="10.0.0.2", dst=f"10.{tid}.0.9", tos=tos) /
                                 UDP(sport=7, dport=tos))
        for tid in (3, 4):
            in_frames += [Ether(src=HOST_MAC, dst=IN_MAC) / IP(src="10.0.0.2", dst=f"10.{tid}.0.9", tos=E0) /
                          UDP(sport=100, dport=9) / Raw(bytes([n]) + b"b" * 971) for n in range(40)]
            in_frames += [Ether(src=HOST_MAC, dst=IN_MAC) / IP(src="10.0.0.2", dst=f"10.{tid}.0.9") /
                          UDP(sport=200, dport=9) / Raw(bytes([n]) + b"s" * 71) for n in range(4)]
        wrpcap(f"{d}/outside-in.pcap", out_frames)
        wrpcap(f"{d}/inside-in.pcap", in_frames)
        with open(f"{d}/dpvpn.ini", "w") as f:
            f.write(ports_config(d, ["192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"]) + CONFIG.format(rate=RATE))
        dmn = Daemon(f"{d}/dpvpn.ini", lcores="0")
        dmn.start()
        try:
            total = len(out_frames) + len(in_frames)
            dmn.wait_for(lambda: dmn.rx_total() >= total, timeout=30, what="all frames received")
            dmn.wait_for(lambda: all(dmn.query(f"/dpvpn/tunnel,{t}")["tx_packets"] >= 44 for t in (3, 4)),
                         timeout=30, what="shaped tunnels drained")
            dmn.wait_for(lambda: dmn.query("/dpvpn/info")["mbufs_in_use"] == 0, timeout=5, what="pool idle")
            tel = {t: dmn.query(f"/dpvpn/tunnel,{t}") for t in (1, 2, 3, 4)}
            qos3 = dmn.query("/dpvpn/qos,3")
            qos1 = dmn.query("/dpvpn/qos,1")
            ctl = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "app", "dpvpnctl", "dpvpnctl")
            show = subprocess.run([ctl, "-p", dmn.prefix, "show", "qos", "3"], capture_output=True, text=True,
                                  timeout=20).stdout
        finally:
            dmn.stop()

        # Encapsulation: outer TOS from the inner one.
        outside = [p for p in rdpcap(f"{d}/outside-out.pcap") if GRE in p]
        for tid, peer in ((1, "192.0.2.2"), (2, "192.0.2.3")):
            pk = [p for p in outside if p[IP].dst == peer]
            want = [(p[GRE][IP].tos >> 2 if tid == 1 else 46, p[GRE][IP].tos & 3) for p in pk]
            got = [(p[IP].tos >> 2, p[IP].tos & 3) for p in pk]
            check(len(pk) == 52 and got == want,
                  f"tunnel {tid}: outer DSCP {'inherited' if tid == 1 else '46'}, ECN copied ({len(pk)} packets)")
            check(all(p[GRE][IP].tos == p[GRE][UDP].dport for p in pk), f"tunnel {tid}: inner TOS untouched")
        rows = [r for r in tshark_tos(f"{d}/outside-out.pcap") if r[0] in ("192.0.2.2", "192.0.2.3")]
        ok = all(r[1] == (str(int(r[3]) >> 2) if r[0] == "192.0.2.2" else "46") and r[2] == str(int(r[3]) & 3)
                 for r in rows)
        check(len(rows) == 104 and ok, "tshark decodes the same outer DSCP and ECN")

        # Decapsulation: RFC 6040's table.
        inside = [p for p in rdpcap(f"{d}/inside-out.pcap") if UDP in p and p[UDP].sport == 1]
        got = {divmod(p[UDP].dport - 1000, 4): p[IP].tos for p in inside}
        want = {k: v for k, v in RFC6040.items() if v is not None}
        check(set(got) == set(want), f"decap delivers all but the dropped pair ({sorted(set(want) - set(got))} missing)")
        check(all(got.get(k, -1) == (0x28 | v) for k, v in want.items()),
              f"decap ECN per RFC 6040, DSCP kept ({ {k: v & 3 for k, v in got.items() if v != 0x28 | want.get(k, 0)} })")
        check(all(IP(bytes(p[IP])).chksum == p[IP].chksum for p in inside), "inner checksums valid after rewrite")
        t1 = tel[1]
        check(t1["drop_reasons"]["ecn_ce_not_ect"] == 1, "outer CE over Not-ECT dropped as ecn_ce_not_ect")
        check(t1["ecn_odd"] == len(ODD), f"odd pairs counted ({t1['ecn_odd']})")
        check(qos1["mode"] == "unshaped" and "qos" not in t1, "unshaped tunnel: no qos state")

        # Shaping: pace, fq_codel's sparse-flow priority, and counters.
        for tid, peer in ((3, "192.0.2.4"), (4, "192.0.2.5")):
            pk = [p for p in outside if p[IP].dst == peer]
            order = [p[GRE][UDP].sport for p in pk]
            flow_order = {s: [bytes(p[GRE][UDP].payload)[0] for p in pk if p[GRE][UDP].sport == s] for s in (100, 200)}
            check(flow_order[100] == list(range(40)) and flow_order[200] == list(range(4)),
                  f"tunnel {tid}: each flow's packets stay in order")
            check(len(pk) == 44, f"tunnel {tid}: every packet sent ({len(pk)})")
            if len(pk) != 44:
                continue
            last_sparse = max(i for i, s in enumerate(order) if s == 200)
            if tid == 3:
                check(last_sparse < 10, f"fq_codel: the sparse flow leaves early (last at position {last_sparse})")
            else:
                check(last_sparse >= 40, f"fifo: the sparse flow waits behind the bulk (position {last_sparse})")
            # Pace: outer IPv4 bytes over time after the burst, against the configured rate.
            t0 = float(pk[4].time)
            sent = sum(len(p[IP]) for p in pk[5:])
            secs = float(pk[-1].time) - t0
            rate = sent * 8 / secs if secs > 0 else 0
            check(0.9 * RATE <= rate <= 1.1 * RATE, f"tunnel {tid}: paced at {rate / 1e6:.2f} Mbit/s (shaper {RATE / 1e6})")
            if tid == 3:
                marked = [p for p in pk if p[GRE][IP].tos & 3 == CE]
                check(marked and all(p[IP].tos & 3 == CE for p in marked) and len(marked) == qos3["ecn_marks"],
                      f"CoDel marked {len(marked)} bulk packets CE, outer header too (counter {qos3['ecn_marks']})")
        q3 = tel[3]["qos"]
        check(q3["mode"] == "fq_codel" and q3["rate_bps"] == RATE and tel[4]["qos"]["mode"] == "fifo", "qos mode and rate")
        check(qos3["enqueued"] == qos3["dequeued"] + qos3["aqm_drops"] + qos3["overlimit_drops"] + qos3["backlog_packets"]
              and qos3["enqueued"] + qos3["bypassed"] == 44 and qos3["backlog_packets"] == 0 and qos3["aqm_drops"] == 0,
              f"queue counters add up ({qos3})")
        check(qos3["new_flows"] >= 2 and qos3["sojourn_max_us"] > 50000,
              f"two flows queued, the bulk's tail waited ({qos3['sojourn_max_us']} us)")
        check("fq_codel at 2 Mbit/s" in show and "enqueued" in show, "dpvpnctl show qos")
        check(dmn.returncode == 0 and dmn.mbufs_in_use_after_shutdown() == 0, "clean exit, no mbuf leaked")
    finally:
        if check.failed:
            print("artifacts kept in", d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
