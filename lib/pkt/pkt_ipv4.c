/* SPDX-License-Identifier: BSD-3-Clause */
#include "pkt.h"

enum drop_reason
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
	if (verify_csum && rte_raw_cksum(ip, hlen) != 0xffff)
		return DROP_IP_BAD_CHECKSUM;
	return DROP_MAX;
}

void
pkt_ipv4_set_checksum(struct rte_ipv4_hdr *ip)
{
	uint16_t sum;

	ip->hdr_checksum = 0;
	sum = rte_raw_cksum(ip, pkt_ipv4_hdr_len(ip));
	ip->hdr_checksum = (sum == 0xffff) ? sum : (uint16_t)~sum;
}
