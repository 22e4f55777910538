/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Telemetry commands under /dpvpn/, served by DPDK's telemetry thread and
 * readable with dpdk-telemetry.py or dpvpnctl. Counters are read with relaxed
 * loads while workers write them. docs/telemetry.md describes every field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "clock.h"
#include "dpvpn.h"
#include "session.h"
#include "pkt_ecn.h"
#include "qos.h"

#define IDS_PER_PAGE 500 /* rte_telemetry arrays hold at most 512 entries */

static void
add_ip(struct rte_tel_data *d, const char *name, rte_be32_t a)
{
	char buf[INET_ADDRSTRLEN];

	rte_tel_data_add_dict_string(d, name, pkt_format_ipv4(a, buf, sizeof(buf)));
}

static void
add_prefix(struct rte_tel_data *d, const char *name, rte_be32_t a, uint8_t depth)
{
	char buf[INET_ADDRSTRLEN], out[32];

	snprintf(out, sizeof(out), "%s/%u", pkt_format_ipv4(a, buf, sizeof(buf)), depth);
	rte_tel_data_add_dict_string(d, name, out);
}

/* A dict of drop counters; all reasons when all, else the non-zero ones. */
static struct rte_tel_data *
drops_dict(const uint64_t *drops, bool all)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	if (d == NULL)
		return NULL;
	rte_tel_data_start_dict(d);
	for (int r = 0; r < DROP_MAX; r++) {
		uint64_t v = stats_read(&drops[r]);

		if (all || v != 0)
			rte_tel_data_add_dict_u64(d, stats_drop_name((enum drop_reason)r), v);
	}
	return d;
}

static uint64_t
sum_drops(const uint64_t *drops)
{
	uint64_t s = 0;

	for (int r = 0; r < DROP_MAX; r++)
		s += stats_read(&drops[r]);
	return s;
}

static int
cmd_info(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", "dpvpn 0.1.0");
	rte_tel_data_add_dict_string(d, "dpdk", rte_version());
	rte_tel_data_add_dict_string(d, "config", dp.cfg.file);
	rte_tel_data_add_dict_u64(d, "pid", (uint64_t)getpid());
	rte_tel_data_add_dict_u64(d, "uptime_s", (clock_now() - dp.start_tsc) / clock_hz());
	rte_tel_data_add_dict_u64(d, "workers", dp.nb_workers);
	rte_tel_data_add_dict_u64(d, "tunnels", dp.tunnels.count);
	rte_tel_data_add_dict_u64(d, "mbufs", dp.pool->size);
	rte_tel_data_add_dict_u64(d, "mbufs_in_use", rte_mempool_in_use_count(dp.pool));
	rte_tel_data_add_dict_u64(d, "tsc_hz", clock_hz());
	return 0;
}

struct neigh_list {
	struct rte_tel_data *d;
	int n;
};

static void
add_neigh(const struct neigh_entry *e, bool valid, void *arg)
{
	struct neigh_list *l = arg;
	char ip[INET_ADDRSTRLEN], v[96];
	uint64_t m = e->mac;
	const uint8_t *b = (const uint8_t *)&m;

	/* Dict keys may not contain dots: one "ADDRESS MAC state" string per entry. */
	if (l->n++ >= 64)
		return;
	snprintf(v, sizeof(v), "%s %02x:%02x:%02x:%02x:%02x:%02x %s%s",
		 pkt_format_ipv4(e->ip, ip, sizeof(ip)), b[0], b[1], b[2], b[3], b[4], b[5],
		 valid ? "reachable" : "incomplete", (e->flags & NEIGH_F_STATIC) ? " static" : "");
	rte_tel_data_add_array_string(l->d, v);
}

static struct rte_tel_data *
port_dict(const struct dp_port *p)
{
	struct rte_tel_data *d = rte_tel_data_alloc();
	struct rte_eth_stats es;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	if (d == NULL)
		return NULL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "device", p->name);
	rte_tel_data_add_dict_u64(d, "port_id", p->port_id);
	rte_ether_format_addr(mac, sizeof(mac), &p->mac);
	rte_tel_data_add_dict_string(d, "mac", mac);
	add_prefix(d, "address", p->addr, p->subnet.depth);
	if (p->gateway != 0)
		add_ip(d, "gateway", p->gateway);
	rte_tel_data_add_dict_u64(d, "mtu", p->mtu);
	rte_tel_data_add_dict_u64(d, "rx_queues", p->nb_rxq);
	rte_tel_data_add_dict_u64(d, "tx_queues", p->nb_txq);
	if (rte_eth_stats_get(p->port_id, &es) == 0) {
		rte_tel_data_add_dict_u64(d, "ipackets", es.ipackets);
		rte_tel_data_add_dict_u64(d, "opackets", es.opackets);
		rte_tel_data_add_dict_u64(d, "ibytes", es.ibytes);
		rte_tel_data_add_dict_u64(d, "obytes", es.obytes);
		rte_tel_data_add_dict_u64(d, "imissed", es.imissed);
		rte_tel_data_add_dict_u64(d, "ierrors", es.ierrors);
		rte_tel_data_add_dict_u64(d, "oerrors", es.oerrors);
		rte_tel_data_add_dict_u64(d, "rx_nombuf", es.rx_nombuf);
	}
	return d;
}

static int
cmd_ports(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	for (int r = 0; r < PORT_MAX; r++) {
		struct rte_tel_data *pd = port_dict(&dp.ports[r]);

		if (pd != NULL)
			rte_tel_data_add_dict_container(d, dp.ports[r].role_name, pd, 0);
	}
	return 0;
}

/* ARP caches of both ports (a command of its own: telemetry nests containers one level only). */
static int
cmd_neighbors(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	for (int r = 0; r < PORT_MAX; r++) {
		struct rte_tel_data *nd = rte_tel_data_alloc();
		struct neigh_list nl = { .d = nd };

		if (nd == NULL)
			return -ENOMEM;
		rte_tel_data_start_array(nd, RTE_TEL_STRING_VAL);
		neigh_walk(&dp.ports[r].neigh, clock_now(), add_neigh, &nl);
		rte_tel_data_add_dict_container(d, dp.ports[r].role_name, nd, 0);
	}
	return 0;
}

static int
cmd_lcores(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < dp.nb_workers; i++) {
		const struct lcore_stats *s = &dp.workers[i].stats;
		struct rte_tel_data *w = rte_tel_data_alloc();
		char name[32];
		uint64_t busy = stats_read(&s->busy_cycles), total = stats_read(&s->total_cycles);

		if (w == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(w);
		rte_tel_data_add_dict_u64(w, "lcore", dp.workers[i].lcore_id);
		rte_tel_data_add_dict_u64(w, "rx_outside", stats_read(&s->rx[PORT_OUTSIDE]));
		rte_tel_data_add_dict_u64(w, "rx_inside", stats_read(&s->rx[PORT_INSIDE]));
		rte_tel_data_add_dict_u64(w, "tx_outside", stats_read(&s->tx[PORT_OUTSIDE]));
		rte_tel_data_add_dict_u64(w, "tx_inside", stats_read(&s->tx[PORT_INSIDE]));
		rte_tel_data_add_dict_u64(w, "handoff_out", stats_read(&s->handoff_out));
		rte_tel_data_add_dict_u64(w, "handoff_in", stats_read(&s->handoff_in));
		rte_tel_data_add_dict_u64(w, "arp_requests", stats_read(&s->arp_requests));
		rte_tel_data_add_dict_u64(w, "arp_replies", stats_read(&s->arp_replies));
		rte_tel_data_add_dict_u64(w, "icmp_echo_replies", stats_read(&s->icmp_echo_replies));
		rte_tel_data_add_dict_u64(w, "icmp_errors", stats_read(&s->icmp_errors));
		rte_tel_data_add_dict_u64(w, "drops", sum_drops(s->drops));
		rte_tel_data_add_dict_u64(w, "busy_cycles", busy);
		rte_tel_data_add_dict_u64(w, "total_cycles", total);
		rte_tel_data_add_dict_u64(w, "busy_percent", total ? busy * 100 / total : 0);
		struct rte_tel_data *dd = drops_dict(s->drops, false);
		if (dd != NULL)
			rte_tel_data_add_dict_container(w, "drop_reasons", dd, 0);
		snprintf(name, sizeof(name), "worker%u", i);
		rte_tel_data_add_dict_container(d, name, w, 0);
	}
	return 0;
}

static int
cmd_tunnels(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *ids = rte_tel_data_alloc();
	uint32_t start = params != NULL && *params ? (uint32_t)strtoul(params, NULL, 0) : 0;
	uint32_t i, n = 0;

	if (ids == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rte_tel_data_start_array(ids, RTE_TEL_U64_VAL);
	pthread_mutex_lock(&dp.tunnels.lock);
	for (i = start; i < dp.tunnels.capacity && n < IDS_PER_PAGE; i++) {
		const struct tunnel *t = dp.tunnels.by_index[i];

		if (t != NULL) {
			rte_tel_data_add_array_u64(ids, t->id);
			n++;
		}
	}
	rte_tel_data_add_dict_u64(d, "count", dp.tunnels.count);
	rte_tel_data_add_dict_container(d, "ids", ids, 0);
	/* Larger tables page: ask again with ",<next>" until next is absent. */
	for (; i < dp.tunnels.capacity; i++)
		if (dp.tunnels.by_index[i] != NULL) {
			rte_tel_data_add_dict_u64(d, "next", i);
			break;
		}
	pthread_mutex_unlock(&dp.tunnels.lock);
	return 0;
}

/*
 * Each path of a multi-path tunnel as its own dict "pathN" in the reply (rte_telemetry
 * nests containers one level deep only).
 */
static void
add_paths(const struct tunnel *t, struct rte_tel_data *d)
{
	uint64_t now = clock_now();

	rte_tel_data_add_dict_string(d, "path_mode", t->paths_mode == TUNNEL_PATHS_WEIGHTED
						     ? (t->weights_auto ? "weighted auto" : "weighted")
						     : "redundant");
	for (unsigned i = 0; i < t->nb_paths; i++) {
		const struct tunnel_path *p = &t->paths[i];
		struct rte_tel_data *pd = rte_tel_data_alloc();
		char name[16];
		uint64_t last = __atomic_load_n(&p->last_rx, __ATOMIC_RELAXED);

		if (pd == NULL)
			return;
		rte_tel_data_start_dict(pd);
		add_ip(pd, "peer", p->peer);
		rte_tel_data_add_dict_string(pd, "state", tunnel_path_alive(t, i, now) ? "alive" : "dead");
		rte_tel_data_add_dict_u64(pd, "weight", __atomic_load_n(&p->weight, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(pd, "rx_packets", stats_read(&p->rx_packets));
		rte_tel_data_add_dict_u64(pd, "rx_bytes", stats_read(&p->rx_bytes));
		rte_tel_data_add_dict_u64(pd, "tx_packets", stats_read(&p->tx_packets));
		rte_tel_data_add_dict_u64(pd, "tx_bytes", stats_read(&p->tx_bytes));
		if (last != 0)
			rte_tel_data_add_dict_u64(pd, "last_rx_ms", (now - last) * 1000 / clock_hz());
		snprintf(name, sizeof(name), "path%u", i);
		rte_tel_data_add_dict_container(d, name, pd, 0);
	}
}

/* The window's counters, named as operators of the OpenWrt GRE/PPTP reorder patch know them. */
static struct rte_tel_data *
reorder_dict(const struct tunnel *t)
{
	struct rte_tel_data *d = rte_tel_data_alloc();
	struct reorder_stats s;

	if (d == NULL)
		return NULL;
	reorder_stats_read(&t->reorder, &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "mode", t->reorder_mode == TUNNEL_REORDER_ON
						     ? (t->reorder_conf.adaptive ? "adaptive" : "on")
						     : "off");
	rte_tel_data_add_dict_u64(d, "accepted", s.accepted);
	rte_tel_data_add_dict_u64(d, "under_window", s.under_window);
	rte_tel_data_add_dict_u64(d, "buffered", s.buffered);
	rte_tel_data_add_dict_u64(d, "duplicated", s.duplicated);
	rte_tel_data_add_dict_u64(d, "lost", s.lost);
	rte_tel_data_add_dict_u64(d, "far_ahead", s.far_ahead);
	rte_tel_data_add_dict_u64(d, "resyncs", s.resyncs);
	rte_tel_data_add_dict_u64(d, "nobuf", s.nobuf);
	rte_tel_data_add_dict_u64(d, "freed", s.freed);
	rte_tel_data_add_dict_u64(d, "window", t->reorder_conf.size);
	rte_tel_data_add_dict_u64(d, "held", reorder_held(&t->reorder));
	rte_tel_data_add_dict_u64(d, "hold_us", reorder_hold_us(dp.workers[t->worker].reorder, &t->reorder));
	rte_tel_data_add_dict_u64(d, "next_seq", reorder_next_seq(&t->reorder));
	return d;
}

/* The tunnel a command's "id" parameter names: 0, -EINVAL or -ENOENT. */
static int
tunnel_of_params(const char *params, const struct tunnel **t)
{
	char *end;
	unsigned long id;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	id = strtoul(params, &end, 0);
	if (*end != '\0')
		return -EINVAL;
	*t = tunnel_table_by_id(&dp.tunnels, (uint32_t)id);
	return *t == NULL ? -ENOENT : 0;
}

static int
tunnel_dict(const char *params, struct rte_tel_data *d)
{
	const struct tunnel *t;
	struct rte_tel_data *routes, *drops;
	int rc = tunnel_of_params(params, &t);

	if (rc < 0)
		return rc;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "id", t->id);
	rte_tel_data_add_dict_string(d, "name", t->name);
	rte_tel_data_add_dict_string(d, "protocol", t->ops->name);
	add_ip(d, "local", t->local);
	add_ip(d, "peer", t->peer);
	rte_tel_data_add_dict_u64(d, "worker", t->worker);
	rte_tel_data_add_dict_u64(d, "lcore", dp.workers[t->worker].lcore_id);
	rte_tel_data_add_dict_u64(d, "mtu", t->mtu);
	rte_tel_data_add_dict_u64(d, "ttl", t->ttl);
	rte_tel_data_add_dict_u64(d, "rx_packets", stats_read(&t->stats.rx_packets));
	rte_tel_data_add_dict_u64(d, "rx_bytes", stats_read(&t->stats.rx_bytes));
	rte_tel_data_add_dict_u64(d, "tx_packets", stats_read(&t->stats.tx_packets));
	rte_tel_data_add_dict_u64(d, "tx_bytes", stats_read(&t->stats.tx_bytes));
	rte_tel_data_add_dict_u64(d, "drops", sum_drops(t->stats.drops));
	routes = rte_tel_data_alloc();
	if (routes != NULL) {
		rte_tel_data_start_array(routes, RTE_TEL_STRING_VAL);
		for (unsigned i = 0; i < t->nb_routes; i++) {
			char buf[INET_ADDRSTRLEN], out[32];

			snprintf(out, sizeof(out), "%s/%u",
				 pkt_format_ipv4(t->routes[i].addr, buf, sizeof(buf)), t->routes[i].depth);
			rte_tel_data_add_array_string(routes, out);
		}
		rte_tel_data_add_dict_container(d, "routes", routes, 0);
	}
	if (t->dscp == PKT_DSCP_INHERIT)
		rte_tel_data_add_dict_string(d, "dscp", "inherit");
	else
		rte_tel_data_add_dict_u64(d, "dscp", t->dscp);
	rte_tel_data_add_dict_u64(d, "ecn_odd", stats_read(&t->ecn_odd));
	rte_tel_data_add_dict_u64(d, "mss_clamp", t->mss_clamp);
	rte_tel_data_add_dict_u64(d, "mss_clamped", stats_read(&t->mss_clamped));
	if (t->nb_paths > 1)
		add_paths(t, d);
	if (t->reorder_mode != TUNNEL_REORDER_NONE) {
		struct rte_tel_data *rd = reorder_dict(t);

		if (rd != NULL)
			rte_tel_data_add_dict_container(d, "reorder", rd, 0);
	}
	if (t->qos != NULL) {
		struct rte_tel_data *qd = rte_tel_data_alloc();

		if (qd != NULL) {
			rte_tel_data_start_dict(qd);
			qos_telemetry(t, qd);
			rte_tel_data_add_dict_container(d, "qos", qd, 0);
		}
	}
	drops = drops_dict(t->stats.drops, true);
	if (drops != NULL)
		rte_tel_data_add_dict_container(d, "drop_reasons", drops, 0);
	if (t->ops->telemetry != NULL)
		t->ops->telemetry(t, d);
	return 0;
}

/* Run-time tunnels (PPTP sessions) come and go: readers hold the table lock. */
static int
cmd_tunnel(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	int rc;

	pthread_mutex_lock(&dp.tunnels.lock);
	rc = tunnel_dict(params, d);
	pthread_mutex_unlock(&dp.tunnels.lock);
	return rc;
}

/* A PPTP or OpenVPN session: the tunnel's counters and window plus the driver's state. */
static int
cmd_session(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	const struct tunnel *t;
	int rc;

	pthread_mutex_lock(&dp.tunnels.lock);
	rc = tunnel_of_params(params, &t);
	if (rc == 0 && t->ops != &pptp_ops && t->ops != &openvpn_tls_ops)
		rc = -ENOENT;
	if (rc == 0)
		rc = tunnel_dict(params, d);
	pthread_mutex_unlock(&dp.tunnels.lock);
	return rc;
}

static int
cmd_sessions(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	pthread_mutex_lock(&dp.tunnels.lock);
	pptp_telemetry_sessions(d);
	ovpn_server_sessions(d);
	pthread_mutex_unlock(&dp.tunnels.lock);
	return 0;
}

static int
cmd_pptp(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	pthread_mutex_lock(&dp.tunnels.lock);
	pptp_telemetry_server(d);
	rte_tel_data_add_dict_string(d, "enabled", dp.cfg.pptp.enable ? "yes" : "no");
	pthread_mutex_unlock(&dp.tunnels.lock);
	return 0;
}

static int
cmd_openvpn(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&dp.tunnels.lock);
	ovpn_server_telemetry(d);
	rte_tel_data_add_dict_string(d, "enabled", dp.cfg.ovpn.enable ? "yes" : "no");
	pthread_mutex_unlock(&dp.tunnels.lock);
	return 0;
}

/* One tunnel's shaper and fq_codel: rate, backlog, drops and marks, sojourn percentiles. */
static int
cmd_qos(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	const struct tunnel *t;
	int rc = tunnel_of_params(params, &t);

	if (rc < 0)
		return rc;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "id", t->id);
	qos_telemetry(t, d);
	return 0;
}

/* Sum of every drop counter, workers and tunnels: one place to see what is lost and why. */
static void
total_drops(uint64_t *out)
{
	memcpy(out, dp.gone.drops, sizeof(uint64_t) * DROP_MAX);
	for (unsigned i = 0; i < dp.nb_workers; i++)
		for (int r = 0; r < DROP_MAX; r++)
			out[r] += stats_read(&dp.workers[i].stats.drops[r]);
	for (uint32_t i = 0; i < dp.tunnels.capacity; i++) {
		const struct tunnel *t = dp.tunnels.by_index[i];

		if (t != NULL)
			for (int r = 0; r < DROP_MAX; r++)
				out[r] += stats_read(&t->stats.drops[r]);
	}
}

/* Packets the reorder windows dropped, by fate, summed over tunnels. */
static void
window_drops(uint64_t *under, uint64_t *dup, uint64_t *far)
{
	*under = dp.gone.under_window;
	*dup = dp.gone.duplicated;
	*far = dp.gone.far_ahead;
	for (uint32_t i = 0; i < dp.tunnels.capacity; i++) {
		const struct tunnel *t = dp.tunnels.by_index[i];
		struct reorder_stats s;

		if (t == NULL || t->reorder_mode == TUNNEL_REORDER_NONE)
			continue;
		reorder_stats_read(&t->reorder, &s);
		*under += s.under_window;
		*dup += s.duplicated;
		*far += s.far_ahead;
	}
}

static int
cmd_drops(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	uint64_t sum[DROP_MAX], under, dup, far;

	/* Sessions leave the table under the lock: no tunnel is freed while we read it. */
	pthread_mutex_lock(&dp.tunnels.lock);
	total_drops(sum);
	window_drops(&under, &dup, &far);
	pthread_mutex_unlock(&dp.tunnels.lock);
	rte_tel_data_start_dict(d);
	for (int r = 0; r < DROP_MAX; r++)
		rte_tel_data_add_dict_u64(d, stats_drop_name((enum drop_reason)r), sum[r]);
	rte_tel_data_add_dict_u64(d, "window_under_window", under);
	rte_tel_data_add_dict_u64(d, "window_duplicated", dup);
	rte_tel_data_add_dict_u64(d, "window_far_ahead", far);
	return 0;
}

int
telemetry_init(void)
{
	static const struct {
		const char *name;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/dpvpn/info", cmd_info, "Daemon summary: version, uptime, workers, mbufs in use." },
		{ "/dpvpn/ports", cmd_ports, "Outside and inside ports: addresses, ethdev counters, neighbours." },
		{ "/dpvpn/neighbors", cmd_neighbors, "ARP cache of each port: address, MAC, state." },
		{ "/dpvpn/lcores", cmd_lcores, "Per worker: rx, tx, handoffs, drops, busy cycles." },
		{ "/dpvpn/tunnels", cmd_tunnels, "Tunnel ids. Parameters: start index (paging)." },
		{ "/dpvpn/tunnel", cmd_tunnel, "One tunnel's counters and drops by reason. Parameters: id." },
		{ "/dpvpn/qos", cmd_qos, "One tunnel's shaper and fq_codel: backlog, drops, marks, sojourn. Parameters: id." },
		{ "/dpvpn/drops", cmd_drops, "Every drop reason summed over workers and tunnels." },
		{ "/dpvpn/pptp", cmd_pptp, "PPTP server: control connections, sessions, auth failures, bad messages." },
		{ "/dpvpn/sessions", cmd_sessions, "PPTP and OpenVPN sessions: id, user or common name, peer, address, state." },
		{ "/dpvpn/openvpn", cmd_openvpn, "OpenVPN TLS server: clients, handshakes, TLS failures, renegotiations, bad packets." },
		{ "/dpvpn/session", cmd_session, "One PPTP or OpenVPN session: tunnel counters, window, protocol state. Parameters: id." },
	};

	for (unsigned i = 0; i < RTE_DIM(cmds); i++)
		if (rte_telemetry_register_cmd(cmds[i].name, cmds[i].fn, cmds[i].help) != 0)
			return -1;
	return 0;
}

void
print_final_counters(FILE *f)
{
	uint64_t sum[DROP_MAX];

	fprintf(f, "dpvpn: final counters\n");
	for (unsigned i = 0; i < dp.nb_workers; i++) {
		const struct lcore_stats *s = &dp.workers[i].stats;

		fprintf(f, "  worker%u lcore %u: rx outside %" PRIu64 " inside %" PRIu64
			   ", tx outside %" PRIu64 " inside %" PRIu64 ", handoff out %" PRIu64
			   " in %" PRIu64 "\n",
			i, dp.workers[i].lcore_id, s->rx[PORT_OUTSIDE], s->rx[PORT_INSIDE],
			s->tx[PORT_OUTSIDE], s->tx[PORT_INSIDE], s->handoff_out, s->handoff_in);
	}
	for (uint32_t i = 0; i < dp.tunnels.capacity; i++) {
		const struct tunnel *t = dp.tunnels.by_index[i];

		if (t == NULL)
			continue;
		fprintf(f, "  tunnel %u (%s): rx %" PRIu64 " pkts %" PRIu64 " B, tx %" PRIu64
			   " pkts %" PRIu64 " B, drops %" PRIu64 "\n",
			t->id, t->name, t->stats.rx_packets, t->stats.rx_bytes, t->stats.tx_packets,
			t->stats.tx_bytes, sum_drops(t->stats.drops));
		if (t->reorder_mode != TUNNEL_REORDER_NONE) {
			struct reorder_stats s;

			reorder_stats_read(&t->reorder, &s);
			fprintf(f, "    window: accepted %" PRIu64 ", under window %" PRIu64
				   ", buffered %" PRIu64 ", duplicated %" PRIu64 ", lost %" PRIu64 "\n",
				s.accepted, s.under_window, s.buffered, s.duplicated, s.lost);
		}
	}
	total_drops(sum);
	for (int r = 0; r < DROP_MAX; r++)
		if (sum[r] != 0)
			fprintf(f, "  drop %s: %" PRIu64 "\n", stats_drop_name((enum drop_reason)r), sum[r]);
}
