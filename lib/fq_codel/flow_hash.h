/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The keyed flow hash of fq_codel: SipHash-1-3 (Aumasson and Bernstein) of an
 * IPv4 packet's 5-tuple under a random per-queue key, so a client cannot
 * craft flows that collide into one queue with someone else's (a plain CRC
 * or unkeyed Jenkins hash would let it). The 5-tuple is two 64-bit words:
 * addresses, then ports and protocol.
 */
#ifndef DPVPN_FLOW_HASH_H
#define DPVPN_FLOW_HASH_H

#include <stdint.h>

#include <rte_ip.h>

struct flow_hash_key {
	uint64_t k0, k1;
};

#define FLOW_HASH_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define FLOW_HASH_ROUND(v0, v1, v2, v3)                                               \
	do {                                                                          \
		v0 += v1; v1 = FLOW_HASH_ROTL(v1, 13); v1 ^= v0; v0 = FLOW_HASH_ROTL(v0, 32); \
		v2 += v3; v3 = FLOW_HASH_ROTL(v3, 16); v3 ^= v2;                         \
		v0 += v3; v3 = FLOW_HASH_ROTL(v3, 21); v3 ^= v0;                         \
		v2 += v1; v1 = FLOW_HASH_ROTL(v1, 17); v1 ^= v2; v2 = FLOW_HASH_ROTL(v2, 32); \
	} while (0)

/* SipHash-1-3 of the 16-byte message (m0, m1). */
static inline uint64_t
flow_hash_siphash13(const struct flow_hash_key *k, uint64_t m0, uint64_t m1)
{
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ULL, v1 = k->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ULL, v3 = k->k1 ^ 0x7465646279746573ULL;
	const uint64_t last = (uint64_t)16 << 56; /* message length in the final block */

	v3 ^= m0; FLOW_HASH_ROUND(v0, v1, v2, v3); v0 ^= m0;
	v3 ^= m1; FLOW_HASH_ROUND(v0, v1, v2, v3); v0 ^= m1;
	v3 ^= last; FLOW_HASH_ROUND(v0, v1, v2, v3); v0 ^= last;
	v2 ^= 0xff;
	FLOW_HASH_ROUND(v0, v1, v2, v3);
	FLOW_HASH_ROUND(v0, v1, v2, v3);
	FLOW_HASH_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * The flow of an IPv4 packet (header at ip, len bytes available from it):
 * addresses, protocol, and for TCP, UDP, SCTP and UDP-Lite the ports. Fragments
 * hash without ports so all pieces of one datagram share a queue.
 */
static inline uint64_t
flow_hash_ipv4(const struct flow_hash_key *k, const struct rte_ipv4_hdr *ip, uint32_t len)
{
	uint32_t ports = 0;
	uint16_t hl = (uint16_t)((ip->version_ihl & 0xf) * 4);
	uint8_t proto = ip->next_proto_id;

	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
	     proto == IPPROTO_UDPLITE) &&
	    (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) == 0 &&
	    len >= (uint32_t)hl + 4)
		memcpy(&ports, (const uint8_t *)ip + hl, sizeof(ports));
	return flow_hash_siphash13(k, (uint64_t)ip->dst_addr << 32 | ip->src_addr,
				   (uint64_t)proto << 32 | ports);
}

#endif
