/* SPDX-License-Identifier: BSD-3-Clause */
/* The C benchmarks' clock and median helpers (perf/crypto, perf/openvpn). */
#ifndef DPVPN_BENCH_TIME_H
#define DPVPN_BENCH_TIME_H

#include <time.h>

/* Seconds on the monotonic clock. */
static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* qsort comparator of doubles (for medians). */
static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#endif
