/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARC4 single stream: the key schedule, the reference loop and the fast loop.
 * The multi-stream engine lives in arc4_burst.c.
 */
#include <string.h>
#include <immintrin.h>

#include "arc4.h"
#include "arc4_impl.h"

const uint8_t arc4_identity[256] __attribute__((aligned(64))) = {
#define R16(b) b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, \
	b + 8, b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 15
	R16(0), R16(16), R16(32), R16(48), R16(64), R16(80), R16(96), R16(112),
	R16(128), R16(144), R16(160), R16(176), R16(192), R16(208), R16(224), R16(240)
#undef R16
};

int
arc4_set_key(struct arc4_state *st, const uint8_t *key, size_t keylen)
{
	uint8_t *s = st->s;
	unsigned j = 0;

	if (keylen == 0 || keylen > ARC4_KEY_MAX || key == NULL)
		return -1;
	memcpy(s, arc4_identity, 256);
	for (unsigned i = 0, k = 0; i < 256; i++) {
		uint8_t x = s[i];

		j = (j + x + key[k]) & 255;
		s[i] = s[j];
		s[j] = x;
		/* a compare beats i % keylen: the division would sit on the chain */
		if (++k == keylen)
			k = 0;
	}
	st->i = 0;
	st->j = 0;
	st->busy = 0;
	return 0;
}

void
arc4_crypt_ref(struct arc4_state *st, const uint8_t *in, uint8_t *out, size_t len)
{
	uint8_t *s = st->s;
	uint8_t i = st->i, j = st->j;

	for (size_t n = 0; n < len; n++) {
		uint8_t x, y;

		i = (uint8_t)(i + 1);
		x = s[i];
		j = (uint8_t)(j + x);
		y = s[j];
		s[i] = y;
		s[j] = x;
		out[n] = in[n] ^ s[(uint8_t)(x + y)];
	}
	st->i = i;
	st->j = j;
}

/* The single stream is latency-bound: step n + 1 needs S[i + 1], which the
 * swap of step n may just have written. Like OpenSSL's x86_64 RC4, load
 * S[i + 1] before the swap stores and fix it up with a conditional move
 * when j == i + 1 (the swap then moved x there), so that load never waits
 * for a store; the loop-carried chain shrinks to add -> cmp -> cmov.
 * Two register sets (i, x) / (n, xn) alternate between even and odd
 * steps, so no moves are needed; the keystream is collected in a vector
 * register as in the burst engine. (I, X) = current index, S[I]. */
#ifdef __AVX__
#define LA_PINSRB(B, X) "vpinsrb $" #B ", (%[s],%[" X "]), %[v], %[v]\n\t"
#else
#define LA_PINSRB(B, X) "pinsrb $" #B ", (%[s],%[" X "]), %[v]\n\t"   /* SSE4.1 */
#endif
#define LA_STEP(B, I, X, N, XN)						\
	"addb %b[" X "], %b[j]\n\t"						\
	"movl %k[" I "], %k[" N "]\n\t"						\
	"incb %b[" N "]\n\t"							\
	"movzbl (%[s],%[" N "]), %k[" XN "]\n\t"				\
	"movzbl (%[s],%[j]), %k[y]\n\t"						\
	"movb %b[y], (%[s],%[" I "])\n\t"					\
	"movb %b[" X "], (%[s],%[j])\n\t"					\
	"cmpb %b[j], %b[" N "]\n\t"						\
	"cmove %k[" X "], %k[" XN "]\n\t"					\
	"addb %b[y], %b[" X "]\n\t"						\
	LA_PINSRB(B, X)
#define LA_PAIR(B0, B1) LA_STEP(B0, "i", "x", "n", "xn") LA_STEP(B1, "n", "xn", "i", "x")

void
arc4_crypt(struct arc4_state *st, const uint8_t *in, uint8_t *out, size_t len)
{
	uint8_t *s = st->s;
	size_t n = 0;

	if (len >= 16) {
		uint64_t i = (uint8_t)(st->i + 1), j = st->j, x = s[i], n_, xn_, y_;

		for (; n + 16 <= len; n += 16) {
			__m128i v;

			__asm__ volatile(LA_PAIR(0, 1) LA_PAIR(2, 3) LA_PAIR(4, 5) LA_PAIR(6, 7)
					 LA_PAIR(8, 9) LA_PAIR(10, 11) LA_PAIR(12, 13)
					 LA_PAIR(14, 15)
					 : [i] "+r"(i), [j] "+r"(j), [x] "+r"(x), [n] "=&r"(n_),
					   [xn] "=&r"(xn_), [y] "=&r"(y_), [v] "=&x"(v)
					 : [s] "r"(s)
					 : "memory", "cc");
			__m128i d = _mm_loadu_si128((const void *)(in + n));

			_mm_storeu_si128((void *)(out + n), _mm_xor_si128(d, v));
		}
		st->i = (uint8_t)(i - 1);
		st->j = (uint8_t)j;
	}
	if (n < len) {
		unsigned i = st->i, j = st->j;

		for (; n < len; n++)
			out[n] = in[n] ^ arc4_step(s, &i, &j);
		st->i = (uint8_t)i;
		st->j = (uint8_t)j;
	}
}
