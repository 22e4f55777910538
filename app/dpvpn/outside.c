/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outside RX (from clients): Ethernet, ARP, outer IPv4, then the tunnel
 * driver classifies; the tunnel's owner decapsulates and forwards inside.
 */
#include "clock.h"
#include "dpvpn.h"
#include "ecn_decap.h"
#include "fast_pkt.h"
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
	tunnel_mss_clamp(t, ip, rte_pktmbuf_data_len(m));
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

/* The driver's step after the window (rx_post), then delivery of what became IPv4. */
static void
deliver_post(struct worker *w, struct tunnel *t, struct rte_mbuf **m, uint16_t n)
{
	enum drop_reason r[BURST];

	t->ops->rx_post(t, m, r, n);
	for (uint16_t i = 0; i < n; i++) {
		if (r[i] == DROP_MAX)
			deliver(w, t, m[i]);
		else if (r[i] != TUNNEL_RX_TAKEN)
			tunnel_drop_pkt(t, m[i], r[i]);
	}
}

/* Into t's window; late_drop (see tunnel_rx) rides along in the mbuf until the packet leaves. */
static inline void
window_push(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint32_t seq, uint8_t late_drop,
	    bool restart)
{
	handoff_meta(m)->late_drop = late_drop;
	if (unlikely(restart))
		reorder_restart(w->reorder, &t->reorder, seq, m, w->now, &w->sink);
	else
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
	/* Drivers with rx_post have no inner header yet (PPTP: PPP, maybe encrypted): no ECN step. */
	if (likely(r == DROP_MAX) && likely(!rx->late_drop) && t->ops->rx_post == NULL)
		r = tunnel_ecn_decap(t, outer_tos, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *),
				     rte_pktmbuf_data_len(m));
	if (unlikely(r != DROP_MAX))
		tunnel_drop_pkt(t, m, r);
	else if (t->reorder_mode != TUNNEL_REORDER_NONE && rx->has_seq)
		window_push(w, t, m, rx->seq, rx->late_drop, rx->restart);
	else if (unlikely(rx->late_drop))
		tunnel_late_drop(t, m, rx->late_drop);
	else if (unlikely(t->ops->rx_post != NULL))
		deliver_post(w, t, &m, 1);
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

/* Out of line: the fast path below calls it for the rare packet it does not take. */
static __rte_noinline void
outside_one(struct worker *w, struct rte_mbuf *m)
{
	const struct dp_port *port = &dp.ports[PORT_OUTSIDE];
	const uint16_t l3 = sizeof(struct rte_ether_hdr), l4 = l3 + sizeof(struct rte_ipv4_hdr);
	struct rte_ipv4_hdr *ip;
	const struct tunnel_ops *drv = NULL;
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
	if (ip->next_proto_id == IPPROTO_TCP && dp.exc != NULL) {
		/* PPTP control (TCP 1723): the kernel's TCP stack through the TAP. */
		exception_punt(w, m);
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
		if (config_drivers[i]->ip_proto == ip->next_proto_id) {
			drv = config_drivers[i];
			rc = drv->classify(m, ip, l4, &k);
		}
	if (rc == TUNNEL_CLASSIFY_PUNT) {
		/* OpenVPN control packets: the control thread's UDP socket, through the TAP. */
		if (dp.exc != NULL)
			exception_punt(w, m);
		else
			worker_drop(w, m, DROP_OVPN_CONTROL);
		return;
	}
	if (rc != DROP_MAX) {
		r = rc >= 0 ? (enum drop_reason)rc
		    : ip->next_proto_id == IPPROTO_GRE ? DROP_GRE_BAD_VERSION
						       : DROP_IP_UNKNOWN_PROTOCOL;
		goto drop;
	}
	t = tunnel_table_lookup_cached(&dp.tunnels, w->tcache, &k);
	if (t == NULL && drv->classify_wildcard != NULL && drv->classify_wildcard(&k))
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
 * The GRE fast path below runs for every packet of a burst, so it counts
 * instructions (fast_pkt.h): no per-packet function calls, and everything
 * rare out of line (__rte_noinline), since inlined it would crowd the
 * common path's registers and code.
 */

/* deliver for stage 3, where it is rare. */
static __rte_noinline void
deliver_slow(struct worker *w, struct tunnel *t, struct rte_mbuf *m)
{
	deliver(w, t, m);
}

/*
 * The first 40 bytes of a GRE packet to us in the common form (Ethernet to
 * our MAC, IPv4 without options and not a fragment, GRE to our address,
 * version 0 with no option but maybe a key, carrying IPv4), as bytes to
 * compare where a mask is set: bytes 0-31 as one vector (when there are
 * vectors), 32-39 as a word. A packet that does not match takes the
 * general classification.
 */
struct outer_form {
#ifdef __AVX2__
	__m256i want, mask;
#else
	uint64_t want[4], mask[4];
#endif
	uint64_t want_hi, mask_hi;
};

/* What the fast path compares every packet of a burst with, loaded once per burst. */
struct fast_ctx {
	struct outer_form form;
	uint64_t mac;           /* our outside MAC as the first 6 bytes of a 64-bit load */
	rte_be32_t out_addr;
	rte_be32_t in_addr;
	rte_be32_t in_net;      /* the inside subnet, its mask and gateway: port_next_hop */
	rte_be32_t in_mask;
	rte_be32_t in_gw;
	bool verify;            /* dp.cfg.verify_checksums */
};

static __rte_always_inline void
fast_ctx_init(struct fast_ctx *c)
{
	const struct dp_port *in = &dp.ports[PORT_INSIDE];
	const uint64_t mac_mask = UINT64_C(0x0000ffffffffffff);
	/* Bytes 8-15: EtherType 12-13, version/IHL 14; bytes 16-23: fragment 20-21, protocol 23. */
	const uint64_t w1 = (uint64_t)bytes32(RTE_ETHER_TYPE_IPV4 >> 8, RTE_ETHER_TYPE_IPV4 & 0xff,
					       RTE_IPV4_VHL_DEF, 0) << 32;
	const uint64_t m1 = (uint64_t)bytes32(0xff, 0xff, 0xff, 0) << 32;
	const uint64_t w2 = (uint64_t)bytes32(0, 0, 0, IPPROTO_GRE) << 32;
	const uint64_t m2 = (uint64_t)bytes32(0x3f, 0xff, 0, 0xff) << 32;
	const rte_be32_t out_addr = dp.ports[PORT_OUTSIDE].addr;
	/* Bytes 24-31: the start of our address, 30-31. */
	const uint64_t w3 = (uint64_t)(out_addr & 0xffff) << 48;
	const uint64_t m3 = UINT64_C(0xffff) << 48;
	uint8_t mac[8] = { 0 };

	memcpy(mac, &dp.ports[PORT_OUTSIDE].mac, RTE_ETHER_ADDR_LEN);
	c->mac = load64(mac);
	c->out_addr = out_addr;
#ifdef __AVX2__
	c->form.want = _mm256_set_epi64x((int64_t)w3, (int64_t)w2, (int64_t)w1, (int64_t)c->mac);
	c->form.mask = _mm256_set_epi64x((int64_t)m3, (int64_t)m2, (int64_t)m1, (int64_t)mac_mask);
#else
	c->form.want[0] = c->mac;
	c->form.mask[0] = mac_mask;
	c->form.want[1] = w1;
	c->form.mask[1] = m1;
	c->form.want[2] = w2;
	c->form.mask[2] = m2;
	c->form.want[3] = w3;
	c->form.mask[3] = m3;
#endif
	/* Bytes 32-39: the end of our address, GRE flags (key and ignored bits any), IPv4. */
	c->form.want_hi = (uint64_t)(c->out_addr >> 16) |
			  (uint64_t)bytes32(RTE_ETHER_TYPE_IPV4 >> 8, RTE_ETHER_TYPE_IPV4 & 0xff, 0, 0) << 32;
	c->form.mask_hi = (uint64_t)bytes32(0xff, 0xff, (uint8_t)~(GRE_F_KEY >> 8), (uint8_t)~GRE_IGNORED) |
			  (uint64_t)bytes32(0xff, 0xff, 0, 0) << 32;
	c->in_addr = in->addr;
	c->in_net = in->subnet.addr;
	c->in_mask = pkt_prefix_mask(in->subnet.depth);
	c->in_gw = in->gateway;
	c->verify = dp.cfg.verify_checksums;
}

/* True when the first 40 bytes at p are in outer_form (the caller saw 40 bytes). */
static __rte_always_inline bool
outer_form_match(const struct outer_form *f, const uint8_t *p)
{
	uint64_t hi = (load64(p + 32) ^ f->want_hi) & f->mask_hi;
#ifdef __AVX2__
	__m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)p), f->want);

	return _mm256_testz_si256(v, f->mask) & (hi == 0);
#else
	uint64_t lo = 0;

	for (unsigned i = 0; i < 4; i++)
		lo |= (load64(p + 8 * i) ^ f->want[i]) & f->mask[i];
	return (lo | hi) == 0;
#endif
}

/*
 * The checks of stage 1 on m's headers from l3 on (IPv4 total length, the
 * NIC's checksum verdict, header sum). Not outside_one's source checks: a
 * tunnel's peer is never a martian (config.c: add_path) nor our own address
 * (check_unique_tunnels), so such a source finds no tunnel, and outside_one
 * then drops the packet for its source as before.
 */
static __rte_always_inline bool
outer_ipv4_ok(const struct fast_ctx *c, const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip)
{
	const uint64_t csum = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (host16(ip->total_length) != rte_pktmbuf_pkt_len(m) - sizeof(struct rte_ether_hdr) ||
	    csum == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	/* Checked unless configured off or the NIC checked it. */
	return !(likely(c->verify) && likely(csum != RTE_MBUF_F_RX_IP_CKSUM_GOOD) && !ipv4_sum20_ok(ip));
}

/* outside_classify for a packet not in outer_form: the same checks one by one, any GRE header. */
static __rte_noinline bool
outside_classify_any(const struct fast_ctx *c, const struct rte_mbuf *m, struct gre_info *gi)
{
	const uint16_t l3 = sizeof(struct rte_ether_hdr), l4 = l3 + sizeof(struct rte_ipv4_hdr);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint16_t len = rte_pktmbuf_data_len(m);

	return len >= l4 && ((load64(p) ^ c->mac) << 16) == 0 &&
	       (load32(p + 12) & bytes32(0xff, 0xff, 0xff, 0)) ==
		       bytes32(RTE_ETHER_TYPE_IPV4 >> 8, RTE_ETHER_TYPE_IPV4 & 0xff, RTE_IPV4_VHL_DEF, 0) &&
	       (load32(p + 20) & bytes32(0x3f, 0xff, 0, 0xff)) == bytes32(0, 0, 0, IPPROTO_GRE) &&
	       load32(p + l3 + offsetof(struct rte_ipv4_hdr, dst_addr)) == c->out_addr &&
	       gre_parse(p + l4, len - l4, gi) == DROP_MAX &&
	       outer_ipv4_ok(c, m, (const struct rte_ipv4_hdr *)(p + l3));
}

/* What stage 1 found a packet to be. */
enum outside_class {
	CLASS_OTHER,            /* outside_one: every check in order */
	CLASS_GRE,              /* a well-formed GRE packet to us, header parsed into gi */
	CLASS_FORM,             /* the same in outer_form: only gi->hdr_len is set */
};

/*
 * Stage 1 of a burst: is m a well-formed GRE packet to us? Then CLASS_GRE or
 * CLASS_FORM, with the tunnel key in k. Else CLASS_OTHER, and outside_one
 * takes m through every check in order. Has no effect on m or any counter,
 * so it may run ahead of the packets before m. What l2_input,
 * ipv4_input_check and outside_one would accept, without padding to trim.
 */
static __rte_always_inline enum outside_class
outside_classify(const struct fast_ctx *c, const struct rte_mbuf *m, struct gre_info *gi,
		 struct tunnel_key_words *k)
{
	const uint16_t l3 = sizeof(struct rte_ether_hdr), l4 = l3 + sizeof(struct rte_ipv4_hdr);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + l3);
	uint32_t key;

	/*
	 * The key is made here, from registers, on both paths: a k that
	 * outside_classify_any wrote through a pointer would live on the stack,
	 * and the lookup's 16-byte reload of its two 8-byte stores cannot be
	 * store-forwarded (the stall showed as the profile's top instruction).
	 */
	if (unlikely(rte_pktmbuf_data_len(m) < l4 + 8) || unlikely(!outer_form_match(&c->form, p))) {
		if (!outside_classify_any(c, m, gi))
			return CLASS_OTHER;
		*k = gre_rx_key(ip->src_addr, ip->dst_addr, gi);
		return CLASS_GRE;
	}
	/* GRE with at most a key, carrying IPv4: all stage 2 needs is the header's length. */
	key = (p[l4] >> 5) & 1;
	gi->hdr_len = (uint16_t)(4 + 4 * key);
	*k = tunnel_key_words_make(ip->src_addr, ip->dst_addr, key ? load32(p + l4 + 4) : 0, IPPROTO_GRE,
				   (uint8_t)key);
	return outer_ipv4_ok(c, m, ip) ? CLASS_FORM : CLASS_OTHER;
}

/*
 * A GRE tunnel this worker owns, with one path? Multi-path tunnels learn
 * path liveness per packet: outside_one keeps that in order.
 */
static __rte_always_inline bool
outside_owned(const struct worker *w, const struct tunnel *t)
{
	return t->worker == w->index && t->ops == &gre_ops && t->nb_paths <= 1;
}

static __rte_noinline bool
routes_to_slow(const struct tunnel *t, rte_be32_t a)
{
	return tunnel_table_routes_to(&dp.tunnels, a, t);
}

static __rte_noinline bool
has_route_slow(rte_be32_t a)
{
	uint32_t nh;

	return rte_lpm_lookup(dp.tunnels.routes, host32(a), &nh) == 0;
}

/* tunnel_table_routes_to(&dp.tunnels, a, t), answered from the first-level entry when it can. */
static __rte_always_inline bool
routes_to(const struct tunnel *t, rte_be32_t a)
{
	uint32_t e = route_entry(a) & (RTE_LPM_VALID_EXT_ENTRY_BITMASK | 0x00ffffff);

	if (likely(e == (RTE_LPM_LOOKUP_SUCCESS | t->index)))
		return true;
	return (e & RTE_LPM_VALID_EXT_ENTRY_BITMASK) == RTE_LPM_VALID_EXT_ENTRY_BITMASK &&
	       routes_to_slow(t, a);
}

/*
 * True when deliver might route a into a tunnel (tunnel_table_route finds a
 * route at all); an invalid first-level entry is a miss either way.
 */
static __rte_always_inline bool
has_route(rte_be32_t a)
{
	return unlikely(route_entry(a) & RTE_LPM_LOOKUP_SUCCESS) && has_route_slow(a);
}

/*
 * deliver's checks on the inner header ip (avail bytes of it in the first
 * segment, len bytes in the packet) of a packet of t, as received: true
 * when deliver would simply forward it out of the inside port to *nh (header
 * good, source routed into t, not for us, TTL left, not routed into a
 * tunnel). The strip clears the checksum flags, so the header sum is checked
 * whenever configured. Only reads, so it may run ahead of the packets
 * before this one; anything else takes deliver, which decides from scratch.
 */
static __rte_always_inline bool
inner_is_plain(const struct fast_ctx *c, const struct tunnel *t, const struct rte_ipv4_hdr *ip,
	       uint32_t avail, uint32_t len, rte_be32_t *nh)
{
	const rte_be32_t dst = ip->dst_addr;

	/* What ipv4_input_check accepts, without padding to trim. */
	if (unlikely(avail < sizeof(*ip)) || ip->version_ihl != RTE_IPV4_VHL_DEF ||
	    host16(ip->total_length) != len)
		return false;
	if (likely(c->verify) && !ipv4_sum20_ok(ip))
		return false;
	/* Not for us (deliver answers pings), TTL left. */
	if (dst == c->out_addr || dst == c->in_addr || ip->time_to_live <= 1)
		return false;
	if (t->source_check && !routes_to(t, ip->src_addr))
		return false;
	if (has_route(dst))
		return false;
	/* A TCP SYN whose MSS may need clamping: deliver does that (rare, so not here). */
	if (ip->next_proto_id == IPPROTO_TCP && t->mss_clamp != 0 &&
	    (avail < sizeof(*ip) + 14 || (((const uint8_t *)(ip + 1))[13] & PKT_TCP_SYN)))
		return false;
	/* port_next_hop(PORT_INSIDE, dst) */
	*nh = (dst & c->in_mask) == c->in_net ? dst : c->in_gw;
	return *nh != 0;
}

/* What stage 3 does with a packet. */
enum outside_next {
	NEXT_ONE_BY_ONE,        /* outside_one: every check in order */
	NEXT_OWNED,             /* stage 1: an owned GRE tunnel's packet (CLASS_GRE), for stage 2 */
	NEXT_OWNED_FORM,        /* the same in outer_form (CLASS_FORM) */
	NEXT_DONE,              /* dropped or forwarded in stage 2 */
	NEXT_REORDER,           /* decapsulated, into the tunnel's window */
	NEXT_DELIVER,           /* decapsulated, deliver's full checks */
	NEXT_PLAIN,             /* every check passed, not yet stripped: forward inside */
};

/*
 * A plain packet's Ethernet header to its next hop, kept across the burst
 * while the worker's neighbour cache is unchanged (no slot refilled), so
 * consecutive packets to one next hop skip the cache's probe.
 */
struct plain_l2 {
	rte_be32_t nh;                  /* 0: none yet */
	uint32_t gen;                   /* w->ncache_gen it was read at */
	uint8_t hdr[16];                /* dst MAC, src MAC, EtherType, 2 spare bytes */
};

/* forward_plain's end when the next hop is not in the worker's neighbour cache. */
static __rte_noinline void
forward_resolve(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint16_t inner_off, rte_be32_t nh)
{
	gre_decap_strip(m, inner_off);
	xmit_ipv4_resolve(w, PORT_INSIDE, nh, m, t);
}

/*
 * Stage 3 of a plain packet, whose inner header ip of len bytes starts
 * inner_off bytes in (the strip was left to here): what deliver does once
 * every check passed, then xmit_ipv4 with the strip and the Ethernet
 * prepend as one move of the data start.
 */
static __rte_always_inline void
forward_plain(struct worker *w, struct tunnel *t, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
	      uint16_t inner_off, uint32_t len, rte_be32_t nh, struct plain_l2 *l2)
{
	const uint16_t l2_len = sizeof(struct rte_ether_hdr);
	const uint16_t move = (uint16_t)(inner_off - l2_len);
	uint8_t *p = (uint8_t *)ip - l2_len;

	stats_inc(&t->stats.rx_packets);
	stats_add(&t->stats.rx_bytes, len);
	ttl_dec(ip);
	if (unlikely(nh != l2->nh || w->ncache_gen != l2->gen)) {
		const struct neigh_cache_entry *e = ncache_slot(w, PORT_INSIDE, nh);

		if (unlikely(e->ip != nh || e->port != PORT_INSIDE || w->now >= e->valid_until)) {
			forward_resolve(w, t, m, inner_off, nh);
			return;
		}
		l2->nh = nh;
		l2->gen = w->ncache_gen;
		pkt_eth_set((struct rte_ether_hdr *)l2->hdr, &e->mac, &dp.ports[PORT_INSIDE].mac,
			    RTE_ETHER_TYPE_IPV4);
	}
	/* gre_decap_strip then rte_pktmbuf_prepend: the headroom grows, so the prepend fits. */
	m->data_off = (uint16_t)(m->data_off + move);
	m->data_len = (uint16_t)(m->data_len - move);
	m->pkt_len -= move;
	m->ol_flags &= ~RTE_MBUF_F_RX_IP_CKSUM_MASK;
	/* 14 bytes as two overlapping 8-byte stores. */
	memcpy(p, l2->hdr, 8);
	memcpy(p + l2_len - 8, l2->hdr + l2_len - 8, 8);
	xmit_raw(w, PORT_INSIDE, m);
}

/* RFC 6040's step (ecn_decap.h) for an outer header that is not Not-ECT. */
static __rte_noinline enum drop_reason
ecn_decap_slow(struct tunnel *t, uint8_t outer_tos, struct rte_ipv4_hdr *inner, uint32_t avail)
{
	return tunnel_ecn_decap(t, outer_tos, inner, avail);
}

/* decap_owned_gre's rare outcomes: a drop, the window, a late drop. */
static __rte_noinline uint8_t
decap_other(struct tunnel *t, struct rte_mbuf *m, enum drop_reason r, struct tunnel_rx rx,
	    uint16_t inner_off, uint32_t *arg)
{
	if (r != DROP_MAX) {
		tunnel_drop_pkt(t, m, r);
		return NEXT_DONE;
	}
	if (t->reorder_mode != TUNNEL_REORDER_NONE && rx.has_seq) {
		gre_decap_strip(m, inner_off);
		*arg = rx.seq;
		handoff_meta(m)->late_drop = rx.late_drop;
		return NEXT_REORDER;
	}
	tunnel_drop_pkt(t, m, (enum drop_reason)(rx.late_drop - 1));
	return NEXT_DONE;
}

/* The strip for a packet that leaves the plain path for deliver. */
static __rte_noinline uint8_t
decap_to_deliver(struct rte_mbuf *m, uint16_t inner_off)
{
	gre_decap_strip(m, inner_off);
	return NEXT_DELIVER;
}

/*
 * gre_decap_check for a packet in outer_form (flags at most a key, IPv4
 * inside): only the tunnel's own requirements can fail it.
 */
static __rte_always_inline enum drop_reason
gre_form_check(const struct tunnel *t)
{
	const struct gre_tunnel *g = t->priv;

	/* Both options in one load (gre.h keeps them adjacent). */
	if (likely(load16(&g->seq) == 0))
		return DROP_MAX;
	return g->csum ? DROP_CHECKSUM_MISSING : DROP_SEQ_MISSING;
}

/*
 * Stage 2 for an owned GRE packet m of t, on the headers as received:
 * decap's checks (gre_form_check when form), RFC 6040's ECN step, then the
 * window, a drop, or deliver's checks. Returns what stage 3 does (*arg: the
 * sequence number or the next hop); strips m unless it is plain, and
 * forwards a plain one at once when forward says so (nothing before it is
 * left for stage 3).
 */
static __rte_always_inline uint8_t
decap_owned_gre(struct worker *w, const struct fast_ctx *c, struct tunnel *t, struct rte_mbuf *m,
		const struct gre_info *gi, uint32_t *arg, bool forward, bool form, struct plain_l2 *l2)
{
	const uint16_t l3 = sizeof(struct rte_ether_hdr), l4 = l3 + sizeof(struct rte_ipv4_hdr);
	const uint16_t off = (uint16_t)(l4 + gi->hdr_len);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *in = (struct rte_ipv4_hdr *)(p + off);
	const uint32_t avail = rte_pktmbuf_data_len(m) - off, len = rte_pktmbuf_pkt_len(m) - off;
	const uint8_t outer_tos = ((const struct rte_ipv4_hdr *)(p + l3))->type_of_service;
	struct tunnel_rx rx = { .has_seq = false };
	enum drop_reason r;
	rte_be32_t nh;

	if (form) {
		rx.late_drop = 0;
		r = gre_form_check(t);
	} else {
		r = gre_decap_check(t, m, l4, gi, &rx);
	}
	/* The ECN step, which passes an outer Not-ECT packet as it is. */
	if (unlikely((outer_tos & PKT_ECN_MASK) != PKT_ECN_NOT_ECT) && likely(r == DROP_MAX) &&
	    likely(!rx.late_drop))
		r = ecn_decap_slow(t, outer_tos, in, avail);
	if (unlikely(r != DROP_MAX) || unlikely(rx.late_drop) ||
	    (t->reorder_mode != TUNNEL_REORDER_NONE && rx.has_seq))
		return decap_other(t, m, r, rx, off, arg);
	if (likely(inner_is_plain(c, t, in, avail, len, &nh))) {
		if (likely(forward)) {
			forward_plain(w, t, m, in, off, len, nh, l2);
			return NEXT_DONE;
		}
		*arg = nh;
		return NEXT_PLAIN;
	}
	return decap_to_deliver(m, off);
}

/* decap_owned_gre for a CLASS_GRE packet, out of line (the inline copy is for outer_form). */
static __rte_noinline uint8_t
decap_owned_gre_any(struct worker *w, const struct fast_ctx *c, struct tunnel *t, struct rte_mbuf *m,
		    const struct gre_info *gi, uint32_t *arg, bool forward, struct plain_l2 *l2)
{
	return decap_owned_gre(w, c, t, m, gi, arg, forward, false, l2);
}

/* decap_owned_gre for a packet after one left for stage 3: checks only, out of line. */
static __rte_noinline uint8_t
decap_owned_gre_late(struct worker *w, const struct fast_ctx *c, struct tunnel *t, struct rte_mbuf *m,
		     const struct gre_info *gi, uint32_t *arg, bool form, struct plain_l2 *l2)
{
	return form ? decap_owned_gre(w, c, t, m, gi, arg, false, true, l2)
		    : decap_owned_gre(w, c, t, m, gi, arg, false, false, l2);
}

/*
 * Three stages, so the dependent loads of many packets (tunnel lookup:
 * CRC -> cache entry -> tunnel -> driver state) overlap: classify the burst
 * (prefetching what the next pass reads first), decapsulate and check each
 * GRE packet on its headers as received, then act on every packet in
 * arrival order. Plain packets with nothing before them left to act on go
 * out from stage 2 already: the order is the same. The first two stages
 * otherwise only read shared state and drop (counted, order-free), so
 * outputs, windows and counters end as if each packet had gone through alone.
 */
void
outside_input(struct worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	const uint16_t l4 = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);
	struct tunnel *ts[BURST];
	struct gre_info gis[BURST];
	uint32_t arg[BURST];            /* sequence number or next hop */
	uint8_t next[BURST];
	struct plain_l2 l2 = { .nh = 0 };
	uint16_t first_pending;         /* stage 3 starts here */
	struct fast_ctx c;

	fast_ctx_init(&c);
	/* Headers of the packets a few places ahead are on their way while we work. */
	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct tunnel_key_words k;
		struct tunnel *t = NULL;

		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		const enum outside_class cl = outside_classify(&c, pkts[i], &gis[i], &k);

		next[i] = NEXT_ONE_BY_ONE;
		if (likely(cl != CLASS_OTHER)) {
			t = tunnel_table_lookup_words(&dp.tunnels, w->tcache, k);
			if (likely(t != NULL) && likely(outside_owned(w, t))) {
				next[i] = cl == CLASS_FORM ? NEXT_OWNED_FORM : NEXT_OWNED;
				/* What stage 2 reads first, while the next packets are classified. */
				rte_prefetch0(t->priv);
			}
		}
		ts[i] = t;
	}
	/* Forwarding right away while nothing before is left for stage 3 ... */
	for (first_pending = 0; first_pending < n; first_pending++) {
		const uint16_t i = first_pending;
		uint8_t done;

		if (likely(next[i] == NEXT_OWNED_FORM))
			done = decap_owned_gre(w, &c, ts[i], pkts[i], &gis[i], &arg[i], true, true, &l2);
		else if (next[i] == NEXT_OWNED)
			done = decap_owned_gre_any(w, &c, ts[i], pkts[i], &gis[i], &arg[i], true, &l2);
		else
			break;
		/* next[] before first_pending is never read again. */
		if (unlikely(done != NEXT_DONE)) {
			next[i] = done;
			break;
		}
	}
	/* ... then only checking, for stage 3 to act in order. */
	for (uint16_t i = first_pending + 1; i < n; i++)
		if (next[i] == NEXT_OWNED || next[i] == NEXT_OWNED_FORM)
			next[i] = decap_owned_gre_late(w, &c, ts[i], pkts[i], &gis[i], &arg[i],
						       next[i] == NEXT_OWNED_FORM, &l2);
	for (uint16_t i = first_pending; i < n; i++) {
		switch (next[i]) {
		case NEXT_PLAIN: {
			const uint16_t off = (uint16_t)(l4 + gis[i].hdr_len);
			struct rte_mbuf *m = pkts[i];

			forward_plain(w, ts[i], m, rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, off), off,
				      rte_pktmbuf_pkt_len(m) - off, arg[i], &l2);
			break;
		}
		case NEXT_ONE_BY_ONE:
			outside_one(w, pkts[i]);
			break;
		case NEXT_REORDER:
			reorder_push(w->reorder, &ts[i]->reorder, arg[i], pkts[i], w->now, &w->sink);
			break;
		case NEXT_DELIVER:
			deliver_slow(w, ts[i], pkts[i]);
			break;
		default:
			break;
		}
	}
}

void
decap_stage_flush(struct worker *w)
{
	struct tunnel_stage *s = &w->rx_stage;
	struct tunnel_rx rx[STAGE_MAX];
	enum drop_reason r[STAGE_MAX];

	if (s->n == 0)
		return;
	memset(rx, 0, sizeof(rx[0]) * s->n);
	s->ops->decap_burst(s->t, s->m, s->l4_off, rx, r, s->n);
	for (uint16_t i = 0; i < s->n; i++)
		decap_finish(w, s->t[i], s->m[i], r[i], &rx[i], s->tos[i]);
	s->n = 0;
}

static void
decap_stage_add(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off, uint8_t tos)
{
	struct tunnel_stage *s = &w->rx_stage;

	if (s->n != 0 && s->ops != t->ops)
		decap_stage_flush(w);
	s->ops = t->ops;
	s->t[s->n] = t;
	s->m[s->n] = m;
	s->l4_off[s->n] = l4_off;
	s->tos[s->n] = tos;
	if (++s->n == RTE_MIN(STAGE_MAX, t->ops->burst_max))
		decap_stage_flush(w);
}

void
tunnel_decap_owned(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off)
{
	struct tunnel_rx rx = { .has_seq = false };
	const uint8_t outer_tos = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
							  l4_off - sizeof(struct rte_ipv4_hdr))->type_of_service;

	if (t->nb_paths > 1)
		paths_rx(w, t, m, l4_off);
	if (t->ops->decap_burst != NULL)
		decap_stage_add(w, t, m, l4_off, outer_tos);
	else
		decap_finish(w, t, m, t->ops->decap(t, m, l4_off, &rx), &rx, outer_tos);
}

void
post_stage_flush(struct worker *w)
{
	struct tunnel_stage *s = &w->post_stage;
	enum drop_reason r[STAGE_MAX];

	if (s->n == 0)
		return;
	s->ops->rx_post_burst(s->t, s->m, r, s->n);
	for (uint16_t i = 0; i < s->n; i++) {
		if (r[i] == DROP_MAX)
			deliver(w, s->t[i], s->m[i]);
		else if (r[i] != TUNNEL_RX_TAKEN)
			tunnel_drop_pkt(s->t[i], s->m[i], r[i]);
	}
	s->n = 0;
}

/* One packet after its window, for a driver with rx_post_burst: runs of many tunnels share a call. */
static void
post_stage_add(struct worker *w, struct tunnel *t, struct rte_mbuf *m)
{
	struct tunnel_stage *s = &w->post_stage;

	if (s->n != 0 && s->ops != t->ops)
		post_stage_flush(w);
	s->ops = t->ops;
	s->t[s->n] = t;
	s->m[s->n] = m;
	if (++s->n == RTE_MIN(STAGE_MAX, t->ops->burst_max))
		post_stage_flush(w);
}

void
reorder_deliver(struct reorder_window *win, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	struct tunnel *t = container_of(win, struct tunnel, reorder);

	if (t->ops->rx_post_burst != NULL) {
		for (uint16_t i = 0; i < n; i++) {
			uint8_t late = handoff_meta(pkts[i])->late_drop;

			if (unlikely(late))
				tunnel_late_drop(t, pkts[i], late);
			else
				post_stage_add(arg, t, pkts[i]);
		}
		return;
	}
	if (t->ops->rx_post != NULL) {
		struct rte_mbuf *keep[BURST];
		uint16_t k = 0;

		for (uint16_t i = 0; i < n; i++) {
			uint8_t late = handoff_meta(pkts[i])->late_drop;

			if (unlikely(late))
				tunnel_late_drop(t, pkts[i], late);
			else
				keep[k++] = pkts[i];
			if (k == BURST) {
				deliver_post(arg, t, keep, k);
				k = 0;
			}
		}
		if (k != 0)
			deliver_post(arg, t, keep, k);
		return;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint8_t late = handoff_meta(pkts[i])->late_drop;

		if (unlikely(late))
			tunnel_late_drop(t, pkts[i], late);
		else
			deliver(arg, t, pkts[i]);
	}
}
