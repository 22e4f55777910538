#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""PPTP end to end over memif: real sessions through dpvpn's control path, MPPE data over net_memif.

    perf/pptp/e2e.py [--sessions 1,64] [--seconds 3] [--cases all] [--build DIR] [--out DIR]
                     [--no-ceilings] [--keep]                                    # root

Per case (direction x MPPE mode x inner size x sessions) a fresh dpvpn runs with its outside port
= net_memif (server) and its inside port = net_null (decrypt: counts what is delivered) or net_pcap
with infinite_rx (encrypt: plain IPv4/UDP to the sessions' pool addresses, made with scapy).
pptp_peer (this folder) is the memif client; its net_tap interface is the only link of a client
namespace where perf/pptp_scale/loadgen.py opens the sessions over TCP 1723 and GRE (LCP,
MS-CHAPv2, IPCP, CCP MPPE-128), bridged by the peer to memif. Then the peer takes the sessions'
keys and call ids and either sends their MPPE data itself (decrypt: encrypted live with lib/crypto's
MPPE sender, 32 a burst, round robin) or counts and checks what dpvpn sends (encrypt).

Reported per case: the wall-clock rate delivered, dpvpn's worker busy share, and the capacity of
one worker lcore = packets / (busy_cycles / tsc_hz) from /dpvpn/lcores (the peer's encryption
costs as much as dpvpn's decryption and both share this 2-CPU machine, so the wall-clock rate is
the pair's, not dpvpn's). Beside it, from the same run: the memif I/O ceiling (run.py's testpmd
measurement) and bench_pptp's in-process dpvpn figure and MPPE ceiling. Checks (exit 1 when one
fails): every session up with the pool's first addresses, no drop counted by dpvpn or the peer in
the measured phase, decrypt: everything the peer sent delivered (per session, after draining),
encrypt: every frame with a good header and consecutive sequence numbers per session.
Writes results/e2e.json and results/e2e.png.
"""
import argparse
import importlib.util
import ipaddress
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "perf", "common"))
sys.path.insert(0, HERE)
import machine  # noqa: E402
from lineproc import LineProc  # noqa: E402
import netenv  # noqa: E402
import run as inproc  # noqa: E402  perf/pptp/run.py: memif_rate, run_bench, OUTER

DPVPN_OUTER, CLIENT, DPVPN_INNER, INNER_HOST = "198.18.0.1", "198.18.0.10", "198.18.1.1", "198.18.1.2"
INNER_HOST_MAC = "02:00:00:00:01:02"
INSIDE_MAC = ["02:00:00:00:00:00"]     # dpvpn's inside port (net_pcap's own MAC), learnt on the first start
POOL, LOCAL, POOL_FIRST = "198.19.0.0/16", "198.19.0.1", "198.19.0.2"
LOADGEN = os.path.join(ROOT, "perf", "pptp_scale", "loadgen.py")

CONFIG = """
[dpvpn]
mbufs = 16383
max_tunnels = 256
[outside]
device = net_memif0
devargs = role=server,socket={sock},socket-abstract=no,rsize=14
address = {outer}/24
[inside]
device = {inside_dev}
devargs = {inside_args}
address = {inner}/24
static_neighbors = {host} {host_mac}
{inside_mac}
[pptp]
enable = yes
secrets = chap-secrets
local_address = {local}
pool = {pool}
mppe = require
mppe_stateful = {stateful}
lcp_echo_interval = 0
max_sessions = 256
tap = {tap}
"""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# perf/pptp_scale/run.py: wait() (a bounded wait on a predicate) and session_ids()
_scale = _load("pptp_scale_run", os.path.join(ROOT, "perf", "pptp_scale", "run.py"))
wait, session_ids = _scale.wait, _scale.session_ids


def pool_addresses(n):
    first = ipaddress.ip_address(POOL_FIRST)
    return [str(first + i) for i in range(n)]


def make_pcap(path, n, size):
    """Inner IPv4/UDP of `size` bytes from the inside host to the first n pool addresses, round robin."""
    from scapy.all import IP, UDP, Ether, Raw, wrpcap
    pkts = []
    for k in range(max(n, 64)):
        dst = pool_addresses(n)[k % n]
        pkts.append(Ether(src=INNER_HOST_MAC, dst=INSIDE_MAC[0]) / IP(src=INNER_HOST, dst=dst, ttl=64) /
                    UDP(sport=1024 + k, dport=9) / Raw(bytes([k & 0xff]) * (size - 28)))
    wrpcap(path, pkts)


def snapshot(dmn, peer, tids):
    """dpvpn's worker, drops and sessions, and the peer's counters, read back to back."""
    s = {"t": time.time(), "lcores": dmn.query("/dpvpn/lcores"), "drops": dmn.query("/dpvpn/drops"),
         "peer": peer.call("stats")}
    s["sessions"] = {i: dmn.query(f"/dpvpn/session,{i}") for i in tids}
    return s


def worker(s):
    ws = list(s["lcores"].values())
    if len(ws) != 1:
        raise RuntimeError(f"expected one dpvpn worker, telemetry shows {len(ws)}")
    return ws[0]


def flat(d, prefix=""):
    """Numeric leaves of a nested dict, as {"a.b": v}."""
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[prefix + k] = v
    return out


def delta(a, b):
    fa, fb = flat(a), flat(b)
    return {k: fb[k] - fa.get(k, 0) for k in fb if fb[k] != fa.get(k, 0)}


SESSION_DROP_KEYS = ("drop", "lost", "bad", "err", "invalid", "discard", "reset", "refused")


def session_drops(d):
    """The counters of a session delta that count loss (by name)."""
    return {k: v for k, v in d.items() if any(x in k.lower() for x in SESSION_DROP_KEYS) and v}


def run_case(args, case, work, checks):
    direction, mode, size, n = case
    tag = f"{direction}-{mode}-{size}-{n}"
    res = {"direction": direction, "mode": mode, "inner_bytes": size, "sessions": n, "burst": 32,
           "outer_frame_bytes": size + inproc.OUTER}
    env = netenv.NetEnv(tag="e")
    uid = f"{env.uid}{len(checks) % 100}"
    ns, tap, ptap = f"dpe2e-{uid}", f"dpe{uid}", f"pe{uid}"
    sock = f"/run/dpvpn-e2e-{uid}.sock"
    cfg = os.path.join(work, f"dpvpn-{tag}.ini")
    dmn = peer = gen = None
    prefix = None
    failed = []

    def check(ok, what):
        checks.append((bool(ok), f"{tag}: {what}"))
        if not ok:
            failed.append(what)

    try:
        if direction == "encrypt":
            pcap = os.path.join(work, f"inside-{size}-{n}.pcap")
            make_pcap(pcap, n, size)
            # net_pcap cannot take a MAC address; dpvpn does not check the destination MAC inside.
            inside = ("net_pcap0", f"rx_pcap={pcap},infinite_rx=1,tx_pcap=/dev/null", "")
        else:
            inside = ("net_null0", "no-rx=1", "")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(sock=sock, outer=DPVPN_OUTER, inside_dev=inside[0], inside_args=inside[1],
                                  inside_mac=inside[2], inner=DPVPN_INNER, host=INNER_HOST, host_mac=INNER_HOST_MAC,
                                  local=LOCAL, pool=POOL, stateful="no" if mode == "stateless" else "allow",
                                  tap=tap))
        from dpvpn_harness import Daemon
        # lcore 0: dpvpn's main lcore (control, telemetry) shared with the peer; lcore 1: the worker.
        dmn = Daemon(cfg, lcores="0,1", memory_mb=1024, log_path=cfg + ".log")
        prefix = dmn.prefix
        dmn.start(timeout=60)
        if direction == "encrypt":
            # dpvpn drops frames not addressed to its MAC, and net_pcap cannot be given one: the
            # first time, learn the port's MAC, rewrite the pcap and start again.
            mac = dmn.query("/dpvpn/ports")["inside"]["mac"].lower()
            if mac != INSIDE_MAC[0]:
                dmn.stop(timeout=30)
                INSIDE_MAC[0] = mac
                make_pcap(pcap, n, size)
                dmn = Daemon(cfg, lcores="0,1", memory_mb=1024, log_path=cfg + ".log")
                prefix = dmn.prefix
                dmn.start(timeout=60)
        tsc_hz = dmn.query("/dpvpn/info")["tsc_hz"]

        netenv.sh(["ip", "netns", "add", ns])
        env.namespaces.append(ns)
        peer = LineProc(["ip", "netns", "exec", ns, os.path.join(args.build, "perf", "pptp", "pptp_peer"),
                         "-l", "0", "--no-huge", "-m", "512", "--no-pci", "--log-level=3",
                         "--file-prefix", f"pptp-peer-{uid}",
                         f"--vdev=net_memif0,role=client,socket={sock},socket-abstract=no",
                         f"--vdev=net_tap0,iface={ptap}", "--"], cfg + ".peer.log", "pptp_peer")
        if not peer.reply(60).get("ready"):
            raise RuntimeError("pptp_peer did not start")
        for c in (["ip", "addr", "add", CLIENT + "/24", "dev", ptap], ["ip", "link", "set", ptap, "up"],
                  ["ip", "link", "set", "lo", "up"], ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]):
            env.run_in_ns(ns, c)
        wait(lambda: peer.call("stats")["memif_up"], 30, "the memif link")

        gen = LineProc(["ip", "netns", "exec", ns, "/usr/bin/python3", "-W", "ignore", LOADGEN, "--server",
                        DPVPN_OUTER, "--sources", CLIENT, "--mppe", mode, "--mru", "1500", "--concurrency", "16", "--timeout",
                        str(args.setup_timeout)], cfg + ".loadgen.log", "loadgen")
        if not gen.reply(30).get("selftest"):
            raise RuntimeError("loadgen self-test failed")
        t0 = time.time()
        r = gen.call(json.dumps({"cmd": "open", "n": n, "ppp": n, "details": True}), args.setup_timeout + 30)
        res["setup_s"] = time.time() - t0
        res["setup"] = {k: r[k] for k in ("ok", "ppp_up", "failures", "retransmits")}
        sess = sorted(r.get("sessions", []), key=lambda s: s["address"])
        check(r["ok"] == n and r["ppp_up"] == n and len(sess) == n,
              f"{r['ppp_up']}/{n} sessions up with MPPE {mode} (failures {r['failures']})")
        got = sorted((s["address"] for s in sess), key=ipaddress.ip_address)
        check(got == pool_addresses(n), f"assigned addresses are the pool's first {n} ({got[:3]}...)")
        if failed:
            raise RuntimeError("session setup failed")

        dpvpn_mac = env.run_in_ns(ns, ["ip", "neigh", "show", DPVPN_OUTER]).stdout.split("lladdr")[1].split()[0]
        our_mac = env.run_in_ns(ns, ["cat", f"/sys/class/net/{ptap}/address"]).stdout.strip()
        sfile = os.path.join(work, f"sessions-{tag}.txt")
        with open(sfile, "w") as f:
            f.write(f"server {DPVPN_OUTER}\ninner_dst {INNER_HOST}\ndpvpn_mac {dpvpn_mac}\nour_mac {our_mac}\n"
                    f"size {size}\nstateless {1 if mode == 'stateless' else 0}\n")
            for s in sess:
                f.write(f"s {s['peer_call_id']} {s['call_id']} {s['source']} {s['address']} {s['next_seq']} "
                        f"{s['master_key']}\n")
        a = peer.call(f"load {sfile}")
        if not a.get("ok"):
            raise RuntimeError(f"pptp_peer load: {a}")
        tids = session_ids(dmn)
        check(len(tids) == n, f"dpvpn holds {len(tids)} sessions")
        # loadgen calls a session up when it sent its last Ack: dpvpn may not have read it yet.
        states = set()
        for _ in range(50):
            states = {dmn.query(f"/dpvpn/session,{i}").get("state") for i in tids}
            if states == {"open"}:
                break
            time.sleep(0.1)
        check(states == {"open"}, f"every session open in dpvpn within 5 s ({states})")

        if direction == "decrypt":
            s0 = snapshot(dmn, peer, tids)
            peer.call("decrypt")
        time.sleep(args.warmup)
        sa = snapshot(dmn, peer, tids)
        time.sleep(args.seconds)
        sb = snapshot(dmn, peer, tids)
        if direction == "decrypt":
            peer.call("idle")

            def drained():
                x = worker(snapshot(dmn, peer, tids))["tx_inside"]
                time.sleep(0.3)
                return x == worker(snapshot(dmn, peer, tids))["tx_inside"]
            wait(drained, 20, "dpvpn to drain")
        sc = snapshot(dmn, peer, tids)

        wa, wb = worker(sa), worker(sb)
        wall = sb["t"] - sa["t"]
        busy = wb["busy_cycles"] - wa["busy_cycles"]
        total = wb["total_cycles"] - wa["total_cycles"]
        key = "tx_inside" if direction == "decrypt" else "tx_outside"
        pkts = wb[key] - wa[key]
        res.update({"wall_s": wall, "dpvpn_packets": pkts, "wall_mpps": pkts / wall / 1e6,
                    "busy_share": busy / total if total else None,
                    "capacity_mpps": pkts / (busy / tsc_hz) / 1e6 if busy else None,
                    "tsc_hz": tsc_hz, "worker_delta": delta(wa, wb)})
        res["wall_mbps_inner"] = res["wall_mpps"] * size * 8
        res["capacity_mbps_inner"] = (res["capacity_mpps"] or 0) * size * 8
        pa, pb, pc = sa["peer"], sb["peer"], sc["peer"]
        res["peer_delta"] = {k: pb[k] - pa[k] for k in pb if isinstance(pb[k], (int, float))
                             and not isinstance(pb[k], bool)}
        # Every drop reason dpvpn counts, over the whole measured phase.
        first = s0 if direction == "decrypt" else sa
        last = sc if direction == "decrypt" else sb
        res["dpvpn_drops"] = dd = {k: v for k, v in delta(first["drops"], last["drops"]).items() if v}
        # Encrypt: the pcap source never runs dry, so dpvpn outruns the peer's one lcore and the
        # memif ring fills: tx_full is the peer's limit, reported, and no other drop may occur.
        tx_full = dd.get("tx_full", 0) if direction == "encrypt" else 0
        res["tx_full"] = tx_full
        other = {k: v for k, v in dd.items() if k != "tx_full" or direction == "decrypt"}
        check(not other, f"no drop counted by dpvpn{' but tx_full' if direction == 'encrypt' else ''} "
              f"(/dpvpn/drops: {dd})")
        sdrops = {}
        for i in tids:
            d = session_drops(delta(first["sessions"][i], last["sessions"][i]))
            if d:
                sdrops[i] = d
        res["session_drops"] = sdrops
        check(not sdrops, f"no session counted a drop or loss (/dpvpn/session,ID: {dict(list(sdrops.items())[:3])})")
        res["session_delta_example"] = delta(first["sessions"][tids[0]], last["sessions"][tids[0]])
        res["session_example"] = last["sessions"][tids[0]]
        if direction == "decrypt":
            sent = pc["gen_pkts"] - s0["peer"]["gen_pkts"]
            got = worker(sc)["tx_inside"] - worker(s0)["tx_inside"]
            res.update({"peer_sent": sent, "dpvpn_delivered": got})
            check(pc["tx_unsent"] == 0 and pc["mppe_refused"] == 0 and pc["alloc_fail"] == 0,
                  f"the peer sent every frame it made (unsent {pc['tx_unsent']}, MPPE refused {pc['mppe_refused']}, "
                  f"no mbuf {pc['alloc_fail']})")
            check(sent > 0 and got == sent, f"dpvpn delivered {got} of the {sent} packets the peer sent")
            per = {p["call_id"]: p["tx"] for p in pc["per_session"]}
            check(min(per.values()) > 0 and max(per.values()) - min(per.values()) <= 32,
                  f"every session sent data, round robin ({min(per.values())}..{max(per.values())})")
            # The peer's own rate: it encrypts live, on the other CPU.
            res["peer_gen_mpps"] = (pb["gen_pkts"] - pa["gen_pkts"]) / wall / 1e6
        else:
            rx = pb["rx_gre_data"] - pa["rx_gre_data"]
            res.update({"peer_received": rx, "peer_wall_mpps": rx / wall / 1e6})
            bad, unknown = pb["rx_bad_hdr"] - pa["rx_bad_hdr"], pb["rx_unknown_call"] - pa["rx_unknown_call"]
            check(bad == 0 and unknown == 0, f"every frame dpvpn sent has a good GRE v1 / PPP header and a "
                  f"known call id (bad {bad}, unknown {unknown})")
            seq_err = sum(p["rx_seq_err"] - q["rx_seq_err"] for p, q in zip(pb["per_session"], pa["per_session"]))
            # A break needs at least one lost frame: every one must be a counted tx_full drop
            # (one break per session of slack: the two sides are read one after the other).
            check(seq_err <= tx_full + len(tids), f"consecutive GRE sequence numbers per session but where "
                  f"dpvpn counted tx_full ({seq_err} breaks, {tx_full} tx_full)")
            per = [p["rx"] - q["rx"] for p, q in zip(pb["per_session"], pa["per_session"])]
            check(min(per) > 0, f"every session received data ({min(per)}..{max(per)} frames)")
            # The two counters are read one after the other, not at one instant.
            check(rx > 0 and abs(rx - pkts) <= 0.02 * pkts + 2000,
                  f"the peer received what dpvpn sent ({rx} vs {pkts})")
            check(pb["bridge_drops"] == pa["bridge_drops"], "the peer's bridge dropped nothing")
        log(f"{tag}: {res['wall_mpps']:.3f} Mpps wall, worker busy {res['busy_share']:.2f}, capacity "
            f"{res['capacity_mpps']:.3f} Mpps per lcore ({res['capacity_mbps_inner']:.0f} Mbit/s inner)"
            + (f"; peer generated {res['peer_gen_mpps']:.3f} Mpps" if direction == "decrypt" else ""))

        peer.stop("quit")
        peer = None
        gen.stop(json.dumps({"cmd": "quit"}))
        gen = None
        dmn.stop(timeout=30)
        res["dpvpn_exit"] = dmn.returncode
        res["mbufs_after_shutdown"] = dmn.mbufs_in_use_after_shutdown()
        check(dmn.returncode == 0 and res["mbufs_after_shutdown"] == 0,
              f"dpvpn exit {dmn.returncode}, mbufs in use after shutdown {res['mbufs_after_shutdown']}")
        dmn = None
    except (RuntimeError, TimeoutError, OSError, KeyError, IndexError, subprocess.SubprocessError) as e:
        check(False, f"{type(e).__name__}: {e}")
        res["error"] = str(e)
    finally:
        if peer is not None:
            peer.stop("quit")
        if gen is not None:
            gen.stop(json.dumps({"cmd": "quit"}))
        if dmn is not None:
            dmn.stop(timeout=30)
        env.cleanup()
        netenv.sh(["ip", "netns", "del", f"dpvpn-{tap}"], check=False)   # dpvpn's, if it was killed
        if os.path.exists(sock):
            os.unlink(sock)
        for d in (f"pptp-peer-{uid}", prefix):
            if d and os.path.isdir(f"/var/run/dpdk/{d}"):
                shutil.rmtree(f"/var/run/dpdk/{d}", ignore_errors=True)
    res["ok"] = not failed
    return res


def ceilings(args):
    """The memif I/O ceiling (run.py's testpmd pair) and bench_pptp's in-process figures, this run."""
    out = {"memif": {}, "inproc": {}}
    for size in args.sizes:
        wall, cpu = inproc.memif_rate(size + inproc.OUTER, args.seconds, f"e2e-{os.getpid()}-{size}")
        out["memif"][size] = {"wall_mpps": wall / 1e6, "cpu_mpps": (cpu or 0) / 1e6}
        log(f"memif I/O ceiling at {size + inproc.OUTER} B: {cpu / 1e6 if cpu else 0:.2f} Mpps per lcore CPU second "
            f"({wall / 1e6:.2f} wall)")
    os.environ["DPVPN_BUILD"] = args.build
    bench = inproc.run_bench(argparse.Namespace(runs=args.bench_runs, ms=100))
    for (mode, size, sess), j in bench.items():
        out["inproc"][f"{mode}:{size}:{sess}"] = {
            "decrypt_mpps": j["decrypt_pps"] / 1e6, "encrypt_mpps": j["encrypt_pps"] / 1e6,
            "arc4_mpps": j["arc4_pps"] / 1e6, "mppe_decrypt_mpps": j["mppe_decrypt_pps"] / 1e6,
            "mppe_encrypt_mpps": j["mppe_encrypt_pps"] / 1e6}
    return out


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rs = [r for r in results if r.get("capacity_mpps")]
    if not rs:
        return
    fig, ax = plt.subplots(figsize=(15, 5.4))
    bars = (("memif_io_mpps", "memif I/O ceiling (testpmd, per lcore CPU s)", "#bbbbbb"),
            ("mppe_ceiling_mpps", "MPPE alone, in process (bench_pptp)", "#e0a040"),
            ("inproc_mpps", "dpvpn in process (bench_pptp)", "#7fb2e0"),
            ("capacity_mpps", "dpvpn end to end: packets / busy s of its worker", "#2a6fb0"),
            ("wall_mpps", "end to end, wall clock (peer and dpvpn share 2 CPUs)", "#6a9a3a"))
    w = 0.16
    for k, (key, label, color) in enumerate(bars):
        xs = [i + (k - 2) * w for i in range(len(rs))]
        ax.bar(xs, [r.get(key) or 0 for r in rs], w, label=label, color=color)
        if key == "capacity_mpps":
            for x, r in zip(xs, rs):
                ax.text(x, r[key], f"{r[key]:.2f}", ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_yscale("log")
    ax.set_xticks(range(len(rs)))
    ax.set_xticklabels([f"{r['direction']}\n{r['mode']}\n{r['inner_bytes']} B, {r['sessions']} s" for r in rs],
                       fontsize=6)
    ax.set_ylabel("Mpps (log)")
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    ax.set_title("PPTP end to end over net_memif: real sessions (TCP 1723, LCP, MS-CHAPv2, IPCP, CCP), "
                 "MPPE-128 data from / to pptp_peer", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", default="1,64")
    ap.add_argument("--sizes", default="64,1400")
    ap.add_argument("--modes", default="stateless,stateful")
    ap.add_argument("--directions", default="decrypt,encrypt")
    ap.add_argument("--seconds", type=float, default=3.0, help="measured seconds per case (and memif ceiling)")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--setup-timeout", type=float, default=60.0)
    ap.add_argument("--bench-runs", type=int, default=5, help="bench_pptp's runs per case (in-process figure)")
    ap.add_argument("--no-ceilings", action="store_true", help="skip the memif and in-process ceilings")
    ap.add_argument("--build", default=os.environ.get("DPVPN_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("perf/pptp/e2e.py needs root")
    args.build = os.path.abspath(args.build)
    args.sizes = [int(x) for x in args.sizes.split(",")]
    os.environ["DPVPN_BIN"] = os.path.join(args.build, "app", "dpvpn", "dpvpn")
    for b in (os.environ["DPVPN_BIN"], os.path.join(args.build, "perf", "pptp", "pptp_peer")):
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} missing: ninja -C {args.build}")

    def on_signal(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    cases = [(d, m, s, int(n)) for d in args.directions.split(",") for m in args.modes.split(",")
             for s in args.sizes for n in args.sessions.split(",")]
    work = tempfile.mkdtemp(prefix="dpvpn-pptp-e2e-")
    with open(os.path.join(work, "chap-secrets"), "w") as f:
        f.write("# client server secret address (loadgen.py's users)\n")
        for i in range(max(int(n) for n in args.sessions.split(",")) + 1):
            f.write(f"u{i:05d} dpvpn pw-{i:05d}-scale *\n")
    checks, results, ceil = [], [], None
    t_start = time.time()
    try:
        for c in cases:
            results.append(run_case(args, c, work, checks))
        if not args.no_ceilings:
            ceil = ceilings(args)
    finally:
        if args.keep or any(not ok for ok, _ in checks):
            print("artifacts kept in", work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    for r in results:
        if ceil:
            ip = ceil["inproc"].get(f"{r['mode']}:{r['inner_bytes']}:{r['sessions']}", {})
            r["inproc_mpps"] = ip.get(f"{r['direction']}_mpps")
            r["mppe_ceiling_mpps"] = ip.get(f"mppe_{r['direction']}_mpps")
            r["arc4_ceiling_mpps"] = ip.get("arc4_mpps")
            r["memif_io_mpps"] = ceil["memif"][r["inner_bytes"]]["cpu_mpps"]
            if r.get("capacity_mpps") and r["inproc_mpps"]:
                r["capacity_vs_inproc"] = r["capacity_mpps"] / r["inproc_mpps"]
    head = f"{'case':34s} {'wall Mpps':>9s} {'busy':>5s} {'cap Mpps':>8s} {'Mbit/s':>7s} {'in-proc':>7s} " \
           f"{'MPPE':>6s} {'ARC4':>6s} {'memif':>6s}"
    print(head)
    for r in results:
        case = f"{r['direction']} {r['mode']} {r['inner_bytes']} B {r['sessions']} sess"
        if "capacity_mpps" not in r:
            print(f"{case:34s} failed: {r.get('error', '')}")
            continue
        f = lambda k: f"{r[k]:.3f}" if r.get(k) is not None else "-"  # noqa: E731
        print(f"{case:34s} {r['wall_mpps']:9.3f} {r['busy_share']:5.2f} {r['capacity_mpps']:8.3f} "
              f"{r['capacity_mbps_inner']:7.0f} {f('inproc_mpps'):>7s} {f('mppe_ceiling_mpps'):>6s} "
              f"{f('arc4_ceiling_mpps'):>6s} {f('memif_io_mpps'):>6s}")
    for ok, what in checks:
        if not ok:
            print("FAIL " + what)
    failed = sum(1 for ok, _ in checks if not ok)
    print(f"{len(checks) - failed}/{len(checks)} checks passed")

    os.makedirs(args.out, exist_ok=True)
    doc = {"benchmark": "pptp_e2e", "method": __doc__.strip().splitlines()[0],
           "command": "perf/pptp/e2e.py " + " ".join(sys.argv[1:]), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
           "machine": machine.describe(), "load_average": os.getloadavg(), "duration_s": time.time() - t_start,
           "settings": {k: v for k, v in vars(args).items() if k != "out"},
           "ceilings": ceil, "results": results, "checks": [{"ok": ok, "what": w} for ok, w in checks]}
    with open(os.path.join(args.out, "e2e.json"), "w") as f:
        json.dump(doc, f, indent=1)
    chart(results, os.path.join(args.out, "e2e.png"))
    print("wrote", os.path.join(args.out, "e2e.json"), "and e2e.png")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
