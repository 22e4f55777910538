/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP in the data plane: answer for our addresses, learn neighbours. */
#include "clock.h"
#include "dpvpn.h"

void
arp_input(struct worker *w, enum port_role p, struct rte_mbuf *m)
{
	struct dp_port *port = &dp.ports[p];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	enum drop_reason r;
	rte_be32_t sip, tip;

	r = pkt_arp_check(arp, rte_pktmbuf_data_len(m) - (uint32_t)sizeof(*eth));
	if (r != DROP_MAX) {
		worker_drop(w, m, r);
		return;
	}
	sip = arp->arp_data.arp_sip;
	tip = arp->arp_data.arp_tip;
	if (tip != port->addr) {
		/* Overheard or gratuitous: refresh what we already know, learn nothing new. */
		if (sip != 0 && rte_is_unicast_ether_addr(&arp->arp_data.arp_sha))
			neigh_refresh_if_known(&port->neigh, sip, &arp->arp_data.arp_sha, w->now);
		worker_drop(w, m, DROP_ARP_NOT_FOR_US);
		return;
	}
	/* Addressed to us: the sender will talk to us, so remember it (as Linux does). */
	if (sip != 0 && pkt_prefix_contains(&port->subnet, sip) &&
	    rte_is_unicast_ether_addr(&arp->arp_data.arp_sha))
		neigh_update(&port->neigh, sip, &arp->arp_data.arp_sha, w->now, false);
	if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
		pkt_arp_to_reply(eth, &port->mac);
		stats_inc(&w->stats.arp_replies);
		xmit_raw(w, p, m);
		return;
	}
	rte_pktmbuf_free(m); /* a reply to our request: learnt above */
}
