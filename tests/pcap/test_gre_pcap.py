#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap test of the GRE data path.

scapy (an independent encoder) builds good and malformed input frames for both
ports; dpvpn runs on net_pcap vdevs; every output frame is decoded with scapy
and tshark and checked; every malformed input must end in exactly its named
drop counter; the mbuf pool's in-use count returns to zero.

    test_gre_pcap.py [--workers N]     (N=2 exercises the handoff between lcores)
"""
import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from dpvpn_harness import Daemon  # noqa: E402

from scapy.all import (ARP, GRE, GRE_PPTP, ICMP, IP, PPP, TCP, UDP, Ether, IPv6, Raw, defragment,  # noqa: E402
                       rdpcap, wrpcap)
from scapy.config import conf  # noqa: E402

conf.verb = 0

OUT_MAC = "02:70:63:61:70:00"   # net_pcap's MAC for the first pcap port
IN_MAC = "02:70:63:61:70:01"
PEER1_MAC, PEER2_MAC, HOST_MAC = "02:00:00:00:01:02", "02:00:00:00:01:03", "02:00:00:00:02:02"
OUT_IP, PEER1, PEER2 = "192.0.2.1", "192.0.2.2", "192.0.2.3"
IN_IP, HOST = "10.0.0.1", "10.0.0.2"

CONFIG = """
[dpvpn]
mbufs = 4095
mbuf_cache = 0
[outside]
device = net_pcap0
devargs = rx_pcap={d}/outside-in.pcap,{out_tx}
address = 192.0.2.1/24
static_neighbors = 192.0.2.2 {p1}, 192.0.2.3 {p2}
[inside]
device = net_pcap1
devargs = rx_pcap={d}/inside-in.pcap,{in_tx}
address = 10.0.0.1/24
static_neighbors = 10.0.0.2 {h}
[tunnel 1]
protocol = gre
peer = 192.0.2.2
key = 42
sequence = yes
mtu = 1000
routes = 10.99.0.0/24
[tunnel 2]
protocol = gre
peer = 192.0.2.3
checksum = yes
routes = 10.98.0.0/24
"""

failures = []


def check(cond, what):
    if cond:
        check.passed += 1
    else:
        failures.append(what)
        print("FAIL:", what)


check.passed = 0


class Inputs:
    """Frames for one port plus the drop reasons they must end in."""

    def __init__(self):
        self.frames = []
        self.drops = collections.Counter()

    def good(self, frame):
        self.frames.append(frame)

    def bad(self, frame, reason):
        self.frames.append(frame)
        self.drops[reason] += 1


def outer(src=PEER1, dst=OUT_IP, smac=PEER1_MAC, **ip):
    return Ether(src=smac, dst=OUT_MAC) / IP(src=src, dst=dst, **ip)


seq1 = iter(range(0, 1000))


def gre1(inner, seq=True, **kw):
    g = GRE(key_present=1, key=42, **kw)
    if seq:
        g.seqnum_present = 1
        g.sequence_number = next(seq1)
    return outer() / g / inner


def gre2(inner, chksum=True):
    g = GRE(chksum_present=1) if chksum else GRE()
    return outer(src=PEER2, smac=PEER2_MAC) / g / inner


def build_outside():
    o = Inputs()
    # good: five pings from behind tunnel 1 to the inside host
    for i in range(5):
        o.good(gre1(IP(src="10.99.0.2", dst=HOST, ttl=20) / ICMP(id=7, seq=i) / Raw(b"x" * 32)))
    # good: tunnel 2 with GRE checksums
    o.good(gre2(IP(src="10.98.0.5", dst=HOST) / UDP(sport=5, dport=6) / Raw(b"y" * 40)))
    o.good(outer() / ICMP(id=1, seq=1) / Raw(b"ping"))
    o.good(Ether(src=PEER1_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc=PEER1, pdst=OUT_IP, hwsrc=PEER1_MAC))
    # bad: Ethernet
    o.bad(Raw(bytes(Ether(src=PEER1_MAC, dst=OUT_MAC))[:10]), "eth_truncated")
    o.bad(Ether(src=PEER1_MAC, dst=OUT_MAC) / IPv6() / UDP(), "eth_unsupported")
    o.bad(Ether(src=PEER1_MAC, dst="02:00:00:00:09:09") / IP(src=PEER1, dst=OUT_IP) / ICMP(), "eth_not_for_us")
    # bad: ARP
    o.bad(Ether(src=PEER1_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwlen=8, psrc=PEER1, pdst=OUT_IP), "arp_malformed")
    o.bad(Ether(src=PEER1_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc=PEER1, pdst="192.0.2.77"), "arp_not_for_us")
    # bad: outer IPv4
    o.bad(outer(len=200) / ICMP(), "ip_truncated")
    o.bad(Ether(src=PEER1_MAC, dst=OUT_MAC, type=0x0800) / Raw(b"\x65" + bytes(IP(src=PEER1, dst=OUT_IP))[1:]), "ip_bad_version")
    o.bad(Ether(src=PEER1_MAC, dst=OUT_MAC, type=0x0800) / Raw(b"\x44" + bytes(IP(src=PEER1, dst=OUT_IP) / ICMP())[1:]), "ip_bad_header_len")
    o.bad(outer(chksum=0x1234) / ICMP(), "ip_bad_checksum")
    o.bad(outer(options=b"\x01\x01\x01\x00") / GRE(key_present=1, key=42) / IP(), "ip_options")
    o.bad(outer(flags="MF") / GRE(key_present=1, key=42) / IP(), "ip_fragment")
    o.bad(outer(dst="192.0.2.9") / ICMP(), "ip_not_for_us")
    o.bad(outer(src="127.0.0.1") / ICMP(), "ip_bad_source")
    # GRE from martian or our own sources: the fast path leaves the source to the tunnel lookup
    # (no tunnel has such a peer), so these must still end in ip_bad_source.
    for src in ("127.0.0.1", "0.0.0.9", "224.0.0.5", OUT_IP, IN_IP):
        o.bad(outer(src=src) / GRE(key_present=1, key=42) / IP(src="10.99.0.2", dst=HOST) / ICMP(), "ip_bad_source")
    o.bad(outer() / TCP(sport=1, dport=2), "ip_unknown_protocol")
    o.bad(outer() / UDP(sport=1, dport=2), "no_tunnel")  # UDP is OpenVPN's, and no tunnel has these ports
    o.bad(outer() / ICMP(chksum=0x1111), "icmp_malformed")
    o.bad(outer() / ICMP(type=13), "icmp_unhandled")
    # bad: GRE header
    o.bad(outer(proto=47) / Raw(b"\x00\x00"), "gre_truncated")
    # Version 1 belongs to PPTP (drivers/pptp): a v0-style header there is malformed; version 2 nobody serves.
    o.bad(outer() / GRE(key_present=1, key=42, version=2) / IP(), "gre_bad_version")
    o.bad(outer() / GRE(key_present=0, version=1, proto=0x880b) / IP(), "pptp_malformed")
    # Enhanced GRE (RFC 2637 4.1), built by scapy's GRE_PPTP: no session here has call id 7.
    ppp_ip = PPP(proto=0x0021) / IP(src="10.99.0.2", dst=HOST) / ICMP()
    o.bad(outer() / GRE_PPTP(call_id=7, seqnum_present=1, sequence_number=1) / ppp_ip, "no_tunnel")
    o.bad(outer() / GRE_PPTP(call_id=7, seqnum_present=1, sequence_number=1, payload_len=500) / ppp_ip,
          "pptp_malformed")   # payload length beyond the packet
    o.bad(outer() / GRE_PPTP(call_id=7, proto=0x0800, seqnum_present=1) / ppp_ip, "pptp_malformed")
    o.bad(outer() / GRE_PPTP(call_id=7, chksum_present=1, seqnum_present=1) / ppp_ip, "pptp_malformed")
    o.bad(outer() / GRE(routing_present=1, key_present=1, key=42) / IP(), "gre_bad_flags")
    o.bad(outer() / GRE(key_present=1, key=43) / IP(), "no_tunnel")
    o.bad(outer(src="192.0.2.50") / GRE(key_present=1, key=42) / IP(), "no_tunnel")
    # bad: per tunnel
    o.bad(gre1(IPv6(), proto=0x86DD), "gre_unknown_proto")
    o.bad(gre1(IP(src="10.99.0.2", dst=HOST) / ICMP(), seq=False), "seq_missing")
    old = outer() / GRE(key_present=1, key=42, seqnum_present=1, sequence_number=2) / IP(src="10.99.0.2", dst=HOST) / ICMP()
    o.bad(old, "window_duplicated")   # delivered already: the window knows it
    bad_sum = gre2(IP(src="10.98.0.5", dst=HOST) / ICMP())
    bad_sum[GRE].chksum = 0xdead
    o.bad(bad_sum, "gre_bad_checksum")
    o.bad(gre2(IP(src="10.98.0.5", dst=HOST) / ICMP(), chksum=False), "checksum_missing")
    o.bad(gre1(IP(src="10.99.0.2", dst=HOST, len=300) / ICMP()), "inner_malformed")
    o.bad(gre1(IP(src="10.50.0.1", dst=HOST) / ICMP()), "inner_spoofed")
    o.bad(gre1(IP(src="10.99.0.2", dst=HOST, ttl=1) / UDP() / Raw(b"t")), "ip_ttl_expired")   # + ICMP error back
    o.bad(gre1(IP(src="10.99.0.2", dst="172.16.0.1") / UDP()), "no_route")
    o.bad(gre1(IP(src="10.99.0.2", dst="10.0.0.77") / UDP()), "neigh_unresolved")         # + ARP request inside
    return o


def build_inside():
    i = Inputs()
    host = Ether(src=HOST_MAC, dst=IN_MAC)
    for n in range(3):
        i.good(host / IP(src=HOST, dst="10.99.0.7", ttl=30) / UDP(sport=1000 + n, dport=2000) / Raw(b"u" * 50))
    i.good(host / IP(src=HOST, dst="10.98.0.9") / UDP(sport=9, dport=9) / Raw(b"c" * 33))
    i.good(host / IP(src=HOST, dst=IN_IP) / ICMP(id=3, seq=3) / Raw(b"hello"))
    i.good(Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc=HOST, pdst=IN_IP, hwsrc=HOST_MAC))
    # 1400 bytes into a tunnel of MTU 1000: fragmented when DF is clear ...
    i.good(host / IP(src=HOST, dst="10.99.0.8", id=555) / UDP(sport=1, dport=2) / Raw(bytes(range(256)) * 5 + b"z" * 92))
    # ... refused with "fragmentation needed" when DF is set
    i.bad(host / IP(src=HOST, dst="10.99.0.8", flags="DF") / UDP() / Raw(b"d" * 1372), "too_big")
    i.bad(host / IP(src=HOST, dst="10.99.0.7", ttl=1) / UDP() / Raw(b"t"), "ip_ttl_expired")
    i.bad(host / IP(src=HOST, dst="10.50.0.1") / UDP(), "no_route")
    i.bad(host / IP(src="0.0.0.0", dst="10.99.0.7") / UDP(), "ip_bad_source")
    # Each fails one check of the inside fast path (inside.c: inside_plain), so inside_one decides.
    i.bad(host / IP(src=HOST, dst="10.99.0.7", chksum=0x1234) / UDP(), "ip_bad_checksum")
    i.bad(host / IP(src=IN_IP, dst="10.99.0.7") / UDP(), "ip_bad_source")
    i.bad(host / IP(src="127.0.0.1", dst="10.99.0.7") / UDP(), "ip_bad_source")
    i.bad(host / IP(src="224.0.0.9", dst="10.99.0.7") / UDP(), "ip_bad_source")
    i.bad(Ether(src=HOST_MAC, dst="02:00:00:00:09:09") / IP(src=HOST, dst="10.99.0.7") / UDP(), "eth_not_for_us")
    i.bad(host / IP(src=HOST, dst="10.99.0.7", len=200) / UDP(), "ip_truncated")
    i.bad(host / IP(src=HOST, dst=IN_IP) / UDP(), "ip_unknown_protocol")
    return i


def tshark_fields(pcap, fields, display_filter):
    cmd = ["tshark", "-r", pcap, "-Y", display_filter, "-E", "occurrence=f", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def read_all(paths):
    pkts = []
    for p in paths:
        if os.path.exists(p) and os.path.getsize(p) > 0:
            pkts += list(rdpcap(p))
    return pkts


def verify_outside(pkts, out_files):
    gre_pkts = [p for p in pkts if GRE in p]
    t1 = [p for p in gre_pkts if p[IP].dst == PEER1]
    t2 = [p for p in gre_pkts if p[IP].dst == PEER2]
    for p in gre_pkts:
        check(p[Ether].src == OUT_MAC, "outer source MAC is the outside port's")
        check(p[IP].src == OUT_IP and p[IP].ttl == 64 and p[IP].proto == 47, "outer IPv4 fields")
        raw = IP(bytes(p[IP]))
        del raw.chksum
        check(IP(bytes(raw))[IP].chksum == p[IP].chksum, "outer IPv4 checksum valid")
    for p in t1:
        check(p[Ether].dst == PEER1_MAC, "tunnel 1 next hop MAC")
        check(p[GRE].key_present == 1 and p[GRE].key == 42 and p[GRE].seqnum_present == 1, "tunnel 1 key and sequence")
    # tunnel 1: 3 UDP + 2 fragments of the 1400-byte packet + 1 ICMP time exceeded (from the inner TTL 1)
    udp1 = [p for p in t1 if UDP in p[GRE] and p[GRE][IP].dst == "10.99.0.7"]
    check(len(udp1) == 3, f"3 UDP packets into tunnel 1 (got {len(udp1)})")
    check(all(p[GRE][IP].ttl == 29 for p in udp1), "inner TTL decremented once")
    frags = [p[GRE][IP] for p in t1 if p[GRE][IP].dst == "10.99.0.8"]
    check(len(frags) == 2 and all(len(f) <= 1000 for f in frags), f"1400 B packet split into 2 fragments <= MTU 1000 (got {len(frags)})")
    whole = defragment([IP(bytes(f)) for f in frags])
    check(len(whole) == 1 and bytes(whole[0][UDP].payload) == bytes(range(256)) * 5 + b"z" * 92,
          "fragments reassemble to the original payload")
    te = [p for p in t1 if ICMP in p[GRE] and p[GRE][ICMP].type == 11]
    check(len(te) == 1 and te[0][GRE][IP].src == IN_IP and te[0][GRE][IP].dst == "10.99.0.2",
          "ICMP time exceeded sent back into tunnel 1")
    seqs = sorted(p[GRE].sequence_number for p in t1)
    check(seqs == list(range(len(t1))), f"tunnel 1 sequence numbers 0..{len(t1) - 1} without gaps (got {seqs})")
    check(len(t2) == 1 and t2[0][GRE].chksum_present == 1, "tunnel 2 packet carries a GRE checksum")
    if t2:
        g = GRE(bytes(t2[0][GRE]))
        sent = g.chksum
        del g.chksum
        check(GRE(bytes(g)).chksum == sent, "tunnel 2 GRE checksum valid (scapy recomputation)")
    echo = [p for p in pkts if ICMP in p and GRE not in p]
    check(len(echo) == 1 and echo[0][ICMP].type == 0 and echo[0][IP].src == OUT_IP and echo[0][IP].dst == PEER1
          and bytes(echo[0][ICMP].payload) == b"ping", "echo reply to the peer's ping of the outside address")
    arp = [p for p in pkts if ARP in p]
    check(len(arp) == 1 and arp[0][ARP].op == 2 and arp[0][ARP].psrc == OUT_IP and arp[0][ARP].hwsrc == OUT_MAC
          and arp[0][ARP].pdst == PEER1, "ARP reply for the outside address")
    check(len(pkts) == 1 + 1 + 3 + 2 + 1 + 1, f"outside output count (got {len(pkts)})")
    # tshark, an independent decoder, must see the same GRE keys and sequence numbers.
    rows = []
    for f in out_files:
        if os.path.exists(f) and os.path.getsize(f) > 0:
            rows += tshark_fields(f, ["ip.dst", "gre.key", "gre.sequence_number", "gre.checksum.status"], "gre")
    t1_rows = [r for r in rows if r[0] == PEER1]
    check(len(t1_rows) == len(t1) and all(r[1] in ("42", "0x0000002a") for r in t1_rows),
          f"tshark decodes tunnel 1's key 42 ({t1_rows[:2]})")
    check(sorted(int(r[2]) for r in t1_rows) == seqs, "tshark agrees on the sequence numbers")
    t2_rows = [r for r in rows if r[0] == PEER2]
    check(len(t2_rows) == 1 and t2_rows[0][3] == "1", f"tshark finds tunnel 2's GRE checksum good ({t2_rows})")


def verify_inside(pkts):
    for p in pkts:
        check(p[Ether].src == IN_MAC, "inside frames come from the inside MAC")
    pings = [p for p in pkts if ICMP in p and p[ICMP].type == 8]
    check(len(pings) == 5, f"5 decapsulated pings delivered inside (got {len(pings)})")
    check(all(p[Ether].dst == HOST_MAC and p[IP].ttl == 19 and p[IP].src == "10.99.0.2" for p in pings),
          "decapsulated pings: host MAC, TTL 20-1")
    for p in pings:
        raw = p[IP].copy()
        del raw.chksum
        check(IP(bytes(raw)).chksum == p[IP].chksum, "inner checksum valid after TTL decrement")
    udp2 = [p for p in pkts if UDP in p and p[IP].src == "10.98.0.5"]
    check(len(udp2) == 1 and bytes(udp2[0][UDP].payload) == b"y" * 40, "tunnel 2 packet delivered inside")
    echo = [p for p in pkts if ICMP in p and p[ICMP].type == 0]
    check(len(echo) == 1 and echo[0][IP].src == IN_IP and bytes(echo[0][ICMP].payload) == b"hello",
          "echo reply for the inside address")
    arp_reply = [p for p in pkts if ARP in p and p[ARP].op == 2]
    check(len(arp_reply) == 1 and arp_reply[0][ARP].psrc == IN_IP, "ARP reply for the inside address")
    arp_req = [p for p in pkts if ARP in p and p[ARP].op == 1]
    check(len(arp_req) == 1 and arp_req[0][ARP].pdst == "10.0.0.77" and arp_req[0][Ether].dst == "ff:ff:ff:ff:ff:ff",
          "ARP request for the unresolved on-link destination")
    errs = [p for p in pkts if ICMP in p and p[ICMP].type in (3, 11)]
    kinds = sorted((p[ICMP].type, p[ICMP].code) for p in errs)
    check(kinds == [(3, 0), (3, 4), (11, 0)], f"ICMP errors to the host: net unreachable, frag needed, time exceeded (got {kinds})")
    fn = [p for p in errs if p[ICMP].type == 3 and p[ICMP].code == 4]
    check(len(fn) == 1 and fn[0][ICMP].nexthopmtu == 1000, "fragmentation needed carries the tunnel MTU 1000")
    check(all(p[IP].dst == HOST and p[IP].src == IN_IP for p in errs), "ICMP errors from the inside address to the host")
    check(len(pkts) == 5 + 1 + 1 + 1 + 1 + 3, f"inside output count (got {len(pkts)})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="dpvpn-pcap-")
    try:
        outside, inside = build_outside(), build_inside()
        wrpcap(f"{d}/outside-in.pcap", outside.frames, linktype=1)
        wrpcap(f"{d}/inside-in.pcap", inside.frames, linktype=1)
        out_files = [f"{d}/outside-out{q}.pcap" for q in range(args.workers)]
        in_files = [f"{d}/inside-out{q}.pcap" for q in range(args.workers)]
        cfg = CONFIG.format(d=d, p1=PEER1_MAC, p2=PEER2_MAC, h=HOST_MAC,
                            out_tx=",".join(f"tx_pcap={f}" for f in out_files),
                            in_tx=",".join(f"tx_pcap={f}" for f in in_files))
        with open(f"{d}/dpvpn.ini", "w") as f:
            f.write(cfg)
        # Main lcore plus N workers, mapped onto however few CPUs the machine has.
        ncpu = os.cpu_count() or 1
        lcores = "0" if args.workers == 1 else ",".join(f"{i}@{i % ncpu}" for i in range(args.workers + 1))
        total = len(outside.frames) + len(inside.frames)
        dmn = Daemon(f"{d}/dpvpn.ini", lcores=lcores)
        dmn.start()
        try:
            dmn.wait_for(lambda: dmn.rx_total() >= total, timeout=30, what=f"{total} frames received")
            # Handed-off packets may still be in flight: wait until the pool is idle.
            dmn.wait_for(lambda: dmn.query("/dpvpn/info")["mbufs_in_use"] == 0, timeout=10,
                         what="mbuf pool back to 0 in use")
            drops = dmn.query("/dpvpn/drops")
            lcores_info = dmn.query("/dpvpn/lcores")
            t1 = dmn.query("/dpvpn/tunnel,1")
        finally:
            dmn.stop()
        want = outside.drops + inside.drops
        for reason, n in sorted(drops.items()):
            check(n == want.get(reason, 0), f"drop {reason}: expected {want.get(reason, 0)}, got {n}")
        check(set(want) <= set(drops), f"every expected reason exists in telemetry ({set(want) - set(drops)})")
        check(dmn.returncode == 0, f"dpvpn exit code {dmn.returncode}")
        check(dmn.mbufs_in_use_after_shutdown() == 0, "no mbuf in use after shutdown")
        check(t1["rx_packets"] >= 5 and t1["tx_packets"] == 3 + 2 + 1, f"tunnel 1 counters {t1['rx_packets']} rx {t1['tx_packets']} tx")
        if args.workers > 1:
            check(sum(w["handoff_out"] for w in lcores_info.values()) > 0, "packets were handed off between workers")
            check(sum(w["handoff_in"] for w in lcores_info.values()) == sum(w["handoff_out"] for w in lcores_info.values()),
                  "every handed-off packet was received by its owner")
        verify_outside(read_all(out_files), out_files)
        verify_inside(read_all(in_files))
    finally:
        if failures or os.environ.get("KEEP"):
            print("artifacts kept in", d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    print(f"pcap-gre (workers={args.workers}): {check.passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
