/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate-limited log lines for the control protocols (DESIGN.md: bad input is
 * logged, but a flood of it must not flood the log): at most LOG_LIMIT_PER_S
 * lines a second per limiter, to stdout, each "<prefix>: <message>".
 */
#ifndef DPVPN_LOG_LIMIT_H
#define DPVPN_LOG_LIMIT_H

#include <stdarg.h>
#include <stdint.h>

#define LOG_LIMIT_PER_S 20

struct log_limit {
	uint64_t second_ms;             /* when the current second began (clock_monotonic_ms) */
	unsigned left;                  /* lines still allowed in it */
};

void log_limited_v(struct log_limit *l, const char *prefix, const char *fmt, va_list ap);

#endif
