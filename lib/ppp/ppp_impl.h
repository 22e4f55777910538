/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to lib/ppp: the option automaton's protocol hooks and helpers. */
#ifndef DPVPN_PPP_IMPL_H
#define DPVPN_PPP_IMPL_H

#include <string.h>

#include "ppp.h"

#define PPP_MAX_FRAME 1500
#define PPP_HDR 4                       /* code, id, length */

struct ppp_reply;

/* One protocol on the automaton (LCP, IPCP, CCP). */
struct ppp_fsm_ops {
	const char *name;
	uint16_t proto;
	struct ppp_fsm *(*fsm)(struct ppp_link *l);
	/* Our Configure-Request options into p; returns their length. */
	uint16_t (*build_req)(struct ppp_link *l, uint8_t *p, uint16_t room);
	/* The peer's request: answer per option into r; returns the code to send. */
	uint8_t (*recv_req)(struct ppp_link *l, const uint8_t *opts, uint16_t len, struct ppp_reply *r);
	/* The peer's Nak / Reject of our request: 0 to send a new one, -1 to give up. */
	int (*recv_nak)(struct ppp_link *l, const uint8_t *opts, uint16_t len);
	int (*recv_rej)(struct ppp_link *l, const uint8_t *opts, uint16_t len);
	void (*up)(struct ppp_link *l);
	void (*down)(struct ppp_link *l);
	/* Negotiation ended without success, or the layer closed. */
	void (*finished)(struct ppp_link *l, const char *why);
	/* Codes past Discard-Request (LCP: echo, protocol reject; CCP: reset). false: unknown. */
	bool (*extra)(struct ppp_link *l, uint8_t code, uint8_t id, const uint8_t *data, uint16_t len);
};

/* Building a reply to a Configure-Request: the strongest code wins (RFC 1661 5.2-5.4). */
struct ppp_reply {
	uint8_t code;
	uint16_t len[3];                /* ACK, NAK, REJ bytes */
	uint8_t buf[3][PPP_MAX_FRAME];
};

static inline void
ppp_reply_init(struct ppp_reply *r)
{
	r->code = PPP_CONF_ACK;
	r->len[0] = r->len[1] = r->len[2] = 0;
}

/* Adds one option (type, len, value) under code ACK / NAK / REJ. */
void ppp_reply_add(struct ppp_reply *r, uint8_t code, uint8_t type, const uint8_t *val, uint8_t vlen);

/* Walks options: calls fn for each well-formed one; -1 when the list is malformed. */
int ppp_options_walk(const uint8_t *p, uint16_t len,
		     int (*fn)(struct ppp_link *l, uint8_t type, const uint8_t *val, uint8_t vlen, void *arg),
		     struct ppp_link *l, void *arg);

static inline uint16_t
ppp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
ppp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
ppp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
ppp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sends proto / code / id / data through the link's callback. */
void ppp_send_packet(struct ppp_link *l, uint16_t proto, uint8_t code, uint8_t id, const uint8_t *data,
		     uint16_t len);

/* The automaton (ppp_fsm.c). */
void ppp_fsm_init(struct ppp_fsm *f, const struct ppp_fsm_ops *ops);
void ppp_fsm_open(struct ppp_link *l, struct ppp_fsm *f);
void ppp_fsm_close(struct ppp_link *l, struct ppp_fsm *f, const char *why);
/* Stops without a Terminate exchange (the lower layer went down). */
void ppp_fsm_down(struct ppp_link *l, struct ppp_fsm *f);
void ppp_fsm_input(struct ppp_link *l, struct ppp_fsm *f, const uint8_t *pkt, uint16_t len);
void ppp_fsm_timer(struct ppp_link *l, struct ppp_fsm *f);

extern const struct ppp_fsm_ops ppp_lcp_ops, ppp_ipcp_ops, ppp_ccp_ops;

/* Link events between the layers (ppp_link.c). */
void ppp_link_auth_start(struct ppp_link *l);
void ppp_link_auth_done(struct ppp_link *l);
void ppp_link_network_check(struct ppp_link *l);
void ppp_link_finish(struct ppp_link *l, const char *why);
void ppp_chap_input(struct ppp_link *l, const uint8_t *pkt, uint16_t len);
void ppp_chap_timer(struct ppp_link *l);
void ppp_chap_start(struct ppp_link *l);
void ppp_random(void *p, size_t n);

#endif
