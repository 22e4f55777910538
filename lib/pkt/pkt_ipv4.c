/* SPDX-License-Identifier: BSD-3-Clause */
#include "pkt.h"

void
pkt_ipv4_set_checksum(struct rte_ipv4_hdr *ip)
{
	uint16_t sum;

	ip->hdr_checksum = 0;
	sum = pkt_ipv4_hdr_len(ip) == sizeof(*ip) ? pkt_ipv4_sum20(ip) : rte_raw_cksum(ip, pkt_ipv4_hdr_len(ip));
	ip->hdr_checksum = (sum == 0xffff) ? sum : (uint16_t)~sum;
}
