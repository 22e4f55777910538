/* SPDX-License-Identifier: BSD-3-Clause */
/* The [pptp] section's driver keys (docs/pptp.md); errors name FILE:LINE and the key. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pptp.h"

static int
parse_ip(const struct tunnel_conf *tc, const char *key, bool required, uint32_t *out)
{
	const char *v = tc->get(tc, key);

	if (v == NULL) {
		if (required)
			return tc->error(tc, key, "is missing");
		return 0;
	}
	if (pkt_parse_ipv4(v, out) < 0)
		return tc->error(tc, key, "'%s' is not an IPv4 address", v);
	return 0;
}

static int
parse_choice(const struct tunnel_conf *tc, const char *key, const char *const *names, unsigned n,
	     unsigned def, uint8_t *out)
{
	const char *v = tc->get(tc, key);

	*out = (uint8_t)def;
	if (v == NULL)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (uint8_t)i;
			return 0;
		}
	char all[128] = "";
	for (unsigned i = 0; i < n; i++)
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", i ? ", " : "", names[i]);
	return tc->error(tc, key, "'%s' is not one of: %s", v, all);
}

static int
parse_auth(const struct tunnel_conf *tc, struct ppp_conf *ppp)
{
	const char *v = tc->get(tc, "auth");
	char buf[128], *save = NULL, *item;

	if (v == NULL)
		return 0;
	ppp->auth = 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (item = strtok_r(buf, ", ", &save); item != NULL; item = strtok_r(NULL, ", ", &save)) {
		if (strcmp(item, "mschapv2") == 0)
			ppp->auth |= PPP_AUTH_MSCHAPV2;
		else if (strcmp(item, "chap-md5") == 0)
			ppp->auth |= PPP_AUTH_MD5;
		else
			return tc->error(tc, "auth", "'%s' is not mschapv2 or chap-md5", item);
	}
	if (ppp->auth == 0)
		return tc->error(tc, "auth", "name at least one of mschapv2, chap-md5");
	return 0;
}

int
pptp_conf_parse(struct pptp_conf *c, const struct tunnel_conf *tc)
{
	static const char *const mppe[] = { "off", "allow", "require" };
	static const char *const stateful[] = { "no", "allow", "prefer" };
	static const char *const bits[] = { "", "128", "40", "any" };
	static const char *const peer_window[] = { "count", "enforce" };
	struct ppp_conf *ppp = &c->ppp;
	const char *v;
	uint64_t u;
	unsigned n;
	uint8_t b;

	memset(c, 0, sizeof(*c));
	ppp_conf_defaults(ppp);
	if (tunnel_conf_bool(tc, "enable", false, &c->enable) < 0)
		return -1;
	v = tc->get(tc, "tap");
	snprintf(c->tap, sizeof(c->tap), "%s", v ? v : "dpvpn-pptp");
	if (v != NULL && strlen(v) >= sizeof(c->tap))
		return tc->error(tc, "tap", "'%s' is longer than %zu characters", v, sizeof(c->tap) - 1);
	v = tc->get(tc, "name");
	if (v != NULL)
		snprintf(ppp->name, sizeof(ppp->name), "%s", v);
	if (parse_ip(tc, "local_address", c->enable, &ppp->local_addr) < 0 || tunnel_conf_ipv4_list(tc, "dns", ppp->dns, 2, &n) < 0 ||
	    parse_auth(tc, ppp) < 0)
		return -1;
	v = tc->get(tc, "pool");
	if (v == NULL && c->enable)
		return tc->error(tc, "pool", "missing (the clients' addresses, e.g. 10.99.0.0/24)");
	if (v != NULL && (pkt_parse_prefix(v, &c->pool, false, NULL) < 0 || c->pool.depth < 16 ||
			  c->pool.depth > 30))
		return tc->error(tc, "pool", "'%s' is not a prefix between /16 and /30", v);
	if (parse_choice(tc, "mppe", mppe, 3, PPP_MPPE_REQUIRE, &ppp->mppe) < 0 ||
	    parse_choice(tc, "mppe_stateful", stateful, 3, PPP_STATEFUL_ALLOW, &ppp->mppe_stateful) < 0 ||
	    parse_choice(tc, "mppe_bits", bits, 4, PPP_MPPE_128, &b) < 0)
		return -1;
	if (b == 0)
		return tc->error(tc, "mppe_bits", "'' is not one of: 128, 40, any");
	ppp->mppe_bits = b;
	if (ppp->mppe != PPP_MPPE_OFF && !(ppp->auth & PPP_AUTH_MSCHAPV2))
		return tc->error(tc, "mppe", "MPPE keys come from MS-CHAPv2: add mschapv2 to auth or set mppe = off");
	if (tunnel_conf_uint(tc, "mtu", 1400, 576, 1500, &u) < 0)
		return -1;
	c->mtu = (uint16_t)u;
	ppp->mru = c->mtu;
	if (tunnel_conf_uint(tc, "max_sessions", 1024, 1, 65535, &u) < 0)
		return -1;
	c->max_sessions = (uint32_t)u;
	if (tunnel_conf_uint(tc, "max_connections", c->max_sessions, 1, 65535, &u) < 0)
		return -1;
	c->max_connections = (uint32_t)u;
	if (tunnel_conf_uint(tc, "window", 64, 1, 65535, &u) < 0)
		return -1;
	c->window = (uint16_t)u;
	if (parse_choice(tc, "peer_window", peer_window, 2, 0, &b) < 0)
		return -1;
	c->peer_window_enforce = b == 1;
	if (tunnel_conf_uint(tc, "peer_window_timeout_ms", 250, 10, 10000, &u) < 0)
		return -1;
	c->peer_window_timeout_ms = (uint32_t)u;
	if (tunnel_conf_uint(tc, "echo_interval", 60, 0, 3600, &u) < 0)
		return -1;
	c->echo_interval_s = (uint32_t)u;
	if (tunnel_conf_uint(tc, "lcp_echo_interval", 10, 0, 3600, &u) < 0)
		return -1;
	ppp->echo_interval_ms = (uint32_t)u * 1000;
	if (tunnel_conf_uint(tc, "lcp_echo_failures", 3, 1, 100, &u) < 0)
		return -1;
	ppp->echo_failures = (uint32_t)u;
	v = tc->get(tc, "secrets");
	if (v == NULL) {
		if (c->enable)
			return tc->error(tc, "secrets", "missing (a pppd chap-secrets file)");
		return 0;
	}
	/* Relative to the configuration file's folder. */
	if (v[0] == '/' || tc->file == NULL) {
		snprintf(c->secrets_path, sizeof(c->secrets_path), "%s", v);
	} else {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s", tc->file);
		snprintf(c->secrets_path, sizeof(c->secrets_path), "%s/%s", dirname(dir), v);
	}
	if (chap_secrets_load(c->secrets_path, &c->secrets) < 0)
		return tc->error(tc, "secrets", "cannot use '%s' (see the message above)", c->secrets_path);
	ppp->secrets = &c->secrets;
	return 0;
}

void
pptp_conf_free(struct pptp_conf *c)
{
	chap_secrets_free(&c->secrets);
	c->ppp.secrets = NULL;
}
