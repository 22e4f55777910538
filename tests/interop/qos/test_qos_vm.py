#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Interop: latency under load, fairness and ECN through dpvpn's shaped tunnels.

The kernel-peer VM has two Linux GRE tunnels to dpvpn, both shaped to RATE towards the VM:
tunnel 1 with fq_codel, tunnel 2 with qos = fifo (same shaper, one tail-drop queue). For each,
the guest pings the host namespace while idle and while iperf3 -R saturates the tunnel towards
it; the added delay is loaded median minus idle median. Then four TCP flows compete through
tunnel 1. TCP negotiates ECN, so CoDel marks instead of dropping.

Asserts: fq_codel's added median delay <= 10 ms while FIFO's is larger (the queue really forms
in dpvpn), the bulk flow gets near the shaped rate, four flows each get within 10 % of a fair share,
tunnel 1's CoDel marked packets CE and dropped none, the sender saw the marks, no mbuf leaked.

    test_qos_vm.py [--out DIR] [--tunnel1 'key = value' ...]
    (DIR gets latency.json and latency.png; --tunnel1 adds keys to the fq_codel tunnel)

Needs root. Exit 77 (skip) when not root.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from checks import Checks  # noqa: E402
from dpvpn_harness import Daemon  # noqa: E402
import netenv  # noqa: E402  (tests/lib)
from guestlog import iperf_json, iperf_result, ping_times  # noqa: E402

GUEST_OUTER, DPVPN_OUTER = "192.0.2.2", "192.0.2.1"
GUEST_A, GUEST_B = "10.98.0.2", "10.97.0.2"
HOST_A, HOST_B, DPVPN_INNER = "10.0.0.2", "10.0.0.3", "10.0.0.1"
RATE_MBIT = 20
LOAD_SECONDS, RAMP_SECONDS, PING_COUNT, FAIR_SECONDS = 14, 4, 80, 10

CONFIG = """
[dpvpn]
mbufs = 8191
idle_sleep_us = 20
[outside]
device = net_af_packet0
devargs = iface={tap}
address = {dpvpn_outer}/24
[inside]
device = net_af_packet1
devargs = iface={veth}
address = {dpvpn_inner}/24
[tunnel 1]
protocol = gre
name = fq_codel
peer = {guest_outer}
key = 1
routes = 10.98.0.0/24
shaper_rate = {rate}mbit
{extra}
[tunnel 2]
protocol = gre
name = fifo
peer = {guest_outer}
key = 2
routes = 10.97.0.0/24
shaper_rate = {rate}mbit
qos = fifo
"""

check = Checks("interop-qos-vm", verbose=True)


def nstat(env, ns, counter):
    out = env.run_in_ns(ns, ["nstat", "-az", counter], check=False).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == counter:
            return int(f[1])
    return None


def write_chart(result, out_dir):
    with open(os.path.join(out_dir, "latency.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label, style in (("idle-a", "idle", ":"), ("loaded-a", "fq_codel, bulk download", "-"),
                              ("loaded-b", "FIFO, bulk download", "--")):
        xs = sorted(result["pings_ms"][key])
        if xs:
            ax.plot(xs, [(i + 1) / len(xs) for i in range(len(xs))], style, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("ping round-trip time through the shaped tunnel (ms, log scale)")
    ax.set_ylabel("fraction of pings")
    ax.set_title(f"Latency under load, {RATE_MBIT} Mbit/s shaped GRE tunnel (median added: "
                 f"fq_codel {result['added_ms']['fq_codel']:.1f} ms, FIFO {result['added_ms']['fifo']:.0f} ms)",
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "latency.png"), dpi=100)


def run_boot(env, inside, work, label, extra):
    """One VM boot against a fresh dpvpn. Returns (console log, telemetry, guest rc, sender CE delta)."""
    cfg = os.path.join(work, f"dpvpn-{label}.ini")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(tap=env.tap_name, veth=inside.host_if, dpvpn_outer=DPVPN_OUTER,
                              dpvpn_inner=DPVPN_INNER, guest_outer=GUEST_OUTER, rate=RATE_MBIT,
                              extra="\n".join(extra)))
    console = os.path.join(work, f"console-{label}.log")
    timeout = 200 + 2 * LOAD_SECONDS + FAIR_SECONDS
    vm = env.start_vm(os.path.join(HERE, "guest-qos.sh"), console, timeout=timeout,
                      env={"GUEST_OUTER": GUEST_OUTER, "DPVPN_OUTER": DPVPN_OUTER, "GUEST_A": GUEST_A,
                           "GUEST_B": GUEST_B, "HOST_A": HOST_A, "HOST_B": HOST_B,
                           "LOAD_SECONDS": LOAD_SECONDS, "RAMP_SECONDS": RAMP_SECONDS,
                           "PING_COUNT": PING_COUNT, "FAIR_SECONDS": FAIR_SECONDS})
    env.wait_tap(timeout=60)
    ce_before = nstat(env, inside.ns, "TcpExtTCPDeliveredCE")
    dmn = Daemon(cfg, lcores="0", log_path=os.path.join(work, f"dpvpn-{label}.log"))
    dmn.start()
    try:
        rc = vm.wait(timeout=timeout)
        tel = {t: dmn.query(f"/dpvpn/tunnel,{t}") for t in (1, 2)}
    finally:
        dmn.stop()
    ce_after = nstat(env, inside.ns, "TcpExtTCPDeliveredCE")
    check(dmn.returncode == 0 and dmn.mbufs_in_use_after_shutdown() == 0,
          f"boot {label}: dpvpn stopped cleanly, no mbuf leaked")
    ce = ce_after - ce_before if ce_before is not None and ce_after is not None else None
    return open(console, errors="replace").read(), tel, rc, ce


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="directory for latency.json and latency.png")
    ap.add_argument("--tunnel1", action="append", default=[], metavar="KEY=VALUE",
                    help="extra configuration line for the fq_codel tunnel (experiments)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root: skipped")
        return 77
    work = tempfile.mkdtemp(prefix="dpvpn-qos-vm-")
    env = netenv.NetEnv(tag="q")
    try:
        inside = env.inside_host(HOST_A + "/24", DPVPN_INNER, routes=["10.98.0.0/24", "10.97.0.0/24"])
        env.run_in_ns(inside.ns, ["ip", "addr", "add", HOST_B + "/24", "dev", inside.ns_if])
        env.run_in_ns(inside.ns, ["sysctl", "-qw", "net.ipv4.tcp_ecn=1"])
        env.run_in_ns(inside.ns, ["iperf3", "-s", "-D"])
        log, tel, rc, ce = run_boot(env, inside, work, "1", a.tunnel1)
        if netenv.guest_tx_hung(os.path.join(work, "console-1.log")):
            print("the guest's virtio TX queue hung (qemu TCG, not dpvpn): booting once more", flush=True)
            log, tel, rc, ce = run_boot(env, inside, work, "2", a.tunnel1)
        check(rc == 0, f"guest script exit code {rc}")

        pings = {k: ping_times(log, k) for k in ("idle-a", "loaded-a", "idle-b", "loaded-b")}
        for k, v in pings.items():
            want = 30 if k.startswith("idle") else PING_COUNT
            check(len(v) >= want * 0.9, f"{k}: {len(v)}/{want} pings answered")
        med = {k: statistics.median(v) if v else float("nan") for k, v in pings.items()}
        added_fq = med["loaded-a"] - med["idle-a"]
        added_fifo = med["loaded-b"] - med["idle-b"]
        print(f"median RTT idle {med['idle-a']:.2f} ms; under load: fq_codel {med['loaded-a']:.2f} ms "
              f"(+{added_fq:.2f}), FIFO {med['loaded-b']:.2f} ms (+{added_fifo:.2f})")
        check(added_fq <= 10, f"fq_codel: median delay added by a bulk download {added_fq:.2f} ms (target <= 10)")
        # The comparison point, from the same run: the bulk flow's own queue delays everyone.
        check(added_fifo >= added_fq + 3,
              f"FIFO behind the same shaper adds {added_fifo:.1f} ms: the queue forms in dpvpn, not in the guest")

        # Goodput near the shaped rate: inner TCP payload is 1448 of each 1524-byte outer packet.
        # With ECN, CoDel's marks at this tiny base RTT (~1 ms) cost the single bulk flow some
        # throughput (measured 15.8 of 19.0 Mbit/s; 18.9 with fq_codel_ecn = no): allow 25 %.
        ceiling = RATE_MBIT * 1e6 * 1448 / 1524
        bulk = {r: iperf_result(log, f"bulk-{r}") for r in ("a", "b")}
        for r, name in (("a", "fq_codel"), ("b", "fifo")):
            bps = bulk[r] and bulk[r]["bps"]
            check(bps is not None and 0.75 * ceiling <= bps <= 1.02 * RATE_MBIT * 1e6,
                  f"{name}: bulk goodput {bps and bps / 1e6:.2f} Mbit/s at the {RATE_MBIT} Mbit/s shaper")
        fair = iperf_json(log, "fair")
        streams = [s["receiver"]["bits_per_second"] for s in (fair or {}).get("end", {}).get("streams", [])]
        share = sum(streams) / len(streams) if streams else 0
        worst = max(abs(s - share) / share for s in streams) if share else 1
        check(len(streams) == 4 and worst <= 0.10,
              f"4 competing flows: {[round(s / 1e6, 2) for s in streams]} Mbit/s, worst {100 * worst:.1f} % off the "
              f"fair share {share / 1e6:.2f}")

        q1, q2 = tel[1]["qos"], tel[2]["qos"]
        check(q1["ecn_marks"] > 0 and q1["aqm_drops"] == 0 and q1["overlimit_drops"] == 0,
              f"ECN: tunnel 1's CoDel marked {q1['ecn_marks']} packets CE and dropped none")
        check(ce is None or ce > 0, f"the TCP sender in the namespace saw CE marks (TcpExtTCPDeliveredCE +{ce})")
        print("retransmits: fq_codel", bulk["a"] and bulk["a"]["retransmits"], "fifo",
              bulk["b"] and bulk["b"]["retransmits"])
        print("tunnel 1 qos:", json.dumps(q1))
        print("tunnel 2 qos:", json.dumps(q2))
        result = {"rate_mbit": RATE_MBIT, "median_ms": med,
                  "added_ms": {"fq_codel": added_fq, "fifo": added_fifo},
                  "bulk_mbps": {r: bulk[r] and bulk[r]["bps"] / 1e6 for r in bulk},
                  "fair_mbps": [s / 1e6 for s in streams], "fair_worst_pct": 100 * worst,
                  "ecn_marks": q1["ecn_marks"], "sender_delivered_ce": ce,
                  "sojourn_us": {n: {k: q[k] for k in q if k.startswith("sojourn")} for n, q in
                                 (("fq_codel", q1), ("fifo", q2))},
                  "pings_ms": pings}
        print("RESULT " + json.dumps({k: v for k, v in result.items() if k != "pings_ms"}))
        if a.out:
            os.makedirs(a.out, exist_ok=True)
            write_chart(result, a.out)
    finally:
        env.cleanup()
        if check.failed or os.environ.get("KEEP"):
            print("artifacts kept in", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
