#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Runs the demo described in config/demo.ini; see scripts/demo.sh."""
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from dpvpn_harness import Daemon  # noqa: E402
import netenv  # noqa: E402

CONFIG = os.path.join(ROOT, "config", "demo.ini")
GUEST = os.path.join(ROOT, "tests", "interop", "gre", "guest-gre.sh")
CTL = os.path.join(ROOT, "app", "dpvpnctl", "dpvpnctl")


def ctl(prefix, *args):
    return subprocess.run([CTL, "-p", prefix, *args], capture_output=True, text=True, timeout=10).stdout


def main():
    if os.geteuid() != 0:
        sys.exit("demo: run as root (namespaces, taps, DPDK)")
    seconds = int(os.environ.get("IPERF_SECONDS", "5"))
    work = tempfile.mkdtemp(prefix="dpvpn-demo-")
    env = netenv.NetEnv(names={"tap": "dpvpn-vm0", "veth": "dpvpn-in0", "ns": "dpvpn-demo"})
    for stale in ("dpvpn-vm0", "dpvpn-in0"):       # leftovers of an interrupted run
        netenv.sh(["ip", "link", "del", stale], check=False)
    netenv.sh(["ip", "netns", "del", "dpvpn-demo"], check=False)
    dmn = None
    try:
        print("demo: namespace dpvpn-demo (10.0.0.2) behind dpvpn's inside port, iperf3 server in it")
        inside = env.inside_host("10.0.0.2/24", "10.0.0.1", routes=["10.99.0.0/24"])
        env.run_in_ns(inside.ns, ["iperf3", "-s", "-D"])
        console = os.path.join(work, "vm-console.log")
        print("demo: booting the kernel-peer VM (Debian's Linux, ip_gre key 42 with sequence numbers)")
        vm = env.start_vm(GUEST, console, timeout=300 + 2 * seconds,
                          env={"GUEST_OUTER": "192.0.2.2", "DPVPN_OUTER": "192.0.2.1", "GRE_KEY": 42,
                               "GUEST_INNER": "10.99.0.2", "HOST_INNER": "10.0.0.2", "DPVPN_INNER": "10.0.0.1",
                               "HOST_NET": "10.0.0.0/24", "IPERF_SECONDS": seconds})
        env.wait_tap(timeout=240)
        print(f"demo: starting dpvpn -f {os.path.relpath(CONFIG, ROOT)}")
        dmn = Daemon(CONFIG, lcores="0", log_path=os.path.join(work, "dpvpn.log"))
        dmn.start()
        print(f"demo: telemetry: app/dpvpnctl/dpvpnctl -p {dmn.prefix} show tunnels "
              f"(or dpdk-telemetry.py -f {dmn.prefix})\n")
        deadline = time.time() + 300 + 2 * seconds
        while vm.proc.poll() is None and time.time() < deadline:
            log = open(console, errors="replace").read()
            stage = "iperf3" if "DPVPN-JSON-BEGIN" in log else "ping" if "DPVPN-PING-BEGIN" in log else "boot"
            print(f"--- {time.strftime('%H:%M:%S')} (guest: {stage}) ---")
            print(ctl(dmn.prefix, "show", "tunnels"))
            time.sleep(3)
        rc = vm.wait(timeout=30)
        log = open(console, errors="replace").read()
        ping = re.search(r"(\d+) packets transmitted, (\d+) packets received.*?\n.*?min/avg/max = ([\d./]+)", log, re.S)
        print("\n=== results ===")
        if ping:
            print(f"ping through the tunnel: {ping.group(2)}/{ping.group(1)} answered, rtt min/avg/max {ping.group(3)} ms")
        for name in ("up", "down"):
            m = re.search(r"DPVPN-JSON-BEGIN " + name + r"(.*?)DPVPN-JSON-END", log, re.S)
            bps = re.findall(r'"sum_received":\s*\{.*?"bits_per_second":\s*([\d.e+]+)', m.group(1), re.S) if m else []
            label = "VM -> namespace" if name == "up" else "namespace -> VM"
            print(f"iperf3 {label}: {float(bps[-1]) / 1e6:.0f} Mbit/s" if bps else f"iperf3 {label}: no result")
        print("\n" + ctl(dmn.prefix, "show", "tunnel", "1"))
        print(ctl(dmn.prefix, "show", "lcores"))
        print(ctl(dmn.prefix, "show", "ports"))
        dmn.stop()
        print("\n".join(line for line in dmn.output.splitlines() if line.startswith(("dpvpn:", "  "))))
        print(f"demo: guest exit code {rc}; logs in {work}")
        return 0 if rc == 0 and dmn.returncode == 0 else 1
    finally:
        if dmn is not None:
            dmn.stop()
        env.cleanup()


if __name__ == "__main__":
    sys.exit(main())
