#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""PPTP data path (GRE v1 + MPPE-128) of one worker lcore, in process, beside its ARC4/MPPE and memif I/O ceilings.

    perf/pptp/run.py [--repeat 3] [--runs 7] [--ms 100] [--seconds 3] [--build DIR] [--out perf/pptp/results]
                     [--profile] [--no-memif]

bench_pptp (this folder) drives the driver functions a worker calls (pptp_ops classify, decap,
rx_post, encap_burst, with the tunnel table lookups and the reorder window) on rte_mbufs, with
sessions set up as drivers/pptp does when CCP opens MPPE, for MPPE-128 stateless and stateful,
64 and 1400 B inner packets, 1 and 64 sessions round-robin in bursts of 32. decrypt-and-deliver
takes frames made by a client-side MPPE sender with consecutive GRE sequence numbers; both
directions are verified packet by packet before and after the timed runs (the binary exits 1
otherwise). The same process measures the ceilings: lib/crypto's arc4_crypt_burst over the bytes
MPPE encrypts, mppe_encrypt_burst / mppe_decrypt_burst alone (adding stateless MPPE's per-packet
re-key), and the mbuf alloc + copy + free the bench does in place of NIC I/O.

I/O ceiling: dpdk-testpmd io-forward over a net_memif pair (two processes: one testpmd txonly as
the memif server, one io-forwarding from the memif client port into net_null), frames of the
outer size (inner + 58 B), measured by this script in the same run, interleaved with the bench;
packets per second of the forwarding lcore's CPU time (schedstat), wall-clock rate beside it.
The dpvpn figures are NOT end-to-end over memif: a PPTP session needs the TCP 1723 control
connection and PPP negotiation, which a memif peer cannot provide (README.md says what would).
`e2e_estimate` combines the two: 1 / (1/io + 1/dpvpn - 1/harness).

Rates are packets per second of the bench thread's CPU time (time other processes of this shared
machine took the CPU is not counted; `on_cpu_*` shows how much that was). Every figure is the median
of --repeat processes, each the median of --runs runs of --ms ms; inside a process the data path and
the ceilings take turns run by run, and the ratios to them are medians of run-by-run ratios.
Writes results/pptp.json and results/pptp.png; with --profile also results/profile-*.txt
(perf record of the bench in one case and direction, --seconds long).
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
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import machine  # noqa: E402

SIZES = (64, 1400)
OUTER = 58          # Ethernet 14 + IPv4 20 + GRE v1 16 + PPP 4 + MPPE 2 + PPP protocol 2
# The seed figure, for context only (not measured here).
KERNEL_MBPS = 350
KERNEL_NOTE = ("accel-ppp/pppd on the Linux kernel data path with MPPE: about 350 Mbit/s on an "
               "E3-1230 VM (the issue's published figure; not measured here)")
PROFILE_CASES = (("decrypt", "stateful:1400:64"), ("decrypt", "stateless:64:64"),
                 ("encrypt", "stateless:64:64"), ("encrypt", "stateful:1400:64"))


def bench_binary():
    build = os.environ.get("DPVPN_BUILD", os.path.join(ROOT, "build"))
    path = os.path.join(build, "perf", "pptp", "bench_pptp")
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} missing: ninja -C {build} perf/pptp/bench_pptp")
    return path


def cpu_busy(interval=0.3):
    """Fraction of all CPUs busy over interval (/proc/stat)."""
    def snap():
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return f[3] + f[4], sum(f)
    i0, t0 = snap()
    time.sleep(interval)
    i1, t1 = snap()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


CONTENDED = []


def wait_quiet(max_wait=30.0, busy_max=0.3):
    """The machine is shared: wait (up to max_wait s) for other processes to leave the CPUs mostly idle
    before a measurement; log when they did not."""
    t_end = time.time() + max_wait
    while time.time() < t_end:
        b = cpu_busy()
        if b < busy_max:
            return b
        time.sleep(1.0)
    CONTENDED.append(time.strftime("%H:%M:%S"))
    return b


def run_bench(args):
    """{(mode, size, sessions): result dict} of one bench_pptp process (all cases)."""
    cmd = [bench_binary(), "-r", str(args.runs), "-t", str(args.ms), "-l", "1"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError(f"bench_pptp failed ({p.returncode}):\n{p.stderr[-2000:]}")
    res = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            j = json.loads(line)
            if not j.get("verified"):
                raise RuntimeError("bench_pptp: a case was not verified: " + line)
            res[(j["mode"], j["inner_bytes"], j["sessions"])] = j
    if len(res) != 8:
        raise RuntimeError("bench_pptp printed %d cases:\n%s" % (len(res), p.stdout))
    return res


class Testpmd:
    """An interactive dpdk-testpmd whose output is read as it comes (stdbuf: stdout is a pipe)."""

    def __init__(self, args):
        self.p = subprocess.Popen(["stdbuf", "-o0", "dpdk-testpmd"] + args, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buf = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.p.stdout.fileno()
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            self.buf.append(b.decode(errors="replace"))

    def text(self):
        return "".join(self.buf)

    def cmd(self, c):
        self.p.stdin.write((c + "\n").encode())
        self.p.stdin.flush()

    def wait_for(self, pattern, start, timeout):
        t_end = time.time() + timeout
        while time.time() < t_end:
            m = re.search(pattern, self.text()[start:], re.S)
            if m:
                return m
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        return None

    def ask(self, c, pattern, timeout=10):
        n = len(self.text())
        self.cmd(c)
        return self.wait_for(pattern, n, timeout)

    def link_up(self, port, timeout=30):
        t_end = time.time() + timeout
        while time.time() < t_end:
            m = self.ask(f"show port info {port}", r"Link status:\s*(\w+)")
            if m and m.group(1) == "up":
                return True
            time.sleep(0.3)
        return False

    def close(self):
        try:
            self.cmd("quit")
            self.p.wait(timeout=20)
        except (OSError, subprocess.SubprocessError):
            pass
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def lcore_cpu_ns(pid):
    """Nanoseconds testpmd's forwarding thread (rte-worker-*) has been on a CPU (schedstat), or None."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if not f.read().startswith(("rte-worker", "lcore-worker")):
                    continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                return int(f.read().split()[0])
        except OSError:
            continue
    return None


def memif_rate(frame, seconds, tag):
    """(packets per second of wall time, per second of the forwarding lcore's CPU time) testpmd
    io-forwards from a net_memif client port into net_null, fed by a second testpmd (txonly, the memif
    server) with frames of `frame` bytes. Each forwarding lcore on its own CPU."""
    sock = os.path.join(tempfile.gettempdir(), f"dpvpn-pptp-memif-{tag}.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    common = ["--no-pci", "--no-huge", "-m", "1024", "--log-level=3"]
    gen = Testpmd(["-l", "0,1", "--file-prefix", f"pptp-memif-gen-{tag}"] + common +
                  [f"--vdev=net_memif0,role=server,socket={sock},socket-abstract=no", "--", "-i",
                   "--forward-mode=txonly", f"--txpkts={frame}", "--nb-cores=1", "--total-num-mbufs=16384"])
    fwd = None
    try:
        if not gen.wait_for(r"testpmd> ", 0, 60):
            raise RuntimeError("memif generator testpmd did not start:\n" + gen.text()[-2000:])
        fwd = Testpmd(["-l", "0,1", "--main-lcore", "1", "--file-prefix", f"pptp-memif-fwd-{tag}"] + common +
                      [f"--vdev=net_memif0,role=client,socket={sock},socket-abstract=no", "--vdev=net_null0,no-rx=1",
                       "--", "-i", "--forward-mode=io", "--nb-cores=1", "--total-num-mbufs=16384"])
        if not fwd.wait_for(r"testpmd> ", 0, 60):
            raise RuntimeError("memif forwarder testpmd did not start:\n" + fwd.text()[-2000:])
        # Forwarding starts only once both ends see the link: memif's handshake runs on the
        # interrupt thread, which busy forwarding lcores would starve on a 2-CPU machine.
        if not (gen.link_up(0) and fwd.link_up(0)):
            raise RuntimeError("net_memif link stayed down")
        fwd.cmd("start")
        gen.cmd("start")
        time.sleep(1)
        stat = r"NIC statistics for port 1.*?TX-packets:\s*(\d+)"
        m0, t0, c0 = fwd.ask("show port stats 1", stat), time.time(), lcore_cpu_ns(fwd.p.pid)
        time.sleep(seconds)
        m1, t1, c1 = fwd.ask("show port stats 1", stat), time.time(), lcore_cpu_ns(fwd.p.pid)
        fwd.cmd("stop")
        gen.cmd("stop")
        if not m0 or not m1:
            raise RuntimeError("no port statistics from the memif forwarder:\n" + fwd.text()[-2000:])
        pkts = int(m1.group(1)) - int(m0.group(1))
        return pkts / (t1 - t0), (pkts / ((c1 - c0) / 1e9) if c0 is not None and c1 is not None else None)
    finally:
        if fwd:
            fwd.close()
        gen.close()
        if os.path.exists(sock):
            os.unlink(sock)


def profile(case, direction, seconds, out_txt, work):
    """perf record -g of bench_pptp running one case and direction; writes the top symbols and objects."""
    data = os.path.join(work, "perf.data")
    ctl, ack = os.path.join(work, "perf-ctl"), os.path.join(work, "perf-ack")
    for f in (ctl, ack):
        if not os.path.exists(f):
            os.mkfifo(f)
    # Events start disabled; the bench enables them around its timed rounds only.
    cmd = ["perf", "record", "-g", "-q", "-D", "-1", "--control", f"fifo:{ctl},{ack}", "-o", data, "--",
           bench_binary(), "-l", "1", "-p", direction, "-s", str(seconds), "-c", case]
    env = dict(os.environ, BENCH_PPTP_PERF_CTL=ctl, BENCH_PPTP_PERF_ACK=ack)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"perf record failed: {p.stderr[-1500:]}")

    def report(sort):
        out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "-g", "none",
                              "--percent-limit", "0.5", "--sort", sort], capture_output=True, text=True,
                             timeout=300).stdout
        return [l.rstrip() for l in out.splitlines() if l.strip() and not l.startswith("#")]
    syms = report("symbol")
    parts = [f"# bench_pptp -p {direction} -s {seconds} -c {case}: {p.stdout.strip()}",
             "# by shared object\n" + "\n".join(report("dso")),
             "# by symbol (self time; LTO inlines the drivers' static functions into their callers)\n" +
             "\n".join(syms[:30])]
    with open(out_txt, "w") as f:
        f.write("\n\n".join(parts) + "\n")
    os.unlink(data)
    top = []
    for l in syms[:8]:
        m = re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(\S+)", l)
        if m:
            top.append([m.group(2), float(m.group(1))])
    return top


def chart(results, io, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2), gridspec_kw={"width_ratios": [3, 1.3]})
    ax = axes[0]
    labels = [f"{r['mode']}\n{r['inner_bytes']} B, {r['sessions']} sess" for r in results]
    x = range(len(results))
    bars = (("io_ceiling_mpps", "I/O ceiling: testpmd io-fwd over memif", "#bbbbbb"),
            ("arc4_ceiling_mpps", "ARC4 ceiling (arc4_crypt_burst)", "#f3d9a8"),
            ("mppe_decrypt_ceiling_mpps", "mppe_decrypt_burst alone", "#e0a040"),
            ("decrypt_mpps", "dpvpn decrypt-and-deliver", "#2a6fb0"),
            ("mppe_encrypt_ceiling_mpps", "mppe_encrypt_burst alone", "#c07020"),
            ("encrypt_mpps", "dpvpn encrypt-and-send", "#7fb2e0"))
    w = 0.13
    for k, (key, label, color) in enumerate(bars):
        xs = [i + (k - 2.5) * w for i in x]
        ax.bar(xs, [r[key] for r in results], w, label=label, color=color)
        if key in ("decrypt_mpps", "encrypt_mpps"):
            ratio = "ratio_decrypt_mppe" if key == "decrypt_mpps" else "ratio_encrypt_mppe"
            for xi, r in zip(xs, results):
                ax.text(xi, r[key], f"{r[ratio]:.2f}", ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_yscale("log")
    top = max(max(r[k] for k, _, _ in bars) for r in results)
    ax.set_ylim(top=top * 6)
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("Mpps, one lcore (log); label: dpvpn / MPPE-alone ceiling")
    ax.legend(fontsize=7, loc="upper center", ncol=3)
    ax.set_title("PPTP data path in process (MPPE-128, bursts of 32) vs its ceilings", fontsize=10)
    ax = axes[1]
    big = [r for r in results if r["inner_bytes"] == 1400]
    names, vals, colors = [], [], []
    for r in big:
        for d, c in (("decrypt", "#2a6fb0"), ("encrypt", "#7fb2e0")):
            names.append(f"{d}\n{r['mode']}\n{r['sessions']} sess")
            vals.append(r[f"{d}_mbps_inner"])
            colors.append(c)
    names.append("kernel\n(published)")
    vals.append(KERNEL_MBPS)
    colors.append("#888888")
    bl = ax.bar(range(len(vals)), vals, color=colors)
    bl[-1].set_hatch("//")
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(vals)))
    ax.set_xticklabels(names, fontsize=6)
    ax.set_ylabel("Mbit/s inner, 1400 B")
    ax.set_title("1400 B: dpvpn in process vs the kernel's\npublished figure (E3-1230 VM, not measured)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="bench processes and memif runs (median)")
    ap.add_argument("--runs", type=int, default=7, help="timed runs inside each bench process (median)")
    ap.add_argument("--ms", type=float, default=100, help="timed milliseconds per run")
    ap.add_argument("--seconds", type=float, default=3, help="memif measurement and profile length")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--build", help="build directory with perf/pptp/bench_pptp (default: $DPVPN_BUILD, else build)")
    ap.add_argument("--profile", action="store_true", help="perf record the bench in a few cases")
    ap.add_argument("--no-memif", action="store_true", help="skip the testpmd memif I/O ceiling")
    args = ap.parse_args()
    if args.build:
        os.environ["DPVPN_BUILD"] = os.path.abspath(args.build)
    if os.geteuid() != 0:
        sys.exit("perf/pptp/run.py needs root (EAL)")
    bench_binary()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="dpvpn-perf-pptp-")
    runs, io_runs, io_wall, busy, load = [], {s: [] for s in SIZES}, {s: [] for s in SIZES}, [], \
        [os.getloadavg()[0]]
    profiles = {}
    try:
        for r in range(args.repeat):
            busy.append(round(wait_quiet(), 2))
            runs.append(run_bench(args))
            load.append(os.getloadavg()[0])
            if not args.no_memif:
                for s in SIZES:
                    busy.append(round(wait_quiet(), 2))
                    wall, cpu = memif_rate(s + OUTER, args.seconds, f"{os.getpid()}-{r}-{s}")
                    io_wall[s].append(wall)
                    # Per second of the forwarding lcore's CPU time, as the bench counts its own.
                    io_runs[s].append(cpu if cpu is not None else wall)
            print(f"round {r + 1}/{args.repeat} done (load {os.getloadavg()[0]:.1f})", flush=True)
        if args.profile:
            for direction, case in PROFILE_CASES:
                wait_quiet()
                name = f"profile-{direction}-{case.replace(':', '-')}.txt"
                profiles[f"{direction} {case}"] = profile(case, direction, args.seconds,
                                                          os.path.join(args.out, name), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load.append(os.getloadavg()[0])

    results = []
    for key in sorted(runs[0], key=lambda k: (k[0] != "stateless", k[1], k[2])):
        mode, size, sess = key
        med = lambda f: statistics.median(run[key][f] for run in runs)  # noqa: E731
        dec, enc = med("decrypt_pps"), med("encrypt_pps")
        io = statistics.median(io_runs[size]) if io_runs[size] else 0.0
        harness = {"decrypt": med("harness_rx_pps"), "encrypt": med("harness_tx_pps")}
        r = {"mode": mode, "inner_bytes": size, "sessions": sess, "burst": 32, "outer_frame_bytes": size + OUTER,
             "decrypt_mpps": dec / 1e6, "encrypt_mpps": enc / 1e6,
             "decrypt_mbps_inner": dec * size * 8 / 1e6, "encrypt_mbps_inner": enc * size * 8 / 1e6,
             "arc4_ceiling_mpps": med("arc4_pps") / 1e6,
             "mppe_encrypt_ceiling_mpps": med("mppe_encrypt_pps") / 1e6,
             "mppe_decrypt_ceiling_mpps": med("mppe_decrypt_pps") / 1e6,
             "mppe_decrypt_runs_mpps": med("mppe_decrypt_runs_pps") / 1e6,
             "harness_rx_mpps": harness["decrypt"] / 1e6, "harness_tx_mpps": harness["encrypt"] / 1e6,
             "io_ceiling_mpps": io / 1e6,
             "decrypt_pkts_per_rx_post": runs[0][key]["decrypt_pkts_per_rx_post"],
             "arc4_variant": runs[0][key]["arc4"], "sha1": runs[0][key]["sha1"],
             "runs_decrypt_pps": [run[key]["decrypt_pps"] for run in runs],
             "runs_encrypt_pps": [run[key]["encrypt_pps"] for run in runs],
             "runs_io_pps": io_runs[size], "runs_io_wall_pps": io_wall[size],
             "io_ceiling_wall_mpps": statistics.median(io_wall[size]) / 1e6 if io_wall[size] else 0.0}
        for d, v in (("decrypt", dec), ("encrypt", enc)):
            # Run-by-run ratios inside each bench process (the ceilings took turns with the data path), median.
            r[f"ratio_{d}_arc4"] = med(f"ratio_{d}_arc4")
            r[f"ratio_{d}_mppe"] = med(f"ratio_{d}_mppe")
            r[f"on_cpu_{d}"] = med(f"on_cpu_{d}")
            r[f"ratio_{d}_io"] = v / io if io else None
            r[f"ratio_{d}_io_paired"] = (statistics.median(run[key][f"{d}_pps"] / x for run, x in
                                                           zip(runs, io_runs[size])) if io else None)
            # The bench's alloc + copy + free stands in for I/O; swap it for testpmd's memif I/O cost.
            r[f"{d}_e2e_estimate_mpps"] = (1 / (1 / io + 1 / v - 1 / harness[d]) / 1e6) if io else None
        r["ratio_decrypt_mppe_runs"] = med("ratio_decrypt_mppe_runs")
        results.append(r)

    print(f"one lcore, MPPE-128, bursts of 32; median of {args.repeat} processes x median of {args.runs} runs of "
          f"{args.ms:g} ms CPU time; ratios: run by run; ARC4 {results[0]['arc4_variant']}, SHA-1 {results[0]['sha1']}")
    print(f"{'case':24s} {'dir':7s} {'Mpps':>6s} {'Mbit/s':>7s} | {'ARC4':>6s} {'ratio':>5s} | "
          f"{'MPPE':>6s} {'ratio':>5s} | {'memif I/O':>9s} {'ratio':>5s} | {'e2e est':>7s}")
    for r in results:
        case = f"{r['mode']} {r['inner_bytes']} B {r['sessions']} sess"
        for d in ("decrypt", "encrypt"):
            io = r["io_ceiling_mpps"]
            print(f"{case:24s} {d:7s} {r[d + '_mpps']:6.3f} {r[d + '_mbps_inner']:7.0f} | "
                  f"{r['arc4_ceiling_mpps']:6.3f} {r['ratio_' + d + '_arc4']:5.2f} | "
                  f"{r['mppe_' + d + '_ceiling_mpps']:6.3f} {r['ratio_' + d + '_mppe']:5.2f} | "
                  + (f"{io:9.3f} {r['ratio_' + d + '_io']:5.2f} | {r[d + '_e2e_estimate_mpps']:7.3f}" if io else
                     f"{'-':>9s} {'-':>5s} | {'-':>7s}"))
    print("context only: " + KERNEL_NOTE)
    if CONTENDED:
        print(f"note: {len(CONTENDED)} measurement(s) started on a busy machine: {CONTENDED}")
    for k, top in profiles.items():
        print(f"profile {k}: " + ", ".join(f"{n} {p:.1f}%" for n, p in top[:6]))

    doc = {"benchmark": "pptp", "method": __doc__.strip().splitlines()[0],
           "command": "perf/pptp/run.py " + " ".join(sys.argv[1:]),
           "repeat": args.repeat, "runs": args.runs, "ms_per_run": args.ms, "memif_seconds": args.seconds,
           "machine": machine.describe(), "load_average_1m": load, "cpu_busy_before_measurements": busy,
           "contended": CONTENDED, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
           "io_ceiling": "dpdk-testpmd io-forward, net_memif client -> net_null, fed by testpmd txonly "
                         "(memif server) in a second process; frames of inner + 58 B; per second of the forwarding "
                         "lcore's CPU time (runs_io_wall_pps: per second of wall time)",
           "dpvpn_scope": "in-process data path (bench_pptp), not end-to-end over memif",
           "kernel_reference": {"mbps": KERNEL_MBPS, "note": KERNEL_NOTE},
           "results": results, "profile_top_symbols": profiles}
    with open(os.path.join(args.out, "pptp.json"), "w") as f:
        json.dump(doc, f, indent=2)
    chart(results, io_runs, os.path.join(args.out, "pptp.png"))
    print("wrote", os.path.join(args.out, "pptp.json"), "and pptp.png")


if __name__ == "__main__":
    main()
