#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Per-packet cost of the per-tunnel scheduler (keyed flow hash + fq_codel enqueue + dequeue) and
the shaped forwarding rate of one dpvpn worker, each beside a ceiling from the same run.

1. bench_fq_codel: ns per packet with 1, 64 and 1024 backlogged flows, bursts of 32, one core;
   ceiling: an rte_ring SP/SC enqueue + dequeue of the same mbufs. Target: <= 40 ns.
2. dpvpn encapsulating a 64-byte net_pcap replay into 16 GRE tunnels (output net_null):
   unshaped (the ceiling), shaped far above what one lcore can send (every packet passes the
   shaper check, almost none waits), and shaped to half the unshaped rate (every packet waits in
   fq_codel; the excess input is dropped at the queue limit, as under real overload).
3. With --latency, the interop test's latency under load (tests/interop/qos) adds latency.png.

    perf/qos/run.py [--seconds 3] [--repeat 3] [--latency] [--out perf/qos/results]
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
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "perf", "common"))
from dpvpn_harness import Daemon, find_binary  # noqa: E402
import machine  # noqa: E402

# The GRE benchmark's replay pcaps and configuration: the same input, so figures compare.
_spec = importlib.util.spec_from_file_location("gre_run", os.path.join(ROOT, "perf", "gre", "run.py"))
gre_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gre_run)

WIRE_BYTES_64 = 64 + 20 + 8   # inner packet + outer IPv4 + GRE with key: what the shaper counts


def bench_binary():
    return os.path.join(os.path.dirname(find_binary()), "..", "..", "perf", "qos", "bench_fq_codel")


def scheduler_cost(seconds):
    out = subprocess.run([bench_binary(), str(seconds)], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    return json.loads(out)


def shaped_rate(work, pcap, seconds, huge, rate_bps):
    """Encapsulated packets per second of one worker; rate_bps per tunnel, None = unshaped."""
    neigh = "\n".join(f"static_neighbors = 192.0.2.{9 + i} 02:00:00:00:01:{i:02x}"
                      for i in range(1, gre_run.TUNNELS + 1))
    body = gre_run.CONFIG.format(odev="null", oargs="no-rx=1", idev="pcap", iargs=f"rx_pcap={pcap},infinite_rx=1",
                                 neigh=neigh)
    for i in range(1, gre_run.TUNNELS + 1):
        body += gre_run.TUNNEL.format(i=i, peer=9 + i)
        if rate_bps:
            body += f"shaper_rate = {rate_bps}\n"
    cfg = os.path.join(work, "shaped.ini")
    with open(cfg, "w") as f:
        f.write(body)
    dmn = Daemon(cfg, lcores="0,1", memory_mb=1024, huge=huge)
    dmn.start()
    try:
        time.sleep(1)
        a, t0 = dmn.query("/dpvpn/lcores")["worker0"]["tx_outside"], time.time()
        time.sleep(seconds)
        b, t1 = dmn.query("/dpvpn/lcores")["worker0"]["tx_outside"], time.time()
        drops = {k: v for k, v in dmn.query("/dpvpn/drops").items() if v}
    finally:
        dmn.stop()
    unexpected = {k: v for k, v in drops.items() if k != "qos_overlimit"}
    if unexpected:
        raise RuntimeError(f"unexpected drops {unexpected}")
    return (b - a) / (t1 - t0)


def chart(doc, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    s = doc["scheduler"]
    labels = ["rte_ring\n(ceiling)"] + [f"fq_codel\n{c['flows']} flows" for c in s["fq_codel"]]
    vals = [s["ring_ns_per_pkt"]] + [c["ns_per_pkt"] for c in s["fq_codel"]]
    a1.bar(labels, vals, color=["#bbbbbb"] + ["#2a6fb0"] * len(s["fq_codel"]))
    a1.axhline(40, color="#c0392b", ls="--", label="target 40 ns")
    for i, v in enumerate(vals):
        a1.text(i, v, f"{v:.1f}", ha="center", va="bottom", fontsize=9)
    a1.set_ylabel("ns per packet (classify + enqueue + dequeue)")
    a1.set_title("Scheduler cost, one core, bursts of 32")
    a1.legend()
    f = doc["forwarding"]
    labels = ["unshaped\n(ceiling)", "shaped, rate above\nlcore capacity", "shaped to 50 %\n(all queued)"]
    vals = [f["unshaped_mpps"], f["shaped_high_mpps"], f["shaped_half_mpps"]]
    a2.bar(labels, vals, color=["#bbbbbb", "#2a6fb0", "#2a6fb0"])
    for i, v in enumerate(vals):
        a2.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=9)
    a2.axhline(f["shaped_half_target_mpps"], color="#c0392b", ls="--", label="configured 50 % rate")
    a2.set_ylabel("Mpps encapsulated (one worker, 64 B, 16 tunnels)")
    a2.set_title("Shaped forwarding rate per lcore")
    a2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency", action="store_true", help="also run the VM latency-under-load test")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("perf/qos/run.py needs root (EAL runtime directory, hugepages)")
    os.makedirs(args.out, exist_ok=True)
    runs = [scheduler_cost(args.seconds) for _ in range(args.repeat)]
    sched = {"ring_ns_per_pkt": statistics.median(r["ring_ns_per_pkt"] for r in runs),
             "fq_codel": [{"flows": c["flows"],
                           "ns_per_pkt": statistics.median(r["fq_codel"][i]["ns_per_pkt"] for r in runs)}
                          for i, c in enumerate(runs[0]["fq_codel"])],
             "runs": runs}
    for c in sched["fq_codel"]:
        print(f"fq_codel {c['flows']:4d} flows: {c['ns_per_pkt']:5.1f} ns/pkt   rte_ring ceiling "
              f"{sched['ring_ns_per_pkt']:.1f} ns/pkt   target 40 ns", flush=True)
    huge = machine.reserve_hugepages()
    work = tempfile.mkdtemp(prefix="dpvpn-perf-qos-")
    try:
        pcap = gre_run.make_pcaps(work)[("encap", 64)]
        unshaped, high, half, target = [], [], [], []
        for _ in range(args.repeat):
            u = shaped_rate(work, pcap, args.seconds, huge, None)
            unshaped.append(u)
            high.append(shaped_rate(work, pcap, args.seconds, huge, "100gbit"))
            per_tunnel = int(0.5 * u / gre_run.TUNNELS * WIRE_BYTES_64 * 8)
            target.append(0.5 * u)
            half.append(shaped_rate(work, pcap, args.seconds, huge, per_tunnel))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    fwd = {"unshaped_mpps": statistics.median(unshaped) / 1e6, "shaped_high_mpps": statistics.median(high) / 1e6,
           "shaped_half_mpps": statistics.median(half) / 1e6, "shaped_half_target_mpps": statistics.median(target) / 1e6,
           "runs": {"unshaped": unshaped, "shaped_high": high, "shaped_half": half}}
    fwd["shaped_high_ratio"] = fwd["shaped_high_mpps"] / fwd["unshaped_mpps"]
    fwd["shaped_half_accuracy"] = fwd["shaped_half_mpps"] / fwd["shaped_half_target_mpps"]
    print(f"encap 64 B: unshaped {fwd['unshaped_mpps']:.2f} Mpps; shaped above capacity {fwd['shaped_high_mpps']:.2f} "
          f"Mpps ({fwd['shaped_high_ratio']:.2f}x); shaped to {fwd['shaped_half_target_mpps']:.2f} Mpps: "
          f"{fwd['shaped_half_mpps']:.2f} Mpps ({fwd['shaped_half_accuracy']:.3f} of the configured rate)", flush=True)
    doc = {"benchmark": "qos", "method": __doc__.strip().splitlines()[0], "seconds": args.seconds,
           "repeat": args.repeat, "hugepages": huge, "machine": machine.describe(),
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "scheduler": sched, "forwarding": fwd}
    with open(os.path.join(args.out, "qos.json"), "w") as f:
        json.dump(doc, f, indent=2)
    chart(doc, os.path.join(args.out, "qos.png"))
    print("wrote", os.path.join(args.out, "qos.json"), "and qos.png")
    if args.latency:
        rc = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "interop", "qos", "test_qos_vm.py"),
                             "--out", args.out], timeout=900).returncode
        print("latency under load:", "written to " + os.path.join(args.out, "latency.png") if rc == 0 else f"failed ({rc})")


if __name__ == "__main__":
    main()
