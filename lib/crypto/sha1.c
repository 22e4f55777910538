/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SHA-1 for the MPPE key change (RFC 3078 7.3), which stateless mode runs
 * once per packet: two 64-byte blocks for a 128-bit key.
 *
 * Two implementations, picked once:
 *  - "shani": the x86 SHA extensions (sha1rnds4 / sha1nexte / sha1msg1 /
 *    sha1msg2): 112 bytes in 79 ns against 188 ns for sha1_avx2 on this
 *    EPYC; used when CPUID says the CPU has them;
 *  - "ipsec-mb": intel-ipsec-mb's one-shot sha1_avx2 / sha1_sse, for CPUs
 *    without SHA-NI.
 */
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHANI_BUILD 1
#endif

#define NO_COMPAT_IMB_API_053
#include <intel-ipsec-mb.h>

#include "mppe_impl.h"

typedef void (*sha1_fn)(const void *data, size_t len, uint8_t digest[20]);

static void
sha1_ipsec_mb(const void *data, size_t len, uint8_t digest[20])
{
	if (__builtin_cpu_supports("avx2"))
		sha1_avx2(data, len, digest);
	else
		sha1_sse(data, len, digest);
}

#ifdef HAVE_SHANI_BUILD
#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* Four rounds of group g (g = 0..19) with message quad w; prev is ABCD from
 * before the previous group, whose A (rotated) becomes this group's E. */
#define QROUND(g, w) do {							\
	e = _mm_sha1nexte_epu32(prev, w);					\
	prev = abcd;								\
	abcd = _mm_sha1rnds4_epu32(abcd, e, (g) / 5);				\
} while (0)
/* next message quad from the four before it: W[t-16] ^ W[t-14] (msg1),
 * ^ W[t-8] (xor), ^ W[t-3] and rotate (msg2) */
#define MSG(a, b, c, d) _mm_sha1msg2_epu32(_mm_xor_si128(_mm_sha1msg1_epu32(a, b), c), d)

static SHANI_TARGET void
shani_blocks(__m128i *state_abcd, __m128i *state_e, const uint8_t *p, size_t nblocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
	__m128i abcd = *state_abcd, e0 = *state_e;

	for (; nblocks > 0; nblocks--, p += 64) {
		__m128i abcd_in = abcd, e_in = e0, e, prev;
		__m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const void *)(p + 0)), bswap);
		__m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const void *)(p + 16)), bswap);
		__m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const void *)(p + 32)), bswap);
		__m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const void *)(p + 48)), bswap);

		/* group 0: E is the real E, no rotation */
		e = _mm_add_epi32(e0, w0);
		prev = abcd;
		abcd = _mm_sha1rnds4_epu32(abcd, e, 0);
		QROUND(1, w1);
		QROUND(2, w2);
		QROUND(3, w3);
		/* groups 4..19: the schedule in a 4-quad window */
		w0 = MSG(w0, w1, w2, w3); QROUND(4, w0);
		w1 = MSG(w1, w2, w3, w0); QROUND(5, w1);
		w2 = MSG(w2, w3, w0, w1); QROUND(6, w2);
		w3 = MSG(w3, w0, w1, w2); QROUND(7, w3);
		w0 = MSG(w0, w1, w2, w3); QROUND(8, w0);
		w1 = MSG(w1, w2, w3, w0); QROUND(9, w1);
		w2 = MSG(w2, w3, w0, w1); QROUND(10, w2);
		w3 = MSG(w3, w0, w1, w2); QROUND(11, w3);
		w0 = MSG(w0, w1, w2, w3); QROUND(12, w0);
		w1 = MSG(w1, w2, w3, w0); QROUND(13, w1);
		w2 = MSG(w2, w3, w0, w1); QROUND(14, w2);
		w3 = MSG(w3, w0, w1, w2); QROUND(15, w3);
		w0 = MSG(w0, w1, w2, w3); QROUND(16, w0);
		w1 = MSG(w1, w2, w3, w0); QROUND(17, w1);
		w2 = MSG(w2, w3, w0, w1); QROUND(18, w2);
		w3 = MSG(w3, w0, w1, w2); QROUND(19, w3);
		/* E of the result: rotated A from before group 19, plus E in */
		e0 = _mm_sha1nexte_epu32(prev, e_in);
		abcd = _mm_add_epi32(abcd, abcd_in);
	}
	*state_abcd = abcd;
	*state_e = e0;
}

static SHANI_TARGET void
sha1_shani(const void *data, size_t len, uint8_t digest[20])
{
	/* A in the top lane, as sha1rnds4 wants it; E in the top lane of e */
	__m128i abcd = _mm_set_epi32(0x67452301, (int)0xefcdab89, (int)0x98badcfe, 0x10325476);
	__m128i e = _mm_set_epi32((int)0xc3d2e1f0, 0, 0, 0);
	const uint8_t *p = data;
	size_t full = len / 64;
	uint8_t last[128];
	size_t rem = len - full * 64, nlast = rem < 56 ? 1 : 2;
	uint64_t bits = (uint64_t)len * 8;
	uint32_t out[5];

	shani_blocks(&abcd, &e, p, full);
	memset(last, 0, sizeof(last));
	memcpy(last, p + full * 64, rem);
	last[rem] = 0x80;
	for (int b = 0; b < 8; b++)
		last[nlast * 64 - 1 - b] = (uint8_t)(bits >> (8 * b));
	shani_blocks(&abcd, &e, last, nlast);

	out[0] = (uint32_t)_mm_extract_epi32(abcd, 3);
	out[1] = (uint32_t)_mm_extract_epi32(abcd, 2);
	out[2] = (uint32_t)_mm_extract_epi32(abcd, 1);
	out[3] = (uint32_t)_mm_extract_epi32(abcd, 0);
	out[4] = (uint32_t)_mm_extract_epi32(e, 3);
	for (int w = 0; w < 5; w++) {
		uint32_t be = __builtin_bswap32(out[w]);

		memcpy(digest + 4 * w, &be, 4);
	}
}

static int
cpu_has_shani(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b & bit_SHA) != 0;
}
#endif

struct sha1_impl {
	const char *name;
	sha1_fn fn;
};

static const struct sha1_impl impls[] = {
#ifdef HAVE_SHANI_BUILD
	{ "shani", sha1_shani },
#endif
	{ "ipsec-mb", sha1_ipsec_mb },
};
#define N_IMPLS (sizeof(impls) / sizeof(impls[0]))

static const struct sha1_impl *current;

static const struct sha1_impl *
best(void)
{
#ifdef HAVE_SHANI_BUILD
	if (cpu_has_shani())
		return &impls[0];
#endif
	return &impls[N_IMPLS - 1];
}

void
mppe_sha1(const void *data, size_t len, uint8_t digest[20])
{
	if (__builtin_expect(current == NULL, 0))
		current = best();
	current->fn(data, len, digest);
}

int
mppe_sha1_select(const char *name)
{
	if (name == NULL) {
		current = best();
		return 0;
	}
	for (unsigned k = 0; k < N_IMPLS; k++)
		if (strcmp(impls[k].name, name) == 0) {
#ifdef HAVE_SHANI_BUILD
			if (impls[k].fn == sha1_shani && !cpu_has_shani())
				return -1;
#endif
			current = &impls[k];
			return 0;
		}
	return -1;
}

const char *
mppe_sha1_selected(void)
{
	if (current == NULL)
		current = best();
	return current->name;
}
