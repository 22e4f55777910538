/* SPDX-License-Identifier: BSD-3-Clause */
/* Rate-limited log lines (log_limit.h). */
#include <stdio.h>

#include "clock.h"
#include "log_limit.h"

void
log_limited_v(struct log_limit *l, const char *prefix, const char *fmt, va_list ap)
{
	uint64_t now = clock_monotonic_ms();

	if (now - l->second_ms >= 1000) {
		l->second_ms = now;
		l->left = LOG_LIMIT_PER_S;
	}
	if (l->left == 0)
		return;
	l->left--;
	printf("%s: ", prefix);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
}
