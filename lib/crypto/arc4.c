/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARC4 single stream: the key schedule, the reference loop and the fast loop.
 * The multi-stream engine lives in arc4_burst.c.
 */
#include <string.h>

#include "arc4.h"
#include "arc4_impl.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the 8-byte keystream packing below assumes a little-endian CPU"
#endif

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

void
arc4_crypt(struct arc4_state *st, const uint8_t *in, uint8_t *out, size_t len)
{
	uint8_t *s = st->s;
	unsigned i = st->i, j = st->j;
	size_t n = 0;

	/* eight keystream bytes packed into one word: one load, XOR and store
	 * of data per eight steps instead of eight */
	for (; n + 8 <= len; n += 8) {
		uint64_t ks = 0, d;

#pragma GCC unroll 8
		for (unsigned b = 0; b < 8; b++)
			ks |= (uint64_t)arc4_step(s, &i, &j) << (8 * b);
		memcpy(&d, in + n, 8);
		d ^= ks;
		memcpy(out + n, &d, 8);
	}
	for (; n < len; n++)
		out[n] = in[n] ^ arc4_step(s, &i, &j);
	st->i = (uint8_t)i;
	st->j = (uint8_t)j;
}
