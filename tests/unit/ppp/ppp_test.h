/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the lib/ppp unit tests, on top of tests/unit/common/check.h. */
#ifndef DPVPN_PPP_TEST_H
#define DPVPN_PPP_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static inline void
dump_hex(const char *what, const void *p, size_t n)
{
	fprintf(stderr, "    %s:", what);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", ((const uint8_t *)p)[i]);
	fprintf(stderr, "\n");
}

/* Byte-for-byte equality; on failure prints both sides. */
#define CHECK_MEM(a, b, n)                                                           \
	do {                                                                         \
		const void *a_ = (a), *b_ = (b);                                     \
		size_t n_ = (n);                                                     \
		if (memcmp(a_, b_, n_) == 0) {                                       \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%zu bytes)\n", \
				__FILE__, __LINE__, #a, #b, n_);                     \
			dump_hex("got ", a_, n_);                                    \
			dump_hex("want", b_, n_);                                    \
		}                                                                    \
	} while (0)

#define CHECK_STR(a, b)                                                              \
	do {                                                                         \
		const char *a_ = (a), *b_ = (b);                                     \
		if (a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0) {               \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", \
				__FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",      \
				b_ ? b_ : "(null)");                                 \
		}                                                                    \
	} while (0)

/* Hex digits (spaces allowed) to bytes; returns the byte count. */
static inline size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

#endif
