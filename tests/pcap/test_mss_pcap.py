#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap test of TCP MSS clamping (mss_clamp) in both directions through GRE tunnels.

Tunnel 1 (mtu 1000, mss_clamp auto -> 960), tunnel 2 (mss_clamp = off), tunnel 3
(mss_clamp = 700). From the clients: SYNs with MSS 1460 (also with the option at an odd
offset after one NOP, and after SACK-permitted and window scale), a SYN with MSS 500 (already
small), a SYN without MSS, and a plain ACK carrying bytes that look like an MSS option. From the
inside host: a SYN-ACK into tunnel 1. Checked with scapy (MSS values, every TCP checksum
recomputed, all other bytes unchanged) and tshark (MSS and TCP checksum status with validation
on); telemetry's mss_clamped counts exactly the lowered SYNs; no mbuf leaked.
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

from scapy.all import GRE, IP, TCP, Ether, Raw, rdpcap, wrpcap  # noqa: E402

CONFIG = """
[tunnel 1]
protocol = gre
peer = 192.0.2.2
mtu = 1000
routes = 10.1.0.0/24
[tunnel 2]
protocol = gre
peer = 192.0.2.3
mss_clamp = off
routes = 10.2.0.0/24
[tunnel 3]
protocol = gre
peer = 192.0.2.4
mss_clamp = 700
routes = 10.3.0.0/24
"""
HOST = "10.0.0.2"
check = Checks("pcap-mss")


def from_client(peer, src, tcp):
    return (Ether(src=PEER_MAC, dst=OUT_MAC) / IP(src=peer, dst="192.0.2.1") / GRE() /
            IP(src=src, dst=HOST, ttl=30) / tcp)


def mss_of(tcp):
    return dict((k, v) for k, v in tcp.options if isinstance(k, str)).get("MSS")


def tcp_checksum_ok(ip):
    p = IP(bytes(ip))
    got = p[TCP].chksum
    del p[TCP].chksum
    return IP(bytes(p))[TCP].chksum == got


# (name, frame, expected MSS on the way out or None for no option, lowered?)
CASES = [
    ("t1 syn 1460", from_client("192.0.2.2", "10.1.0.5", TCP(sport=1001, dport=80, flags="S", options=[("MSS", 1460)])), 960, True),
    ("t1 syn nop,mss (odd offset)", from_client("192.0.2.2", "10.1.0.5", TCP(sport=1002, dport=80, flags="S", options=[("NOP", None), ("MSS", 1400), ("NOP", None), ("NOP", None), ("NOP", None)])), 960, True),
    ("t1 syn sack,wscale,mss", from_client("192.0.2.2", "10.1.0.5", TCP(sport=1003, dport=80, flags="S", options=[("SAckOK", b""), ("WScale", 7), ("NOP", None), ("MSS", 1200)])), 960, True),
    ("t1 syn 500", from_client("192.0.2.2", "10.1.0.5", TCP(sport=1004, dport=80, flags="S", options=[("MSS", 500)])), 500, False),
    ("t1 syn no mss", from_client("192.0.2.2", "10.1.0.5", TCP(sport=1005, dport=80, flags="S")), None, False),
    ("t1 ack with mss-like bytes", from_client("192.0.2.2", "10.1.0.5", TCP(sport=1006, dport=80, flags="A") / Raw(b"\x02\x04\x05\xb4" * 4)), None, False),
    ("t2 off", from_client("192.0.2.3", "10.2.0.5", TCP(sport=1007, dport=80, flags="S", options=[("MSS", 1460)])), 1460, False),
    ("t3 700", from_client("192.0.2.4", "10.3.0.5", TCP(sport=1008, dport=80, flags="S", options=[("MSS", 1460)])), 700, True),
]


def main():
    d = tempfile.mkdtemp(prefix="dpvpn-pcap-mss-")
    try:
        wrpcap(f"{d}/outside-in.pcap", [c[1] for c in CASES])
        # Three SYN-ACKs: the first goes the full way and builds tunnel 1's header template, the
        # next ones take the template path, which must clamp too.
        syn_acks = [Ether(src=HOST_MAC, dst=IN_MAC) / IP(src=HOST, dst="10.1.0.5") /
                    TCP(sport=80, dport=1001 + i, flags="SA", options=[("MSS", 1460), ("SAckOK", b"")])
                    for i in range(3)]
        wrpcap(f"{d}/inside-in.pcap", syn_acks)
        with open(f"{d}/dpvpn.ini", "w") as f:
            f.write(ports_config(d, ["192.0.2.2", "192.0.2.3", "192.0.2.4"]) + CONFIG)
        dmn = Daemon(f"{d}/dpvpn.ini", lcores="0")
        dmn.start()
        try:
            dmn.wait_for(lambda: dmn.rx_total() >= len(CASES) + len(syn_acks), timeout=30,
                         what="all frames received")
            dmn.wait_for(lambda: dmn.query("/dpvpn/info")["mbufs_in_use"] == 0, timeout=5, what="pool idle")
            tel = {t: dmn.query(f"/dpvpn/tunnel,{t}") for t in (1, 2, 3)}
        finally:
            dmn.stop()

        inside = [p for p in rdpcap(f"{d}/inside-out.pcap") if TCP in p]
        check(len(inside) == len(CASES), f"{len(CASES)} TCP packets delivered inside (got {len(inside)})")
        by_sport = {p[TCP].sport: p for p in inside}
        for name, frame, want, lowered in CASES:
            p = by_sport.get(frame[TCP].sport)
            if p is None:
                check(False, f"{name}: delivered")
                continue
            check(mss_of(p[TCP]) == want, f"{name}: MSS {mss_of(p[TCP])} (want {want})")
            check(tcp_checksum_ok(p[IP]), f"{name}: TCP checksum valid")
            # Everything but the MSS value and the TCP checksum is as sent (TTL and IP checksum aside).
            sent, got = bytes(frame[GRE][TCP]), bytes(p[TCP])
            diff = [i for i in range(len(sent)) if sent[i] != got[i]]
            allowed = {16, 17} | ({i for i in range(len(sent)) if i >= 20} if lowered else set())
            check(len(sent) == len(got) and set(diff) <= allowed and (bool(diff) == lowered),
                  f"{name}: only the MSS and checksum changed ({diff})")
        outside = [p for p in rdpcap(f"{d}/outside-out.pcap") if GRE in p]
        check(len(outside) == len(syn_acks) and
              all(mss_of(p[GRE][TCP]) == 960 and tcp_checksum_ok(p[GRE][IP]) for p in outside),
              f"{len(syn_acks)} SYN-ACKs into tunnel 1 (full path, then the header template): MSS 1460 "
              f"lowered to 960, checksums valid ({[mss_of(p[GRE][TCP]) for p in outside]})")
        out = subprocess.run(["tshark", "-r", f"{d}/inside-out.pcap", "-o", "tcp.check_checksum:TRUE", "-Y", "tcp",
                              "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.options.mss_val",
                              "-e", "tcp.checksum.status"], capture_output=True, text=True, timeout=60).stdout
        rows = {int(r.split("\t")[0]): r.split("\t")[1:] for r in out.splitlines() if r}
        want = {c[1][TCP].sport: (str(c[2]) if c[2] else "") for c in CASES}
        check(all(rows.get(s, ["?"])[0] == m for s, m in want.items()), f"tshark reads the same MSS values ({rows})")
        check(all(r[1] == "1" for r in rows.values()), "tshark: every TCP checksum good")
        check(tel[1]["mss_clamp"] == 960 and tel[1]["mss_clamped"] == 3 + len(syn_acks),
              f"tunnel 1: mss_clamp 960, mss_clamped {3 + len(syn_acks)} (3 SYNs in, the SYN-ACKs out): "
              f"{tel[1]['mss_clamped']}")
        check(tel[2]["mss_clamp"] == 0 and tel[2]["mss_clamped"] == 0, "tunnel 2: clamping off")
        check(tel[3]["mss_clamp"] == 700 and tel[3]["mss_clamped"] == 1, "tunnel 3: mss_clamp 700, 1 clamped")
        check(dmn.returncode == 0 and dmn.mbufs_in_use_after_shutdown() == 0, "clean exit, no mbuf leaked")
        return check.summary()
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
