/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GRE (RFC 2784) with the key and sequence number extensions (RFC 2890),
 * carrying IPv4. Version 0 only: version 1 is PPTP's enhanced GRE and
 * belongs to drivers/pptp.
 */
#ifndef DPVPN_GRE_H
#define DPVPN_GRE_H

#include <stdbool.h>
#include <stdint.h>

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "tunnel.h"

/* First 16 bits of the GRE header, as bits of the big-endian word. */
#define GRE_F_CSUM 0x8000
#define GRE_F_ROUTING 0x4000
#define GRE_F_KEY 0x2000
#define GRE_F_SEQ 0x1000
#define GRE_F_STRICT 0x0800
#define GRE_RECUR_MASK 0x0700
#define GRE_VERSION_MASK 0x0007
/* RFC 2784 2.3: bits 1-5 (R, s, 3 recursion bits) must be zero; bits 6-12 are ignored. */
#define GRE_MUST_BE_ZERO (GRE_F_ROUTING | GRE_F_STRICT | GRE_RECUR_MASK)
#define GRE_IGNORED 0x00f8      /* what gre_parse never looks at of bits 6-12 */

struct gre_tunnel {
	rte_be32_t ikey;        /* key expected on receive (when has_ikey) */
	rte_be32_t okey;        /* key sent (when has_okey) */
	bool has_ikey;
	bool has_okey;
	bool seq;               /* send sequence numbers and require them on receive */
	bool csum;              /* send checksums and require them on receive */
	uint32_t tx_seq;        /* next sequence number to send */
};
/* The outside fast path reads seq and csum as one 16-bit word. */
static_assert(offsetof(struct gre_tunnel, csum) == offsetof(struct gre_tunnel, seq) + 1,
	      "gre_tunnel: csum follows seq");

/* Parsed fixed part of a GRE header. */
struct gre_info {
	uint16_t flags;         /* host order: the first 16 bits */
	uint16_t proto;         /* host order: payload ethertype */
	uint16_t hdr_len;       /* 4 + optional fields */
	rte_be32_t key;
	uint32_t seq;           /* host order */
};

/* Bytes of a GRE header with these options. */
static inline uint16_t
gre_hdr_len(bool csum, bool key, bool seq)
{
	return (uint16_t)(4 + (csum ? 4 : 0) + (key ? 4 : 0) + (seq ? 4 : 0));
}

/*
 * Parses a version-0 GRE header of len bytes. Returns DROP_MAX when valid, -1
 * when the version is not 0 (another driver's), else a drop reason.
 * Inline: the outside fast path keeps gi in registers and hands it to decap.
 */
static inline int
gre_parse(const uint8_t *p, uint32_t len, struct gre_info *gi)
{
	uint16_t off = 4;

	if (len < 4)
		return DROP_GRE_TRUNCATED;
	gi->flags = (uint16_t)(p[0] << 8 | p[1]);
	if ((gi->flags & GRE_VERSION_MASK) != 0)
		return -1;
	if (gi->flags & GRE_MUST_BE_ZERO)
		return DROP_GRE_BAD_FLAGS;
	gi->proto = (uint16_t)(p[2] << 8 | p[3]);
	gi->hdr_len = gre_hdr_len(gi->flags & GRE_F_CSUM, gi->flags & GRE_F_KEY, gi->flags & GRE_F_SEQ);
	if (len < gi->hdr_len)
		return DROP_GRE_TRUNCATED;
	if (gi->flags & GRE_F_CSUM)
		off += 4;
	gi->key = 0;
	if (gi->flags & GRE_F_KEY) {
		memcpy(&gi->key, p + off, 4);
		off += 4;
	}
	gi->seq = 0;
	if (gi->flags & GRE_F_SEQ) {
		rte_be32_t s;

		memcpy(&s, p + off, 4);
		gi->seq = rte_be_to_cpu_32(s);
	}
	return DROP_MAX;
}

/* The tunnel key of a parsed packet from src to dst. */
static inline struct tunnel_key_words
gre_rx_key(rte_be32_t src, rte_be32_t dst, const struct gre_info *gi)
{
	return tunnel_key_words_make(src, dst, gi->key, IPPROTO_GRE, (gi->flags & GRE_F_KEY) != 0);
}

/* True when the GRE checksum over the packet from l4_off on is right. */
bool gre_checksum_ok(const struct rte_mbuf *m, uint16_t l4_off);

/*
 * The checks of decap for a header gre_parse already accepted (t is a GRE
 * tunnel), without changing m: DROP_MAX when gre_decap_strip may follow.
 * Apart so the outside fast path can check a burst before it edits mbufs.
 */
static inline enum drop_reason
gre_decap_check(const struct tunnel *t, const struct rte_mbuf *m, uint16_t l4_off,
		const struct gre_info *gi, struct tunnel_rx *rx)
{
	const struct gre_tunnel *g = t->priv;

	rx->late_drop = 0;
	if (unlikely(gi->flags & GRE_F_CSUM)) {
		if (!gre_checksum_ok(m, l4_off))
			return DROP_GRE_BAD_CHECKSUM;
	} else if (unlikely(g->csum)) {
		return DROP_CHECKSUM_MISSING;
	}
	if (unlikely(gi->proto != RTE_ETHER_TYPE_IPV4)) {
		/* A numbered non-IPv4 packet (the peer's IPv6 chatter) still takes its place in the
		 * sequence, as Linux's ip_gre advances past it; otherwise its number would be a gap. */
		if (!g->seq || !(gi->flags & GRE_F_SEQ))
			return DROP_GRE_UNKNOWN_PROTO;
		rx->late_drop = 1 + DROP_GRE_UNKNOWN_PROTO;
	}
	/* Ordering (RFC 2890 2.2, or the reorder window) is the caller's, after decap. */
	if (unlikely(g->seq && !(gi->flags & GRE_F_SEQ)))
		return DROP_SEQ_MISSING;
	rx->has_seq = g->seq;
	rx->seq = gi->seq;
	return DROP_MAX;
}

/*
 * Strips the inner_off bytes up to the inner packet (l4_off + gi->hdr_len)
 * of a packet gre_decap_check accepted.
 */
static inline void
gre_decap_strip(struct rte_mbuf *m, uint16_t inner_off)
{
	/* gre_parse saw the whole header in the first segment: adj cannot fail. */
	rte_pktmbuf_adj(m, inner_off);
	/* The NIC's checksum verdict was about the outer header, not the inner one. */
	m->ol_flags &= ~RTE_MBUF_F_RX_IP_CKSUM_MASK;
}

/*
 * decap for a header gre_parse already accepted (t is a GRE tunnel): the
 * tunnel's requirements, then strips everything up to the inner packet.
 */
static inline enum drop_reason
gre_decap_parsed(const struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off,
		 const struct gre_info *gi, struct tunnel_rx *rx)
{
	enum drop_reason r = gre_decap_check(t, m, l4_off, gi, rx);

	if (r == DROP_MAX)
		gre_decap_strip(m, (uint16_t)(l4_off + gi->hdr_len));
	return r;
}

extern const struct tunnel_ops gre_ops;

#endif
