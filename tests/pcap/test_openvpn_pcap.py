#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap test of the OpenVPN static-key data channel (drivers/openvpn).

The client side is an independent encoder: scapy frames, AES-CBC and HMAC from python3's
`cryptography`, keys laid out as openvpn's static key file (key i at 128*i: 64 cipher bytes,
64 HMAC bytes; the client sends with the key dpvpn receives with).

Tunnel 1: AES-256-CBC/SHA256, key_direction 0, port 1194 <-> 1194, keepalive 1 s.
Tunnel 2: AES-128-CBC/SHA1, key_direction 1, port 1195 <-> 40000, another key, no keepalive.

Outside -> inside: good packets of both tunnels are delivered byte for byte (TTL - 1);
every malformed input ends in exactly its named counter (udp_truncated, ovpn_malformed,
ovpn_bad_hmac, ovpn_bad_padding, ovpn_replay, the window's duplicated, inner_not_ipv4,
keepalives_rx, no_tunnel); a newer packet-id time is a peer restart whose packets are delivered.
Inside -> outside: every frame sent to the clients is decrypted with the client's receive key:
HMAC, PKCS#7 padding, packet-ids 1, 2, 3 ... without gaps, a time within a minute of now,
distinct IVs, the inner packet as sent (TTL - 1, checksum fixed), keepalive pings counted, UDP
ports; tshark decodes the frames' IP and UDP lengths without complaint. No mbuf leaked.
"""
import collections
import hmac
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import Checks  # noqa: E402
from dpvpn_harness import Daemon  # noqa: E402
from pcapenv import HOST_MAC, IN_MAC, OUT_MAC, PEER_MAC, ports_config  # noqa: E402

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, IPv6, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.config import conf  # noqa: E402

conf.verb = 0
check = Checks("pcap-openvpn")

OUT_IP, HOST = "192.0.2.1", "10.0.0.2"
PING = bytes.fromhex("2a187bf3641eb4cb07ed2d0a981fc748")   # openvpn's keepalive payload
CONFIG = """
[tunnel 1]
protocol = openvpn
peer = 192.0.2.2
secret = one.key
key_direction = 0
cipher = AES-256-CBC
auth = SHA256
keepalive = 1
routes = 10.99.0.2/32
[tunnel 2]
protocol = openvpn
peer = 192.0.2.3
secret = {d}/two.key
key_direction = 1
cipher = aes-128-cbc
auth = SHA1
port = 1195
peer_port = 40000
keepalive = 0
routes = 10.98.0.0/24
"""


class Tunnel:
    """One client as openvpn would run it: its keys, ports and packet-id state."""

    def __init__(self, tid, peer, client_ip, port, peer_port, key, key_direction, cipher_len, digest):
        self.tid, self.peer, self.client_ip, self.port, self.peer_port = tid, peer, client_ip, port, peer_port
        self.key, self.cipher_len, self.digest = key, cipher_len, digest
        self.hmac_len = {"sha256": 32, "sha1": 20}[digest]
        # dpvpn receives with key 1 under direction 0 (0 under 1): the client sends with that one.
        self.send_key = self.key_part(1 - key_direction)
        self.recv_key = self.key_part(key_direction)
        self.wrong_key = self.recv_key

    def key_part(self, i):
        k = self.key[128 * i:128 * (i + 1)]
        return k[:self.cipher_len], k[64:64 + self.hmac_len]

    def seal(self, pid, when, payload, keys=None, plain=None, iv=None):
        """HMAC | IV | AES-CBC(pid | time | payload | PKCS#7); plain replaces the padded plaintext."""
        ck, hk = keys or self.send_key
        if plain is None:
            plain = struct.pack(">II", pid, when) + payload
            pad = 16 - len(plain) % 16
            plain += bytes([pad]) * pad
        iv = iv or os.urandom(16)
        enc = Cipher(algorithms.AES(ck), modes.CBC(iv)).encryptor()
        ct = enc.update(plain) + enc.finalize()
        return hmac.new(hk, iv + ct, self.digest).digest() + iv + ct

    def open(self, payload):
        """Checks and decrypts what dpvpn sent: (pid, time, inner, iv), or a string saying what is wrong."""
        ck, hk = self.recv_key
        tag, iv, ct = payload[:self.hmac_len], payload[self.hmac_len:self.hmac_len + 16], payload[self.hmac_len + 16:]
        if not hmac.compare_digest(tag, hmac.new(hk, iv + ct, self.digest).digest()):
            return "bad HMAC"
        if len(ct) == 0 or len(ct) % 16:
            return f"ciphertext of {len(ct)} bytes"
        dec = Cipher(algorithms.AES(ck), modes.CBC(iv)).decryptor()
        plain = dec.update(ct) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
            return f"bad padding {plain[-16:].hex()}"
        pid, when = struct.unpack(">II", plain[:8])
        return pid, when, plain[8:-pad], iv

    def frame(self, payload, sport=None, dport=None, **udp):
        return (Ether(src=PEER_MAC, dst=OUT_MAC) / IP(src=self.peer, dst=OUT_IP) /
                UDP(sport=sport or self.peer_port, dport=dport or self.port, **udp) / Raw(payload))


def key_file(path, key):
    with open(path, "w") as f:
        f.write("#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n")
        for i in range(0, 256, 16):
            f.write(key[i:i + 16].hex() + "\n")
        f.write("-----END OpenVPN Static key V1-----\n")


class Outside:
    """Frames from the clients; what each must become: delivered inner packets, drops, counters."""

    def __init__(self):
        self.frames = []
        self.delivered = collections.defaultdict(list)   # tunnel id -> inner IP packets, in order
        self.drops = collections.Counter()

    def good(self, t, frame, inner):
        self.frames.append(frame)
        self.delivered[t.tid].append(bytes(inner))

    def bad(self, frame, reason):
        self.frames.append(frame)
        if reason:
            self.drops[reason] += 1


def inner_packet(t, n, size):
    """An IPv4 packet of size bytes from behind the client to the inside host."""
    body = bytes((n * 7 + i) & 0xff for i in range(max(0, size - 28)))
    if n % 3 == 0:
        return IP(src=t.client_ip, dst=HOST, ttl=40, id=n) / ICMP(id=t.tid, seq=n) / Raw(body[:max(0, size - 28)])
    return IP(src=t.client_ip, dst=HOST, ttl=40, id=n) / UDP(sport=5000 + n, dport=7) / Raw(body)


def build_outside(t1, t2, a):
    """a: the client's packet-id time (its start); it restarts at a + 10, an old copy says a - 5."""
    o = Outside()
    # Tunnel 1, first run of the client: packet-ids 1..5; inner+8 of 40 bytes needs a whole pad block.
    sizes = [28, 40, 84, 500, 1400]
    for pid, size in enumerate(sizes, 1):
        p = inner_packet(t1, pid, size)
        o.good(t1, t1.frame(t1.seal(pid, a, bytes(p))), p)
    o.bad(t1.frame(t1.seal(6, a, PING)), None)                                   # keepalive, counted apart
    o.bad(t1.frame(t1.seal(7, a, bytes(IPv6(src="fd00::2", dst="fd00::1") / UDP()))), "inner_not_ipv4")
    o.bad(o.frames[2], "window_duplicated")                                      # packet-id 3 again
    # Refused before the window: none of these uses up packet-id 8.
    pkt8 = inner_packet(t1, 8, 100)
    good8 = t1.seal(8, a, bytes(pkt8))
    o.bad(t1.frame(bytes([good8[0] ^ 0x80]) + good8[1:]), "ovpn_bad_hmac")       # HMAC bit flipped
    o.bad(t1.frame(good8[:60] + bytes([good8[60] ^ 1]) + good8[61:]), "ovpn_bad_hmac")  # ciphertext bit
    o.bad(t1.frame(t1.seal(8, a, bytes(pkt8), keys=t1.wrong_key)), "ovpn_bad_hmac")     # dpvpn's own send key
    plain = struct.pack(">II", 8, a) + bytes(pkt8)
    plain += b"\x04" * (16 - len(plain) % 16)
    o.bad(t1.frame(t1.seal(8, a, b"", plain=plain[:-1] + b"\x00")), "ovpn_bad_padding")  # pad byte 0
    o.bad(t1.frame(t1.seal(8, a, b"", plain=plain[:-1] + b"\x11")), "ovpn_bad_padding")  # pad 17
    o.bad(t1.frame(t1.seal(8, a, b"", plain=plain[:-2] + b"\x03\x02")), "ovpn_bad_padding")  # inconsistent
    o.bad(t1.frame(t1.seal(8, a, b"", plain=b"\x10" * 16)), "ovpn_bad_padding")   # no room for the packet-id
    o.bad(t1.frame(good8[:48]), "ovpn_malformed")                                 # HMAC and IV only
    o.bad(t1.frame(good8[:-5]), "ovpn_malformed")                                 # not whole blocks
    o.bad(Ether(src=PEER_MAC, dst=OUT_MAC) / IP(src=t1.peer, dst=OUT_IP, proto=17) / Raw(b"\x04\xaa\x04\xaa"),
          "udp_truncated")                                                        # 4 bytes of UDP header
    o.bad(t1.frame(good8, len=len(good8) + 8 + 16), "udp_truncated")              # UDP length past the end
    o.bad(t1.frame(good8, len=4), "udp_truncated")                                # UDP length below 8
    o.bad(t1.frame(good8, dport=1196), "no_tunnel")                               # nobody's port
    o.bad(t1.frame(good8, sport=1195), "no_tunnel")                               # not the client's port
    o.bad(Ether(src=PEER_MAC, dst=OUT_MAC) / IP(src="192.0.2.9", dst=OUT_IP) / UDP(sport=1194, dport=1194) /
          Raw(good8), "no_tunnel")                                                # unknown peer
    o.good(t1, t1.frame(good8), pkt8)                                             # packet-id 8 still free
    o.bad(t1.frame(t1.seal(9, a - 5, bytes(inner_packet(t1, 9, 60)))), "ovpn_replay")   # an earlier run
    # The client restarts: a newer time, packet-ids from 1 again, delivered at once.
    for pid in (1, 2, 3):
        p = inner_packet(t1, 20 + pid, 60 + pid)
        o.good(t1, t1.frame(t1.seal(pid, a + 10, bytes(p))), p)
    o.bad(t1.frame(t1.seal(4, a, bytes(inner_packet(t1, 24, 60)))), "ovpn_replay")      # the old run again
    o.bad(o.frames[-2], "window_duplicated")                                      # new run's packet-id 3 again
    # Tunnel 2: AES-128-CBC / SHA1, its own key, port and direction.
    for pid, size in enumerate([28, 200, 1400, 47], 1):
        p = inner_packet(t2, pid, size)
        o.good(t2, t2.frame(t2.seal(pid, a, bytes(p))), p)
    g = t2.seal(5, a, bytes(inner_packet(t2, 5, 50)))
    o.bad(t2.frame(g + b"\x00"), "ovpn_malformed")                                # 20 + 16 + blocks + 1
    other = (t1.send_key[0][:16], t1.send_key[1][:20])
    o.bad(t2.frame(t2.seal(5, a, bytes(inner_packet(t2, 5, 50)), keys=other)), "ovpn_bad_hmac")  # tunnel 1's key
    o.bad(t2.frame(g, dport=1194), "no_tunnel")                                   # tunnel 1's port
    o.bad(t2.frame(t2.seal(5, a, PING)), None)                                    # keepalive
    return o


def build_inside(t1, t2):
    """Plain packets from the inside host to both clients: (tunnel id, IP packet) in order."""
    pkts = []
    for n, size in enumerate([28, 40, 41, 56, 300, 1400], 1):   # 40: 8 + 40 fills whole blocks
        pkts.append((1, IP(src=HOST, dst=t1.client_ip, ttl=64, id=100 + n) / UDP(sport=7, dport=6000 + n) /
                     Raw(bytes([n]) * (size - 28))))
    pkts.append((1, IP(src=HOST, dst=t1.client_ip, ttl=9) / TCP(sport=80, dport=4000, flags="A") / Raw(b"ack")))
    for n, size in enumerate([100, 1000, 29], 1):
        pkts.append((2, IP(src=HOST, dst="10.98.0.7", ttl=3, id=200 + n) / ICMP(id=9, seq=n) /
                     Raw(bytes([n]) * (size - 28))))
    return pkts


def forwarded(ip):
    """ip as dpvpn forwards it: TTL - 1, header checksum recomputed."""
    p = IP(bytes(ip))
    p.ttl -= 1
    del p.chksum
    return bytes(IP(bytes(p)))


def verify_outside_out(out_pcap, t1, t2, inside, tel, now):
    frames = rdpcap(out_pcap) if os.path.exists(out_pcap) and os.path.getsize(out_pcap) else []
    check(all(UDP in p for p in frames), f"only UDP leaves the outside port ({[p.summary() for p in frames if UDP not in p]})")
    for t in (t1, t2):
        mine = [p for p in frames if IP in p and p[IP].dst == t.peer]
        check(all(p[Ether].src == OUT_MAC and p[Ether].dst == PEER_MAC and p[IP].src == OUT_IP for p in mine),
              f"tunnel {t.tid}: Ethernet and outer addresses")
        check(all(p[UDP].sport == t.port and p[UDP].dport == t.peer_port for p in mine),
              f"tunnel {t.tid}: UDP ports {t.port} -> {t.peer_port} ({[(p[UDP].sport, p[UDP].dport) for p in mine][:3]})")
        check(all(p[UDP].len == len(p[UDP]) and p[IP].len == len(p[IP]) for p in mine), f"tunnel {t.tid}: lengths")
        check(all(p[UDP].chksum == 0 for p in mine), f"tunnel {t.tid}: UDP checksum 0 (none)")
        opened = [t.open(bytes(p[UDP].payload)) for p in mine]
        bad = [o for o in opened if isinstance(o, str)]
        check(not bad and mine, f"tunnel {t.tid}: all {len(mine)} frames pass the HMAC and padding ({bad[:3]})")
        opened = [o for o in opened if not isinstance(o, str)]
        pids = [o[0] for o in opened]
        check(pids == list(range(1, len(opened) + 1)), f"tunnel {t.tid}: packet-ids 1, 2, 3 ... in order ({pids})")
        times = {o[1] for o in opened}
        check(len(times) == 1 and abs(times.pop() - now) < 60 if times else False,
              f"tunnel {t.tid}: one packet-id time, within a minute of now")
        check(len({o[3] for o in opened}) == len(opened), f"tunnel {t.tid}: every IV differs")
        pings = [o for o in opened if o[2] == PING]
        data = [o[2] for o in opened if o[2] != PING]
        want = [forwarded(ip) for tid, ip in inside if tid == t.tid]
        check(data == want, f"tunnel {t.tid}: {len(data)} inner packets as sent, TTL - 1 "
                            f"({[(len(a), len(b)) for a, b in zip(data, want) if a != b][:3]}, {len(data)} vs {len(want)})")
        check(len(pings) == tel[t.tid]["keepalives_tx"], f"tunnel {t.tid}: {len(pings)} keepalive pings sent, "
                                                           f"telemetry {tel[t.tid]['keepalives_tx']}")
        check(tel[t.tid]["tx_packet_id"] == len(opened), f"tunnel {t.tid}: tx_packet_id {tel[t.tid]['tx_packet_id']}")
        if t.tid == 1:
            check(len(pings) >= 1, "tunnel 1 (keepalive 1 s): a ping was sent while idle")
        else:
            check(len(pings) == 0, "tunnel 2 (keepalive 0): no ping")
    check(len(frames) == sum(tel[t]["tx_packet_id"] for t in (1, 2)), f"outside output count ({len(frames)})")
    # tshark, an independent decoder: IP and UDP lengths and ports, and no malformed frame. Its
    # OpenVPN dissector knows TLS mode only (an opcode byte first), and heuristic dissectors take
    # random ciphertext for RTP/RTCP now and then: the payloads are decoded as plain data.
    as_data = ["-d", "udp.port==1194,data", "-d", "udp.port==1195,data"]
    out = subprocess.run(["tshark", "-r", out_pcap] + as_data + ["-T", "fields",
                          "-e", "ip.len", "-e", "udp.length", "-e", "udp.srcport", "-e", "udp.dstport",
                          "-e", "data.len"],
                         capture_output=True, text=True, timeout=60)
    rows = [line.split("\t") for line in out.stdout.splitlines() if line]
    lens = [(len(p[IP]), len(p[UDP]), p[UDP].sport, p[UDP].dport, len(p[UDP].payload)) for p in frames]
    check(out.returncode == 0 and [tuple(int(v or -1) for v in r[:5]) for r in rows] == lens,
          f"tshark decodes the same IP, UDP and payload lengths and ports ({out.stderr.strip()[:200]} {rows[:2]})")
    errs = subprocess.run(["tshark", "-r", out_pcap] + as_data + ["-Y", "_ws.malformed || _ws.expert.severity >= error"],
                          capture_output=True, text=True, timeout=60).stdout
    check(not errs.strip(), f"tshark finds nothing malformed ({errs[:300]})")
    # And its OpenVPN dissector claims a frame of ours on port 1194.
    proto = subprocess.run(["tshark", "-r", out_pcap, "-c", "1", "-d", "udp.port==1194,openvpn", "-T", "fields",
                            "-e", "frame.protocols"], capture_output=True, text=True, timeout=60).stdout
    check(proto.strip().endswith("udp:openvpn"), f"tshark -d udp.port==1194,openvpn: {proto.strip()}")


def verify_inside_out(in_pcap, t1, t2, outside):
    frames = rdpcap(in_pcap) if os.path.exists(in_pcap) and os.path.getsize(in_pcap) else []
    check(all(p[Ether].src == IN_MAC and p[Ether].dst == HOST_MAC for p in frames), "inside frames: MAC addresses")
    for t in (t1, t2):
        got = [bytes(p[IP]) for p in frames if IP in p and p[IP].src == t.client_ip]
        want = [forwarded(ip) for ip in outside.delivered[t.tid]]
        check(got == want, f"tunnel {t.tid}: {len(want)} packets delivered byte for byte, TTL - 1 "
                           f"(got {len(got)}, first differing: "
                           f"{next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), None)})")
    check(len(frames) == sum(len(v) for v in outside.delivered.values()), f"inside output count ({len(frames)})")


def main():
    d = tempfile.mkdtemp(prefix="dpvpn-pcap-ovpn-")
    try:
        now = int(time.time())
        t1 = Tunnel(1, "192.0.2.2", "10.99.0.2", 1194, 1194, os.urandom(256), 0, 32, "sha256")
        t2 = Tunnel(2, "192.0.2.3", "10.98.0.5", 1195, 40000, os.urandom(256), 1, 16, "sha1")
        key_file(f"{d}/one.key", t1.key)
        key_file(f"{d}/two.key", t2.key)
        outside = build_outside(t1, t2, now - 100)
        inside = build_inside(t1, t2)
        wrpcap(f"{d}/outside-in.pcap", outside.frames)
        wrpcap(f"{d}/inside-in.pcap", [Ether(src=HOST_MAC, dst=IN_MAC) / ip for _, ip in inside])
        with open(f"{d}/dpvpn.ini", "w") as f:
            f.write(ports_config(d, [t1.peer, t2.peer, "192.0.2.9"]) + CONFIG.format(d=d))
        dmn = Daemon(f"{d}/dpvpn.ini", lcores="0")
        dmn.start()
        try:
            total = len(outside.frames) + len(inside)
            dmn.wait_for(lambda: dmn.rx_total() >= total, timeout=30, what=f"{total} frames received")
            # Idle for more than tunnel 1's keepalive: it pings.
            dmn.wait_for(lambda: dmn.query("/dpvpn/tunnel,1")["keepalives_tx"] >= 1, timeout=10,
                         what="a keepalive sent")
            dmn.wait_for(lambda: dmn.query("/dpvpn/info")["mbufs_in_use"] == 0, timeout=10, what="pool idle")
            drops = dmn.query("/dpvpn/drops")
            # Read within ~0.1 s of the first ping: the next one is a second away, after the stop.
            tel = {t: dmn.query(f"/dpvpn/tunnel,{t}") for t in (1, 2)}
        finally:
            dmn.stop()

        for reason, n in sorted(drops.items()):
            check(n == outside.drops.get(reason, 0), f"drop {reason}: expected {outside.drops.get(reason, 0)}, got {n}")
        check(set(outside.drops) <= set(drops), f"every expected reason exists ({set(outside.drops) - set(drops)})")
        tr = {t: tel[t].get("drop_reasons", {}) for t in (1, 2)}
        for t, reasons in ((1, ["inner_not_ipv4", "ovpn_bad_hmac", "ovpn_bad_padding", "ovpn_malformed",
                                "ovpn_replay", "udp_truncated"]),
                           (2, ["ovpn_malformed", "ovpn_bad_hmac"])):
            want = {1: {"inner_not_ipv4": 1, "ovpn_bad_hmac": 3, "ovpn_bad_padding": 4, "ovpn_malformed": 2,
                        "ovpn_replay": 2, "udp_truncated": 2},
                    2: {"ovpn_malformed": 1, "ovpn_bad_hmac": 1}}[t]
            got = {r: tr[t].get(r, 0) for r in reasons}
            check(got == want, f"tunnel {t}: drop reasons {got}, expected {want}")
        r1, r2 = tel[1]["reorder"], tel[2]["reorder"]
        # Through tunnel 1's window: ids 1-8 of the first run and 1-3 of the second (the ping and the
        # IPv6 packet use up theirs), and two copies.
        check(r1["accepted"] == 11 and r1["duplicated"] == 2 and r1["under_window"] == 0 and r1["lost"] == 0
              and r1["buffered"] == 0 and r1["held"] == 0, f"tunnel 1 window {r1}")
        check(r2["accepted"] == 5 and r2["duplicated"] == 0 and r2["lost"] == 0, f"tunnel 2 window {r2}")
        check(tel[1]["keepalives_rx"] == 1 and tel[2]["keepalives_rx"] == 1,
              f"keepalives_rx {tel[1]['keepalives_rx']}, {tel[2]['keepalives_rx']}")
        check(tel[1]["peer_restarts"] == 1 and tel[2]["peer_restarts"] == 0,
              f"peer_restarts {tel[1]['peer_restarts']}, {tel[2]['peer_restarts']}")
        check(tel[1]["peer_time"] == now - 90 and tel[2]["peer_time"] == now - 100,
              f"peer_time {tel[1]['peer_time']}, {tel[2]['peer_time']}")
        check((tel[1]["cipher"], tel[1]["auth"], tel[1]["key_direction"], tel[2]["cipher"], tel[2]["auth"],
               tel[2]["key_direction"]) == ("AES-256-CBC", "SHA256", "0", "AES-128-CBC", "SHA1", "1"),
              "telemetry: cipher, auth and key direction of both tunnels")
        verify_inside_out(f"{d}/inside-out.pcap", t1, t2, outside)
        verify_outside_out(f"{d}/outside-out.pcap", t1, t2, inside, tel, now)
        check(dmn.returncode == 0, f"dpvpn exit code {dmn.returncode}")
        check(dmn.mbufs_in_use_after_shutdown() == 0,
              f"mbufs in use after shutdown: {dmn.mbufs_in_use_after_shutdown()}")
    finally:
        if check.failed or os.environ.get("KEEP"):
            print("artifacts kept in", d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
