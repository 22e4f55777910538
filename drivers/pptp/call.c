/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A PPTP call from Outgoing-Call-Request to Call-Disconnect-Notify: its
 * tunnel (put in the table on some lcore), its PPP link (lib/ppp, run here
 * on the control thread), its pool address, and its teardown with every
 * buffer and address returned.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "clock.h"
#include "pkt_tcp_mss.h"
#include "pptp_impl.h"

#define SESSION_ID_BASE 1000000u        /* session (tunnel) ids, apart from configured tunnels' */

/* ---- the address pool ---- */

static rte_be32_t
pool_alloc(rte_be32_t fixed, bool *from_pool)
{
	const struct pkt_prefix *p = &pptp_srv.conf->pool;
	const uint32_t base = rte_be_to_cpu_32(p->addr);

	*from_pool = false;
	if (fixed != 0) {
		uint32_t off = rte_be_to_cpu_32(fixed) - base;

		/* A fixed address inside the pool is taken from it; outside, the route decides. */
		if (pkt_prefix_contains(p, fixed)) {
			if (pptp_srv.pool_used[off])
				return 0;
			pptp_srv.pool_used[off] = 1;
			*from_pool = true;
		}
		return fixed;
	}
	/* Network and broadcast addresses of the pool are skipped, and our own. */
	for (uint32_t off = 1; off + 1 < pptp_srv.pool_size; off++) {
		rte_be32_t a = rte_cpu_to_be_32(base + off);

		if (pptp_srv.pool_used[off] || a == pptp_srv.conf->ppp.local_addr)
			continue;
		pptp_srv.pool_used[off] = 1;
		*from_pool = true;
		return a;
	}
	return 0;
}

static void
pool_free(rte_be32_t a)
{
	const struct pkt_prefix *p = &pptp_srv.conf->pool;

	if (pkt_prefix_contains(p, a))
		pptp_srv.pool_used[rte_be_to_cpu_32(a) - rte_be_to_cpu_32(p->addr)] = 0;
}

/* ---- PPP callbacks (control thread) ---- */

static void
ppp_send(void *ctx, const uint8_t *frame, uint16_t len)
{
	struct pptp_call *call = ctx;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pptp_srv.host->pool);
	uint8_t *p;

	if (m == NULL)
		return;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(len + 2));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	/* Full HDLC-like header on everything we send (we never ask for ACFC/PFC). */
	p[0] = 0xff;
	p[1] = 0x03;
	memcpy(p + 2, frame, len);
	pptp_srv.ppp_frames_tx++;
	pptp_srv.host->send_frame(call->t, m);
}

static uint32_t
ppp_addr_alloc(void *ctx, const char *user, uint32_t fixed)
{
	struct pptp_call *call = ctx;

	(void)user;
	if (call->addr == 0)
		call->addr = pool_alloc(fixed, &call->addr_from_pool);
	return call->addr;
}

static void
mppe_publish(struct pptp_call *call, struct ppp_link *l)
{
	if (l->mppe_on)
		pptp_session_mppe_start(call->s, l->mppe_send_key, l->mppe_recv_key, l->mppe_key_bits,
					l->mppe_stateless);
}

static void
ppp_up(void *ctx, struct ppp_link *l)
{
	struct pptp_call *call = ctx;
	struct tunnel *t = call->t;
	int rc;

	/* What we send fits the client's MRU after MPPE's 4 bytes. */
	if (l->peer_mru - 4 < t->mtu)
		t->mtu = (uint16_t)(l->peer_mru - 4);
	if (t->mss_clamp != 0 && pkt_tcp_mss_for_mtu(t->mtu) < t->mss_clamp)
		t->mss_clamp = pkt_tcp_mss_for_mtu(t->mtu);
	rc = pptp_srv.host->route_add(t, call->addr);
	if (rc < 0) {
		pptp_log("call %u (%s): address %s already routed elsewhere", call->call_id, l->user,
			 inet_ntoa((struct in_addr){ call->addr }));
		ppp_link_close(l, "address in use", clock_monotonic_ms());
		return;
	}
	mppe_publish(call, l);
	__atomic_store_n(&call->s->ip_up, 1, __ATOMIC_RELEASE);
	pptp_srv.sessions_up++;
	/* inet_ntoa's buffer is static: one call per printed address. */
	char peer[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &call->conn->peer, peer, sizeof(peer));
	inet_ntop(AF_INET, &call->addr, addr, sizeof(addr));
	pptp_log("call %u: %s from %s is up with %s, MPPE %s", call->call_id, l->user, peer, addr,
		 l->mppe_on ? (l->mppe_stateless ? "stateless" : "stateful") : "off");
}

static void
ppp_mppe(void *ctx, struct ppp_link *l)
{
	mppe_publish(ctx, l);
}

static void
ppp_down(void *ctx, struct ppp_link *l, const char *why)
{
	struct pptp_call *call = ctx;

	if (strcmp(why, "authentication failed") == 0)
		pptp_srv.auth_failures++;
	(void)l;
	pptp_call_close(call, why, true);
}

/* ---- sessions: what a call's data path gets, without the call (perf/pptp uses these too) ---- */

struct tunnel *
pptp_session_new(const struct pptp_conf *conf, rte_be32_t local, rte_be32_t peer, uint16_t call_id,
		 uint16_t peer_call_id, uint16_t peer_window, uint32_t id)
{
	struct tunnel *t = rte_zmalloc("pptp_session", sizeof(*t) + sizeof(struct pptp_session),
				       RTE_CACHE_LINE_SIZE);
	struct pptp_session *s;

	if (t == NULL)
		return NULL;
	s = (struct pptp_session *)(t + 1);
	/* Per-session settings from the [pptp] template (reorder, MSS clamp, TTL, DSCP). */
	t->ops = &pptp_ops;
	t->priv = s;
	t->id = id;
	t->local = local;
	t->peer = peer;
	tunnel_from_template(t, &conf->template);
	t->mtu = conf->mtu;
	t->overhead = PPTP_OVERHEAD;
	snprintf(t->name, sizeof(t->name), "pptp-%u", call_id);
	s->call_id = call_id;
	s->peer_call_id = peer_call_id;
	s->peer_window = peer_window;
	s->window_enforce = conf->peer_window_enforce;
	s->window_timeout = clock_ms_to_ticks(conf->peer_window_timeout_ms);
	s->id = id;
	s->mppe_required = conf->ppp.mppe == PPP_MPPE_REQUIRE;
	return t;
}

void
pptp_session_mppe_start(struct pptp_session *s, const uint8_t *send_key, const uint8_t *recv_key,
			unsigned key_bits, bool stateless)
{
	if (__atomic_load_n(&s->mppe_on, __ATOMIC_RELAXED))
		return;
	mppe_state_init(&s->mppe_tx, MPPE_DIR_TX, send_key, key_bits, stateless);
	mppe_state_init(&s->mppe_rx, MPPE_DIR_RX, recv_key, key_bits, stateless);
	/* The lcore reads the states only after it sees the flag. */
	__atomic_store_n(&s->mppe_on, 1, __ATOMIC_RELEASE);
}

/* ---- calls ---- */

static const struct ppp_link_cb ppp_callbacks = {
	.send = ppp_send,
	.addr_alloc = ppp_addr_alloc,
	.up = ppp_up,
	.mppe = ppp_mppe,
	.down = ppp_down,
};

struct pptp_call *
pptp_call_open(struct pptp_conn *c, uint16_t peer_call_id, uint16_t serial, uint16_t peer_window,
	       uint8_t *result, uint8_t *error)
{
	const struct pptp_conf *conf = pptp_srv.conf;
	struct pptp_call *call;
	struct pptp_session *s;
	struct tunnel *t;
	struct ppp_link_cb cb = ppp_callbacks;
	uint16_t id = 0;

	*result = 2;                    /* General error */
	*error = 4;                     /* No-Resource */
	if (pptp_srv.nb_calls >= conf->max_sessions) {
		pptp_srv.calls_refused++;
		return NULL;
	}
	/* Call ids rotate, so a recent id (frames may still name it) is reused last. */
	for (unsigned n = 0; n < 65535 && id == 0; n++) {
		uint16_t cand = pptp_srv.next_call_id++;

		if (pptp_srv.next_call_id == 0)
			pptp_srv.next_call_id = 1;
		if (cand != 0 && pptp_srv.calls[cand] == NULL)
			id = cand;
	}
	call = calloc(1, sizeof(*call));
	t = id != 0 ? pptp_session_new(conf, pptp_srv.host->local, c->peer, id, peer_call_id, peer_window,
				       SESSION_ID_BASE + pptp_srv.next_session_id) : NULL;
	if (call == NULL || t == NULL) {
		free(call);
		rte_free(t);
		pptp_srv.calls_refused++;
		return NULL;
	}
	pptp_srv.next_session_id++;
	s = t->priv;
	s->call = call;
	call->conn = c;
	call->t = t;
	call->s = s;
	call->call_id = id;
	call->peer_call_id = peer_call_id;
	call->serial = serial;
	call->started_ms = clock_monotonic_ms();
	cb.ctx = call;
	ppp_link_init(&call->ppp, &conf->ppp, &cb, call->started_ms);
	if (pptp_srv.host->session_add(t) < 0) {
		free(call);
		rte_free(t);
		pptp_srv.calls_refused++;
		*error = 6;             /* PAC-Error */
		return NULL;
	}
	pptp_srv.calls[id] = call;
	TAILQ_INSERT_TAIL(&pptp_srv.calls_live, call, next);
	TAILQ_INSERT_TAIL(&c->calls, call, conn_next);
	pptp_srv.nb_calls++;
	pptp_srv.calls_opened++;
	c->nb_calls++;
	*result = 1;                    /* Connected */
	*error = 0;
	return call;
}

void
pptp_call_close(struct pptp_call *call, const char *why, bool send_cdn)
{
	if (call->dead)
		return;
	call->dead = true;
	pptp_srv.nb_dead_calls++;
	snprintf(call->why, sizeof(call->why), "%s", why);
	__atomic_store_n(&call->s->closing, 1, __ATOMIC_RELEASE);
	if (send_cdn && !call->cdn_sent) {
		/* Result 3: administrative shutdown; the reason in the call statistics text. */
		pptp_conn_send_cdn(call->conn, call->call_id, 3, why);
		call->cdn_sent = true;
	}
}

static void
call_free(struct pptp_call *call)
{
	pptp_log("call %u (%s) closed: %s", call->call_id, call->ppp.user[0] ? call->ppp.user : "-", call->why);
	/* pptp_calls_reap took it off the table and out of every lcore before the memory goes. */
	if (call->addr != 0 && call->addr_from_pool)
		pool_free(call->addr);
	pptp_srv.calls[call->call_id] = NULL;
	TAILQ_REMOVE(&pptp_srv.calls_live, call, next);
	TAILQ_REMOVE(&call->conn->calls, call, conn_next);
	pptp_srv.nb_calls--;
	pptp_srv.nb_dead_calls--;
	pptp_srv.calls_closed++;
	call->conn->nb_calls--;
	OPENSSL_cleanse(call->s, sizeof(*call->s));
	OPENSSL_cleanse(&call->ppp, sizeof(call->ppp));
	rte_free(call->t);
	free(call);
}

/* Dead calls leave in batches: one table removal (one RCU grace period) per batch. */
#define REAP_BATCH 256

void
pptp_calls_reap(void)
{
	struct pptp_call *dead[REAP_BATCH], *call;
	struct tunnel *ts[REAP_BATCH];

	while (pptp_srv.nb_dead_calls > 0) {
		unsigned n = 0;

		TAILQ_FOREACH(call, &pptp_srv.calls_live, next) {
			if (!call->dead)
				continue;
			dead[n] = call;
			ts[n++] = call->t;
			if (n == REAP_BATCH)
				break;
		}
		if (n == 0)
			return;         /* cannot happen: nb_dead_calls counts the list's dead */
		pptp_srv.host->sessions_remove(ts, n);
		for (unsigned k = 0; k < n; k++)
			call_free(dead[k]);
	}
}

void
pptp_calls_timer(uint64_t now_ms)
{
	struct pptp_call *call;

	TAILQ_FOREACH(call, &pptp_srv.calls_live, next)
		if (!call->dead && ppp_link_next_deadline(&call->ppp) <= now_ms)
			ppp_link_timer(&call->ppp, now_ms);
}

void
pptp_call_ppp_input(struct rte_mbuf *m)
{
	struct pptp_call *call = pptp_srv.calls[(uint16_t)m->hash.usr];

	pptp_srv.ppp_frames_rx++;
	if (call != NULL && !call->dead && m->nb_segs == 1)
		ppp_link_input(&call->ppp, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			       clock_monotonic_ms());
	rte_pktmbuf_free(m);
}

/* ---- telemetry (caller holds the table lock) ---- */

static const char *
mppe_mode(const struct pptp_call *call)
{
	if (!call->ppp.mppe_on)
		return "off";
	if (call->ppp.mppe_key_bits == 128)
		return call->ppp.mppe_stateless ? "128 stateless" : "128 stateful";
	return call->ppp.mppe_stateless ? "40 stateless" : "40 stateful";
}

static void
add_ip(struct rte_tel_data *d, const char *k, rte_be32_t a)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	rte_tel_data_add_dict_string(d, k, buf);
}

static void
call_summary(const struct pptp_call *call, struct rte_tel_data *d)
{
	rte_tel_data_add_dict_u64(d, "id", call->t->id);
	rte_tel_data_add_dict_string(d, "user", call->ppp.user);
	add_ip(d, "peer", call->conn->peer);
	add_ip(d, "address", call->addr);
	rte_tel_data_add_dict_string(d, "state", call->dead ? "closing" : ppp_link_state(&call->ppp));
	rte_tel_data_add_dict_string(d, "mppe", mppe_mode(call));
	rte_tel_data_add_dict_u64(d, "uptime_s", (clock_monotonic_ms() - call->started_ms) / 1000);
}

/* The driver's fields of /dpvpn/tunnel,ID and /dpvpn/session,ID. */
void
pptp_tunnel_telemetry(const struct tunnel *t, struct rte_tel_data *d)
{
	const struct pptp_session *s = t->priv;
	const struct pptp_call *call = s->call;

	call_summary(call, d);
	rte_tel_data_add_dict_string(d, "auth", call->ppp.auth == PPP_AUTH_MSCHAPV2 ? "mschapv2" : "chap-md5");
	rte_tel_data_add_dict_u64(d, "call_id", s->call_id);
	rte_tel_data_add_dict_u64(d, "peer_call_id", s->peer_call_id);
	rte_tel_data_add_dict_u64(d, "peer_window", s->peer_window);
	rte_tel_data_add_dict_u64(d, "tx_seq", __atomic_load_n(&s->tx_seq, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "rx_seq", __atomic_load_n(&s->rx_seq, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "peer_ack", __atomic_load_n(&s->peer_ack, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "acks_rx", __atomic_load_n(&s->acks_rx, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "acks_only_tx", __atomic_load_n(&s->acks_only_tx, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "ppp_control_rx", __atomic_load_n(&s->ctrl_rx, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "ppp_control_tx", __atomic_load_n(&s->ctrl_tx, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "ccp_resets_rx", __atomic_load_n(&s->resets_rx, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "ccp_resets_tx", __atomic_load_n(&s->resets_tx, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "mppe_resync_extra",
				  __atomic_load_n(&s->mppe_rx.resync_extra, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "beyond_peer_window", __atomic_load_n(&s->beyond_peer_window, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_string(d, "peer_window_mode", s->window_enforce ? "enforce" : "count");
	rte_tel_data_add_dict_u64(d, "peer_window_waits", __atomic_load_n(&s->peer_window_waits, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "peer_window_timeouts",
				  __atomic_load_n(&s->peer_window_timeouts, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "lcp_echo_sent", call->ppp.echo_sent);
	rte_tel_data_add_dict_u64(d, "lcp_echo_replies", call->ppp.echo_replies);
}

void
pptp_telemetry_server(struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "control_connections", pptp_srv.nb_conns);
	rte_tel_data_add_dict_u64(d, "sessions", pptp_srv.nb_calls);
	rte_tel_data_add_dict_u64(d, "connections_accepted", pptp_srv.conns_accepted);
	rte_tel_data_add_dict_u64(d, "connections_closed", pptp_srv.conns_closed);
	rte_tel_data_add_dict_u64(d, "connections_refused", pptp_srv.conns_refused);
	rte_tel_data_add_dict_u64(d, "sessions_opened", pptp_srv.calls_opened);
	rte_tel_data_add_dict_u64(d, "sessions_closed", pptp_srv.calls_closed);
	rte_tel_data_add_dict_u64(d, "sessions_refused", pptp_srv.calls_refused);
	rte_tel_data_add_dict_u64(d, "sessions_up", pptp_srv.sessions_up);
	rte_tel_data_add_dict_u64(d, "auth_failures", pptp_srv.auth_failures);
	rte_tel_data_add_dict_u64(d, "bad_messages", pptp_srv.bad_messages);
	rte_tel_data_add_dict_u64(d, "echo_timeouts", pptp_srv.echo_timeouts);
	rte_tel_data_add_dict_u64(d, "ppp_frames_rx", pptp_srv.ppp_frames_rx);
	rte_tel_data_add_dict_u64(d, "ppp_frames_tx", pptp_srv.ppp_frames_tx);
}

/* {"count": N, "<id>": {summary}, ...}: rte_telemetry nests one level, so sessions are keyed by id. */
void
pptp_telemetry_sessions(struct rte_tel_data *d)
{
	const struct pptp_call *call;
	unsigned n = 0;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "count", pptp_srv.nb_calls);
	TAILQ_FOREACH(call, &pptp_srv.calls_live, next) {
		struct rte_tel_data *e;
		char key[16];

		/* The reply has a bounded size: the 64 oldest sessions; /dpvpn/session,ID for any. */
		if (n >= 64 || (e = rte_tel_data_alloc()) == NULL)
			break;
		n++;
		rte_tel_data_start_dict(e);
		call_summary(call, e);
		snprintf(key, sizeof(key), "%u", call->t->id);
		rte_tel_data_add_dict_container(d, key, e, 0);
	}
}
