# SPDX-License-Identifier: BSD-3-Clause
"""Namespaces, veths and the kernel-peer VM for interop tests, demos and benchmarks.

Names are unique per process (tag + pid) so runs never collide, and cleanup()
removes everything this object created, whatever state the run ended in.
"""
import os
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_VM = os.path.join(ROOT, "tests", "interop", "vm", "run-vm.sh")


def sh(cmd, check=True, timeout=30):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=timeout)


def guest_tx_hung(console_path):
    """True when the guest kernel reported its virtio TX queue stuck: qemu under TCG sometimes
    stops serving the queue. That boot measured nothing about dpvpn and may be repeated."""
    try:
        with open(console_path, errors="replace") as f:
            return "NETDEV WATCHDOG" in f.read()
    except OSError:
        return False


def link_counters(ifname):
    """The kernel's packet counters of a host interface (tap or veth), for failure reports:
    they tell whether frames stopped before dpvpn's port (guest, qemu) or inside dpvpn."""
    out = {}
    for k in ("rx_packets", "tx_packets", "rx_dropped", "tx_dropped"):
        try:
            with open(f"/sys/class/net/{ifname}/statistics/{k}") as f:
                out[k] = int(f.read())
        except (OSError, ValueError):
            out[k] = None
    return out


class InsideHost:
    def __init__(self, ns, host_if, ns_if):
        self.ns, self.host_if, self.ns_if = ns, host_if, ns_if


class VM:
    def __init__(self, proc):
        self.proc = proc

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return 124

    def kill(self):
        if self.proc.poll() is None:
            # run-vm.sh traps TERM and takes qemu down with it.
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class NetEnv:
    def __init__(self, tag="t", names=None):
        uid = f"{tag}{os.getpid() % 100000}"
        self.names = names or {}
        self.tap_name = self.names.get("tap", f"dvt{uid}")
        self.tap2_name = self.names.get("tap2", f"dvu{uid}")
        self.uid = uid
        self.namespaces, self.links = [], []
        self.flag = f"/tmp/dpvpn-tap-up-{uid}"
        self.vms = []

    def inside_host(self, addr_cidr, gateway, routes=(), ns=None, host_if=None):
        """A namespace behind dpvpn's inside port: veth pair, address, routes via dpvpn."""
        ns = ns or self.names.get("ns", f"dpvpn-{self.uid}")
        host_if = host_if or self.names.get("veth", f"dvi{self.uid}")
        ns_if = "eth0"
        tmp_if = f"dvp{self.uid}"
        sh(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        sh(["ip", "link", "add", host_if, "type", "veth", "peer", "name", tmp_if])
        self.links.append(host_if)
        sh(["ip", "link", "set", tmp_if, "netns", ns])
        self.run_in_ns(ns, ["ip", "link", "set", tmp_if, "name", ns_if])
        self.run_in_ns(ns, ["ip", "addr", "add", addr_cidr, "dev", ns_if])
        self.run_in_ns(ns, ["ip", "link", "set", ns_if, "up"])
        self.run_in_ns(ns, ["ip", "link", "set", "lo", "up"])
        # veths hand TCP/UDP to the peer with checksums left to "hardware"; dpvpn reads the raw
        # frames through af_packet and forwards them, so make the kernel fill the checksums.
        self.run_in_ns(ns, ["ethtool", "-K", ns_if, "tx", "off"], check=False)
        self.run_in_ns(ns, ["sysctl", "-qw", f"net.ipv6.conf.{ns_if}.disable_ipv6=1"], check=False)
        for r in routes:
            self.run_in_ns(ns, ["ip", "route", "add", r, "via", gateway])
        # The host end carries no address: only dpvpn (af_packet) uses it. No IPv6 chatter.
        sh(["sysctl", "-qw", f"net.ipv6.conf.{host_if}.disable_ipv6=1"], check=False)
        sh(["ip", "link", "set", host_if, "up"])
        return InsideHost(ns, host_if, ns_if)

    def run_in_ns(self, ns, cmd, check=True, timeout=30):
        return sh(["ip", "netns", "exec", ns] + list(cmd), check=check, timeout=timeout)

    def popen_in_ns(self, ns, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd), **kw)

    def start_vm(self, guest_script, console, timeout, env=None, files=(), tap2=False, extra=()):
        """Boots the VM in the background; its tap appears in the root namespace."""
        if os.path.exists(self.flag):
            os.unlink(self.flag)
        cmd = [RUN_VM, "--tap", self.tap_name, "--guest-script", guest_script, "--log", console,
               "--timeout", str(timeout), "--quiet", "--on-tap-up", f"touch {self.flag}"]
        if tap2:
            cmd += ["--tap2", self.tap2_name]
        for k, v in (env or {}).items():
            cmd += ["--env", f"{k}={v}"]
        for f in files:
            cmd += ["--file", f]
        cmd += list(extra)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(console + ".run-vm", "w"))
        vm = VM(proc)
        self.vms.append(vm)
        return vm

    def wait_tap(self, timeout=120):
        """Waits until run-vm.sh reports the tap up (the image may be built first)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.flag):
                return
            if self.vms and self.vms[-1].proc.poll() is not None:
                raise RuntimeError(f"run-vm.sh exited with {self.vms[-1].proc.returncode} before the tap came up")
            time.sleep(0.2)
        raise TimeoutError(f"tap {self.tap_name} did not come up in {timeout}s")

    def cleanup(self):
        for vm in self.vms:
            vm.kill()
        for ns in self.namespaces:
            pids = sh(["ip", "netns", "pids", ns], check=False).stdout.split()
            for p in pids:
                try:
                    os.kill(int(p), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh(["ip", "netns", "del", ns], check=False)
        for link in self.links:
            sh(["ip", "link", "del", link], check=False)
        if os.path.exists(self.flag):
            os.unlink(self.flag)
        self.namespaces, self.links, self.vms = [], [], []
