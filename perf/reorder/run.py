#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reorder window benchmark: cycles per packet (insert + drain) beside rte_reorder.

  perf/reorder/run.py [--build DIR] [--packets N] [--runs N] [--rounds N] [--cpu C]

bench_reorder measures both libraries in one process, alternating them run by
run; this script repeats that --rounds times (separate processes) and takes the
median of all runs, because this machine is shared and noisy. The ratio is
dpvpn / rte_reorder (target <= 1.5). Writes perf/reorder/results/reorder.json
and reorder.png.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CASES = ["in_order", "shuffled32", "late1"]
TARGET = 1.5


def sh(cmd):
    r = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd}: exit {r.returncode}: {r.stderr[-500:]}")
    return r.stdout


def machine(tsc_hz):
    lscpu = sh("lscpu")
    model = re.search(r"Model name:\s*(.+)", lscpu)
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cpus": os.cpu_count(),
        "tsc_hz": tsc_hz,
        "kernel": platform.release(),
        "dpdk": sh("pkg-config --modversion libdpdk").strip(),
        "compiler": sh("cc --version").splitlines()[0],
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def chart(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(res["cases"])
    ours = [res["cases"][c]["dpvpn"] for c in cases]
    theirs = [res["cases"][c]["rte_reorder"] for c in cases]
    x = range(len(cases))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar([i - 0.2 for i in x], ours, 0.4, label="dpvpn reorder (timeouts, duplicates)")
    ax.bar([i + 0.2 for i in x], theirs, 0.4, label="DPDK rte_reorder")
    for i, c in enumerate(cases):
        ax.text(i - 0.2, ours[i], f"{res['cases'][c]['ratio']:.2f}x", ha="center", va="bottom")
    ax.set_xticks(list(x))
    ax.set_xticklabels(cases)
    ax.set_ylabel("TSC cycles per packet (median)")
    ax.set_title(f"insert + drain, 32-packet bursts, window 2048\n{res['machine']['cpu']}",
                 fontsize=9)
    ax.set_ylim(0, max(ours + theirs) * 1.35)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        # A pyenv python may shadow Debian's, which has python3-matplotlib.
        if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        raise
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build-reorder"))
    ap.add_argument("--packets", type=int, default=1 << 20)
    ap.add_argument("--runs", type=int, default=9, help="alternating runs per process")
    ap.add_argument("--rounds", type=int, default=5, help="processes")
    ap.add_argument("--cpu", default="1", help="pin to this CPU (taskset)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()

    binary = os.path.join(args.build, "perf/reorder/bench_reorder")
    samples = {c: {"dpvpn": [], "rte_reorder": []} for c in CASES}
    tsc_hz = None
    for _ in range(args.rounds):
        out = sh(["taskset", "-c", args.cpu, binary, str(args.packets), str(args.runs)] + CASES)
        d = json.loads(out.strip().splitlines()[-1])
        tsc_hz = d["tsc_hz"]
        for c in CASES:
            samples[c]["dpvpn"] += d["cases"][c]["dpvpn"]
            samples[c]["rte_reorder"] += d["cases"][c]["rte_reorder"]

    res = {
        "benchmark": "reorder window insert + drain, cycles per packet",
        "command": f"perf/reorder/run.py --packets {args.packets} --runs {args.runs} "
                   f"--rounds {args.rounds} --cpu {args.cpu}",
        "machine": machine(tsc_hz),
        "target_ratio_max": TARGET,
        "cases": {},
    }
    print(f"{'case':<12} {'dpvpn':>8} {'rte_reorder':>12} {'ratio':>6}  (cycles/packet, "
          f"median of {args.rounds * args.runs})")
    for c in CASES:
        a = statistics.median(samples[c]["dpvpn"])
        q = statistics.median(samples[c]["rte_reorder"])
        res["cases"][c] = {"dpvpn": round(a, 2), "rte_reorder": round(q, 2),
                           "ratio": round(a / q, 3), "samples": samples[c]}
        print(f"{c:<12} {a:8.2f} {q:12.2f} {a / q:6.2f}{'' if a / q <= TARGET else '  OVER'}")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "reorder.json"), "w") as f:
        json.dump(res, f, indent=1)
    chart(res, os.path.join(args.out, "reorder.png"))
    print(f"wrote {args.out}/reorder.json and reorder.png")


if __name__ == "__main__":
    main()
