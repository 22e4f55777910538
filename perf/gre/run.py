#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""GRE decapsulation and encapsulation throughput of one dpvpn worker lcore, beside the I/O ceiling.

Input: a net_pcap replay (infinite_rx) of scapy-made frames; output: net_null (no RX).
Ceiling: dpdk-testpmd io-forward over the same replay into the same sink, in the same run.
Both pay the same PMD cost (the pcap replay copies each frame into a fresh mbuf).

    perf/gre/run.py [--seconds 5] [--repeat 3] [--out perf/gre/results] [--build build]

Writes gre.json (figures + machine) and gre.png (chart).
"""
import argparse
import json
import os
import re
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

TUNNELS = 16
CONFIG = """
[dpvpn]
mbufs = 16383
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
protocol = gre
peer = 192.0.2.{peer}
key = {i}
routes = 10.{i}.0.0/16
"""


def make_pcaps(d):
    from scapy.all import GRE, IP, UDP, Ether, Raw, wrpcap
    files = {}
    for size in (64, 1400):
        pad = size - 28
        dec, enc = [], []
        for n in range(1024):
            i = 1 + n % TUNNELS
            inner = IP(src=f"10.{i}.0.{2 + n % 200}", dst="10.0.0.2") / UDP(sport=1000 + n, dport=9) / Raw(b"x" * pad)
            dec.append(Ether(src="02:00:00:00:01:02", dst="02:70:63:61:70:00") /
                       IP(src=f"192.0.2.{9 + i}", dst="192.0.2.1") / GRE(key_present=1, key=i) / inner)
            enc.append(Ether(src="02:00:00:00:02:02", dst="02:70:63:61:70:00") /
                       IP(src="10.0.0.2", dst=f"10.{i}.0.{2 + n % 200}") / UDP(sport=1000 + n, dport=9) / Raw(b"y" * pad))
        files[("decap", size)] = f"{d}/decap{size}.pcap"
        files[("encap", size)] = f"{d}/encap{size}.pcap"
        wrpcap(files[("decap", size)], dec)
        wrpcap(files[("encap", size)], enc)
    return files


def eal_mem(huge):
    return [] if huge else ["--no-huge", "-m", "1024"]


def testpmd_rate(pcap, seconds, huge, prefix, mbufs=16384):
    """Packets per second testpmd io-forwards from the pcap replay into net_null, one fwd lcore.
    mbufs: enough for the whole replay (net_pcap holds it in mbufs) plus the queues."""
    cmd = ["dpdk-testpmd", "-l", "0,1", "--no-pci", "--file-prefix", prefix, "--log-level=3",
           f"--vdev=net_pcap0,rx_pcap={pcap},infinite_rx=1", "--vdev=net_null0,no-rx=1"] + eal_mem(huge) + \
          ["--", "-i", "--forward-mode=io", f"--total-num-mbufs={mbufs}", "--nb-cores=1"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(3)
        p.stdin.write("start\n")
        p.stdin.flush()
        t0 = time.time()
        time.sleep(seconds)
        p.stdin.write("stop\n")
        p.stdin.flush()
        t1 = time.time()
        p.stdin.write("quit\n")
        p.stdin.flush()
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    m = re.search(r"Accumulated forward statistics for all ports.*?TX-packets:\s*(\d+)", out, re.S)
    if not m:
        raise RuntimeError("testpmd gave no statistics:\n" + out[-2000:])
    return int(m.group(1)) / (t1 - t0)


def dpvpn_rate(work, direction, pcap, seconds, huge):
    """Forwarded packets per second of one dpvpn worker for this replay."""
    replay = f"rx_pcap={pcap},infinite_rx=1"
    sink = "no-rx=1"
    if direction == "decap":
        body = CONFIG.format(odev="pcap", oargs=replay, idev="null", iargs=sink, neigh="static_neighbors = 192.0.2.10 02:00:00:00:01:02")
    else:
        neigh = "\n".join(f"static_neighbors = 192.0.2.{9 + i} 02:00:00:00:01:{i:02x}" for i in range(1, TUNNELS + 1))
        body = CONFIG.format(odev="null", oargs=sink, idev="pcap", iargs=replay, neigh=neigh)
    body += "".join(TUNNEL.format(i=i, peer=9 + i) for i in range(1, TUNNELS + 1))
    cfg = os.path.join(work, f"{direction}.ini")
    with open(cfg, "w") as f:
        f.write(body)
    dmn = Daemon(cfg, lcores="0,1", memory_mb=1024, huge=huge)
    dmn.start()
    try:
        key = "tx_inside" if direction == "decap" else "tx_outside"
        time.sleep(1)
        def sample():
            w = dmn.query("/dpvpn/lcores")["worker0"]
            return w[key], time.time(), w
        a, t0, _ = sample()
        time.sleep(seconds)
        b, t1, w = sample()
        drops = {k: v for k, v in dmn.query("/dpvpn/drops").items() if v}
    finally:
        dmn.stop()
    if drops:
        raise RuntimeError(f"{direction}: unexpected drops {drops}")
    return (b - a) / (t1 - t0), w["busy_percent"]


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{r['direction']} {r['inner_bytes']} B" for r in results]
    ours = [r["dpvpn_mpps"] for r in results]
    ceil = [r["ceiling_mpps"] for r in results]
    x = range(len(labels))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.bar([i - 0.2 for i in x], ceil, 0.4, label="testpmd io-forward (I/O ceiling)", color="#bbbbbb")
    ax.bar([i + 0.2 for i in x], ours, 0.4, label="dpvpn, 1 worker", color="#2a6fb0")
    for i, r in enumerate(results):
        ax.text(i + 0.2, ours[i], f"{r['ratio']:.2f}x", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels)
    ax.set_ylabel("Mpps (one lcore)")
    ax.set_title("GRE per-worker throughput vs I/O ceiling (pcap replay -> net_null)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--build", help="build directory whose dpvpn to run (default: $DPVPN_BUILD, else build)")
    ap.add_argument("--cases", default="decap64,decap1400,encap64,encap1400",
                    help="comma list of DIRECTIONSIZE to run (A/B runs of one case)")
    args = ap.parse_args()
    if args.build:
        os.environ["DPVPN_BUILD"] = os.path.abspath(args.build)
    if os.geteuid() != 0:
        sys.exit("perf/gre/run.py needs root (EAL runtime directory, hugepages)")
    huge = machine.reserve_hugepages()
    work = tempfile.mkdtemp(prefix="dpvpn-perf-gre-")
    results = []
    try:
        files = make_pcaps(work)
        for (direction, size), pcap in files.items():
            if f"{direction}{size}" not in args.cases.split(","):
                continue
            ceil, ours, busy = [], [], []
            for r in range(args.repeat):
                ceil.append(testpmd_rate(pcap, args.seconds, huge, f"perf-tp-{os.getpid()}-{r}"))
                rate, b = dpvpn_rate(work, direction, pcap, args.seconds, huge)
                ours.append(rate)
                busy.append(b)
            c, o = statistics.median(ceil), statistics.median(ours)
            res = {"direction": direction, "inner_bytes": size, "ceiling_mpps": c / 1e6, "dpvpn_mpps": o / 1e6,
                   "ratio": o / c, "dpvpn_gbps_inner": o * size * 8 / 1e9, "runs_ceiling": ceil, "runs_dpvpn": ours}
            results.append(res)
            print(f"{direction:5s} {size:4d} B: dpvpn {o / 1e6:6.2f} Mpps ({o * size * 8 / 1e9:5.2f} Gbit/s inner)"
                  f"  ceiling {c / 1e6:6.2f} Mpps  ratio {o / c:.2f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(args.out, exist_ok=True)
    doc = {"benchmark": "gre", "method": __doc__.strip().splitlines()[0], "hugepages": huge,
           "seconds": args.seconds, "repeat": args.repeat, "machine": machine.describe(),
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "results": results}
    with open(os.path.join(args.out, "gre.json"), "w") as f:
        json.dump(doc, f, indent=2)
    chart(results, os.path.join(args.out, "gre.png"))
    print("wrote", os.path.join(args.out, "gre.json"), "and gre.png")


if __name__ == "__main__":
    main()
