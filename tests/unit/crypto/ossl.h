/* SPDX-License-Identifier: BSD-3-Clause */
/* The second implementation for the crypto tests: OpenSSL 3 (RC4 and MD4
 * live in its legacy provider). */
#ifndef DPVPN_TEST_OSSL_H
#define DPVPN_TEST_OSSL_H

#include <stdio.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

static EVP_CIPHER *ossl_rc4;

static inline void
ossl_init(void)
{
	if (OSSL_PROVIDER_load(NULL, "legacy") == NULL || OSSL_PROVIDER_load(NULL, "default") == NULL) {
		fprintf(stderr, "OpenSSL legacy provider not available\n");
		exit(77);   /* meson: skipped */
	}
	ossl_rc4 = EVP_CIPHER_fetch(NULL, "RC4", "provider=legacy");
	if (ossl_rc4 == NULL) {
		fprintf(stderr, "OpenSSL RC4 not available\n");
		exit(77);
	}
}

/* An RC4 stream keyed with any length, continued across calls. */
static inline EVP_CIPHER_CTX *
ossl_rc4_new(const uint8_t *key, int keylen)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c == NULL || !EVP_CipherInit_ex2(c, ossl_rc4, NULL, NULL, 1, NULL) ||
	    !EVP_CIPHER_CTX_set_key_length(c, keylen) ||
	    !EVP_CipherInit_ex2(c, NULL, key, NULL, 1, NULL)) {
		fprintf(stderr, "OpenSSL RC4 init failed\n");
		exit(1);
	}
	return c;
}

static inline void
ossl_rc4_run(EVP_CIPHER_CTX *c, const uint8_t *in, uint8_t *out, int len)
{
	int outl = 0;

	if (len > 0 && !EVP_CipherUpdate(c, out, &outl, in, len)) {
		fprintf(stderr, "OpenSSL RC4 failed\n");
		exit(1);
	}
}

static inline void
ossl_sha1(const void *d, size_t n, uint8_t out[20])
{
	EVP_Digest(d, n, out, NULL, EVP_sha1(), NULL);
}

#endif
