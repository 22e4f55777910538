/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to lib/crypto: the one RC4 step every fast loop is built from. */
#ifndef DPVPN_ARC4_IMPL_H
#define DPVPN_ARC4_IMPL_H

#include <stdint.h>

extern const uint8_t arc4_identity[256];

/* i and j live in unsigned registers masked to 8 bits: the compiler then
 * uses them as indexes without re-extending them each step. */
static inline __attribute__((always_inline)) uint8_t
arc4_step(uint8_t *s, unsigned *i, unsigned *j)
{
	unsigned x, y;

	*i = (*i + 1) & 255;
	x = s[*i];
	*j = (*j + x) & 255;
	y = s[*j];
	s[*i] = (uint8_t)y;
	s[*j] = (uint8_t)x;
	return s[(x + y) & 255];
}

#endif
