/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "mschapv2.h"

static EVP_MD *md4;
static EVP_CIPHER *des_ecb;

int
mschapv2_init(void)
{
	if (md4 != NULL)
		return 0;
	/* Loading "legacy" explicitly unloads the implicit default: load both. */
	if (OSSL_PROVIDER_load(NULL, "default") == NULL || OSSL_PROVIDER_load(NULL, "legacy") == NULL) {
		fprintf(stderr, "dpvpn: MS-CHAPv2 needs OpenSSL's legacy provider (MD4, DES): not found\n");
		return -1;
	}
	md4 = EVP_MD_fetch(NULL, "MD4", "provider=legacy");
	des_ecb = EVP_CIPHER_fetch(NULL, "DES-ECB", "provider=legacy");
	if (md4 == NULL || des_ecb == NULL) {
		fprintf(stderr, "dpvpn: OpenSSL's legacy provider has no MD4 or DES-ECB\n");
		return -1;
	}
	return 0;
}

int
mschapv2_nt_hash(const char *password, uint8_t hash[16])
{
	uint8_t wide[512];
	size_t n = strlen(password);
	unsigned len = 0;

	if (mschapv2_init() < 0 || n > sizeof(wide) / 2)
		return -1;
	/* RFC 2759 8.3: Unicode (UTF-16LE); passwords here are taken byte by byte. */
	for (size_t i = 0; i < n; i++) {
		wide[2 * i] = (uint8_t)password[i];
		wide[2 * i + 1] = 0;
	}
	return EVP_Digest(wide, 2 * n, hash, &len, md4, NULL) == 1 && len == 16 ? 0 : -1;
}

static void
sha1_parts(const void *a, size_t na, const void *b, size_t nb, const void *c, size_t nc, uint8_t out[20])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
	EVP_DigestUpdate(ctx, a, na);
	EVP_DigestUpdate(ctx, b, nb);
	EVP_DigestUpdate(ctx, c, nc);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
}

void
mschapv2_challenge_hash(const uint8_t peer_challenge[16], const uint8_t auth_challenge[16],
			const char *user, uint8_t out[8])
{
	uint8_t d[20];

	sha1_parts(peer_challenge, 16, auth_challenge, 16, user, strlen(user), d);
	memcpy(out, d, 8);
}

/* 7 key bytes spread over 8 DES key bytes (parity bits left 0: DES ignores them). */
static void
des_key_from7(const uint8_t k7[7], uint8_t k8[8])
{
	k8[0] = k7[0] & 0xfe;
	k8[1] = (uint8_t)((k7[0] << 7) | (k7[1] >> 1));
	k8[2] = (uint8_t)((k7[1] << 6) | (k7[2] >> 2));
	k8[3] = (uint8_t)((k7[2] << 5) | (k7[3] >> 3));
	k8[4] = (uint8_t)((k7[3] << 4) | (k7[4] >> 4));
	k8[5] = (uint8_t)((k7[4] << 3) | (k7[5] >> 5));
	k8[6] = (uint8_t)((k7[5] << 2) | (k7[6] >> 6));
	k8[7] = (uint8_t)(k7[6] << 1);
	for (int i = 0; i < 8; i++)
		k8[i] &= 0xfe;
}

static int
des_encrypt(const uint8_t k7[7], const uint8_t in[8], uint8_t out[8])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t key[8];
	int n = 0, ok;

	des_key_from7(k7, key);
	ok = ctx != NULL && EVP_EncryptInit_ex(ctx, des_ecb, NULL, key, NULL) == 1 &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 && EVP_EncryptUpdate(ctx, out, &n, in, 8) == 1 && n == 8;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
mschapv2_nt_response(const uint8_t auth_challenge[16], const uint8_t peer_challenge[16], const char *user,
		     const uint8_t pw_hash[16], uint8_t out[24])
{
	uint8_t ch[8], z[21] = { 0 };

	if (mschapv2_init() < 0)
		return -1;
	mschapv2_challenge_hash(peer_challenge, auth_challenge, user, ch);
	/* ChallengeResponse: the hash padded to 21 bytes, three DES keys of 7 bytes. */
	memcpy(z, pw_hash, 16);
	for (int i = 0; i < 3; i++)
		if (des_encrypt(z + 7 * i, ch, out + 8 * i) < 0)
			return -1;
	return 0;
}

void
mschapv2_auth_response(const uint8_t pw_hash[16], const uint8_t nt_response[24],
		       const uint8_t peer_challenge[16], const uint8_t auth_challenge[16], const char *user,
		       char out[MSCHAPV2_AUTH_RESPONSE_LEN + 1])
{
	/* RFC 2759 8.7's two constants, as ASCII text. */
	static const char magic1[] = "Magic server to client signing constant";
	static const char magic2[] = "Pad to make it do more than one iteration";
	uint8_t hh[16], d[20], ch[8];
	unsigned len = 0;

	EVP_Digest(pw_hash, 16, hh, &len, md4, NULL);
	sha1_parts(hh, 16, nt_response, 24, magic1, sizeof(magic1) - 1, d);
	mschapv2_challenge_hash(peer_challenge, auth_challenge, user, ch);
	sha1_parts(d, 20, ch, 8, magic2, sizeof(magic2) - 1, d);
	out[0] = 'S';
	out[1] = '=';
	for (int i = 0; i < 20; i++)
		snprintf(out + 2 + 2 * i, 3, "%02X", d[i]);
}

bool
mschapv2_verify(const uint8_t auth_challenge[16], const uint8_t response[MSCHAPV2_RESPONSE_LEN],
		const char *user, const char *password, struct mschapv2_result *out)
{
	const uint8_t *peer_challenge = response, *nt = response + 24;
	uint8_t pw_hash[16], expect[24];
	unsigned len = 0;

	if (mschapv2_nt_hash(password, pw_hash) < 0 ||
	    mschapv2_nt_response(auth_challenge, peer_challenge, user, pw_hash, expect) < 0)
		return false;
	if (CRYPTO_memcmp(expect, nt, sizeof(expect)) != 0)
		return false;
	EVP_Digest(pw_hash, 16, out->pw_hash_hash, &len, md4, NULL);
	memcpy(out->nt_response, nt, 24);
	mschapv2_auth_response(pw_hash, nt, peer_challenge, auth_challenge, user, out->auth_response);
	OPENSSL_cleanse(pw_hash, sizeof(pw_hash));
	return true;
}
