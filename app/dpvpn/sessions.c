/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Run-time tunnels: PPTP calls and OpenVPN TLS clients become tunnels while
 * dpvpn runs. The control thread (drivers/pptp, drivers/openvpn) adds them to the table on some worker and removes
 * them; workers report quiescent states (rte_rcu_qsbr) so removal knows when
 * no lookup returns the tunnel any more, and the owner frees its reorder
 * window and QoS queue before the memory goes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include "dpvpn.h"
#include "qos.h"
#include "session.h"

#define RELEASE_RING 1024
#define RELEASE_WAIT_US 2000000

static struct session_host host;
static bool ovpn_started;
static pthread_t ctl_thread;
static bool ctl_started;
static unsigned next_worker;

/*
 * A session is queued towards its client when [pptp] shapes sessions, or
 * when it respects the client's receive window (the queue holds what the
 * window does not let go yet; unshaped: rate 0).
 */
static int
session_qos(struct tunnel *t)
{
	const bool pptp = t->ops == &pptp_ops;
	const struct tunnel *tpl = pptp ? &dp.cfg.pptp.template : &dp.cfg.ovpn.template;
	const bool window = pptp && dp.cfg.pptp.peer_window_enforce;
	struct qos_conf c = tpl->qos != NULL ? tpl->qos->conf : dp.cfg.qos;

	if (tpl->qos == NULL && !window)
		return 0;
	if (tpl->qos == NULL)
		c.rate_bps = 0;
	if (qos_tunnel_alloc(t, &c) < 0)
		return -ENOMEM;
	qos_tunnel_init(t);
	return 0;
}

static int
session_add(struct tunnel *t)
{
	struct worker *w;
	int rc;

	/* Round-robin over workers: each session's packets then stay on its owner. */
	t->worker = (uint16_t)(next_worker++ % dp.nb_workers);
	w = &dp.workers[t->worker];
	if (t->reorder_mode != TUNNEL_REORDER_NONE) {
		rc = reorder_window_init(w->reorder, &t->reorder, &t->reorder_conf);
		if (rc < 0)
			return rc;
	}
	rc = session_qos(t);
	if (rc == 0)
		rc = tunnel_table_add(&dp.tunnels, t);
	if (rc < 0) {
		if (t->reorder_mode != TUNNEL_REORDER_NONE)
			reorder_free(w->reorder, &t->reorder);
		free(t->qos);
		t->qos = NULL;
	}
	return rc;
}

/* What the owner must free of a session: its window and its queue (with what they hold). */
static void
owner_release(struct worker *w, struct tunnel *t)
{
	if (t->reorder_mode != TUNNEL_REORDER_NONE)
		reorder_free(w->reorder, &t->reorder);
	if (t->qos != NULL)
		qos_tunnel_release(w, t);
}

static int
route_add(struct tunnel *t, rte_be32_t addr)
{
	return tunnel_table_route_add(&dp.tunnels, t, addr, 32);
}

/* A removed session's final counters join dp.gone (the table lock is held). */
static void
fold_counters(const struct tunnel *t)
{
	for (int r = 0; r < DROP_MAX; r++)
		dp.gone.drops[r] += stats_read(&t->stats.drops[r]);
	if (t->reorder_mode != TUNNEL_REORDER_NONE) {
		struct reorder_stats s;

		reorder_stats_read(&t->reorder, &s);
		dp.gone.under_window += s.under_window;
		dp.gone.duplicated += s.duplicated;
		dp.gone.far_ahead += s.far_ahead;
	}
}

static void
sessions_remove(struct tunnel *const *ts, unsigned n)
{
	bool queued[n];
	unsigned waiting = 0;

	for (unsigned i = 0; i < n; i++)
		tunnel_table_unlink(&dp.tunnels, ts[i]);
	/* One grace period for the batch: then no lookup returns any of them. */
	tunnel_table_sync(&dp.tunnels);
	for (unsigned i = 0; i < n; i++) {
		struct tunnel *t = ts[i];
		struct worker *w = &dp.workers[t->worker];

		queued[i] = false;
		if (t->reorder_mode == TUNNEL_REORDER_NONE && t->qos == NULL)
			continue;
		/* The owner frees what the window and queue hold: their memory is its lcore's. */
		if (!__atomic_load_n(&dp.stop, __ATOMIC_ACQUIRE) && rte_ring_mp_enqueue(w->release, t) == 0) {
			queued[i] = true;
			waiting++;
			continue;
		}
		owner_release(w, t);
	}
	for (unsigned us = 0; waiting > 0 && us < RELEASE_WAIT_US; us += 50) {
		usleep(50);
		waiting = 0;
		for (unsigned i = 0; i < n; i++)
			waiting += queued[i] && !__atomic_load_n(&ts[i]->released, __ATOMIC_ACQUIRE);
	}
	for (unsigned i = 0; i < n; i++) {
		/* Out of the table since the unlink, and the caller holds the lock: no reader sees both. */
		fold_counters(ts[i]);
		if (queued[i] && !__atomic_load_n(&ts[i]->released, __ATOMIC_ACQUIRE)) {
			/* Kept rather than freed under a worker that may still use it. */
			fprintf(stderr, "dpvpn: worker %u did not release session %u's window\n", ts[i]->worker,
				ts[i]->id);
			continue;
		}
		free(ts[i]->qos);
		ts[i]->qos = NULL;
	}
}

void
sessions_release(struct worker *w)
{
	struct tunnel *t;

	while (rte_ring_sc_dequeue(w->release, (void **)&t) == 0) {
		owner_release(w, t);
		__atomic_store_n(&t->released, 1, __ATOMIC_RELEASE);
	}
}

static void
sync_workers(void)
{
	tunnel_table_sync(&dp.tunnels);
}

static void
send_frame(struct tunnel *t, struct rte_mbuf *m)
{
	struct handoff_meta *hm = handoff_meta(m);

	hm->tunnel_index = t->index;
	hm->l4_off = 0;
	hm->dir = HANDOFF_CTRL;
	hm->late_drop = 0;
	if (rte_ring_mp_enqueue(dp.workers[t->worker].handoff, m) != 0)
		tunnel_drop_pkt(t, m, DROP_HANDOFF_FULL);
}

static void *
control_main(void *arg)
{
	(void)arg;
	const bool pptp = dp.cfg.pptp.enable, ovpn = dp.cfg.ovpn.enable;
	/* With both servers, each waits half as long for its sockets. */
	const int wait_ms = pptp && ovpn ? 5 : 10;

	while (!__atomic_load_n(&dp.stopping, __ATOMIC_RELAXED)) {
		if (pptp)
			pptp_server_poll(wait_ms);
		if (ovpn)
			ovpn_server_poll(wait_ms);
	}
	/* Clients hear Stop-Control-Connection; sessions leave while the workers still run. */
	if (pptp)
		pptp_server_fini();
	if (ovpn)
		ovpn_server_fini();
	usleep(200000);
	__atomic_store_n(&dp.stop, true, __ATOMIC_RELEASE);
	return NULL;
}

int
sessions_init(void)
{
	if (!config_has_servers(&dp.cfg))
		return 0;
	for (unsigned i = 0; i < dp.nb_workers; i++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "release%u", i);
		dp.workers[i].release = rte_ring_create(name, RELEASE_RING, (int)rte_socket_id(), RING_F_SC_DEQ);
		if (dp.workers[i].release == NULL)
			return -1;
	}
	host = (struct session_host){
		.local = dp.ports[PORT_OUTSIDE].addr,
		.pool = dp.pool,
		.lock = &dp.tunnels.lock,
		.session_add = session_add,
		.route_add = route_add,
		.sessions_remove = sessions_remove,
		.sync = sync_workers,
		.send_frame = send_frame,
	};
	/* The listening socket belongs to the TAP's namespace, where the kernel has our address. */
	int saved, rc;

	if (exception_netns_enter(&saved) < 0)
		return -1;
	rc = dp.cfg.pptp.enable ? pptp_server_init(&dp.cfg.pptp, &host) : 0;
	if (rc == 0 && dp.cfg.ovpn.enable) {
		rc = ovpn_server_init(&dp.cfg.ovpn, &host);
		ovpn_started = rc == 0;
		if (rc == 0)
			ovpn_tls_set_port(rte_cpu_to_be_16(dp.cfg.ovpn.port), true);
	}
	exception_netns_leave(saved);
	if (rc < 0)
		return -1;
	if (rte_ctrl_thread_create(&ctl_thread, "dpvpn-ctl", NULL, control_main, NULL) != 0) {
		fprintf(stderr, "dpvpn: cannot start the control thread\n");
		return -1;
	}
	ctl_started = true;
	return 0;
}

void
sessions_fini(void)
{
	if (ctl_started) {
		__atomic_store_n(&dp.stopping, true, __ATOMIC_RELAXED);
		pthread_join(ctl_thread, NULL);
		ctl_started = false;
	}
	pptp_server_fini();
	if (ovpn_started) {
		ovpn_tls_set_port(0, false);
		ovpn_server_fini();
		ovpn_started = false;
	}
	for (unsigned i = 0; i < dp.nb_workers; i++) {
		rte_ring_free(dp.workers[i].release);
		dp.workers[i].release = NULL;
	}
}
