/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LCP (RFC 1661 6): MRU, authentication protocol, magic number; echo
 * keepalives and Protocol-Reject. The server asks the peer to authenticate
 * with CHAP (MS-CHAPv2 or MD5) and never authenticates itself.
 */
#include "ppp_impl.h"

enum { LCP_MRU = 1, LCP_ACCM = 2, LCP_AUTH = 3, LCP_QUALITY = 4, LCP_MAGIC = 5, LCP_PFC = 7, LCP_ACFC = 8 };
#define CHAP_ALG_MD5 0x05
#define CHAP_ALG_MSCHAPV2 0x81

static struct ppp_fsm *
lcp_fsm(struct ppp_link *l)
{
	return &l->lcp;
}

static uint16_t
lcp_build_req(struct ppp_link *l, uint8_t *p, uint16_t room)
{
	uint16_t n = 0;

	(void)room;
	if (l->our_mru != 1500 && !(l->lcp.rejected & 1u << LCP_MRU)) {
		p[n++] = LCP_MRU;
		p[n++] = 4;
		ppp_put16(p + n, l->our_mru);
		n += 2;
	}
	p[n++] = LCP_AUTH;
	p[n++] = 5;
	ppp_put16(p + n, PPP_CHAP);
	n += 2;
	p[n++] = l->auth == PPP_AUTH_MSCHAPV2 ? CHAP_ALG_MSCHAPV2 : CHAP_ALG_MD5;
	if (!(l->lcp.rejected & 1u << LCP_MAGIC)) {
		p[n++] = LCP_MAGIC;
		p[n++] = 6;
		ppp_put32(p + n, l->our_magic);
		n += 4;
	}
	return n;
}

static int
lcp_req_opt(struct ppp_link *l, uint8_t type, const uint8_t *v, uint8_t vlen, void *arg)
{
	struct ppp_reply *r = arg;

	switch (type) {
	case LCP_MRU:
		if (vlen != 2)
			return -1;
		if (ppp_get16(v) < 128) {
			uint8_t mru[2];

			ppp_put16(mru, 576);
			ppp_reply_add(r, PPP_CONF_NAK, type, mru, 2);
			return 0;
		}
		l->peer_mru = ppp_get16(v);
		break;
	case LCP_ACCM:          /* meaningless over PPTP's GRE, harmless to agree */
		if (vlen != 4)
			return -1;
		break;
	case LCP_MAGIC:
		if (vlen != 4)
			return -1;
		if (ppp_get32(v) == l->our_magic || ppp_get32(v) == 0) {
			/* A looped-back link or a zero magic (RFC 1661 6.4): suggest another. */
			uint8_t m[4];
			uint32_t x;

			ppp_random(&x, sizeof(x));
			ppp_put32(m, x | 1);
			ppp_reply_add(r, PPP_CONF_NAK, type, m, 4);
			return 0;
		}
		l->peer_magic = ppp_get32(v);
		break;
	case LCP_PFC:
	case LCP_ACFC:
		/* We accept compressed frames and keep sending full ones (allowed). */
		if (vlen != 0)
			return -1;
		break;
	default:                /* asking us to authenticate, quality, callback, multilink ... */
		ppp_reply_add(r, PPP_CONF_REJ, type, v, vlen);
		return 0;
	}
	ppp_reply_add(r, PPP_CONF_ACK, type, v, vlen);
	return 0;
}

static uint8_t
lcp_recv_req(struct ppp_link *l, const uint8_t *opts, uint16_t len, struct ppp_reply *r)
{
	if (ppp_options_walk(opts, len, lcp_req_opt, l, r) < 0) {
		/* Malformed option list: reject it whole. */
		l->rx_bad++;
		ppp_reply_init(r);
		r->code = PPP_CONF_REJ;
		if (len <= PPP_MAX_FRAME) {
			memcpy(r->buf[2], opts, len);
			r->len[2] = len;
		}
	}
	return r->code;
}

static int
lcp_nak_opt(struct ppp_link *l, uint8_t type, const uint8_t *v, uint8_t vlen, void *arg)
{
	(void)arg;
	if (type == LCP_AUTH) {
		/* The peer prefers another method: take it if allowed, else give up. */
		uint8_t alg = vlen >= 3 ? v[2] : 0;

		if (vlen >= 3 && ppp_get16(v) == PPP_CHAP && alg == CHAP_ALG_MSCHAPV2 &&
		    (l->conf->auth & PPP_AUTH_MSCHAPV2))
			l->auth = PPP_AUTH_MSCHAPV2;
		else if (vlen >= 3 && ppp_get16(v) == PPP_CHAP && alg == CHAP_ALG_MD5 &&
			 (l->conf->auth & PPP_AUTH_MD5))
			l->auth = PPP_AUTH_MD5;
		else if (l->auth == PPP_AUTH_MSCHAPV2 && (l->conf->auth & PPP_AUTH_MD5))
			l->auth = PPP_AUTH_MD5;
		else
			return -1;
	} else if (type == LCP_MRU && vlen == 2) {
		uint16_t m = ppp_get16(v);

		l->our_mru = m < 576 ? 576 : m > l->conf->mru ? l->conf->mru : m;
	} else if (type == LCP_MAGIC) {
		ppp_random(&l->our_magic, sizeof(l->our_magic));
		l->our_magic |= 1;
	}
	return 0;
}

static int
lcp_recv_nak(struct ppp_link *l, const uint8_t *opts, uint16_t len)
{
	return ppp_options_walk(opts, len, lcp_nak_opt, l, NULL);
}

static int
lcp_rej_opt(struct ppp_link *l, uint8_t type, const uint8_t *v, uint8_t vlen, void *arg)
{
	(void)v;
	(void)vlen;
	(void)arg;
	if (type == LCP_AUTH)
		return -1;      /* a client that will not authenticate is not served */
	if (type < 32)
		l->lcp.rejected |= 1u << type;
	return 0;
}

static int
lcp_recv_rej(struct ppp_link *l, const uint8_t *opts, uint16_t len)
{
	return ppp_options_walk(opts, len, lcp_rej_opt, l, NULL);
}

static void
lcp_up(struct ppp_link *l)
{
	l->echo_missed = 0;
	l->next_echo_ms = l->conf->echo_interval_ms ? l->now_ms + l->conf->echo_interval_ms : 0;
	ppp_link_auth_start(l);
}

static void
lcp_down(struct ppp_link *l)
{
	ppp_fsm_down(l, &l->ipcp);
	ppp_fsm_down(l, &l->ccp);
	/*
	 * LCP left Opened (the peer renegotiates): the link is back in the
	 * Establish phase (RFC 1661 3.2), where IPCP and CCP packets are
	 * discarded, until LCP opens again and authentication runs again.
	 */
	if (l->phase == PPP_PHASE_AUTH || l->phase == PPP_PHASE_NETWORK)
		l->phase = PPP_PHASE_ESTABLISH;
}

static void
lcp_finished(struct ppp_link *l, const char *why)
{
	ppp_link_finish(l, why);
}

static bool
lcp_extra(struct ppp_link *l, uint8_t code, uint8_t id, const uint8_t *d, uint16_t len)
{
	uint8_t m[4];

	switch (code) {
	case PPP_ECHO_REQ:
		if (l->lcp.state == FSM_OPENED) {
			ppp_put32(m, l->our_magic);
			/* RFC 1661 5.8: the reply carries our magic and the request's data. */
			uint8_t buf[PPP_MAX_FRAME];
			uint16_t n = len > 4 ? (uint16_t)(len - 4) : 0;

			if (n > sizeof(buf) - 4)
				n = sizeof(buf) - 4;
			memcpy(buf, m, 4);
			if (n)
				memcpy(buf + 4, d + 4, n);
			ppp_send_packet(l, PPP_LCP, PPP_ECHO_REPLY, id, buf, (uint16_t)(4 + n));
		}
		return true;
	case PPP_ECHO_REPLY:
		l->echo_missed = 0;
		l->echo_replies++;
		return true;
	case PPP_DISCARD_REQ:
		return true;
	case PPP_PROTO_REJ:
		if (len >= 2) {
			uint16_t proto = ppp_get16(d);

			if (proto == PPP_CCP)
				ppp_fsm_down(l, &l->ccp), l->ccp.ops->finished(l, "peer rejected CCP");
			else if (proto == PPP_IPCP)
				ppp_link_close(l, "peer rejected IPCP", l->now_ms);
		}
		return true;
	default:
		return false;
	}
}

const struct ppp_fsm_ops ppp_lcp_ops = {
	.name = "LCP",
	.proto = PPP_LCP,
	.fsm = lcp_fsm,
	.build_req = lcp_build_req,
	.recv_req = lcp_recv_req,
	.recv_nak = lcp_recv_nak,
	.recv_rej = lcp_recv_rej,
	.up = lcp_up,
	.down = lcp_down,
	.finished = lcp_finished,
	.extra = lcp_extra,
};
