/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "config.h"
#include "pptp.h"
#include "gre.h"
#include "session.h"
#include "openvpn.h"
#include "pkt_ecn.h"
#include "pkt_tcp_mss.h"

/* openvpn-tls before openvpn: it takes the TLS server's port, static-key tunnels the rest of UDP. */
const struct tunnel_ops *const config_drivers[] = { &gre_ops, &openvpn_tls_ops, &openvpn_ops, &pptp_ops, NULL };

#define MAX_KEYS 64

/* One section being read: which keys were asked for, to reject unknown ones. */
struct section_ctx {
	struct rte_cfgfile *cf;
	const char *file;
	const char *section;
	const char *used[MAX_KEYS];
	unsigned nb_used;
};

/* rte_cfgfile keeps no line numbers: find the line of [section] key = ... in the text. */
static int
find_line(const char *file, const char *section, const char *key)
{
	FILE *f = fopen(file, "r");
	char line[1024], cur[256] = "";
	int n = 0, section_line = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *e;

		n++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '[') {
			e = strchr(p, ']');
			if (e == NULL)
				continue;
			*e = '\0';
			snprintf(cur, sizeof(cur), "%s", p + 1);
			if (strcmp(cur, section) == 0 && key == NULL) {
				section_line = n;
				break;
			}
			continue;
		}
		if (key == NULL || strcmp(cur, section) != 0)
			continue;
		e = strchr(p, '=');
		if (e == NULL)
			continue;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - p) == strlen(key) && strncmp(p, key, (size_t)(e - p)) == 0) {
			section_line = n;
			break;
		}
	}
	fclose(f);
	return section_line;
}

static void __attribute__((format(printf, 4, 0)))
verror(const char *file, const char *section, const char *key, const char *fmt, va_list ap)
{
	int line = section != NULL ? find_line(file, section, key) : 0;

	if (line == 0 && section != NULL && key != NULL)
		line = find_line(file, section, NULL);
	fprintf(stderr, "%s:%d: ", file, line);
	if (section != NULL)
		fprintf(stderr, "[%s] ", section);
	if (key != NULL)
		fprintf(stderr, "%s: ", key);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static int __attribute__((format(printf, 3, 4)))
sec_error(struct section_ctx *s, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(s->file, s->section, key, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
sec_get(struct section_ctx *s, const char *key)
{
	const char *v = rte_cfgfile_get_entry(s->cf, s->section, key);

	if (v != NULL && s->nb_used < MAX_KEYS)
		s->used[s->nb_used++] = key;
	return v;
}

/* Adapters so drivers read their keys through struct tunnel_conf. */
static const char *
tc_get(const struct tunnel_conf *c, const char *key)
{
	return sec_get(c->ctx, key);
}

static int
tc_error(const struct tunnel_conf *c, const char *key, const char *fmt, ...)
{
	struct section_ctx *s = c->ctx;
	va_list ap;

	va_start(ap, fmt);
	verror(s->file, s->section, key, fmt, ap);
	va_end(ap);
	return -1;
}

static struct tunnel_conf
tc_of(struct section_ctx *s)
{
	return (struct tunnel_conf){ .get = tc_get, .error = tc_error, .ctx = s, .file = s->file };
}

/* Every key in the section must have been asked for: typos are errors, not silence. */
static int
check_unknown_keys(struct section_ctx *s)
{
	int n = rte_cfgfile_section_num_entries(s->cf, s->section);
	struct rte_cfgfile_entry *e;
	int rc = 0;

	if (n <= 0)
		return 0;
	e = calloc((size_t)n, sizeof(*e));
	if (e == NULL)
		return sec_error(s, NULL, "out of memory");
	n = rte_cfgfile_section_entries(s->cf, s->section, e, n);
	for (int i = 0; i < n && rc == 0; i++) {
		bool known = false;

		for (unsigned j = 0; j < s->nb_used && !known; j++)
			known = strcmp(s->used[j], e[i].name) == 0;
		if (!known)
			rc = sec_error(s, e[i].name, "unknown key");
	}
	free(e);
	return rc;
}

static int
get_u32(struct section_ctx *s, const char *key, uint32_t def, uint32_t min, uint32_t max,
	uint32_t *out)
{
	struct tunnel_conf c = tc_of(s);
	uint64_t v;

	if (tunnel_conf_uint(&c, key, def, min, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
get_u16(struct section_ctx *s, const char *key, uint16_t def, uint16_t min, uint16_t max,
	uint16_t *out)
{
	uint32_t v;

	if (get_u32(s, key, def, min, max, &v) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int
get_ipv4(struct section_ctx *s, const char *key, bool required, rte_be32_t *out)
{
	const char *v = sec_get(s, key);

	if (v == NULL) {
		if (required)
			return sec_error(s, key, "missing (an IPv4 address is required)");
		return 0;
	}
	if (pkt_parse_ipv4(v, out) < 0)
		return sec_error(s, key, "'%s' is not an IPv4 address", v);
	return 0;
}

static char *trim(char *p);

/*
 * List keys (routes, static_neighbors) may repeat, each line adding items
 * separated by commas: rte_cfgfile caps a value at 255 characters.
 * Calls fn for every item; returns -1 when fn does.
 */
static int
for_each_item(struct section_ctx *s, const char *key, void *arg,
	      int (*fn)(struct section_ctx *s, const char *item, void *arg))
{
	int n = rte_cfgfile_section_num_entries(s->cf, s->section);
	struct rte_cfgfile_entry *e;
	int rc = 0;

	if (n <= 0 || sec_get(s, key) == NULL)
		return 0;
	e = calloc((size_t)n, sizeof(*e));
	if (e == NULL)
		return sec_error(s, key, "out of memory");
	n = rte_cfgfile_section_entries(s->cf, s->section, e, n);
	for (int i = 0; i < n && rc == 0; i++) {
		char *save = NULL, *item;

		if (strcmp(e[i].name, key) != 0)
			continue;
		for (item = strtok_r(e[i].value, ",", &save); item != NULL && rc == 0;
		     item = strtok_r(NULL, ",", &save)) {
			item = trim(item);
			if (*item != '\0')
				rc = fn(s, item, arg);
		}
	}
	free(e);
	return rc;
}

static char *
trim(char *p)
{
	char *e;

	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return p;
}

static int
add_static_neigh(struct section_ctx *s, const char *item, void *arg)
{
	struct port_conf *pc = arg;
	char ip[64], mac[64];

	if (pc->nb_static == CONFIG_MAX_STATIC_NEIGH)
		return sec_error(s, "static_neighbors", "more than %d entries", CONFIG_MAX_STATIC_NEIGH);
	if (sscanf(item, "%63s %63s", ip, mac) != 2 ||
	    pkt_parse_ipv4(ip, &pc->static_neigh[pc->nb_static].ip) < 0 ||
	    pkt_parse_mac(mac, &pc->static_neigh[pc->nb_static].mac) < 0)
		return sec_error(s, "static_neighbors",
				 "'%s' is not 'IPv4 MAC' (e.g. 192.0.2.9 02:00:00:00:00:09)", item);
	pc->nb_static++;
	return 0;
}

static int
parse_static_neigh(struct section_ctx *s, struct port_conf *pc)
{
	return for_each_item(s, "static_neighbors", pc, add_static_neigh);
}

static int
parse_port(struct rte_cfgfile *cf, const char *file, const char *name, struct port_conf *pc)
{
	struct section_ctx s = { .cf = cf, .file = file, .section = name };
	const char *v;

	if (!rte_cfgfile_has_section(cf, name)) {
		fprintf(stderr, "%s:0: missing section [%s]\n", file, name);
		return -1;
	}
	v = sec_get(&s, "device");
	if (v == NULL || *v == '\0')
		return sec_error(&s, "device", "missing (an ethdev name, e.g. net_tap0 or 0000:03:00.0)");
	snprintf(pc->device, sizeof(pc->device), "%s", v);
	v = sec_get(&s, "devargs");
	if (v != NULL)
		snprintf(pc->devargs, sizeof(pc->devargs), "%s", v);
	v = sec_get(&s, "mac");
	if (v != NULL) {
		if (pkt_parse_mac(v, &pc->mac) < 0 || !rte_is_unicast_ether_addr(&pc->mac))
			return sec_error(&s, "mac", "'%s' is not a unicast MAC address", v);
		pc->has_mac = true;
	}
	v = sec_get(&s, "address");
	if (v == NULL)
		return sec_error(&s, "address", "missing (ADDRESS/PREFIX, e.g. 192.0.2.1/24)");
	if (strchr(v, '/') == NULL || pkt_parse_prefix(v, &pc->subnet, true, &pc->addr) < 0)
		return sec_error(&s, "address", "'%s' is not ADDRESS/PREFIX", v);
	if (get_ipv4(&s, "gateway", false, &pc->gateway) < 0)
		return -1;
	if (pc->gateway != 0 && !pkt_prefix_contains(&pc->subnet, pc->gateway))
		return sec_error(&s, "gateway", "not inside the port's subnet");
	if (get_u16(&s, "mtu", 1500, 576, 9000, &pc->mtu) < 0 ||
	    get_u16(&s, "rx_desc", 1024, 64, 16384, &pc->rx_desc) < 0 ||
	    get_u16(&s, "tx_desc", 1024, 64, 16384, &pc->tx_desc) < 0 ||
	    parse_static_neigh(&s, pc) < 0)
		return -1;
	return check_unknown_keys(&s);
}

/* "dscp = inherit" (uniform model) or a fixed 0..63 (pipe model); absent keeps *out. */
static int
parse_dscp(struct section_ctx *s, uint8_t *out)
{
	struct tunnel_conf c = tc_of(s);
	const char *v = sec_get(s, "dscp");
	uint64_t n;

	if (v == NULL)
		return 0;
	if (strcmp(v, "inherit") == 0) {
		*out = PKT_DSCP_INHERIT;
		return 0;
	}
	if (tunnel_conf_uint(&c, "dscp", 0, 0, 63, &n) < 0)
		return -1;
	*out = (uint8_t)n;
	return 0;
}

/* A shaped tunnel gets its QoS state; others keep t->qos NULL and cost nothing. */
static int
parse_qos(struct section_ctx *s, const struct dpvpn_config *cfg, struct tunnel *t)
{
	struct tunnel_conf c = tc_of(s);
	struct qos_conf qc;

	t->dscp = cfg->dscp;
	if (parse_dscp(s, &t->dscp) < 0 || qos_conf_parse(&c, &cfg->qos, &qc) < 0)
		return -1;
	if (qc.rate_bps == 0)
		return 0;
	if (qos_tunnel_alloc(t, &qc) < 0)
		return sec_error(s, NULL, "out of memory");
	return 0;
}

static int
parse_global(struct rte_cfgfile *cf, const char *file, struct dpvpn_config *cfg)
{
	struct section_ctx s = { .cf = cf, .file = file, .section = "dpvpn" };
	struct tunnel_conf c = tc_of(&s);

	/* A missing [dpvpn] section means all defaults: rte_cfgfile returns no entries. */
	if (get_u32(&s, "mbufs", 16383, 1023, 1u << 24, &cfg->mbufs) < 0 ||
	    get_u32(&s, "mbuf_cache", 256, 0, 512, &cfg->mbuf_cache) < 0 ||
	    get_u32(&s, "max_tunnels", 1024, 1, 1u << 20, &cfg->max_tunnels) < 0 ||
	    get_u32(&s, "max_routes", 65536, 16, 1u << 24, &cfg->max_routes) < 0 ||
	    get_u32(&s, "handoff_ring", 2048, 64, 1u << 20, &cfg->handoff_ring) < 0 ||
	    get_u32(&s, "idle_sleep_us", 0, 0, 100000, &cfg->idle_sleep_us) < 0 ||
	    get_u32(&s, "neigh_timeout", 300, 1, 86400, &cfg->neigh_timeout_s) < 0 ||
	    get_u32(&s, "neigh_entries", 1024, 16, 1u << 20, &cfg->neigh_entries) < 0 ||
	    tunnel_conf_bool(&c, "verify_checksums", true, &cfg->verify_checksums) < 0 ||
	    get_u32(&s, "reorder_window", REORDER_DEFAULT_SIZE, REORDER_MIN_SIZE, REORDER_MAX_SIZE,
		    &cfg->reorder_window) < 0 ||
	    get_u32(&s, "reorder_hold_ms", REORDER_DEFAULT_HOLD_US / 1000, 1, 10000,
		    &cfg->reorder_hold_ms) < 0 ||
	    get_u32(&s, "reorder_blocks", 256, 1, 1u << 20, &cfg->reorder_blocks) < 0 ||
	    tunnel_conf_bool(&c, "reorder_adaptive", false, &cfg->reorder_adaptive) < 0)
		return -1;
	if ((cfg->reorder_window & (cfg->reorder_window - 1)) != 0)
		return sec_error(&s, "reorder_window", "%u is not a power of two", cfg->reorder_window);
	qos_conf_default(&cfg->qos);
	cfg->dscp = 0;
	if (qos_conf_parse(&c, &cfg->qos, &cfg->qos) < 0 ||
	    get_u32(&s, "qos_max_queues", 4096, 1, 1u << 20, &cfg->qos_max_queues) < 0 ||
	    parse_dscp(&s, &cfg->dscp) < 0)
		return -1;
	if ((cfg->handoff_ring & (cfg->handoff_ring - 1)) != 0)
		return sec_error(&s, "handoff_ring", "%u is not a power of two", cfg->handoff_ring);
	return check_unknown_keys(&s);
}

static const struct tunnel_ops *
find_driver(const char *name)
{
	for (unsigned i = 0; config_drivers[i] != NULL; i++)
		if (strcmp(config_drivers[i]->name, name) == 0)
			return config_drivers[i];
	return NULL;
}

static int
add_route(struct section_ctx *s, const char *item, void *arg)
{
	struct tunnel *t = arg;

	if (t->nb_routes == TUNNEL_MAX_ROUTES)
		return sec_error(s, "routes", "more than %d prefixes", TUNNEL_MAX_ROUTES);
	if (pkt_parse_prefix(item, &t->routes[t->nb_routes], false, NULL) < 0)
		return sec_error(s, "routes", "'%s' is not a prefix with zero host bits (e.g. 10.1.0.0/16)",
				 item);
	t->nb_routes++;
	return 0;
}

static int
parse_routes(struct section_ctx *s, struct tunnel *t)
{
	return for_each_item(s, "routes", t, add_route);
}

static int
add_path(struct section_ctx *s, const char *item, void *arg)
{
	struct tunnel *t = arg;
	rte_be32_t a;

	if (t->nb_paths == TUNNEL_MAX_PATHS)
		return sec_error(s, "peer", "more than %d paths", TUNNEL_MAX_PATHS);
	if (pkt_parse_ipv4(item, &a) < 0)
		return sec_error(s, "peer", "'%s' is not an IPv4 address", item);
	if (pkt_ipv4_is_martian_source(a))
		return sec_error(s, "peer", "%s is not a unicast address", item);
	for (unsigned i = 0; i < t->nb_paths; i++)
		if (t->paths[i].peer == a)
			return sec_error(s, "peer", "%s is listed twice", item);
	t->paths[t->nb_paths].peer = a;
	t->paths[t->nb_paths].weight = 1;
	t->nb_paths++;
	return 0;
}

/*
 * peer = A[, B ...]: one address per path (a multi-path tunnel when more than one),
 * path_mode = redundant | weighted, weights = W1, W2 ... | auto, path_dead_ms.
 */
static int
parse_paths(struct section_ctx *s, struct tunnel *t)
{
	struct tunnel_conf c = tc_of(s);
	const char *v;
	uint64_t ms;

	if (sec_get(s, "peer") == NULL)
		return sec_error(s, "peer", "missing (the client's outer address; several for several paths)");
	if (for_each_item(s, "peer", t, add_path) < 0)
		return -1;
	t->peer = t->paths[0].peer;
	t->paths_mode = TUNNEL_PATHS_REDUNDANT;
	v = sec_get(s, "path_mode");
	if (v != NULL) {
		if (strcmp(v, "weighted") == 0)
			t->paths_mode = TUNNEL_PATHS_WEIGHTED;
		else if (strcmp(v, "redundant") != 0)
			return sec_error(s, "path_mode", "'%s' is not redundant or weighted", v);
	}
	v = sec_get(s, "weights");
	if (v != NULL) {
		char buf[CFG_VALUE_LEN], *save = NULL, *item;
		unsigned n = 0;

		if (t->paths_mode != TUNNEL_PATHS_WEIGHTED)
			return sec_error(s, "weights", "only with path_mode = weighted");
		if (strcmp(v, "auto") == 0) {
			t->weights_auto = true;
		} else {
			snprintf(buf, sizeof(buf), "%s", v);
			for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
				char *end;
				unsigned long w = strtoul(trim(item), &end, 10);

				if (*end != '\0' || w < 1 || w > 1000 || n == t->nb_paths)
					return sec_error(s, "weights",
							 "give one weight in [1, 1000] per peer, or auto");
				t->paths[n++].weight = (uint32_t)w;
			}
			if (n != t->nb_paths)
				return sec_error(s, "weights", "%u weights for %u peers", n, t->nb_paths);
		}
	}
	if (tunnel_conf_uint(&c, "path_dead_ms", 1000, 10, 60000, &ms) < 0)
		return -1;
	t->path_dead_ms = (uint16_t)ms;
	return 0;
}

/* The reorder window of a sequenced tunnel: on by default, "off" behaves like stock Linux. */
static int
parse_reorder(struct section_ctx *s, const struct dpvpn_config *cfg, struct tunnel *t)
{
	struct tunnel_conf c = tc_of(s);
	const char *v = sec_get(s, "reorder");
	uint64_t size, hold_ms;
	bool adaptive;

	t->reorder_mode = t->sequenced ? TUNNEL_REORDER_ON : TUNNEL_REORDER_NONE;
	if (v != NULL) {
		bool on;

		if (tunnel_conf_bool(&c, "reorder", true, &on) < 0)
			return -1;
		if (on && !t->sequenced)
			return sec_error(s, "reorder", "needs sequence numbers (sequence = yes)");
		if (!on && t->sequenced)
			t->reorder_mode = TUNNEL_REORDER_OFF;
	}
	if (tunnel_conf_uint(&c, "reorder_window", cfg->reorder_window, REORDER_MIN_SIZE,
			     REORDER_MAX_SIZE, &size) < 0 ||
	    tunnel_conf_uint(&c, "reorder_hold_ms", cfg->reorder_hold_ms, 1, 10000, &hold_ms) < 0 ||
	    tunnel_conf_bool(&c, "reorder_adaptive", cfg->reorder_adaptive, &adaptive) < 0)
		return -1;
	if ((size & (size - 1)) != 0)
		return sec_error(s, "reorder_window", "%llu is not a power of two",
				 (unsigned long long)size);
	t->reorder_conf = (struct reorder_conf){
		.size = (uint32_t)size,
		.hold_us = (uint32_t)hold_ms * 1000,
		.adaptive = adaptive,
		.off = t->reorder_mode == TUNNEL_REORDER_OFF,
	};
	return 0;
}

/* TCP MSS clamping (OpenVPN's mssfix): auto (what fits the tunnel MTU), off, or a number. */
static int
parse_mss_clamp(struct section_ctx *s, struct tunnel *t)
{
	struct tunnel_conf c = tc_of(s);
	const char *v = sec_get(s, "mss_clamp");
	const uint16_t fit = pkt_tcp_mss_for_mtu(t->mtu);
	uint64_t n;

	if (v == NULL || strcmp(v, "auto") == 0) {
		/* Never below RFC 879's 536: such small MTUs are left to fragmentation. */
		t->mss_clamp = fit >= PKT_TCP_MSS_MIN ? fit : 0;
		return 0;
	}
	if (strcmp(v, "off") == 0) {
		t->mss_clamp = 0;
		return 0;
	}
	if (fit < PKT_TCP_MSS_MIN)
		return sec_error(s, "mss_clamp", "the tunnel MTU %u leaves no room above %u: use auto or off",
				 t->mtu, PKT_TCP_MSS_MIN);
	if (tunnel_conf_uint(&c, "mss_clamp", fit, PKT_TCP_MSS_MIN, fit, &n) < 0)
		return -1;
	t->mss_clamp = (uint16_t)n;
	return 0;
}

static int
parse_tunnel(struct rte_cfgfile *cf, const char *file, const char *section,
	     struct dpvpn_config *cfg, struct tunnel *t)
{
	struct section_ctx s = { .cf = cf, .file = file, .section = section };
	struct tunnel_conf c = tc_of(&s);
	const char *v;
	char *end;
	unsigned long id;
	uint64_t n;
	uint32_t mtu_max;

	/* [tunnel ID] */
	errno = 0;
	id = strtoul(section + strlen("tunnel "), &end, 10);
	if (errno != 0 || *end != '\0' || end == section + strlen("tunnel ") || id > UINT32_MAX)
		return sec_error(&s, NULL, "section name must be 'tunnel ID' with a numeric ID");
	t->id = (uint32_t)id;
	v = sec_get(&s, "name");
	snprintf(t->name, sizeof(t->name), "%s", v != NULL ? v : section + strlen("tunnel "));
	v = sec_get(&s, "protocol");
	if (v == NULL)
		return sec_error(&s, "protocol", "missing (one of: gre, openvpn)");
	t->ops = find_driver(v);
	if (t->ops == NULL)
		return sec_error(&s, "protocol", "unknown protocol '%s' (known: gre, openvpn)", v);
	if (parse_paths(&s, t) < 0)
		return -1;
	t->local = cfg->outside.addr;
	if (get_ipv4(&s, "local", false, &t->local) < 0)
		return -1;
	if (t->local != cfg->outside.addr)
		return sec_error(&s, "local", "must be the outside port's address");
	if (tunnel_conf_uint(&c, "ttl", 64, 1, 255, &n) < 0)
		return -1;
	t->ttl = (uint8_t)n;
	if (tunnel_conf_bool(&c, "source_check", true, &t->source_check) < 0 ||
	    parse_routes(&s, t) < 0)
		return -1;
	t->overhead = t->ops->overhead;
	if (t->ops->configure(t, &c) < 0)
		return -1;
	/* The largest inner packet whose outer packet still fits the outside MTU. */
	mtu_max = cfg->outside.mtu - sizeof(struct rte_ipv4_hdr) - t->overhead;
	/* A driver may cap it (OpenVPN's fragment size) by setting t->mtu in configure. */
	if (t->mtu != 0 && t->mtu < mtu_max)
		mtu_max = t->mtu;
	if (tunnel_conf_uint(&c, "mtu", mtu_max, 68, mtu_max, &n) < 0)
		return -1;
	t->mtu = (uint16_t)n;
	if (parse_mss_clamp(&s, t) < 0)
		return -1;
	if (parse_reorder(&s, cfg, t) < 0 || parse_qos(&s, cfg, t) < 0)
		return -1;
	return check_unknown_keys(&s);
}

static int
check_unique_tunnels(const char *file, struct dpvpn_config *cfg)
{
	char sec[64];

	for (unsigned i = 0; i < cfg->nb_tunnels; i++) {
		const struct tunnel *t = cfg->tunnels[i];

		snprintf(sec, sizeof(sec), "tunnel %u", t->id);
		/* The outside fast path relies on it: a packet from our own address finds no tunnel. */
		for (unsigned p = 0; p < t->nb_paths; p++)
			if (t->paths[p].peer == cfg->outside.addr || t->paths[p].peer == cfg->inside.addr) {
				char addr[INET_ADDRSTRLEN];

				inet_ntop(AF_INET, &t->paths[p].peer, addr, sizeof(addr));
				fprintf(stderr, "%s:%d: [%s] peer: %s is one of our own addresses\n", file,
					find_line(file, sec, "peer"), sec, addr);
				return -1;
			}
		for (unsigned j = 0; j < i; j++) {
			struct tunnel_key a = { 0 }, b = { 0 };

			if (cfg->tunnels[i]->id == cfg->tunnels[j]->id) {
				fprintf(stderr, "%s:%d: [%s] duplicate tunnel id\n", file,
					find_line(file, sec, NULL), sec);
				return -1;
			}
			cfg->tunnels[i]->ops->key(cfg->tunnels[i], &a);
			cfg->tunnels[j]->ops->key(cfg->tunnels[j], &b);
			if (memcmp(&a, &b, sizeof(a)) == 0) {
				fprintf(stderr, "%s:%d: [%s] same peer, local address and key as [tunnel %u]\n",
					file, find_line(file, sec, NULL), sec, cfg->tunnels[j]->id);
				return -1;
			}
		}
	}
	return 0;
}

/* The tunnel keys a server's section gives every session it makes: reorder, MSS clamp, QoS, TTL. */
static int
parse_session_template(struct section_ctx *s, struct dpvpn_config *cfg, struct tunnel *t, uint16_t mtu)
{
	struct tunnel_conf c = tc_of(s);
	uint64_t ttl;

	t->sequenced = true;
	t->mtu = mtu;
	t->dscp = cfg->dscp;
	if (parse_reorder(s, cfg, t) < 0 || parse_mss_clamp(s, t) < 0 || parse_qos(s, cfg, t) < 0 ||
	    tunnel_conf_uint(&c, "ttl", 64, 1, 255, &ttl) < 0)
		return -1;
	t->ttl = (uint8_t)ttl;
	return 0;
}

/*
 * [pptp]: the PPTP server (drivers/pptp reads its keys); reorder, MSS clamp,
 * TTL and DSCP keys as in a tunnel section, applied to every session.
 */
static int
parse_pptp(struct rte_cfgfile *cf, const char *file, struct dpvpn_config *cfg)
{
	struct section_ctx s = { .cf = cf, .file = file, .section = "pptp" };
	struct tunnel_conf c = tc_of(&s);

	if (pptp_conf_parse(&cfg->pptp, &c) < 0 ||
	    parse_session_template(&s, cfg, &cfg->pptp.template, cfg->pptp.mtu) < 0)
		return -1;
	if (cfg->pptp.enable && !pkt_prefix_contains(&cfg->pptp.pool, cfg->pptp.ppp.local_addr) &&
	    cfg->pptp.ppp.local_addr == cfg->outside.addr)
		return sec_error(&s, "local_address", "must not be the outside address");
	return check_unknown_keys(&s);
}

/*
 * [openvpn_server]: the TLS-mode OpenVPN server (drivers/openvpn reads its
 * keys); reorder, MSS clamp, QoS, TTL keys as in a tunnel section, for every
 * client.
 */
static int
parse_openvpn_server(struct rte_cfgfile *cf, const char *file, struct dpvpn_config *cfg)
{
	struct section_ctx s = { .cf = cf, .file = file, .section = "openvpn_server" };
	struct tunnel_conf c = tc_of(&s);

	if (ovpn_server_conf_parse(&cfg->ovpn, &c) < 0 ||
	    parse_session_template(&s, cfg, &cfg->ovpn.template, cfg->ovpn.mtu) < 0)
		return -1;
	if (cfg->ovpn.enable && cfg->pptp.enable && strcmp(cfg->ovpn.tap, cfg->pptp.tap) != 0 &&
	    sec_get(&s, "tap") != NULL)
		return sec_error(&s, "tap", "one exception TAP serves both servers: leave it out or use [pptp]'s");
	return check_unknown_keys(&s);
}

/* rte_cfgfile reports syntax errors only to the log and without the file: check first. */
static int
check_syntax(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0, rc = 0;
	bool in_section = false;

	if (f == NULL) {
		fprintf(stderr, "%s:0: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *hash = strchr(line, '#');

		n++;
		if (strlen(line) >= CFG_VALUE_LEN) {
			fprintf(stderr, "%s:%d: line longer than %d characters: split a list over "
					"repeated keys (routes = ... on several lines)\n",
				path, n, CFG_VALUE_LEN - 1);
			rc = -1;
			break;
		}
		if (hash != NULL)
			*hash = '\0';
		p = trim(p);
		if (*p == '\0')
			continue;
		if (*p == '[') {
			if (strchr(p, ']') == NULL) {
				fprintf(stderr, "%s:%d: syntax error: '[' without ']'\n", path, n);
				rc = -1;
			}
			in_section = true;
		} else if (strchr(p, '=') == NULL || *p == '=') {
			fprintf(stderr, "%s:%d: syntax error: expected 'key = value', '[section]' or '# comment'\n",
				path, n);
			rc = -1;
		} else if (!in_section) {
			fprintf(stderr, "%s:%d: syntax error: key before any [section]\n", path, n);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

int
config_load(const char *path, struct dpvpn_config *cfg)
{
	struct rte_cfgfile_parameters params = { .comment_character = '#' };
	struct rte_cfgfile *cf;
	int nsec, rc = -1;
	char **names = NULL;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->file, sizeof(cfg->file), "%s", path);
	if (check_syntax(path) < 0)
		return -1;
	errno = 0;
	cf = rte_cfgfile_load_with_params(path, 0, &params);
	if (cf == NULL) {
		fprintf(stderr, "%s:0: cannot read or parse the file (%s)\n", path,
			errno != 0 ? strerror(errno) : "syntax error");
		return -1;
	}
	nsec = rte_cfgfile_num_sections(cf, NULL, 0);
	names = calloc((size_t)nsec + 1, sizeof(*names));
	if (names == NULL)
		goto out;
	for (int i = 0; i < nsec; i++) {
		names[i] = calloc(1, CFG_NAME_LEN);
		if (names[i] == NULL)
			goto out;
	}
	rte_cfgfile_sections(cf, names, nsec);

	if (parse_global(cf, path, cfg) < 0 || parse_port(cf, path, "outside", &cfg->outside) < 0 ||
	    parse_port(cf, path, "inside", &cfg->inside) < 0)
		goto out;
	if (pkt_prefix_contains(&cfg->outside.subnet, cfg->inside.addr) ||
	    pkt_prefix_contains(&cfg->inside.subnet, cfg->outside.addr)) {
		fprintf(stderr, "%s:%d: [inside] address: overlaps the outside subnet\n", path,
			find_line(path, "inside", "address"));
		goto out;
	}
	cfg->tunnels = calloc((size_t)nsec + 1, sizeof(*cfg->tunnels));
	if (cfg->tunnels == NULL)
		goto out;
	for (int i = 0; i < nsec; i++) {
		const char *n = names[i];

		if (strcmp(n, "dpvpn") == 0 || strcmp(n, "outside") == 0 || strcmp(n, "inside") == 0)
			continue;
		if (strcmp(n, "pptp") == 0) {
			if (parse_pptp(cf, path, cfg) < 0)
				goto out;
			continue;
		}
		if (strcmp(n, "openvpn_server") == 0) {
			if (parse_openvpn_server(cf, path, cfg) < 0)
				goto out;
			continue;
		}
		if (strncmp(n, "tunnel ", 7) != 0) {
			fprintf(stderr, "%s:%d: [%s] unknown section (known: dpvpn, outside, inside, pptp, openvpn_server, tunnel ID)\n",
				path, find_line(path, n, NULL), n);
			goto out;
		}
		if (cfg->nb_tunnels == cfg->max_tunnels) {
			fprintf(stderr, "%s:%d: [%s] more tunnels than max_tunnels (%u)\n", path,
				find_line(path, n, NULL), n, cfg->max_tunnels);
			goto out;
		}
		/* Tunnel counters fill whole cache lines; keep them aligned. */
		struct tunnel *t = aligned_alloc(RTE_CACHE_LINE_SIZE,
						 RTE_ALIGN_CEIL(sizeof(*t), RTE_CACHE_LINE_SIZE));
		if (t == NULL)
			goto out;
		memset(t, 0, sizeof(*t));
		cfg->tunnels[cfg->nb_tunnels++] = t;
		if (parse_tunnel(cf, path, n, cfg, t) < 0)
			goto out;
	}
	rc = check_unique_tunnels(path, cfg);
out:
	if (names != NULL)
		for (int i = 0; i < nsec; i++)
			free(names[i]);
	free(names);
	rte_cfgfile_close(cf);
	if (rc < 0)
		config_free(cfg);
	return rc;
}

void
config_free(struct dpvpn_config *cfg)
{
	for (unsigned i = 0; i < cfg->nb_tunnels; i++) {
		struct tunnel *t = cfg->tunnels[i];

		if (t->ops != NULL && t->ops->destroy != NULL && t->priv != NULL)
			t->ops->destroy(t);
		free(t->qos);
		free(t);
	}
	free(cfg->tunnels);
	cfg->tunnels = NULL;
	cfg->nb_tunnels = 0;
	free(cfg->pptp.template.qos);
	cfg->pptp.template.qos = NULL;
	free(cfg->ovpn.template.qos);
	cfg->ovpn.template.qos = NULL;
	pptp_conf_free(&cfg->pptp);
}
