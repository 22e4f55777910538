/* SPDX-License-Identifier: BSD-3-Clause */
/* Minimal test harness for the crypto unit tests: count failures, say where. */
#ifndef DPVPN_TEST_CHECK_H
#define DPVPN_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond) do {							\
	if (!(cond)) {								\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		check_failures++;						\
	}									\
} while (0)

#define CHECK_MEM(a, b, n, what) do {						\
	if (memcmp((a), (b), (n)) != 0) {					\
		fprintf(stderr, "%s:%d: %s differs\n", __FILE__, __LINE__, (what)); \
		check_failures++;						\
	}									\
} while (0)

static inline int
check_done(const char *name)
{
	if (check_failures) {
		fprintf(stderr, "%s: %d failure(s)\n", name, check_failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

/* xorshift64*: reproducible random data without libc's rand() state */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static inline uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static inline void
rng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

static inline void
hex_to_bytes(const char *hex, uint8_t *out)
{
	for (size_t i = 0; hex[2 * i] && hex[2 * i + 1]; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

#endif
