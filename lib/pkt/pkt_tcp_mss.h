/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP MSS clamping for tunnels (OpenVPN's mssfix, iptables' TCPMSS): a TCP SYN
 * crossing a tunnel gets its MSS option lowered to what fits the tunnel's MTU,
 * so the endpoints never send segments that would need fragmenting or ICMP
 * "fragmentation needed" (which is often filtered) to find the path MTU.
 */
#ifndef DPVPN_PKT_TCP_MSS_H
#define DPVPN_PKT_TCP_MSS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ip.h>

#define PKT_TCP_SYN 0x02
#define PKT_TCP_MSS_MIN 536     /* RFC 879's default: never clamp below it */

/* The MSS that fits an inner MTU: minus the IPv4 and TCP headers without options. */
static inline uint16_t
pkt_tcp_mss_for_mtu(uint16_t mtu)
{
	return (uint16_t)(mtu - 40);
}

/* A TCP SYN (or SYN-ACK) in len bytes from ip, first fragment: the only packets with an MSS option. */
static inline bool
pkt_ipv4_is_tcp_syn(const struct rte_ipv4_hdr *ip, uint32_t len)
{
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;

	if (ip->next_proto_id != IPPROTO_TCP || ihl < sizeof(*ip) || len < ihl + 20 ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return false;
	return (((const uint8_t *)ip)[ihl + 13] & PKT_TCP_SYN) != 0;
}

/*
 * Lowers the MSS option of the TCP SYN in len bytes from ip to mss when it
 * is larger, patching the TCP checksum incrementally (RFC 1624). Returns
 * true when it changed the packet. Malformed options are left alone.
 */
bool pkt_tcp_mss_clamp(struct rte_ipv4_hdr *ip, uint32_t len, uint16_t mss);

#endif
