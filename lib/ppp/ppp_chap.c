/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CHAP (RFC 1994) as the authenticator: MS-CHAPv2 (RFC 2759) or MD5, with
 * secrets from chap-secrets. A response that repeats the one we accepted
 * (our Success was lost) gets the same Success again.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ppp_impl.h"

enum { CHAP_CHALLENGE = 1, CHAP_RESPONSE, CHAP_SUCCESS, CHAP_FAILURE };

static void
send_challenge(struct ppp_link *l)
{
	uint8_t p[1 + MSCHAPV2_CHALLENGE_LEN + CHAP_NAME_MAX];
	size_t nlen = strlen(l->conf->name);

	p[0] = MSCHAPV2_CHALLENGE_LEN;
	memcpy(p + 1, l->challenge, MSCHAPV2_CHALLENGE_LEN);
	memcpy(p + 1 + MSCHAPV2_CHALLENGE_LEN, l->conf->name, nlen);
	ppp_send_packet(l, PPP_CHAP, CHAP_CHALLENGE, l->chap_id, p, (uint16_t)(1 + MSCHAPV2_CHALLENGE_LEN + nlen));
	l->chap_deadline_ms = l->now_ms + l->conf->restart_ms;
}

void
ppp_chap_start(struct ppp_link *l)
{
	l->authenticated = false;
	l->chap_reply[0] = '\0';
	l->chap_tries = (uint8_t)l->conf->max_configure;
	ppp_random(&l->chap_id, 1);
	ppp_random(l->challenge, sizeof(l->challenge));
	send_challenge(l);
}

void
ppp_chap_timer(struct ppp_link *l)
{
	if (l->phase != PPP_PHASE_AUTH || l->chap_deadline_ms == 0 || l->now_ms < l->chap_deadline_ms)
		return;
	if (l->chap_tries <= 1) {       /* max_configure Challenges sent in all, as for LCP */
		l->chap_deadline_ms = 0;
		ppp_link_close(l, "no CHAP response", l->now_ms);
		return;
	}
	l->chap_tries--;
	send_challenge(l);
}

/* MS-CHAPv2 checks the name without a "DOMAIN\" prefix (RFC 2759 4). */
static const char *
without_domain(const char *user)
{
	const char *b = strrchr(user, '\\');

	return b ? b + 1 : user;
}

static bool
check_md5(struct ppp_link *l, uint8_t id, const uint8_t *val, uint8_t vlen, const char *secret)
{
	uint8_t d[16];
	unsigned n = 0;
	EVP_MD_CTX *ctx;

	if (vlen != 16)
		return false;
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
	EVP_DigestUpdate(ctx, &id, 1);
	EVP_DigestUpdate(ctx, secret, strlen(secret));
	EVP_DigestUpdate(ctx, l->challenge, sizeof(l->challenge));
	EVP_DigestFinal_ex(ctx, d, &n);
	EVP_MD_CTX_free(ctx);
	return CRYPTO_memcmp(d, val, 16) == 0;
}

/* Sends CHAP Failure and closes the link with why. */
static void
auth_fail(struct ppp_link *l, uint8_t id, const char *why)
{
	char msg[96];
	int n;

	if (l->auth == PPP_AUTH_MSCHAPV2) {
		/* E=691: bad user or password; R=0: no retry; C: the challenge it was made against. */
		n = snprintf(msg, sizeof(msg), "E=691 R=0 C=");
		for (int i = 0; i < 16; i++)
			n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%02X", l->challenge[i]);
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, " V=3 M=Authentication failed");
	} else {
		n = snprintf(msg, sizeof(msg), "Authentication failed");
	}
	ppp_send_packet(l, PPP_CHAP, CHAP_FAILURE, id, (const uint8_t *)msg, (uint16_t)n);
	l->chap_deadline_ms = 0;
	ppp_link_close(l, why, l->now_ms);
}

void
ppp_chap_input(struct ppp_link *l, const uint8_t *pkt, uint16_t len)
{
	const struct chap_secret *s;
	uint16_t plen;
	uint8_t vlen, id;
	char name[CHAP_NAME_MAX];
	size_t nlen;
	bool ok;

	if (len < PPP_HDR + 1 || (plen = ppp_get16(pkt + 2)) < PPP_HDR + 1 || plen > len ||
	    pkt[0] != CHAP_RESPONSE || (vlen = pkt[4]) > plen - PPP_HDR - 1) {
		l->rx_bad++;
		return;
	}
	id = pkt[1];
	if (l->authenticated) {
		/* Our Success was lost and the client asks again. */
		if (id == l->chap_id && l->chap_reply[0])
			ppp_send_packet(l, PPP_CHAP, CHAP_SUCCESS, id, (const uint8_t *)l->chap_reply,
					(uint16_t)strlen(l->chap_reply));
		return;
	}
	if (l->phase != PPP_PHASE_AUTH || id != l->chap_id) {
		l->rx_bad++;
		return;
	}
	nlen = (size_t)(plen - PPP_HDR - 1 - vlen);
	if (nlen >= sizeof(name))
		nlen = sizeof(name) - 1;
	memcpy(name, pkt + PPP_HDR + 1 + vlen, nlen);
	name[nlen] = '\0';
	/*
	 * After an LCP renegotiation the client authenticates again; the session
	 * keeps the first user's address, pool slot and accounting, so it may not
	 * change users.
	 */
	if (l->user_bound && strcmp(name, l->user) != 0) {
		auth_fail(l, id, "authenticated again as another user");
		return;
	}
	snprintf(l->user, sizeof(l->user), "%s", name);
	s = l->conf->secrets ? chap_secrets_find(l->conf->secrets, name, l->conf->name) : NULL;
	if (l->auth == PPP_AUTH_MSCHAPV2)
		ok = s != NULL && vlen == MSCHAPV2_RESPONSE_LEN &&
		     mschapv2_verify(l->challenge, pkt + PPP_HDR + 1, without_domain(name), s->secret, &l->mschap);
	else
		ok = s != NULL && check_md5(l, id, pkt + PPP_HDR + 1, vlen, s->secret);
	if (!ok) {
		auth_fail(l, id, "authentication failed");
		return;
	}
	if (l->auth == PPP_AUTH_MSCHAPV2)
		snprintf(l->chap_reply, sizeof(l->chap_reply), "%s M=Access granted", l->mschap.auth_response);
	else
		snprintf(l->chap_reply, sizeof(l->chap_reply), "Access granted");
	ppp_send_packet(l, PPP_CHAP, CHAP_SUCCESS, id, (const uint8_t *)l->chap_reply,
			(uint16_t)strlen(l->chap_reply));
	l->authenticated = true;
	l->user_bound = true;
	l->chap_deadline_ms = 0;
	ppp_link_auth_done(l);
}
