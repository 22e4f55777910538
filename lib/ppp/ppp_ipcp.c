/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPCP (RFC 1332) with DNS addresses (RFC 1877): we tell the client our
 * address and give it one from the pool (or its fixed chap-secrets address)
 * by Nak-ing whatever it asks for; VJ compression is rejected.
 */
#include "ppp_impl.h"

enum { IPCP_ADDRS = 1, IPCP_COMP = 2, IPCP_ADDR = 3, IPCP_DNS1 = 129, IPCP_NBNS1 = 130, IPCP_DNS2 = 131,
       IPCP_NBNS2 = 132 };

static struct ppp_fsm *
ipcp_fsm(struct ppp_link *l)
{
	return &l->ipcp;
}

static uint16_t
ipcp_build_req(struct ppp_link *l, uint8_t *p, uint16_t room)
{
	(void)room;
	if (l->ipcp.rejected & 1u << IPCP_ADDR)
		return 0;
	p[0] = IPCP_ADDR;
	p[1] = 6;
	memcpy(p + 2, &l->conf->local_addr, 4);
	return 6;
}

/* Ack the value when it is want, else Nak with want. */
static void
ack_or_nak(struct ppp_reply *r, uint8_t type, const uint8_t *v, uint32_t want)
{
	if (memcmp(v, &want, 4) == 0)
		ppp_reply_add(r, PPP_CONF_ACK, type, v, 4);
	else
		ppp_reply_add(r, PPP_CONF_NAK, type, (const uint8_t *)&want, 4);
}

static int
ipcp_req_opt(struct ppp_link *l, uint8_t type, const uint8_t *v, uint8_t vlen, void *arg)
{
	struct ppp_reply *r = arg;

	switch (type) {
	case IPCP_ADDR:
		if (vlen != 4)
			return -1;
		if (l->peer_addr == 0) {
			const struct chap_secret *s = l->conf->secrets
				? chap_secrets_find(l->conf->secrets, l->user, l->conf->name) : NULL;

			l->peer_addr = l->cb.addr_alloc(l->cb.ctx, l->user, s ? s->address : 0);
			if (l->peer_addr == 0) {
				ppp_link_close(l, "no address left in the pool", l->now_ms);
				return -1;
			}
		}
		ack_or_nak(r, type, v, l->peer_addr);
		return 0;
	case IPCP_DNS1:
	case IPCP_DNS2: {
		uint32_t dns = l->conf->dns[type == IPCP_DNS1 ? 0 : 1];

		if (vlen != 4)
			return -1;
		if (dns != 0) {
			ack_or_nak(r, type, v, dns);
			return 0;
		}
		break;
	}
	default:
		break;
	}
	ppp_reply_add(r, PPP_CONF_REJ, type, v, vlen);
	return 0;
}

static uint8_t
ipcp_recv_req(struct ppp_link *l, const uint8_t *opts, uint16_t len, struct ppp_reply *r)
{
	if (ppp_options_walk(opts, len, ipcp_req_opt, l, r) < 0) {
		l->rx_bad++;
		ppp_reply_init(r);
		r->code = PPP_CONF_REJ;
		/* The reply holds PPP_MAX_FRAME bytes; a longer request is rejected with no options. */
		if (len <= PPP_MAX_FRAME) {
			memcpy(r->buf[2], opts, len);
			r->len[2] = len;
		}
	}
	return r->code;
}

static int
ipcp_recv_nak(struct ppp_link *l, const uint8_t *opts, uint16_t len)
{
	(void)opts;
	(void)len;
	/* Our address is ours: ask again; the restart counter ends a disagreement. */
	return l->ipcp.retries-- > 0 ? 0 : -1;
}

static int
ipcp_rej_opt(struct ppp_link *l, uint8_t type, const uint8_t *v, uint8_t vlen, void *arg)
{
	(void)v;
	(void)vlen;
	(void)arg;
	if (type < 32)
		l->ipcp.rejected |= 1u << type;
	return 0;
}

static int
ipcp_recv_rej(struct ppp_link *l, const uint8_t *opts, uint16_t len)
{
	return ppp_options_walk(opts, len, ipcp_rej_opt, l, NULL);
}

static void
ipcp_up(struct ppp_link *l)
{
	/* A client that asked for no IP-Address has none to route: nothing could flow. */
	if (l->peer_addr == 0) {
		ppp_link_close(l, "client negotiated no IP address", l->now_ms);
		return;
	}
	ppp_link_network_check(l);
}

static void
ipcp_down(struct ppp_link *l)
{
	(void)l;
}

static void
ipcp_finished(struct ppp_link *l, const char *why)
{
	/* Without IP there is nothing to carry. */
	ppp_link_close(l, why, l->now_ms);
}

const struct ppp_fsm_ops ppp_ipcp_ops = {
	.name = "IPCP",
	.proto = PPP_IPCP,
	.fsm = ipcp_fsm,
	.build_req = ipcp_build_req,
	.recv_req = ipcp_recv_req,
	.recv_nak = ipcp_recv_nak,
	.recv_rej = ipcp_recv_rej,
	.up = ipcp_up,
	.down = ipcp_down,
	.finished = ipcp_finished,
};
