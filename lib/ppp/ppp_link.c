/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A PPP link's phases (RFC 1661 3.2): Establish (LCP) -> Authenticate
 * (CHAP) -> Network (IPCP, CCP) -> Terminate. Frames are demultiplexed by
 * protocol; unknown protocols get an LCP Protocol-Reject.
 */
#include <stdio.h>

#include <openssl/rand.h>

#include "ppp_impl.h"

void
ppp_random(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1)
		memset(p, 0x5a, n); /* never reached with OpenSSL's DRBG; keeps the value defined */
}

void
ppp_conf_defaults(struct ppp_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "dpvpn");
	c->mru = 1500;
	c->auth = PPP_AUTH_MSCHAPV2;
	c->mppe = PPP_MPPE_REQUIRE;
	c->mppe_stateful = PPP_STATEFUL_ALLOW;
	c->mppe_bits = PPP_MPPE_128;
	c->restart_ms = 3000;
	c->max_configure = 10;
	c->max_terminate = 2;
	c->echo_interval_ms = 10000;
	c->echo_failures = 3;
}

void
ppp_link_init(struct ppp_link *l, const struct ppp_conf *c, const struct ppp_link_cb *cb, uint64_t now_ms)
{
	memset(l, 0, sizeof(*l));
	l->conf = c;
	l->cb = *cb;
	l->now_ms = now_ms;
	l->peer_mru = 1500;
	l->our_mru = c->mru;
	l->auth = (c->auth & PPP_AUTH_MSCHAPV2) ? PPP_AUTH_MSCHAPV2 : PPP_AUTH_MD5;
	ppp_random(&l->our_magic, sizeof(l->our_magic));
	l->our_magic |= 1;
	ppp_fsm_init(&l->lcp, &ppp_lcp_ops);
	ppp_fsm_init(&l->ipcp, &ppp_ipcp_ops);
	ppp_fsm_init(&l->ccp, &ppp_ccp_ops);
}

void
ppp_link_start(struct ppp_link *l, uint64_t now_ms)
{
	l->now_ms = now_ms;
	l->phase = PPP_PHASE_ESTABLISH;
	ppp_fsm_open(l, &l->lcp);
}

void
ppp_link_auth_start(struct ppp_link *l)
{
	l->phase = PPP_PHASE_AUTH;
	ppp_chap_start(l);
}

/* MPPE is negotiated only after MS-CHAPv2 (its keys come from it). */
static bool
wants_mppe(const struct ppp_link *l)
{
	return l->conf->mppe != PPP_MPPE_OFF && l->auth == PPP_AUTH_MSCHAPV2;
}

void
ppp_link_auth_done(struct ppp_link *l)
{
	if (l->conf->mppe == PPP_MPPE_REQUIRE && l->auth != PPP_AUTH_MSCHAPV2) {
		ppp_link_close(l, "MPPE required but the peer did not use MS-CHAPv2", l->now_ms);
		return;
	}
	l->phase = PPP_PHASE_NETWORK;
	if (wants_mppe(l)) {
		/*
		 * Every key length we allow: the peer Naks to the one it takes
		 * (RFC 3078 2.1). pppd rejects (and hangs up on) a single length
		 * it does not allow rather than Nak it.
		 */
		l->mppe_opts = ((l->conf->mppe_bits & PPP_MPPE_128) ? MPPE_OPT_S : 0) |
			       ((l->conf->mppe_bits & PPP_MPPE_40) ? MPPE_OPT_L : 0);
		if (l->conf->mppe_stateful != PPP_STATEFUL_PREFER)
			l->mppe_opts |= MPPE_OPT_H;
		ppp_fsm_open(l, &l->ccp);
	}
	ppp_fsm_open(l, &l->ipcp);
}

void
ppp_link_network_check(struct ppp_link *l)
{
	if (l->up || l->phase != PPP_PHASE_NETWORK || l->ipcp.state != FSM_OPENED)
		return;
	/* With MPPE required nothing flows in the clear: wait for CCP. */
	if (l->conf->mppe == PPP_MPPE_REQUIRE && !l->mppe_on)
		return;
	l->up = true;
	l->cb.up(l->cb.ctx, l);
}

void
ppp_link_finish(struct ppp_link *l, const char *why)
{
	if (l->phase == PPP_PHASE_DEAD)
		return;
	if (l->why[0] == '\0')
		snprintf(l->why, sizeof(l->why), "%s", why);
	l->phase = PPP_PHASE_DEAD;
	ppp_fsm_down(l, &l->ipcp);
	ppp_fsm_down(l, &l->ccp);
	l->lcp.state = FSM_CLOSED;
	l->lcp.deadline_ms = 0;
	l->chap_deadline_ms = 0;
	l->next_echo_ms = 0;
	l->cb.down(l->cb.ctx, l, l->why);
}

void
ppp_link_close(struct ppp_link *l, const char *why, uint64_t now_ms)
{
	l->now_ms = now_ms;
	if (l->phase == PPP_PHASE_DEAD || l->phase == PPP_PHASE_TERMINATE)
		return;
	if (l->why[0] == '\0')
		snprintf(l->why, sizeof(l->why), "%s", why);
	if (l->lcp.state == FSM_CLOSED) {
		ppp_link_finish(l, why);
		return;
	}
	l->phase = PPP_PHASE_TERMINATE;
	ppp_fsm_down(l, &l->ipcp);
	ppp_fsm_down(l, &l->ccp);
	ppp_fsm_close(l, &l->lcp, why);
}

static void
protocol_reject(struct ppp_link *l, const uint8_t *frame, uint16_t len)
{
	uint8_t buf[PPP_MAX_FRAME];
	uint16_t n = len;
	uint16_t room = (uint16_t)(l->peer_mru - PPP_HDR);

	/* RFC 1661 5.7: the rejected protocol (2 bytes) and as much of the packet as fits. */
	if (n > room)
		n = room;
	if (n > sizeof(buf))
		n = sizeof(buf);
	memcpy(buf, frame, n);
	l->proto_rejects_sent++;
	ppp_send_packet(l, PPP_LCP, PPP_PROTO_REJ, l->lcp.next_id++, buf, n);
}

void
ppp_link_input(struct ppp_link *l, const uint8_t *frame, uint16_t len, uint64_t now_ms)
{
	uint16_t proto, hl;
	uint8_t full[2];

	l->now_ms = now_ms;
	if (len < 1) {
		l->rx_bad++;
		return;
	}
	/* Protocol-Field-Compression: an odd first byte is a one-byte protocol. */
	if (frame[0] & 1) {
		proto = frame[0];
		hl = 1;
	} else {
		if (len < 2) {
			l->rx_bad++;
			return;
		}
		proto = ppp_get16(frame);
		hl = 2;
	}
	l->rx_frames++;
	const uint8_t *p = frame + hl;
	uint16_t n = (uint16_t)(len - hl);

	if (l->phase == PPP_PHASE_DEAD)
		return;
	switch (proto) {
	case PPP_LCP:
		ppp_fsm_input(l, &l->lcp, p, n);
		return;
	case PPP_CHAP:
		if (l->phase == PPP_PHASE_AUTH || l->authenticated)
			ppp_chap_input(l, p, n);
		return;
	case PPP_IPCP:
		if (l->phase == PPP_PHASE_NETWORK)
			ppp_fsm_input(l, &l->ipcp, p, n);
		return;
	case PPP_CCP:
		if (l->phase == PPP_PHASE_NETWORK && wants_mppe(l)) {
			ppp_fsm_input(l, &l->ccp, p, n);
			return;
		}
		break;
	default:
		break;
	}
	/*
	 * RFC 1661: only an opened LCP rejects protocols, and only in the Network phase;
	 * during authentication other packets are silently discarded (3.5).
	 */
	if (l->lcp.state != FSM_OPENED || l->phase != PPP_PHASE_NETWORK)
		return;
	if (hl == 1) {
		ppp_put16(full, proto);
		uint8_t buf[PPP_MAX_FRAME];
		uint16_t m = n > sizeof(buf) - 2 ? (uint16_t)(sizeof(buf) - 2) : n;

		memcpy(buf, full, 2);
		memcpy(buf + 2, p, m);
		protocol_reject(l, buf, (uint16_t)(m + 2));
	} else {
		protocol_reject(l, frame, len);
	}
}

void
ppp_link_timer(struct ppp_link *l, uint64_t now_ms)
{
	l->now_ms = now_ms;
	if (l->phase == PPP_PHASE_DEAD)
		return;
	ppp_fsm_timer(l, &l->lcp);
	if (l->phase == PPP_PHASE_DEAD)
		return;
	ppp_chap_timer(l);
	ppp_fsm_timer(l, &l->ipcp);
	ppp_fsm_timer(l, &l->ccp);
	if (l->lcp.state == FSM_OPENED && l->next_echo_ms != 0 && now_ms >= l->next_echo_ms) {
		uint8_t m[4];

		if (l->echo_missed >= l->conf->echo_failures) {
			l->next_echo_ms = 0;
			snprintf(l->why, sizeof(l->why), "no LCP echo reply");
			/* The peer is gone: no Terminate exchange to wait for. */
			ppp_link_finish(l, l->why);
			return;
		}
		ppp_put32(m, l->our_magic);
		ppp_send_packet(l, PPP_LCP, PPP_ECHO_REQ, l->lcp.next_id++, m, 4);
		l->echo_sent++;
		l->echo_missed++;
		l->next_echo_ms = now_ms + l->conf->echo_interval_ms;
	}
}

uint64_t
ppp_link_next_deadline(const struct ppp_link *l)
{
	uint64_t d = UINT64_MAX;
	const uint64_t v[] = { l->lcp.deadline_ms, l->ipcp.deadline_ms, l->ccp.deadline_ms,
			       l->chap_deadline_ms, l->next_echo_ms };

	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] != 0 && v[i] < d)
			d = v[i];
	return d;
}

const char *
ppp_link_state(const struct ppp_link *l)
{
	switch (l->phase) {
	case PPP_PHASE_ESTABLISH:
		return "establish";
	case PPP_PHASE_AUTH:
		return "auth";
	case PPP_PHASE_NETWORK:
		return l->up ? "open" : "network";
	case PPP_PHASE_TERMINATE:
		return "terminate";
	default:
		return "dead";
	}
}
