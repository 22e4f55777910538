#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Issue 3's jitter figure with the jitter applied outside the VM: a host delay line, no netem.

tests/interop/reorder's jitter test runs netem inside the TCG guest, and there the reordering
itself costs the emulated sender CPU (perf/reorder/interop-results/README.md). Here the guest
sends unshaped (qdisc "none" in every phase) and perf/reorder/delayline (built with the
project) sits between the VM's tap and a veth pair whose other end is dpvpn's outside port:

    guest eth0 -> tap -> delayline (3 ms, or 3 ms +- 1 ms uniform: reorders) -> veth -> dpvpn
    guest eth0 <- tap <- delayline (at once)                                 <- veth <- dpvpn

Phases (iperf3 TCP upload, guest -> namespace behind dpvpn, the data crossing dpvpn's window):
a, b, a2, b2 with a = constant 3 ms, b = 3 ms +- 1 ms; the delay line is switched while the
guest pings at the start of each phase. Reported: each run's Mbit/s, the window counters per run
(snapshots at the guest's marks), and (b)/(a) from the means. Writes
perf/reorder/interop-results/jitter-delayline.json (with --window-off, dpvpn's reorder = off:
jitter-delayline-window-off.json) and jitter-delayline.png from whichever of the two exist.
Needs root.

    /usr/bin/python3 perf/reorder/jitter_delayline.py [--seconds 8] [--build build] [--window-off] [--chart]
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
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "interop", "reorder"))
sys.path.insert(0, os.path.join(ROOT, "perf", "common"))
import machine  # noqa: E402
import netenv  # noqa: E402
from dpvpn_harness import Daemon  # noqa: E402
from guestlog import ConsoleTail, iperf_result  # noqa: E402
import test_jitter_vm as jt  # noqa: E402  the same addresses, config, guest script and snapshots

DELAY_US, JITTER_US = 3000, 1000
PHASES = [("a", 0), ("b", JITTER_US), ("a2", 0), ("b2", JITTER_US)]


def chart(out_dir):
    """jitter-delayline.png from the JSON files present: Mbit/s per run, window on and off."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    docs = [(label, os.path.join(out_dir, f)) for label, f in
            (("window on", "jitter-delayline.json"), ("window off", "jitter-delayline-window-off.json"))]
    docs = [(label, json.load(open(p))) for label, p in docs if os.path.exists(p)]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = [n for n, _ in PHASES]
    width = 0.8 / max(1, len(docs))
    for k, (label, d) in enumerate(docs):
        ys = [(d["runs"].get(n, {}).get("bps") or 0) / 1e6 for n in names]
        ax.bar([i + k * width for i in range(len(names))], ys, width, label=f"{label}, (b)/(a) {d['ratio_b_a']:.2f}")
    ax.set_xticks([i + width * (len(docs) - 1) / 2 for i in range(len(names))])
    ax.set_xticklabels([f"{n}: 3 ms" + (" +- 1 ms" if j else "") for n, j in PHASES])
    ax.set_ylabel("iperf3 upload, Mbit/s")
    ax.set_title("GRE through dpvpn, jitter from a host delay line (TCG guest)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "jitter-delayline.png"), dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--build", default=os.environ.get("DPVPN_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--out", default=os.path.join(HERE, "interop-results"))
    ap.add_argument("--window-off", action="store_true", help="dpvpn with reorder = off (stock Linux behaviour)")
    ap.add_argument("--chart", action="store_true", help="only redraw the PNG from the JSON files")
    args = ap.parse_args()
    if args.chart:
        chart(args.out)
        return 0
    if os.geteuid() != 0:
        sys.exit("needs root")
    os.environ["DPVPN_BUILD"] = os.path.abspath(args.build)
    delayline = os.path.join(args.build, "perf", "reorder", "delayline")
    work = tempfile.mkdtemp(prefix="dpvpn-delayline-")
    console = os.path.join(work, "console.log")
    env = netenv.NetEnv(tag="d")
    va, vb = f"dla{os.getpid() % 100000}", f"dlb{os.getpid() % 100000}"
    vm = dmn = dl = None
    runs, snaps, switches = {}, {}, []

    def start_delayline(jitter_us):
        nonlocal dl
        if dl is not None:
            dl.terminate()
            dl.wait(5)
        dl = subprocess.Popen([delayline, env.tap_name, va, str(DELAY_US), str(jitter_us)],
                              stdout=open(os.path.join(work, "delayline.log"), "a"), stderr=subprocess.STDOUT)
        switches.append((time.time(), jitter_us))

    try:
        netenv.sh(["ip", "link", "add", va, "type", "veth", "peer", "name", vb])
        for v in (va, vb):
            netenv.sh(["ip", "link", "set", v, "up"])
        inside = env.inside_host(jt.HOST_INNER + "/24", jt.DPVPN_INNER, routes=["10.99.0.0/24"])
        cfg = os.path.join(work, "dpvpn.ini")
        with open(cfg, "w") as f:
            f.write(jt.CONFIG.format(tap=vb, veth=inside.host_if, dpvpn_outer=jt.DPVPN_OUTER,
                                     dpvpn_inner=jt.DPVPN_INNER, guest_outer=jt.GUEST_OUTER, key=jt.GRE_KEY,
                                     reorder_line="reorder = off" if args.window_off else ""))
        env.run_in_ns(inside.ns, ["iperf3", "-s", "-D"])
        phase_list = " ".join(f"{name}:none:up" for name, _ in PHASES)
        vm_timeout = 120 + len(PHASES) * (args.seconds + 2 * jt.MARK_PAUSE + 25)
        vm = env.start_vm(os.path.join(ROOT, "tests", "interop", "reorder", "guest-jitter.sh"), console,
                          timeout=vm_timeout,
                          env={"GUEST_OUTER": jt.GUEST_OUTER, "DPVPN_OUTER": jt.DPVPN_OUTER, "GRE_KEY": jt.GRE_KEY,
                               "GUEST_INNER": jt.GUEST_INNER, "HOST_INNER": jt.HOST_INNER,
                               "DPVPN_INNER": jt.DPVPN_INNER, "HOST_NET": "10.0.0.0/24",
                               "IPERF_SECONDS": args.seconds, "PHASES": phase_list, "NETEM": "",
                               "NETEM_DELAY": "", "MARK_PAUSE": jt.MARK_PAUSE})
        env.wait_tap(timeout=120)
        start_delayline(0)
        dmn = Daemon(cfg, lcores="0", log_path=os.path.join(work, "dpvpn.log"))
        dmn.start()
        jitter_of = dict(PHASES)
        tail = ConsoleTail(console)
        deadline = time.time() + vm_timeout + 30
        while vm.proc.poll() is None and time.time() < deadline:
            for line in tail.new_lines():
                q = re.search(r"DPVPN-QDISC (\S+):", line)
                if q and q.group(1) in jitter_of:
                    start_delayline(jitter_of[q.group(1)])   # the guest pings for 2 s first
                m = re.search(r"DPVPN-MARK (begin|end) (\S+)", line)
                if m:
                    snaps[(m.group(1), m.group(2))] = jt.snapshot(dmn)
            time.sleep(0.05)
        log = open(console, errors="replace").read()
        for name, jitter in PHASES:
            r = iperf_result(log, f"{name}-up")
            b, e = snaps.get(("begin", f"{name}-up")), snaps.get(("end", f"{name}-up"))
            runs[name] = {"jitter_us": jitter, "bps": r and r["bps"], "retransmits": r and r.get("retransmits"),
                          "window": jt.delta(b, e)["reorder"] if b and e else None}
            print(f"{name}: {DELAY_US} us +- {jitter} us: "
                  f"{(r['bps'] / 1e6) if r else float('nan'):.0f} Mbit/s, window {runs[name]['window']}", flush=True)
    finally:
        if dl is not None:
            dl.terminate()
            dl.wait(5)
        if dmn is not None:
            dmn.stop()
        if vm is not None:
            vm.kill()
        env.cleanup()
        netenv.sh(["ip", "link", "del", va], check=False)
    a = [runs[n]["bps"] for n in ("a", "a2") if runs.get(n, {}).get("bps")]
    b = [runs[n]["bps"] for n in ("b", "b2") if runs.get(n, {}).get("bps")]
    ratio = statistics.mean(b) / statistics.mean(a) if a and b else None
    print(open(os.path.join(work, "delayline.log")).read().strip())
    print(f"(b)/(a) = {ratio:.2f}" if ratio else "(b)/(a): no figure", "(issue 3 target 0.9)")
    os.makedirs(args.out, exist_ok=True)
    doc = {"benchmark": "jitter_delayline", "method": __doc__.strip().splitlines()[0],
           "command": "perf/reorder/jitter_delayline.py " + " ".join(sys.argv[1:]),
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine.describe(),
           "delay_us": DELAY_US, "jitter_us": JITTER_US, "seconds": args.seconds, "window": not args.window_off,
           "runs": runs, "ratio_b_a": ratio}
    name = "jitter-delayline-window-off.json" if args.window_off else "jitter-delayline.json"
    with open(os.path.join(args.out, name), "w") as f:
        json.dump(doc, f, indent=1)
    chart(args.out)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ratio else 1


if __name__ == "__main__":
    sys.exit(main())
