/* SPDX-License-Identifier: BSD-3-Clause */
/* Transmit: per-worker TX buffers, next-hop resolution, handoff to owners. */
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "clock.h"
#include "dpvpn.h"

void
tx_flush(struct worker *w, enum port_role p)
{
	struct tx_buf *b = &w->tx[p];
	uint16_t sent;

	if (b->n == 0)
		return;
	sent = rte_eth_tx_burst(dp.ports[p].port_id, (uint16_t)w->index, b->pkts, b->n);
	stats_add(&w->stats.tx[p], sent);
	for (uint16_t i = sent; i < b->n; i++)
		worker_drop(w, b->pkts[i], DROP_TX_FULL);
	b->n = 0;
}

void
worker_flush(struct worker *w)
{
	tx_flush(w, PORT_OUTSIDE);
	tx_flush(w, PORT_INSIDE);
}

void
xmit_arp_request(struct worker *w, enum port_role p, rte_be32_t target)
{
	struct dp_port *port = &dp.ports[p];
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	/* Ethernet minimum frame without FCS: the PMD or wire may not pad for us. */
	const uint16_t len = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
	char *p_data;

	if (m == NULL) {
		stats_inc(&w->stats.drops[DROP_NO_MBUF]);
		return;
	}
	p_data = rte_pktmbuf_append(m, len);
	memset(p_data, 0, len);
	pkt_arp_write_request(p_data, &port->mac, port->addr, target);
	stats_inc(&w->stats.arp_requests);
	xmit_raw(w, p, m);
}

#define NEIGH_CACHE_MS 100 /* how long a worker trusts its copy without asking the table */

void
xmit_drop(struct worker *w, struct tunnel *t, struct rte_mbuf *m, enum drop_reason r)
{
	if (t != NULL)
		tunnel_drop_pkt(t, m, r);
	else
		worker_drop(w, m, r);
}

void
xmit_ipv4_resolve(struct worker *w, enum port_role p, rte_be32_t nh, struct rte_mbuf *m,
		  struct tunnel *t)
{
	struct neigh_cache_entry *c = ncache_slot(w, p, nh);
	struct rte_ether_addr mac;
	enum drop_reason why;

	switch (neigh_lookup(&dp.ports[p].neigh, nh, w->now, &mac)) {
	case NEIGH_OK_REFRESH:
		xmit_arp_request(w, p, nh);
		/* fall through */
	case NEIGH_OK:
		w->ncache_gen++;
		c->ip = nh;
		c->port = (uint8_t)p;
		c->mac = mac;
		c->valid_until = w->now + clock_ms_to_ticks(NEIGH_CACHE_MS);
		xmit_eth(w, p, &mac, m, t);
		return;
	case NEIGH_MISS_REQUEST:
		xmit_arp_request(w, p, nh);
		why = DROP_NEIGH_UNRESOLVED;
		break;
	case NEIGH_MISS:
		why = DROP_NEIGH_UNRESOLVED;
		break;
	case NEIGH_FULL:
	default:
		why = DROP_NEIGH_TABLE_FULL;
		break;
	}
	xmit_drop(w, t, m, why);
}

void
handoff(struct worker *w, struct tunnel *t, struct rte_mbuf *m, enum handoff_dir dir, uint16_t l4_off)
{
	struct handoff_meta *hm = handoff_meta(m);

	hm->tunnel_index = t->index;
	hm->l4_off = l4_off;
	hm->dir = (uint8_t)dir;
	if (rte_ring_mp_enqueue(dp.workers[t->worker].handoff, m) != 0) {
		worker_drop(w, m, DROP_HANDOFF_FULL);
		return;
	}
	stats_inc(&w->stats.handoff_out);
}
