/* SPDX-License-Identifier: BSD-3-Clause */
#include <time.h>

#include "clock.h"

struct clock_state clock_state = { .hz = 1000000000ULL };

static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
clock_init(uint64_t hz)
{
	if (hz == 0) {
		/* 20 ms against the monotonic clock: within 0.1 % on an invariant TSC. */
		uint64_t t0 = monotonic_ns(), c0 = rte_rdtsc();
		uint64_t t1, c1;

		do {
			t1 = monotonic_ns();
		} while (t1 - t0 < 20000000ULL);
		c1 = rte_rdtsc();
		hz = (c1 - c0) * 1000000000ULL / (t1 - t0);
	}
	clock_state.hz = hz;
	clock_state.fake = false;
}

void
clock_use_fake(uint64_t hz, uint64_t start)
{
	clock_state.hz = hz;
	clock_state.fake_now = start;
	clock_state.fake = true;
}

void
clock_fake_advance(uint64_t ticks)
{
	__atomic_fetch_add(&clock_state.fake_now, ticks, __ATOMIC_RELAXED);
}

uint64_t
clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
