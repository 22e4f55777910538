/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AEAD engine against OpenSSL EVP: every algorithm and key size in mixed
 * bursts of many tunnels with random lengths and AAD; decryption of
 * OpenSSL's output; forged tags, ciphertext and AAD; bad arguments.
 */
#include <stdbool.h>
#include <openssl/hmac.h>

#include "aead.h"
#include "check.h"
#include "ossl.h"

#define TUNNELS 14   /* two per algorithm */
#define OPS 150  /* more than one chunk of 64 (several job-manager bursts) */
#define BUF 2100

struct tunnel {
	enum aead_algo algo;
	uint8_t key[32], auth[32];
	struct aead_key *k;
};

static const EVP_CIPHER *
evp_cipher(enum aead_algo a)
{
	switch (a) {
	case AEAD_AES128_GCM: return EVP_aes_128_gcm();
	case AEAD_AES256_GCM: return EVP_aes_256_gcm();
	case AEAD_AES128_CBC_HMAC_SHA1:
	case AEAD_AES128_CBC_HMAC_SHA256: return EVP_aes_128_cbc();
	case AEAD_AES256_CBC_HMAC_SHA1:
	case AEAD_AES256_CBC_HMAC_SHA256: return EVP_aes_256_cbc();
	default: return EVP_chacha20_poly1305();
	}
}

static bool
is_cbc(enum aead_algo a)
{
	return a >= AEAD_AES128_CBC_HMAC_SHA1 && a <= AEAD_AES256_CBC_HMAC_SHA256;
}

/* OpenSSL's answer for one op: ciphertext into out (same layout as buf)
 * and the tag. */
static void
reference(const struct tunnel *t, const struct aead_op *op, const uint8_t *plain_buf,
	  uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0;

	memcpy(out, plain_buf, BUF);
	if (is_cbc(t->algo)) {
		EVP_EncryptInit_ex(c, evp_cipher(t->algo), NULL, t->key, op->iv);
		EVP_CIPHER_CTX_set_padding(c, 0);
		EVP_EncryptUpdate(c, out + op->cipher_off, &l, plain_buf + op->cipher_off,
				  (int)op->cipher_len);
		unsigned tl = 0;
		bool sha1 = t->algo == AEAD_AES128_CBC_HMAC_SHA1 || t->algo == AEAD_AES256_CBC_HMAC_SHA1;

		HMAC(sha1 ? EVP_sha1() : EVP_sha256(), t->auth, sha1 ? 20 : 32,
		     out + op->auth_off, op->auth_len, tag, &tl);
	} else {
		EVP_EncryptInit_ex(c, evp_cipher(t->algo), NULL, NULL, NULL);
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
		EVP_EncryptInit_ex(c, NULL, NULL, t->key, op->iv);
		if (op->aad_len)
			EVP_EncryptUpdate(c, NULL, &l, op->aad, (int)op->aad_len);
		if (op->cipher_len)
			EVP_EncryptUpdate(c, out + op->cipher_off, &l, plain_buf + op->cipher_off,
					  (int)op->cipher_len);
		EVP_EncryptFinal_ex(c, out, &l);
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
	}
	EVP_CIPHER_CTX_free(c);
}

static void
test_vs_openssl(struct aead_engine *e)
{
	static struct tunnel tun[TUNNELS];
	static uint8_t buf[OPS][BUF], plain[OPS][BUF], ref[OPS][BUF];
	static uint8_t tag[OPS][AEAD_TAG_MAX], rtag[OPS][AEAD_TAG_MAX], iv[OPS][16], aad[OPS][64];

	for (int t = 0; t < TUNNELS; t++) {
		tun[t].algo = (enum aead_algo)(t % AEAD_ALGO_COUNT);
		tun[t].k = aead_key_alloc();
		rng_fill(tun[t].key, 32);
		rng_fill(tun[t].auth, 32);
		CHECK(aead_key_init(e, tun[t].k, tun[t].algo, tun[t].key, tun[t].auth,
				    aead_auth_key_len(tun[t].algo)) == 0);
	}
	for (int round = 0; round < 30; round++) {
		struct aead_op ops[OPS];
		int tun_of[OPS];

		for (int k = 0; k < OPS; k++) {
			int t = (int)(rng() % TUNNELS);
			struct tunnel *tn = &tun[t];
			uint32_t len = (uint32_t)(rng() % 4 == 0 ? rng() % 70 : rng() % 2000);

			tun_of[k] = t;
			rng_fill(plain[k], BUF);
			memcpy(buf[k], plain[k], BUF);
			rng_fill(iv[k], 16);
			rng_fill(aad[k], 64);
			ops[k] = (struct aead_op){ .key = tn->k, .buf = buf[k], .tag = tag[k] };
			if (is_cbc(tn->algo)) {
				/* OpenVPN layout: IV | ciphertext, HMAC over both */
				len = (len & ~15u) + 16;   /* PKCS#7 padding: at least a block */
				memcpy(buf[k], iv[k], 16);
				memcpy(plain[k], iv[k], 16);
				ops[k].iv = buf[k];
				ops[k].cipher_off = 16;
				ops[k].cipher_len = len;
				ops[k].auth_off = 0;
				ops[k].auth_len = 16 + len;
			} else {
				ops[k].iv = iv[k];
				ops[k].cipher_off = (uint32_t)(rng() % 24);
				ops[k].cipher_len = len;
				ops[k].aad = aad[k];
				ops[k].aad_len = (uint32_t)(rng() % 3 == 0 ? 0 : rng() % 64);
			}
			reference(tn, &ops[k], plain[k], ref[k], rtag[k]);
		}
		CHECK(aead_encrypt_burst(e, ops, OPS) == OPS);
		for (int k = 0; k < OPS; k++) {
			unsigned tl = aead_tag_len(tun[tun_of[k]].algo);

			CHECK(ops[k].status == AEAD_OK);
			if (memcmp(buf[k], ref[k], BUF) != 0 || memcmp(tag[k], rtag[k], tl) != 0) {
				fprintf(stderr, "%s len %u: differs from OpenSSL\n",
					aead_algo_name(tun[tun_of[k]].algo), ops[k].cipher_len);
				check_failures++;
			}
		}
		/* decrypt OpenSSL's output; forge one thing in every third op */
		int forged[OPS];

		for (int k = 0; k < OPS; k++) {
			memcpy(buf[k], ref[k], BUF);
			memcpy(tag[k], rtag[k], AEAD_TAG_MAX);
			forged[k] = 0;
			if (k % 3 == 0) {
				switch (rng() % 3) {
				case 0:
					tag[k][rng() % aead_tag_len(tun[tun_of[k]].algo)] ^= 0x01;
					forged[k] = 1;
					break;
				case 1:
					if (ops[k].cipher_len) {
						buf[k][ops[k].cipher_off + rng() % ops[k].cipher_len] ^= 0x80;
						forged[k] = 1;
					}
					break;
				default:
					if (!is_cbc(tun[tun_of[k]].algo) && ops[k].aad_len) {
						aad[k][rng() % ops[k].aad_len] ^= 0x10;
						forged[k] = 1;
					} else if (is_cbc(tun[tun_of[k]].algo)) {
						buf[k][rng() % 16] ^= 0x04;   /* the IV is authenticated */
						forged[k] = 1;
					}
					break;
				}
			}
		}
		unsigned nforged = 0;

		for (int k = 0; k < OPS; k++)
			nforged += (unsigned)forged[k];
		CHECK(aead_decrypt_burst(e, ops, OPS) == OPS - nforged);
		for (int k = 0; k < OPS; k++) {
			if (forged[k]) {
				CHECK(ops[k].status == AEAD_ERR_AUTH);
				continue;
			}
			CHECK(ops[k].status == AEAD_OK);
			CHECK_MEM(buf[k] + ops[k].cipher_off, plain[k] + ops[k].cipher_off,
				  ops[k].cipher_len, "decrypted plaintext");
		}
	}
	for (int t = 0; t < TUNNELS; t++)
		aead_key_free(tun[t].k);
}

static void
test_bad_input(struct aead_engine *e)
{
	struct aead_key *k = aead_key_alloc(), *blank = aead_key_alloc();
	uint8_t key[32] = { 0 }, buf[300] = { 0 }, tag[32], iv[16] = { 0 }, aad[300] = { 0 };
	struct aead_op op;

	CHECK(aead_key_init(e, k, AEAD_ALGO_COUNT, key, NULL, 0) == -1);
	CHECK(aead_key_init(e, k, AEAD_AES128_CBC_HMAC_SHA1, key, NULL, 0) == -1);
	CHECK(aead_key_init(NULL, k, AEAD_AES128_GCM, key, NULL, 0) == -1);
	CHECK(aead_key_init(e, k, AEAD_AES128_CBC_HMAC_SHA1, key, key, 20) == 0);

	op = (struct aead_op){ .key = k, .buf = buf, .cipher_off = 16, .cipher_len = 33,
			       .auth_len = 49, .iv = iv, .tag = tag };
	CHECK(aead_encrypt_burst(e, &op, 1) == 0 && op.status == AEAD_ERR_LENGTH);
	op.cipher_len = 0;
	CHECK(aead_encrypt_burst(e, &op, 1) == 0 && op.status == AEAD_ERR_LENGTH);
	op.cipher_len = 32;
	op.key = blank;
	CHECK(aead_encrypt_burst(e, &op, 1) == 0 && op.status == AEAD_ERR_BAD_ARG);
	op.key = NULL;
	CHECK(aead_encrypt_burst(e, &op, 1) == 0 && op.status == AEAD_ERR_BAD_ARG);
	op.key = k;
	op.tag = NULL;
	CHECK(aead_encrypt_burst(e, &op, 1) == 0 && op.status == AEAD_ERR_BAD_ARG);

	CHECK(aead_key_init(e, k, AEAD_AES256_GCM, key, NULL, 0) == 0);
	op = (struct aead_op){ .key = k, .buf = buf, .cipher_len = 100, .iv = iv, .tag = tag,
			       .aad = aad, .aad_len = AEAD_AAD_MAX + 1 };
	CHECK(aead_decrypt_burst(e, &op, 1) == 0 && op.status == AEAD_ERR_AAD);
	op.aad = NULL;
	op.aad_len = 5;
	CHECK(aead_decrypt_burst(e, &op, 1) == 0 && op.status == AEAD_ERR_AAD);
	op.cipher_len = AEAD_LEN_MAX + 1;
	op.aad_len = 0;
	CHECK(aead_decrypt_burst(e, &op, 1) == 0 && op.status == AEAD_ERR_LENGTH);
	CHECK(aead_encrypt_burst(NULL, &op, 1) == 0);
	CHECK(strcmp(aead_strerror(AEAD_ERR_AUTH), "auth_failed") == 0);
	CHECK(strcmp(aead_strerror(77), "unknown") == 0);
	CHECK(aead_engine_create("no-such-arch") == NULL);
	aead_key_free(k);
	aead_key_free(blank);
}

int
main(void)
{
	ossl_init();
	struct aead_engine *e = aead_engine_create(NULL);

	CHECK(e != NULL);
	if (e == NULL)
		return check_done("test_aead");
	printf("intel-ipsec-mb arch: %s\n", aead_engine_arch(e));
	test_vs_openssl(e);
	test_bad_input(e);
	aead_engine_free(e);
	/* the AVX2 path too, where the auto pick was AVX-512 */
	e = aead_engine_create("avx2");
	if (e != NULL) {
		test_vs_openssl(e);
		aead_engine_free(e);
	}
	return check_done("test_aead");
}
