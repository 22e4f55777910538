/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "pkt.h"

enum drop_reason
pkt_arp_check(const struct rte_arp_hdr *arp, uint32_t len)
{
	if (len < sizeof(*arp))
		return DROP_ARP_MALFORMED;
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4)
		return DROP_ARP_MALFORMED;
	if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REPLY))
		return DROP_ARP_MALFORMED;
	return DROP_MAX;
}

void
pkt_arp_to_reply(struct rte_ether_hdr *eth, const struct rte_ether_addr *our_mac)
{
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *d = &arp->arp_data;
	rte_be32_t our_ip = d->arp_tip;

	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&d->arp_sha, &d->arp_tha);
	d->arp_tip = d->arp_sip;
	rte_ether_addr_copy(our_mac, &d->arp_sha);
	d->arp_sip = our_ip;
	pkt_eth_set(eth, &d->arp_tha, our_mac, RTE_ETHER_TYPE_ARP);
}

void
pkt_arp_write_request(void *buf, const struct rte_ether_addr *our_mac, rte_be32_t our_ip,
		      rte_be32_t target)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	struct rte_ether_hdr *eth = buf;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	pkt_eth_set(eth, &bcast, our_mac, RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(our_mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = our_ip;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = target;
}
