/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The run-to-completion loop of a worker lcore: poll its RX queue on both
 * ports, then its handoff ring (packets of tunnels it owns that arrived on
 * other lcores), send what the shapers of its queued tunnels allow, flush TX,
 * and do housekeeping every 100 ms.
 */
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "clock.h"
#include "dpvpn.h"
#include "qos.h"

#define HOUSEKEEPING_MS 100
#define REORDER_SWEEP_US 1000 /* gaps expire within a millisecond of their hold time */
#define ICMP_ERRORS_PER_PERIOD 100 /* 1000 per second per worker */

static void
handoff_input(struct worker *w, struct rte_mbuf **pkts, unsigned n)
{
	stats_add(&w->stats.handoff_in, n);
	for (unsigned i = 0; i < n; i++) {
		struct handoff_meta *hm = handoff_meta(pkts[i]);
		struct tunnel *t = tunnel_table_at(&dp.tunnels, hm->tunnel_index);

		if (unlikely(t == NULL)) {
			/* The tunnel went away while the packet was in the ring. */
			worker_drop(w, pkts[i], DROP_NO_TUNNEL);
			continue;
		}
		if (hm->dir == HANDOFF_DECAP)
			tunnel_decap_owned(w, t, pkts[i], hm->l4_off);
		else if (hm->dir == HANDOFF_CTRL)
			tunnel_send_ctrl_mbuf(w, t, pkts[i]);
		else
			tunnel_encap_owned(w, t, pkts[i]);
	}
}

/* Keeps the next hops we need resolved before traffic needs them. */
static void
resolve_next_hops(struct worker *w, uint64_t now)
{
	struct rte_ether_addr mac;

	if (w->index == 0)
		for (int p = 0; p < PORT_MAX; p++) {
			struct dp_port *port = &dp.ports[p];
			enum neigh_result r;

			if (port->gateway == 0)
				continue;
			r = neigh_lookup(&port->neigh, port->gateway, now, &mac);
			if (r == NEIGH_MISS_REQUEST || r == NEIGH_OK_REFRESH)
				xmit_arp_request(w, (enum port_role)p, port->gateway);
		}
	/* On-link tunnel peers (every path), each by the worker that owns the tunnel. */
	for (uint32_t i = 0; i < dp.tunnels.capacity; i++) {
		struct tunnel *t = dp.tunnels.by_index[i];

		if (t == NULL || t->worker != w->index)
			continue;
		for (unsigned p = 0; p < t->nb_paths; p++) {
			rte_be32_t peer = t->paths[p].peer;
			enum neigh_result r;

			if (!pkt_prefix_contains(&dp.ports[PORT_OUTSIDE].subnet, peer))
				continue;
			r = neigh_lookup(&dp.ports[PORT_OUTSIDE].neigh, peer, now, &mac);
			if (r == NEIGH_MISS_REQUEST || r == NEIGH_OK_REFRESH)
				xmit_arp_request(w, PORT_OUTSIDE, peer);
		}
	}
}

static void
tunnels_housekeeping(struct worker *w, uint64_t now)
{
	for (uint32_t i = 0; i < dp.tunnels.capacity; i++) {
		struct tunnel *t = dp.tunnels.by_index[i];

		if (t == NULL || t->worker != w->index)
			continue;
		if (t->nb_paths > 1)
			paths_housekeeping(t);
		if (t->qos != NULL)
			qos_housekeeping(t, now);
		if (t->ops->keepalive != NULL) {
			uint8_t payload[64];
			uint16_t len = t->ops->keepalive(t, now, payload, sizeof(payload));

			if (len == TUNNEL_KEEPALIVE_EMPTY)
				tunnel_send_control(w, t, payload, 0);
			else if (len != 0)
				tunnel_send_control(w, t, payload, len);
		}
	}
}

static void
housekeeping(struct worker *w, uint64_t now)
{
	w->next_housekeeping = now + clock_ms_to_ticks(HOUSEKEEPING_MS);
	w->icmp_tokens = ICMP_ERRORS_PER_PERIOD;
	resolve_next_hops(w, now);
	tunnels_housekeeping(w, now);
}

int
worker_main(void *arg)
{
	struct worker *w = arg;
	struct rte_mbuf *pkts[BURST];
	const struct dp_port *out = &dp.ports[PORT_OUTSIDE], *in = &dp.ports[PORT_INSIDE];
	const bool rx_out = w->index < out->nb_rxq, rx_in = w->index < in->nb_rxq;
	const uint16_t q = (uint16_t)w->index;
	uint64_t idle_ticks = clock_us_to_ticks(dp.cfg.idle_sleep_us);
	uint64_t last_work = clock_now(), prev_end = last_work;

	w->lcore_id = rte_lcore_id();
	/* Run-time tunnel removal waits for every worker to pass the end of a loop. */
	if (dp.tunnels.rcu != NULL) {
		rte_rcu_qsbr_thread_register(dp.tunnels.rcu, w->index);
		rte_rcu_qsbr_thread_online(dp.tunnels.rcu, w->index);
	}
	reorder_sink_init(&w->sink, w->reorder, w->sink_pkts, BURST, reorder_deliver, w);
	w->now = clock_now();
	housekeeping(w, w->now);
	while (!__atomic_load_n(&dp.stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = clock_now();
		unsigned total = 0, n;

		w->now = t0;
		if (rx_out) {
			n = rte_eth_rx_burst(out->port_id, q, pkts, BURST);
			if (n) {
				stats_add(&w->stats.rx[PORT_OUTSIDE], n);
				outside_input(w, pkts, (uint16_t)n);
				total += n;
			}
		}
		if (rx_in) {
			n = rte_eth_rx_burst(in->port_id, q, pkts, BURST);
			if (n) {
				stats_add(&w->stats.rx[PORT_INSIDE], n);
				inside_input(w, pkts, (uint16_t)n);
				total += n;
			}
		}
		n = rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts, BURST, NULL);
		if (n) {
			handoff_input(w, pkts, n);
			total += n;
		}
		if (w->qos_active != NULL)
			total += qos_run(w);
		if (dp.exc != NULL && w->index == 0)
			total += exception_poll(w);
		decap_stage_flush(w);
		if (unlikely(t0 >= w->next_sweep)) {
			/* Idle tunnels must not sit on buffered packets: expire their gaps here too. */
			w->next_sweep = t0 + clock_us_to_ticks(REORDER_SWEEP_US);
			reorder_sweep_all(w->reorder, t0, &w->sink);
		}
		reorder_sink_flush(&w->sink);
		post_stage_flush(w);
		/* After delivery, which may send into tunnels (echo replies, hairpins). */
		encap_stage_flush(w);
		if (unlikely(t0 >= w->next_housekeeping))
			housekeeping(w, t0);
		worker_flush(w);
		if (dp.tunnels.rcu != NULL) {
			if (unlikely(w->release != NULL && !rte_ring_empty(w->release)))
				sessions_release(w);
			rte_rcu_qsbr_quiescent(dp.tunnels.rcu, w->index);
		}

		uint64_t t1 = clock_now();
		/* total includes idle sleeps, so busy/total is the share of the core we used. */
		stats_add(&w->stats.total_cycles, t1 - prev_end);
		prev_end = t1;
		if (total) {
			stats_add(&w->stats.busy_cycles, t1 - t0);
			last_work = t1;
		} else if (idle_ticks && t1 - last_work > idle_ticks && w->qos_active == NULL) {
			/* Shared machines (tests, demos): yield the core when there is nothing to do. */
			usleep(dp.cfg.idle_sleep_us);
		}
	}
	decap_stage_flush(w);
	reorder_sink_flush(&w->sink);
	post_stage_flush(w);
	encap_stage_flush(w);
	worker_flush(w);
	if (dp.tunnels.rcu != NULL) {
		rte_rcu_qsbr_thread_offline(dp.tunnels.rcu, w->index);
		rte_rcu_qsbr_thread_unregister(dp.tunnels.rcu, w->index);
	}
	return 0;
}
