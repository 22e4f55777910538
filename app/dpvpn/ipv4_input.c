/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 checks shared by both ports, ICMP echo and ICMP errors for our addresses. */
#include "clock.h"
#include "dpvpn.h"

enum drop_reason
ipv4_input_check(struct rte_mbuf *m, uint16_t off, struct rte_ipv4_hdr **ipp)
{
	struct rte_ipv4_hdr *ip;
	uint32_t avail = rte_pktmbuf_pkt_len(m) - off;
	uint64_t csum = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	enum drop_reason r;
	uint16_t total;

	/* Headers must sit in the first segment; every PMD here delivers them so. */
	if (rte_pktmbuf_data_len(m) < off + sizeof(*ip))
		return DROP_IP_TRUNCATED;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, off);
	if (rte_pktmbuf_data_len(m) < off + pkt_ipv4_hdr_len(ip))
		return DROP_IP_TRUNCATED;
	if (csum == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return DROP_IP_BAD_CHECKSUM;
	r = pkt_ipv4_check(ip, avail,
			   dp.cfg.verify_checksums && csum != RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	if (r != DROP_MAX)
		return r;
	/* Drop Ethernet padding so lengths below are the IP packet's. */
	total = rte_be_to_cpu_16(ip->total_length);
	if (avail > total)
		rte_pktmbuf_trim(m, (uint16_t)(avail - total));
	*ipp = ip;
	return DROP_MAX;
}

/* Next hop towards dst on port p: dst itself when on-link, else the gateway (0 = none). */
static inline rte_be32_t
next_hop(const struct dp_port *port, rte_be32_t dst)
{
	return pkt_prefix_contains(&port->subnet, dst) ? dst : port->gateway;
}

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
	nh = next_hop(&dp.ports[p], ip->dst_addr);
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
	nh = next_hop(&dp.ports[PORT_INSIDE], ip->dst_addr);
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

rte_be32_t
port_next_hop(enum port_role p, rte_be32_t dst)
{
	return next_hop(&dp.ports[p], dst);
}
