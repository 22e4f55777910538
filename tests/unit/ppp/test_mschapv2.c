/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ppp MS-CHAPv2: every intermediate value of RFC 2759 section 9.2
 * ("User" / "clientPass"), then mschapv2_verify as the authenticator uses it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mschapv2.h"
#include "ppp_test.h"

/* RFC 2759 9.2 */
#define RFC_USER "User"
#define RFC_PASSWORD "clientPass"
#define RFC_AUTH_CHALLENGE "5B5D7C7D7B3F2F3E3C2C602132262628"
#define RFC_PEER_CHALLENGE "21402324255E262A28295F2B3A337C7E"
#define RFC_CHALLENGE_HASH "D02E4386BCE91226"
#define RFC_PASSWORD_HASH "44EBBA8D5312B8D611474411F56989AE"
#define RFC_NT_RESPONSE "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"
#define RFC_PASSWORD_HASH_HASH "41C00C584BD2D91C4017A2A12FA59F3F"
#define RFC_AUTH_RESPONSE "S=407A5589115FD0D6209F510FE9C04566932CDA56"

static uint8_t auth_ch[16], peer_ch[16];

static void
test_rfc2759_steps(void)
{
	uint8_t want[24], hash[16], ch[8], nt[24];
	char resp[MSCHAPV2_AUTH_RESPONSE_LEN + 1];

	CHECK_EQ(unhex(RFC_AUTH_CHALLENGE, auth_ch), 16);
	CHECK_EQ(unhex(RFC_PEER_CHALLENGE, peer_ch), 16);

	/* NtPasswordHash (RFC 2759 8.3) */
	CHECK_EQ(mschapv2_nt_hash(RFC_PASSWORD, hash), 0);
	unhex(RFC_PASSWORD_HASH, want);
	CHECK_MEM(hash, want, 16);

	/* ChallengeHash (8.2): note the argument order, peer challenge first */
	mschapv2_challenge_hash(peer_ch, auth_ch, RFC_USER, ch);
	unhex(RFC_CHALLENGE_HASH, want);
	CHECK_MEM(ch, want, 8);

	/* GenerateNTResponse (8.1) */
	memset(nt, 0, sizeof(nt));
	CHECK_EQ(mschapv2_nt_response(auth_ch, peer_ch, RFC_USER, hash, nt), 0);
	unhex(RFC_NT_RESPONSE, want);
	CHECK_MEM(nt, want, 24);

	/* GenerateAuthenticatorResponse (8.7): "S=" and 40 upper-case hex digits */
	memset(resp, 'x', sizeof(resp));
	mschapv2_auth_response(hash, nt, peer_ch, auth_ch, RFC_USER, resp);
	CHECK_STR(resp, RFC_AUTH_RESPONSE);
	CHECK_EQ(strlen(resp), MSCHAPV2_AUTH_RESPONSE_LEN);

	/* A different user name changes the challenge hash and so the response. */
	mschapv2_challenge_hash(peer_ch, auth_ch, "user", ch);
	unhex(RFC_CHALLENGE_HASH, want);
	CHECK(memcmp(ch, want, 8) != 0);
}

/* The well-known NT hash of the empty password (MD4 of nothing). */
static void
test_nt_hash_edges(void)
{
	uint8_t hash[16], want[16];
	char longpw[300];

	CHECK_EQ(mschapv2_nt_hash("", hash), 0);
	unhex("31D6CFE0D16AE931B73C59D7E0C089C0", want);
	CHECK_MEM(hash, want, 16);
	/* RFC 2759 allows 256 characters; more is refused, not truncated. */
	memset(longpw, 'a', sizeof(longpw));
	longpw[256] = '\0';
	CHECK_EQ(mschapv2_nt_hash(longpw, hash), 0);
	longpw[256] = 'a';
	longpw[257] = '\0';
	CHECK_EQ(mschapv2_nt_hash(longpw, hash), -1);
}

/* The 49-byte Response value: peer challenge, 8 reserved zeros, NT-Response, flags. */
static void
rfc_response(uint8_t r[MSCHAPV2_RESPONSE_LEN])
{
	memset(r, 0, MSCHAPV2_RESPONSE_LEN);
	unhex(RFC_PEER_CHALLENGE, r);
	unhex(RFC_NT_RESPONSE, r + 24);
}

static void
test_verify(void)
{
	uint8_t r[MSCHAPV2_RESPONSE_LEN], want[24];
	struct mschapv2_result res;

	rfc_response(r);
	memset(&res, 0, sizeof(res));
	CHECK(mschapv2_verify(auth_ch, r, RFC_USER, RFC_PASSWORD, &res));
	/* What MPPE's keys come from (RFC 3079 3.4 uses PasswordHashHash). */
	unhex(RFC_PASSWORD_HASH_HASH, want);
	CHECK_MEM(res.pw_hash_hash, want, 16);
	unhex(RFC_NT_RESPONSE, want);
	CHECK_MEM(res.nt_response, want, 24);
	CHECK_STR(res.auth_response, RFC_AUTH_RESPONSE);

	/* Wrong password, wrong user (the name is hashed in), case matters. */
	CHECK(!mschapv2_verify(auth_ch, r, RFC_USER, "clientpass", &res));
	CHECK(!mschapv2_verify(auth_ch, r, RFC_USER, "", &res));
	CHECK(!mschapv2_verify(auth_ch, r, "Usr", RFC_PASSWORD, &res));
	CHECK(!mschapv2_verify(auth_ch, r, "user", RFC_PASSWORD, &res));

	/* Any changed bit of the NT-Response, the peer challenge or our challenge fails. */
	for (int i = 0; i < 24; i++) {
		rfc_response(r);
		r[24 + i] ^= (uint8_t)(1u << (i % 8));
		CHECK(!mschapv2_verify(auth_ch, r, RFC_USER, RFC_PASSWORD, &res));
	}
	rfc_response(r);
	r[0] ^= 0x01;
	CHECK(!mschapv2_verify(auth_ch, r, RFC_USER, RFC_PASSWORD, &res));
	{
		uint8_t other[16];

		memcpy(other, auth_ch, 16);
		other[15] ^= 0x80;
		rfc_response(r);
		CHECK(!mschapv2_verify(other, r, RFC_USER, RFC_PASSWORD, &res));
	}
	/* The reserved bytes and flags are not part of the proof. */
	rfc_response(r);
	memset(r + 16, 0xaa, 8);
	r[48] = 0x01;
	CHECK(mschapv2_verify(auth_ch, r, RFC_USER, RFC_PASSWORD, &res));
}

int
main(void)
{
	if (mschapv2_init() < 0) {
		fprintf(stderr, "mschapv2_init failed (OpenSSL legacy provider missing?)\n");
		return 1;
	}
	CHECK_EQ(mschapv2_init(), 0); /* a second call is harmless */
	test_rfc2759_steps();
	test_nt_hash_edges();
	test_verify();
	return check_summary("unit-ppp-mschapv2");
}
