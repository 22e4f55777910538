/* SPDX-License-Identifier: BSD-3-Clause */
/* The QoS keys: the same set in [dpvpn] (defaults) and in each [tunnel N]. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "qos.h"

void
qos_conf_default(struct qos_conf *c)
{
	*c = (struct qos_conf){
		.rate_bps = 0,
		.burst = 0,
		.overhead = 0,
		.fifo = false,
		.flows = 1024,
		.quantum = 1514,
		.limit = 1024,
		.memory = 4u << 20,
		.target_us = 5000,
		.interval_ms = 100,
		.ecn = true,
	};
}

int
qos_parse_rate(const char *s, uint64_t *bps)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
		{ "", 1 }, { "bit", 1 }, { "k", 1e3 }, { "kbit", 1e3 }, { "m", 1e6 }, { "mbit", 1e6 },
		{ "g", 1e9 }, { "gbit", 1e9 },
	};
	char *end;
	double v;

	if (strcasecmp(s, "off") == 0) {
		*bps = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || !isfinite(v))
		return -1;
	for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(end, units[i].suffix) == 0) {
			v *= units[i].mult;
			if (v > 1e12 || (v > 0 && v < 8000))
				return -1;
			*bps = (uint64_t)v;
			return 0;
		}
	return -1;
}

int
qos_conf_parse(const struct tunnel_conf *c, const struct qos_conf *def, struct qos_conf *out)
{
	const char *v;
	uint64_t n;

	*out = *def;
	v = c->get(c, "shaper_rate");
	if (v != NULL && qos_parse_rate(v, &out->rate_bps) < 0)
		return c->error(c, "shaper_rate", "'%s' is not a rate between 8kbit and 1000gbit "
				"(e.g. 20mbit, 1.5gbit, or off)", v);
	v = c->get(c, "qos");
	if (v != NULL) {
		if (strcmp(v, "fq_codel") != 0 && strcmp(v, "fifo") != 0)
			return c->error(c, "qos", "'%s' is not fq_codel or fifo", v);
		out->fifo = strcmp(v, "fifo") == 0;
	}
#define QOS_UINT(key, field, min, max)                                                   \
	do {                                                                             \
		if (tunnel_conf_uint(c, key, def->field, min, max, &n) < 0)              \
			return -1;                                                       \
		out->field = (uint32_t)n;                                                \
	} while (0)
	QOS_UINT("shaper_burst", burst, 0, 64u << 20);
	QOS_UINT("shaper_overhead", overhead, 0, 256);
	QOS_UINT("fq_codel_flows", flows, 1, 65536);
	QOS_UINT("fq_codel_quantum", quantum, 64, 65535);
	QOS_UINT("fq_codel_limit", limit, 16, 1u << 20);
	QOS_UINT("fq_codel_memory", memory, 65536, 1u << 30);
	QOS_UINT("fq_codel_target_us", target_us, 100, 1000000);
	QOS_UINT("fq_codel_interval_ms", interval_ms, 1, 10000);
#undef QOS_UINT
	if ((out->flows & (out->flows - 1)) != 0)
		return c->error(c, "fq_codel_flows", "%u is not a power of two", out->flows);
	if (out->target_us >= out->interval_ms * 1000ull)
		return c->error(c, "fq_codel_target_us", "must be below fq_codel_interval_ms");
	return tunnel_conf_bool(c, "fq_codel_ecn", def->ecn, &out->ecn);
}
