/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-path tunnels: which paths are alive, which path a packet takes, and
 * each path's counters. A path is a peer address of the tunnel; all of them
 * feed the tunnel's one reorder window on receive.
 *
 * Liveness is learnt from what the client sends: a path silent for
 * path_dead_ms while another path of the same tunnel was heard is dead, and
 * lives again with its next packet. A tunnel whose paths are all silent uses
 * all of them (nothing tells them apart).
 */
#include "clock.h"
#include "dpvpn.h"

static bool
path_alive(const struct tunnel *t, const struct tunnel_path *p, uint64_t now)
{
	uint64_t dead = clock_ms_to_ticks(t->path_dead_ms);

	if (p->last_rx != 0 && now - p->last_rx < dead)
		return true;
	for (unsigned i = 0; i < t->nb_paths; i++) {
		const struct tunnel_path *q = &t->paths[i];

		if (q != p && q->last_rx != 0 && now - q->last_rx < dead)
			return false;
	}
	return true;
}

bool
tunnel_path_alive(const struct tunnel *t, unsigned i, uint64_t now)
{
	return path_alive(t, &t->paths[i], now);
}

void
paths_rx(struct worker *w, struct tunnel *t, const struct rte_mbuf *m, uint16_t l4_off)
{
	const struct rte_ipv4_hdr *outer =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, l4_off - sizeof(*outer));
	uint32_t len = rte_pktmbuf_pkt_len(m);

	for (unsigned i = 0; i < t->nb_paths; i++) {
		struct tunnel_path *p = &t->paths[i];

		if (p->peer == outer->src_addr) {
			p->last_rx = w->now;
			p->interval_bytes += len;
			stats_inc(&p->rx_packets);
			stats_add(&p->rx_bytes, len);
			return;
		}
	}
}

/* Sends towards path p and counts it there (outer bytes). */
static void
send_on(struct worker *w, struct tunnel *t, struct tunnel_path *p, struct rte_mbuf *m, uint8_t tos)
{
	uint32_t outer_len = rte_pktmbuf_pkt_len(m) + sizeof(struct rte_ipv4_hdr);

	if (outer_send(w, t, p->peer, m, tos) != 0) {
		stats_inc(&p->tx_packets);
		stats_add(&p->tx_bytes, outer_len);
	}
}

/* Smooth weighted round robin (each path's share follows its weight, evenly interleaved). */
struct tunnel_path *
paths_pick_weighted(struct tunnel *t, uint64_t now)
{
	struct tunnel_path *best = NULL;
	int64_t total = 0;

	for (unsigned i = 0; i < t->nb_paths; i++) {
		struct tunnel_path *p = &t->paths[i];

		if (!path_alive(t, p, now))
			continue;
		p->current += p->weight;
		total += p->weight;
		if (best == NULL || p->current > best->current)
			best = p;
	}
	if (best != NULL)
		best->current -= total;
	return best;
}

void
paths_send(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint8_t tos)
{
	struct tunnel_path *last = NULL;

	if (t->paths_mode == TUNNEL_PATHS_WEIGHTED) {
		last = paths_pick_weighted(t, w->now);
	} else {
		/* Redundant: a copy on every live path, the original on the last one. */
		for (unsigned i = 0; i < t->nb_paths; i++) {
			struct tunnel_path *p = &t->paths[i];

			if (!path_alive(t, p, w->now))
				continue;
			if (last != NULL) {
				struct rte_mbuf *c = rte_pktmbuf_copy(m, dp.pool, 0, UINT32_MAX);

				if (c == NULL)
					tunnel_drop(t, DROP_NO_MBUF);
				else
					send_on(w, t, last, c, tos);
			}
			last = p;
		}
	}
	if (last == NULL) /* cannot happen: with every path silent, all count as alive */
		last = &t->paths[0];
	send_on(w, t, last, m, tos);
}

void
paths_housekeeping(struct tunnel *t)
{
	/* weights = auto: follow each path's received byte rate (its share of the client's
	 * sending capacity), smoothed, and never below 1 so a path can prove itself again. */
	if (!t->weights_auto)
		return;
	for (unsigned i = 0; i < t->nb_paths; i++) {
		struct tunnel_path *p = &t->paths[i];
		uint64_t kib = p->interval_bytes >> 10;

		p->weight = (uint32_t)RTE_MAX((3 * (uint64_t)p->weight + RTE_MIN(kib, (uint64_t)1 << 20)) / 4, (uint64_t)1);
		p->interval_bytes = 0;
	}
}
