/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CoDel (RFC 8289): per-queue state and the control law.
 *
 * A queue is fine while packets leave it within the target delay. Once every
 * packet has waited longer than target for a whole interval, CoDel drops (or
 * ECN-marks) one and schedules the next drop at interval / sqrt(count) later,
 * so the drop rate rises slowly until the sender backs off. fq_codel.c runs
 * the dequeue state machine; this file holds what it needs per flow.
 */
#ifndef DPVPN_CODEL_H
#define DPVPN_CODEL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

struct codel_vars {
	uint64_t first_above_time; /* when sojourn times above target became actionable; 0: below */
	uint64_t drop_next;        /* when the next drop is due while dropping */
	uint32_t count;            /* drops (and marks) since entering the dropping state */
	uint32_t lastcount;        /* count when the dropping state was last left */
	bool dropping;
};

/* The control law: the next drop time after t for the count-th drop of a dropping spell. */
static inline uint64_t
codel_control_law(uint64_t t, uint64_t interval, uint32_t count)
{
	/* Drops are rare next to packets: a libm square root costs nothing here. */
	return t + (uint64_t)((double)interval / sqrt((double)count));
}

#endif
