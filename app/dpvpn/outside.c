/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outside RX (from clients): Ethernet, ARP, outer IPv4, then the tunnel
 * driver classifies; the tunnel's owner decapsulates and forwards inside.
 */
#include "clock.h"
#include "dpvpn.h"
#include "ecn_decap.h"
#include "gre.h"

static bool
is_our_address(rte_be32_t a)
{
	return a == dp.ports[PORT_OUTSIDE].addr || a == dp.ports[PORT_INSIDE].addr;
}

/* After decap and the reorder window: inner checks and forwarding (consumes m). */
static inline void
deliver(struct worker *w, struct tunnel *t, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;
	struct tunnel *to;
	enum drop_reason r;
	rte_be32_t nh;

	if (ipv4_input_check(m, 0, &ip) != DROP_MAX) {
		r = DROP_INNER_MALFORMED;
		goto drop;
	}
	r = DROP_INNER_SPOOFED;
	if (t->source_check && !tunnel_table_routes_to(&dp.tunnels, ip->src_addr, t))
		goto drop;
	stats_inc(&t->stats.rx_packets);
	stats_add(&t->stats.rx_bytes, rte_pktmbuf_pkt_len(m));
	if (is_our_address(ip->dst_addr)) {
		/* A ping to us through the tunnel is answered back into it. */
		r = ip->next_proto_id == IPPROTO_ICMP && !pkt_ipv4_is_fragment(ip) && m->nb_segs == 1
			    ? pkt_icmp_echo_to_reply(ip, rte_pktmbuf_pkt_len(m))
			    : DROP_IP_UNKNOWN_PROTOCOL;
		if (r != DROP_MAX)
			goto drop;
		stats_inc(&w->stats.icmp_echo_replies);
		tunnel_encap_owned(w, t, m);
		return;
	}
	if (ip->time_to_live <= 1) {
		send_icmp_error(w, m, PKT_ICMP_TIME_EXCEEDED, 0, 0);
		r = DROP_IP_TTL_EXPIRED;
		goto drop;
	}
	pkt_ipv4_ttl_dec(ip);
	to = tunnel_table_route(&dp.tunnels, ip->dst_addr);
	if (to != NULL) {
		/* Client to client: hairpin into the other tunnel, never back into this one. */
		r = DROP_NO_ROUTE;
		if (to == t)
			goto drop;
		if (to->worker == w->index)
			tunnel_encap_owned(w, to, m);
		else
			handoff(w, to, m, HANDOFF_ENCAP, 0);
		return;
	}
	nh = port_next_hop(PORT_INSIDE, ip->dst_addr);
	r = DROP_NO_ROUTE;
	if (nh == 0)
		goto drop;
	xmit_ipv4(w, PORT_INSIDE, nh, m, t);
	return;
drop:
	tunnel_drop_pkt(t, m, r);
}

/* Into t's window; late_drop (see tunnel_rx) rides along in the mbuf until the packet leaves. */
static inline void
window_push(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint32_t seq, uint8_t late_drop)
{
	handoff_meta(m)->late_drop = late_drop;
	reorder_push(w->reorder, &t->reorder, seq, m, w->now, &w->sink);
}

/*
 * After decap (m starts at the inner header; outer_tos was the outer header's):
 * RFC 6040's ECN step, then sequenced tunnels pass the window, which delivers
 * in order through the sink.
 */
static __rte_always_inline void
decap_finish(struct worker *w, struct tunnel *t, struct rte_mbuf *m, enum drop_reason r,
	     const struct tunnel_rx *rx, uint8_t outer_tos)
{
	if (likely(r == DROP_MAX) && likely(!rx->late_drop))
		r = tunnel_ecn_decap(t, outer_tos, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *),
				     rte_pktmbuf_data_len(m));
	if (unlikely(r != DROP_MAX))
		tunnel_drop_pkt(t, m, r);
	else if (t->reorder_mode != TUNNEL_REORDER_NONE && rx->has_seq)
		window_push(w, t, m, rx->seq, rx->late_drop);
	else if (unlikely(rx->late_drop))
		tunnel_drop_pkt(t, m, (enum drop_reason)(rx->late_drop - 1));
	else
		deliver(w, t, m);
}

/* Owner, GRE tunnel t: decap with the header already parsed into gi. */
static __rte_always_inline void
decap_gre(struct worker *w, struct tunnel *t, struct rte_mbuf *m, const struct gre_info *gi)
{
	const uint16_t l4 = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);
	struct tunnel_rx rx = { .has_seq = false };
	const uint8_t outer_tos = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
							  sizeof(struct rte_ether_hdr))->type_of_service;

	if (unlikely(t->nb_paths > 1))
		paths_rx(w, t, m, l4);
	decap_finish(w, t, m, gre_decap_parsed(t, m, l4, gi, &rx), &rx, outer_tos);
}

/*
 * GRE, the common case, without the driver table: the header is parsed once,
 * the key stays in registers for the lookup, and decap gets the parsed fields.
 * Same result as the generic path (gre_ops is the only version-0 driver).
 * Returns DROP_MAX when m was consumed, -1 for another driver's GRE version,
 * else the reason to drop m.
 */
static inline int
outside_gre(struct worker *w, struct rte_mbuf *m, const struct rte_ipv4_hdr *ip)
{
	const uint16_t l4 = sizeof(struct rte_ether_hdr) + sizeof(*ip);
	struct gre_info gi;
	struct tunnel *t;
	int rc;

	rc = gre_parse(rte_pktmbuf_mtod_offset(m, const uint8_t *, l4), rte_pktmbuf_data_len(m) - l4, &gi);
	if (rc != DROP_MAX)
		return rc;
	t = tunnel_table_lookup_words(&dp.tunnels, w->tcache, gre_rx_key(ip->src_addr, ip->dst_addr, &gi));
	if (unlikely(t == NULL))
		return DROP_NO_TUNNEL;
	if (unlikely(t->worker != w->index))
		handoff(w, t, m, HANDOFF_DECAP, l4);
	else if (unlikely(t->ops != &gre_ops))
		tunnel_decap_owned(w, t, m, l4);
	else
		decap_gre(w, t, m, &gi);
	return DROP_MAX;
}

static void
outside_one(struct worker *w, struct rte_mbuf *m)
{
	const struct dp_port *port = &dp.ports[PORT_OUTSIDE];
	const uint16_t l3 = sizeof(struct rte_ether_hdr), l4 = l3 + sizeof(struct rte_ipv4_hdr);
	struct rte_ipv4_hdr *ip;
	struct tunnel_key k;
	struct tunnel *t;
	enum drop_reason r;
	int rc = -1;

	if (l2_input(w, PORT_OUTSIDE, m))
		return;
	r = ipv4_input_check(m, l3, &ip);
	if (r != DROP_MAX)
		goto drop;
	r = DROP_IP_NOT_FOR_US;
	if (ip->dst_addr != port->addr)
		goto drop;
	r = DROP_IP_BAD_SOURCE;
	if (pkt_ipv4_is_martian_source(ip->src_addr) || is_our_address(ip->src_addr))
		goto drop;
	r = DROP_IP_FRAGMENT;
	if (pkt_ipv4_is_fragment(ip))
		goto drop;
	r = DROP_IP_OPTIONS;
	if (pkt_ipv4_hdr_len(ip) != sizeof(*ip))
		goto drop;
	if (ip->next_proto_id == IPPROTO_ICMP) {
		rte_pktmbuf_adj(m, l3);
		icmp_input(w, PORT_OUTSIDE, m, ip);
		return;
	}
	if (likely(ip->next_proto_id == IPPROTO_GRE)) {
		rc = outside_gre(w, m, ip);
		if (rc != -1) {
			r = (enum drop_reason)rc;
			if (r != DROP_MAX)
				goto drop;
			return;
		}
		/* Not version 0: another driver's GRE (PPTP), through the generic loop below. */
	}
	memset(&k, 0, sizeof(k));
	for (unsigned i = 0; config_drivers[i] != NULL && rc == -1; i++)
		if (config_drivers[i]->ip_proto == ip->next_proto_id)
			rc = config_drivers[i]->classify(m, ip, l4, &k);
	if (rc != DROP_MAX) {
		r = rc >= 0 ? (enum drop_reason)rc
		    : ip->next_proto_id == IPPROTO_GRE ? DROP_GRE_BAD_VERSION
						       : DROP_IP_UNKNOWN_PROTOCOL;
		goto drop;
	}
	t = tunnel_table_lookup_cached(&dp.tunnels, w->tcache, &k);
	r = DROP_NO_TUNNEL;
	if (t == NULL)
		goto drop;
	if (t->worker == w->index)
		tunnel_decap_owned(w, t, m, l4);
	else
		handoff(w, t, m, HANDOFF_DECAP, l4);
	return;
drop:
	worker_drop(w, m, r);
}

/*
 * Stage 1 of a burst: is m a well-formed GRE packet to us, for a GRE tunnel
 * this worker owns? Then its tunnel, with the GRE header parsed into gi.
 * Else NULL, and outside_one takes m through every check in order. Has no
 * effect on m or any counter, so it may run ahead of the packets before m.
 */
static __rte_always_inline struct tunnel *
outside_classify(struct worker *w, const struct rte_mbuf *m, struct gre_info *gi)
{
	const struct dp_port *port = &dp.ports[PORT_OUTSIDE];
	const uint16_t l4 = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	uint64_t csum = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	struct tunnel *t;

	/* What l2_input, ipv4_input_check and outside_one would accept, without padding to trim. */
	if (unlikely(rte_pktmbuf_data_len(m) < l4) ||
	    !rte_is_same_ether_addr(&eth->dst_addr, &port->mac) ||
	    eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != RTE_IPV4_VHL_DEF || csum == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    rte_be_to_cpu_16(ip->total_length) != rte_pktmbuf_pkt_len(m) - sizeof(*eth))
		return NULL;
	if (dp.cfg.verify_checksums && csum != RTE_MBUF_F_RX_IP_CKSUM_GOOD && !pkt_ipv4_sum20_ok(ip))
		return NULL;
	if (ip->dst_addr != port->addr || ip->next_proto_id != IPPROTO_GRE ||
	    pkt_ipv4_is_fragment(ip) || pkt_ipv4_is_martian_source(ip->src_addr) ||
	    is_our_address(ip->src_addr))
		return NULL;
	if (gre_parse(rte_pktmbuf_mtod_offset(m, const uint8_t *, l4), rte_pktmbuf_data_len(m) - l4,
		      gi) != DROP_MAX)
		return NULL;
	t = tunnel_table_lookup_words(&dp.tunnels, w->tcache, gre_rx_key(ip->src_addr, ip->dst_addr, gi));
	/* Multi-path tunnels learn path liveness per packet: outside_one keeps that in order. */
	if (t == NULL || t->worker != w->index || t->ops != &gre_ops || t->nb_paths > 1)
		return NULL;
	return t;
}

/*
 * Stage 2 for a decapsulated packet of t: true when deliver would simply
 * forward it out of the inside port to *nh (inner header good, source routed
 * to t, not for us, TTL left, not routed into a tunnel). Only reads, so it
 * may run ahead of the packets before m; anything else takes deliver.
 */
static __rte_always_inline bool
deliver_is_plain(const struct tunnel *t, const struct rte_mbuf *m, rte_be32_t *nh)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint64_t csum = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	/* What ipv4_input_check accepts, without padding to trim. */
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*ip)) || ip->version_ihl != RTE_IPV4_VHL_DEF ||
	    csum == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    rte_be_to_cpu_16(ip->total_length) != rte_pktmbuf_pkt_len(m))
		return false;
	if (dp.cfg.verify_checksums && csum != RTE_MBUF_F_RX_IP_CKSUM_GOOD && !pkt_ipv4_sum20_ok(ip))
		return false;
	if (is_our_address(ip->dst_addr) || ip->time_to_live <= 1)
		return false;
	if (t->source_check && !tunnel_table_routes_to(&dp.tunnels, ip->src_addr, t))
		return false;
	if (tunnel_table_route(&dp.tunnels, ip->dst_addr) != NULL)
		return false;
	*nh = port_next_hop(PORT_INSIDE, ip->dst_addr);
	return *nh != 0;
}

/* Stage 3 of a plain packet: what deliver does once every check passed. */
static __rte_always_inline void
forward_plain(struct worker *w, struct tunnel *t, struct rte_mbuf *m, rte_be32_t nh)
{
	stats_inc(&t->stats.rx_packets);
	stats_add(&t->stats.rx_bytes, rte_pktmbuf_pkt_len(m));
	pkt_ipv4_ttl_dec(rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *));
	xmit_ipv4(w, PORT_INSIDE, nh, m, t);
}

/* What stage 3 does with a packet. */
enum outside_next {
	NEXT_ONE_BY_ONE,        /* outside_one: every check in order */
	NEXT_DONE,              /* dropped in stage 2 (counted and freed) */
	NEXT_REORDER,           /* decapsulated, into the tunnel's window */
	NEXT_DELIVER,           /* decapsulated, deliver's full checks */
	NEXT_PLAIN,             /* decapsulated, every check passed: forward inside */
};

/*
 * Three stages, so the dependent loads of many packets (tunnel lookup:
 * CRC -> cache entry -> tunnel -> driver state; LPM -> tunnel) overlap:
 * classify the whole burst, decapsulate and check the GRE packets, then act
 * on every packet in arrival order. The first two stages only read shared
 * state and drop (counted, order-free), so outputs, windows and counters end
 * as if each packet had gone through alone.
 */
void
outside_input(struct worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	const uint16_t l4 = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);
	struct tunnel *ts[BURST];
	struct gre_info gis[BURST];
	uint32_t arg[BURST];            /* sequence number or next hop */
	uint8_t next[BURST];

	/* Headers of the packets a few places ahead are on their way while we work. */
	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		ts[i] = outside_classify(w, pkts[i], &gis[i]);
	}
	for (uint16_t i = 0; i < n; i++) {
		struct tunnel_rx rx = { .has_seq = false };
		struct tunnel *t = ts[i];
		enum drop_reason r;
		uint8_t outer_tos;

		next[i] = NEXT_ONE_BY_ONE;
		if (unlikely(t == NULL))
			continue;
		outer_tos = rte_pktmbuf_mtod_offset(pkts[i], const struct rte_ipv4_hdr *,
						    sizeof(struct rte_ether_hdr))->type_of_service;
		r = gre_decap_parsed(t, pkts[i], l4, &gis[i], &rx);
		if (likely(r == DROP_MAX) && likely(!rx.late_drop))
			r = tunnel_ecn_decap(t, outer_tos, rte_pktmbuf_mtod(pkts[i], struct rte_ipv4_hdr *),
					     rte_pktmbuf_data_len(pkts[i]));
		if (unlikely(r != DROP_MAX)) {
			tunnel_drop_pkt(t, pkts[i], r);
			next[i] = NEXT_DONE;
		} else if (t->reorder_mode != TUNNEL_REORDER_NONE && rx.has_seq) {
			next[i] = NEXT_REORDER;
			arg[i] = rx.seq;
			handoff_meta(pkts[i])->late_drop = rx.late_drop;
		} else if (unlikely(rx.late_drop)) {
			tunnel_drop_pkt(t, pkts[i], (enum drop_reason)(rx.late_drop - 1));
			next[i] = NEXT_DONE;
		} else {
			next[i] = deliver_is_plain(t, pkts[i], &arg[i]) ? NEXT_PLAIN : NEXT_DELIVER;
		}
	}
	for (uint16_t i = 0; i < n; i++) {
		switch (next[i]) {
		case NEXT_PLAIN:
			forward_plain(w, ts[i], pkts[i], arg[i]);
			break;
		case NEXT_ONE_BY_ONE:
			outside_one(w, pkts[i]);
			break;
		case NEXT_REORDER:
			reorder_push(w->reorder, &ts[i]->reorder, arg[i], pkts[i], w->now, &w->sink);
			break;
		case NEXT_DELIVER:
			deliver(w, ts[i], pkts[i]);
			break;
		default:
			break;
		}
	}
}

void
tunnel_decap_owned(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off)
{
	struct tunnel_rx rx = { .has_seq = false };
	const uint8_t outer_tos = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
							  l4_off - sizeof(struct rte_ipv4_hdr))->type_of_service;

	if (t->nb_paths > 1)
		paths_rx(w, t, m, l4_off);
	decap_finish(w, t, m, t->ops->decap(t, m, l4_off, &rx), &rx, outer_tos);
}

void
reorder_deliver(struct reorder_window *win, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	struct tunnel *t = container_of(win, struct tunnel, reorder);

	for (uint16_t i = 0; i < n; i++) {
		uint8_t late = handoff_meta(pkts[i])->late_drop;

		if (unlikely(late))
			tunnel_drop_pkt(t, pkts[i], (enum drop_reason)(late - 1));
		else
			deliver(arg, t, pkts[i]);
	}
}
