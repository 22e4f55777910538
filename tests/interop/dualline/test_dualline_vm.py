#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Interop (issue 3, dual line): one GRE tunnel over two lines of different delay, one lossy.

The kernel-peer VM has two NICs, eth0 (192.0.2.2) and eth1 (192.0.2.3). Both taps sit on a
Linux bridge on the host together with one end of a veth; dpvpn's outside port is
net_af_packet on the veth's other end (no addresses on the bridge or the veth, IPv6 off, STP off,
forward delay 0, MAC learning off on eth1's tap: see below). Behind dpvpn a host namespace runs
iperf3 -s. dpvpn's tunnel is multi-path: `peer = 192.0.2.2, 192.0.2.3`, `path_mode = redundant`,
`sequence = yes`, default window (2048 packets, hold 333 ms).

In the guest, Linux's own ip_gre (key 42, iseq oseq) sends through eth0. The second line is
made with tc: a clsact egress filter on eth0 (u32, IP protocol 47) mirrors every GRE frame onto
eth1 (`action mirred egress mirror dev eth1`); the copy goes through eth1's own root netem. So
every GRE packet leaves twice, once per line, each delayed / dropped / rate limited by its own
netem. The copy keeps the original's source (192.0.2.2, eth0's MAC): tc in the guest kernel has
no pedit/nat action to rewrite it, so dpvpn sees both copies on path 0 and its window dedups them
(the receive direction the issue measures: iperf3 upload VM -> namespace). Because eth0's MAC
also appears on eth1's bridge port, that port does not learn MACs (else frames for eth0 would be
sent to eth1 and dropped by its MAC filter). Path 1 (192.0.2.3) is never heard, so dpvpn
declares it dead and redundant mode sends only to 192.0.2.2 (the ACK direction is single-line).

Phases, one boot, interleaved (a shared 2-core TCG machine drifts by tens of percent):
  a   single clean line: eth0 delay 20 ms                          (the issue's baseline)
  b   dual line: eth0 20 ms + mirror to eth1 120 ms, 2 % loss       (the issue's dual line)
  d   dual line, loss on the fast line: eth0 20 ms 2 % + eth1 120 ms (the copies fill the gaps)
  c   eth0 20 ms 2 % loss alone                                     (what d's redundancy saves)
  e   eth0 120 ms 2 % loss alone                                    (b's lossy line alone)
  a2, b2, d2                                                       repeats; figures are means
Every netem line has `rate RATE` (default 100mbit, DUALLINE_RATE): under TCG the guest's virtio
TX is the bottleneck, and mirroring doubles the guest's transmit work, so without a line rate
the comparison would measure the VM's CPU, not the dual line (set DUALLINE_RATE= to drop it).

Asserts: b >= 0.75 x a (the issue's target 0.9 is printed as met or not); in b and d every
packet arrives twice (duplicated ~ accepted x 0.98, matching the guest's eth1 netem count), the
window neither loses (lost ~0) nor sees late copies (under_window small); d > c; path counters:
path0 rx = all copies, path1 silent and dead; clean shutdown, no mbuf leaked.

  test_dualline_vm.py [--record] [--seconds N] [--quick]
--record writes perf/reorder/interop-results/dualline.json and dualline.png. Needs root (exit 77).
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from checks import Checks  # noqa: E402
from dpvpn_harness import ROOT, Daemon  # noqa: E402
import netenv  # noqa: E402  (tests/lib)
from guestlog import ConsoleTail, iperf_result, section  # noqa: E402

GUEST_OUTER, GUEST_OUTER2, DPVPN_OUTER = "192.0.2.2", "192.0.2.3", "192.0.2.1"
GUEST_INNER, HOST_INNER, DPVPN_INNER = "10.99.0.2", "10.0.0.2", "10.0.0.1"
GRE_KEY = 42
MARK_PAUSE = 2
RATE = os.environ.get("DUALLINE_RATE", "100mbit")
LIMIT = os.environ.get("DUALLINE_LIMIT", "10000")
FAST, SLOW, LOSS = "20ms", "120ms", "2%"
RESULTS_DIR = os.path.join(ROOT, "perf", "reorder", "interop-results")


def netem(delay, loss=None):
    return f"delay {delay}" + (f" loss {loss}" if loss else "") + (f" rate {RATE}" if RATE else "") + f" limit {LIMIT}"


# name: (mirror, eth0 netem, eth1 netem, title)
PHASES = {
    "a": (0, netem(FAST), "", f"(a) single clean line\n{FAST}"),
    "b": (1, netem(FAST), netem(SLOW, LOSS), f"(b) dual line\n{FAST} + {SLOW} {LOSS} loss"),
    "d": (1, netem(FAST, LOSS), netem(SLOW), f"(d) dual line\n{FAST} {LOSS} loss + {SLOW}"),
    "c": (0, netem(FAST, LOSS), "", f"(c) single line\n{FAST} {LOSS} loss"),
    "e": (0, netem(SLOW, LOSS), "", f"(e) single line\n{SLOW} {LOSS} loss"),
}
ORDER = ["a", "b", "d", "c", "e", "a2", "b2", "d2"]
QUICK_ORDER = ["a", "b", "d", "c"]

CONFIG = """
[dpvpn]
mbufs = 16383
idle_sleep_us = 20
[outside]
device = net_af_packet0
devargs = iface={outer_if}
address = {dpvpn_outer}/24
[inside]
device = net_af_packet1
devargs = iface={veth}
address = {dpvpn_inner}/24
[tunnel 1]
protocol = gre
name = vm-dual-line
peer = {guest_outer}, {guest_outer2}
path_mode = redundant
key = {key}
sequence = yes
routes = 10.99.0.0/24
"""

WINDOW_KEYS = ("accepted", "under_window", "buffered", "duplicated", "lost", "far_ahead", "resyncs",
               "nobuf", "freed")
PATH_KEYS = ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes")

check = Checks("interop-dualline", verbose=True)


def base(name):
    return name.rstrip("0123456789")


HOST_DEVS = {}   # role -> host interface, filled by run_boot
HOST_KEYS = ("rx_packets", "tx_packets", "rx_dropped", "tx_dropped")


def host_counters():
    """Host-side frame counters along the way guest -> dpvpn (where frames could be dropped)."""
    out = {}
    for role, dev in HOST_DEVS.items():
        for k in HOST_KEYS:
            try:
                with open(f"/sys/class/net/{dev}/statistics/{k}") as f:
                    out[f"{role}_{k}"] = int(f.read())
            except OSError:
                pass
    with open("/proc/net/softnet_stat") as f:
        out["softnet_dropped"] = sum(int(line.split()[1], 16) for line in f if line.strip())
    return out


def snapshot(dmn):
    t = dmn.query("/dpvpn/tunnel,1")
    ports = dmn.query("/dpvpn/ports")
    snap = {k: t[k] for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops")}
    snap["reorder"] = dict(t["reorder"])
    snap["drop_reasons"] = dict(t["drop_reasons"])
    snap["paths"] = {p: dict(t[p]) for p in ("path0", "path1") if p in t}
    snap["outside_imissed"] = ports["outside"]["imissed"]
    snap["outside_ipackets"] = ports["outside"]["ipackets"]
    snap["host"] = host_counters()
    snap["inside_imissed"] = ports["inside"]["imissed"]
    lc = dmn.query("/dpvpn/lcores").values()
    snap["busy_cycles"] = sum(w["busy_cycles"] for w in lc)
    snap["total_cycles"] = sum(w["total_cycles"] for w in lc)
    snap["time"] = time.time()
    return snap


def delta(before, after):
    d = {k: after[k] - before[k] for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops",
                                           "outside_imissed", "inside_imissed")}
    d["reorder"] = {k: after["reorder"].get(k, 0) - before["reorder"].get(k, 0) for k in WINDOW_KEYS}
    d["reorder"]["mode"] = after["reorder"].get("mode")
    d["reorder"]["held_at_end"] = after["reorder"].get("held")
    d["reorder"]["hold_us"] = after["reorder"].get("hold_us")
    d["reorder"]["window"] = after["reorder"].get("window")
    d["drop_reasons"] = {k: v - before["drop_reasons"].get(k, 0) for k, v in after["drop_reasons"].items()
                         if v - before["drop_reasons"].get(k, 0)}
    d["paths"] = {}
    for p, a in after["paths"].items():
        b = before["paths"].get(p, {})
        d["paths"][p] = {k: a.get(k, 0) - b.get(k, 0) for k in PATH_KEYS}
        d["paths"][p]["peer"] = a.get("peer")
        d["paths"][p]["state_at_end"] = a.get("state")
    d["outside_ipackets"] = after["outside_ipackets"] - before["outside_ipackets"]
    d["host"] = {k: v - before["host"].get(k, 0) for k, v in after["host"].items()}
    d["seconds"] = round(after["time"] - before["time"], 2)
    tot = after["total_cycles"] - before["total_cycles"]
    d["dpvpn_busy_percent"] = round(100.0 * (after["busy_cycles"] - before["busy_cycles"]) / tot, 1) if tot else None
    return d


def qdisc_stats(tc_text, dev):
    """{'sent': pkts, 'dropped': n} of the netem root qdisc of dev in the guest's tc -s output."""
    if not tc_text:
        return None
    m = re.search(rf"{dev}:\n(.*?)(?:\n(?:eth\d|filter):|\Z)", tc_text, re.S)
    if not m:
        return None
    block = m.group(1)
    n = re.search(r"qdisc netem .*?Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)", block, re.S)
    return {"sent_pkts": int(n.group(2)), "dropped": int(n.group(3))} if n else None


def dump_delays(text):
    """From 'tcpdump -i any -tt' lines: per GRE sequence number, eth1 time - eth0 time (ms)."""
    seen = {}
    for line in (text or "").splitlines():
        m = re.match(r"([\d.]+) (eth\d)\s+Out .*?seq (\d+)", line)
        if m:
            seen.setdefault(int(m.group(3)), {})[m.group(2)] = float(m.group(1))
    return [round((v["eth1"] - v["eth0"]) * 1000, 1) for v in seen.values() if "eth0" in v and "eth1" in v]


def mbps(r):
    return r["iperf"]["bps"] / 1e6 if r and r.get("iperf") else None


def goodput(runs, phase):
    vals = [mbps(r) for n, r in runs.items() if base(n) == phase]
    vals = [v for v in vals if v is not None]
    return sum(vals) / len(vals) if vals else None


def setup_bridge(env):
    """Bridge with the VM's two taps (added by run-vm's hook) and a veth for dpvpn."""
    br, outer_if, br_port = f"dvb{env.uid}", f"dvo{env.uid}", f"dvq{env.uid}"
    netenv.sh(["ip", "link", "add", br, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
    env.links.append(br)
    netenv.sh(["ip", "link", "add", outer_if, "type", "veth", "peer", "name", br_port])
    env.links.append(outer_if)
    for dev in (br, outer_if, br_port):
        netenv.sh(["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"], check=False)
    netenv.sh(["ip", "link", "set", br_port, "master", br])
    for dev in (br_port, outer_if, br):
        netenv.sh(["ip", "link", "set", dev, "up"])
    return br, outer_if


def run_boot(env, inside, work, br, outer_if, order, seconds, omit):
    cfg = os.path.join(work, "dpvpn.ini")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(outer_if=outer_if, veth=inside.host_if, dpvpn_outer=DPVPN_OUTER,
                              dpvpn_inner=DPVPN_INNER, guest_outer=GUEST_OUTER, guest_outer2=GUEST_OUTER2,
                              key=GRE_KEY))
    console = os.path.join(work, "console.log")
    HOST_DEVS.update({"tap": env.tap_name, "tap2": env.tap2_name, "bridge_port": outer_if.replace("dvo", "dvq"),
                      "outer_if": outer_if})
    vm_timeout = 90 + len(order) * (seconds + 2 * MARK_PAUSE + 30)
    genv = {"GUEST_OUTER": GUEST_OUTER, "GUEST_OUTER2": GUEST_OUTER2, "DPVPN_OUTER": DPVPN_OUTER,
            "GRE_KEY": GRE_KEY, "GUEST_INNER": GUEST_INNER, "HOST_INNER": HOST_INNER,
            "HOST_NET": "10.0.0.0/24", "IPERF_SECONDS": seconds, "IPERF_OMIT": omit,
            "MARK_PAUSE": MARK_PAUSE, "PHASES": " ".join(order)}
    for name in order:
        mirror, e0, e1, _ = PHASES[base(name)]
        genv[f"P_{name}_MIRROR"], genv[f"P_{name}_ETH0"], genv[f"P_{name}_ETH1"] = mirror, e0, e1
    # Both taps into the bridge; eth1's tap learns no MACs (the mirrored copies carry eth0's).
    hook = (f"ip link set $TAP master {br} && ip link set $TAP2 master {br} && "
            f"bridge link set dev $TAP2 learning off && touch {env.flag}")
    vm = env.start_vm(os.path.join(HERE, "guest-dualline.sh"), console, timeout=vm_timeout, env=genv,
                      tap2=True, extra=["--on-tap-up", hook])
    dmn = None
    try:
        env.wait_tap(timeout=120)
        dmn = Daemon(cfg, lcores="0", log_path=os.path.join(work, "dpvpn.log"))
        dmn.start()
        snaps, tail = {}, ConsoleTail(console)
        deadline = time.time() + vm_timeout + 30
        while True:
            for line in tail.new_lines():
                m = re.search(r"DPVPN-MARK (begin|end) (\S+)", line)
                if m:
                    snaps[(m.group(1), m.group(2))] = snapshot(dmn)
                    print(f"  {m.group(1)} {m.group(2)}", flush=True)
            if vm.proc.poll() is not None:
                break
            if dmn.proc.poll() is not None:
                raise RuntimeError(f"dpvpn died:\n{dmn.read_log()[-2000:]}")
            if time.time() > deadline:
                break
            time.sleep(0.05)
        rc = vm.wait(timeout=max(1, deadline - time.time()))
        final = dmn.query("/dpvpn/tunnel,1")
        dmn.stop()
        log = open(console, errors="replace").read()
        check(rc == 0, f"guest script exit code {rc}")
        check(dmn.returncode == 0, "dpvpn stopped cleanly on SIGTERM")
        leaked = dmn.mbufs_in_use_after_shutdown()
        check(leaked == 0, f"no mbuf in use after shutdown ({leaked})")
        probe = re.search(r"DPVPN-GRE2-PROBE (\w+)", log)
        runs = {}
        for name in order:
            mirror, e0, e1, _ = PHASES[base(name)]
            ping = section(log, f"DPVPN-PING-BEGIN {name}", f"DPVPN-PING-END {name}") or ""
            rtt = re.search(r"min/avg/max = ([\d.]+)/([\d.]+)/([\d.]+)", ping)
            tcs = section(log, f"DPVPN-TC-BEGIN {name}", f"DPVPN-TC-END {name}")
            dump = section(log, f"DPVPN-DUMP-BEGIN {name}", f"DPVPN-DUMP-END {name}")
            qd = re.search(rf"DPVPN-QDISC {re.escape(name)}: (.*)", log)
            mir = re.search(r"action order 1: mirred \(Egress Mirror to device eth1\).*?Sent \d+ bytes (\d+) pkt",
                            tcs or "", re.S)
            b, e = snaps.get(("begin", name)), snaps.get(("end", name))
            runs[name] = {
                "phase": base(name), "mirror": bool(mirror), "eth0_netem": e0 or None, "eth1_netem": e1 or None,
                "qdisc": qd.group(1).strip() if qd else None,
                "ping_rtt_ms": [float(x) for x in rtt.groups()] if rtt else None,
                "copy_delay_eth1_minus_eth0_ms": dump_delays(dump),
                "tcpdump": [ln for ln in (dump or "").splitlines() if " Out " in ln],
                "guest_eth0_netem": qdisc_stats(tcs, "eth0"), "guest_eth1_netem": qdisc_stats(tcs, "eth1"),
                "guest_mirred_pkts": int(mir.group(1)) if mir else None,
                "iperf": iperf_result(log, name),
                "counters": delta(b, e) if b and e else None,
            }
        return runs, {"final_tunnel": final, "guest_rc": rc, "mbufs_leaked": leaked,
                      "gre2_same_remote_key_other_local": probe.group(1) if probe else None}
    finally:
        if dmn is not None:
            dmn.stop()
        vm.kill()


def fmt(x, w=8, p=1):
    return f"{x:{w}.{p}f}" if isinstance(x, (int, float)) else f"{'-':>{w}}"


def print_table(runs):
    print()
    print(f"{'run':<5} {'Mbit/s':>8} {'retr':>6} {'rtt ms':>7} {'rx pkts':>8} {'accepted':>8} {'under_w':>8} "
          f"{'buffered':>8} {'dup':>8} {'lost':>6} {'p0 rx':>8} {'p1 rx':>6} {'p0 tx':>7} {'p1 tx':>6} "
          f"{'eth0 tx':>8} {'eth1 tx':>8} {'busy%':>6}")
    for run, r in runs.items():
        c = r["counters"] or {}
        w = c.get("reorder", {})
        p = c.get("paths", {})
        retr = r["iperf"]["retransmits"] if r.get("iperf") else None
        rtt = r["ping_rtt_ms"][1] if r.get("ping_rtt_ms") else None
        q0, q1 = r.get("guest_eth0_netem") or {}, r.get("guest_eth1_netem") or {}
        print(f"{run:<5} {fmt(mbps(r))} {fmt(retr, 6, 0)} {fmt(rtt, 7, 1)} {fmt(c.get('rx_packets'), 8, 0)} "
              f"{fmt(w.get('accepted'), 8, 0)} {fmt(w.get('under_window'), 8, 0)} {fmt(w.get('buffered'), 8, 0)} "
              f"{fmt(w.get('duplicated'), 8, 0)} {fmt(w.get('lost'), 6, 0)} "
              f"{fmt(p.get('path0', {}).get('rx_packets'), 8, 0)} {fmt(p.get('path1', {}).get('rx_packets'), 6, 0)} "
              f"{fmt(p.get('path0', {}).get('tx_packets'), 7, 0)} {fmt(p.get('path1', {}).get('tx_packets'), 6, 0)} "
              f"{fmt(q0.get('sent_pkts'), 8, 0)} {fmt(q1.get('sent_pkts'), 8, 0)} "
              f"{fmt(c.get('dpvpn_busy_percent'), 6, 1)}")
    print()


def write_chart(runs, path, seconds):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = [p for p in ("a", "b", "d", "c", "e") if any(base(n) == p for n in runs)]
    colors = {"a": "#3b6ea5", "b": "#2e8b57", "d": "#66b28a", "c": "#c0504d", "e": "#d99694"}
    fig, ax = plt.subplots(figsize=(10, 5.2))
    vals = [goodput(runs, p) or 0 for p in phases]
    bars = ax.bar(range(len(phases)), vals, 0.6, color=[colors[p] for p in phases])
    for j, p in enumerate(phases):
        singles = [mbps(r) for n, r in runs.items() if base(n) == p and mbps(r) is not None]
        if len(singles) > 1:
            ax.plot([j] * len(singles), singles, "o", color="black", markersize=3)
    for b, v in zip(bars, vals):
        ax.annotate(f"{v:.1f}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=9)
    ga = goodput(runs, "a")
    if ga:
        ax.axhline(0.9 * ga, color="grey", linestyle="--", linewidth=1)
        ax.annotate("90 % of (a)", (len(phases) - 0.5, 0.9 * ga), ha="right", va="bottom", fontsize=8, color="grey")
    ax.set_xticks(range(len(phases)))
    ax.set_xticklabels([PHASES[p][3] for p in phases], fontsize=8)
    ax.set_ylabel("iperf3 TCP goodput (upload VM -> namespace), Mbit/s")
    ax.set_title("Dual line: Linux ip_gre (iseq oseq), tc mirred copy eth0 -> eth1, netem per line"
                 f"{' (rate ' + RATE + ' each)' if RATE else ''}\n-> dpvpn redundant multi-path tunnel, "
                 f"window 2048 / 333 ms; TCG VM, {seconds} s per run, dots: single runs", fontsize=9)
    ax.set_ylim(0, max(vals + [1]) * 1.25)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", action="store_true", help="write JSON and PNG to perf/reorder/interop-results/")
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("IPERF_SECONDS", "10")))
    ap.add_argument("--quick", action="store_true", help="phases a, b, d, c once each")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root: skipped")
        return 77
    order = QUICK_ORDER if args.quick else ORDER
    omit = 2
    started = time.time()
    work = tempfile.mkdtemp(prefix="dpvpn-dualline-vm-")
    env = netenv.NetEnv(tag="d")
    try:
        inside = env.inside_host(HOST_INNER + "/24", DPVPN_INNER, routes=["10.99.0.0/24"])
        env.run_in_ns(inside.ns, ["iperf3", "-s", "-D"])
        br, outer_if = setup_bridge(env)
        saved = (check.passed, check.failed)
        runs, boot = run_boot(env, inside, work, br, outer_if, order, args.seconds, omit)
        if netenv.guest_tx_hung(os.path.join(work, "console.log")):
            # qemu under TCG sometimes stops serving a virtio TX queue: that boot measured nothing.
            print("the guest's virtio TX queue hung (qemu TCG, not dpvpn): booting once more", flush=True)
            check.passed, check.failed = saved
            runs, boot = run_boot(env, inside, work, br, outer_if, order, args.seconds, omit)
    finally:
        env.cleanup()
    elapsed = time.time() - started
    print_table(runs)
    for run, r in runs.items():
        print(f"{run}: {r['qdisc']}")
        print(f"{run}: copy delay eth1 - eth0 {r['copy_delay_eth1_minus_eth0_ms']} ms; mirred {r['guest_mirred_pkts']}"
              f" pkts; eth0 netem {r['guest_eth0_netem']}; eth1 netem {r['guest_eth1_netem']}")
        print(f"{run}: counters {json.dumps(r['counters'])}")
        c = r["counters"] or {}
        h = c.get("host", {})
        print(f"{run}: frames: guest->tap {h.get('tap_rx_packets')} + tap2 {h.get('tap2_rx_packets')}, "
              f"veth to dpvpn {h.get('outer_if_rx_packets')} (dropped {h.get('outer_if_rx_dropped')}), "
              f"dpvpn outside ipackets {c.get('outside_ipackets')}, softnet dropped {h.get('softnet_dropped')}")
    for run, r in runs.items():
        c = r["counters"] or {}
        if "outer_if_rx_packets" in c.get("host", {}):
            gone = c["host"]["outer_if_rx_packets"] - c["outside_ipackets"]
            r["frames_dropped_veth_to_dpvpn"] = gone
            if gone > 0:
                print(f"KNOWN ISSUE {run}: {gone} frames reached dpvpn's veth but not dpvpn (net_af_packet's "
                      f"socket ring overflowed while the lcore was off the CPU); dpvpn's outside imissed shows "
                      f"{c['outside_imissed']} (DPDK 22.11 af_packet does not report ring drops)")
    print(f"guest: a second GRE device with the same remote and key but another local address: "
          f"{boot['gre2_same_remote_key_other_local']}")

    g = {p: goodput(runs, p) for p in ("a", "b", "d", "c", "e")}
    ga, gb, gd, gc = g["a"], g["b"], g["d"], g["c"]
    check(None not in (ga, gb, gd, gc), f"iperf3 results for a, b, d, c: {g}")
    if None not in (ga, gb):
        # Issue target 90 %. Asserted: 75 %, still far above what a broken dedup or window gives
        # (TCP over a 2 % lossy 120 ms line alone, phase e, or duplicate/late deliveries).
        check(gb >= 0.75 * ga, f"(b) dual line {gb:.1f} >= 0.75 x (a) single clean line {ga:.1f} Mbit/s "
                               f"({gb / ga:.0%}; issue target 90 %: {'met' if gb >= 0.9 * ga else 'NOT met'})")
    if None not in (ga, gd):
        print(f"(d) dual line, loss on the fast line: {gd:.1f} Mbit/s = {gd / ga:.0%} of (a) "
              f"(90 %: {'met' if gd >= 0.9 * ga else 'NOT met'})")
    if None not in (gd, gc):
        check(gd >= 1.5 * gc, f"(d) dual line {gd:.1f} >= 1.5 x (c) its lossy fast line alone {gc:.1f} Mbit/s "
                              f"({gd / max(gc, 0.01):.1f}x)")
    for run, r in runs.items():
        c = r["counters"]
        check(c is not None, f"{run}: counters snapshotted around the run")
        if c is None:
            continue
        w, paths = c["reorder"], c["paths"]
        acc = w["accepted"]
        p0, p1 = paths.get("path0", {}), paths.get("path1", {})
        check(w["mode"] == "on", f"{run}: window mode on ({w['mode']})")
        check(p1.get("rx_packets") == 0 and p1.get("state_at_end") == "dead" and p0.get("state_at_end") == "alive",
              f"{run}: path1 ({p1.get('peer')}) silent and dead, path0 alive: {paths}")
        arrived = acc + w["duplicated"] + w["under_window"] + w["far_ahead"]
        check(abs(p0.get("rx_packets", 0) - arrived) <= max(10, arrived // 500),
              f"{run}: path0 rx {p0.get('rx_packets')} == accepted + duplicated + under_window + far_ahead {arrived}")
        check(p1.get("tx_packets", 1) == 0 and p0.get("tx_packets", 0) == c["tx_packets"],
              f"{run}: dpvpn sent only on the live path: path0 tx {p0.get('tx_packets')} == tunnel tx "
              f"{c['tx_packets']}, path1 tx {p1.get('tx_packets')}")
        check(w["under_window"] <= max(5, acc // 1000) and w["far_ahead"] == 0,
              f"{run}: under_window {w['under_window']}, far_ahead {w['far_ahead']} (<= 0.1 % of {acc})")
        if r["mirror"]:
            q1 = r["guest_eth1_netem"] or {}
            sent1 = q1.get("sent_pkts")
            check(acc > 0 and 0.9 * acc <= w["duplicated"] <= 1.01 * acc,
                  f"{run}: duplicated {w['duplicated']} ~ accepted {acc} x 0.98 "
                  f"({w['duplicated'] / max(acc, 1):.1%}): every packet arrived twice, the later copy dropped")
            # The guest's eth1 netem count covers the whole phase (pings too), the window's the iperf run.
            check(sent1 is not None and w["duplicated"] <= sent1 and w["duplicated"] >= 0.9 * sent1 - 100,
                  f"{run}: duplicated {w['duplicated']} matches the copies eth1 sent {sent1}")
            # A sequence number is lost only if both copies are missing. Frames the guest's netem
            # sent that never reached dpvpn (host bridge, qemu, af_packet) are counted here and
            # excuse at most that many (whole-phase guest counts vs the run's: +-ping packets).
            sent0 = (r["guest_eth0_netem"] or {}).get("sent_pkts") or 0
            missing = max(0, sent0 + (sent1 or 0) - p0.get("rx_packets", 0) - 40)
            r["frames_missing_before_dpvpn"] = missing
            check(w["lost"] <= max(3, acc // 10000, missing),
                  f"{run}: lost {w['lost']}: the other line filled the gaps (frames sent by the guest's "
                  f"netem but not received by dpvpn: {missing})")
            if r["phase"] == "d":
                check(w["buffered"] >= 0.005 * acc,
                      f"{run}: fast-line losses made the window wait for the slow copy: buffered {w['buffered']} "
                      f"({w['buffered'] / max(acc, 1):.1%} of {acc})")
            delays = r["copy_delay_eth1_minus_eth0_ms"]
            check(bool(delays) and all(80 <= x <= 140 for x in delays),
                  f"{run}: tcpdump in the guest: each GRE packet left eth1 ~100 ms after eth0: {delays}")
        else:
            check(w["duplicated"] == 0, f"{run}: single line, nothing duplicated ({w['duplicated']})")
    print(f"elapsed {elapsed:.0f} s")

    summary = {
        "what": "iperf3 TCP upload through Linux ip_gre (key 42, iseq oseq) in the kernel-peer VM -> dpvpn "
                "multi-path tunnel (peer = 192.0.2.2, 192.0.2.3; path_mode = redundant; window 2048, hold 333 ms) "
                "-> host namespace. Second line: tc mirred copy of every GRE frame from eth0 onto eth1; "
                "netem on each NIC.",
        "guest_tc": {
            "mirror": ["tc qdisc add dev eth0 clsact",
                       "tc filter add dev eth0 egress protocol ip prio 1 u32 match ip protocol 47 0xff "
                       "action mirred egress mirror dev eth1"],
            "phases": {p: {"mirror": bool(v[0]), "eth0": f"tc qdisc add dev eth0 root netem {v[1]}",
                           "eth1": f"tc qdisc add dev eth1 root netem {v[2]}" if v[2] else None}
                       for p, v in PHASES.items()},
        },
        "host": "bridge (stp off, forward_delay 0, no address, IPv6 off) with both taps and one end of a veth; "
                "dpvpn's outside port is net_af_packet on the other end; eth1's tap: learning off",
        "notes": [
            "The mirrored copies keep the original's source (192.0.2.2, eth0's MAC): the guest kernel's tc has "
            "no pedit/nat action. dpvpn therefore counts both copies on path0 and its one window drops the "
            "second copy (duplicated). path1 (192.0.2.3) is never heard, so dpvpn marks it dead and redundant "
            "mode sends only to 192.0.2.2: the ACK direction is single-line.",
            "guest gre1 has no `local`, so it would accept copies sent to either guest address; stock Linux "
            "iseq drops the second copy. A second gre2 (same remote and key, local 192.0.2.3) is also accepted "
            "by Linux (probe result below) but was not needed.",
            f"netem rate {RATE} per line: under TCG the guest's virtio TX is the bottleneck and mirroring doubles "
            "the guest's transmit work; the line rate makes the comparison one of lines, not of the VM's CPU.",
            "frames_dropped_veth_to_dpvpn per run: frames the host's veth received that dpvpn's net_af_packet "
            "never delivered (ring overflow while dpvpn's lcore was descheduled on this shared 2-core machine); "
            "dpvpn's outside imissed stays 0 because DPDK 22.11's af_packet PMD does not read PACKET_STATISTICS. "
            "When both copies of a packet fall into such drops the window counts it lost.",
            "Window 2048 covers the 100 ms delay difference up to ~20,000 packets/s (~245 Mbit/s of 1500-byte "
            "packets); beyond that the late copies would fall under the window (under_window, not duplicated) "
            "and fast-line gaps would exceed it: reorder_window must grow with rate x delay difference.",
        ],
        "gre2_same_remote_key_other_local": boot["gre2_same_remote_key_other_local"],
        "iperf_seconds": args.seconds, "iperf_omit_s": omit,
        "goodput_mbps": {run: mbps(r) for run, r in runs.items()},
        "goodput_mean_mbps": g,
        "ratios": {"b_over_a": gb / ga if ga and gb else None, "d_over_a": gd / ga if ga and gd else None,
                   "d_over_c": gd / gc if gd and gc else None},
        "target_90_percent_met_b": bool(ga and gb and gb >= 0.9 * ga),
        "runs": runs,
        "final_tunnel": boot["final_tunnel"],
        "guest_kernel": open(os.path.join(ROOT, ".vm-cache", "manifest.txt")).readline().strip()
        if os.path.exists(os.path.join(ROOT, ".vm-cache", "manifest.txt")) else None,
        "elapsed_s": round(elapsed),
        "checks": {"passed": check.passed, "failed": check.failed},
    }
    try:
        sys.path.insert(0, os.path.join(ROOT, "perf", "common"))
        import machine
        summary["machine"] = machine.describe()
    except Exception as e:  # noqa: BLE001 - the description is optional
        summary["machine"] = {"error": str(e)}
    print("RESULT " + json.dumps(summary["goodput_mean_mbps"]))
    if args.record:
        os.makedirs(RESULTS_DIR, exist_ok=True)
        with open(os.path.join(RESULTS_DIR, "dualline.json"), "w") as f:
            json.dump(summary, f, indent=1, sort_keys=True)
            f.write("\n")
        write_chart(runs, os.path.join(RESULTS_DIR, "dualline.png"), args.seconds)
        print("recorded", os.path.join(RESULTS_DIR, "dualline.json"), "and dualline.png")
    if check.failed or os.environ.get("KEEP"):
        print("artifacts kept in", work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
