#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""OpenVPN data-channel throughput of one dpvpn worker lcore (static key, AES-256-CBC + HMAC-SHA256).

encrypt-and-send: plain IPv4/UDP packets (64 or 1400 B) replayed on the inside port (net_pcap
infinite_rx), routed into 4 OpenVPN tunnels, out to net_null. decrypt-and-deliver: the same tunnels'
packets, encrypted here with Python's `cryptography` (an independent encoder) with consecutive
packet-ids per tunnel, replayed on the outside port and delivered to net_null.

The replay wraps: an endless replay repeats packet-ids, which the window rightly refuses. So each
decrypt replay holds many packets (PACKETS: 16384 per tunnel at 64 B) and the tunnels run with
reorder_hold_ms = 1: at each wrap the window sees the old numbers as far behind, and after 3 of
them lasting one hold time it resyncs to the repeated numbering; what arrives meanwhile is HMAC-
checked and decrypted, then dropped (under_window / duplicated). Reported: `dpvpn_mpps`, packets
received and decrypted per second (the crypto and parsing work, delivered or not), and
`delivered_mpps`, tunnel rx_packets per second (what left the window towards the inside), with
`delivered_share`. The loss is about (hold time x rate) / replay length, i.e. an artefact of the
replay, not of the data path; a real client never repeats its numbering. Any other drop fails the run.

Ceilings from the same run, interleaved with the dpvpn runs:
- I/O: dpdk-testpmd io-forward over the same replay into net_null (perf/gre's testpmd_rate).
- crypto, same engine: bench_ovpn_crypto (this folder) drives lib/crypto's AEAD engine, the one the
  workers use, over OpenVPN packets laid out as on the wire (HMAC over IV + ciphertext, CBC over
  packet-id | time | packet | pad), encrypt and decrypt, in bursts of 32 (multi-buffer: lanes filled
  across packets, as a worker does) and one packet at a time (submit + flush per packet). The
  ratios use burst 32 of the same direction.
- crypto, external: dpdk-test-crypto-perf with the crypto_aesni_mb PMD, AES-256-CBC + SHA256-HMAC
  encrypt (cipher-then-auth) over the bytes one packet encrypts (80 and 1424), burst 32 and 1.
  Its decrypt needs a test-vector file (auth verify), so only encrypt is measured there.
- I/O + crypto: 1 / (1 / I/O ceiling + 1 / crypto ceiling), the rate if the worker did nothing but
  the replay's packet I/O and the crypto, one after the other on its one core.
The anchor: two stock openvpn 2.6 processes (same key, cipher and auth) in two network namespaces
over a veth, iperf3 TCP through them (one openvpn process per side, each single-threaded).

    perf/openvpn/run.py [--seconds 3] [--repeat 3] [--out perf/openvpn/results] [--build build]
                        [--profile]

--profile records one dpvpn run per case with `perf record -g` and writes the top of
`perf report --no-children` (by shared object and by symbol, worker thread only) to
results/profile-<direction>-<size>.txt.
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
import cryptoperf  # noqa: E402
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


def bench_binary():
    build = os.environ.get("DPVPN_BUILD", os.path.join(HERE, "..", "..", "build"))
    path = os.path.join(build, "perf", "openvpn", "bench_ovpn_crypto")
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} missing: ninja -C {build} perf/openvpn/bench_ovpn_crypto")
    return path


def engine_ceiling(size):
    """{(direction, size, burst): packets/s} of lib/crypto's engine on OpenVPN packets (bench_ovpn_crypto)."""
    out = subprocess.run([bench_binary(), str(size)], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    res = {}
    for line in out.splitlines():
        j = json.loads(line)
        res[(j["direction"], j["inner_bytes"], j["burst"])] = j["pkts_per_s"]
        res["arch"] = j["arch"]
    return res


def worker_run_ns(pid):
    """Nanoseconds the dpvpn worker thread (rte-worker-*) has been on a CPU (schedstat), or None."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if "worker" not in f.read():
                    continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                return int(f.read().split()[0])
        except OSError:
            continue
    return None


def profile(pid, seconds, sample, out_txt, work):
    """perf record -g of the running dpvpn's worker thread; writes its top shared objects and symbols
    to out_txt and returns {shared object: ns per packet}: the worker's on-CPU time in the recorded
    window (schedstat) divided by the packets it processed meanwhile, split by the share of samples.
    Time the thread spent preempted (a shared machine) is not counted; its share is printed."""
    data = os.path.join(work, "perf.data")
    n0, run0, t0 = sample()[0], worker_run_ns(pid), time.time()
    subprocess.run(["perf", "record", "-g", "-q", "-o", data, "-p", str(pid), "--", "sleep", str(seconds)],
                   capture_output=True, timeout=seconds + 60)
    n1, run1, t1 = sample()[0], worker_run_ns(pid), time.time()
    pkts = max(n1 - n0, 1)
    oncpu = (run1 - run0) / 1e9 / (t1 - t0) if run0 is not None and run1 is not None else 1.0
    ns = oncpu * (t1 - t0) * 1e9 / pkts

    def report(sort, extra=()):
        out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "-g", "none",
                              "--percent-limit", "0.3", "--sort", sort] + list(extra),
                             capture_output=True, text=True, timeout=120).stdout
        return [l.rstrip() for l in out.splitlines() if l.strip() and not l.startswith("#")]
    comms = report("comm")
    worker = next((l.split()[-1] for l in comms if "worker" in l), None)
    sel = ["--comms", worker] if worker else []
    dsos = report("dso", sel)
    per_dso = {}
    for l in dsos:
        pct, name = l.split()[0], l.split()[-1]
        per_dso[name] = round(float(pct.rstrip("%")) / 100 * ns, 1)
    parts = ["# threads (share of samples)\n" + "\n".join(comms),
             f"# {worker or 'all threads'}, by shared object: {pkts / (t1 - t0) / 1e6:.3f} Mpps while recorded, "
             f"worker on a CPU {oncpu:.0%} of the time, {ns:.0f} ns of CPU per packet in all\n" +
             "\n".join(f"{l}   {per_dso[l.split()[-1]]:7.1f} ns" for l in dsos),
             f"# {worker or 'all threads'}, by symbol (libIPSec_MB is stripped: its internal kernels show under\n"
             "# the nearest exported name, e.g. imb_aes_gmac_update_256_avx_gen4 for CBC and SHA-256)\n" +
             "\n".join(report("symbol", sel)[:40])]
    with open(out_txt, "w") as f:
        f.write("\n\n".join(parts) + "\n")
    os.unlink(data)
    return per_dso


def dpvpn_rate(work, direction, pcap, seconds, huge, key_path, profile_txt=None):
    """(processed/s, delivered/s, worker busy %, window counters, profile or None) of one dpvpn worker."""
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
        drops = {k: v for k, v in dmn.query("/dpvpn/drops").items() if v}
        prof = profile(dmn.proc.pid, seconds, sample, profile_txt, work) if profile_txt else None
    finally:
        dmn.stop()
    window = {k: v for k, v in drops.items() if k.startswith("window_")}
    other = {k: v for k, v in drops.items() if not k.startswith("window_")}
    if other or (window and direction == "encrypt"):
        raise RuntimeError(f"{direction}: unexpected drops {drops}")
    return (b - a) / (t1 - t0), (db - da) / (t1 - t0), w["busy_percent"], window, prof


def crypto_perf(size, burst, ops):
    """Ops/s of dpdk-test-crypto-perf (crypto_aesni_mb): AES-256-CBC + SHA256-HMAC encrypt of size-byte buffers."""
    r = cryptoperf.ops_per_s(["--optype", "cipher-then-auth", "--cipher-algo", "aes-cbc", "--cipher-key-sz", "32",
                              "--cipher-iv-sz", "16", "--cipher-op", "encrypt", "--auth-algo", "sha2-256-hmac",
                              "--auth-key-sz", "32", "--auth-op", "generate", "--digest-sz", "32"],
                             size, burst, ops, "ovcperf")
    if r is None:
        raise RuntimeError("no result line from dpdk-test-crypto-perf:\n" + cryptoperf.ops_per_s.last_output[-1000:])
    return r


def cipher_bytes(size):
    """The bytes CBC encrypts per packet: packet-id, time, the packet and 1-16 bytes of padding."""
    return ((size + 8) // 16 + 1) * 16


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
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 1.2]})
    labels = [f"{r['direction']} {r['inner_bytes']} B" for r in results]
    x = range(len(labels))
    ax = axes[0]
    bars = (("io_ceiling_mpps", "I/O ceiling (testpmd io-fwd)", "#bbbbbb"),
            ("crypto_ceiling_mpps", "crypto ceiling, lib/crypto burst 32", "#e0a040"),
            ("crypto_burst1_mpps", "crypto, lib/crypto 1 at a time", "#f3d9a8"),
            ("dpvpn_mpps", "dpvpn 1 worker: decrypted / encrypted", "#2a6fb0"),
            ("delivered_mpps", "dpvpn 1 worker: delivered", "#7fb2e0"))
    w = 0.16
    for k, (key, label, color) in enumerate(bars):
        xs = [i + (k - 2) * w for i in x]
        ax.bar(xs, [r[key] for r in results], w, label=label, color=color)
        if key == "dpvpn_mpps":
            for xi, r in zip(xs, results):
                ax.text(xi, r[key], f"{r['ratio_crypto']:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("Mpps (log); label: dpvpn / crypto ceiling")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title("OpenVPN static key, AES-256-CBC + HMAC-SHA256, one lcore")
    ax = axes[1]
    big = [r for r in results if r["inner_bytes"] == 1400]
    ax.bar([r["direction"] for r in big] + ["stock openvpn\n(iperf3 TCP)"],
           [r["delivered_gbps_inner"] for r in big] + [anchor / 1000],
           color=["#2a6fb0"] * len(big) + ["#888888"])
    for i, v in enumerate([r["delivered_gbps_inner"] for r in big] + [anchor / 1000]):
        ax.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("Gbit/s inner (1400 B for dpvpn)")
    ax.set_title("dpvpn worker vs stock openvpn", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--build", help="build directory whose dpvpn and bench_ovpn_crypto to run "
                                    "(default: $DPVPN_BUILD, else build)")
    ap.add_argument("--profile", action="store_true", help="perf record one dpvpn run per case")
    args = ap.parse_args()
    if args.build:
        os.environ["DPVPN_BUILD"] = os.path.abspath(args.build)
    if os.geteuid() != 0:
        sys.exit("perf/openvpn/run.py needs root")
    bench_binary()
    huge = machine.reserve_hugepages()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="dpvpn-perf-ovpn-")
    results, load = [], [os.getloadavg()[0]]
    try:
        key_path = os.path.join(work, "static.key")
        key = write_key(key_path)
        files = make_pcaps(work, key)
        engine, cperf = {s: [] for s in SIZES}, {}
        for (direction, size), pcap in sorted(files.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            io, ours, delivered, busy, windows, prof_ns = [], [], [], [], [], None
            for r in range(args.repeat):
                # the crypto ceilings interleaved with the packet runs, so all see the same neighbours
                if direction == "decrypt":
                    engine[size].append(engine_ceiling(size))
                    for burst, ops in ((32, 2000000), (1, 200000)):
                        cperf.setdefault((size, burst), []).append(crypto_perf(cipher_bytes(size), burst, ops))
                io.append(gre_run.testpmd_rate(pcap, args.seconds, huge, f"perf-ovtp-{os.getpid()}-{r}",
                                             mbufs=131072))
                prof = os.path.join(args.out, f"profile-{direction}-{size}.txt") \
                    if args.profile and r == 0 else None
                rate, dl, b, win, pr = dpvpn_rate(work, direction, pcap, args.seconds, huge, key_path, prof)
                prof_ns = pr or prof_ns
                ours.append(rate)
                delivered.append(dl)
                busy.append(b)
                windows.append(win)
            load.append(os.getloadavg()[0])
            eng = {k: statistics.median(e[(direction, size, k)] for e in engine[size]) for k in (32, 1)}
            cp = {k: statistics.median(cperf[(size, k)]) for k in (32, 1)}
            c, o, d = statistics.median(io), statistics.median(ours), statistics.median(delivered)
            res = {"direction": direction, "inner_bytes": size, "cipher_bytes": cipher_bytes(size),
                   "dpvpn_mpps": o / 1e6, "delivered_mpps": d / 1e6, "delivered_share": d / o if o else 0,
                   "dpvpn_gbps_inner": o * size * 8 / 1e9, "delivered_gbps_inner": d * size * 8 / 1e9,
                   "io_ceiling_mpps": c / 1e6, "crypto_ceiling_mpps": eng[32] / 1e6,
                   "crypto_burst1_mpps": eng[1] / 1e6,
                   "crypto_perf_encrypt_mpps": cp[32] / 1e6, "crypto_perf_encrypt_burst1_mpps": cp[1] / 1e6,
                   "ratio_io": o / c, "ratio_io_paired": statistics.median(x / y for x, y in zip(ours, io)), "ratio_crypto": o / eng[32], "ratio_crypto_burst1": o / eng[1],
                   "ratio_crypto_perf": o / cp[32],
                   "io_plus_crypto_ceiling_mpps": 1 / (1 / c + 1 / eng[32]) / 1e6,
                   "ratio_io_plus_crypto": o * (1 / c + 1 / eng[32]),
                   "busy_percent": statistics.median(busy), "runs_io": io, "runs_dpvpn": ours,
                   "runs_delivered": delivered,
                   "runs_crypto": [e[(direction, size, 32)] for e in engine[size]],
                   "runs_crypto_burst1": [e[(direction, size, 1)] for e in engine[size]],
                   "runs_crypto_perf": cperf[(size, 32)], "runs_crypto_perf_burst1": cperf[(size, 1)],
                   "window_drops_last_run": windows[-1], "profile_ns_per_packet_by_dso": prof_ns}
            results.append(res)
        print(f"one worker lcore, {TUNNELS} tunnels, AES-256-CBC + HMAC-SHA256, median of {args.repeat} x "
              f"{args.seconds:g} s; engine arch {engine[SIZES[0]][-1]['arch']}")
        hdr = (f"{'case':13s} {'dpvpn Mpps':>10s} {'Gbit/s':>7s} {'deliv Mpps':>10s} {'share':>5s} | "
               f"{'I/O ceil':>8s} {'ratio':>5s} | {'crypto b32':>10s} {'ratio':>5s} | {'crypto b1':>9s} "
               f"{'ratio':>5s} | {'cperf b32':>9s} {'cperf b1':>8s} | {'I/O+crypto':>10s} {'ratio':>5s}")
        print(hdr)
        for r in results:
            print(f"{r['direction'] + ' ' + str(r['inner_bytes']) + ' B':13s} {r['dpvpn_mpps']:10.3f} "
                  f"{r['dpvpn_gbps_inner']:7.2f} {r['delivered_mpps']:10.3f} {r['delivered_share']:5.2f} | "
                  f"{r['io_ceiling_mpps']:8.2f} {r['ratio_io']:5.2f} | {r['crypto_ceiling_mpps']:10.3f} "
                  f"{r['ratio_crypto']:5.2f} | {r['crypto_burst1_mpps']:9.3f} {r['ratio_crypto_burst1']:5.2f} | "
                  f"{r['crypto_perf_encrypt_mpps']:9.3f} {r['crypto_perf_encrypt_burst1_mpps']:8.3f} | "
                  f"{r['io_plus_crypto_ceiling_mpps']:10.3f} {r['ratio_io_plus_crypto']:5.2f}",
                  flush=True)
        anchor_runs = [openvpn_anchor(work, key_path, max(3, int(args.seconds))) for _ in range(args.repeat)]
        anchor = statistics.median(anchor_runs)
        load.append(os.getloadavg()[0])
        best = max(r["delivered_gbps_inner"] for r in results if r["inner_bytes"] == 1400)
        print(f"stock openvpn 2.6 (one process each side, iperf3 TCP): {anchor:.0f} Mbit/s; "
              f"dpvpn 1400 B delivered, best direction: {best * 1000:.0f} Mbit/s inner ({best * 1000 / anchor:.0f}x)",
              flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc = {"benchmark": "openvpn", "method": __doc__.strip().splitlines()[0], "hugepages": huge,
           "seconds": args.seconds, "repeat": args.repeat, "packets_per_replay": PACKETS, "tunnels": TUNNELS,
           "machine": machine.describe(), "load_average_1m": load, "engine_arch": engine[SIZES[0]][-1]["arch"],
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "results": results,
           "stock_openvpn_iperf3_mbps": anchor, "runs_stock_openvpn_mbps": anchor_runs}
    with open(os.path.join(args.out, "openvpn.json"), "w") as f:
        json.dump(doc, f, indent=2)
    chart(results, anchor, os.path.join(args.out, "openvpn.png"))
    print("wrote", os.path.join(args.out, "openvpn.json"), "and openvpn.png")


if __name__ == "__main__":
    main()
