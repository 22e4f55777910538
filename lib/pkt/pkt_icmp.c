/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "pkt.h"

enum drop_reason
pkt_icmp_echo_to_reply(struct rte_ipv4_hdr *ip, uint32_t ip_len)
{
	uint16_t hlen = pkt_ipv4_hdr_len(ip);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	uint32_t icmp_len = ip_len - hlen;
	rte_be32_t a;
	uint16_t sum;

	if (icmp_len < sizeof(*icmp) || rte_raw_cksum(icmp, icmp_len) != 0xffff)
		return DROP_ICMP_MALFORMED;
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
		return DROP_ICMP_UNHANDLED;

	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	sum = rte_raw_cksum(icmp, icmp_len);
	icmp->icmp_cksum = (sum == 0xffff) ? sum : (uint16_t)~sum;

	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	pkt_ipv4_set_checksum(ip);
	return DROP_MAX;
}

static bool
is_icmp_error(const struct rte_mbuf *m, uint16_t hlen)
{
	uint8_t type, buf;
	const uint8_t *t = rte_pktmbuf_read(m, hlen, 1, &buf);

	if (t == NULL)
		return true; /* truncated: say nothing */
	type = *t;
	return !(type == RTE_IP_ICMP_ECHO_REQUEST || type == RTE_IP_ICMP_ECHO_REPLY ||
		 type == 13 || type == 14 /* timestamp */);
}

struct rte_mbuf *
pkt_icmp_error(const struct rte_mbuf *orig, struct rte_mempool *pool, uint8_t type, uint8_t code,
	       uint16_t mtu, rte_be32_t src)
{
	const struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod(orig, const struct rte_ipv4_hdr *);
	uint16_t hlen = pkt_ipv4_hdr_len(oip);
	uint32_t keep = RTE_MIN(rte_pktmbuf_pkt_len(orig), (uint32_t)hlen + 8);
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	struct rte_mbuf *m;
	uint16_t sum;

	/* RFC 1812 4.3.2.7: never about ICMP errors, later fragments, or odd sources. */
	if ((oip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) != 0 ||
	    pkt_ipv4_is_martian_source(oip->src_addr) || oip->src_addr == RTE_BE32(0xffffffff) ||
	    pkt_ipv4_is_martian_source(oip->dst_addr) || oip->dst_addr == RTE_BE32(0xffffffff) ||
	    (oip->next_proto_id == IPPROTO_ICMP && is_icmp_error(orig, hlen)))
		return NULL;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL;
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*ip) + sizeof(*icmp) + keep));
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	/* rte_pktmbuf_read copies only when the bytes span segments; else it points at them. */
	const void *quoted = rte_pktmbuf_read(orig, 0, keep, icmp + 1);
	if (quoted != icmp + 1)
		rte_memcpy(icmp + 1, quoted, keep);

	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_cksum = 0;
	icmp->icmp_ident = 0;
	icmp->icmp_seq_nb = rte_cpu_to_be_16(mtu);
	sum = rte_raw_cksum(icmp, sizeof(*icmp) + keep);
	icmp->icmp_cksum = (sum == 0xffff) ? sum : (uint16_t)~sum;

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0xc0; /* internetwork control */
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*icmp) + keep));
	ip->packet_id = 0;
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = src;
	ip->dst_addr = oip->src_addr;
	pkt_ipv4_set_checksum(ip);
	return m;
}
