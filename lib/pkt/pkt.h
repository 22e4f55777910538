/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet helpers that know no tunnel protocol: address parsing, IPv4 header
 * checks, TTL, ARP and ICMP echo built in place. Pure functions over header
 * bytes, so unit tests need no EAL.
 *
 * Addresses on the wire and in configuration are rte_be32_t (network order);
 * rte_lpm wants host order, and its callers convert at that boundary.
 */
#ifndef DPVPN_PKT_H
#define DPVPN_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "stats.h"

/* An IPv4 prefix; addr is masked to depth. */
struct pkt_prefix {
	rte_be32_t addr;
	uint8_t depth;
};

/* "192.0.2.1" -> network order. Returns 0, or -1 if not a dotted quad. */
int pkt_parse_ipv4(const char *s, rte_be32_t *out);
/* "10.0.0.0/24"; a bare address is /32. Host bits must be zero unless keep_host. */
int pkt_parse_prefix(const char *s, struct pkt_prefix *out, bool keep_host, rte_be32_t *host);
/* "02:00:00:00:00:01" */
int pkt_parse_mac(const char *s, struct rte_ether_addr *out);
/* Writes "a.b.c.d" into buf (at least 16 bytes) and returns buf. */
char *pkt_format_ipv4(rte_be32_t a, char *buf, size_t len);

static inline rte_be32_t
pkt_prefix_mask(uint8_t depth)
{
	return depth == 0 ? 0 : rte_cpu_to_be_32(~0u << (32 - depth));
}

/* Always inline: gcc kept an out-of-line copy that the per-packet next hop called. */
static __rte_always_inline bool
pkt_prefix_contains(const struct pkt_prefix *p, rte_be32_t a)
{
	return (a & pkt_prefix_mask(p->depth)) == p->addr;
}

static inline uint16_t
pkt_ipv4_hdr_len(const struct rte_ipv4_hdr *ip)
{
	return (uint16_t)((ip->version_ihl & 0x0f) * 4);
}

/* One's-complement sum of a 20-byte header as five 32-bit words: the common case, unrolled. */
static inline uint16_t
pkt_ipv4_sum20(const void *hdr)
{
	const uint32_t *w = (const uint32_t *)hdr;
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * True when a 20-byte header's checksum is right, i.e. pkt_ipv4_sum20 would
 * give 0xffff: folding keeps the sum modulo 0xffff and never yields 0 from a
 * non-zero sum, so that is a non-zero sum divisible by 0xffff. One multiply
 * instead of four dependent folds.
 */
static inline bool
pkt_ipv4_sum20_ok(const void *hdr)
{
	const uint32_t *w = (const uint32_t *)hdr;
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];

	return s != 0 && s % 0xffff == 0;
}

/*
 * Checks an IPv4 header: version, IHL, total length within avail (bytes from
 * the header to the end of the packet), header checksum when verify_csum.
 * Returns DROP_MAX when the header is good, else the reason to drop.
 */
static inline enum drop_reason
pkt_ipv4_check(const struct rte_ipv4_hdr *ip, uint32_t avail, bool verify_csum)
{
	uint16_t hlen, total;

	if (avail < sizeof(*ip))
		return DROP_IP_TRUNCATED;
	if ((ip->version_ihl >> 4) != 4)
		return DROP_IP_BAD_VERSION;
	hlen = pkt_ipv4_hdr_len(ip);
	if (hlen < sizeof(*ip))
		return DROP_IP_BAD_HEADER_LEN;
	total = rte_be_to_cpu_16(ip->total_length);
	if (total < hlen || total > avail || hlen > avail)
		return DROP_IP_TRUNCATED;
	/* A correct header sums to 0xffff including its own checksum field. */
	if (verify_csum) {
		if (hlen == sizeof(*ip) ? !pkt_ipv4_sum20_ok(ip) : rte_raw_cksum(ip, hlen) != 0xffff)
			return DROP_IP_BAD_CHECKSUM;
	}
	return DROP_MAX;
}

static inline bool
pkt_ipv4_is_fragment(const struct rte_ipv4_hdr *ip)
{
	return (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
}

static inline bool
pkt_ipv4_is_martian_source(rte_be32_t src)
{
	uint32_t s = rte_be_to_cpu_32(src);

	/* 0.0.0.0/8, 127.0.0.0/8, multicast and reserved 224.0.0.0/3 */
	return (s >> 24) == 0 || (s >> 24) == 127 || (s >> 29) == 7;
}

/* Decrements TTL and patches the checksum incrementally (RFC 1624). */
static inline void
pkt_ipv4_ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint32_t c = rte_be_to_cpu_16(ip->hdr_checksum) + 0x0100;

	ip->time_to_live--;
	c = (c & 0xffff) + (c >> 16);
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)c);
}

/* Fills the header checksum of a complete IPv4 header (options included). */
void pkt_ipv4_set_checksum(struct rte_ipv4_hdr *ip);

/*
 * The checksum field from a partial sum folded to 16 bits (pkt_ipv4_fold16
 * of the fixed words) plus up to three more 16-bit words: below 2^18, so two folds
 * suffice. Same value as pkt_ipv4_csum_from_sum over the full sum.
 */
static inline rte_be16_t
pkt_ipv4_csum_from_sum16(uint32_t s)
{
	uint16_t sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	sum = (uint16_t)s;
	return sum == 0xffff ? sum : (uint16_t)~sum;
}

/* A sum folded to 16 bits, keeping its value modulo 0xffff (0 only for 0). */
static inline uint16_t
pkt_ipv4_fold16(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * The header checksum field from the 64-bit sum of a header's 16-bit words
 * (checksum field as 0), as rte_ipv4_cksum gives it.
 */
static inline rte_be16_t
pkt_ipv4_csum_from_sum(uint64_t s)
{
	uint16_t sum = pkt_ipv4_fold16(s);

	return sum == 0xffff ? sum : (uint16_t)~sum;
}

/*
 * Sum of the words of a 20-byte IPv4 header (no options, not a fragment)
 * that do not change per packet: everything but total length and id.
 */
static inline uint64_t
pkt_ipv4_sum_fixed(uint8_t tos, uint8_t ttl, uint8_t proto, rte_be32_t src, rte_be32_t dst)
{
	/* 16-bit words as they lie in memory: the one's-complement sum is byte-order neutral. */
	uint16_t vhl_tos = rte_cpu_to_be_16((uint16_t)(RTE_IPV4_VHL_DEF << 8 | tos));
	uint16_t ttl_proto = rte_cpu_to_be_16((uint16_t)(ttl << 8 | proto));

	return (uint64_t)vhl_tos + ttl_proto + src + dst;
}

/*
 * Writes a 20-byte IPv4 header (no options, not a fragment) and its checksum,
 * same bytes as filling the fields and calling pkt_ipv4_set_checksum. The sum
 * comes from the values in registers: reading just-written 8- and 16-bit
 * fields back as 32-bit words stalls store-to-load forwarding.
 */
static inline void
pkt_ipv4_write_hdr(struct rte_ipv4_hdr *ip, uint8_t tos, uint16_t total_len, uint16_t id,
		   uint8_t ttl, uint8_t proto, rte_be32_t src, rte_be32_t dst)
{
	rte_be16_t len = rte_cpu_to_be_16(total_len), pid = rte_cpu_to_be_16(id);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = tos;
	ip->total_length = len;
	ip->packet_id = pid;
	ip->fragment_offset = 0;
	ip->time_to_live = ttl;
	ip->next_proto_id = proto;
	ip->hdr_checksum = pkt_ipv4_csum_from_sum(pkt_ipv4_sum_fixed(tos, ttl, proto, src, dst) + len + pid);
	ip->src_addr = src;
	ip->dst_addr = dst;
}

/*
 * ARP over Ethernet/IPv4. pkt_arp_check validates len bytes starting at the
 * ARP header; returns DROP_MAX when usable.
 */
enum drop_reason pkt_arp_check(const struct rte_arp_hdr *arp, uint32_t len);
/* Turns a request for our address into the reply, in place (Ethernet too). */
void pkt_arp_to_reply(struct rte_ether_hdr *eth, const struct rte_ether_addr *our_mac);
/* Writes a broadcast who-has request (Ethernet + ARP, 42 bytes) into buf. */
void pkt_arp_write_request(void *buf, const struct rte_ether_addr *our_mac, rte_be32_t our_ip,
			   rte_be32_t target);

/*
 * ICMP echo: checks type and checksum over len bytes at icmp, then turns the
 * packet into the reply in place (addresses swapped, TTL reset, both sums
 * recomputed). Returns DROP_MAX on success.
 */
enum drop_reason pkt_icmp_echo_to_reply(struct rte_ipv4_hdr *ip, uint32_t ip_len);

/* ICMP types DPDK 22.11 does not name. */
#define PKT_ICMP_DEST_UNREACH 3
#define PKT_ICMP_FRAG_NEEDED 4 /* code of PKT_ICMP_DEST_UNREACH */
#define PKT_ICMP_TIME_EXCEEDED 11

struct rte_mbuf;
struct rte_mempool;
/*
 * Builds an ICMP error (type, code; mtu for "fragmentation needed") from src
 * about the IPv4 packet at the start of orig: a new mbuf from pool holding
 * IPv4 + ICMP + the original header and 8 bytes of its payload (RFC 792).
 * Returns NULL when none may be sent (the original is itself an ICMP error or
 * a non-first fragment, or has a broadcast/multicast/martian source) or pool
 * is empty. orig is not consumed.
 */
struct rte_mbuf *pkt_icmp_error(const struct rte_mbuf *orig, struct rte_mempool *pool,
				uint8_t type, uint8_t code, uint16_t mtu, rte_be32_t src);

/* Sets outer MACs: dst then src. */
static inline void
pkt_eth_set(struct rte_ether_hdr *eth, const struct rte_ether_addr *dst,
	    const struct rte_ether_addr *src, uint16_t ether_type)
{
	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(src, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(ether_type);
}

#endif
