/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CCP (RFC 1962) negotiating MPPE (RFC 3078, option 18) and nothing else.
 * Both directions must use the same MPPE mode: the client's request decides
 * within what the configuration allows (we Nak it to one key length and one
 * of stateless / stateful), and our own request follows the same choice.
 * Keys come from MS-CHAPv2 (RFC 3079), so MPPE needs MS-CHAPv2.
 */
#include <openssl/crypto.h>

#include "mppe.h"
#include "ppp_impl.h"

enum { CCP_MPPE = 18 };

static struct ppp_fsm *
ccp_fsm(struct ppp_link *l)
{
	return &l->ccp;
}

static uint16_t
ccp_build_req(struct ppp_link *l, uint8_t *p, uint16_t room)
{
	(void)room;
	p[0] = CCP_MPPE;
	p[1] = 6;
	ppp_put32(p + 2, l->mppe_opts);
	return 6;
}

/*
 * The mode we agree to for a peer offering bits: one key length (128 before
 * 40) and stateless or stateful per configuration. 0 when none is acceptable.
 */
static uint32_t
mppe_choose(const struct ppp_conf *c, uint32_t bits)
{
	uint32_t out;

	if ((bits & MPPE_OPT_S) && (c->mppe_bits & PPP_MPPE_128))
		out = MPPE_OPT_S;
	else if ((bits & MPPE_OPT_L) && (c->mppe_bits & PPP_MPPE_40))
		out = MPPE_OPT_L;
	else
		return 0;
	switch (c->mppe_stateful) {
	case PPP_STATEFUL_NO:
		out |= MPPE_OPT_H;
		break;
	case PPP_STATEFUL_ALLOW:
		out |= bits & MPPE_OPT_H;
		break;
	default:                /* prefer stateful: clear H; a peer that insists Naks it back */
		break;
	}
	return out;
}

/* Whether bits (one key length, H or not) is a mode the configuration allows. */
static bool
mppe_allowed(const struct ppp_conf *c, uint32_t bits)
{
	uint32_t key = bits & (MPPE_OPT_S | MPPE_OPT_L);

	if (bits & ~(MPPE_OPT_S | MPPE_OPT_L | MPPE_OPT_H))
		return false;
	if (key != MPPE_OPT_S && key != MPPE_OPT_L)
		return false;
	if (key == MPPE_OPT_S ? !(c->mppe_bits & PPP_MPPE_128) : !(c->mppe_bits & PPP_MPPE_40))
		return false;
	return (bits & MPPE_OPT_H) || c->mppe_stateful != PPP_STATEFUL_NO;
}

static int
ccp_req_opt(struct ppp_link *l, uint8_t type, const uint8_t *v, uint8_t vlen, void *arg)
{
	struct ppp_reply *r = arg;
	uint32_t bits, want;
	uint8_t nak[4];

	if (type != CCP_MPPE || vlen != 4) {
		ppp_reply_add(r, PPP_CONF_REJ, type, v, vlen);
		return 0;
	}
	bits = ppp_get32(v);
	want = mppe_choose(l->conf, bits);
	/* Preferring stateful, we Nak H away once; a peer that asks for H again keeps it. */
	if (want != 0 && l->conf->mppe_stateful == PPP_STATEFUL_PREFER && (bits & MPPE_OPT_H)) {
		if (l->ccp_stateful_asked)
			want |= MPPE_OPT_H;
		else
			l->ccp_stateful_asked = true;
	}
	if (want == 0) {
		ppp_reply_add(r, PPP_CONF_REJ, type, v, vlen);
		return 0;
	}
	if (bits == want) {
		l->mppe_opts = want;
		ppp_reply_add(r, PPP_CONF_ACK, type, v, vlen);
	} else {
		ppp_put32(nak, want);
		ppp_reply_add(r, PPP_CONF_NAK, type, nak, 4);
	}
	return 0;
}

static uint8_t
ccp_recv_req(struct ppp_link *l, const uint8_t *opts, uint16_t len, struct ppp_reply *r)
{
	if (ppp_options_walk(opts, len, ccp_req_opt, l, r) < 0) {
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
ccp_nak_opt(struct ppp_link *l, uint8_t type, const uint8_t *v, uint8_t vlen, void *arg)
{
	(void)arg;
	if (type != CCP_MPPE || vlen != 4)
		return 0;
	/* The peer names the mode it wants us to use: take it if the configuration allows. */
	if (!mppe_allowed(l->conf, ppp_get32(v)))
		return -1;
	l->mppe_opts = ppp_get32(v);
	return 0;
}

static int
ccp_recv_nak(struct ppp_link *l, const uint8_t *opts, uint16_t len)
{
	return ppp_options_walk(opts, len, ccp_nak_opt, l, NULL);
}

static int
ccp_recv_rej(struct ppp_link *l, const uint8_t *opts, uint16_t len)
{
	(void)opts;
	(void)len;
	(void)l;
	return -1;              /* MPPE is all we offer: a reject ends CCP */
}

static void
ccp_up(struct ppp_link *l)
{
	const unsigned bits = (l->mppe_opts & MPPE_OPT_S) ? 128 : 40;
	const unsigned klen = mppe_key_len(bits);
	uint8_t master[16];

	mppe_master_key(l->mschap.pw_hash_hash, l->mschap.nt_response, master);
	/* RFC 3079 3.3: the server's send key is the client's receive key. */
	mppe_start_key(master, klen, true, true, l->mppe_send_key);
	mppe_start_key(master, klen, false, true, l->mppe_recv_key);
	OPENSSL_cleanse(master, sizeof(master));
	l->mppe_key_bits = bits;
	l->mppe_stateless = (l->mppe_opts & MPPE_OPT_H) != 0;
	l->mppe_on = true;
	if (l->up)
		l->cb.mppe(l->cb.ctx, l);
	ppp_link_network_check(l);
}

static void
ccp_down(struct ppp_link *l)
{
	/* Keys stay: the data path keeps its states until the session ends. */
	(void)l;
}

static void
ccp_finished(struct ppp_link *l, const char *why)
{
	if (l->conf->mppe == PPP_MPPE_REQUIRE && !l->mppe_on) {
		char msg[64];

		snprintf(msg, sizeof(msg), "MPPE required: %s", why);
		ppp_link_close(l, msg, l->now_ms);
		return;
	}
	ppp_link_network_check(l);
}

static bool
ccp_extra(struct ppp_link *l, uint8_t code, uint8_t id, const uint8_t *d, uint16_t len)
{
	(void)l;
	(void)id;
	(void)d;
	(void)len;
	/* The data path answers Reset-Request itself; these are stragglers. */
	return code == PPP_RESET_REQ || code == PPP_RESET_ACK;
}

const struct ppp_fsm_ops ppp_ccp_ops = {
	.name = "CCP",
	.proto = PPP_CCP,
	.fsm = ccp_fsm,
	.build_req = ccp_build_req,
	.recv_req = ccp_recv_req,
	.recv_nak = ccp_recv_nak,
	.recv_rej = ccp_recv_rej,
	.up = ccp_up,
	.down = ccp_down,
	.finished = ccp_finished,
	.extra = ccp_extra,
};
