/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "tunnel.h"

int
tunnel_conf_bool(const struct tunnel_conf *c, const char *key, bool def, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	const char *v = c->get(c, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	for (unsigned i = 0; i < RTE_DIM(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return c->error(c, key, "'%s' is not a boolean (use yes or no)", v);
}

int
tunnel_conf_uint(const struct tunnel_conf *c, const char *key, uint64_t def, uint64_t min,
		 uint64_t max, uint64_t *out)
{
	const char *v = c->get(c, key);
	unsigned long long n;
	char *end;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-')
		return c->error(c, key, "'%s' is not an unsigned integer", v);
	if (n < min || n > max)
		return c->error(c, key, "%llu is outside [%llu, %llu]", n,
				(unsigned long long)min, (unsigned long long)max);
	*out = n;
	return 0;
}

void
tunnel_from_template(struct tunnel *t, const struct tunnel *tpl)
{
	t->ttl = tpl->ttl;
	t->dscp = tpl->dscp;
	t->reorder_mode = tpl->reorder_mode;
	t->reorder_conf = tpl->reorder_conf;
	t->mss_clamp = tpl->mss_clamp;
	t->sequenced = true;
	t->source_check = true;
}

int
tunnel_conf_ipv4_list(const struct tunnel_conf *c, const char *key, rte_be32_t *out, unsigned max, unsigned *n)
{
	const char *v = c->get(c, key);
	char buf[256], *save = NULL, *item;

	*n = 0;
	if (v == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (item = strtok_r(buf, ", ", &save); item != NULL; item = strtok_r(NULL, ", ", &save)) {
		if (*n == max)
			return c->error(c, key, "at most %u addresses", max);
		if (pkt_parse_ipv4(item, &out[*n]) < 0)
			return c->error(c, key, "'%s' is not an IPv4 address", item);
		(*n)++;
	}
	return 0;
}
