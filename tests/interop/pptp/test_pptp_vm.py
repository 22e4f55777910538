#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Interop: pptp-linux + pppd (kernel ppp_generic, ppp_mppe) in the kernel-peer VM dial dpvpn's PPTP server.

dpvpn's outside port is net_af_packet on the VM's tap (TCP 1723 goes to the kernel through the
exception TAP in its own namespace); its inside port is net_af_packet on a veth into a namespace
running iperf3 -s. The guest (guest-pptp.sh) dials again and again, through five dpvpn
configurations (the host restarts dpvpn when the guest says so): A: MPPE-128 stateless, MPPE-40,
no MPPE, CHAP-MD5 (no MPPE), a wrong password; B (stateful preferred): MPPE-128 stateful, then stateful under netem jitter;
C: the same jitter with dpvpn's reorder window off; D: stateless with the client's receive
window enforced; E: stateless with every session shaped to 4 Mbit/s. /dpvpn/sessions is polled
throughout.

Asserts: each good phase authenticates (MS-CHAPv2, or CHAP-MD5 in md5), gets a pool address,
pings and moves iperf3 data both ways; telemetry showed each session open with the
authentication and MPPE mode the phase asked for and its window counting packets; D: no data
packet went past the client's window and the window did hold data back; E: the session has its
own queue and iperf3 down stays under the rate; /dpvpn/drops keeps what closed sessions
dropped; the wrong password is refused (pppd exit 19, an
auth_failure counted); every hang-up removes its session and address; under jitter the window
buffers (on) or drops late packets (off); no mbuf leaked. Prints the jitter table.

Needs root. Exit 77 (skip) when not root.
"""
import ipaddress
import json
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from checks import Checks, one_more_boot  # noqa: E402
from dpvpn_harness import Daemon  # noqa: E402
import netenv  # noqa: E402
from guestlog import iperf_result, section, telemetry_py  # noqa: E402

GUEST_OUTER, DPVPN_OUTER = "192.0.2.2", "192.0.2.1"
HOST_INNER, DPVPN_INNER = "10.0.0.2", "10.0.0.1"
POOL, LOCAL = "10.99.0.0/24", "10.99.0.1"
USER, PASSWORD = "alice", "s3cret-Pptp"
SHAPER_MBIT = 4
# Server configurations in the order the guest meets them: phase -> the MPPE mode its session
# must show in telemetry; the wrong-password dial is in A.
GROUPS = [
    ("A", "mppe_stateful = allow\nauth = mschapv2, chap-md5\nmppe_bits = any",
     {"stateless": "128 stateless", "mppe40": "40 stateless", "clear": "off", "md5": "off"}),
    ("B", "mppe_stateful = prefer", {"stateful": "128 stateful", "jitter-on": "128 stateful"}),
    ("C", "mppe_stateful = prefer\nreorder = off", {"jitter-off": "128 stateful"}),
    ("D", "peer_window = enforce", {"windowed": "128 stateless"}),
    ("E", f"shaper_rate = {SHAPER_MBIT}mbit", {"shaped": "128 stateless"}),
]
JITTER = ("jitter-on", "jitter-off")

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
[pptp]
enable = yes
secrets = chap-secrets
local_address = {local}
pool = {pool}
mppe = allow
tap = {pptp_tap}
{extra}
"""

check = Checks("interop-pptp-vm", verbose=True)


def poll_sessions(dmn, seen):
    """Records every session telemetry shows (last view per id) and, once open, its window."""
    sessions = dmn.query("/dpvpn/sessions")
    for sid, s in sessions.items():
        if sid == "count":
            continue
        view = seen.setdefault(sid, {})
        view.update(s)
        if s["state"] == "open":
            detail = dmn.query(f"/dpvpn/session,{sid}")
            if detail:
                view["detail"] = detail
    return sessions["count"]


def check_phase(log, pool, phase, mode, seen):
    """What the guest printed for one good phase, and what telemetry showed of its session."""
    up = re.search(rf"DPVPN-UP {phase} ([\d.]+)", log)
    check(up is not None and ipaddress.ip_address(up.group(1)) in pool and up.group(1) != LOCAL,
          f"{phase}: ppp0 got a pool address ({up and up.group(1)})")
    if phase not in JITTER:
        ping = section(log, f"DPVPN-PING-BEGIN {phase}", f"DPVPN-PING-END {phase}") or ""
        m = re.search(r"(\d+) packets transmitted, (\d+) packets received", ping)
        # The first echo can race IPCP's last Ack on the client's side: allow one loss.
        check(m is not None and int(m.group(2)) >= int(m.group(1)) - 1,
              f"{phase}: pings through the session answered ({m.groups() if m else None})")
        for d in ("up", "down"):
            r = iperf_result(log, f"{phase}-{d}")
            check(r is not None and r["bps"] > 0, f"{phase}: iperf3 {d} {r['bps'] / 1e6 if r else 0:.1f} Mbit/s")
    ex = re.search(rf"DPVPN-PPPD-EXIT {phase} (\S+)", log)
    # pppd ends with 5 (stopped by our signal) or 16 (pptp, killed with it, hung up first).
    check(ex is not None and ex.group(1) in ("5", "16"), f"{phase}: pppd hung up (exit {ex and ex.group(1)})")
    # Sessions in one group share the pool's first address: the mode and auth tell them apart.
    auth = "chap-md5" if phase == "md5" else "mschapv2"
    views = [v for v in seen.values() if v.get("state") == "open" and v.get("mppe") == mode
             and up is not None and v.get("address") == up.group(1)
             and v.get("detail", {}).get("auth") == auth]
    check(len(views) >= 1 and views[-1]["user"] == USER and views[-1]["peer"] == GUEST_OUTER,
          f"{phase}: telemetry showed the session open, user {USER}, auth {auth}, mppe '{mode}', its address "
          f"({[(v.get('user'), v.get('detail', {}).get('auth'), v.get('mppe'), v.get('address')) for v in seen.values()]})")
    if views and "detail" in views[-1]:
        win = views[-1]["detail"]["reorder"]
        check(win["accepted"] > 0 and win["duplicated"] == 0,
              f"{phase}: the session's window accepted the client's packets ({win})")
    else:
        check(False, f"{phase}: /dpvpn/session,ID read while open")


def last_open_detail(views):
    details = [v["detail"] for v in views.values() if v.get("state") == "open" and "detail" in v]
    return details[-1] if details else {}


def check_window_and_shaper(log, seen):
    """D: the client's window respected; E: the session shaped. Prints the figures beside A's."""
    base = iperf_result(log, "stateless-down")
    d = last_open_detail(seen["D"])
    down = iperf_result(log, "windowed-down")
    # Data waits for acks in the queue: only PPP control frames (never held) may pass the window.
    check(d.get("peer_window_mode") == "enforce" and d.get("peer_window", 0) > 0
          and d.get("beyond_peer_window", 1) <= d.get("ppp_control_tx", 0)
          and d.get("qos", {}).get("rate_bps") == 0,
          f"windowed: client window {d.get('peer_window')} enforced, beyond it {d.get('beyond_peer_window')} "
          f"(control frames sent {d.get('ppp_control_tx')}), unshaped queue {d.get('qos', {}).get('mode')}")
    check(d.get("peer_window_waits", 0) > 0 and d.get("qos", {}).get("enqueued", 0) > 0,
          f"windowed: the window held data back {d.get('peer_window_waits')} times, "
          f"{d.get('qos', {}).get('enqueued')} packets queued, timeouts {d.get('peer_window_timeouts')}")
    if base and down:
        print(f"peer window enforced: iperf3 down {down['bps'] / 1e6:.2f} Mbit/s vs counted (phase "
              f"stateless) {base['bps'] / 1e6:.2f} Mbit/s, ratio {down['bps'] / base['bps']:.2f}")
    e = last_open_detail(seen["E"])
    shaped = iperf_result(log, "shaped-down")
    rate = SHAPER_MBIT * 1e6
    check(e.get("qos", {}).get("rate_bps") == rate and e.get("peer_window_mode") == "count",
          f"shaped: the session has its own shaper at {e.get('qos', {}).get('rate_bps')} bit/s")
    # iperf3 counts TCP payload; the shaper counts inner packets plus PPTP's outer headers.
    check(shaped is not None and 0.3 * rate < shaped["bps"] <= 1.02 * rate,
          f"shaped: iperf3 down {shaped and shaped['bps'] / 1e6:.2f} Mbit/s within the {SHAPER_MBIT} Mbit/s "
          f"shaper (queued {e.get('qos', {}).get('enqueued')}, sojourn p90 {e.get('qos', {}).get('sojourn_p90_us')} us)")


def close_group(dmn, group, seen, phases, badpass):
    """After a server configuration's phases: every session gone, counters right, clean stop."""
    dmn.wait_for(lambda: dmn.query("/dpvpn/pptp")["sessions"] == 0, timeout=20, what="sessions to close")
    dmn.wait_for(lambda: dmn.query("/dpvpn/pptp")["control_connections"] == 0, timeout=20,
                 what="control connections to close")
    pptp = telemetry_py(dmn.prefix, "/dpvpn/pptp")
    calls = len(phases) + (1 if badpass else 0)
    check(pptp["sessions_up"] == len(phases), f"{group}: {len(phases)} sessions reached IPCP ({pptp['sessions_up']})")
    if badpass:
        check(pptp["auth_failures"] >= 1, f"{group}: the wrong password counted as an auth failure "
              f"({pptp['auth_failures']})")
    check(pptp["sessions_opened"] == pptp["sessions_closed"] == calls,
          f"{group}: sessions opened = closed = {calls} ({pptp['sessions_opened']}, {pptp['sessions_closed']})")
    tunnels = dmn.query("/dpvpn/tunnels")
    check(tunnels["count"] == 0, f"{group}: no session tunnel left in the table ({tunnels})")
    totals = dmn.query("/dpvpn/drops")
    drops = {k: v for k, v in totals.items() if v}
    # Closed sessions' counters stay in the sums: no reason below what the sessions showed while open
    # (the window-off group's late packets make this bite every run).
    shown = {}
    for v in seen.values():
        d = v.get("detail", {})
        for k, n in d.get("drop_reasons", {}).items():
            shown[k] = shown.get(k, 0) + n
        for k in ("under_window", "duplicated", "far_ahead"):
            shown["window_" + k] = shown.get("window_" + k, 0) + d.get("reorder", {}).get(k, 0)
    short = {k: (n, totals.get(k, 0)) for k, n in shown.items() if totals.get(k, 0) < n}
    check(not short, f"{group}: /dpvpn/drops kept the closed sessions' drops "
          f"({ {k: n for k, n in shown.items() if n} } seen while open; below that: {short})")
    for sid, v in seen.items():
        d = v.get("detail", {})
        print(f"{group}: session {sid} {v.get('mppe')} rx {d.get('rx_packets')} tx {d.get('tx_packets')} "
              f"window {d.get('reorder')} resets rx {d.get('ccp_resets_rx')} tx {d.get('ccp_resets_tx')} "
              f"drops {({k: n for k, n in d.get('drop_reasons', {}).items() if n})}")
    print(f"{group}: pptp {json.dumps(pptp)}\n{group}: drops {drops}")
    dmn.stop()
    check(dmn.returncode == 0, f"{group}: dpvpn stopped cleanly on SIGTERM")
    check(dmn.mbufs_in_use_after_shutdown() == 0, f"{group}: no mbuf in use after shutdown")
    return pptp


def link_died(work):
    """Whether dpvpn closed a session because the client's PPP link went silent (see main)."""
    if netenv.guest_tx_hung(os.path.join(work, "console.log")):
        print("the guest kernel reported its virtio TX queue hung (NETDEV WATCHDOG)")
        return True
    for name in os.listdir(work):
        if name.startswith("dpvpn-") and name.endswith(".log"):
            with open(os.path.join(work, name), errors="replace") as f:
                if "closed: no LCP echo reply" in f.read():
                    return True
    return False


def run_once():
    """One VM boot through the five configurations: (exit code, whether a link died)."""
    seconds = int(os.environ.get("IPERF_SECONDS", "3"))
    jitter_seconds = int(os.environ.get("JITTER_SECONDS", "8"))
    work = tempfile.mkdtemp(prefix="dpvpn-pptp-vm-")
    env = netenv.NetEnv(tag="p")
    vm = None
    dmn = None
    seen, finals = {}, {}
    try:
        inside = env.inside_host(HOST_INNER + "/24", DPVPN_INNER, routes=[POOL])
        ports = {}
        for _, _, phases in GROUPS:
            for phase in phases:
                ports[phase] = 5201 + len(ports)
                env.run_in_ns(inside.ns, ["iperf3", "-s", "-D", "-p", str(ports[phase])])
        with open(os.path.join(work, "chap-secrets"), "w") as f:
            f.write(f"# client server secret address\n{USER} dpvpn {PASSWORD} *\n")
        pptp_tap = f"dpp{os.getpid() % 100000}"

        def config(extra, name):
            path = os.path.join(work, f"dpvpn-{name}.ini")
            with open(path, "w") as f:
                f.write(CONFIG.format(tap=env.tap_name, veth=inside.host_if, dpvpn_outer=DPVPN_OUTER,
                                      dpvpn_inner=DPVPN_INNER, local=LOCAL, pool=POOL, pptp_tap=pptp_tap,
                                      extra=extra))
            return path

        console = os.path.join(work, "console.log")
        vm_timeout = 540 + 14 * seconds + 2 * jitter_seconds
        vm = env.start_vm(os.path.join(HERE, "guest-pptp.sh"), console, timeout=vm_timeout,
                          env={"GUEST_OUTER": GUEST_OUTER, "DPVPN_OUTER": DPVPN_OUTER,
                               "HOST_INNER": HOST_INNER, "HOST_NET": "10.0.0.0/24",
                               "PPTP_USER": USER, "PPTP_PASS": PASSWORD, "IPERF_SECONDS": seconds,
                               "JITTER_SECONDS": jitter_seconds,
                               **{"PORT_" + p.replace("-", "_"): port for p, port in ports.items()}})
        env.wait_tap(timeout=60)
        deadline = time.time() + vm_timeout + 30
        for gi, (group, extra, phases) in enumerate(GROUPS):
            dmn = Daemon(config(extra, group), lcores="0", log_path=os.path.join(work, f"dpvpn-{group}.log"))
            dmn.start()
            seen[group] = {}
            # Poll the sessions while the guest dials; the guest's restart marker (or its exit) ends the group.
            marker = f"DPVPN-RESTART {GROUPS[gi + 1][0]}" if gi + 1 < len(GROUPS) else None
            while vm.proc.poll() is None and time.time() < deadline:
                poll_sessions(dmn, seen[group])
                if marker and marker in open(console, errors="replace").read():
                    break
                time.sleep(0.3)
            finals[group] = close_group(dmn, group, seen[group], phases, badpass=(group == "A"))
            dmn = None
        rc = vm.wait(timeout=10)
        log = open(console, errors="replace").read()
        check(rc == 0, f"guest script exit code {rc}")
        check("DPVPN-FAIL" not in log, "no guest step failed")
        pool = ipaddress.ip_network(POOL)
        for group, extra, phases in GROUPS:
            for phase, mode in phases.items():
                check_phase(log, pool, phase, mode, seen[group])
        bad = section(log, "DPVPN-PHASE-BEGIN badpass", "DPVPN-PHASE-END badpass") or ""
        ex = re.search(r"DPVPN-PPPD-EXIT badpass (\S+)", bad)
        # pppd ends with 19 (EXIT_AUTH_TOPEER_FAILED) or 16 when pptp hangs up first.
        check("MS-CHAP authentication failed" in bad and "DPVPN-UP badpass" not in log
              and ex is not None and ex.group(1) in ("19", "16"),
              f"badpass: the server refused the wrong password (pppd exit {ex and ex.group(1)})")

        # Jitter: the window (on) restores order under netem; off drops what comes late.
        table = {}
        for phase in JITTER:
            r = iperf_result(log, f"{phase}-up")
            group = "B" if phase == "jitter-on" else "C"
            views = [v for v in seen[group].values() if v.get("detail") and v.get("id") == max(
                (x.get("id", 0) for x in seen[group].values()), default=None)]
            win = views[0]["detail"]["reorder"] if views else {}
            table[phase] = {"bps": r and r["bps"], "retransmits": r and r["retransmits"], "window": win}
            check(r is not None and r["bps"] > 0, f"{phase}: iperf3 up {r and r['bps'] / 1e6:.1f} Mbit/s "
                  f"(retransmits {r and r['retransmits']}) window {win}")
        on, off = table["jitter-on"]["window"], table["jitter-off"]["window"]
        check(on.get("buffered", 0) > 0, f"window on: netem's reordering was buffered ({on.get('buffered')})")
        check(off.get("under_window", 0) > 0, f"window off: late packets dropped ({off.get('under_window')})")
        if table["jitter-on"]["bps"] and table["jitter-off"]["bps"]:
            print(f"jitter 3ms+-1ms, stateful MPPE-128, iperf3 up: window on "
                  f"{table['jitter-on']['bps'] / 1e6:.2f} Mbit/s, off {table['jitter-off']['bps'] / 1e6:.2f} Mbit/s, "
                  f"on/off {table['jitter-on']['bps'] / table['jitter-off']['bps']:.2f}")
        check_window_and_shaper(log, seen)
        summary = {"phases": {p: {d: (iperf_result(log, f"{p}-{d}") or {}).get("bps") for d in ("up", "down")}
                              for _, _, ph in GROUPS for p in ph if p not in JITTER},
                   "jitter": table, "pptp": finals}
        print("RESULT " + json.dumps(summary))
    except (TimeoutError, RuntimeError) as e:
        # A wait that ran out: say which, with what dpvpn and the guest printed, and keep the files.
        check(False, f"{type(e).__name__}: {e}")
        if dmn is not None and dmn.proc is not None:
            try:
                print("drops:", {k: v for k, v in dmn.query("/dpvpn/drops").items() if v})
                print("pptp:", dmn.query("/dpvpn/pptp"))
                print("ports:", dmn.query("/dpvpn/ports"))
                print("lcores:", dmn.query("/dpvpn/lcores"))
            except (OSError, ValueError, KeyError):
                pass
            # Where frames stopped: the kernel's side of each port against dpvpn's, and whether
            # dpvpn's threads are in their loops.
            print("host tap:", netenv.link_counters(env.tap_name), "host veth:",
                  netenv.link_counters(inside.host_if), "threads:", dmn.thread_states())
        for group, views in seen.items():
            for sid, v in views.items():
                d = v.get("detail", {})
                print(f"{group}: session {sid} {v.get('state')} {v.get('mppe')} rx {d.get('rx_packets')} "
                      f"tx {d.get('tx_packets')} acks rx {d.get('acks_rx')} only tx {d.get('acks_only_tx')} "
                      f"seq rx {d.get('rx_seq')} tx {d.get('tx_seq')} peer_ack {d.get('peer_ack')} "
                      f"resets rx {d.get('ccp_resets_rx')} tx {d.get('ccp_resets_tx')} "
                      f"drops {({k: n for k, n in d.get('drop_reasons', {}).items() if n})}")
        for name in sorted(os.listdir(work)):
            if name.endswith(".log"):
                with open(os.path.join(work, name), errors="replace") as f:
                    print(f"--- {name} (last 40 lines)\n" + "".join(f.readlines()[-40:]))
    finally:
        if dmn is not None:
            dmn.stop()
        if vm is not None:
            vm.kill()
        env.cleanup()
        died = link_died(work)
        if check.failed or os.environ.get("KEEP"):
            print("artifacts kept in", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return check.summary(), died


def main():
    if os.geteuid() != 0:
        print("needs root: skipped")
        return 77
    # Open problem (docs/pptp.md): now and then nothing more arrives from the VM's client and
    # dpvpn closes the session for want of LCP echo replies; seen with the guest's NETDEV
    # WATCHDOG (qemu TCG stopped serving its virtio TX queue). One more boot, reported.
    return one_more_boot(check, run_once, "a PPP link went silent (dpvpn: 'no LCP echo reply'); booting once more")


if __name__ == "__main__":
    sys.exit(main())
