/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal test harness: CHECK records a failure with file and line and goes
 * on; check_summary prints "N passed, N failed" and gives the exit code.
 */
#ifndef DPVPN_CHECK_H
#define DPVPN_CHECK_H

#include <stdio.h>

static unsigned check_passed, check_failed;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (cond) {                                                          \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
		if (a_ == b_) {                                                      \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%llu != %llu)\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);                 \
		}                                                                    \
	} while (0)

static inline int
check_summary(const char *name)
{
	printf("%s: %u passed, %u failed\n", name, check_passed, check_failed);
	return check_failed == 0 ? 0 : 1;
}

#endif
