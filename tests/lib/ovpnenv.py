# SPDX-License-Identifier: BSD-3-Clause
"""Shared by the openvpn interop tests: clients in namespaces on a bridge, and what they measure.

A "lan" namespace holds a bridge; dpvpn's outside veth and one veth per client namespace join it.
ping() sends ICMP echo from a namespace with a raw socket (no ping binary needed); iperf() runs
iperf3 there and returns the received bit rate.
"""
import json
import os
import shutil
import time

import netenv


def wait_log(path, text, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if text in open(path, errors="replace").read():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def kill_pidfile(path):
    try:
        pid = int(open(path).read().strip())
        os.kill(pid, 15)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
    except (OSError, ValueError):
        pass


def iperf(env, ns, server, reverse, seconds):
    cmd = ["iperf3", "-c", server, "-t", str(seconds), "-J", "--connect-timeout", "3000"]
    if reverse:
        cmd.append("-R")
    r = env.run_in_ns(ns, cmd, check=False, timeout=seconds + 20)
    try:
        return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"]
    except (ValueError, KeyError):
        return 0.0


def ping(env, ns, dst, count, size=0):
    """ICMP echo with a raw socket (no ping binary needed): answered count."""
    script = r"""
import os, socket, struct, sys, time
dst, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1.0)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT: no DF, like ping -M dont
def csum(b):
    b += b"\0" * (len(b) & 1)
    v = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    v = (v >> 16) + (v & 0xffff); v += v >> 16
    return ~v & 0xffff
ok, ident = 0, os.getpid() & 0xffff
for seq in range(n):
    body = (b"dpvpn-openvpn-%04d" % seq).ljust(size, b"z")
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(h + body), ident, seq) + body, (dst, 0))
    end = time.time() + 1.0
    while time.time() < end:
        try:
            d, a = s.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (d[0] & 15) * 4
        t, c, ck, i, q = struct.unpack("!BBHHH", d[ihl:ihl + 8])
        if a[0] == dst and t == 0 and i == ident and q == seq and d[ihl + 8:] == body:
            ok += 1
            break
    time.sleep(0.05)
print(ok)
"""
    r = env.run_in_ns(ns, ["/usr/bin/python3", "-c", script, dst, str(count), str(size)], check=False,
                      timeout=count * 2 + 10)
    try:
        return int(r.stdout.strip())
    except ValueError:
        return 0


def lan(env):
    """A bridge in its own namespace: dpvpn's outside veth plus one veth per client namespace."""
    ns = f"dpvpn-ol{env.uid}"
    netenv.sh(["ip", "netns", "add", ns])
    env.namespaces.append(ns)
    env.run_in_ns(ns, ["ip", "link", "add", "br0", "type", "bridge"])
    env.run_in_ns(ns, ["ip", "link", "set", "br0", "up"])
    return ns


def plug(env, lan_ns, name, host_side=None):
    """A veth from the lan bridge to a new namespace (or, host_side set, to the root namespace)."""
    a, b = f"dv{name}{env.uid}", f"dw{name}{env.uid}"
    netenv.sh(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
    env.links.append(a)
    netenv.sh(["ip", "link", "set", b, "netns", lan_ns])
    env.run_in_ns(lan_ns, ["ip", "link", "set", b, "master", "br0"])
    env.run_in_ns(lan_ns, ["ip", "link", "set", b, "up"])
    if host_side:
        netenv.sh(["sysctl", "-qw", f"net.ipv6.conf.{a}.disable_ipv6=1"], check=False)
        netenv.sh(["ip", "link", "set", a, "up"])
        return a
    ns = f"dpvpn-o{name}{env.uid}"
    netenv.sh(["ip", "netns", "add", ns])
    env.namespaces.append(ns)
    netenv.sh(["ip", "link", "set", a, "netns", ns])
    env.run_in_ns(ns, ["ip", "link", "set", a, "name", "eth0"])
    env.run_in_ns(ns, ["ip", "link", "set", "eth0", "up"])
    env.run_in_ns(ns, ["ip", "link", "set", "lo", "up"])
    env.run_in_ns(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"], check=False)
    return ns


# dpvpn's ports in both openvpn tests: af_packet on the outside veth (the clients' bridge) and on
# the inside host's veth.
CONFIG_HEAD = """
[dpvpn]
mbufs = 8191
idle_sleep_us = 20
[outside]
device = net_af_packet0
devargs = iface={outside}
address = {dpvpn_outer}/24
[inside]
device = net_af_packet1
devargs = iface={inside}
address = {dpvpn_inner}/24
"""


def skip_reason():
    """Why an openvpn interop test cannot run here (exit 77), or None."""
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("openvpn") is None:
        return "openvpn not installed"
    return None


def client_namespaces(env, lan_ns, outers):
    """One namespace per outer address, each on the lan bridge with that address; in order."""
    out = []
    for i, outer in enumerate(outers):
        ns = plug(env, lan_ns, f"c{i}")
        env.run_in_ns(ns, ["ip", "addr", "add", outer + "/24", "dev", "eth0"])
        out.append(ns)
    return out
