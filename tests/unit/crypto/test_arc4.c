/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARC4: every variant against RFC 6229 and against OpenSSL's RC4, with
 * bursts of mixed lengths (0 and 1 byte included), jobs sharing a state
 * inside one burst, bursts longer than the engine's chunk, and the
 * interleaved key schedule.
 */
#include <stdbool.h>

#include "arc4.h"
#include "check.h"
#include "ossl.h"

/* RFC 6229 section 2: keystream at offsets 0, 240 and 4080, 32 bytes each. */
struct rfc6229 {
	unsigned keylen;
	const char *ks[3];
};
static const unsigned rfc6229_off[3] = { 0, 240, 4080 };
static const struct rfc6229 rfc6229[] = {
	{ 5, { "b2396305f03dc027ccc3524a0a1118a86982944f18fc82d589c403a47a0d0919",
	       "28cb1132c96ce286421dcaadb8b69eae1cfcf62b03eddb641d77dfcf7f8d8c93",
	       "068326a2118416d21f9d04b2cd1ca050ff25b58995996707e51fbdf08b34d875" } },
	{ 16, { "9ac7cc9a609d1ef7b2932899cde41b975248c4959014126a6e8a84f11d1a9e1c",
		"065902e4b620f6cc36c8589f66432f2bd39d566bc6bce3010768151549f3873f",
		"ff38265c1642c1abe8d3c2fe5e572bf8a36a4c301ae8ac13610ccbc12256cacc" } },
};

/* Keystream through a variant: the stream is cut into pieces of random
 * size that all sit in one burst on the same state, so the order rule of
 * the scheduler is tested too. */
static void
keystream_variant(const struct arc4_variant *v, const uint8_t *key, unsigned keylen,
		  uint8_t *out, unsigned len)
{
	struct arc4_state st;
	struct arc4_job jobs[64];
	unsigned n = 0, off = 0;

	arc4_set_key(&st, key, keylen);
	memset(out, 0, len);
	while (off < len && n < 63) {
		unsigned piece = (unsigned)(rng() % 400);

		if (piece > len - off)
			piece = len - off;
		jobs[n++] = (struct arc4_job){ &st, out + off, out + off, piece };
		off += piece;
	}
	jobs[n++] = (struct arc4_job){ &st, out + off, out + off, len - off };
	v->burst(jobs, n);
}

static void
test_rfc6229(void)
{
	static uint8_t ks[4112];
	uint8_t key[16], want[32];

	for (unsigned k = 0; k < 16; k++)
		key[k] = (uint8_t)(k + 1);
	for (size_t t = 0; t < sizeof(rfc6229) / sizeof(rfc6229[0]); t++) {
		for (unsigned v = 0; v < arc4_variant_count(); v++) {
			keystream_variant(arc4_variant_get(v), key, rfc6229[t].keylen, ks, sizeof(ks));
			for (int o = 0; o < 3; o++) {
				hex_to_bytes(rfc6229[t].ks[o], want);
				if (memcmp(ks + rfc6229_off[o], want, 32) != 0) {
					fprintf(stderr, "RFC 6229 key %u B offset %u variant %s\n",
						rfc6229[t].keylen, rfc6229_off[o],
						arc4_variant_get(v)->name);
					check_failures++;
				}
			}
		}
		/* and the single-stream entry points directly */
		struct arc4_state st;

		memset(ks, 0, sizeof(ks));
		arc4_set_key(&st, key, rfc6229[t].keylen);
		arc4_crypt(&st, ks, ks, 7);          /* odd split: tail then words */
		arc4_crypt(&st, ks + 7, ks + 7, sizeof(ks) - 7);
		hex_to_bytes(rfc6229[t].ks[2], want);
		CHECK_MEM(ks + 4080, want, 32, "arc4_crypt at 4080");
	}
}

#define STREAMS 40

/* Many streams, several bursts in a row, random lengths with 0 and 1 byte,
 * random key lengths 1..256: every variant must match OpenSSL byte for byte. */
static void
test_vs_openssl(void)
{
	static uint8_t in[STREAMS][3000], out[STREAMS][3000], ref[STREAMS][3000];

	for (unsigned v = 0; v < arc4_variant_count(); v++) {
		const struct arc4_variant *var = arc4_variant_get(v);
		struct arc4_state st[STREAMS];
		EVP_CIPHER_CTX *oc[STREAMS];

		for (int s = 0; s < STREAMS; s++) {
			uint8_t key[256];
			unsigned keylen = 1 + (unsigned)(rng() % 256);

			rng_fill(key, keylen);
			CHECK(arc4_set_key(&st[s], key, keylen) == 0);
			oc[s] = ossl_rc4_new(key, (int)keylen);
		}
		for (int round = 0; round < 12; round++) {
			struct arc4_job jobs[STREAMS];
			unsigned n = 0;

			for (int s = 0; s < STREAMS; s++) {
				unsigned len;

				switch (rng() % 6) {
				case 0: len = 0; break;
				case 1: len = 1; break;
				case 2: len = (unsigned)(rng() % 16); break;
				case 3: len = 1400; break;
				default: len = (unsigned)(rng() % 3000); break;
				}
				rng_fill(in[s], len);
				ossl_rc4_run(oc[s], in[s], ref[s], (int)len);
				/* odd rounds: out of place; even: in place */
				if (round & 1) {
					jobs[n++] = (struct arc4_job){ &st[s], in[s], out[s], len };
				} else {
					memcpy(out[s], in[s], len);
					jobs[n++] = (struct arc4_job){ &st[s], out[s], out[s], len };
				}
			}
			/* shuffle: the burst order is not the stream order */
			for (unsigned k = n - 1; k > 0; k--) {
				unsigned r = (unsigned)(rng() % (k + 1));
				struct arc4_job t = jobs[k];

				jobs[k] = jobs[r];
				jobs[r] = t;
			}
			var->burst(jobs, n);
			for (int s = 0; s < STREAMS; s++)
				for (unsigned k = 0; k < n; k++)
					if (jobs[k].st == &st[s] &&
					    memcmp(jobs[k].out, ref[s], jobs[k].len) != 0) {
						fprintf(stderr, "variant %s stream %d round %d len %u\n",
							var->name, s, round, jobs[k].len);
						check_failures++;
					}
		}
		for (int s = 0; s < STREAMS; s++) {
			CHECK(st[s].busy == 0);
			EVP_CIPHER_CTX_free(oc[s]);
		}
	}
}

/* A burst of 150 jobs over 5 states: chunking plus long same-state chains. */
static void
test_long_burst_shared_states(void)
{
	static uint8_t buf[150][300], ref[150][300];
	struct arc4_state st[5];
	EVP_CIPHER_CTX *oc[5];
	struct arc4_job jobs[150];

	for (int s = 0; s < 5; s++) {
		uint8_t key[16];

		rng_fill(key, sizeof(key));
		arc4_set_key(&st[s], key, sizeof(key));
		oc[s] = ossl_rc4_new(key, sizeof(key));
	}
	for (int k = 0; k < 150; k++) {
		int s = (int)(rng() % 5);
		unsigned len = (unsigned)(rng() % 300);

		rng_fill(buf[k], len);
		ossl_rc4_run(oc[s], buf[k], ref[k], (int)len);
		jobs[k] = (struct arc4_job){ &st[s], buf[k], buf[k], len };
	}
	arc4_crypt_burst(jobs, 150);
	for (int k = 0; k < 150; k++)
		CHECK_MEM(buf[k], ref[k], jobs[k].len, "long burst job");
	for (int s = 0; s < 5; s++)
		EVP_CIPHER_CTX_free(oc[s]);
}

static void
test_key_burst(void)
{
	struct arc4_state a[11], b[11];
	struct arc4_key_job kj[13];
	uint8_t keys[13][32];

	for (int k = 0; k < 13; k++) {
		unsigned len = 1 + (unsigned)(rng() % 32);

		rng_fill(keys[k], sizeof(keys[k]));
		/* jobs 11 and 12 re-key states 2 and 7: the later key must win */
		kj[k] = (struct arc4_key_job){ &a[k < 11 ? k : (k == 11 ? 2 : 7)], keys[k], len };
	}
	kj[5].keylen = 0;      /* refused, state 5 untouched */
	memset(&a[5], 0xab, sizeof(a[5]));
	CHECK(arc4_set_key_burst(kj, 13) == 1);
	for (int k = 0; k < 11; k++) {
		if (k == 5 || k == 2 || k == 7)
			continue;
		arc4_set_key(&b[k], keys[k], kj[k].keylen);
		CHECK_MEM(a[k].s, b[k].s, 256, "key burst permutation");
		CHECK(a[k].i == 0 && a[k].j == 0);
	}
	arc4_set_key(&b[2], keys[11], kj[11].keylen);
	arc4_set_key(&b[7], keys[12], kj[12].keylen);
	CHECK_MEM(a[2].s, b[2].s, 256, "later key wins (2)");
	CHECK_MEM(a[7].s, b[7].s, 256, "later key wins (7)");
	CHECK(a[5].s[0] == 0xab);
}

/* Every burst size 1..20 (8-lane, 4-lane and single key schedules, and
 * their mixes) with key lengths 1..256: the same permutation as the
 * single key schedule. */
static void
test_key_burst_sizes(void)
{
	static struct arc4_state a[20], b[20];
	static uint8_t keys[20][256];
	struct arc4_key_job kj[20];

	for (unsigned n = 1; n <= 20; n++) {
		for (unsigned k = 0; k < n; k++) {
			unsigned len = k == 0 ? 256 : 1 + (unsigned)(rng() % 256);

			rng_fill(keys[k], len);
			kj[k] = (struct arc4_key_job){ &a[k], keys[k], len };
			arc4_set_key(&b[k], keys[k], len);
		}
		CHECK(arc4_set_key_burst(kj, n) == 0);
		for (unsigned k = 0; k < n; k++) {
			CHECK_MEM(a[k].s, b[k].s, 256, "key burst sizes: permutation");
			CHECK(a[k].i == 0 && a[k].j == 0);
		}
	}
}

static void
test_bad_input(void)
{
	struct arc4_state st;
	uint8_t key[300] = { 0 };

	memset(&st, 0x5a, sizeof(st));
	CHECK(arc4_set_key(&st, key, 0) == -1);
	CHECK(arc4_set_key(&st, key, 257) == -1);
	CHECK(arc4_set_key(&st, NULL, 16) == -1);
	CHECK(st.s[0] == 0x5a);
	CHECK(arc4_set_key(&st, key, 256) == 0);
	arc4_crypt_burst(NULL, 0);
	CHECK(arc4_select("no-such-variant") == -1);
	CHECK(arc4_select(NULL) == 0);
	CHECK(strcmp(arc4_selected(), "ref") != 0);
	CHECK(arc4_variant_get(arc4_variant_count()) == NULL);
	printf("selected variant: %s\n", arc4_selected());
}

int
main(void)
{
	ossl_init();
	test_rfc6229();
	test_vs_openssl();
	test_long_burst_shared_states();
	test_key_burst();
	test_key_burst_sizes();
	test_bad_input();
	return check_done("test_arc4");
}
