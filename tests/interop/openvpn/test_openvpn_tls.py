#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Interop: stock openvpn 2.6 clients in TLS mode (certificates, negotiated AEAD ciphers) <-> dpvpn.

The clients run `openvpn --client` against dpvpn's [openvpn_server], each in its own namespace on a
bridge with dpvpn's outside port (net_af_packet on a veth). The PKI comes from pki.sh (EC P-256);
dpvpn's inside port leads to a host namespace running iperf3 -s.

Asserts: three clients complete initialisation, each with the cipher it asked for (AES-256-GCM,
AES-128-GCM, CHACHA20-POLY1305) and a pool address pushed to it; pings from each reach the host
namespace through the tunnel; iperf3 moves data both ways, and with all three at once; a client
with a revoked certificate and one from a foreign CA are refused (tls_failures, no session); a
client renegotiating every 10 s keeps answering pings across several renegotiations, and the
tunnel moved to the new keys; a client that exits with explicit-exit-notify is closed at once
(EXIT over the control channel); tshark decodes our resets, control message ids, acks and
P_DATA_V2 peer-ids on the wire; scapy-made datagrams sealed with key_log's keys are delivered,
and forged, unknown-key, P_DATA_V1, short and truncated control ones each counted under their
own reason; 12 more clients come up at once, each with its own address;
with `tls_ekm = no` a client gets keys from the TLS 1.0 PRF and pings, also with --fragment 600
(its large pings reassembled); telemetry names each
client's common name; no mbuf leaked.
Prints the iperf3 figures.

Needs root. Exit 77 (skip) when not root or openvpn is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from checks import Checks  # noqa: E402
from dpvpn_harness import Daemon  # noqa: E402
import netenv  # noqa: E402
from ovpnenv import CONFIG_HEAD, client_namespaces, iperf, kill_pidfile, lan, ping, plug, skip_reason, wait_log  # noqa: E402

DPVPN_OUTER, DPVPN_INNER, HOST_INNER = "192.0.2.1", "10.0.0.1", "10.0.0.2"
POOL = "10.8.0.0/24"
# name, certificate, outer address, extra client options
CLIENTS = [
    ("c0", "client1", "192.0.2.2", ["--reneg-sec", "10"]),
    ("c1", "client2", "192.0.2.3", ["--data-ciphers", "AES-128-GCM"]),
    ("c2", "client3", "192.0.2.4", ["--data-ciphers", "CHACHA20-POLY1305", "--explicit-exit-notify", "1"]),
]
CIPHERS = {"c0": "AES-256-GCM", "c1": "AES-128-GCM", "c2": "CHACHA20-POLY1305"}
REFUSED = [("r0", "revoked", "192.0.2.5", []), ("r1", "foreign", "192.0.2.6", [])]
# Many at once: each in its own namespace (its own tun and routes), all with one certificate.
MANY = [(f"m{i}", "client2", f"192.0.2.{20 + i}", []) for i in range(12)]

CONFIG = CONFIG_HEAD + """[openvpn_server]
enable = yes
tap = dpo{uid}
port = 1194
ca = pki/ca.crt
cert = pki/server.crt
key = pki/server.key
crl = pki/crl.pem
pool = {pool}
push_routes = 10.0.0.0/24
keepalive = 2
ping_restart = 20
reorder_adaptive = yes
key_log = keys.log
"""

check = Checks("interop-openvpn-tls", verbose=True)


# c1 keeps one port, so that its restart comes from the same address and port (a new session id).
C1_PORT = 40001


def client_cmd(work, name, cert, outer, extra):
    pki = os.path.join(work, "pki")
    port = str(C1_PORT) if name == "c1" else "0"
    return ["openvpn", "--client", "--dev", f"tun{name}", "--proto", "udp", "--remote", DPVPN_OUTER, "1194",
            "--local", outer, "--lport", port, "--ca", f"{pki}/ca.crt", "--cert", f"{pki}/{cert}.crt",
            "--key", f"{pki}/{cert}.key", "--remote-cert-tls", "server", "--connect-retry-max", "1",
            "--verb", "3", "--log", os.path.join(work, f"{name}.log"),
            "--writepid", os.path.join(work, f"{name}.pid"), "--daemon"] + list(extra)


def log_of(work, name):
    try:
        return open(os.path.join(work, f"{name}.log"), errors="replace").read()
    except OSError:
        return ""


def session_of(dmn, cn):
    """The /dpvpn/sessions entry of a common name, or None."""
    for k, v in dmn.query("/dpvpn/sessions").items():
        if k.startswith("ovpn_") and isinstance(v, dict) and v.get("common_name") == cn:
            return v
    return None


def tshark_rows(pcap, fields, display_filter):
    """tshark's openvpn dissector (an independent decoder) on the capture: one list of fields a packet."""
    cmd = ["tshark", "-r", pcap, "-d", "udp.port==1194,openvpn", "-Y", display_filter, "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=,"] + sum((["-e", f] for f in fields), [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def inject(env, ns, src, sport, payloads):
    """UDP datagrams built by scapy (an independent encoder) from the client's address and port."""
    script = ("import sys\nfrom scapy.all import IP, UDP, Raw, send\n"
              "for h in sys.argv[3:]:\n"
              "    send(IP(src=sys.argv[1], dst='%s') / UDP(sport=int(sys.argv[2]), dport=1194) / "
              "Raw(bytes.fromhex(h)), verbose=0)\n" % DPVPN_OUTER)
    env.run_in_ns(ns, ["/usr/bin/python3", "-c", script, src, str(sport)] + [p.hex() for p in payloads],
                  timeout=60)


def seal(cipher, material, peer_id, key_id, pid, inner):
    """A P_DATA_V2 packet as a client sends it: the client's half of the key log's material."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
    key = material[:16] if cipher == "AES-128-GCM" else material[:32]
    box = ChaCha20Poly1305(key) if cipher == "CHACHA20-POLY1305" else AESGCM(key)
    head = bytes([9 << 3 | key_id]) + peer_id.to_bytes(3, "big") + pid.to_bytes(4, "big")
    sealed = box.encrypt(pid.to_bytes(4, "big") + material[64:72], inner, head)
    return head + sealed[-16:] + sealed[:-16]


def stop_all(work, names, dmn):
    """The clients, then dpvpn: every mbuf must be back in the pool."""
    for n in names:
        kill_pidfile(os.path.join(work, f"{n}.pid"))
    dmn.stop()
    leaked = dmn.mbufs_in_use_after_shutdown()
    check(leaked == 0, f"mbufs in use after shutdown: {leaked}")


def pinger(env, ns, results, stop):
    """Pings in batches of 5 until stop is set; results collects (sent, answered) per batch."""
    while not stop.is_set():
        results.append((5, ping(env, ns, HOST_INNER, 5)))


def main():
    why = skip_reason()
    if why:
        print(f"{why}: skipped")
        return 77
    seconds = int(os.environ.get("IPERF_SECONDS", "4"))
    work = tempfile.mkdtemp(prefix="dpvpn-ovtls-")
    env = netenv.NetEnv(tag="t")
    dmn = None
    names = []
    try:
        subprocess.run(["bash", os.path.join(HERE, "pki.sh"), os.path.join(work, "pki")], check=True,
                       capture_output=True, timeout=60)
        inside = env.inside_host(HOST_INNER + "/24", DPVPN_INNER, routes=[POOL])
        env.run_in_ns(inside.ns, ["iperf3", "-s", "-D"])
        lan_ns = lan(env)
        outside_if = plug(env, lan_ns, "x", host_side=True)
        everyone = CLIENTS + REFUSED + MANY
        ns_list = client_namespaces(env, lan_ns, [c[2] for c in everyone])
        ns_of = {c[0]: ns for c, ns in zip(everyone, ns_list)}
        cfg = os.path.join(work, "dpvpn.ini")
        config = CONFIG.format(outside=outside_if, inside=inside.host_if, dpvpn_outer=DPVPN_OUTER,
                               dpvpn_inner=DPVPN_INNER, pool=POOL, uid=env.uid)
        with open(cfg, "w") as f:
            f.write(config)
        dmn = Daemon(cfg, lcores="0,1", memory_mb=1024)
        dmn.start()

        cap = os.path.join(work, "outside.pcapng")
        # On the bridge's side of dpvpn's veth: af_packet's own transmissions skip the taps on its side.
        dumpcap = env.popen_in_ns(lan_ns, ["dumpcap", "-q", "-i", f"dwx{env.uid}", "-f", "udp port 1194",
                                           "-w", cap], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        for name, cert, outer, extra in CLIENTS + REFUSED:
            names.append(name)
            env.run_in_ns(ns_of[name], client_cmd(work, name, cert, outer, extra), timeout=20)
        for name, cert, _, _ in CLIENTS:
            up = wait_log(os.path.join(work, f"{name}.log"), "Initialization Sequence Completed", 30)
            check(up, f"{name} ({cert}): openvpn initialised")
            if not up:
                print(log_of(work, name)[-3000:])
        for name, cert, _, _ in CLIENTS:
            s = session_of(dmn, cert)
            check(s is not None and s["cipher"] == CIPHERS[name] and s["state"] == "up" and
                  s["key_derivation"] == "tls-ekm",
                  f"{name}: session for CN {cert} with {CIPHERS[name]}, keys from the TLS exporter "
                  f"({s and s.get('cipher')}, {s and s.get('key_derivation')})")
            log = log_of(work, name)
            check(f"Data Channel: cipher '{CIPHERS[name]}'" in log or f"'{CIPHERS[name]}'" in log,
                  f"{name}: the client reports data cipher {CIPHERS[name]}")
            ping(env, ns_of[name], HOST_INNER, 1)  # the first may wait for ARP on the inside
            got = ping(env, ns_of[name], HOST_INNER, 10)
            check(got == 10, f"{name}: 10/10 pings through the tunnel (got {got})")
            if got != 10:
                print("sessions:", dmn.query("/dpvpn/sessions"))
                print("drops:", {k: v for k, v in dmn.query("/dpvpn/drops").items() if v})
                print("tunnels:", dmn.query("/dpvpn/tunnels"))

        # key_log: one line per data key, naming the session's peer-id, address and common name.
        lines = open(os.path.join(work, "keys.log")).read().splitlines()
        logged = {dict(kv.split("=", 1) for kv in line.split())["cn"]: dict(kv.split("=", 1) for kv in line.split())
                  for line in lines}
        for name, cert, _, _ in CLIENTS:
            s, k = session_of(dmn, cert), logged.get(cert)
            check(k is not None and s is not None and int(k["peer_id"]) == s["peer_id"] and
                  k["address"] == s["address"] and k["cipher"] == CIPHERS[name] and len(k["material"]) == 512,
                  f"{name}: key_log line with its peer-id, address, cipher and 256 bytes of key material")

        # The wire, decoded by tshark: our hard resets ack the client's reset, our control messages
        # count from 0 per client and ack theirs, our data packets carry each session's peer-id.
        dumpcap.terminate()
        dumpcap.wait(timeout=10)
        ours = tshark_rows(cap, ["udp.dstport", "openvpn.opcode", "openvpn.peerid", "openvpn.mpid",
                                 "openvpn.mpidarrayelement", "udp.length"], f"openvpn && ip.src=={DPVPN_OUTER}")
        by_port = {}
        for port, op, peer, mpid, acks, ulen in ours:
            by_port.setdefault(port, []).append((int(op, 0), peer, mpid, acks, int(ulen)))
        sessions = {v["peer_port"]: v for k, v in dmn.query("/dpvpn/sessions").items() if k.startswith("ovpn_")}
        for name, cert, _, _ in CLIENTS:
            sess = session_of(dmn, cert)
            pk = by_port.get(str(sess["peer_port"]), [])
            resets = [p for p in pk if p[0] == 8]
            ctl_ids = [int(p[2]) for p in pk if p[0] == 4]
            data_peer = {p[1] for p in pk if p[0] == 9}
            check(resets and resets[0][2] == "0" and resets[0][3] == "0" and
                  ctl_ids[:3] == [1, 2, 3] and sorted(set(ctl_ids)) == list(range(1, max(ctl_ids) + 1)) and
                  data_peer == {str(sess["peer_id"])} and max(p[4] for p in pk if p[0] != 9) <= 1250 - 28,
                  f"{name}: tshark decodes our reset (id 0, acking 0), control ids 1..{max(ctl_ids or [0])}, "
                  f"P_DATA_V2 with peer-id {data_peer} (session {sess['peer_id']}), control datagrams <= 1222 B")
        check(len(sessions) == len(CLIENTS), f"{len(sessions)} sessions by client port")

        # Scapy-made datagrams from c1's address and port: each refused for its own reason, and
        # one sealed with the logged keys delivered once (its copy is a duplicate in the window).
        # c1 stops first, so that its own packets do not race ours for packet-ids.
        k1 = logged["client2"]
        s1 = session_of(dmn, "client2")
        kill_pidfile(os.path.join(work, "c1.pid"))
        time.sleep(0.5)
        next_seq = dmn.query(f"/dpvpn/session,{s1['tunnel']}")["reorder"]["next_seq"]
        mat = bytes.fromhex(k1["material"])
        cport = int(k1["client"].rsplit(":", 1)[1])
        from scapy.all import ICMP, IP, Raw
        inner = bytes(IP(src=s1["address"], dst=HOST_INNER) / ICMP(id=1, seq=1) / Raw(bytes(56)))
        good = seal(CIPHERS["c1"], mat, s1["peer_id"], 0, next_seq, inner)
        forged = bytearray(good)
        forged[10] ^= 1
        t_before = dmn.query(f"/dpvpn/session,{s1['tunnel']}")
        d_before, srv_before = dmn.query("/dpvpn/drops"), dmn.query("/dpvpn/openvpn")
        inject(env, ns_of["c1"], CLIENTS[1][2], cport, [
            good, good, bytes(forged),
            seal(CIPHERS["c1"], mat, s1["peer_id"], 5, next_seq + 1, inner),    # a key id with no key
            bytes([6 << 3]) + good[4:],                                           # P_DATA_V1
            good[:20],                                                            # shorter than the header
            bytes([4 << 3]) + bytes(5),                                           # a truncated control packet
        ])
        time.sleep(1)
        t_after = dmn.query(f"/dpvpn/session,{s1['tunnel']}")
        d_after, srv_after = dmn.query("/dpvpn/drops"), dmn.query("/dpvpn/openvpn")
        dd = {k: d_after[k] - d_before.get(k, 0) for k in d_after if d_after[k] != d_before.get(k, 0)}
        w0, w1 = t_before["reorder"], t_after["reorder"]
        print(f"injected: drops {dd}, window {w0} -> {w1}")
        check(dd.get("ovpn_bad_hmac") == 1 and dd.get("ovpn_bad_key_id") == 1 and dd.get("ovpn_bad_opcode") == 1
              and dd.get("ovpn_malformed") == 1,
              f"forged, unknown key id, P_DATA_V1, short: one each of ovpn_bad_hmac, ovpn_bad_key_id, "
              f"ovpn_bad_opcode, ovpn_malformed ({dd})")
        check(srv_after["bad_packets"] == srv_before["bad_packets"] + 1,
              f"the truncated control packet: bad_packets {srv_before['bad_packets']} -> {srv_after['bad_packets']}")
        check(t_after["rx_packets"] >= t_before["rx_packets"] + 1 and
              dd.get("window_duplicated", 0) + dd.get("window_under_window", 0) >= 1,
              f"the sealed packet delivered once, its copy refused by the window "
              f"(rx {t_before['rx_packets']} -> {t_after['rx_packets']}, {dd})")

        # c1 again from the same address and port, with a new session id: its old session goes at once.
        os.unlink(os.path.join(work, "c1.log"))
        env.run_in_ns(ns_of["c1"], client_cmd(work, "c1", "client2", CLIENTS[1][2], CLIENTS[1][3]), timeout=20)
        check(wait_log(os.path.join(work, "c1.log"), "Initialization Sequence Completed", 30), "c1 restarted")
        s1b = session_of(dmn, "client2")
        got = ping(env, ns_of["c1"], HOST_INNER, 5)
        check(s1b is not None and s1b["tunnel"] != s1["tunnel"] and dmn.query("/dpvpn/openvpn")["clients"] == 3
              and got == 5, f"c1's restart replaced its session ({s1['tunnel']} -> {s1b and s1b['tunnel']}), "
              f"3 clients, 5/5 pings")

        # Refused certificates: no session, counted as TLS failures.
        time.sleep(3)
        srv = dmn.query("/dpvpn/openvpn")
        for name, cert, _, _ in REFUSED:
            check("Initialization Sequence Completed" not in log_of(work, name) and session_of(dmn, cert) is None,
                  f"{name} ({cert}): refused, no session")
        check(srv["tls_failures"] >= 2, f"TLS failures counted: {srv['tls_failures']}")
        check(srv["clients"] == len(CLIENTS), f"{srv['clients']} clients connected")

        figures = {}
        figures["c1_up"] = iperf(env, ns_of["c1"], HOST_INNER, False, seconds)
        figures["c1_down"] = iperf(env, ns_of["c1"], HOST_INNER, True, seconds)
        env.run_in_ns(inside.ns, ["iperf3", "-s", "-D", "-p", "5202"])
        env.run_in_ns(inside.ns, ["iperf3", "-s", "-D", "-p", "5203"])
        procs = [env.popen_in_ns(ns_of[name], ["iperf3", "-c", HOST_INNER, "-t", str(seconds), "-J",
                                               "-p", str(5201 + i)], stdout=subprocess.PIPE, text=True)
                 for i, (name, _, _, _) in enumerate(CLIENTS)]
        for i, p in enumerate(procs):
            out, _ = p.communicate(timeout=seconds + 30)
            try:
                figures[f"all_{CLIENTS[i][0]}_up"] = json.loads(out)["end"]["sum_received"]["bits_per_second"]
            except (ValueError, KeyError):
                figures[f"all_{CLIENTS[i][0]}_up"] = 0.0
        for k, v in figures.items():
            print(f"iperf3 {k}: {v / 1e6:.0f} Mbit/s")
            check(v > 1e6, f"{k}: iperf3 moves data")

        # Renegotiation every 10 s on c0: pings keep being answered across several of them.
        results, stop = [], threading.Event()
        th = threading.Thread(target=pinger, args=(env, ns_of["c0"], results, stop))
        th.start()
        time.sleep(32)
        stop.set()
        th.join(timeout=30)
        sent = sum(r[0] for r in results)
        answered = sum(r[1] for r in results)
        s0 = session_of(dmn, "client1")
        t0 = dmn.query(f"/dpvpn/tunnel,{s0['tunnel']}")
        print(f"c0: {answered}/{sent} pings over 32 s; tunnel {t0.get('renegotiations')} renegotiations, "
              f"key id {s0['key_id']}, previous-key packets {t0.get('previous_key_rx')}, "
              f"drops { {k: v for k, v in t0.get('drop_reasons', {}).items() if v} }")
        check(t0["renegotiations"] >= 2, f"c0: {t0['renegotiations']} renegotiations (>= 2)")
        check(s0["key_id"] != 0, f"c0: key id moved on ({s0['key_id']})")
        check(sent > 0 and answered >= sent - 1, f"c0: {answered}/{sent} pings answered across renegotiations")
        log0 = log_of(work, "c0")
        check(log0.count("Initialization Sequence Completed") == 1, "c0 never restarted")

        # explicit-exit-notify: c2 says EXIT, the server closes it at once.
        exits = dmn.query("/dpvpn/openvpn")["exits"]
        kill_pidfile(os.path.join(work, "c2.pid"))
        names.remove("c2")
        deadline = time.time() + 5
        while time.time() < deadline and session_of(dmn, "client3") is not None:
            time.sleep(0.2)
        srv = dmn.query("/dpvpn/openvpn")
        check(session_of(dmn, "client3") is None and srv["exits"] == exits + 1,
              f"c2 exited: its session closed at once (exits {exits} -> {srv['exits']})")

        # Many clients at once: all come up with their own address and peer-id, and all ping.
        t0 = time.time()
        for name, cert, outer, extra in MANY:
            names.append(name)
            env.run_in_ns(ns_of[name], client_cmd(work, name, cert, outer, extra), timeout=20)
        up = [wait_log(os.path.join(work, f"{name}.log"), "Initialization Sequence Completed", 40)
              for name, _, _, _ in MANY]
        took = time.time() - t0
        answered = [ping(env, ns_of[name], HOST_INNER, 3) for name, _, _, _ in MANY]
        srv = dmn.query("/dpvpn/openvpn")
        check(all(up), f"{sum(up)}/{len(MANY)} more clients up at once in {took:.1f} s")
        check(sum(answered) >= 3 * len(MANY) - 1, f"they answered {sum(answered)}/{3 * len(MANY)} pings")
        check(srv["clients"] == len(MANY) + 2, f"{srv['clients']} clients connected ({len(MANY)} + c0, c1)")
        addrs = {v["address"] for k, v in dmn.query("/dpvpn/sessions").items() if k.startswith("ovpn_")}
        check(len(addrs) == srv["clients"], f"{len(addrs)} distinct addresses for {srv['clients']} clients")

        stop_all(work, names, dmn)
        names, dmn = [], None

        # Pre-2.5 key derivation (the TLS 1.0 PRF): what a client gets when the exporter is off;
        # and --fragment 600 on both sides: its 1400-byte pings arrive in fragments.
        with open(cfg, "w") as f:
            f.write(config + "tls_ekm = no\nfragment = 600\n")
        dmn = Daemon(cfg, lcores="0,1", memory_mb=1024)
        dmn.start()
        os.unlink(os.path.join(work, "c1.log"))
        names.append("c1")
        env.run_in_ns(ns_of["c1"], client_cmd(work, "c1", "client2", CLIENTS[1][2],
                                              CLIENTS[1][3] + ["--fragment", "600"]), timeout=20)
        check(wait_log(os.path.join(work, "c1.log"), "Initialization Sequence Completed", 30),
              "c1 up with keys from the TLS 1.0 PRF")
        ping(env, ns_of["c1"], HOST_INNER, 1)
        got = ping(env, ns_of["c1"], HOST_INNER, 10)
        s1 = session_of(dmn, "client2")
        check(got == 10 and s1 is not None and s1["key_derivation"] == "prf",
              f"c1 with PRF keys: 10/10 pings (got {got}, {s1 and s1.get('key_derivation')})")
        got = ping(env, ns_of["c1"], HOST_INNER, 10, size=1400)
        tf = dmn.query(f"/dpvpn/session,{s1['tunnel']}") if s1 else {}
        check(got == 10 and tf.get("reassembled", 0) >= 10 and tf.get("fragments_rx", 0) >= 2 * tf.get("reassembled", 0),
              f"c1 with --fragment 600: 10/10 pings of 1400 bytes (got {got}), {tf.get('fragments_rx')} fragments "
              f"reassembled into {tf.get('reassembled')} datagrams")
        stop_all(work, names, dmn)
        names, dmn = [], None
        return check.summary()
    finally:
        for n in names:
            kill_pidfile(os.path.join(work, f"{n}.pid"))
        if dmn is not None:
            print("dpvpn output (tail):")
            print(dmn.read_log()[-6000:])
            dmn.stop()
        env.cleanup()
        if os.environ.get("KEEP_WORK"):
            print("work dir kept:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
