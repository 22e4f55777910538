#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""OpenVPN TLS-mode data channel of one lcore (P_DATA_V2, AEAD) beside its crypto ceilings and stock openvpn.

- bench_ovpn_tls (this folder, in process): the driver's openvpn_tls_ops.decap_burst / encap_burst
  on mbufs in bursts of 32, round robin over 1 or 64 sessions, beside lib/crypto's engine (the
  one the driver calls, same keys) on the same bytes, bursts of 32 and 1. Decrypt inputs are
  sealed once by OpenSSL and copied fresh into the buffers before every burst; that copy is
  measured alone and subtracted ("net"). Every decap is checked (DROP_MAX, packet-id).
- dpdk-test-crypto-perf, crypto_aesni_mb PMD, AEAD encrypt of inner-size buffers (8 bytes of AAD,
  16-byte tag), burst 32 and 1: an external check of the engine figure. Its decrypt needs a test
  vector file (tag verify), so only encrypt is run, as in run.py.
- the anchor: stock openvpn 2.6 server and client in TLS mode (certificates from
  tests/interop/openvpn/pki.sh, AES-256-GCM, userspace data channel: --disable-dco) in two network
  namespaces over a veth, iperf3 TCP through the tunnel (client -> server).

    perf/openvpn/tls.py [--build DIR] [--sizes 64 1400] [--cperf-repeat 3] [--anchor-seconds 10]
                        [--anchor-repeat 1] [--no-anchor] [--profile] [--out perf/openvpn/results]

Needs root for the anchor (namespaces, tun); bench_ovpn_tls and crypto-perf run with --no-huge.
--profile: `perf record` of bench_ovpn_tls running driver_decrypt / driver_encrypt alone
(AES-256-GCM, 64 sessions), top symbols in results/profile-tls-<case>-<size>.txt.
Writes results/openvpn_tls.json (machine, load average, every run) and results/openvpn_tls.png.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import cryptoperf  # noqa: E402
import machine  # noqa: E402
from ovpnenv import wait_log  # noqa: E402

# bench_ovpn_tls's algorithm names -> (display name, dpdk-test-crypto-perf algo, key bytes)
ALGOS = {"aes256-gcm": ("AES-256-GCM", "aes-gcm", 32),
         "aes128-gcm": ("AES-128-GCM", "aes-gcm", 16),
         "chacha20-poly1305": ("CHACHA20-POLY1305", "chacha20-poly1305", 32)}
SESSIONS = (1, 64)


def bench_binary():
    build = os.environ.get("DPVPN_BUILD", os.path.join(ROOT, "build"))
    path = os.path.join(build, "perf", "openvpn", "bench_ovpn_tls")
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} missing: ninja -C {build} perf/openvpn/bench_ovpn_tls")
    return path


def run_bench(algo, sizes, lcore):
    cmd = [bench_binary(), "-l", str(lcore), "-a", algo, "-S", ",".join(map(str, SESSIONS))] + [str(s) for s in sizes]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return cmd, [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]


def crypto_perf(algo, size, burst, ops):
    """Ops/s of dpdk-test-crypto-perf (crypto_aesni_mb): AEAD encrypt of size-byte buffers, or None."""
    _, name, key = ALGOS[algo]
    r = cryptoperf.ops_per_s(["--optype", "aead", "--aead-algo", name, "--aead-key-sz", str(key),
                              "--aead-iv-sz", "12", "--aead-aad-sz", "8", "--digest-sz", "16",
                              "--aead-op", "encrypt"], size, burst, ops, "ovtlscperf")
    if r is None:
        print(f"dpdk-test-crypto-perf {algo} {size} B burst {burst}: no result\n"
              f"{cryptoperf.ops_per_s.last_output[-600:]}", file=sys.stderr)
    return r


def openvpn_anchor(work, seconds):
    """iperf3 TCP Mbit/s through a stock openvpn 2.6 TLS server and client (AES-256-GCM, namespaces, veth)."""
    pki = os.path.join(work, "pki")
    if not os.path.exists(os.path.join(pki, "ca.crt")):
        subprocess.run(["bash", os.path.join(ROOT, "tests", "interop", "openvpn", "pki.sh"), pki], check=True,
                       capture_output=True, timeout=120)
    tag = f"{os.getpid() % 100000}"
    srv, cli = f"dvotls{tag}s", f"dvotls{tag}c"
    sh = lambda *c: subprocess.run(list(c), check=True, capture_output=True, timeout=30)  # noqa: E731
    common = ["--dev", "tun", "--proto", "udp", "--ca", f"{pki}/ca.crt", "--data-ciphers", "AES-256-GCM",
              "--disable-dco", "--verb", "3", "--daemon"]
    logs = {ns: os.path.join(work, f"openvpn-{ns}.log") for ns in (srv, cli)}
    try:
        sh("ip", "netns", "add", srv)
        sh("ip", "netns", "add", cli)
        sh("ip", "link", "add", "vots" + tag, "type", "veth", "peer", "name", "votc" + tag)
        for ns, dev, ip in ((srv, "vots" + tag, "198.18.1.1"), (cli, "votc" + tag, "198.18.1.2")):
            sh("ip", "link", "set", dev, "netns", ns)
            sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", srv, "openvpn", "--server", "10.8.0.0", "255.255.255.0", "--topology", "subnet",
           "--dh", "none", "--cert", f"{pki}/server.crt", "--key", f"{pki}/server.key", "--local", "198.18.1.1",
           "--port", "1194", "--log", logs[srv], *common)
        sh("ip", "netns", "exec", cli, "openvpn", "--client", "--nobind", "--remote", "198.18.1.1", "1194",
           "--cert", f"{pki}/client1.crt", "--key", f"{pki}/client1.key", "--remote-cert-tls", "server",
           "--log", logs[cli], *common)
        if not wait_log(logs[cli], "Initialization Sequence Completed", 30):
            raise RuntimeError("stock openvpn client did not connect:\n" + open(logs[cli]).read()[-1500:])
        cipher = [l for l in open(logs[cli]) if "Data Channel: cipher" in l or "Outgoing Data Channel" in l]
        subprocess.run(["ip", "netns", "exec", srv, "iperf3", "-s", "-D", "-B", "10.8.0.1"], check=True, timeout=10)
        time.sleep(1)
        out = subprocess.run(["ip", "netns", "exec", cli, "iperf3", "-c", "10.8.0.1", "-t", str(seconds), "-J",
                              "--connect-timeout", "5000"], capture_output=True, text=True, timeout=seconds + 30).stdout
        return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6, [l.strip() for l in cipher]
    finally:
        for ns in (srv, cli):
            for p in subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split():
                subprocess.run(["kill", "-9", p], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def profile(case, size, out_txt, lcore):
    """perf record of bench_ovpn_tls running one case alone (AES-256-GCM, 64 sessions); top symbols to out_txt."""
    data = out_txt + ".data"
    cmd = [bench_binary(), "-l", str(lcore), "-a", "aes256-gcm", "-S", "64", "-c", case, str(size)]
    rec = subprocess.run(["perf", "record", "-q", "-o", data, "--"] + cmd, capture_output=True, text=True,
                         timeout=300)
    rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--sort", "dso,symbol",
                          "--percent-limit", "0.5"], capture_output=True, text=True, timeout=120).stdout
    lines = [l.rstrip() for l in rep.splitlines() if l.strip() and not l.startswith("#")]
    with open(out_txt, "w") as f:
        f.write(f"# {' '.join(cmd)}\n# {rec.stdout.strip()}\n# cpu-clock samples (no PMU in this VM); "
                "libIPSec_MB is stripped: its kernels show under the nearest exported name\n")
        f.write("\n".join(lines[:30]) + "\n")
    os.unlink(data)


def summarize(lines, cperf):
    """One row per (algo, size, sessions, direction): driver, engine ceilings, crypto-perf, ratios."""
    by = {(l["algo"], l["inner_bytes"], l["sessions"], l["case"], l["burst"]): l for l in lines}
    rows = []
    order = lambda kv: (list(ALGOS).index(kv[0][0]), kv[0][1:])  # noqa: E731
    for (algo, size, s, case, burst), l in sorted(by.items(), key=order):
        if case not in ("driver_decrypt", "driver_encrypt"):
            continue
        d = case.split("_")[1]
        e32, e1 = by[(algo, size, s, f"engine_{d}", 32)], by[(algo, size, s, f"engine_{d}", 1)]
        net = lambda x: x.get("net_pkts_per_s", x["pkts_per_s"])  # noqa: E731
        # encrypt: the driver's net removes the mbuf reset; the engine's encrypt has nothing to remove
        row = {"cipher": l["cipher"], "algo": algo, "inner_bytes": size, "sessions": s, "direction": d,
               "driver_mpps": l["pkts_per_s"] / 1e6, "driver_net_mpps": net(l) / 1e6,
               "driver_ns": l["ns_per_pkt"], "refill_ns": l.get("refill_ns_per_pkt"),
               "engine_b32_mpps": e32["pkts_per_s"] / 1e6, "engine_b32_net_mpps": net(e32) / 1e6,
               "engine_b1_mpps": e1["pkts_per_s"] / 1e6, "engine_b1_net_mpps": net(e1) / 1e6,
               "engine_refill_ns": e32.get("refill_ns_per_pkt"),
               "ratio_engine_b32": l["pkts_per_s"] / e32["pkts_per_s"],
               "ratio_engine_b32_net": net(l) / net(e32), "ratio_engine_b1_net": net(l) / net(e1),
               "driver_overhead_ns": 1e9 / net(l) - 1e9 / net(e32),
               "driver_net_gbps_inner": net(l) * size * 8 / 1e9}
        if d == "encrypt":
            for b in (32, 1):
                v = cperf.get((algo, size, b))
                row[f"crypto_perf_b{b}_mpps"] = v / 1e6 if v else None
            row["ratio_crypto_perf_b32"] = l["pkts_per_s"] / cperf[(algo, size, 32)] \
                if cperf.get((algo, size, 32)) else None
        rows.append(row)
    return rows


def print_table(rows, arch):
    print(f"one lcore, bursts of 32, engine {arch}; Mpps (net: the harness's template copy / mbuf reset "
          "subtracted); ratio = driver / engine burst 32")
    print(f"{'cipher':17s} {'size':>4s} {'S':>2s} {'dir':7s} | {'driver':>6s} {'net':>6s} | {'eng b32':>7s} "
          f"{'net':>6s} {'eng b1':>6s} {'net':>6s} | {'cperf32':>7s} {'cperf1':>6s} | {'ratio':>5s} "
          f"{'net':>5s} {'+ns':>5s} | {'Gbit/s':>6s}")
    fmt = lambda v, w, p=2: f"{v:{w}.{p}f}" if v is not None else " " * (w - 1) + "-"  # noqa: E731
    for r in rows:
        print(f"{r['cipher']:17s} {r['inner_bytes']:4d} {r['sessions']:2d} {r['direction']:7s} | "
              f"{fmt(r['driver_mpps'], 6)} {fmt(r['driver_net_mpps'], 6)} | {fmt(r['engine_b32_mpps'], 7)} "
              f"{fmt(r['engine_b32_net_mpps'], 6)} {fmt(r['engine_b1_mpps'], 6)} {fmt(r['engine_b1_net_mpps'], 6)} | "
              f"{fmt(r.get('crypto_perf_b32_mpps'), 7)} {fmt(r.get('crypto_perf_b1_mpps'), 6)} | "
              f"{r['ratio_engine_b32']:5.2f} {r['ratio_engine_b32_net']:5.2f} {r['driver_overhead_ns']:5.1f} | "
              f"{r['driver_net_gbps_inner']:6.2f}", flush=True)


def chart(rows, anchor, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(15, 9.5))
    groups = [(d, s) for s in sorted({r["inner_bytes"] for r in rows}) for d in ("decrypt", "encrypt")]
    bars = (("driver S=1", "#9cc3e6", lambda r, q: q[1]["driver_net_mpps"] if q[1] else None),
            ("driver S=64", "#2a6fb0", lambda r, q: q[64]["driver_net_mpps"] if q[64] else None),
            ("engine burst 32", "#e0a040", lambda r, q: r["engine_b32_net_mpps"]),
            ("engine burst 1", "#f3d9a8", lambda r, q: r["engine_b1_net_mpps"]),
            ("crypto-perf aesni_mb b32", "#777777", lambda r, q: r.get("crypto_perf_b32_mpps")),
            ("crypto-perf aesni_mb b1", "#bbbbbb", lambda r, q: r.get("crypto_perf_b1_mpps")))
    w = 0.13
    for ax, algo in zip(axes.flat, ALGOS):
        x = range(len(groups))
        for k, (label, color, get) in enumerate(bars):
            vals = []
            for d, size in groups:
                q = {s: next((r for r in rows if r["algo"] == algo and r["inner_bytes"] == size and
                              r["direction"] == d and r["sessions"] == s), None) for s in SESSIONS}
                ref = q[64] or q[1]
                vals.append(get(ref, q) if ref else None)
            xs = [i + (k - 2.5) * w for i in x]
            ax.bar([a for a, v in zip(xs, vals) if v], [v for v in vals if v], w, label=label, color=color)
        for i, (d, size) in enumerate(groups):
            r = next((r for r in rows if r["algo"] == algo and r["inner_bytes"] == size and
                      r["direction"] == d and r["sessions"] == 64), None)
            if r:
                ax.text(i - 1.5 * w, r["driver_net_mpps"], f"{r['ratio_engine_b32_net']:.2f}", ha="center",
                        va="bottom", fontsize=7)
        ax.set_xticks(list(x))
        ax.set_xticklabels([f"{d} {s} B" for d, s in groups], fontsize=8)
        ax.set_ylabel("Mpps; label: driver S=64 / engine b32 (net)")
        ax.set_title(f"{ALGOS[algo][0]}, one lcore (decrypt: template copy subtracted)", fontsize=10)
        ax.legend(fontsize=7, loc="upper right")
    ax = axes.flat[3]
    big = sorted((r for r in rows if r["algo"] == "aes256-gcm" and r["inner_bytes"] == 1400),
                 key=lambda r: (r["direction"], r["sessions"]))
    labels = [f"driver {r['direction']}\nS={r['sessions']}" for r in big] + \
             [f"engine b32\n{d}" for d in ("decrypt", "encrypt")]
    vals = [r["driver_net_gbps_inner"] for r in big] + \
        [next(r["engine_b32_net_mpps"] * 1400 * 8 / 1000 for r in big if r["direction"] == d)
         for d in ("decrypt", "encrypt")]
    colors = ["#2a6fb0"] * len(big) + ["#e0a040"] * 2
    if anchor:
        labels.append("stock openvpn 2.6\nTLS, iperf3 TCP")
        vals.append(anchor / 1000)
        colors.append("#888888")
    ax.bar(labels, vals, color=colors)
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel("Gbit/s inner (1400 B packets for dpvpn)")
    ax.set_title("AES-256-GCM 1400 B: one lcore vs stock openvpn (client + server processes)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", help="build directory whose bench_ovpn_tls to run (default: $DPVPN_BUILD, else build)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 1400])
    ap.add_argument("--lcore", type=int, default=1)
    ap.add_argument("--cperf-repeat", type=int, default=3, help="dpdk-test-crypto-perf runs per point (median)")
    ap.add_argument("--anchor-seconds", type=int, default=10)
    ap.add_argument("--anchor-repeat", type=int, default=1)
    ap.add_argument("--no-anchor", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    if args.build:
        os.environ["DPVPN_BUILD"] = os.path.abspath(args.build)
    if not args.no_anchor and os.geteuid() != 0:
        sys.exit("the stock openvpn anchor needs root (namespaces, tun): run as root or with --no-anchor")
    bench_binary()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="dpvpn-perf-ovtls-")
    load = [{"at": "start", "load_1m": os.getloadavg()[0]}]
    try:
        # Per algorithm, the bench then crypto-perf right after it: on a shared machine both then
        # see about the same neighbours (the bench interleaves its own cases' runs likewise).
        cmds, lines, cperf, cperf_runs = [], [], {}, []
        for algo in ALGOS:
            cmd, got = run_bench(algo, args.sizes, args.lcore)
            cmds.append(cmd)
            lines += got
            for size in args.sizes:
                for burst, ops in ((32, 2000000 if size > 256 else 4000000), (1, 500000 if size > 256 else 1000000)):
                    runs = [crypto_perf(algo, size, burst, ops) for _ in range(args.cperf_repeat)]
                    ok = [v for v in runs if v]
                    cperf[(algo, size, burst)] = statistics.median(ok) if ok else None
                    cperf_runs.append({"algo": algo, "inner_bytes": size, "buffer_bytes": size, "burst": burst,
                                       "total_ops": ops, "ops_per_s": cperf[(algo, size, burst)], "runs": runs})
            load.append({"at": f"after {algo}", "load_1m": os.getloadavg()[0]})
        rows = summarize(lines, cperf)
        arch = lines[0]["arch"]
        print_table(rows, arch)
        for r in rows:
            # At large packets crypto-perf runs the same kernels plus a PMD's queues (at 64 B the queues
            # dominate): under half the engine there means a busy neighbour during one of the two.
            cp = r.get("crypto_perf_b32_mpps")
            if r["sessions"] == 1 and r["inner_bytes"] >= 512 and cp and cp < 0.5 * r["engine_b32_mpps"]:
                print(f"warning: crypto-perf {r['cipher']} {r['inner_bytes']} B {cp:.2f} Mpps, under half the "
                      f"engine's {r['engine_b32_mpps']:.2f}: machine busy meanwhile?", flush=True)
        anchor_runs, anchor_cipher = [], []
        if not args.no_anchor:
            for _ in range(args.anchor_repeat):
                mbps, anchor_cipher = openvpn_anchor(work, args.anchor_seconds)
                anchor_runs.append(mbps)
            load.append({"at": "after the anchor", "load_1m": os.getloadavg()[0]})
        anchor = statistics.median(anchor_runs) if anchor_runs else None
        if anchor:
            best = max(r["driver_net_gbps_inner"] for r in rows
                       if r["algo"] == "aes256-gcm" and r["inner_bytes"] == 1400)
            print(f"stock openvpn 2.6 TLS AES-256-GCM (one process each side, iperf3 TCP {args.anchor_seconds} s): "
                  f"{anchor:.0f} Mbit/s; driver 1400 B best direction {best:.2f} Gbit/s ({best * 1000 / anchor:.0f}x)")
        profiles = []
        if args.profile:
            for case in ("driver_decrypt", "driver_encrypt"):
                for size in args.sizes:
                    p = os.path.join(args.out, f"profile-tls-{case}-{size}.txt")
                    profile(case, size, p, args.lcore)
                    profiles.append(os.path.relpath(p, HERE))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc = {"benchmark": "openvpn_tls", "method": __doc__.strip().splitlines()[0],
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine.describe(), "load_average_1m": load,
           "engine_arch": arch, "bench_commands": cmds, "summary": rows, "bench": lines,
           "crypto_perf": cperf_runs, "stock_openvpn_iperf3_mbps": anchor, "runs_stock_openvpn_mbps": anchor_runs,
           "stock_openvpn_cipher_log": anchor_cipher, "anchor_seconds": args.anchor_seconds, "profiles": profiles}
    with open(os.path.join(args.out, "openvpn_tls.json"), "w") as f:
        json.dump(doc, f, indent=2)
    chart(rows, anchor, os.path.join(args.out, "openvpn_tls.png"))
    print("wrote", os.path.join(args.out, "openvpn_tls.json"), "and openvpn_tls.png")


if __name__ == "__main__":
    main()
