#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""PPTP load generator: many control connections and calls, PPP up to IPCP, from one namespace.

Run by run.py inside the client namespace (`ip netns exec NS loadgen.py ...`); it reads commands
from stdin, one JSON object a line, and answers each with one JSON line on stdout:

    {"cmd": "open", "n": 1000, "ppp": 1000}  open n control connections, each with one call;
                                             the first `ppp` of them also bring PPP up (LCP,
                                             MS-CHAPv2, IPCP; CCP is protocol-rejected unless
                                             --mppe asks for MPPE-128, see below)
    {"cmd": "open", ..., "details": true}    also lists, per session up, what a data-path peer
                                             needs (perf/pptp/e2e.py): call ids, addresses,
                                             the next GRE sequence number, the MPPE master key
    {"cmd": "stats"}                         counters of the idle sessions (echoes answered ...)
    {"cmd": "close"}                         close every TCP connection (FIN)
    {"cmd": "probe"}                         one more session up to IPCP; its address; closed again
    {"cmd": "quit"}

While idle it answers the server's PPTP Echo-Requests and LCP Echo-Requests, so sessions stay.

Everything on the wire is encoded here from RFC 2637 (PPTP control messages and GRE v1),
RFC 1661 / 1332 (LCP, IPCP), RFC 1994 + 2759 (CHAP, MS-CHAPv2): MD4 (RFC 1320) is written out
below because OpenSSL 3 keeps it in the legacy provider; DES comes from python3-cryptography.
`loadgen.py --selftest` checks MD4 and MS-CHAPv2 against the RFCs' test vectors.

Users are u00000, u00001, ... with password pw-<index>-scale (run.py writes the chap-secrets).

--mppe stateless|stateful: CCP (RFC 1962) negotiates MPPE-128 (RFC 3078 option 18: S = 0x40,
stateless adds H = 0x01000000) instead of being protocol-rejected; a session is up when IPCP and
CCP are both open. The master key is RFC 3079 3.4's GetMasterKey; this program sends no MPPE data
itself (perf/pptp/pptp_peer.c does).
"""
import argparse
import asyncio
import hashlib
import json
import os
import random
import socket
import struct
import sys
import time

# ---------------------------------------------------------------- MD4 (RFC 1320)

_R1_S, _R2_S, _R3_S = (3, 7, 11, 19), (3, 5, 9, 13), (3, 9, 11, 15)
_R2_K = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
_R3_K = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
_M32 = 0xffffffff


def md4(data):
    msg = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8 & (2 ** 64 - 1))
    h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]
    rounds = (
        (lambda x, y, z: (x & y) | (~x & z), 0, tuple(range(16)), _R1_S),
        (lambda x, y, z: (x & y) | (x & z) | (y & z), 0x5a827999, _R2_K, _R2_S),
        (lambda x, y, z: x ^ y ^ z, 0x6ed9eba1, _R3_K, _R3_S),
    )
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[off:off + 64])
        v = list(h)
        for fn, const, order, shifts in rounds:
            for i in range(16):
                # Steps update a, d, c, b in turn; each takes the other three in order.
                t = (4 - i % 4) % 4
                r = (v[t] + fn(v[(t + 1) % 4], v[(t + 2) % 4], v[(t + 3) % 4]) + x[order[i]] + const) & _M32
                s = shifts[i % 4]
                v[t] = ((r << s) | (r >> (32 - s))) & _M32
        h = [(a + b) & _M32 for a, b in zip(h, v)]
    return struct.pack("<4I", *h)


# ---------------------------------------------------------------- MS-CHAPv2, client side (RFC 2759)

def _des_encrypt(key7, block):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    k = int.from_bytes(key7, "big")
    # 56 key bits spread over 8 bytes, 7 bits each in the high bits (the low bit is DES parity).
    key8 = bytes(((k >> (49 - 7 * i)) & 0x7f) << 1 for i in range(8))
    # TripleDES with one 8-byte key is single DES (K1 = K2 = K3).
    enc = Cipher(algorithms.TripleDES(key8), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def nt_password_hash(password):
    return md4(password.encode("utf-16-le"))


def challenge_hash(peer_challenge, auth_challenge, user):
    return hashlib.sha1(peer_challenge + auth_challenge + user.encode()).digest()[:8]


def nt_response(auth_challenge, peer_challenge, user, pw_hash):
    ch = challenge_hash(peer_challenge, auth_challenge, user)
    z = pw_hash + b"\0" * 5
    return b"".join(_des_encrypt(z[i:i + 7], ch) for i in (0, 7, 14))


_MAGIC1 = b"Magic server to client signing constant"
_MAGIC2 = b"Pad to make it do more than one iteration"


def authenticator_response(pw_hash, nt_resp, peer_challenge, auth_challenge, user):
    d = hashlib.sha1(md4(pw_hash) + nt_resp + _MAGIC1).digest()
    d = hashlib.sha1(d + challenge_hash(peer_challenge, auth_challenge, user) + _MAGIC2).digest()
    return "S=" + d.hex().upper()


def mppe_master_key(pw_hash, nt_resp):
    """RFC 3079 3.4 GetMasterKey: SHA-1(PasswordHashHash | NT-Response | Magic1), first 16 bytes."""
    return hashlib.sha1(md4(pw_hash) + nt_resp + b"This is the MPPE Master Key").digest()[:16]


def selftest():
    """RFC 1320 A.5 and RFC 2759 9.2 test vectors."""
    assert md4(b"").hex() == "31d6cfe0d16ae931b73c59d7e0c089c0"
    assert md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"
    assert md4(b"12345678901234567890123456789012345678901234567890123456789012345678901234567890").hex() \
        == "e33b4ddc9c38f2199c3e7b164fcc0536"
    ac = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
    pc = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
    ph = nt_password_hash("clientPass")
    assert ph.hex().upper() == "44EBBA8D5312B8D611474411F56989AE"
    assert challenge_hash(pc, ac, "User").hex().upper() == "D02E4386BCE91226"
    nr = nt_response(ac, pc, "User", ph)
    assert nr.hex().upper() == "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"
    assert authenticator_response(ph, nr, pc, ac, "User") == "S=407A5589115FD0D6209F510FE9C04566932CDA56"
    # RFC 3079 3.5.3 (the 128-bit sample): its NT-Response and MasterKey.
    nr3 = bytes.fromhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")
    assert mppe_master_key(ph, nr3).hex().upper() == "FDECE3717A8C838CB388E527AE3CDD31"
    return True


# ---------------------------------------------------------------- PPTP control messages (RFC 2637 2)

MAGIC = 0x1a2b3c4d
SCCRQ, SCCRP, STOPCCRQ, STOPCCRP, ECHORQ, ECHORP, OCRQ, OCRP = 1, 2, 3, 4, 5, 6, 7, 8
CCRQ, CDN, WEN, SLI = 12, 13, 14, 15
MSG_LEN = {SCCRQ: 156, SCCRP: 156, STOPCCRQ: 16, STOPCCRP: 16, ECHORQ: 16, ECHORP: 20, OCRQ: 168,
           OCRP: 32, CCRQ: 16, CDN: 148, WEN: 40, SLI: 24}


def ctrl_msg(mtype, body):
    """Header (length, message type 1, magic cookie, control type, reserved) + body, padded."""
    n = MSG_LEN[mtype]
    m = struct.pack("!HHIHH", n, 1, MAGIC, mtype, 0) + body
    assert len(m) <= n
    return m + b"\0" * (n - len(m))


def sccrq(host):
    # version 1.0, reserved, framing (async|sync), bearer (analog|digital), max channels, firmware
    return ctrl_msg(SCCRQ, struct.pack("!HHIIHH", 0x0100, 0, 3, 3, 0, 1) +
                    host.encode()[:63].ljust(64, b"\0") + b"dpvpn-loadgen".ljust(64, b"\0"))


def ocrq(call_id, serial, window):
    # call id, serial, min bps, max bps, bearer (any), framing (any), recv window, delay,
    # phone number length, reserved, phone number, subaddress
    return ctrl_msg(OCRQ, struct.pack("!HHIIIIHHHH", call_id, serial, 2400, 100000000, 3, 3, window, 0, 0, 0) +
                    b"\0" * 128)


def echo_reply(ident):
    return ctrl_msg(ECHORP, struct.pack("!IBBH", ident, 1, 0, 0))


# ---------------------------------------------------------------- PPP (RFC 1661, 1332, 1994)

PPP_IPCP, PPP_CCP, PPP_LCP, PPP_CHAP = 0x8021, 0x80fd, 0xc021, 0xc223
CCP_MPPE = 18
MPPE_BITS = {"off": 0, "stateless": 0x01000040, "stateful": 0x00000040}   # RFC 3078 H | S, or S
CONF_REQ, CONF_ACK, CONF_NAK, CONF_REJ, TERM_REQ, TERM_ACK, CODE_REJ, PROTO_REJ, ECHO_REQ, ECHO_REPLY = range(1, 11)
CHAP_CHALLENGE, CHAP_RESPONSE, CHAP_SUCCESS, CHAP_FAILURE = 1, 2, 3, 4
RESTART_S = 3.0
MAX_CONFIGURE = 10


def options(data):
    out, i = [], 0
    while i + 2 <= len(data):
        t, n = data[i], data[i + 1]
        if n < 2 or i + n > len(data):
            return None
        out.append((t, data[i + 2:i + n]))
        i += n
    return out


class Session:
    """One control connection with one call, and the PPP client of that call."""

    def __init__(self, gen, idx, call_id, user, password, want_ppp):
        self.gen, self.idx, self.call_id = gen, idx, call_id
        self.user, self.password, self.want_ppp = user, password, want_ppp
        self.src = gen.sources[idx % len(gen.sources)]
        self.writer = None
        self.peer_call_id = 0           # dpvpn's call id: the key of what we send
        self.tx_seq = 0
        self.rx_seq = None              # last sequence number seen from dpvpn (acked on ours)
        self.waiters = {}               # control message type -> future
        self.up = asyncio.get_running_loop().create_future()   # result: None when up, else why not
        self.closed_why = None
        self.times = {}
        # PPP client state
        self.magic = random.getrandbits(32) | 1
        self.next_id = random.getrandbits(8)
        self.lcp = {"req_id": None, "acked": False, "peer_acked": False, "deadline": 0.0, "tries": 0}
        self.ipcp = {"req_id": None, "acked": False, "peer_acked": False, "deadline": 0.0, "tries": 0}
        self.ccp = {"req_id": None, "acked": False, "peer_acked": False, "deadline": 0.0, "tries": 0}
        self.master_key = None          # MPPE (RFC 3079 3.4), once MS-CHAPv2 succeeded
        self.addr = b"\0\0\0\0"
        self.chap_resp = None           # (id, frame) of our last response, resent on demand
        self.auth_ok = False
        self.expect_auth = None
        self.early = []                 # PPP frames that overtook the Outgoing-Call-Reply
        self.echo_answered = 0
        self.pptp_echo_answered = 0
        self.failure = None

    # -- control connection

    def fail(self, why):
        if self.failure is None:
            self.failure = why
        if not self.up.done():
            self.up.set_result(why)

    async def control_reader(self, reader):
        try:
            while True:
                hdr = await reader.readexactly(2)
                n = struct.unpack("!H", hdr)[0]
                if n < 12:
                    raise RuntimeError(f"control message length {n}")
                m = hdr + await reader.readexactly(n - 2)
                _, mt, magic, ctype, _ = struct.unpack("!HHIHH", m[:12])
                if mt != 1 or magic != MAGIC:
                    raise RuntimeError("bad magic cookie")
                if ctype == ECHORQ:
                    self.writer.write(echo_reply(struct.unpack("!I", m[12:16])[0]))
                    self.pptp_echo_answered += 1
                elif ctype == CDN:
                    self.closed_why = "Call-Disconnect-Notify: " + m[20:148].split(b"\0")[0].decode(errors="replace")
                    self.fail(self.closed_why)
                elif ctype == STOPCCRQ:
                    self.writer.write(ctrl_msg(STOPCCRP, struct.pack("!BB", 1, 0)))
                    self.closed_why = "Stop-Control-Connection-Request"
                    self.fail(self.closed_why)
                elif ctype in self.waiters and not self.waiters[ctype].done():
                    self.waiters[ctype].set_result(m)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as e:
            self.closed_why = self.closed_why or f"control connection closed ({type(e).__name__})"
        except RuntimeError as e:
            self.closed_why = str(e)
        self.fail(self.closed_why or "control connection closed")
        for w in self.waiters.values():
            if not w.done():
                w.set_exception(RuntimeError(self.closed_why))

    async def request(self, msg, reply_type, timeout):
        fut = asyncio.get_running_loop().create_future()
        self.waiters[reply_type] = fut
        self.writer.write(msg)
        return await asyncio.wait_for(fut, timeout)

    async def setup(self, timeout):
        self.t0 = t0 = time.monotonic()
        reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(self.gen.server, 1723, local_addr=(self.src, 0)), timeout)
        self.times["connect"] = time.monotonic() - t0
        self.gen.tasks.add(asyncio.get_running_loop().create_task(self.control_reader(reader)))
        m = await self.request(sccrq(f"loadgen-{self.idx}"), SCCRP, timeout)
        if m[14] != 1:
            raise RuntimeError(f"SCCRP result {m[14]} error {m[15]}")
        self.times["sccrp"] = time.monotonic() - t0
        # Registered before the request: GRE from dpvpn may overtake the reply.
        self.gen.by_call_id[self.call_id] = self
        m = await self.request(ocrq(self.call_id, self.idx & 0xffff, 64), OCRP, timeout)
        call_id, peer_call_id, result, error = struct.unpack("!HHBB", m[12:18])
        if result != 1 or call_id == 0 or peer_call_id != self.call_id:
            raise RuntimeError(f"OCRP result {result} error {error} call id {call_id} peer {peer_call_id}")
        self.peer_call_id = call_id
        self.times["ocrp"] = time.monotonic() - t0
        if not self.want_ppp:
            return
        # dpvpn starts LCP at once; ours goes out now as well.
        self.send_conf_req(PPP_LCP, self.lcp)
        for f in self.early:
            self.ppp_input(f)
        self.early = []
        self.gen.negotiating.add(self)
        try:
            why = await asyncio.wait_for(asyncio.shield(self.up), timeout)
        finally:
            self.gen.negotiating.discard(self)
        if why is not None:
            raise RuntimeError(why)
        self.times["up"] = time.monotonic() - t0

    def mark(self, what):
        self.times.setdefault(what, time.monotonic() - self.t0)

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    # -- GRE v1 (RFC 2637 4.1)

    def send_ppp(self, proto, payload):
        frame = b"\xff\x03" + struct.pack("!H", proto) + payload
        seq = self.tx_seq
        self.tx_seq = (self.tx_seq + 1) & _M32
        if self.rx_seq is not None:
            hdr = struct.pack("!BBHHHII", 0x30, 0x81, 0x880b, len(frame), self.peer_call_id, seq, self.rx_seq)
        else:
            hdr = struct.pack("!BBHHHI", 0x30, 0x01, 0x880b, len(frame), self.peer_call_id, seq)
        self.gen.send_gre(self.src, hdr + frame)

    def send_cp(self, proto, code, ident, data):
        self.send_ppp(proto, struct.pack("!BBH", code, ident, 4 + len(data)) + data)

    def take_id(self):
        self.next_id = (self.next_id + 1) & 0xff
        return self.next_id

    def our_options(self, proto):
        if proto == PPP_LCP:
            return bytes([1, 4]) + struct.pack("!H", self.gen.mru) + bytes([5, 6]) + struct.pack("!I", self.magic)
        if proto == PPP_CCP:
            return bytes([CCP_MPPE, 6]) + struct.pack("!I", self.gen.mppe_bits)
        return bytes([3, 6]) + self.addr

    def send_conf_req(self, proto, st):
        st["req_id"] = self.take_id()
        st["deadline"] = time.monotonic() + RESTART_S
        st["tries"] += 1
        self.send_cp(proto, CONF_REQ, st["req_id"], self.our_options(proto))

    def timer(self, now):
        for proto, st in ((PPP_LCP, self.lcp), (PPP_IPCP, self.ipcp), (PPP_CCP, self.ccp)):
            if st["req_id"] is not None and not st["acked"] and now >= st["deadline"]:
                if st["tries"] >= MAX_CONFIGURE:
                    self.fail(f"{ {PPP_LCP: 'LCP', PPP_IPCP: 'IPCP', PPP_CCP: 'CCP'}[proto]} negotiation timed out")
                    return
                self.gen.retransmits += 1
                self.send_conf_req(proto, st)

    def answer_req(self, proto, st, ident, reply):
        """Answers the peer's Configure-Request with reply = (code, options); only an Ack opens our side."""
        self.send_cp(proto, reply[0], ident, reply[1])
        st["peer_acked"] = reply[0] == CONF_ACK

    def check_up(self):
        ccp_open = not self.gen.mppe_bits or (self.ccp["acked"] and self.ccp["peer_acked"])
        if self.ipcp["acked"] and self.ipcp["peer_acked"] and ccp_open and not self.up.done():
            self.up.set_result(None)

    def ppp_input(self, frame):
        if self.peer_call_id == 0 or not self.want_ppp:
            if self.want_ppp and len(self.early) < 16:
                self.early.append(frame)
            return
        if frame[:2] == b"\xff\x03":
            frame = frame[2:]
        if len(frame) < 6:
            return
        proto = struct.unpack("!H", frame[:2])[0]
        code, ident, n = struct.unpack("!BBH", frame[2:6])
        data = frame[6:2 + n]
        if proto == PPP_LCP:
            self.lcp_input(code, ident, data)
        elif proto == PPP_CHAP:
            self.chap_input(code, ident, data)
        elif proto == PPP_IPCP:
            if not self.auth_ok:
                # Our Success got lost: the server is in its network phase. Ask again.
                if self.chap_resp is not None:
                    self.send_ppp(PPP_CHAP, self.chap_resp)
                return
            self.ipcp_input(code, ident, data)
        elif proto == PPP_CCP and self.gen.mppe_bits and self.auth_ok:
            self.ccp_input(code, ident, data)
        elif proto == PPP_CCP and not self.gen.mppe_bits:
            # No CCP here (like pppd without MPPE): LCP Protocol-Reject (RFC 1661 5.7).
            self.send_cp(PPP_LCP, PROTO_REJ, self.take_id(), frame[:2] + frame[2:2 + n])
            self.gen.ccp_rejected += 1

    def lcp_input(self, code, ident, data):
        st = self.lcp
        if code == CONF_REQ:
            self.mark("lcp_req")
            opts = options(data)
            if opts is None:
                return
            rej = b"".join(bytes([t, 2 + len(v)]) + v for t, v in opts
                           if t not in (1, 3, 5) or (t == 3 and v != b"\xc2\x23\x81"))
            self.answer_req(PPP_LCP, st, ident, (CONF_REJ, rej) if rej else (CONF_ACK, data))
        elif code == CONF_ACK and ident == st["req_id"]:
            st["acked"] = True
            self.mark("lcp_acked")
        elif code in (CONF_NAK, CONF_REJ) and ident == st["req_id"]:
            self.fail(f"LCP: our options {'Nak' if code == CONF_NAK else 'Rejec'}ed")
        elif code == ECHO_REQ:
            self.send_cp(PPP_LCP, ECHO_REPLY, ident, struct.pack("!I", self.magic) + data[4:])
            self.echo_answered += 1
        elif code == TERM_REQ:
            self.send_cp(PPP_LCP, TERM_ACK, ident, b"")
            self.fail("LCP Terminate-Request: " + data.decode(errors="replace"))

    def chap_input(self, code, ident, data):
        if code == CHAP_CHALLENGE:
            self.mark("challenge")
            if len(data) < 17 or data[0] != 16:
                self.fail("CHAP challenge is not MS-CHAPv2's 16 bytes")
                return
            auth_ch = data[1:17]
            peer_ch = os.urandom(16)
            pw_hash = self.gen.nt_hash(self.password)
            nt = nt_response(auth_ch, peer_ch, self.user, pw_hash)
            self.expect_auth = authenticator_response(pw_hash, nt, peer_ch, auth_ch, self.user)
            self.master_key = mppe_master_key(pw_hash, nt)
            value = peer_ch + b"\0" * 8 + nt + b"\0"
            body = bytes([49]) + value + self.user.encode()
            self.chap_resp = struct.pack("!BBH", CHAP_RESPONSE, ident, 4 + len(body)) + body
            self.send_ppp(PPP_CHAP, self.chap_resp)
        elif code == CHAP_SUCCESS:
            msg = data.decode(errors="replace")
            if self.expect_auth is None or not msg.startswith(self.expect_auth):
                self.fail(f"MS-CHAPv2: the server's authenticator response is wrong ({msg[:44]!r})")
                return
            if not self.auth_ok:
                self.auth_ok = True
                self.mark("auth")
                self.send_conf_req(PPP_IPCP, self.ipcp)
                if self.gen.mppe_bits:
                    self.send_conf_req(PPP_CCP, self.ccp)
        elif code == CHAP_FAILURE:
            self.fail("CHAP Failure: " + data.decode(errors="replace"))

    def ccp_input(self, code, ident, data):
        """MPPE-128 in the mode of --mppe and nothing else: we Nak any other bits once per request."""
        st, want = self.ccp, self.gen.mppe_bits
        if code == CONF_REQ:
            opts = options(data)
            if opts is None:
                return
            rej = b"".join(bytes([t, 2 + len(v)]) + v for t, v in opts if t != CCP_MPPE or len(v) != 4)
            if rej:
                self.answer_req(PPP_CCP, st, ident, (CONF_REJ, rej))
            elif any(struct.unpack("!I", v)[0] != want for _, v in opts) or not opts:
                self.answer_req(PPP_CCP, st, ident, (CONF_NAK, bytes([CCP_MPPE, 6]) + struct.pack("!I", want)))
            else:
                self.answer_req(PPP_CCP, st, ident, (CONF_ACK, data))
        elif code == CONF_ACK and ident == st["req_id"]:
            st["acked"] = True
        elif code in (CONF_NAK, CONF_REJ) and ident == st["req_id"]:
            self.fail(f"CCP: MPPE {want:#010x} {'Nak' if code == CONF_NAK else 'Rejec'}ed")
        elif code == TERM_REQ:
            self.send_cp(PPP_CCP, TERM_ACK, ident, b"")
            self.fail("CCP Terminate-Request")
        self.check_up()

    def ipcp_input(self, code, ident, data):
        st = self.ipcp
        if code == CONF_REQ:
            opts = options(data)
            if opts is None:
                return
            rej = b"".join(bytes([t, 2 + len(v)]) + v for t, v in opts if t != 3)
            self.answer_req(PPP_IPCP, st, ident, (CONF_REJ, rej) if rej else (CONF_ACK, data))
            if not rej:
                self.server_addr = opts[0][1] if opts else b""
        elif code == CONF_NAK and ident == st["req_id"]:
            self.mark("ipcp_nak")
            for t, v in options(data) or ():
                if t == 3 and len(v) == 4:
                    self.addr = v
            self.send_conf_req(PPP_IPCP, st)
        elif code == CONF_REJ and ident == st["req_id"]:
            self.fail("IPCP: our address option rejected")
        elif code == CONF_ACK and ident == st["req_id"]:
            st["acked"] = True
        elif code == TERM_REQ:
            self.send_cp(PPP_IPCP, TERM_ACK, ident, b"")
        self.check_up()


class Generator:
    def __init__(self, server, sources, window_s, mppe="off", mru=1400):
        self.server, self.sources, self.mru = server, sources, mru
        self.mppe_bits = MPPE_BITS[mppe]
        self.by_call_id = {}
        self.sessions = []
        self.negotiating = set()
        self.tasks = set()
        self.hashes = {}
        self.retransmits = 0
        self.ccp_rejected = 0
        self.gre_rx = self.gre_tx = self.gre_unknown = 0
        self.socks = {}
        self.window_s = window_s
        self.next_index = 0

    def nt_hash(self, password):
        h = self.hashes.get(password)
        if h is None:
            h = self.hashes[password] = nt_password_hash(password)
        return h

    def open_gre(self):
        loop = asyncio.get_running_loop()
        for a in self.sources:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
            s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
            s.setsockopt(socket.SOL_SOCKET, 32, 16 << 20)  # SO_SNDBUFFORCE
            s.bind((a, 0))
            s.setblocking(False)
            self.socks[a] = s
            loop.add_reader(s.fileno(), self.gre_readable, s)

    def send_gre(self, src, pkt):
        try:
            self.socks[src].sendto(pkt, (self.server, 0))
            self.gre_tx += 1
        except BlockingIOError:
            pass            # like a lost packet: PPP retransmits

    def gre_readable(self, s):
        for _ in range(256):
            try:
                d = s.recv(4096)
            except BlockingIOError:
                return
            ihl = (d[0] & 15) * 4
            g = d[ihl:]
            if len(g) < 8 or (g[1] & 7) != 1:
                continue
            self.gre_rx += 1
            plen, call_id = struct.unpack("!HH", g[4:8])
            off = 8
            sess = self.by_call_id.get(call_id)
            if sess is None:
                self.gre_unknown += 1
                continue
            if g[0] & 0x10:
                sess.rx_seq = struct.unpack("!I", g[off:off + 4])[0]
                off += 4
            if g[1] & 0x80:
                off += 4
            if plen:
                sess.ppp_input(g[off:off + plen])

    async def timers(self):
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            for s in list(self.negotiating):
                s.timer(now)

    async def open(self, n, ppp, concurrency, timeout, details=False):
        sem = asyncio.Semaphore(concurrency)
        done_at = []
        failures = {}
        new = []

        async def one(sess):
            async with sem:
                try:
                    await sess.setup(timeout)
                    done_at.append(time.monotonic())
                except (OSError, RuntimeError, asyncio.TimeoutError) as e:
                    why = sess.failure or f"{type(e).__name__}: {e}"
                    failures[why[:80]] = failures.get(why[:80], 0) + 1

        t0 = time.monotonic()
        for k in range(n):
            i = self.next_index
            self.next_index += 1
            sess = Session(self, i, 1 + i % 65535, f"u{i:05d}", f"pw-{i:05d}-scale", k < ppp)
            new.append(sess)
        self.sessions += new
        await asyncio.gather(*(one(s) for s in new))
        t1 = time.monotonic()
        ok = [s for s in new if s.failure is None and "ocrp" in s.times and (not s.want_ppp or "up" in s.times)]

        def pct(key, sel):
            v = sorted(s.times[key] for s in sel if key in s.times)
            if not v:
                return None
            return {"p50": v[len(v) // 2], "p90": v[int(len(v) * 0.9)], "max": v[-1]}

        return {"requested": n, "ppp_requested": ppp, "ok": len(ok),
                "ppp_up": sum(1 for s in ok if "up" in s.times),
                "calls": sum(1 for s in new if "ocrp" in s.times),
                "failures": failures, "seconds": t1 - t0,
                "first_done_s": (min(done_at) - t0) if done_at else None,
                "latency_s": {k: pct(k, new) for k in ("connect", "sccrp", "ocrp", "lcp_req", "lcp_acked", "challenge",
                                                       "auth", "ipcp_nak", "up")},
                "retransmits": self.retransmits, "ccp_rejected": self.ccp_rejected,
                "addresses": sorted({socket.inet_ntoa(s.addr) for s in ok if "up" in s.times}),
                **({"sessions": [self.details(s) for s in new if s in ok and "up" in s.times]} if details else {}),
                }

    @staticmethod
    def details(s):
        """What a data-path peer needs to send and check this session's data."""
        return {"index": s.idx, "call_id": s.call_id, "peer_call_id": s.peer_call_id, "source": s.src,
                "address": socket.inet_ntoa(s.addr), "next_seq": s.tx_seq,
                "master_key": s.master_key.hex() if s.master_key and s.gen.mppe_bits else None}

    def stats(self):
        live = [s for s in self.sessions if s.failure is None and s.writer is not None]
        return {"live": len(live), "lcp_echo_answered": sum(s.echo_answered for s in self.sessions),
                "pptp_echo_answered": sum(s.pptp_echo_answered for s in self.sessions),
                "dropped_by_server": sum(1 for s in self.sessions if s.failure is not None and "ocrp" in s.times),
                "drop_reasons": sorted({s.failure for s in self.sessions if s.failure})[:10],
                "gre_rx": self.gre_rx, "gre_tx": self.gre_tx, "gre_unknown_call": self.gre_unknown}

    async def close_all(self):
        t0 = time.monotonic()
        for s in self.sessions:
            s.close()
        await asyncio.sleep(0)
        for t in list(self.tasks):
            t.cancel()
        self.tasks.clear()
        self.sessions = []
        self.by_call_id.clear()
        return {"seconds": time.monotonic() - t0}


async def serve(args):
    sources = args.sources.split(",")
    gen = Generator(args.server, sources, 0, args.mppe, args.mru)
    gen.open_gre()
    timers = asyncio.get_running_loop().create_task(gen.timers())
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    answer({"ready": True, "selftest": selftest()})
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = json.loads(line)
        c = cmd["cmd"]
        if c == "open":
            answer(await gen.open(cmd["n"], cmd.get("ppp", cmd["n"]), cmd.get("concurrency", args.concurrency),
                                  cmd.get("timeout", args.timeout), cmd.get("details", False)))
        elif c == "stats":
            answer(gen.stats())
        elif c == "close":
            answer(await gen.close_all())
        elif c == "probe":
            r = await gen.open(1, 1, 1, cmd.get("timeout", args.timeout))
            await gen.close_all()
            answer(r)
        elif c == "quit":
            answer({"bye": True})
            break
        else:
            answer({"error": f"unknown command {c}"})
    timers.cancel()
    await gen.close_all()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", help="dpvpn's outside address")
    ap.add_argument("--sources", help="our addresses, comma separated (connections spread over them)")
    ap.add_argument("--concurrency", type=int, default=200, help="setups in flight at once")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds one setup may take")
    ap.add_argument("--mru", type=int, default=1400, help="our LCP MRU (dpvpn's tunnel MTU: this minus 4 "
                    "with MPPE, at most [pptp] mtu)")
    ap.add_argument("--mppe", default="off", choices=sorted(MPPE_BITS),
                    help="negotiate CCP MPPE-128 in this mode (default: protocol-reject CCP)")
    ap.add_argument("--selftest", action="store_true", help="check MD4, MS-CHAPv2 and the MPPE master key "
                    "against RFC vectors")
    args = ap.parse_args()
    if args.selftest:
        print("selftest:", "ok" if selftest() else "FAILED")
        return 0
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
