/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client's side of a PPP link, just enough for the fuzzers to get past
 * what random bytes never reach: it watches the frames the server sends
 * (starting at the protocol field) and builds a Configure-Ack of the
 * server's last Configure-Request and a CHAP Response to its last
 * Challenge (MS-CHAPv2 or MD5) for a given user and password. The
 * invariants every server frame must keep are checked here too.
 */
#ifndef DPVPN_FUZZ_PPP_PEER_H
#define DPVPN_FUZZ_PPP_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fuzz_fail.h"
#include "mschapv2.h"
#include "ppp.h"

/* LCP, IPCP, CCP */
#define PEER_NB_FSM 3

struct ppp_peer {
	struct {
		bool seen;
		uint8_t id;
		uint16_t len;
		uint8_t opts[1500];
	} req[PEER_NB_FSM];
	bool have_challenge;
	uint8_t chap_id;
	uint8_t challenge[16];
	unsigned frames;
};

static inline int
peer_fsm_index(uint16_t proto)
{
	switch (proto) {
	case PPP_LCP:
		return 0;
	case PPP_IPCP:
		return 1;
	case PPP_CCP:
		return 2;
	default:
		return -1;
	}
}

static inline uint16_t
peer_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
peer_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * A frame the server sent (protocol field first): aborts when it breaks a
 * rule every frame must keep, and remembers requests and challenges.
 */
static inline void
ppp_peer_observe(struct ppp_peer *p, const uint8_t *f, uint16_t len)
{
	uint16_t proto, plen;
	int k;

	/* Protocol, code, id, length: we only ever send negotiation packets, never more than PPP_MAX_FRAME. */
	if (len < 6 || len > 2 + 4 + 1500)
		FUZZ_FAIL();
	proto = peer_get16(f);
	plen = peer_get16(f + 4);
	if (proto != PPP_LCP && proto != PPP_IPCP && proto != PPP_CCP && proto != PPP_CHAP)
		FUZZ_FAIL();
	if (plen != len - 2 || f[2] == 0)
		FUZZ_FAIL(); /* the length field says what was sent; code 0 does not exist */
	p->frames++;
	if (proto == PPP_CHAP) {
		/* We are the authenticator: challenges, success, failure; never a response. */
		if (f[2] == 2 || f[2] > 4)
			FUZZ_FAIL();
		if (f[2] == 1) {
			if (plen < 4 + 1 + 16 || f[6] != 16)
				FUZZ_FAIL();
			p->have_challenge = true;
			p->chap_id = f[3];
			memcpy(p->challenge, f + 7, 16);
		}
		return;
	}
	k = peer_fsm_index(proto);
	if (f[2] == PPP_CONF_REQ) {
		p->req[k].seen = true;
		p->req[k].id = f[3];
		p->req[k].len = (uint16_t)(plen - 4);
		memcpy(p->req[k].opts, f + 6, plen - 4u);
	}
}

/* Configure-Ack of the last request of LCP (0), IPCP (1) or CCP (2) into out; its length, 0 if none. */
static inline uint16_t
ppp_peer_conf_ack(const struct ppp_peer *p, unsigned k, uint8_t *out, uint16_t room)
{
	static const uint16_t protos[PEER_NB_FSM] = { PPP_LCP, PPP_IPCP, PPP_CCP };

	k %= PEER_NB_FSM;
	if (!p->req[k].seen || room < 6u + p->req[k].len)
		return 0;
	peer_put16(out, protos[k]);
	out[2] = PPP_CONF_ACK;
	out[3] = p->req[k].id;
	peer_put16(out + 4, (uint16_t)(4 + p->req[k].len));
	memcpy(out + 6, p->req[k].opts, p->req[k].len);
	return (uint16_t)(6 + p->req[k].len);
}

/*
 * CHAP Response to the last Challenge: MS-CHAPv2 (RFC 2759 4) or MD5
 * (RFC 1994 4.1) for user and password; seed fills the peer challenge.
 */
static inline uint16_t
ppp_peer_chap_response(const struct ppp_peer *p, bool md5, const char *user, const char *password,
		       uint8_t seed, uint8_t *out, uint16_t room)
{
	size_t ulen = strlen(user);
	uint8_t *v = out + 7;
	uint8_t vlen;

	if (!p->have_challenge || room < 7 + 49 + ulen)
		return 0;
	peer_put16(out, PPP_CHAP);
	out[2] = 2;
	out[3] = p->chap_id;
	if (md5) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		unsigned n = 0;

		vlen = 16;
		if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 ||
		    EVP_DigestUpdate(ctx, &p->chap_id, 1) != 1 ||
		    EVP_DigestUpdate(ctx, password, strlen(password)) != 1 ||
		    EVP_DigestUpdate(ctx, p->challenge, 16) != 1 || EVP_DigestFinal_ex(ctx, v, &n) != 1 || n != 16)
			FUZZ_FAIL();
		EVP_MD_CTX_free(ctx);
	} else {
		uint8_t hash[16];

		vlen = 49;
		for (int i = 0; i < 16; i++)
			v[i] = (uint8_t)(seed + 37 * i);
		memset(v + 16, 0, 8);
		v[48] = 0;
		if (mschapv2_nt_hash(password, hash) < 0 ||
		    mschapv2_nt_response(p->challenge, v, user, hash, v + 24) < 0)
			FUZZ_FAIL();
	}
	out[6] = vlen;
	memcpy(out + 7 + vlen, user, ulen);
	peer_put16(out + 4, (uint16_t)(4 + 1 + vlen + ulen));
	return (uint16_t)(2 + 4 + 1 + vlen + ulen);
}

#endif
