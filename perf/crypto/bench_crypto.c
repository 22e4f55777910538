/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto benchmark: prints one JSON object per line, read by run.py.
 *
 *   bench_crypto arc4 <streams> <bytes> [variant]   ARC4 burst, bytes/s
 *   bench_crypto mppe <stateful|stateless> <bytes> <sessions>   packets/s
 *   bench_crypto mppe-openssl <bytes> <sessions>    per-packet re-key with OpenSSL
 *   bench_crypto aead <algo> <bytes>                bursts of 32, bytes/s
 *
 * Each figure is the median of 7 runs of about 60 ms; the ceilings
 * (openssl speed, dpdk-test-crypto-perf) are run by the script around it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "aead.h"
#include "arc4.h"
#include "mppe.h"
#include "bench_time.h"
#include "mppe_impl.h"   /* mppe_sha1_selected: which SHA-1 the re-key used */

#define RUNS 7
#define BURST 32

/* Median rate of fn: calls per second times units per call. */
static double
measure(void (*fn)(void *), void *arg, double units_per_call)
{
	double rate[RUNS];
	long calls = 1;

	/* calibrate to about 60 ms per run */
	for (;;) {
		double t0 = bench_now();

		for (long c = 0; c < calls; c++)
			fn(arg);
		double dt = bench_now() - t0;

		if (dt > 0.02) {
			calls = (long)((double)calls * 0.06 / dt) + 1;
			break;
		}
		calls *= 2;
	}
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now();

		for (long c = 0; c < calls; c++)
			fn(arg);
		rate[r] = (double)calls * units_per_call / (bench_now() - t0);
	}
	qsort(rate, RUNS, sizeof(rate[0]), bench_cmp_double);
	return rate[RUNS / 2];
}

/* ---- ARC4 ---- */
struct arc4_arg {
	struct arc4_job jobs[64];
	unsigned n;
	const struct arc4_variant *v;
};

static void
arc4_once(void *p)
{
	struct arc4_arg *a = p;

	a->v->burst(a->jobs, a->n);
}

static int
bench_arc4(unsigned streams, unsigned bytes, const char *variant)
{
	static struct arc4_state st[64];
	static uint8_t buf[64][2048];
	struct arc4_arg a = { .n = streams };

	if (streams == 0 || streams > 64 || bytes > sizeof(buf[0]))
		return 1;
	if (variant != NULL) {
		for (unsigned k = 0; k < arc4_variant_count(); k++)
			if (strcmp(arc4_variant_get(k)->name, variant) == 0)
				a.v = arc4_variant_get(k);
		if (a.v == NULL)
			return 1;
	} else {
		arc4_select(NULL);
		for (unsigned k = 0; k < arc4_variant_count(); k++)
			if (strcmp(arc4_variant_get(k)->name, arc4_selected()) == 0)
				a.v = arc4_variant_get(k);
	}
	for (unsigned s = 0; s < streams; s++) {
		uint8_t key[16] = { (uint8_t)s, 7 };

		arc4_set_key(&st[s], key, sizeof(key));
		a.jobs[s] = (struct arc4_job){ &st[s], buf[s], buf[s], bytes };
	}
	double r = measure(arc4_once, &a, (double)streams * bytes);

	printf("{\"kind\":\"arc4\",\"variant\":\"%s\",\"streams\":%u,\"bytes\":%u,"
	       "\"bytes_per_s\":%.0f}\n", a.v->name, streams, bytes, r);
	return 0;
}

/* ---- MPPE ---- */
struct mppe_arg {
	struct mppe_state st[BURST];
	struct mppe_op ops[BURST];
	uint8_t buf[BURST][2048];
	unsigned n, bytes;
};

static void
mppe_once(void *p)
{
	struct mppe_arg *a = p;

	for (unsigned k = 0; k < a->n; k++)
		a->ops[k].len = a->bytes + MPPE_HDR_LEN;
	mppe_encrypt_burst(a->ops, a->n);
}

static int
bench_mppe(bool stateless, unsigned bytes, unsigned sessions)
{
	static struct mppe_arg a;
	uint8_t start[16] = { 1, 2, 3, 4 };

	if (sessions == 0 || bytes > 2000)
		return 1;
	arc4_select(NULL);   /* as the daemon does at start-up */
	a.n = BURST;
	a.bytes = bytes;
	for (unsigned s = 0; s < sessions && s < BURST; s++) {
		start[5] = (uint8_t)s;
		mppe_state_init(&a.st[s], MPPE_DIR_TX, start, 128, stateless);
	}
	for (unsigned k = 0; k < BURST; k++)
		a.ops[k] = (struct mppe_op){ .st = &a.st[k % sessions], .pkt = a.buf[k] };
	double r = measure(mppe_once, &a, BURST);

	printf("{\"kind\":\"mppe\",\"mode\":\"%s\",\"bytes\":%u,\"sessions\":%u,\"arc4\":\"%s\","
	       "\"sha1\":\"%s\",\"pkts_per_s\":%.0f}\n", stateless ? "stateless" : "stateful", bytes,
	       sessions, arc4_selected(), mppe_sha1_selected(), r);
	return 0;
}

/* The straightforward MPPE stateless sender with OpenSSL: per packet one
 * SHA-1 (EVP_Digest), an RC4 keyed with the interim key to encrypt it, an
 * RC4 keyed with the new session key for the data. Contexts are reused. */
struct ossl_arg {
	EVP_CIPHER *rc4;
	EVP_CIPHER_CTX *ctx;
	const EVP_MD *sha1;
	uint8_t start[16], session[16];
	uint8_t buf[2048];
	unsigned bytes;
};

static void
ossl_once(void *p)
{
	struct ossl_arg *a = p;
	uint8_t in[112], dg[20];
	int l;

	for (int k = 0; k < BURST; k++) {
		memcpy(in, a->start, 16);
		memset(in + 16, 0, 40);
		memcpy(in + 56, a->session, 16);
		memset(in + 72, 0xf2, 40);
		EVP_Digest(in, sizeof(in), dg, NULL, a->sha1, NULL);
		EVP_CipherInit_ex2(a->ctx, a->rc4, dg, NULL, 1, NULL);
		EVP_CipherUpdate(a->ctx, a->session, &l, dg, 16);
		EVP_CipherInit_ex2(a->ctx, a->rc4, a->session, NULL, 1, NULL);
		EVP_CipherUpdate(a->ctx, a->buf, &l, a->buf, (int)a->bytes);
	}
}

static int
bench_mppe_openssl(unsigned bytes)
{
	static struct ossl_arg a;

	if (bytes > sizeof(a.buf))
		return 1;
	OSSL_PROVIDER_load(NULL, "legacy");
	OSSL_PROVIDER_load(NULL, "default");
	a.rc4 = EVP_CIPHER_fetch(NULL, "RC4", "provider=legacy");
	a.ctx = EVP_CIPHER_CTX_new();
	a.sha1 = EVP_sha1();
	a.bytes = bytes;
	if (a.rc4 == NULL)
		return 1;
	double r = measure(ossl_once, &a, BURST);

	printf("{\"kind\":\"mppe-openssl\",\"mode\":\"stateless\",\"bytes\":%u,\"pkts_per_s\":%.0f}\n",
	       bytes, r);
	return 0;
}

/* ---- AEAD ---- */
struct aead_arg {
	struct aead_engine *e;
	struct aead_op ops[BURST];
};

static void
aead_once(void *p)
{
	struct aead_arg *a = p;

	aead_encrypt_burst(a->e, a->ops, BURST);
}

static int
bench_aead(const char *algo_name, unsigned bytes)
{
	static uint8_t buf[BURST][2100], tag[BURST][32], iv[16], aad[16];
	static struct aead_arg a;
	enum aead_algo algo = AEAD_ALGO_COUNT;
	uint8_t key[32] = { 9 }, auth[32] = { 8 };
	struct aead_key *k = aead_key_alloc();

	for (int x = 0; x < AEAD_ALGO_COUNT; x++)
		if (strcmp(aead_algo_name((enum aead_algo)x), algo_name) == 0)
			algo = (enum aead_algo)x;
	a.e = aead_engine_create(NULL);
	if (algo == AEAD_ALGO_COUNT || a.e == NULL || k == NULL || bytes > 2048)
		return 1;
	aead_key_init(a.e, k, algo, key, auth, aead_auth_key_len(algo));
	for (int q = 0; q < BURST; q++) {
		bool cbc = aead_iv_len(algo) == 16;

		/* same shape as dpdk-test-crypto-perf: the whole buffer is ciphered,
		 * CBC+HMAC authenticates it, GCM adds 16 B of AAD */
		a.ops[q] = (struct aead_op){ .key = k, .buf = buf[q], .cipher_len = bytes,
					     .auth_len = cbc ? bytes : 0, .iv = iv,
					     .aad = cbc ? NULL : aad, .aad_len = cbc ? 0 : 16,
					     .tag = tag[q] };
	}
	double r = measure(aead_once, &a, (double)BURST * bytes);

	printf("{\"kind\":\"aead\",\"algo\":\"%s\",\"bytes\":%u,\"arch\":\"%s\",\"bytes_per_s\":%.0f}\n",
	       algo_name, bytes, aead_engine_arch(a.e), r);
	aead_engine_free(a.e);
	aead_key_free(k);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "arc4") == 0)
		return bench_arc4((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]),
				  argc > 4 ? argv[4] : NULL);
	if (argc >= 5 && strcmp(argv[1], "mppe") == 0)
		return bench_mppe(strcmp(argv[2], "stateless") == 0, (unsigned)atoi(argv[3]),
				  (unsigned)atoi(argv[4]));
	if (argc >= 3 && strcmp(argv[1], "mppe-openssl") == 0)
		return bench_mppe_openssl((unsigned)atoi(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "aead") == 0)
		return bench_aead(argv[2], (unsigned)atoi(argv[3]));
	fprintf(stderr, "usage: see the comment at the top of bench_crypto.c\n");
	return 2;
}
