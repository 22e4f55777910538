#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap test of multi-path tunnels.

Tunnel 1 has two paths in redundant mode: the client sends every packet on both lines, dpvpn
must deliver each once (the copy counted duplicated) and send every inside packet on both
paths with the same sequence number. Tunnel 2 has two paths weighted 1:3: dpvpn must split
its packets exactly so. Per-path counters in telemetry must match.
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

CONFIG = """
[tunnel 1]
protocol = gre
peer = 192.0.2.2, 192.0.2.3
path_mode = redundant
sequence = yes
routes = 10.1.0.0/24
[tunnel 2]
protocol = gre
peer = 192.0.2.4, 192.0.2.5
path_mode = weighted
weights = 1, 3
key = 2
routes = 10.2.0.0/24
"""


def main():
    check = Checks("pcap-multipath")
    d = tempfile.mkdtemp(prefix="dpvpn-multipath-pcap-")
    try:
        out_frames = []
        for seq in range(50):
            for line in ("192.0.2.2", "192.0.2.3"):   # the same packet on both lines
                out_frames.append(Ether(src=PEER_MAC, dst=OUT_MAC) / IP(src=line, dst="192.0.2.1") /
                                  GRE(seqnum_present=1, sequence_number=seq) /
                                  IP(src="10.1.0.2", dst="10.0.0.2") / UDP(sport=1, dport=9) /
                                  Raw(seq.to_bytes(4, "big")))
        in_frames = [Ether(src=HOST_MAC, dst=IN_MAC) / IP(src="10.0.0.2", dst="10.1.0.9") / UDP(sport=5, dport=n)
                     for n in range(20)]
        in_frames += [Ether(src=HOST_MAC, dst=IN_MAC) / IP(src="10.0.0.2", dst="10.2.0.9") / UDP(sport=6, dport=n)
                      for n in range(40)]
        wrpcap(f"{d}/outside-in.pcap", out_frames)
        wrpcap(f"{d}/inside-in.pcap", in_frames)
        with open(f"{d}/dpvpn.ini", "w") as f:
            f.write(ports_config(d, ["192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"]) + CONFIG)
        dmn = Daemon(f"{d}/dpvpn.ini", lcores="0")
        dmn.start()
        try:
            total = len(out_frames) + len(in_frames)
            dmn.wait_for(lambda: dmn.rx_total() >= total, timeout=30, what="all frames received")
            dmn.wait_for(lambda: dmn.query("/dpvpn/info")["mbufs_in_use"] == 0, timeout=5, what="pool idle")
            t1, t2 = dmn.query("/dpvpn/tunnel,1"), dmn.query("/dpvpn/tunnel,2")
            # The operator CLI shows the same state in the familiar form.
            ctl = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "app", "dpvpnctl", "dpvpnctl")
            show = {w: subprocess.run([ctl, "-p", dmn.prefix, "show"] + w.split(), capture_output=True, text=True,
                                      timeout=20).stdout for w in ("tunnel 1", "tunnels", "lcores", "ports", "drops")}
        finally:
            dmn.stop()
        inside = [p for p in rdpcap(f"{d}/inside-out.pcap") if UDP in p]
        got = [int.from_bytes(bytes(p[UDP].payload), "big") for p in inside]
        check(got == list(range(50)), f"each packet sent on both lines delivered once, in order ({len(got)})")
        w = t1["reorder"]
        check(w["accepted"] == 50 and w["duplicated"] == 50, f"window: accepted 50, duplicated 50 ({w})")
        p1 = {t1[k]["peer"]: t1[k] for k in ("path0", "path1")}
        check(p1["192.0.2.2"]["rx_packets"] == 50 and p1["192.0.2.3"]["rx_packets"] == 50, "per-path rx counters")
        check(p1["192.0.2.2"]["state"] == "alive" and p1["192.0.2.3"]["state"] == "alive", "both paths alive")
        outside = [p for p in rdpcap(f"{d}/outside-out.pcap") if GRE in p]
        to = {a: [p for p in outside if p[IP].dst == a] for a in ("192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5")}
        seqs2 = sorted(p[GRE].sequence_number for p in to["192.0.2.2"])
        seqs3 = sorted(p[GRE].sequence_number for p in to["192.0.2.3"])
        check(seqs2 == list(range(20)) and seqs3 == list(range(20)),
              "redundant: every packet on both paths with the same sequence number")
        check(sorted(p[UDP].dport for p in to["192.0.2.2"]) == list(range(20)), "redundant copies carry the same inner packet")
        check(len(to["192.0.2.4"]) == 10 and len(to["192.0.2.5"]) == 30,
              f"weighted 1:3 split of 40 packets ({len(to['192.0.2.4'])}, {len(to['192.0.2.5'])})")
        check(sorted(p[UDP].dport for p in to["192.0.2.4"] + to["192.0.2.5"]) == list(range(40)),
              "weighted: every packet sent exactly once")
        p2 = {t2[k]["peer"]: t2[k] for k in ("path0", "path1")}
        check(t2["path_mode"] == "weighted" and p2["192.0.2.4"]["tx_packets"] == 10 and p2["192.0.2.5"]["tx_packets"] == 30,
              "per-path tx counters")
        check(t1["tx_packets"] == 20 and t2["tx_packets"] == 40, "tunnel tx counts inner packets once")
        check("Accepted:     50" in show["tunnel 1"] and "Duplicated:   50" in show["tunnel 1"]
              and "paths (redundant)" in show["tunnel 1"], "dpvpnctl show tunnel: window counters and paths")
        check("192.0.2.5" in show["ports"] and "static" in show["ports"], "dpvpnctl show ports: neighbours")
        check("window_duplicated" in show["drops"] and "worker0" in show["lcores"] and "192.0.2.4" in show["tunnels"],
              "dpvpnctl show drops / lcores / tunnels")
        check(dmn.returncode == 0 and dmn.mbufs_in_use_after_shutdown() == 0, "clean exit, no mbuf leaked")
    finally:
        if check.failed:
            print("artifacts kept in", d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
