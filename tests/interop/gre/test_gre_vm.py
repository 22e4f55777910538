#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Interop: Linux's ip_gre (key + iseq/oseq) in the kernel-peer VM <-> dpvpn <-> a host namespace.

dpvpn's outside port is net_af_packet on the VM's tap; its inside port is net_af_packet on a
veth whose peer sits in a namespace running iperf3 -s. The guest pings and runs iperf3 both
ways through the tunnel. Asserts: pings answered, iperf3 moves data both ways, the tunnel's
counters (read with the stock dpdk-telemetry.py) moved, no mbuf leaked. Prints the figures.

Needs root. Exit 77 (skip) when not root.
"""
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from checks import Checks, one_more_boot  # noqa: E402
from dpvpn_harness import Daemon  # noqa: E402
import netenv  # noqa: E402  (tests/lib)
from guestlog import iperf_result, section, telemetry_py  # noqa: E402

GUEST_OUTER, DPVPN_OUTER = "192.0.2.2", "192.0.2.1"
GUEST_INNER, HOST_INNER, DPVPN_INNER = "10.99.0.2", "10.0.0.2", "10.0.0.1"
GRE_KEY = 42

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
name = vm-linux-gre
peer = {guest_outer}
key = {key}
sequence = yes
routes = 10.99.0.0/24
"""

check = Checks("interop-gre-vm", verbose=True)


def iperf_bps(log, name):
    r = iperf_result(log, name)
    return r and r["bps"]


def mbit(bps):
    return f"{bps / 1e6:.1f}" if bps is not None else "no result"


def run_once():
    """One VM boot: (exit code of the checks, whether the guest's virtio TX queue hung)."""
    seconds = int(os.environ.get("IPERF_SECONDS", "5"))
    work = tempfile.mkdtemp(prefix="dpvpn-gre-vm-")
    console = os.path.join(work, "console.log")
    env = netenv.NetEnv(tag="g")
    vm = None
    dmn = None
    try:
        inside = env.inside_host(HOST_INNER + "/24", DPVPN_INNER, routes=["10.99.0.0/24"])
        env.run_in_ns(inside.ns, ["iperf3", "-s", "-D"])
        cfg = os.path.join(work, "dpvpn.ini")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(tap=env.tap_name, veth=inside.host_if, dpvpn_outer=DPVPN_OUTER,
                                  dpvpn_inner=DPVPN_INNER, guest_outer=GUEST_OUTER, key=GRE_KEY))
        vm = env.start_vm(os.path.join(HERE, "guest-gre.sh"), console, timeout=240 + 2 * seconds,
                          env={"GUEST_OUTER": GUEST_OUTER, "DPVPN_OUTER": DPVPN_OUTER, "GRE_KEY": GRE_KEY,
                               "GUEST_INNER": GUEST_INNER, "HOST_INNER": HOST_INNER, "DPVPN_INNER": DPVPN_INNER,
                               "HOST_NET": "10.0.0.0/24", "IPERF_SECONDS": seconds})
        env.wait_tap(timeout=60)
        dmn = Daemon(cfg, lcores="0", log_path=os.path.join(work, "dpvpn.log"))
        dmn.start()
        # Telemetry while traffic flows: the counters must move between two reads.
        dmn.wait_for(lambda: dmn.query("/dpvpn/tunnel,1")["rx_packets"] > 0, timeout=180,
                     what="first packet from the VM's GRE tunnel")
        first = telemetry_py(dmn.prefix, "/dpvpn/tunnel,1")
        rc = vm.wait(timeout=240 + 2 * seconds)
        last = telemetry_py(dmn.prefix, "/dpvpn/tunnel,1")
        lcores = dmn.query("/dpvpn/lcores")
        drops = {k: v for k, v in dmn.query("/dpvpn/drops").items() if v}
        log = open(console, errors="replace").read()
        check(rc == 0, f"guest script exit code {rc}")
        ping = section(log, "DPVPN-PING-BEGIN", "DPVPN-PING-END") or ""
        m = re.search(r"(\d+) packets transmitted, (\d+) packets received", ping)
        check(m is not None and m.group(2) == m.group(1), f"20 pings through the tunnel answered ({m.groups() if m else None})")
        rtt = re.search(r"min/avg/max = ([\d.]+)/([\d.]+)/([\d.]+)", ping)
        check("DPVPN-OWN-PING ok" in log, "dpvpn answers a ping to its inside address through the tunnel")
        up, down = iperf_bps(log, "up"), iperf_bps(log, "down")
        check(up is not None and up > 0, f"iperf3 VM -> namespace through dpvpn: {mbit(up)} Mbit/s")
        check(down is not None and down > 0, f"iperf3 namespace -> VM through dpvpn: {mbit(down)} Mbit/s")
        if not (up and down):
            # Where the frames stopped: the kernel's side of each port against dpvpn's.
            print("host tap:", netenv.link_counters(env.tap_name), "host veth:",
                  netenv.link_counters(inside.host_if))
            print("ports:", dmn.query("/dpvpn/ports"), "threads:", dmn.thread_states())
        check(last["rx_packets"] > first["rx_packets"] and last["tx_packets"] > first["tx_packets"],
              f"tunnel counters moved (rx {first['rx_packets']} -> {last['rx_packets']}, "
              f"tx {first['tx_packets']} -> {last['tx_packets']}) as read by dpdk-telemetry.py")
        win = last["reorder"]
        # Numbered non-IPv4 packets (the guest's IPv6 chatter) pass the window, then drop.
        late = last["drop_reasons"]["gre_unknown_proto"]
        check(last["drop_reasons"]["seq_missing"] == 0 and win["accepted"] == last["rx_packets"] + late
              and win["under_window"] == 0 and win["duplicated"] == 0,
              f"the kernel's sequence numbers passed the window ({win}, non-IPv4 {late})")
        print("drops:", drops)
        print("lcores:", json.dumps(lcores))
        dmn.stop()
        check(dmn.returncode == 0, "dpvpn stopped cleanly on SIGTERM")
        check(dmn.mbufs_in_use_after_shutdown() == 0, "no mbuf in use after shutdown")
        summary = {"ping_rtt_ms": rtt.groups() if rtt else None, "iperf_up_bps": up, "iperf_down_bps": down,
                   "tunnel": {k: last[k] for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops")}}
        print("RESULT " + json.dumps(summary))
    finally:
        if dmn is not None:
            dmn.stop()
        if vm is not None:
            vm.kill()
        env.cleanup()
        hung = netenv.guest_tx_hung(console)
        if check.failed or os.environ.get("KEEP"):
            print("artifacts kept in", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return check.summary(), hung


def main():
    if os.geteuid() != 0:
        print("needs root: skipped")
        return 77
    # qemu under TCG now and then stops serving the guest's virtio TX queue (the guest kernel
    # says NETDEV WATCHDOG): such a boot measured nothing about dpvpn.
    return one_more_boot(check, run_once, "the guest's virtio TX queue hung (qemu TCG, not dpvpn); booting once more")


if __name__ == "__main__":
    sys.exit(main())
