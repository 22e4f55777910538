/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside RX (towards clients): route the destination to a tunnel (rte_lpm);
 * the tunnel's owner queues it when the tunnel is shaped (qos.c), then
 * encapsulates and sends to the peer.
 */
#include <rte_ip_frag.h>

#include "clock.h"
#include "dpvpn.h"
#include "fast_pkt.h"
#include "pkt_ecn.h"
#include "qos.h"

/* The outer TOS for m (inner IPv4 at data start): RFC 6040 normal-mode ECN, DSCP per tunnel. */
static inline uint8_t
outer_tos(const struct tunnel *t, const struct rte_mbuf *m)
{
	return pkt_ecn_encap_tos(rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *)->type_of_service, t->dscp);
}

/* The common case of encap_one: headers from the tunnel's template. False: nothing done. */
static __rte_always_inline bool
encap_prebuilt(struct worker *w, struct tunnel *t, struct rte_mbuf *m)
{
	uint32_t inner_len = rte_pktmbuf_pkt_len(m);

	if (unlikely(!tunnel_tx_usable(&t->tx, m, w->now, w->ncache_gen)))
		return false;
	tunnel_tx_prepend(&t->tx, m, w->ip_id++, outer_tos(t, m));
	stats_inc(&t->stats.tx_packets);
	stats_add(&t->stats.tx_bytes, inner_len);
	xmit_raw(w, PORT_OUTSIDE, m);
	return true;
}

static void encap_one(struct worker *w, struct tunnel *t, struct rte_mbuf *m);

/* True when m (inner IPv4 of len bytes) of t, owned here, can take encap_fits: unshaped, fits t. */
static __rte_always_inline bool
encap_direct(const struct worker *w, const struct tunnel *t, uint32_t len)
{
	return likely(t->worker == w->index) && likely(t->qos == NULL) && likely(len <= t->mtu);
}

/* tunnel_send's steps for an encap_direct packet m (inner header ip), inline. */
static __rte_always_inline void
encap_fits(struct worker *w, struct tunnel *t, struct rte_mbuf *m, struct rte_ipv4_hdr *ip)
{
	tunnel_mss_clamp(t, ip, rte_pktmbuf_data_len(m));
	if (!encap_prebuilt(w, t, m))
		encap_one(w, t, m);
}

static void
inside_one(struct worker *w, struct rte_mbuf *m)
{
	const uint16_t l3 = sizeof(struct rte_ether_hdr);
	struct rte_ipv4_hdr *ip;
	struct tunnel *t;
	enum drop_reason r;

	if (l2_input(w, PORT_INSIDE, m))
		return;
	r = ipv4_input_check(m, l3, &ip);
	if (r != DROP_MAX)
		goto drop;
	rte_pktmbuf_adj(m, l3);
	if (ip->dst_addr == dp.ports[PORT_INSIDE].addr || ip->dst_addr == dp.ports[PORT_OUTSIDE].addr) {
		icmp_input(w, PORT_INSIDE, m, ip);
		return;
	}
	r = DROP_IP_BAD_SOURCE;
	if (pkt_ipv4_is_martian_source(ip->src_addr) || ip->src_addr == dp.ports[PORT_INSIDE].addr)
		goto drop;
	t = tunnel_table_route(&dp.tunnels, ip->dst_addr);
	if (t == NULL) {
		send_icmp_error(w, m, PKT_ICMP_DEST_UNREACH, 0 /* net unreachable */, 0);
		r = DROP_NO_ROUTE;
		goto drop;
	}
	if (ip->time_to_live <= 1) {
		send_icmp_error(w, m, PKT_ICMP_TIME_EXCEEDED, 0, 0);
		r = DROP_IP_TTL_EXPIRED;
		goto drop;
	}
	pkt_ipv4_ttl_dec(ip);
	if (encap_direct(w, t, rte_pktmbuf_pkt_len(m)))
		encap_fits(w, t, m, ip);
	else if (t->worker == w->index)
		tunnel_encap_owned(w, t, m);
	else
		handoff(w, t, m, HANDOFF_ENCAP, 0);
	return;
drop:
	worker_drop(w, m, r);
}

/* What inside_plain compares every packet of a burst with, loaded once per burst. */
struct inside_ctx {
	uint64_t mac;           /* our inside MAC as the first 6 bytes of a 64-bit load */
	rte_be32_t in_addr;
	rte_be32_t out_addr;
	bool verify;            /* dp.cfg.verify_checksums */
};

/*
 * The tunnel inside_one would route m into, when m is the common case all of
 * whose checks pass (Ethernet to our MAC carrying IPv4 without options, the
 * total length the frame's, a good header sum, not to us, a source neither
 * martian nor ours, a route in the LPM's first level, TTL left). NULL for
 * anything else: inside_one then decides from scratch. Only reads.
 */
static __rte_always_inline struct tunnel *
inside_plain(const struct inside_ctx *c, const struct rte_mbuf *m)
{
	const uint16_t l3 = sizeof(struct rte_ether_hdr);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + l3);
	const uint64_t csum = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint32_t e;

	if (unlikely(rte_pktmbuf_data_len(m) < l3 + sizeof(*ip)) || ((load64(p) ^ c->mac) << 16) != 0 ||
	    (load32(p + 12) & bytes32(0xff, 0xff, 0xff, 0)) !=
		    bytes32(RTE_ETHER_TYPE_IPV4 >> 8, RTE_ETHER_TYPE_IPV4 & 0xff, RTE_IPV4_VHL_DEF, 0) ||
	    host16(ip->total_length) != rte_pktmbuf_pkt_len(m) - l3 || csum == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return NULL;
	if (likely(c->verify) && likely(csum != RTE_MBUF_F_RX_IP_CKSUM_GOOD) && !ipv4_sum20_ok(ip))
		return NULL;
	if (ip->dst_addr == c->in_addr || ip->dst_addr == c->out_addr ||
	    pkt_ipv4_is_martian_source(ip->src_addr) || ip->src_addr == c->in_addr || ip->time_to_live <= 1)
		return NULL;
	/* tunnel_table_route from a valid first-level entry that is not extended. */
	e = route_entry(ip->dst_addr);
	if ((e & RTE_LPM_VALID_EXT_ENTRY_BITMASK) != RTE_LPM_LOOKUP_SUCCESS)
		return NULL;
	return tunnel_table_at(&dp.tunnels, e & 0x00ffffff);
}

void
inside_input(struct worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	struct inside_ctx c = {
		.in_addr = dp.ports[PORT_INSIDE].addr,
		.out_addr = dp.ports[PORT_OUTSIDE].addr,
		.verify = dp.cfg.verify_checksums,
	};
	uint8_t mac[8] = { 0 };

	memcpy(mac, &dp.ports[PORT_INSIDE].mac, RTE_ETHER_ADDR_LEN);
	c.mac = load64(mac);
	/* Headers of the packets a few places ahead are on their way while we work. */
	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct tunnel *t;

		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		t = inside_plain(&c, m);
		/* inside_one's steps for this common case. */
		if (likely(t != NULL) && encap_direct(w, t, rte_pktmbuf_pkt_len(m) - sizeof(struct rte_ether_hdr))) {
			struct rte_ipv4_hdr *ip;

			/* rte_pktmbuf_adj without its checks: the frame is longer than the header. */
			m->data_off = (uint16_t)(m->data_off + sizeof(struct rte_ether_hdr));
			m->data_len = (uint16_t)(m->data_len - sizeof(struct rte_ether_hdr));
			m->pkt_len -= sizeof(struct rte_ether_hdr);
			ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
			ttl_dec(ip);
			encap_fits(w, t, m, ip);
		} else {
			inside_one(w, m);
		}
	}
}

/*
 * The full path just sent to next hop nh: let the tunnel's next packets use
 * prebuilt headers for as long as the full path would use nh's cache slot.
 */
static void
encap_template_refresh(struct worker *w, struct tunnel *t, rte_be32_t nh)
{
	const struct neigh_cache_entry *c = ncache_slot(w, PORT_OUTSIDE, nh);

	if (!t->tx.unsupported && c->ip == nh && c->port == PORT_OUTSIDE && w->now < c->valid_until)
		tunnel_tx_build(t, &c->mac, &dp.ports[PORT_OUTSIDE].mac, c->valid_until,
				w->ncache_gen);
}

rte_be32_t
outer_send(struct worker *w, struct tunnel *t, rte_be32_t peer, struct rte_mbuf *m, uint8_t tos)
{
	struct rte_ipv4_hdr *outer = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*outer));
	rte_be32_t nh;

	if (unlikely(outer == NULL)) {
		tunnel_drop_pkt(t, m, DROP_NO_MBUF);
		return 0;
	}
	pkt_ipv4_write_hdr(outer, tos, (uint16_t)rte_pktmbuf_pkt_len(m), w->ip_id++, t->ttl,
			   t->ops->ip_proto, t->local, peer);
	nh = port_next_hop(PORT_OUTSIDE, peer);
	if (unlikely(nh == 0)) {
		tunnel_drop_pkt(t, m, DROP_NO_ROUTE);
		return 0;
	}
	xmit_ipv4(w, PORT_OUTSIDE, nh, m, t);
	return nh;
}

/* After the driver's header: the outer IPv4 header, the counters, and off to the peer. */
static void
encap_send(struct worker *w, struct tunnel *t, struct rte_mbuf *m, enum drop_reason r, uint8_t tos,
	   uint32_t inner_len)
{
	rte_be32_t nh;

	if (r != DROP_MAX)
		goto drop;
	if (t->nb_paths > 1) {
		stats_inc(&t->stats.tx_packets);
		stats_add(&t->stats.tx_bytes, inner_len);
		paths_send(w, t, m, tos);
		return;
	}
	nh = outer_send(w, t, t->peer, m, tos);
	if (nh != 0) {
		stats_inc(&t->stats.tx_packets);
		stats_add(&t->stats.tx_bytes, inner_len);
		encap_template_refresh(w, t, nh);
	}
	return;
drop:
	tunnel_drop_pkt(t, m, r);
}

void
encap_stage_flush(struct worker *w)
{
	struct tunnel_stage *s = &w->tx_stage;
	enum drop_reason r[STAGE_MAX];

	if (s->n == 0)
		return;
	s->ops->encap_burst(s->t, s->m, r, s->n);
	for (uint16_t i = 0; i < s->n; i++)
		encap_send(w, s->t[i], s->m[i], r[i], s->tos[i], s->inner_len[i]);
	s->n = 0;
}

static void
encap_stage_add(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint8_t tos, uint32_t inner_len)
{
	struct tunnel_stage *s = &w->tx_stage;

	if (s->n != 0 && s->ops != t->ops)
		encap_stage_flush(w);
	s->ops = t->ops;
	s->t[s->n] = t;
	s->m[s->n] = m;
	s->tos[s->n] = tos;
	s->inner_len[s->n] = inner_len;
	if (++s->n == RTE_MIN(STAGE_MAX, t->ops->burst_max))
		encap_stage_flush(w);
}

/* Adds the driver's header, the outer IPv4 header, and sends to the peer. */
static void
encap_one(struct worker *w, struct tunnel *t, struct rte_mbuf *m)
{
	uint32_t inner_len = rte_pktmbuf_pkt_len(m);
	uint8_t tos = outer_tos(t, m);

	if (likely(encap_prebuilt(w, t, m)))
		return;
	if (t->ops->encap_burst != NULL)
		encap_stage_add(w, t, m, tos, inner_len);
	else
		encap_send(w, t, m, t->ops->encap(t, m), tos, inner_len);
}

void
tunnel_encap_owned(struct worker *w, struct tunnel *t, struct rte_mbuf *m)
{
	if (t->qos != NULL)
		qos_input(w, t, m);
	else
		tunnel_send(w, t, m);
}

void
tunnel_send(struct worker *w, struct tunnel *t, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	struct rte_mbuf *frags[16];
	int32_t nf;

	tunnel_mss_clamp(t, (struct rte_ipv4_hdr *)(uintptr_t)ip, rte_pktmbuf_data_len(m));
	if (likely(rte_pktmbuf_pkt_len(m) <= t->mtu)) {
		encap_one(w, t, m);
		return;
	}
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) {
		/* Path MTU discovery: tell the sender the tunnel's MTU (RFC 1191). */
		send_icmp_error(w, m, PKT_ICMP_DEST_UNREACH, PKT_ICMP_FRAG_NEEDED, t->mtu);
		tunnel_drop_pkt(t, m, DROP_TOO_BIG);
		return;
	}
	/* Fragment the inner packet, so each fragment travels in one outer packet. */
	nf = rte_ipv4_fragment_packet(m, frags, RTE_DIM(frags), t->mtu, dp.pool, dp.pool);
	if (nf < 0) {
		tunnel_drop_pkt(t, m, nf == -ENOMEM ? DROP_NO_MBUF : DROP_TOO_BIG);
		return;
	}
	rte_pktmbuf_free(m);
	for (int32_t i = 0; i < nf; i++) {
		/* The fragmenter leaves the header checksum to us. */
		pkt_ipv4_set_checksum(rte_pktmbuf_mtod(frags[i], struct rte_ipv4_hdr *));
		encap_one(w, t, frags[i]);
	}
}

/* After ops->encap_ctrl: the outer header and out (no MTU, MSS or queue: control is small and urgent). */
void
tunnel_send_ctrl_mbuf(struct worker *w, struct tunnel *t, struct rte_mbuf *m)
{
	enum drop_reason r = t->ops->encap_ctrl != NULL ? t->ops->encap_ctrl(t, m) : t->ops->encap(t, m);

	if (r != DROP_MAX) {
		tunnel_drop_pkt(t, m, r);
		return;
	}
	if (t->nb_paths > 1)
		paths_send(w, t, m, 0);
	else
		outer_send(w, t, t->peer, m, 0);
}

void
tunnel_send_control(struct worker *w, struct tunnel *t, const uint8_t *payload, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);

	if (m == NULL) {
		tunnel_drop(t, DROP_NO_MBUF);
		return;
	}
	if (len != 0) {
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);

		if (p == NULL) {
			tunnel_drop_pkt(t, m, DROP_NO_MBUF);
			return;
		}
		memcpy(p, payload, len);
	}
	tunnel_send_ctrl_mbuf(w, t, m);
}
