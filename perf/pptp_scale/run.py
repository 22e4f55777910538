#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""PPTP scale: thousands of control connections and sessions against dpvpn; memory per idle session.

A client namespace reaches dpvpn's outside port (net_af_packet on the host end of a veth); the
inside port is a veth into a second namespace. Everything uses 198.18.0.0/15 (RFC 2544's
benchmark range): outside 198.18.0.0/24, inside 198.18.1.0/24, the PPTP pool 198.19.0.0/16.
loadgen.py runs in the client namespace: per session one TCP control connection
(Start-Control-Connection, Outgoing-Call) and PPP over a raw GRE socket up to IPCP (LCP,
MS-CHAPv2, IPCP; CCP protocol-rejected, so dpvpn runs with mppe = allow).

For each N a fresh dpvpn (same configuration, sized for the largest N) is measured:
  idle 0      dpvpn's VmRSS, DPDK heap (/eal/heap_info,0), mbufs in use, /dpvpn/pptp
  ramp        N sessions opened `--concurrency` at a time: seconds, sessions/s
  idle N      after `--idle` seconds (LCP echoes answered): the same figures, and every
              session's state read from /dpvpn/session,ID (must be "open")
  teardown    the generator closes its TCP connections: seconds until dpvpn shows 0 sessions
              and 0 control connections; mbufs back to the idle-0 count; tunnel table empty;
              one more session then gets the pool's first address (addresses were returned)
  shutdown    SIGTERM: exit 0, no mbuf in use
Memory per idle session = (idle N - idle 0) / N, for RSS and for the DPDK heap.

    /usr/bin/python3 perf/pptp_scale/run.py [--sessions 1000,2000,4000] [--build DIR] [--profile]
        [--concurrency 200] [--idle 12] [--ppp-share 1.0] [--addresses 8] [--dpvpn-nofile N]
        [--out DIR] [--name scale]

Writes results/NAME.json and results/NAME.png (and results/profile-ctl-*.txt with --profile);
prints a table and the checks; exit 1 when a check failed. Needs root. See README.md.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "perf", "common"))
import machine  # noqa: E402
from lineproc import LineProc  # noqa: E402
import netenv  # noqa: E402

DPVPN_OUTER, DPVPN_INNER, HOST_INNER = "198.18.0.1", "198.18.1.1", "198.18.1.2"
POOL, LOCAL, POOL_FIRST = "198.19.0.0/16", "198.19.0.1", "198.19.0.2"
SOURCE_BASE = "198.18.0."           # client addresses .10, .11, ...

CONFIG = """
[dpvpn]
mbufs = {mbufs}
idle_sleep_us = 20
max_tunnels = {cap}
[outside]
device = net_af_packet0
devargs = iface={outside}
address = {outer}/24
{neighbors}
[inside]
device = net_af_packet1
devargs = iface={inside}
address = {inner}/24
[pptp]
enable = yes
secrets = chap-secrets
local_address = {local}
pool = {pool}
mppe = {mppe}
max_sessions = {cap}
max_connections = {cap}
tap = {tap}
"""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- measurements

def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "VmSize"):
                out[k + "_kB"] = int(v.split()[0])
            elif k in ("Threads", "FDSize"):
                out[k] = int(v.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def thread_cpu_s(pid, name):
    """utime + stime of the process's thread called name (seconds)."""
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() != name:
                    continue
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return None


def proc_cpu_s(pid):
    """utime + stime of a whole process (all threads), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_id(pid, name):
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() == name:
                    return int(tid)
        except OSError:
            continue
    return None


class Profile:
    """perf record of one thread (the control thread) between start() and stop(); a text report."""

    def __init__(self, enabled, pid, work, out_dir, tag):
        self.proc = None
        if not enabled or shutil.which("perf") is None:
            return
        tid = thread_id(pid, "dpvpn-ctl")
        self.data = os.path.join(work, f"perf-{tag}.data")
        self.report = os.path.join(out_dir, f"profile-ctl-{tag}.txt")
        if tid is not None:
            self.proc = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-t", str(tid), "-o", self.data],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        os.makedirs(os.path.dirname(self.report), exist_ok=True)
        r = subprocess.run(["perf", "report", "-i", self.data, "--stdio", "--no-children", "--sort", "dso,symbol",
                            "-g", "none", "--percent-limit", "0.5"], capture_output=True, text=True, timeout=120)
        with open(self.report, "w") as f:
            f.write(r.stdout)
        self.proc = None


def sockstat(ns):
    """/proc/net/sockstat's TCP line in dpvpn's namespace: inuse / alloc are the namespace's, mem (pages
    of socket buffers) is the whole kernel's."""
    r = netenv.sh(["ip", "netns", "exec", ns, "cat", "/proc/net/sockstat"], check=False)
    for line in r.stdout.splitlines():
        if line.startswith("TCP:"):
            p = line.split()[1:]
            return {p[i]: int(p[i + 1]) for i in range(0, len(p) - 1, 2)}
    return {}


def slab_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                return int(line.split()[1])
    return None


def sample(dmn, tap_ns):
    pid = dmn.proc.pid
    s = {"t": time.time()}
    s.update(proc_status(pid))
    heap = dmn.query("/eal/heap_info,0") or {}
    s["heap_alloc_bytes"] = int(heap.get("Alloc_size", 0))
    s["heap_alloc_count"] = int(heap.get("Alloc_count", 0))
    s["heap_size_bytes"] = int(heap.get("Heap_size", 0))
    info = dmn.query("/dpvpn/info")
    s["mbufs_in_use"] = info["mbufs_in_use"]
    s["workers"] = info["workers"]
    s["tunnels"] = info["tunnels"]
    # The stock /mempool/info has the pool's size but no in-use count in DPDK 22.11: that comes
    # from /dpvpn/info (rte_mempool_in_use_count).
    for name in dmn.query("/mempool/list") or []:
        m = dmn.query(f"/mempool/info,{name}") or {}
        s.setdefault("mempools", {})[name] = {k: m[k] for k in ("size", "cache_size", "elt_size", "populated_size")
                                               if k in m}
    s["pptp"] = dmn.query("/dpvpn/pptp")
    s["ctl_cpu_s"] = thread_cpu_s(pid, "dpvpn-ctl")
    s["dpvpn_cpu_s"] = proc_cpu_s(pid)
    s["kernel_tcp"] = sockstat(tap_ns)
    s["system_slab_kB"] = slab_kb()
    return s


def session_ids(dmn):
    """Every tunnel id, through /dpvpn/tunnels' pages (perf/pptp/e2e.py uses it too)."""
    ids, start = [], 0
    while True:
        page = dmn.query(f"/dpvpn/tunnels,{start}")
        ids += page["ids"]
        if "next" not in page:
            return ids
        start = page["next"]


def session_states(dmn):
    """Every session's state: the ids from session_ids, /dpvpn/session,ID reads each."""
    ids = session_ids(dmn)
    states, echo_replies, addrs, window = {}, 0, set(), {}
    for i in ids:
        s = dmn.query(f"/dpvpn/session,{i}")
        if not s:
            continue
        states[s["state"]] = states.get(s["state"], 0) + 1
        echo_replies += s.get("lcp_echo_replies", 0)
        addrs.add(s.get("address"))
        for k, v in (s.get("reorder") or {}).items():
            if isinstance(v, int):
                window[k] = window.get(k, 0) + v
    return {"sessions": len(ids), "states": states, "lcp_echo_replies": echo_replies,
            "distinct_addresses": len(addrs - {"0.0.0.0"}), "window_sums": window}


# ---------------------------------------------------------------- the generator process

class Generator(LineProc):
    """loadgen.py in the client namespace: JSON commands in, JSON answers out."""

    def __init__(self, env, ns, sources, concurrency, timeout, log_path):
        cmd = ["ip", "netns", "exec", ns, "/usr/bin/python3", os.path.join(HERE, "loadgen.py"),
               "--server", DPVPN_OUTER, "--sources", ",".join(sources), "--concurrency", str(concurrency),
               "--timeout", str(timeout)]
        super().__init__(cmd, log_path, "load generator")
        hello = self.reply(30)
        if not hello.get("selftest"):
            raise RuntimeError("loadgen self-test failed")

    def cmd(self, timeout, **cmd):
        """One loadgen command as JSON; its JSON answer."""
        return self.call(json.dumps(cmd), timeout)

    def stop(self):
        super().stop(json.dumps({"cmd": "quit"}))


# ---------------------------------------------------------------- the network

def client_ns(env, n_sources):
    """A namespace whose eth0 is the peer of dpvpn's outside veth; returns (ns, host_if, sources, mac)."""
    ns = f"dpsc-c{env.uid}"
    host_if, tmp = f"dso{env.uid}", f"dsp{env.uid}"
    netenv.sh(["ip", "netns", "add", ns])
    env.namespaces.append(ns)
    netenv.sh(["ip", "link", "add", host_if, "type", "veth", "peer", "name", tmp])
    env.links.append(host_if)
    netenv.sh(["ip", "link", "set", tmp, "netns", ns])
    env.run_in_ns(ns, ["ip", "link", "set", tmp, "name", "eth0"])
    sources = [f"{SOURCE_BASE}{10 + i}" for i in range(n_sources)]
    for a in sources:
        env.run_in_ns(ns, ["ip", "addr", "add", a + "/24", "dev", "eth0"])
    env.run_in_ns(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"], check=False)
    env.run_in_ns(ns, ["ip", "link", "set", "eth0", "up"])
    env.run_in_ns(ns, ["ip", "link", "set", "lo", "up"])
    # veths leave TCP checksums to "hardware"; dpvpn recomputes them when punting, but the
    # frames should be right on the wire anyway.
    env.run_in_ns(ns, ["ethtool", "-K", "eth0", "tx", "off"], check=False)
    mac = env.run_in_ns(ns, ["cat", "/sys/class/net/eth0/address"]).stdout.strip()
    netenv.sh(["sysctl", "-qw", f"net.ipv6.conf.{host_if}.disable_ipv6=1"], check=False)
    netenv.sh(["ip", "link", "set", host_if, "up"])
    return ns, host_if, sources, mac


def start_dpvpn(cfg, work, lcores, memory_mb, nofile, tag):
    from dpvpn_harness import Daemon
    dmn = Daemon(cfg, lcores=lcores, memory_mb=memory_mb, log_path=os.path.join(work, f"dpvpn-{tag}.log"))
    # Sockets are files: dpvpn gets its own descriptor limit (prlimit execs it: same pid).
    dmn.cmd = ["prlimit", f"--nofile={nofile}:{nofile}", "--"] + dmn.cmd
    dmn.start(timeout=60)
    return dmn


def query_slow(dmn, cmd, timeout):
    """One query on a fresh connection (a timed-out reply must not be read as the next one's)."""
    from dpvpn_harness import dpvpnctl
    t = dpvpnctl.Telemetry(dmn.prefix)
    try:
        t.sock.settimeout(timeout)
        return t.query(cmd)
    finally:
        t.close()


def wait(pred, timeout, what, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


# ---------------------------------------------------------------- one N

def run_one(args, env, cfg, work, ns, tap, sources, n, checks):
    res = {"sessions": n, "ppp": int(round(n * args.ppp_share)),
           # dpvpn needs about one descriptor per connection and 256 besides (drivers/pptp/control.c)
           "fd_limited": args.dpvpn_nofile < n + 256}
    tap_ns = f"dpvpn-{tap}"
    dmn = start_dpvpn(cfg, work, args.lcores, args.memory_mb, args.dpvpn_nofile, f"n{n}")
    gen = None
    try:
        gen = Generator(env, ns, sources, args.concurrency, args.setup_timeout, os.path.join(work, f"loadgen-{n}.log"))
        time.sleep(2)
        res["idle0"] = s0 = sample(dmn, tap_ns)
        log(f"N={n}: idle 0: RSS {s0['VmRSS_kB']} kB, heap {s0['heap_alloc_bytes']} B, "
            f"mbufs in use {s0['mbufs_in_use']}, fds {s0['fds']}")

        log(f"N={n}: opening {n} sessions ({res['ppp']} with PPP), {args.concurrency} at a time")
        prof = Profile(args.profile, dmn.proc.pid, work, args.out, f"ramp-{n}")
        g0 = proc_cpu_s(gen.proc.pid)
        r = gen.cmd(args.ramp_timeout, cmd="open", n=n, ppp=res["ppp"])
        res["loadgen_cpu_s"] = proc_cpu_s(gen.proc.pid) - g0
        prof.stop()
        res["ramp"] = r
        res["setup_s"] = r["seconds"]
        res["sessions_per_s"] = r["ok"] / r["seconds"] if r["seconds"] else 0
        res["ramp_end"] = sample(dmn, tap_ns)
        ctl0, ctl1 = s0["ctl_cpu_s"], res["ramp_end"]["ctl_cpu_s"]
        if ctl0 is not None and ctl1 is not None and r["ok"]:
            res["ctl_cpu_ms_per_session"] = (ctl1 - ctl0) * 1000 / r["ok"]
        # Who was busy during the ramp (shares of one CPU over its wall time)
        res["ramp_busy"] = {"dpvpn_ctl": (ctl1 - ctl0) / r["seconds"] if ctl1 is not None else None,
                            "dpvpn_all": (res["ramp_end"]["dpvpn_cpu_s"] - s0["dpvpn_cpu_s"]) / r["seconds"],
                            "loadgen": res["loadgen_cpu_s"] / r["seconds"]}
        log(f"N={n}: {r['ok']}/{n} set up in {r['seconds']:.1f}s ({res['sessions_per_s']:.0f}/s), "
            f"{r['ppp_up']} PPP up, failures {r['failures']}, retransmits {r['retransmits']}; CPU busy "
            + ", ".join(f"{k} {v:.2f}" for k, v in res["ramp_busy"].items() if v is not None))
        pr_ = res["ramp_end"]["pptp"]
        if res["fd_limited"]:
            # More connections than dpvpn may open files: the rest must be refused at once and
            # counted, not left waiting in the listen queue.
            served, refused = pr_["control_connections"], pr_["connections_refused"]
            res["served"], res["ppp"] = served, min(res["ppp"], served)
            closed_at_once = all(k.startswith("control connection closed") for k in r["failures"])
            checks.append((served + refused == n and r["ok"] == served and closed_at_once and served > 0,
                           f"N={n}: open files limited to {args.dpvpn_nofile}: {served} served, {refused} refused "
                           f"at once and counted (clients saw: {r['failures']})"))
        else:
            served = res["served"] = n
            checks.append((r["ok"] == n and r["ppp_up"] == res["ppp"],
                           f"N={n}: every control connection got SCCRP 1 and OCRP 1; {r['ppp_up']}/{res['ppp']} PPP up"))

        i0 = (thread_cpu_s(dmn.proc.pid, "dpvpn-ctl"), proc_cpu_s(dmn.proc.pid), time.time())
        time.sleep(args.idle)
        i1 = (thread_cpu_s(dmn.proc.pid, "dpvpn-ctl"), proc_cpu_s(dmn.proc.pid), time.time())
        # Idle sessions still cost: LCP echoes, PPTP echo timers, and the control loop's rounds.
        res["idle_busy"] = {"dpvpn_ctl": (i1[0] - i0[0]) / (i1[2] - i0[2]), "dpvpn_all": (i1[1] - i0[1]) / (i1[2] - i0[2])}
        res["idleN"] = sN = sample(dmn, tap_ns)
        # The same heap figure through DPDK's stock client, as an operator would read it.
        try:
            from guestlog import telemetry_py
            res["heap_info_stock_client"] = telemetry_py(dmn.prefix, "/eal/heap_info,0")
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as e:
            res["heap_info_stock_client"] = {"error": str(e)}
        res["states"] = st = session_states(dmn)
        res["loadgen_idle"] = gen.cmd(30, cmd="stats")
        p = sN["pptp"]
        log(f"N={n}: idle {n}: RSS {sN['VmRSS_kB']} kB, heap {sN['heap_alloc_bytes']} B, mbufs in use "
            f"{sN['mbufs_in_use']}, fds {sN['fds']}; sessions {p['sessions']}, connections "
            f"{p['control_connections']}, states {st['states']}, LCP echo replies {st['lcp_echo_replies']}; "
            f"window {st['window_sums']}; CPU busy while idle: control thread {res['idle_busy']['dpvpn_ctl']:.3f}, "
            f"all {res['idle_busy']['dpvpn_all']:.3f}")
        checks.append((p["sessions"] == served and p["control_connections"] == served,
                       f"N={n}: dpvpn holds {p['sessions']} sessions and {p['control_connections']} connections"))
        checks.append((st["states"].get("open", 0) == res["ppp"],
                       f"N={n}: telemetry shows {st['states'].get('open', 0)} sessions open ({st['states']})"))
        hs = res["heap_info_stock_client"]
        checks.append((hs.get("Alloc_size") == sN["heap_alloc_bytes"],
                       f"N={n}: dpdk-telemetry.py reads the same heap: Alloc_size {hs.get('Alloc_size')}"))
        checks.append((st["distinct_addresses"] == res["ppp"],
                       f"N={n}: {st['distinct_addresses']} distinct pool addresses"))
        res["rss_per_session_B"] = (sN["VmRSS_kB"] - s0["VmRSS_kB"]) * 1024 / served
        res["rss_anon_per_session_B"] = (sN["RssAnon_kB"] - s0["RssAnon_kB"]) * 1024 / served
        res["heap_per_session_B"] = (sN["heap_alloc_bytes"] - s0["heap_alloc_bytes"]) / served
        res["heap_allocs_per_session"] = (sN["heap_alloc_count"] - s0["heap_alloc_count"]) / served
        if s0["system_slab_kB"] and sN["system_slab_kB"]:
            # System-wide: both ends of every TCP connection, and whatever else the host does.
            res["system_slab_per_session_B"] = (sN["system_slab_kB"] - s0["system_slab_kB"]) * 1024 / served

        log(f"N={n}: closing the control connections")
        t0 = time.time()
        prof = Profile(args.profile, dmn.proc.pid, work, args.out, f"teardown-{n}")
        res["close"] = gen.cmd(60, cmd="close")
        # While dpvpn tears sessions down its control thread holds the tunnel table lock, which
        # telemetry needs too: the longest a query waited is recorded.
        slowest = [0.0]

        def closed():
            q0 = time.time()
            q = query_slow(dmn, "/dpvpn/pptp", args.teardown_timeout)
            slowest[0] = max(slowest[0], time.time() - q0)
            return q["sessions"] == 0 and q["control_connections"] == 0
        wait(closed, args.teardown_timeout, "sessions and connections to close", interval=0.05)
        res["teardown_s"] = time.time() - t0
        res["teardown_slowest_telemetry_s"] = slowest[0]
        prof.stop()
        res["teardown_per_s"] = served / res["teardown_s"]
        time.sleep(1)
        res["after"] = sa = sample(dmn, tap_ns)
        res["teardown_ctl_cpu_s"] = (sa["ctl_cpu_s"] - sN["ctl_cpu_s"]) if sa["ctl_cpu_s"] is not None else None
        log(f"N={n}: torn down in {res['teardown_s']:.2f}s (telemetry waited up to "
            f"{res['teardown_slowest_telemetry_s']:.2f}s); RSS {sa['VmRSS_kB']} kB, heap "
            f"{sa['heap_alloc_bytes']} B, mbufs in use {sa['mbufs_in_use']}, fds {sa['fds']}")
        tunnels = dmn.query("/dpvpn/tunnels")
        checks.append((sa["mbufs_in_use"] == s0["mbufs_in_use"],
                       f"N={n}: mbufs in use back to {s0['mbufs_in_use']} ({sa['mbufs_in_use']})"))
        checks.append((not tunnels.get("ids") and sa["tunnels"] == 0, f"N={n}: tunnel table empty"))
        # Reorder blocks (lib/reorder) are allocated on a window's first gap and kept by their
        # worker for reuse, up to reorder_blocks (256) each: the only allocations that may stay.
        extra_b = sa["heap_alloc_bytes"] - s0["heap_alloc_bytes"]
        extra_n = sa["heap_alloc_count"] - s0["heap_alloc_count"]
        res["heap_kept_after_teardown"] = {"bytes": extra_b, "allocations": extra_n}
        kept_blocks = extra_n > 0 and extra_b % extra_n == 0 and extra_n <= 256 * sa.get("workers", 1)
        checks.append((extra_b == 0 and extra_n == 0 or kept_blocks,
                       f"N={n}: DPDK heap back to {s0['heap_alloc_bytes']} B ({sa['heap_alloc_bytes']}"
                       + (f"; {extra_n} reorder blocks of {extra_b // extra_n} B kept for reuse)" if kept_blocks else ")")))
        checks.append((sa["fds"] == s0["fds"], f"N={n}: dpvpn's descriptors back to {s0['fds']} ({sa['fds']})"))
        p = sa["pptp"]
        checks.append((p["sessions_opened"] == p["sessions_closed"] == served
                       and p["connections_refused"] == n - served and p["sessions_refused"] == 0,
                       f"N={n}: opened {p['sessions_opened']} = closed {p['sessions_closed']}, "
                       f"refused {p['connections_refused']}/{p['sessions_refused']}"))

        # The pool hands out the lowest free address: the first one again if all came back.
        pr = gen.cmd(args.setup_timeout + 30, cmd="probe")
        res["probe"] = pr
        wait(lambda: dmn.query("/dpvpn/pptp")["sessions"] == 0, args.teardown_timeout, "the probe session to close")
        checks.append((pr["ok"] == 1 and pr["addresses"] == [POOL_FIRST],
                       f"N={n}: a new session after teardown gets {POOL_FIRST} again ({pr['addresses']})"))
        res["final_pptp"] = dmn.query("/dpvpn/pptp")
        res["drops"] = {k: v for k, v in dmn.query("/dpvpn/drops").items() if v}
        res["ports"] = dmn.query("/dpvpn/ports")
        gen.stop()
        gen = None
        dmn.stop(timeout=max(30, args.teardown_timeout))
        res["exit_code"] = dmn.returncode
        res["mbufs_after_shutdown"] = dmn.mbufs_in_use_after_shutdown()
        checks.append((dmn.returncode == 0 and res["mbufs_after_shutdown"] == 0,
                       f"N={n}: dpvpn exit {dmn.returncode}, mbufs in use after shutdown {res['mbufs_after_shutdown']}"))
        dmn = None
        return res
    finally:
        if gen is not None:
            gen.stop()
        if dmn is not None:
            dmn.stop(timeout=max(30, args.teardown_timeout))


# ---------------------------------------------------------------- output

def table(results):
    head = ["sessions", "setup s", "setup/s", "VmRSS MiB 0 -> N", "RSS B/sess", "malloc B/sess", "heap B/sess",
            "ctl CPU idle", "teardown s", "telemetry stall s", "mbufs 0/N/after"]
    rows = []
    for r in results:
        if "idleN" not in r:
            continue
        rows.append([r["served"], f"{r['setup_s']:.1f}", f"{r['sessions_per_s']:.0f}",
                     f"{r['idle0']['VmRSS_kB'] / 1024:.1f} -> {r['idleN']['VmRSS_kB'] / 1024:.1f}",
                     f"{r['rss_per_session_B']:.0f}", f"{r['rss_anon_per_session_B']:.0f}",
                     f"{r['heap_per_session_B']:.0f}", f"{r['idle_busy']['dpvpn_ctl'] * 100:.1f} %",
                     f"{r.get('teardown_s', float('nan')):.2f}", f"{r.get('teardown_slowest_telemetry_s', float('nan')):.2f}",
                     f"{r['idle0']['mbufs_in_use']}/{r['idleN']['mbufs_in_use']}/"
                     f"{r.get('after', {}).get('mbufs_in_use', '-')}"])
    w = [max([len(str(h))] + [len(str(x[i])) for x in rows]) for i, h in enumerate(head)]
    out = ["| " + " | ".join(str(h).ljust(w[i]) for i, h in enumerate(head)) + " |",
           "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    out += ["| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(x)) + " |" for x in rows]
    return "\n".join(out)


def chart(results, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rs = [r for r in results if "idleN" in r]
    if not rs:
        return
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.4))
    xs = [0] + [r["served"] for r in rs]
    mib = 2 ** 20
    a.plot(xs, [0] + [(r["idleN"]["VmRSS_kB"] - r["idle0"]["VmRSS_kB"]) * 1024 / mib for r in rs], "o-",
           label="VmRSS")
    a.plot(xs, [0] + [(r["idleN"]["heap_alloc_bytes"] - r["idle0"]["heap_alloc_bytes"]) / mib for r in rs], "s-",
           label="DPDK heap allocated (part of VmRSS)")
    a.plot(xs, [0] + [(r["idleN"]["RssAnon_kB"] - r["idle0"]["RssAnon_kB"]) * 1024 / mib for r in rs], "^-",
           label="RssAnon (malloc: connections, calls)")
    a.plot([r["served"] for r in rs if "after" in r],
           [(r["after"]["VmRSS_kB"] - r["idle0"]["VmRSS_kB"]) * 1024 / mib for r in rs if "after" in r], "x:",
           label="VmRSS after teardown (malloc keeps pages)")
    for r in rs:
        a.annotate(f"{r['rss_per_session_B']:.0f} B/session\n(heap {r['heap_per_session_B']:.0f})",
                   (r["served"], (r["idleN"]["VmRSS_kB"] - r["idle0"]["VmRSS_kB"]) * 1024 / mib),
                   textcoords="offset points", xytext=(-8, 4), ha="right", fontsize=7)
    a.set_xlabel("idle PPTP sessions (one control connection each)")
    a.set_ylabel("MiB above 0 sessions")
    a.set_title("dpvpn memory growth")
    a.grid(alpha=0.3)
    a.legend(fontsize=7, loc="upper left")
    ns = [r["served"] for r in rs]
    b.plot(ns, [r["sessions_per_s"] for r in rs], "o-", label="set up (TCP connect .. IPCP open)")
    b.plot(ns, [r.get("teardown_per_s", 0) for r in rs], "s-", label="torn down (generator closed TCP)")
    b.set_xlabel("sessions")
    b.set_ylabel("sessions / s")
    b.set_title("setup and teardown rate")
    b.grid(alpha=0.3)
    b.legend(fontsize=7)
    b.set_ylim(bottom=0)
    c.plot(ns, [r["idle_busy"]["dpvpn_ctl"] * 100 for r in rs], "o-", label="control thread, sessions idle")
    c.plot(ns, [r["ramp_busy"]["dpvpn_ctl"] * 100 for r in rs], "s-", label="control thread, during setup")
    c.set_xlabel("sessions")
    c.set_ylabel("% of one CPU")
    c.set_title("dpvpn control thread CPU")
    c.grid(alpha=0.3)
    c.legend(fontsize=7)
    c.set_ylim(bottom=0)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# ---------------------------------------------------------------- main

def source_state():
    """The commit measured, and the files that differed from it (the tree may be mid-edit)."""
    def git(*a):
        r = subprocess.run(["git", "-C", ROOT] + list(a), capture_output=True, text=True, timeout=20)
        return r.stdout
    try:
        return {"commit": git("rev-parse", "HEAD").strip(),
                "modified": [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()
                             if len(line) > 3]}
    except (OSError, subprocess.SubprocessError):
        return {}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", default="1000,2000,4000", help="N values, comma separated")
    ap.add_argument("--ppp-share", type=float, default=1.0,
                    help="share of the calls that also bring PPP up (the rest stop after the Outgoing-Call; "
                         "dpvpn closes those calls when LCP times out, about 30 s later)")
    ap.add_argument("--concurrency", type=int, default=200, help="setups in flight at once")
    ap.add_argument("--addresses", type=int, default=8, help="client source addresses")
    ap.add_argument("--idle", type=float, default=12.0, help="seconds idle before measuring (LCP echo: 10 s)")
    ap.add_argument("--mppe", default="allow", choices=["allow", "off"])
    ap.add_argument("--lcores", default="0", help="dpvpn EAL lcores (-l)")
    ap.add_argument("--memory-mb", type=int, default=512, help="dpvpn -m with --no-huge")
    ap.add_argument("--dpvpn-nofile", type=int, default=0, help="dpvpn's RLIMIT_NOFILE (0: 2 N + 1024)")
    ap.add_argument("--setup-timeout", type=float, default=90.0, help="seconds one session's setup may take")
    ap.add_argument("--ramp-timeout", type=float, default=900.0)
    ap.add_argument("--teardown-timeout", type=float, default=120.0)
    ap.add_argument("--build", default=os.environ.get("DPVPN_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--name", default="scale", help="results file names: NAME.json, NAME.png")
    ap.add_argument("--profile", action="store_true",
                    help="perf record dpvpn's control thread during ramp and teardown: results/profile-ctl-*.txt")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, config)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root")
        return 77
    ns_list = [int(x) for x in args.sessions.split(",") if x]
    nmax = max(ns_list)
    if nmax > 60000:
        ap.error("at most 60000 sessions (call ids, pool)")
    if not args.dpvpn_nofile:
        args.dpvpn_nofile = 2 * nmax + 1024
    os.environ["DPVPN_BIN"] = os.path.join(args.build, "app", "dpvpn", "dpvpn")
    if not os.access(os.environ["DPVPN_BIN"], os.X_OK):
        print(f"no dpvpn binary in {args.build} (meson setup DIR && ninja -C DIR; --build DIR)")
        return 1
    # The generator inherits this (one descriptor per connection, plus asyncio's).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(hard, 2 * nmax + 1024)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))

    # SIGTERM / SIGHUP take the finally path like ^C does.
    def on_signal(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    work = tempfile.mkdtemp(prefix="dpvpn-pptp-scale-")
    env = netenv.NetEnv(tag="s")
    tap = f"dpsc{os.getpid() % 100000}"
    checks, results = [], []
    t_start = time.time()
    try:
        ns, outside_if, sources, mac = client_ns(env, args.addresses)
        inside = env.inside_host(HOST_INNER + "/24", DPVPN_INNER, routes=[POOL], ns=f"dpsc-i{env.uid}",
                                 host_if=f"dsi{env.uid}")
        with open(os.path.join(work, "chap-secrets"), "w") as f:
            f.write("# client server secret address (written by perf/pptp_scale/run.py)\n")
            for i in range(nmax + 1 + len(ns_list)):
                f.write(f"u{i:05d} dpvpn pw-{i:05d}-scale *\n")
        cap = nmax + 64
        cfg = os.path.join(work, "dpvpn.ini")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(mbufs=16383, cap=cap, outside=outside_if, outer=DPVPN_OUTER,
                                  neighbors="\n".join(f"static_neighbors = {a} {mac}" for a in sources), inside=inside.host_if,
                                  inner=DPVPN_INNER, local=LOCAL, pool=POOL, mppe=args.mppe, tap=tap))
        log(f"work dir {work}; client namespace {ns} ({len(sources)} addresses), tap {tap}, "
            f"dpvpn nofile {args.dpvpn_nofile}")
        for n in ns_list:
            try:
                results.append(run_one(args, env, cfg, work, ns, tap, sources, n, checks))
            except (RuntimeError, TimeoutError, OSError) as e:
                checks.append((False, f"N={n}: {type(e).__name__}: {e}"))
                log(f"N={n} failed: {e}")
                results.append({"sessions": n, "error": str(e)})
    finally:
        env.cleanup()
        netenv.sh(["ip", "netns", "del", f"dpvpn-{tap}"], check=False)   # dpvpn's, if it was killed
        for d in os.listdir("/var/run/dpdk") if os.path.isdir("/var/run/dpdk") else []:
            if d.startswith(f"dpvpn-{os.getpid()}-"):
                shutil.rmtree(os.path.join("/var/run/dpdk", d), ignore_errors=True)
        if args.keep or any(not ok for ok, _ in checks):
            print("artifacts kept in", work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    os.makedirs(args.out, exist_ok=True)
    doc = {"benchmark": "pptp_scale", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
           "command": " ".join([os.path.relpath(sys.argv[0], ROOT) if sys.argv[0].startswith(ROOT) else sys.argv[0]]
                               + sys.argv[1:]),
           "machine": machine.describe(), "load_average": os.getloadavg(), "duration_s": time.time() - t_start,
           "source": source_state(), "dpvpn": os.environ["DPVPN_BIN"],
           "settings": {k: v for k, v in vars(args).items() if k not in ("out",)},
           "results": results, "checks": [{"ok": ok, "what": w} for ok, w in checks]}
    with open(os.path.join(args.out, args.name + ".json"), "w") as f:
        json.dump(doc, f, indent=1)
    chart(results, os.path.join(args.out, args.name + ".png"),
          f"perf/pptp_scale: {doc['machine']['cpu']} x{doc['machine']['cpus']}, dpvpn lcores {args.lcores}, "
          f"concurrency {args.concurrency}, {doc['date']}")
    print()
    print(table(results))
    for r in results:
        if "idleN" in r:
            print(f"memory per idle session at {r['served']}: {r['rss_per_session_B']:.0f} B of VmRSS = DPDK heap "
                  f"{r['heap_per_session_B']:.0f} B (tunnel + session) + malloc (RssAnon) {r['rss_anon_per_session_B']:.0f} B "
                  f"(connection + call); kernel socket memory not included")
    print()
    for ok, what in checks:
        print(("ok   " if ok else "FAIL ") + what)
    failed = sum(1 for ok, _ in checks if not ok)
    print(f"{len(checks) - failed}/{len(checks)} checks passed; results in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
