/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 6040 at decapsulation (lib/pkt/pkt_ecn.h has the table): the outer
 * header's ECN field onto the inner IPv4 packet, before the reorder window
 * and delivery. Outer Not-ECT, the common case, costs one compare.
 */
#ifndef DPVPN_ECN_DECAP_H
#define DPVPN_ECN_DECAP_H

#include "pkt_ecn.h"
#include "tunnel.h"

/*
 * outer_tos: the received outer header's TOS; inner: the decapsulated
 * header with avail bytes in the segment. Returns DROP_MAX (inner rewritten
 * if the table says so), or DROP_ECN_CE_NOT_ECT. Owner lcore of t.
 */
static __rte_always_inline enum drop_reason
tunnel_ecn_decap(struct tunnel *t, uint8_t outer_tos, struct rte_ipv4_hdr *inner, uint32_t avail)
{
	enum pkt_ecn_decap_result r;
	uint8_t ecn = 0;
	bool odd;

	if (likely((outer_tos & PKT_ECN_MASK) == PKT_ECN_NOT_ECT))
		return DROP_MAX;
	/* Not an IPv4 header we can read: deliver's checks drop it as inner_malformed. */
	if (unlikely(avail < sizeof(*inner) || (inner->version_ihl >> 4) != 4))
		return DROP_MAX;
	r = pkt_ecn_decap(outer_tos, inner->type_of_service, &ecn, &odd);
	if (r == PKT_ECN_DECAP_DROP)
		return DROP_ECN_CE_NOT_ECT;
	if (unlikely(odd))
		stats_inc(&t->ecn_odd);
	if (r == PKT_ECN_DECAP_SET)
		pkt_ipv4_set_tos(inner, (uint8_t)((inner->type_of_service & ~PKT_ECN_MASK) | ecn));
	return DROP_MAX;
}

#endif
