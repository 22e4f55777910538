/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP echo and ICMP errors for our addresses, and output of packets we generate. */
#include "clock.h"
#include "dpvpn.h"

void
icmp_input(struct worker *w, enum port_role p, struct rte_mbuf *m, struct rte_ipv4_hdr *ip)
{
	enum drop_reason r;
	rte_be32_t nh;

	if (ip->next_proto_id != IPPROTO_ICMP) {
		worker_drop(w, m, DROP_IP_UNKNOWN_PROTOCOL);
		return;
	}
	if (pkt_ipv4_is_fragment(ip) || m->nb_segs > 1) {
		worker_drop(w, m, DROP_ICMP_UNHANDLED);
		return;
	}
	r = pkt_icmp_echo_to_reply(ip, rte_pktmbuf_pkt_len(m));
	if (r != DROP_MAX) {
		worker_drop(w, m, r);
		return;
	}
	nh = port_next_hop(p, ip->dst_addr);
	if (nh == 0) {
		worker_drop(w, m, DROP_NO_ROUTE);
		return;
	}
	stats_inc(&w->stats.icmp_echo_replies);
	xmit_ipv4(w, p, nh, m, NULL);
}

void
local_output(struct worker *w, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	struct tunnel *t = tunnel_table_route(&dp.tunnels, ip->dst_addr);
	rte_be32_t nh;

	if (t != NULL) {
		if (t->worker == w->index)
			tunnel_encap_owned(w, t, m);
		else
			handoff(w, t, m, HANDOFF_ENCAP, 0);
		return;
	}
	nh = port_next_hop(PORT_INSIDE, ip->dst_addr);
	if (nh == 0) {
		worker_drop(w, m, DROP_NO_ROUTE);
		return;
	}
	xmit_ipv4(w, PORT_INSIDE, nh, m, NULL);
}

void
send_icmp_error(struct worker *w, const struct rte_mbuf *orig, uint8_t type, uint8_t code,
		uint16_t mtu)
{
	struct rte_mbuf *m;

	/* RFC 1812 4.3.2.8: errors are rate limited; a token bucket per worker. */
	if (w->icmp_tokens == 0)
		return;
	m = pkt_icmp_error(orig, dp.pool, type, code, mtu, dp.ports[PORT_INSIDE].addr);
	if (m == NULL)
		return;
	w->icmp_tokens--;
	stats_inc(&w->stats.icmp_errors);
	local_output(w, m);
}
