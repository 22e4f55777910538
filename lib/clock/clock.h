/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one clock of dpvpn: TSC ticks on the data path, replaceable by tests.
 *
 * Every timeout (ARP expiry, reorder hold time, CoDel intervals, PPTP timers)
 * reads clock_now(). Tests call clock_use_fake() and move time with
 * clock_fake_advance(), so expiry is tested without sleeping.
 */
#ifndef DPVPN_CLOCK_H
#define DPVPN_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_cycles.h>

struct clock_state {
	uint64_t hz;      /* ticks per second */
	uint64_t fake_now;
	bool fake;
};

extern struct clock_state clock_state;

/* Set the tick rate: hz = 0 measures the TSC against CLOCK_MONOTONIC
 * (works without EAL); EAL users pass rte_get_tsc_hz(). */
void clock_init(uint64_t hz);

/*
 * Control-plane time in milliseconds (CLOCK_MONOTONIC): the control threads'
 * timers and ages. Not the TSC, and not faked by clock_use_fake.
 */
uint64_t clock_monotonic_ms(void);

/* Tests: freeze time at start ticks; clock_now() then only moves on advance. */
void clock_use_fake(uint64_t hz, uint64_t start);
void clock_fake_advance(uint64_t ticks);

static inline uint64_t
clock_now(void)
{
	if (__builtin_expect(clock_state.fake, 0))
		return __atomic_load_n(&clock_state.fake_now, __ATOMIC_RELAXED);
	return rte_rdtsc();
}

static inline uint64_t
clock_hz(void)
{
	return clock_state.hz;
}

static inline uint64_t
clock_ms_to_ticks(uint64_t ms)
{
	return clock_state.hz / 1000 * ms;
}

static inline uint64_t
clock_us_to_ticks(uint64_t us)
{
	return clock_state.hz / 1000000 * us;
}

static inline uint64_t
clock_ticks_to_us(uint64_t ticks)
{
	return ticks / (clock_state.hz / 1000000);
}

#endif
