/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-tunnel shaper in front of fq_codel: a token bucket kept as a
 * virtual clock. Each packet moves "next" forward by the time its bytes take
 * on the client's line (its length plus the line's framing overhead at the
 * configured rate); a packet may leave when next is not in the future.
 * "next" may lag behind now by at most the burst allowance, so an idle tunnel
 * saves up at most one burst.
 */
#ifndef DPVPN_SHAPER_H
#define DPVPN_SHAPER_H

#include <stdbool.h>
#include <stdint.h>

#define SHAPER_FRAC_BITS 20 /* fixed-point fraction of ticks per byte */

struct shaper {
	uint64_t next;             /* clock ticks: when the next packet may leave */
	uint64_t burst_ticks;      /* how far next may lag behind now */
	uint64_t ticks_per_byte;   /* fixed point, SHAPER_FRAC_BITS of fraction */
	uint64_t rate_bps;         /* configured rate, bits per second; 0: unshaped */
	uint32_t overhead;         /* bytes the line adds per packet */
};

/* Line time of len bytes plus the per-packet overhead, in ticks. */
static inline uint64_t
shaper_cost(const struct shaper *s, uint32_t len)
{
	return ((uint64_t)(len + s->overhead) * s->ticks_per_byte) >> SHAPER_FRAC_BITS;
}

/*
 * burst in bytes (at least one packet's worth); hz: clock ticks per second.
 * rate_bps 0: unshaped, always ready (a queue held back only by the peer's
 * flow control, see tunnel_ops.tx_open).
 */
static inline void
shaper_init(struct shaper *s, uint64_t rate_bps, uint32_t burst, uint32_t overhead, uint64_t hz)
{
	s->rate_bps = rate_bps;
	s->overhead = overhead;
	s->ticks_per_byte = rate_bps ? (uint64_t)(((unsigned __int128)hz * 8 << SHAPER_FRAC_BITS) / rate_bps) : 0;
	s->burst_ticks = shaper_cost(s, burst) - shaper_cost(s, 0);
	s->next = 0;
}

static inline bool
shaper_ready(const struct shaper *s, uint64_t now)
{
	return s->next <= now;
}

/* Accounts a packet of len bytes sent at time now. */
static inline void
shaper_charge(struct shaper *s, uint64_t now, uint32_t len)
{
	uint64_t floor = now > s->burst_ticks ? now - s->burst_ticks : 0;

	if (s->next < floor)
		s->next = floor;
	s->next += shaper_cost(s, len);
}

#endif
