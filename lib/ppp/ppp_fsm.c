/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The option negotiation automaton of RFC 1661 section 4, shared by LCP,
 * IPCP and CCP. A server never waits for an administrative Open, so the
 * Initial/Starting/Closed/Stopped states collapse into FSM_CLOSED.
 */
#include "ppp_impl.h"

void
ppp_reply_add(struct ppp_reply *r, uint8_t code, uint8_t type, const uint8_t *val, uint8_t vlen)
{
	unsigned k = (unsigned)(code - PPP_CONF_ACK);
	uint8_t *p;

	if (k > 2 || r->len[k] + 2u + vlen > PPP_MAX_FRAME)
		return;
	p = r->buf[k] + r->len[k];
	p[0] = type;
	p[1] = (uint8_t)(vlen + 2);
	if (vlen)
		memcpy(p + 2, val, vlen);
	r->len[k] = (uint16_t)(r->len[k] + 2 + vlen);
	if (code > r->code)
		r->code = code;
}

int
ppp_options_walk(const uint8_t *p, uint16_t len,
		 int (*fn)(struct ppp_link *l, uint8_t type, const uint8_t *val, uint8_t vlen, void *arg),
		 struct ppp_link *l, void *arg)
{
	while (len > 0) {
		if (len < 2 || p[1] < 2 || p[1] > len)
			return -1;
		if (fn(l, p[0], p + 2, (uint8_t)(p[1] - 2), arg) < 0)
			return -1;
		len = (uint16_t)(len - p[1]);
		p += p[1];
	}
	return 0;
}

void
ppp_send_packet(struct ppp_link *l, uint16_t proto, uint8_t code, uint8_t id, const uint8_t *data, uint16_t len)
{
	uint8_t f[2 + PPP_HDR + PPP_MAX_FRAME];

	if (len > PPP_MAX_FRAME)
		len = PPP_MAX_FRAME;
	ppp_put16(f, proto);
	f[2] = code;
	f[3] = id;
	ppp_put16(f + 4, (uint16_t)(PPP_HDR + len));
	if (len)
		memcpy(f + 6, data, len);
	l->tx_frames++;
	l->cb.send(l->cb.ctx, f, (uint16_t)(2 + PPP_HDR + len));
}

void
ppp_fsm_init(struct ppp_fsm *f, const struct ppp_fsm_ops *ops)
{
	memset(f, 0, sizeof(*f));
	f->ops = ops;
	f->state = FSM_CLOSED;
}

static void
send_conf_req(struct ppp_link *l, struct ppp_fsm *f)
{
	uint8_t opts[PPP_MAX_FRAME];
	uint16_t n = f->ops->build_req(l, opts, sizeof(opts));

	f->req_id = f->next_id++;
	ppp_send_packet(l, f->ops->proto, PPP_CONF_REQ, f->req_id, opts, n);
	f->deadline_ms = l->now_ms + l->conf->restart_ms;
}

void
ppp_fsm_open(struct ppp_link *l, struct ppp_fsm *f)
{
	if (f->state != FSM_CLOSED)
		return;
	f->retries = (uint8_t)l->conf->max_configure;
	f->peer_acked = false;
	send_conf_req(l, f);
	f->state = FSM_REQSENT;
}

static void
leave_opened(struct ppp_link *l, struct ppp_fsm *f)
{
	if (f->state == FSM_OPENED && f->ops->down != NULL)
		f->ops->down(l);
}

void
ppp_fsm_close(struct ppp_link *l, struct ppp_fsm *f, const char *why)
{
	if (f->state == FSM_CLOSED || f->state == FSM_CLOSING)
		return;
	leave_opened(l, f);
	f->retries = (uint8_t)l->conf->max_terminate;
	f->state = FSM_CLOSING;
	ppp_send_packet(l, f->ops->proto, PPP_TERM_REQ, f->next_id++, (const uint8_t *)why,
			(uint16_t)strlen(why));
	f->deadline_ms = l->now_ms + l->conf->restart_ms;
}

void
ppp_fsm_down(struct ppp_link *l, struct ppp_fsm *f)
{
	leave_opened(l, f);
	f->state = FSM_CLOSED;
	f->deadline_ms = 0;
}

static void
finished(struct ppp_link *l, struct ppp_fsm *f, const char *why)
{
	f->state = FSM_CLOSED;
	f->deadline_ms = 0;
	if (f->ops->finished != NULL)
		f->ops->finished(l, why);
}

static void
to_opened(struct ppp_link *l, struct ppp_fsm *f)
{
	f->state = FSM_OPENED;
	f->deadline_ms = 0;
	f->retries = (uint8_t)l->conf->max_configure;
	if (f->ops->up != NULL)
		f->ops->up(l);
}

static void
recv_conf_req(struct ppp_link *l, struct ppp_fsm *f, uint8_t id, const uint8_t *opts, uint16_t len)
{
	static struct ppp_reply r; /* one thread drives all links: a large reply off the stack */
	uint8_t code;

	if (f->state == FSM_CLOSING)
		return;
	if (f->state == FSM_CLOSED) {
		/* The peer started (or restarted) this layer: we take part. */
		f->retries = (uint8_t)l->conf->max_configure;
		send_conf_req(l, f);
		f->state = FSM_REQSENT;
	} else if (f->state == FSM_OPENED) {
		/* Renegotiation (RFC 1661: This-Layer-Down, send our request again). */
		leave_opened(l, f);
		send_conf_req(l, f);
		f->state = FSM_REQSENT;
	}
	ppp_reply_init(&r);
	code = f->ops->recv_req(l, opts, len, &r);
	if (code == PPP_CONF_ACK)
		ppp_send_packet(l, f->ops->proto, PPP_CONF_ACK, id, opts, len);
	else
		ppp_send_packet(l, f->ops->proto, code, id, r.buf[code - PPP_CONF_ACK], r.len[code - PPP_CONF_ACK]);
	f->peer_acked = code == PPP_CONF_ACK;
	if (code == PPP_CONF_ACK) {
		if (f->state == FSM_ACKRCVD)
			to_opened(l, f);
		else
			f->state = FSM_ACKSENT;
	} else if (f->state == FSM_ACKSENT) {
		f->state = FSM_REQSENT;
	}
}

static void
recv_conf_ack(struct ppp_link *l, struct ppp_fsm *f, uint8_t id)
{
	if (id != f->req_id)
		return;         /* a stale answer (RFC 1661 5.2: silently discarded) */
	switch (f->state) {
	case FSM_REQSENT:
		f->state = FSM_ACKRCVD;
		f->retries = (uint8_t)l->conf->max_configure;
		f->deadline_ms = l->now_ms + l->conf->restart_ms;
		break;
	case FSM_ACKSENT:
		to_opened(l, f);
		break;
	case FSM_ACKRCVD:
	case FSM_OPENED:
		/* Crossed or renegotiated: start over (RFC 1661 state table). */
		leave_opened(l, f);
		send_conf_req(l, f);
		f->state = FSM_REQSENT;
		break;
	default:
		break;
	}
}

static int
opt_any(struct ppp_link *l, uint8_t type, const uint8_t *val, uint8_t vlen, void *arg)
{
	(void)l, (void)type, (void)val, (void)vlen, (void)arg;
	return 0;
}

static void
recv_conf_nak_rej(struct ppp_link *l, struct ppp_fsm *f, uint8_t code, uint8_t id, const uint8_t *opts,
		  uint16_t len)
{
	int rc;

	if (id != f->req_id || f->state == FSM_CLOSED || f->state == FSM_CLOSING)
		return;
	/* A malformed option list is a bad packet (counted, dropped), not a disagreement. */
	if (ppp_options_walk(opts, len, opt_any, l, NULL) < 0) {
		l->rx_bad++;
		return;
	}
	rc = code == PPP_CONF_NAK ? f->ops->recv_nak(l, opts, len) : f->ops->recv_rej(l, opts, len);
	if (rc < 0) {
		ppp_fsm_close(l, f, "options not agreed");
		return;
	}
	leave_opened(l, f);
	send_conf_req(l, f);
	if (f->state != FSM_ACKSENT)
		f->state = FSM_REQSENT;
}

void
ppp_fsm_input(struct ppp_link *l, struct ppp_fsm *f, const uint8_t *pkt, uint16_t len)
{
	uint8_t code, id;
	uint16_t plen;

	if (len < PPP_HDR || (plen = ppp_get16(pkt + 2)) < PPP_HDR || plen > len) {
		l->rx_bad++;
		return;
	}
	code = pkt[0];
	id = pkt[1];
	/* Bytes past the length field are padding (RFC 1661 5). */
	const uint8_t *data = pkt + PPP_HDR;
	uint16_t dlen = (uint16_t)(plen - PPP_HDR);

	switch (code) {
	case PPP_CONF_REQ:
		recv_conf_req(l, f, id, data, dlen);
		break;
	case PPP_CONF_ACK:
		recv_conf_ack(l, f, id);
		break;
	case PPP_CONF_NAK:
	case PPP_CONF_REJ:
		recv_conf_nak_rej(l, f, code, id, data, dlen);
		break;
	case PPP_TERM_REQ:
		ppp_send_packet(l, f->ops->proto, PPP_TERM_ACK, id, NULL, 0);
		if (f->state != FSM_CLOSED) {
			leave_opened(l, f);
			finished(l, f, "peer terminated");
		}
		break;
	case PPP_TERM_ACK:
		if (f->state == FSM_CLOSING)
			finished(l, f, l->why[0] ? l->why : "terminated");
		else if (f->state == FSM_OPENED) {
			leave_opened(l, f);
			send_conf_req(l, f);
			f->state = FSM_REQSENT;
		}
		break;
	case PPP_CODE_REJ:
		/* The peer does not know a code we sent: fatal only for the codes negotiation needs. */
		if (dlen >= 1 && data[0] >= PPP_CONF_REQ && data[0] <= PPP_TERM_ACK)
			finished(l, f, "peer rejected a negotiation code");
		break;
	default:
		if (f->ops->extra == NULL || !f->ops->extra(l, code, id, data, dlen)) {
			/* Unknown code: Code-Reject carrying the packet (RFC 1661 5.6). */
			uint16_t n = plen > l->peer_mru - PPP_HDR ? (uint16_t)(l->peer_mru - PPP_HDR) : plen;

			ppp_send_packet(l, f->ops->proto, PPP_CODE_REJ, f->next_id++, pkt, n);
		}
		break;
	}
}

void
ppp_fsm_timer(struct ppp_link *l, struct ppp_fsm *f)
{
	if (f->deadline_ms == 0 || l->now_ms < f->deadline_ms)
		return;
	f->deadline_ms = 0;
	switch (f->state) {
	case FSM_REQSENT:
	case FSM_ACKRCVD:
	case FSM_ACKSENT:
		/* RFC 1661 4.6: Max-Configure counts the requests sent, the first one included. */
		if (f->retries <= 1) {
			finished(l, f, "negotiation timed out");
			return;
		}
		f->retries--;
		send_conf_req(l, f);
		if (f->state == FSM_ACKRCVD)
			f->state = FSM_REQSENT;
		break;
	case FSM_CLOSING:
		if (f->retries <= 1) {  /* Max-Terminate, likewise */
			finished(l, f, l->why[0] ? l->why : "terminated");
			return;
		}
		f->retries--;
		ppp_send_packet(l, f->ops->proto, PPP_TERM_REQ, f->next_id++, NULL, 0);
		f->deadline_ms = l->now_ms + l->conf->restart_ms;
		break;
	default:
		break;
	}
}
