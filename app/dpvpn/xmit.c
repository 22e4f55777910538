/* SPDX-License-Identifier: BSD-3-Clause */
/* Transmit: per-worker TX buffers, next-hop resolution, handoff to owners. */
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "clock.h"
#include "dpvpn.h"

static void
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
xmit_raw(struct worker *w, enum port_role p, struct rte_mbuf *m)
{
	struct tx_buf *b = &w->tx[p];

	b->pkts[b->n++] = m;
	if (b->n == BURST)
		tx_flush(w, p);
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

static inline struct neigh_cache_entry *
ncache_slot(struct worker *w, enum port_role p, rte_be32_t nh)
{
	uint32_t h = rte_be_to_cpu_32(nh) * 2654435761u;

	return &w->ncache[((h >> 26) ^ (uint32_t)p) & (NEIGH_CACHE_SIZE - 1)];
}

void
xmit_ipv4(struct worker *w, enum port_role p, rte_be32_t nh, struct rte_mbuf *m, struct tunnel *t)
{
	struct dp_port *port = &dp.ports[p];
	struct neigh_cache_entry *c = ncache_slot(w, p, nh);
	struct rte_ether_addr mac;
	struct rte_ether_hdr *eth;
	enum drop_reason why;

	if (likely(c->ip == nh && c->port == p && w->now < c->valid_until)) {
		mac = c->mac;
		goto send;
	}
	switch (neigh_lookup(&port->neigh, nh, w->now, &mac)) {
	case NEIGH_OK_REFRESH:
		xmit_arp_request(w, p, nh);
		/* fall through */
	case NEIGH_OK:
		c->ip = nh;
		c->port = (uint8_t)p;
		c->mac = mac;
		c->valid_until = w->now + clock_ms_to_ticks(NEIGH_CACHE_MS);
		goto send;
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
	/* A tunnel's drops are counted on the tunnel only by its owner (the caller). */
	if (t != NULL)
		tunnel_drop_pkt(t, m, why);
	else
		worker_drop(w, m, why);
	return;
send:
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (unlikely(eth == NULL)) {
		if (t != NULL)
			tunnel_drop_pkt(t, m, DROP_NO_MBUF);
		else
			worker_drop(w, m, DROP_NO_MBUF);
		return;
	}
	pkt_eth_set(eth, &mac, &port->mac, RTE_ETHER_TYPE_IPV4);
	xmit_raw(w, p, m);
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
