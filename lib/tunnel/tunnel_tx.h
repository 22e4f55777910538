/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prebuilt headers of a single-path tunnel's packets: Ethernet to the next
 * hop, outer IPv4 and the driver's fixed header. Per packet only the IPv4
 * TOS (ECN and DSCP), total length, id and checksum (from a precomputed partial sum) and an
 * optional driver sequence number change, so encapsulation is two wide
 * copies and a few small stores.
 *
 * The owner lcore builds the template after a packet went out through the
 * full path with a resolved next hop, from its copy of that neighbour (a
 * slot of the worker's neighbour cache). It trusts the template exactly as
 * long as the full path would have used that slot: until the slot's expiry,
 * and only while no slot was refilled since (cache_gen); then the full path
 * runs again and rebuilds it.
 */
#ifndef DPVPN_TUNNEL_TX_H
#define DPVPN_TUNNEL_TX_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "pkt.h"

struct tunnel;

#define TUNNEL_TX_HDR_MAX 64

struct tunnel_tx {
	uint64_t valid_until;   /* clock ticks; 0 while not built */
	uint32_t cache_gen;     /* the owner's neighbour-cache generation at build */
	uint32_t ip_sum;        /* sum of the outer IPv4 words that never change, folded */
	uint32_t *seq;          /* driver counter written big-endian at seq_off, or NULL */
	uint16_t seq_off;
	uint16_t len;           /* bytes of hdr in use */
	bool unsupported;       /* the tunnel's headers vary per packet: never build */
	uint8_t hdr[TUNNEL_TX_HDR_MAX] __rte_aligned(16);
};

/* Offset of the outer IPv4 header in the template. */
#define TUNNEL_TX_IP_OFF ((uint16_t)sizeof(struct rte_ether_hdr))

/*
 * Builds t's template for packets from src_mac to dst_mac, trusted until
 * valid_until while the neighbour-cache generation stays cache_gen. Marks
 * it unsupported (and leaves it unbuilt) when the driver has no fixed header
 * or the tunnel has several paths.
 */
void tunnel_tx_build(struct tunnel *t, const struct rte_ether_addr *dst_mac,
		     const struct rte_ether_addr *src_mac, uint64_t valid_until, uint32_t cache_gen);

/* True when the template may be used at time now, cache generation gen, for m (headroom). */
static inline bool
tunnel_tx_usable(const struct tunnel_tx *tx, const struct rte_mbuf *m, uint64_t now, uint32_t gen)
{
	return now < tx->valid_until && tx->cache_gen == gen && rte_pktmbuf_headroom(m) >= tx->len;
}

/* Prepends the headers to m (tunnel_tx_usable said yes) with IPv4 id ip_id and TOS tos. */
static inline void
tunnel_tx_prepend(struct tunnel_tx *tx, struct rte_mbuf *m, uint16_t ip_id, uint8_t tos)
{
	/* Read the template's fields before writing the packet: stores through p may alias them. */
	const uint16_t hlen = tx->len, seq_off = tx->seq_off;
	const uint32_t ip_sum = tx->ip_sum;
	uint32_t *seq = tx->seq;
	uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, hlen);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + TUNNEL_TX_IP_OFF);
	rte_be16_t len = rte_cpu_to_be_16((uint16_t)(rte_pktmbuf_pkt_len(m) - TUNNEL_TX_IP_OFF));
	rte_be16_t id = rte_cpu_to_be_16(ip_id);

	/* Two overlapping 32-byte copies cover any length from 32 to 64. */
	RTE_BUILD_BUG_ON(TUNNEL_TX_HDR_MAX > 64);
	memcpy(p, tx->hdr, 32);
	memcpy(p + hlen - 32, tx->hdr + hlen - 32, 32);
	ip->type_of_service = tos;
	ip->total_length = len;
	ip->packet_id = id;
	/* The template's sum has TOS 0; TOS is the low byte of the first big-endian word. */
	ip->hdr_checksum = pkt_ipv4_csum_from_sum16(ip_sum + len + id + rte_cpu_to_be_16(tos));
	if (seq != NULL) {
		rte_be32_t s = rte_cpu_to_be_32((*seq)++);

		memcpy(p + seq_off, &s, sizeof(s));
	}
}

#endif
