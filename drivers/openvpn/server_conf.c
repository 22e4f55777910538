/* SPDX-License-Identifier: BSD-3-Clause */
/* The [openvpn_server] section's driver keys (docs/openvpn.md); errors name FILE:LINE and the key. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fragment.h"
#include "key_method.h"
#include "session.h"
#include "openvpn_server.h"

/* A file key, relative to the configuration file's folder; required says whether it may be absent. */
static int
parse_path(const struct tunnel_conf *tc, const char *key, bool required, char *out, size_t size)
{
	const char *v = tc->get(tc, key);

	out[0] = '\0';
	if (v == NULL)
		return required ? tc->error(tc, key, "missing (a PEM file)") : 0;
	if (v[0] == '/' || tc->file == NULL) {
		snprintf(out, size, "%s", v);
	} else {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", tc->file);
		snprintf(out, size, "%s/%s", dirname(dir), v);
	}
	if (access(out, R_OK) != 0)
		return tc->error(tc, key, "cannot read '%s'", out);
	return 0;
}

static int
parse_ciphers(const struct tunnel_conf *tc, struct ovpn_server_conf *c)
{
	const char *v = tc->get(tc, "data_ciphers");
	char buf[256], *save = NULL, *item;

	snprintf(buf, sizeof(buf), "%s", v != NULL ? v : "AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305");
	c->nb_ciphers = 0;
	for (item = strtok_r(buf, ":, ", &save); item != NULL; item = strtok_r(NULL, ":, ", &save)) {
		int a = ovpn_cipher_parse(item);

		if (a < 0)
			return tc->error(tc, "data_ciphers", "'%s' is not one of AES-256-GCM, AES-128-GCM, "
					 "CHACHA20-POLY1305", item);
		if (c->nb_ciphers == RTE_DIM(c->ciphers))
			return tc->error(tc, "data_ciphers", "at most %zu ciphers", RTE_DIM(c->ciphers));
		c->ciphers[c->nb_ciphers++] = (enum aead_algo)a;
	}
	if (c->nb_ciphers == 0)
		return tc->error(tc, "data_ciphers", "name at least one cipher");
	return 0;
}

static int
parse_push(const struct tunnel_conf *tc, struct ovpn_server_conf *c)
{
	const char *v = tc->get(tc, "push_routes");
	char buf[1024], *save = NULL, *item;
	unsigned n = 0;

	if (v != NULL) {
		snprintf(buf, sizeof(buf), "%s", v);
		for (item = strtok_r(buf, ", ", &save); item != NULL; item = strtok_r(NULL, ", ", &save)) {
			if (n == OVPN_MAX_PUSH_ROUTES)
				return tc->error(tc, "push_routes", "at most %d prefixes", OVPN_MAX_PUSH_ROUTES);
			if (pkt_parse_prefix(item, &c->push_routes[n], false, NULL) < 0)
				return tc->error(tc, "push_routes", "'%s' is not a prefix (a.b.c.d/len)", item);
			n++;
		}
	}
	c->nb_push_routes = n;
	return tunnel_conf_ipv4_list(tc, "dns", c->dns, 2, &n);
}

int
ovpn_server_conf_parse(struct ovpn_server_conf *c, const struct tunnel_conf *tc)
{
	const char *v;
	uint64_t u;

	memset(c, 0, sizeof(*c));
	if (tunnel_conf_bool(tc, "enable", false, &c->enable) < 0)
		return -1;
	if (tunnel_conf_uint(tc, "port", 1194, 1, 65535, &u) < 0)
		return -1;
	c->port = (uint16_t)u;
	v = tc->get(tc, "tap");
	if (v != NULL && strlen(v) >= sizeof(c->tap))
		return tc->error(tc, "tap", "'%s' is longer than %zu characters", v, sizeof(c->tap) - 1);
	snprintf(c->tap, sizeof(c->tap), "%s", v ? v : "dpvpn-ovpn");
	if (parse_path(tc, "ca", c->enable, c->ca, sizeof(c->ca)) < 0 ||
	    parse_path(tc, "cert", c->enable, c->cert, sizeof(c->cert)) < 0 ||
	    parse_path(tc, "key", c->enable, c->key, sizeof(c->key)) < 0 ||
	    parse_path(tc, "crl", false, c->crl, sizeof(c->crl)) < 0)
		return -1;
	v = tc->get(tc, "key_log");
	if (v != NULL) {
		/* Relative to the configuration file's folder, like the PEM files; made at start. */
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", tc->file != NULL ? tc->file : ".");
		if (v[0] == '/' || tc->file == NULL)
			snprintf(c->key_log, sizeof(c->key_log), "%s", v);
		else
			snprintf(c->key_log, sizeof(c->key_log), "%s/%s", dirname(dir), v);
	}
	v = tc->get(tc, "pool");
	if (v == NULL && c->enable)
		return tc->error(tc, "pool", "missing (the clients' addresses, e.g. 10.8.0.0/24)");
	if (v != NULL && (pkt_parse_prefix(v, &c->pool, false, NULL) < 0 || c->pool.depth < 8 ||
			  c->pool.depth > 29))
		return tc->error(tc, "pool", "'%s' is not a prefix between /8 and /29", v);
	if (parse_ciphers(tc, c) < 0 || parse_push(tc, c) < 0)
		return -1;
	if (tunnel_conf_uint(tc, "keepalive", 10, 1, 3600, &u) < 0)
		return -1;
	c->keepalive_s = (uint32_t)u;
	if (tunnel_conf_uint(tc, "ping_restart", 60, 2, 86400, &u) < 0)
		return -1;
	c->ping_restart_s = (uint32_t)u;
	if (c->ping_restart_s <= c->keepalive_s)
		return tc->error(tc, "ping_restart", "%u must be longer than keepalive (%u)", c->ping_restart_s,
				 c->keepalive_s);
	if (tunnel_conf_uint(tc, "hand_window", 60, 5, 3600, &u) < 0)
		return -1;
	c->hand_window_s = (uint32_t)u;
	if (tunnel_conf_bool(tc, "tls_ekm", true, &c->tls_ekm) < 0)
		return -1;
	if (tunnel_conf_uint(tc, "max_clients", 1024, 1, 65535, &u) < 0)
		return -1;
	c->max_clients = (uint32_t)u;
	if (tunnel_conf_uint(tc, "mtu", 1500, 576, 9000, &u) < 0)
		return -1;
	c->mtu = (uint16_t)u;
	if (tunnel_conf_uint(tc, "fragment", 0, 0, 65535, &u) < 0)
		return -1;
	if (u != 0 && u < OVPN_AEAD_HDR + OVPN_FRAG_HDR_LEN + 68)
		return tc->error(tc, "fragment", "%lu leaves no room for a 68-byte packet", (unsigned long)u);
	c->fragment = (uint16_t)u;
	return 0;
}
