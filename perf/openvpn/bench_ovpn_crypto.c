/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto ceiling of the OpenVPN data channel: lib/crypto's AEAD engine (the
 * one dpvpn's workers use) on OpenVPN static-key packets laid out as on the
 * wire, without any packet I/O, tunnel lookup, window or mbuf work:
 *
 *   HMAC-SHA256 (32) | IV (16) | AES-256-CBC( packet-id | time | inner | pad )
 *
 * encrypt: CBC over 8 + inner + pad bytes, HMAC over IV + ciphertext;
 * decrypt: the same regions, HMAC checked before the (always run) decryption.
 *
 *   bench_ovpn_crypto <inner_bytes>...
 *
 * For every size, direction and burst (32: the engine fills its lanes across
 * packets, as a worker does; 1: one packet submitted and flushed at a time)
 * prints one JSON line with packets/s: the median of 5 runs of about 150 ms.
 * Packets rotate over 4 keys (4 tunnels) and 32 buffers either way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aead.h"
#include "bench_time.h"

#define RUNS 5
#define BUFS 32
#define KEYS 4
#define HMAC_LEN 32
#define BLOCK 16
#define HDR (HMAC_LEN + BLOCK)

struct bench {
	struct aead_engine *e;
	struct aead_op ops[BUFS];
	unsigned burst;
	int enc;
};

/* One pass over the 32 buffers in bursts of b->burst. */
static void
pass(struct bench *b)
{
	for (unsigned i = 0; i < BUFS; i += b->burst) {
		if (b->enc)
			aead_encrypt_burst(b->e, &b->ops[i], b->burst);
		else
			aead_decrypt_burst(b->e, &b->ops[i], b->burst);
	}
}

static double
measure(struct bench *b)
{
	double rate[RUNS];
	long passes = 1;

	for (;;) {   /* calibrate to about 150 ms per run */
		double t0 = bench_now();

		for (long c = 0; c < passes; c++)
			pass(b);
		if (bench_now() - t0 > 0.05)
			break;
		passes *= 2;
	}
	passes *= 3;
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now();

		for (long c = 0; c < passes; c++)
			pass(b);
		rate[r] = (double)passes * BUFS / (bench_now() - t0);
	}
	qsort(rate, RUNS, sizeof(rate[0]), bench_cmp_double);
	return rate[RUNS / 2];
}

int
main(int argc, char **argv)
{
	static uint8_t buf[BUFS][2048] __attribute__((aligned(64)));
	struct aead_key *keys[KEYS];
	struct bench b = { .e = aead_engine_create(NULL) };

	if (argc < 2 || b.e == NULL) {
		fprintf(stderr, "usage: bench_ovpn_crypto <inner_bytes>...  (or no engine)\n");
		return 2;
	}
	for (int k = 0; k < KEYS; k++) {
		uint8_t ck[32], hk[HMAC_LEN];

		for (int i = 0; i < 32; i++) {
			ck[i] = (uint8_t)(17 * k + i);
			hk[i] = (uint8_t)(101 * k + 3 * i);
		}
		keys[k] = aead_key_alloc();
		if (keys[k] == NULL ||
		    aead_key_init(b.e, keys[k], AEAD_AES256_CBC_HMAC_SHA256, ck, hk, HMAC_LEN) < 0)
			return 1;
	}
	for (int a = 1; a < argc; a++) {
		unsigned inner = (unsigned)atoi(argv[a]);
		unsigned plain = 8 + inner, ct = plain + (BLOCK - plain % BLOCK);

		if (inner < 20 || HDR + ct > sizeof(buf[0]))
			return 2;
		for (unsigned q = 0; q < BUFS; q++) {
			for (unsigned i = 0; i < HDR + ct; i++)
				buf[q][i] = (uint8_t)(q * 7 + i);
			memset(buf[q] + HDR + plain, (int)(ct - plain), ct - plain);
			b.ops[q] = (struct aead_op){
				.key = keys[q % KEYS], .buf = buf[q],
				.cipher_off = HDR, .cipher_len = ct,
				.auth_off = HMAC_LEN, .auth_len = BLOCK + ct,
				.iv = buf[q] + HMAC_LEN, .tag = buf[q],
			};
		}
		/* Round trip once: every decrypt must find its HMAC good and the pad back. */
		if (aead_encrypt_burst(b.e, b.ops, BUFS) != BUFS ||
		    aead_decrypt_burst(b.e, b.ops, BUFS) != BUFS)
			return 1;
		for (unsigned q = 0; q < BUFS; q++)
			if (buf[q][HDR + ct - 1] != ct - plain)
				return 1;
		for (int enc = 1; enc >= 0; enc--) {
			for (unsigned burst = BUFS; burst >= 1; burst = burst == BUFS ? 1 : 0) {
				b.enc = enc;
				b.burst = burst;
				/* Decrypting the same buffers again costs the same as good packets:
				 * the engine always runs HMAC and CBC and compares the tag after. */
				double r = measure(&b);

				printf("{\"direction\":\"%s\",\"inner_bytes\":%u,\"cipher_bytes\":%u,"
				       "\"burst\":%u,\"arch\":\"%s\",\"pkts_per_s\":%.0f}\n",
				       enc ? "encrypt" : "decrypt", inner, ct, burst, aead_engine_arch(b.e), r);
				fflush(stdout);
			}
		}
	}
	for (int k = 0; k < KEYS; k++)
		aead_key_free(keys[k]);
	aead_engine_free(b.e);
	return 0;
}
