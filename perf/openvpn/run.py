#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""OpenVPN data-channel throughput of one dpvpn worker lcore (static key, AES-256-CBC + HMAC-SHA256).

encrypt-and-send: plain IPv4/UDP packets replayed on the inside port (net_pcap infinite_rx) into 4
OpenVPN tunnels, out to net_null. decrypt-and-deliver: the same tunnels' packets, encrypted here
with Python's `cryptography` (an independent encoder) with consecutive packet-ids per tunnel,
replayed on the outside port and delivered to net_null. An endless replay repeats packet-ids,
which the window rightly refuses, so each replay holds many packets (PACKETS) and the tunnels run with
reorder_hold_ms = 1: at each wrap the window resyncs to the repeated numbering within about a
millisecond. Reported: packets decrypted per second (every packet is HMAC-checked and decrypted,
delivered or not) and packets delivered per second, with the delivered share.

Ceilings from the same run: the I/O ceiling (dpdk-testpmd io-forward over the same replay into
net_null) and the crypto ceiling (dpdk-test-crypto-perf, crypto_aesni_mb, AES-256-CBC +
SHA256-HMAC encrypt of the bytes a packet of that size encrypts, 80 and 1424, burst 32). The anchor: two stock openvpn 2.6
processes (same key, cipher and auth) in two namespaces over a veth, iperf3 TCP through them.

    perf/openvpn/run.py [--seconds 3] [--repeat 3] [--out perf/openvpn/results] [--build build]
"""
import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from dpvpn_harness import Daemon  # noqa: E402
import machine  # noqa: E402

_spec = importlib.util.spec_from_file_location("gre_run", os.path.join(HERE, "..", "gre", "run.py"))
gre_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gre_run)

TUNNELS = 4
# Packets per replay: the longer, the rarer the wrap (each costs about a millisecond of traffic).
PACKETS = {64: 65536, 1400: 16384}
SIZES = (64, 1400)
CONFIG = """
[dpvpn]
mbufs = 131071
[outside]
device = net_{odev}0
devargs = {oargs}
address = 192.0.2.1/24
{neigh}
[inside]
device = net_{idev}1
devargs = {iargs}
address = 10.0.0.1/24
static_neighbors = 10.0.0.2 02:00:00:00:02:02
"""
TUNNEL = """
[tunnel {i}]
protocol = openvpn
peer = 192.0.2.{peer}
secret = {key}
key_direction = 0
reorder_hold_ms = 1
keepalive = 0
routes = 10.{i}.0.0/16
"""


def write_key(path):
    subprocess.run(["openvpn", "--genkey", "secret", path], check=True, capture_output=True)
    hexs = "".join(l.strip() for l in open(path) if l.strip() and not l.startswith(("#", "-----")))
    return bytes.fromhex(hexs)


def make_pcaps(d, key):
    import hashlib
    import hmac
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from scapy.all import IP, UDP, Ether, Raw, wrpcap
    # The client (key direction 1) sends with key 1: cipher at 128, HMAC at 192.
    ck, hk = key[128:160], key[192:224]
    files = {}
    for size in SIZES:
        pad = size - 28
        dec, enc = [], []
        pid = [0] * (TUNNELS + 1)
        for n in range(PACKETS[size]):
            i = 1 + n % TUNNELS
            inner = bytes(IP(src=f"10.{i}.0.{2 + n % 200}", dst="10.0.0.2") / UDP(sport=1000 + n % 1000, dport=9) /
                          Raw(b"x" * pad))
            pid[i] += 1
            plain = pid[i].to_bytes(4, "big") + (1790000000).to_bytes(4, "big") + inner
            p = 16 - len(plain) % 16
            plain += bytes([p]) * p
            iv = os.urandom(16)
            ct = Cipher(algorithms.AES(ck), modes.CBC(iv)).encryptor().update(plain)
            payload = hmac.new(hk, iv + ct, hashlib.sha256).digest() + iv + ct
            dec.append(Ether(src="02:00:00:00:01:02", dst="02:70:63:61:70:00") /
                       IP(src=f"192.0.2.{9 + i}", dst="192.0.2.1") / UDP(sport=1194, dport=1194, chksum=0) /
                       Raw(payload))
            if n < 1024:
                enc.append(Ether(src="02:00:00:00:02:02", dst="02:70:63:61:70:00") /
                           IP(src="10.0.0.2", dst=f"10.{i}.0.{2 + n % 200}") / UDP(sport=1000 + n, dport=9) /
                           Raw(b"y" * pad))
        files[("decrypt", size)] = f"{d}/decrypt{size}.pcap"
        files[("encrypt", size)] = f"{d}/encrypt{size}.pcap"
        wrpcap(files[("decrypt", size)], dec)
        wrpcap(files[("encrypt", size)], enc)
    return files


def dpvpn_rate(work, direction, pcap, seconds, huge, key_path):
    """(processed/s, delivered/s, worker busy %) of one dpvpn worker for this replay."""
    replay = f"rx_pcap={pcap},infinite_rx=1"
    sink = "no-rx=1"
    if direction == "decrypt":
        body = CONFIG.format(odev="pcap", oargs=replay, idev="null", iargs=sink,
                             neigh="static_neighbors = 192.0.2.10 02:00:00:00:01:02")
    else:
        neigh = "\n".join(f"static_neighbors = 192.0.2.{9 + i} 02:00:00:00:01:{i:02x}" for i in range(1, TUNNELS + 1))
        body = CONFIG.format(odev="null", oargs=sink, idev="pcap", iargs=replay, neigh=neigh)
    body += "".join(TUNNEL.format(i=i, peer=9 + i, key=key_path) for i in range(1, TUNNELS + 1))
    cfg = os.path.join(work, f"{direction}.ini")
    with open(cfg, "w") as f:
        f.write(body)
    dmn = Daemon(cfg, lcores="0,1", memory_mb=2048, huge=huge)
    dmn.start(timeout=60)
    try:
        time.sleep(1)

        def sample():
            w = dmn.query("/dpvpn/lcores")["worker0"]
            rx = sum(dmn.query(f"/dpvpn/tunnel,{i}")["rx_packets"] for i in range(1, TUNNELS + 1))
            return (w["rx_outside"] if direction == "decrypt" else w["rx_inside"]), \
                   (rx if direction == "decrypt" else w["tx_outside"]), time.time(), w
        a, da, t0, _ = sample()
        time.sleep(seconds)
        b, db, t1, w = sample()
    finally:
        dmn.stop()
    return (b - a) / (t1 - t0), (db - da) / (t1 - t0), w["busy_percent"]


def crypto_ceiling(size, ops=2000000):
    """Bytes/s of AES-256-CBC + SHA256-HMAC encrypt over size-byte buffers (dpdk-test-crypto-perf)."""
    cmd = ["dpdk-test-crypto-perf", "-l", "0,1", "--no-huge", "-m", "1024", "--no-pci",
           "--file-prefix", f"ovcperf{os.getpid()}", "--log-level", "error",
           "--vdev", "crypto_aesni_mb0", "--", "--devtype", "crypto_aesni_mb",
           "--optype", "cipher-then-auth", "--cipher-algo", "aes-cbc", "--cipher-key-sz", "32",
           "--cipher-iv-sz", "16", "--cipher-op", "encrypt", "--auth-algo", "sha2-256-hmac",
           "--auth-key-sz", "32", "--auth-op", "generate", "--digest-sz", "32",
           "--ptest", "throughput", "--buffer-sz", str(size), "--total-ops", str(ops),
           "--burst-sz", "32", "--silent", "--csv-friendly"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300).stdout
    for line in out.splitlines():
        f = line.split(",")
        if len(f) >= 10 and f[0].strip().isdigit():
            return float(f[7]) * 1e6   # MOps/s -> ops/s
    raise RuntimeError("no result line from dpdk-test-crypto-perf:\n" + out[-1000:])


def openvpn_anchor(work, key_path, seconds):
    """iperf3 TCP Mbit/s through two stock openvpn processes (namespaces over a veth)."""
    tag = f"{os.getpid() % 100000}"
    a, b = f"dvova{tag}", f"dvovb{tag}"
    sh = lambda *c: subprocess.run(list(c), check=True, capture_output=True, timeout=30)  # noqa: E731
    pids = []
    try:
        sh("ip", "netns", "add", a)
        sh("ip", "netns", "add", b)
        sh("ip", "link", "add", "va" + tag, "type", "veth", "peer", "name", "vb" + tag)
        sh("ip", "link", "set", "va" + tag, "netns", a)
        sh("ip", "link", "set", "vb" + tag, "netns", b)
        for ns, dev, ip in ((a, "va" + tag, "198.18.0.1"), (b, "vb" + tag, "198.18.0.2")):
            sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        for ns, d, loc, rem, tl, tr in ((a, "0", "198.18.0.1", "198.18.0.2", "10.250.0.1", "10.250.0.2"),
                                        (b, "1", "198.18.0.2", "198.18.0.1", "10.250.0.2", "10.250.0.1")):
            pidf = os.path.join(work, f"ovpn-{ns}.pid")
            sh("ip", "netns", "exec", ns, "openvpn", "--dev", "tun", "--ifconfig", tl, tr, "--secret", key_path, d,
               "--cipher", "AES-256-CBC", "--auth", "SHA256", "--local", loc, "--remote", rem,
               "--daemon", "--writepid", pidf, "--log", os.path.join(work, f"ovpn-{ns}.log"))
            pids.append(pidf)
        subprocess.run(["ip", "netns", "exec", b, "iperf3", "-s", "-D"], check=True, timeout=10)
        time.sleep(3)
        out = subprocess.run(["ip", "netns", "exec", a, "iperf3", "-c", "10.250.0.2", "-t", str(seconds), "-J",
                              "--connect-timeout", "5000"], capture_output=True, text=True, timeout=seconds + 30).stdout
        return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6
    finally:
        for ns in (a, b):
            for p in subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split():
                subprocess.run(["kill", "-9", p], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def chart(results, anchor, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    labels = [f"{r['direction']} {r['inner_bytes']} B" for r in results]
    x = range(len(labels))
    ax = axes[0]
    ax.bar([i - 0.27 for i in x], [r["io_ceiling_mpps"] for r in results], 0.27, label="I/O ceiling (testpmd)",
           color="#bbbbbb")
    ax.bar(list(x), [r["crypto_ceiling_mpps"] for r in results], 0.27, label="crypto ceiling (crypto-perf)",
           color="#e0a040")
    ax.bar([i + 0.27 for i in x], [r["dpvpn_mpps"] for r in results], 0.27, label="dpvpn, 1 worker", color="#2a6fb0")
    ax.set_yscale("log")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("Mpps (log)")
    ax.legend(fontsize=8)
    ax.set_title("OpenVPN static key AES-256-CBC + HMAC-SHA256")
    ax = axes[1]
    big = [r for r in results if r["inner_bytes"] == 1400]
    ax.bar([r["direction"] for r in big] + ["stock openvpn\n(iperf3 TCP)"],
           [r["dpvpn_gbps_inner"] * 1000 for r in big] + [anchor], color=["#2a6fb0"] * len(big) + ["#888888"])
    ax.set_ylabel("Mbit/s inner, 1400 B")
    ax.set_title("one dpvpn worker vs one stock openvpn process")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--build", help="build directory whose dpvpn to run (default: $DPVPN_BUILD, else build)")
    args = ap.parse_args()
    if args.build:
        os.environ["DPVPN_BUILD"] = os.path.abspath(args.build)
    if os.geteuid() != 0:
        sys.exit("perf/openvpn/run.py needs root")
    huge = machine.reserve_hugepages()
    work = tempfile.mkdtemp(prefix="dpvpn-perf-ovpn-")
    results = []
    try:
        key_path = os.path.join(work, "static.key")
        key = write_key(key_path)
        files = make_pcaps(work, key)
        # The bytes CBC encrypts per packet: packet-id, time, the packet and 1-16 bytes of padding.
        crypto = {s: statistics.median(crypto_ceiling(((s + 8) // 16 + 1) * 16) for _ in range(args.repeat))
                  for s in SIZES}
        for (direction, size), pcap in files.items():
            io, ours, delivered, busy = [], [], [], []
            for r in range(args.repeat):
                io.append(gre_run.testpmd_rate(pcap, args.seconds, huge, f"perf-ovtp-{os.getpid()}-{r}",
                                             mbufs=131072))
                rate, dl, b = dpvpn_rate(work, direction, pcap, args.seconds, huge, key_path)
                ours.append(rate)
                delivered.append(dl)
                busy.append(b)
            c, o, d = statistics.median(io), statistics.median(ours), statistics.median(delivered)
            res = {"direction": direction, "inner_bytes": size, "io_ceiling_mpps": c / 1e6,
                   "crypto_ceiling_mpps": crypto[size] / 1e6, "dpvpn_mpps": o / 1e6,
                   "delivered_mpps": d / 1e6, "delivered_share": d / o if o else 0,
                   "ratio_io": o / c, "ratio_crypto": o / crypto[size], "dpvpn_gbps_inner": d * size * 8 / 1e9,
                   "busy_percent": statistics.median(busy), "runs_io": io, "runs_dpvpn": ours,
                   "runs_delivered": delivered}
            results.append(res)
            print(f"{direction:7s} {size:4d} B: dpvpn {o / 1e6:6.3f} Mpps (delivered {d / 1e6:6.3f}, "
                  f"{d * size * 8 / 1e9:5.2f} Gbit/s inner)  I/O ceiling {c / 1e6:6.2f} Mpps ({o / c:.2f})  "
                  f"crypto ceiling {crypto[size] / 1e6:6.3f} Mpps ({o / crypto[size]:.2f})", flush=True)
        anchor = statistics.median(openvpn_anchor(work, key_path, max(3, int(args.seconds)))
                                   for _ in range(args.repeat))
        print(f"stock openvpn 2.6 (one process each side, iperf3 TCP): {anchor:.0f} Mbit/s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(args.out, exist_ok=True)
    doc = {"benchmark": "openvpn", "method": __doc__.strip().splitlines()[0], "hugepages": huge,
           "seconds": args.seconds, "repeat": args.repeat, "packets_per_replay": PACKETS, "tunnels": TUNNELS,
           "machine": machine.describe(), "date": time.strftime("%Y-%m-%d %H:%M:%S"), "results": results,
           "stock_openvpn_iperf3_mbps": anchor}
    with open(os.path.join(args.out, "openvpn.json"), "w") as f:
        json.dump(doc, f, indent=2)
    chart(results, anchor, os.path.join(args.out, "openvpn.png"))
    print("wrote", os.path.join(args.out, "openvpn.json"), "and openvpn.png")


if __name__ == "__main__":
    main()
