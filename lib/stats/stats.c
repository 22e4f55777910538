/* SPDX-License-Identifier: BSD-3-Clause */
#include "stats.h"

static const char *const drop_names[DROP_MAX] = {
#define DPVPN_DROP_NAME(e, n, d) [DROP_##e] = n,
	DPVPN_DROP_REASONS(DPVPN_DROP_NAME)
#undef DPVPN_DROP_NAME
};

static const char *const drop_meanings[DROP_MAX] = {
#define DPVPN_DROP_MEANING(e, n, d) [DROP_##e] = d,
	DPVPN_DROP_REASONS(DPVPN_DROP_MEANING)
#undef DPVPN_DROP_MEANING
};

const char *
stats_drop_name(enum drop_reason r)
{
	return (unsigned)r < DROP_MAX ? drop_names[r] : "unknown";
}

const char *
stats_drop_meaning(enum drop_reason r)
{
	return (unsigned)r < DROP_MAX ? drop_meanings[r] : "unknown";
}
