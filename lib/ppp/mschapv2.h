/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MS-CHAPv2 (RFC 2759), the authenticator's side: checks a peer's
 * NT-Response and computes the "S=..." authenticator response. MD4 and DES
 * come from OpenSSL 3's legacy provider, loaded by mschapv2_init().
 */
#ifndef DPVPN_MSCHAPV2_H
#define DPVPN_MSCHAPV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSCHAPV2_CHALLENGE_LEN 16
#define MSCHAPV2_NT_RESPONSE_LEN 24
#define MSCHAPV2_RESPONSE_LEN 49        /* peer challenge 16, reserved 8, NT-Response 24, flags 1 */
#define MSCHAPV2_AUTH_RESPONSE_LEN 42   /* "S=" and 40 upper-case hex digits */

/* Loads the OpenSSL providers MD4 and DES need. 0, or -1 with a message on stderr. */
int mschapv2_init(void);

/* NtPasswordHash: MD4 of the password in UTF-16LE (ASCII/UTF-8 bytes widened). */
int mschapv2_nt_hash(const char *password, uint8_t hash[16]);
/* ChallengeHash: the first 8 bytes of SHA-1(peer challenge | authenticator challenge | user). */
void mschapv2_challenge_hash(const uint8_t peer_challenge[16], const uint8_t auth_challenge[16],
			     const char *user, uint8_t out[8]);
/* GenerateNTResponse from the password hash. */
int mschapv2_nt_response(const uint8_t auth_challenge[16], const uint8_t peer_challenge[16],
			 const char *user, const uint8_t pw_hash[16], uint8_t out[24]);
/* GenerateAuthenticatorResponse: "S=" + 40 hex digits, NUL-terminated (43 bytes). */
void mschapv2_auth_response(const uint8_t pw_hash[16], const uint8_t nt_response[24],
			    const uint8_t peer_challenge[16], const uint8_t auth_challenge[16],
			    const char *user, char out[MSCHAPV2_AUTH_RESPONSE_LEN + 1]);

/* What a successful check leaves for MPPE (RFC 3079): keys come from these. */
struct mschapv2_result {
	uint8_t pw_hash_hash[16];
	uint8_t nt_response[24];
	char auth_response[MSCHAPV2_AUTH_RESPONSE_LEN + 1];
};

/*
 * The authenticator's check of a 49-byte response value: true when the
 * NT-Response matches the password (compared in constant time).
 */
bool mschapv2_verify(const uint8_t auth_challenge[16], const uint8_t response[MSCHAPV2_RESPONSE_LEN],
		     const char *user, const char *password, struct mschapv2_result *out);

#endif
