#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""OpenVPN TLS mode end to end: one dpvpn worker lcore, real sessions, P_DATA_V2 over net_memif.

    perf/openvpn/tls_e2e.py [--seconds 3] [--repeat 3] [--cipher AES-256-GCM] [--build DIR] [--out DIR]  # root

Per case (direction x inner size) a fresh dpvpn runs with [openvpn_server] on and key_log set.
Four stock openvpn 2.6 clients (`--client`, certificates from tests/interop/openvpn/pki.sh) connect
from inside the exception TAP's namespace, each from an address of its own on that namespace's
loopback: their control packets reach dpvpn's control thread without crossing a port, so the
TLS handshake, key-method 2 and PUSH_REPLY are the real ones, and each client gets a session
(tunnel, peer-id, pool address, AES-GCM keys from the TLS exporter) on dpvpn's worker. The key
log gives each session's keys. Then:

- decrypt-and-deliver: P_DATA_V2 packets from the four clients, sealed here with Python's
  `cryptography` (not dpvpn's code) with consecutive packet-ids per client, inner IPv4/UDP to the
  inside host, are replayed by dpdk-testpmd (net_pcap infinite_rx -> io forward -> net_memif
  client) into dpvpn's outside port (net_memif server); dpvpn delivers to net_null.
- encrypt-and-send: plain IPv4/UDP to the four clients' pool addresses replayed the same way into
  dpvpn's inside port (net_memif); dpvpn encrypts and sends to net_null.

The endless replay repeats packet-ids; as in run.py the sessions run with reorder_hold_ms = 1, so
at each wrap the window resyncs within about a millisecond; `delivered` counts what left the
window, `processed` what was received and decrypted. Reported: the worker's wall-clock rate, and
its capacity = packets / (busy cycles / TSC Hz) from /dpvpn/lcores (testpmd's forwarding lcore
shares this 2-CPU machine), beside the memif I/O ceiling measured in the same run (perf/pptp's
testpmd pair: txonly -> memif -> io forward, per forwarding-lcore CPU second). Any drop other
than the window's fails the case. Writes results/openvpn_tls_e2e.json and .png.
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
from dpvpn_harness import Daemon  # noqa: E402
import machine  # noqa: E402


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


pptp_run = _load("pptp_run", os.path.join(ROOT, "perf", "pptp", "run.py"))  # Testpmd, memif_rate

CLIENTS = 4
DPVPN_OUTER, DPVPN_INNER, INNER_HOST, INNER_HOST_MAC = "192.0.2.1", "10.0.0.1", "10.0.0.2", "02:00:00:00:02:02"
CLIENT_ADDR = [f"192.0.2.{10 + i}" for i in range(CLIENTS)]
CLIENT_MAC = "02:00:00:00:01:02"
PACKETS = {64: 65536, 1400: 16384}
SIZES = (64, 1400)
OUTER = 14 + 20 + 8 + 24     # Ethernet, IPv4, UDP, P_DATA_V2 header and tag

CONFIG = """
[dpvpn]
mbufs = 65535
[outside]
device = {odev}
devargs = {oargs}
address = {outer}/24
{oneigh}
[inside]
device = {idev}
devargs = {iargs}
address = {inner}/24
static_neighbors = {host} {host_mac}
[openvpn_server]
enable = yes
tap = {tap}
ca = pki/ca.crt
cert = pki/server.crt
key = pki/server.key
pool = 10.8.0.0/24
data_ciphers = {cipher}
key_log = keys.log
keepalive = 3600
ping_restart = 86400
reorder_hold_ms = 1
"""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def read_keys(path):
    """The key log's sessions: [{peer_id, client, port, address, material}] by peer-id."""
    out = {}
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return []
    for line in lines:
        f = dict(kv.split("=", 1) for kv in line.split())
        ip, port = f["client"].rsplit(":", 1)
        out[int(f["peer_id"])] = {"peer_id": int(f["peer_id"]), "client": ip, "port": int(port),
                                  "address": f["address"], "cipher": f["cipher"],
                                  "material": bytes.fromhex(f["material"])}
    return [out[k] for k in sorted(out)]


def start_clients(work, ns, pki, cipher):
    """Stock openvpn clients in the TAP's namespace, each from its own loopback address."""
    subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
    pids = []
    for i, addr in enumerate(CLIENT_ADDR):
        subprocess.run(["ip", "netns", "exec", ns, "ip", "addr", "add", addr + "/32", "dev", "lo"], check=True)
        pidf = os.path.join(work, f"client{i}.pid")
        subprocess.run(["ip", "netns", "exec", ns, "openvpn", "--client", "--dev", f"tunp{i}", "--proto", "udp",
                        "--remote", DPVPN_OUTER, "1194", "--local", addr, "--lport", "0",
                        "--ca", f"{pki}/ca.crt", "--cert", f"{pki}/client{1 + i % 3}.crt",
                        "--key", f"{pki}/client{1 + i % 3}.key", "--data-ciphers", cipher,
                        # No tun set-up in dpvpn's namespace, and no keepalive: the replay is the traffic.
                        "--ifconfig-noexec", "--route-noexec", "--pull-filter", "ignore", "ping",
                        "--verb", "3", "--log", os.path.join(work, f"client{i}.log"),
                        "--writepid", pidf, "--daemon"], check=True, timeout=20)
        pids.append(pidf)
    return pids


def stop_clients(pids):
    for p in pids:
        try:
            os.kill(int(open(p).read()), 15)
        except (OSError, ValueError):
            pass


def aead(cipher, key):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
    return ChaCha20Poly1305(key) if cipher == "CHACHA20-POLY1305" else AESGCM(key)


def make_pcap(path, direction, size, sessions, dpvpn_mac):
    """decrypt: the clients' P_DATA_V2 (sealed here); encrypt: plain packets to their pool addresses."""
    from scapy.all import IP, UDP, Ether, Raw, wrpcap
    pkts, pid = [], [0] * len(sessions)
    n = PACKETS[size] if direction == "decrypt" else 1024
    sealers = []
    for s in sessions:
        klen = 16 if s["cipher"] == "AES-128-GCM" else 32
        # The client sends with the first half: cipher key at 0, implicit IV at 64.
        sealers.append((aead(s["cipher"], s["material"][:klen]), s["material"][64:72]))
    for k in range(n):
        i = k % len(sessions)
        s = sessions[i]
        if direction == "encrypt":
            pkts.append(Ether(src=INNER_HOST_MAC, dst=dpvpn_mac) / IP(src=INNER_HOST, dst=s["address"]) /
                        UDP(sport=1024 + k % 1000, dport=9) / Raw(b"y" * (size - 28)))
            continue
        inner = bytes(IP(src=s["address"], dst=INNER_HOST) / UDP(sport=1024 + k % 1000, dport=9) /
                      Raw(b"x" * (size - 28)))
        pid[i] += 1
        head = bytes([0x48, s["peer_id"] >> 16 & 0xff, s["peer_id"] >> 8 & 0xff, s["peer_id"] & 0xff]) + \
            pid[i].to_bytes(4, "big")
        box, iv = sealers[i]
        sealed = box.encrypt(pid[i].to_bytes(4, "big") + iv, inner, head)   # ciphertext | tag
        payload = head + sealed[-16:] + sealed[:-16]                          # 2.x: tag before ciphertext
        pkts.append(Ether(src=CLIENT_MAC, dst=dpvpn_mac) / IP(src=s["client"], dst=DPVPN_OUTER) /
                    UDP(sport=s["port"], dport=1194, chksum=0) / Raw(payload))
    wrpcap(path, pkts)


def run_case(args, work, pki, direction, size):
    tag = f"{os.getpid() % 10000}{direction[0]}{size}"
    sock = os.path.join(tempfile.gettempdir(), f"dpvpn-ovtls-{tag}.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    memif = ("net_memif0", f"role=server,socket={sock},socket-abstract=no,rsize=14")
    null = ("net_null0", "no-rx=1")
    o, i = (memif, null) if direction == "decrypt" else (null, memif)
    oneigh = "\n".join(f"static_neighbors = {a} {CLIENT_MAC}" for a in CLIENT_ADDR)
    tap = f"dpov{tag}"[:15]
    cfg = os.path.join(work, f"{tag}.ini")
    keys = os.path.join(work, "keys.log")
    if os.path.exists(keys):
        os.unlink(keys)
    with open(cfg, "w") as f:
        f.write(CONFIG.format(odev=o[0], oargs=o[1], outer=DPVPN_OUTER, oneigh=oneigh, idev=i[0], iargs=i[1],
                              inner=DPVPN_INNER, host=INNER_HOST, host_mac=INNER_HOST_MAC, tap=tap,
                              cipher=args.cipher))
    dmn = Daemon(cfg, lcores="0,1", memory_mb=1024, log_path=cfg + ".log")
    dmn.start(timeout=60)
    pids, tp = [], None
    try:
        pids = start_clients(work, f"dpvpn-{tap}", pki, args.cipher)
        t_end = time.time() + 30
        while time.time() < t_end and len(read_keys(keys)) < CLIENTS:
            time.sleep(0.2)
        sessions = read_keys(keys)
        if len(sessions) != CLIENTS:
            clog = open(os.path.join(work, "client0.log"), errors="replace").read()[-1500:]
            raise RuntimeError(f"{len(sessions)}/{CLIENTS} sessions up:\n" + dmn.read_log()[-1500:] +
                               "\nclient 0:\n" + clog)
        port = "outside" if direction == "decrypt" else "inside"
        mac = dmn.query("/dpvpn/ports")[port]["mac"].lower()
        pcap = os.path.join(work, f"{tag}.pcap")
        make_pcap(pcap, direction, size, sessions, mac)
        tsc_hz = dmn.query("/dpvpn/info")["tsc_hz"]
        # net_pcap's infinite_rx holds the whole replay in mbufs: the pool must be larger than it.
        tp = pptp_run.Testpmd(["-l", "0,1", "--main-lcore", "1", "--no-pci", "--no-huge", "-m", "2048",
                               "--log-level=3", "--file-prefix", f"ovtls-tp-{tag}",
                               f"--vdev=net_pcap0,rx_pcap={pcap},infinite_rx=1",
                               f"--vdev=net_memif0,role=client,socket={sock},socket-abstract=no",
                               "--", "-i", "--forward-mode=io", "--nb-cores=1", "--total-num-mbufs=200000"])
        if not tp.wait_for(r"testpmd> ", 0, 60) or not tp.link_up(1):
            raise RuntimeError("testpmd replay did not start:\n" + tp.text()[-2000:])
        # Retry a full memif ring instead of dropping: a lossless replay at dpvpn's own pace (drops
        # at the source would be gaps in the clients' packet-ids, which the window waits on).
        tp.cmd("set fwd io retry")
        tp.cmd("set burst tx delay 1 retry 1000000")
        tp.cmd("start")
        time.sleep(1.5)

        def sample():
            w = next(iter(dmn.query("/dpvpn/lcores").values()))
            tids = dmn.query("/dpvpn/tunnels")["ids"]
            rx = sum(dmn.query(f"/dpvpn/tunnel,{t}")["rx_packets"] for t in tids)
            return w, rx, time.time()
        wa, da, ta = sample()
        time.sleep(args.seconds)
        wb, db, tb = sample()
        tp.cmd("stop")
        drops = {k: v for k, v in dmn.query("/dpvpn/drops").items() if v}
    finally:
        if tp is not None:
            tp.close()
        stop_clients(pids)
        dmn.stop(timeout=30)
    window = {k: v for k, v in drops.items() if k.startswith("window_")}
    # A stray non-IP frame on the memif link (eth_unsupported) is no data-path drop: reported only.
    other = {k: v for k, v in drops.items() if not k.startswith("window_") and k != "eth_unsupported"}
    if other:
        raise RuntimeError(f"{direction} {size}: unexpected drops {other}")
    key = "rx_outside" if direction == "decrypt" else "tx_outside"
    pkts = wb[key] - wa[key]
    busy = wb["busy_cycles"] - wa["busy_cycles"]
    delivered = (db - da) if direction == "decrypt" else pkts
    return {"wall_mpps": pkts / (tb - ta) / 1e6, "delivered_mpps": delivered / (tb - ta) / 1e6,
            "capacity_mpps": pkts / (busy / tsc_hz) / 1e6 if busy else 0.0,
            "delivered_capacity_mpps": delivered / (busy / tsc_hz) / 1e6 if busy else 0.0,
            "busy_share": busy / (wb["total_cycles"] - wa["total_cycles"]), "window_drops": window,
            "eth_unsupported": drops.get("eth_unsupported", 0)}


def chart(results, path, cipher):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9, 4.6))
    labels = [f"{r['direction']} {r['inner_bytes']} B" for r in results]
    bars = (("memif_io_ceiling_mpps", "memif I/O ceiling (testpmd, per lcore CPU s)", "#bbbbbb"),
            ("capacity_mpps", "dpvpn worker capacity (per busy CPU s)", "#2a6fb0"),
            ("wall_mpps", "dpvpn wall clock (CPU shared with testpmd)", "#7fb2e0"))
    w = 0.26
    for k, (key, label, color) in enumerate(bars):
        xs = [j + (k - 1) * w for j in range(len(results))]
        ax.bar(xs, [r[key] for r in results], w, label=label, color=color)
        if key == "capacity_mpps":
            for x, r in zip(xs, results):
                ax.text(x, r[key], f"{r['capacity_gbps_inner']:.1f} Gb/s", ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels(labels)
    ax.set_ylabel("Mpps (log)")
    ax.set_title(f"OpenVPN TLS mode ({cipher}) end to end over net_memif: {CLIENTS} real sessions, one worker")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cipher", default="AES-256-GCM", choices=("AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305"))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--build", help="build directory whose dpvpn to run (default: $DPVPN_BUILD, else build)")
    args = ap.parse_args()
    if args.build:
        os.environ["DPVPN_BUILD"] = os.path.abspath(args.build)
    if os.geteuid() != 0:
        sys.exit("perf/openvpn/tls_e2e.py needs root")
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="dpvpn-perf-ovtls-")
    load = [os.getloadavg()[0]]
    results = []
    try:
        pki = os.path.join(work, "pki")
        subprocess.run(["bash", os.path.join(ROOT, "tests", "interop", "openvpn", "pki.sh"), pki], check=True,
                       capture_output=True, timeout=60)
        for size in SIZES:
            for direction in ("decrypt", "encrypt"):
                runs, io = [], []
                for r in range(args.repeat):
                    wall, cpu = pptp_run.memif_rate(size + (OUTER if direction == "decrypt" else 14),
                                                    args.seconds, f"ovtls-{os.getpid()}-{r}-{size}")
                    io.append(cpu or wall)
                    runs.append(run_case(args, work, pki, direction, size))
                    log(f"{direction} {size} B run {r + 1}: {runs[-1]['capacity_mpps']:.3f} Mpps capacity, "
                        f"{runs[-1]['wall_mpps']:.3f} wall; memif ceiling {io[-1] / 1e6:.2f}")
                med = lambda k: statistics.median(x[k] for x in runs)  # noqa: E731
                res = {"direction": direction, "inner_bytes": size, "cipher": args.cipher, "sessions": CLIENTS,
                       "wall_mpps": med("wall_mpps"), "delivered_mpps": med("delivered_mpps"),
                       "capacity_mpps": med("capacity_mpps"),
                       "delivered_capacity_mpps": med("delivered_capacity_mpps"),
                       "busy_share": med("busy_share"), "memif_io_ceiling_mpps": statistics.median(io) / 1e6,
                       "runs": runs, "runs_memif_io_pps": io}
                res["capacity_gbps_inner"] = res["capacity_mpps"] * size * 8 / 1000
                res["ratio_io"] = res["capacity_mpps"] / res["memif_io_ceiling_mpps"]
                results.append(res)
                load.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"one worker lcore, {CLIENTS} real TLS sessions, {args.cipher}, median of {args.repeat} x {args.seconds:g} s")
    print(f"{'case':14s} {'capacity Mpps':>13s} {'Gbit/s':>7s} {'delivered':>9s} {'wall Mpps':>9s} "
          f"{'busy':>5s} | {'memif I/O':>9s} {'ratio':>5s}")
    for r in results:
        print(f"{r['direction'] + ' ' + str(r['inner_bytes']) + ' B':14s} {r['capacity_mpps']:13.3f} "
              f"{r['capacity_gbps_inner']:7.2f} {r['delivered_capacity_mpps']:9.3f} {r['wall_mpps']:9.3f} "
              f"{r['busy_share']:5.2f} | {r['memif_io_ceiling_mpps']:9.2f} {r['ratio_io']:5.2f}")
    doc = {"benchmark": "openvpn_tls_e2e", "method": __doc__.strip().splitlines()[0], "seconds": args.seconds,
           "repeat": args.repeat, "machine": machine.describe(), "load_average_1m": load,
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "results": results}
    with open(os.path.join(args.out, "openvpn_tls_e2e.json"), "w") as f:
        json.dump(doc, f, indent=2)
    chart(results, os.path.join(args.out, "openvpn_tls_e2e.png"), args.cipher)
    print("wrote", os.path.join(args.out, "openvpn_tls_e2e.json"), "and openvpn_tls_e2e.png")


if __name__ == "__main__":
    main()
