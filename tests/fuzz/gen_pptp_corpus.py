#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the seed corpora of fuzz-gre-v1, fuzz-ppp and fuzz-pptp-ctrl.

Each seed follows its harness's input format (see the comment at the top
of the harness). They are whole exchanges random bytes would take long to
find: GRE v1 packets of every form, MPPE scripts with loss and re-keys, a
PPP negotiation to "open" (LCP, MS-CHAPv2 or MD5, IPCP, CCP), and a PPTP
control connection from Start-Control-Connection to a call that comes up.

    python3 tests/fuzz/gen_pptp_corpus.py      # rewrites tests/fuzz/corpus-*/
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, seeds):
    """Writes (label, bytes) seeds; other files (reproducers the fuzzers found) are left alone."""
    d = os.path.join(HERE, 'corpus-' + name)
    os.makedirs(d, exist_ok=True)
    for label, data in seeds:
        with open(os.path.join(d, label), 'wb') as f:
            f.write(data)


# ---- GRE v1 (RFC 2637 4.1) ----

def gre(call_id, payload=b'', seq=None, ack=None, plen=None):
    b0 = 0x20 | (0x10 if seq is not None else 0)
    b1 = (0x80 if ack is not None else 0) | 0x01
    h = struct.pack('!BBHHH', b0, b1, 0x880b, len(payload) if plen is None else plen, call_id)
    if seq is not None:
        h += struct.pack('!I', seq)
    if ack is not None:
        h += struct.pack('!I', ack)
    return h + payload


def ipv4(n, fill=0):
    return bytes([0x45, 0]) + struct.pack('!H', 20 + n) + bytes([fill]) * (16 + n)


def record(pkt):
    return struct.pack('!H', len(pkt)) + pkt


def gre_v1_seeds():
    s = []
    # 0: headers for the parser.
    s.append(('parse-seq-ack', b'\x00' + gre(0x1234, b'\xff\x03\x00\x21', seq=1, ack=0)))
    s.append(('parse-seq', b'\x00' + gre(7, b'abc', seq=0xffffffff)))
    s.append(('parse-ack-only', b'\x00' + gre(0xffff, ack=5)))
    s.append(('parse-bare', b'\x00' + gre(1)))
    s.append(('parse-too-long', b'\x00' + gre(1, b'xy', seq=3, plen=40)))
    s.append(('parse-v0', b'\x00' + b'\x20\x00\x08\x00' + b'\x00' * 8))
    # 1: a packet stream into one session: flags byte, then [len16][packet] records.
    clear = (gre(0x1234, b'\xff\x03\x00\x21' + ipv4(20, 1), seq=1, ack=0)
             , gre(0x1234, b'\xff\x03\xc0\x21\x01\x01\x00\x0a\x05\x06\x11\x22\x33\x44', seq=2)
             , gre(0x1234, ack=9)
             , gre(0x1234, b'\x21' + ipv4(8, 2), seq=3)
             , gre(0x1234, b'\x80\x21\x01\x02\x00\x0a\x03\x06\x00\x00\x00\x00', seq=4)
             , gre(0x1234, b'\xff\x03\x00\x21', seq=5, plen=300))
    s.append(('stream-clear', b'\x01' + bytes([0x01 | 0x40]) + b''.join(record(p) for p in clear)))
    mppe = (gre(0x1234, b'\xff\x03\x00\xfd\x90\x00' + bytes(range(40)), seq=1)
            , gre(0x1234, b'\xff\x03\x00\xfd\x10\x01' + bytes(range(40)), seq=2)
            , gre(0x1234, b'\xff\x03\x00\xfd\x10\x05' + bytes(range(40)), seq=3)
            , gre(0x1234, b'\xff\x03\x80\xfd\x0e\x07\x00\x04', seq=4)
            , gre(0x1234, b'\xff\x03\x00\x21' + ipv4(4), seq=5))
    s.append(('stream-mppe-stateful', b'\x01' + bytes([0x07 | 0xe0]) + b''.join(record(p) for p in mppe)))
    s.append(('stream-mppe-stateless', b'\x01' + bytes([0x0f | 0x20]) + b''.join(record(p) for p in mppe)))
    # 2: scripts between two sessions: flags byte, then [op][len] records with the inner bytes.
    #    op & 3: 0 deliver, 1 lose, 2 deliver twice, 3 Reset-Requests and acks back.
    def step(op, n, fill):
        return bytes([op | ((n >> 8) & 7) << 2, n & 0xff]) + ipv4(n - 20, fill)[:n] if op != 3 else bytes([op | 0x28, 0])
    stateful = [step(0, 60, 1), step(1, 60, 2), step(0, 60, 3), step(0, 40, 4), step(3, 0, 0),
                step(0, 60, 5), step(2, 100, 6), step(3, 0, 0), step(0, 1400, 7)]
    s.append(('script-stateful-loss', b'\x02' + bytes([0x03]) + b''.join(stateful)))
    s.append(('script-stateless-loss', b'\x02' + bytes([0x0b]) + b''.join(stateful)))
    s.append(('script-40bit', b'\x02' + bytes([0x13]) + b''.join(stateful)))
    s.append(('script-clear', b'\x02' + bytes([0x01]) + b''.join(stateful)))
    # Past a flag packet (count 0x0FF) with a loss just before it.
    long_run = [step(0, 24, i & 0xff) for i in range(250)] + [step(1, 24, 0)] * 8 + [step(0, 24, 9)] * 4
    s.append(('script-stateful-flag', b'\x02' + bytes([0x03]) + b''.join(long_run)))
    return s


# ---- PPP (fuzz_ppp.c) ----

LCP, IPCP, CCP, CHAP = 0, 1, 2, 3
CODES = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 9: 6, 8: 7}


def neg(k, code, opts):
    """Op 4: a negotiation packet of fsm k with a correct header."""
    return bytes([4 | k << 3 | CODES[code] << 5, len(opts)]) + opts


def ack(k, stale=False):
    return bytes([3, k | (0x80 if stale else 0)])


def chap(user=0, flip_alg=False, wrong_id=False):
    return bytes([5, user | (8 if flip_alg else 0) | (0x80 if wrong_id else 0)])


def later(ticks, force=False):
    return bytes([6 | (8 if force else 0), ticks])


def raw(frame):
    return bytes([0 | ((len(frame) >> 8) & 7) << 4, len(frame) & 0xff]) + frame


def close():
    return bytes([0x0f, 0])


def ppp_seeds():
    # Config byte a: auth (bits 0-1), MPPE policy (2-3), stateful (4-5), key bits (6-7);
    # byte b: echo (0), MRU (1-2), DNS (3), max_configure (4-5), max_terminate (6), pool empty (7).
    mschap_require = bytes([0x01 | 2 << 2 | 1 << 4 | 1 << 6, 0x01 | 0x08 | 0x30])
    lcp_req = b'\x05\x06\x12\x34\x56\x78\x01\x04\x05\xdc'
    to_open = (neg(LCP, 1, lcp_req) + ack(LCP) + chap(0) +
               neg(IPCP, 1, b'\x03\x06\x00\x00\x00\x00\x81\x06\x00\x00\x00\x00') +
               neg(IPCP, 1, b'\x03\x06\x0a\x00\x00\x64\x81\x06\x0a\x08\x08\x08') + ack(IPCP) +
               neg(CCP, 1, b'\x12\x06\x01\x00\x00\x40') + ack(CCP))
    s = []
    s.append(('open-mschapv2', mschap_require + to_open + later(250) + later(250) +
              raw(b'\xc0\x21\x0a\x01\x00\x08\x00\x00\x00\x00') + neg(LCP, 9, b'\x00\x00\x00\x00ping') +
              raw(b'\x80\x57\x01\x02') + raw(b'\x21\x45\x00') + close() + later(70, True)))
    # Prefer stateful: the Nak of H, then the peer gives in.
    prefer = bytes([0x01 | 2 << 2 | 2 << 4 | 3 << 6, 0x30])
    s.append(('open-prefer-stateful', prefer + neg(LCP, 1, lcp_req) + ack(LCP) + chap(0) +
              neg(CCP, 1, b'\x12\x06\x01\x00\x00\x60') + neg(CCP, 1, b'\x12\x06\x00\x00\x00\x40') +
              neg(CCP, 3, b'\x12\x06\x00\x00\x00\x40') + ack(CCP) +
              neg(IPCP, 1, b'\x03\x06\x0a\x00\x00\x64') + ack(IPCP) + raw(b'\x80\xfd\x0e\x01\x00\x04')))
    # MD5 (MPPE allowed: off without MS-CHAPv2), bob with his fixed address.
    md5 = bytes([0x02 | 1 << 2, 0x10])
    s.append(('open-md5-bob', md5 + neg(LCP, 1, b'\x05\x06\x0a\x0b\x0c\x0d') + ack(LCP) + chap(2) +
              neg(IPCP, 1, b'\x03\x06\x0a\x00\x00\x07') + ack(IPCP) + neg(LCP, 5, b'bye')))
    # Both allowed: the peer Naks MS-CHAPv2 for MD5.
    both = bytes([0x03 | 2 << 2, 0x00])
    s.append(('nak-auth', both + neg(LCP, 1, b'\x05\x06\x01\x02\x03\x04') +
              neg(LCP, 3, b'\x03\x05\xc2\x23\x05') + ack(LCP) + chap(0) + later(80)))
    s.append(('auth-fails', mschap_require + neg(LCP, 1, lcp_req) + ack(LCP) + chap(1) + later(100)))
    s.append(('wrong-chap-id', mschap_require + neg(LCP, 1, lcp_req) + ack(LCP) + chap(0, wrong_id=True) +
              later(70) + chap(0)))
    # Renegotiation of LCP after open, and timeouts.
    s.append(('renegotiate', mschap_require + to_open + neg(LCP, 1, lcp_req) + ack(LCP) + chap(0) + later(100)))
    s.append(('timeouts', mschap_require + later(70) * 12))
    # Reproducers of bugs found with fuzz-ppp (fixed in lib/ppp): a malformed IPCP / CCP
    # Configure-Request longer than PPP_MAX_FRAME overflowed the static reply buffer
    # (ppp_ipcp.c / ppp_ccp.c), and IPCP ran while LCP renegotiated after the link was
    # open, so IPCP requests went out before the client authenticated again (ppp_lcp.c).
    authed = neg(LCP, 1, lcp_req) + ack(LCP) + chap(0)
    long_opts = b'\x03\x01' + b'\x00' * 1594
    s.append(('bug-ipcp-reject-overflow', mschap_require + authed +
              raw(b'\x80\x21\x01\x07' + struct.pack('!H', 4 + len(long_opts)) + long_opts)))
    s.append(('bug-ccp-reject-overflow', mschap_require + authed +
              raw(b'\x80\xfd\x01\x07' + struct.pack('!H', 4 + len(long_opts)) + long_opts)))
    # ... and an IPCP Configure-Request without IP-Address opened IPCP with no address
    # (pptp routed 0.0.0.0/32 into the session): now the link is closed (ppp_ipcp.c).
    s.append(('bug-ipcp-no-address', bytes([0x02 | 1 << 2, 0x10]) + neg(LCP, 1, b'\x05\x06\x0a\x0b\x0c\x0d') +
              ack(LCP) + chap(2) + neg(IPCP, 1, b'') + ack(IPCP) + later(70)))
    s.append(('bug-lcp-renegotiation-phase', mschap_require + to_open + neg(LCP, 1, lcp_req) +
              neg(IPCP, 1, b'\x03\x06\x0a\x00\x00\x64') + ack(LCP) + later(70)))
    s.append(('rejects', mschap_require + neg(LCP, 1, b'\x03\x04\xc0\x23\x0d\x03\x06\x11\x05\x06\x00\x00\x00\x00') +
              neg(LCP, 4, b'\x05\x06\x00\x00\x00\x01') + ack(LCP) + raw(b'\xc0\x21\x07\x05\x00\x06\x01\x00')))
    return s


# ---- PPTP control (fuzz_pptp_ctrl.c) ----

def ctrl_msg(type_, body, arg_bits=0):
    """Op 1: type in arg & 15; the body fills the message after the 12-byte header."""
    lens = {1: 156, 3: 16, 5: 16, 7: 168, 12: 16, 13: 148, 15: 24}
    n = lens[type_] - 12
    return bytes([1, type_ | arg_bits]) + body.ljust(n, b'\x00')[:n]


def ppp_raw(frame):
    return bytes([2 | ((len(frame) >> 8) & 7) << 4, len(frame) & 0xff]) + frame


def ppp_ack(k):
    return bytes([2 | 2 << 2, k])


def ppp_chap(user=0):
    return bytes([2 | 3 << 2, user])


def raw_bytes(b):
    return bytes([0 | ((len(b) >> 8) & 7) << 2, len(b) & 0xff]) + b


def polls(n):
    return bytes([3, n])


def pptp_ctrl_seeds():
    sccrq = b'\x01\x00\x00\x00' + struct.pack('!IIHH', 1, 1, 0, 1) + b'client'.ljust(64, b'\x00')
    ocrq = struct.pack('!HHIIIIHH', 0x1111, 7, 300, 100000000, 3, 3, 32, 0)
    up = (ppp_raw(b'\xc0\x21\x01\x01\x00\x0a\x05\x06\x11\x22\x33\x44') + ppp_ack(0) + ppp_chap(0) +
          ppp_raw(b'\x80\x21\x01\x01\x00\x0a\x03\x06\x00\x00\x00\x00') +
          ppp_raw(b'\x80\x21\x01\x02\x00\x0a\x03\x06\x0a\x09\x00\x02') + ppp_ack(1) +
          ppp_raw(b'\x80\xfd\x01\x01\x00\x0a\x12\x06\x01\x00\x00\x40') + ppp_ack(2))
    s = []
    # Config byte: auth (0-1), MPPE policy (2-3), stateful (4-5), 2 sessions (6), route fails (7).
    s.append(('call-up-clear', bytes([0x11]) + ctrl_msg(1, sccrq) + ctrl_msg(7, ocrq) + up +
              ctrl_msg(5, b'\x00\x00\x00\x2a') + ctrl_msg(12, b'', 0x20) + polls(3) + ctrl_msg(3, b'\x01')))
    s.append(('call-up-route-fails', bytes([0x91]) + ctrl_msg(1, sccrq) + ctrl_msg(7, ocrq) + up + polls(2)))
    s.append(('two-calls-stop', bytes([0x51]) + ctrl_msg(1, sccrq) + ctrl_msg(7, ocrq) +
              ctrl_msg(7, struct.pack('!HH', 0x2222, 8)) + ctrl_msg(7, struct.pack('!HH', 0x3333, 9)) +
              ppp_chap(1) + ctrl_msg(3, b'\x01')))
    s.append(('ocrq-before-sccrq', bytes([0x01]) + ctrl_msg(7, ocrq) + ctrl_msg(12, b'\x11\x11') +
              ctrl_msg(1, sccrq) + ctrl_msg(1, sccrq)))
    s.append(('bad-version', bytes([0x01]) + ctrl_msg(1, b'\x02\x00', 0x10)))
    s.append(('split-bytes', bytes([0x01]) + b''.join(raw_bytes(bytes([b])) for b in
                                                    (struct.pack('!HHIHH', 156, 1, 0x1a2b3c4d, 1, 0) + sccrq)[:40])))
    s.append(('bad-magic', bytes([0x01]) + raw_bytes(struct.pack('!HHIHH', 16, 1, 0x1a2b3c4e, 5, 0) + b'\x00' * 4)))
    s.append(('echo-sli-cdn', bytes([0x01]) + ctrl_msg(5, b'\x00\x00\x00\x01') + ctrl_msg(1, sccrq) +
              ctrl_msg(15, b'') + ctrl_msg(13, b'\x00\x01')))
    return s


if __name__ == '__main__':
    write('fuzz-gre-v1', gre_v1_seeds())
    write('fuzz-ppp', ppp_seeds())
    write('fuzz-pptp-ctrl', pptp_ctrl_seeds())
