/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ECN and DSCP across a tunnel.
 *
 * Encapsulation follows RFC 6040's normal mode: the outer ECN field is a copy
 * of the inner one, so congestion marked on the way to the peer survives
 * decapsulation. DSCP is either copied (RFC 2983's uniform model) or a fixed
 * per-tunnel value (the pipe model).
 *
 * Decapsulation follows RFC 6040 section 4.2 (rows: inner, columns: outer):
 *
 *              Not-ECT   ECT(0)        ECT(1)        CE
 *   Not-ECT    Not-ECT   Not-ECT (!!!) Not-ECT (!!!) drop (!!!)
 *   ECT(0)     ECT(0)    ECT(0)        ECT(1)        CE
 *   ECT(1)     ECT(1)    ECT(1) (!)    ECT(1)        CE
 *   CE         CE        CE            CE (!!!)      CE
 *
 * The marked combinations cannot come from a compliant encapsulator; the RFC
 * asks for them to be logged, so they are counted.
 */
#ifndef DPVPN_PKT_ECN_H
#define DPVPN_PKT_ECN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

enum { PKT_ECN_NOT_ECT = 0, PKT_ECN_ECT1 = 1, PKT_ECN_ECT0 = 2, PKT_ECN_CE = 3, PKT_ECN_MASK = 3 };

/* DSCP of a tunnel's outer header: copied from the inner packet, or fixed. */
#define PKT_DSCP_INHERIT 0xff

/* Outer TOS for an inner TOS: RFC 6040 normal mode, DSCP inherited or fixed (0..63). */
static inline uint8_t
pkt_ecn_encap_tos(uint8_t inner_tos, uint8_t dscp)
{
	uint8_t ds = dscp == PKT_DSCP_INHERIT ? (uint8_t)(inner_tos & ~PKT_ECN_MASK) : (uint8_t)(dscp << 2);

	return (uint8_t)(ds | (inner_tos & PKT_ECN_MASK));
}

enum pkt_ecn_decap_result {
	PKT_ECN_DECAP_KEEP,      /* the inner ECN field stays as it is */
	PKT_ECN_DECAP_SET,       /* the inner ECN field must become the returned value */
	PKT_ECN_DECAP_DROP,      /* congestion marked on a flow that cannot see it */
};

/*
 * RFC 6040's decapsulation for one packet: *ecn gets the inner field to
 * write when PKT_ECN_DECAP_SET; *odd says the pair is one the RFC asks to log.
 */
static inline enum pkt_ecn_decap_result
pkt_ecn_decap(uint8_t outer_tos, uint8_t inner_tos, uint8_t *ecn, bool *odd)
{
	const uint8_t o = outer_tos & PKT_ECN_MASK, i = inner_tos & PKT_ECN_MASK;

	*odd = false;
	if (o == PKT_ECN_NOT_ECT || o == i)
		return PKT_ECN_DECAP_KEEP;
	if (i == PKT_ECN_NOT_ECT) {
		*odd = true;
		return o == PKT_ECN_CE ? PKT_ECN_DECAP_DROP : PKT_ECN_DECAP_KEEP;
	}
	if (o == PKT_ECN_CE) {
		*ecn = PKT_ECN_CE;
		return PKT_ECN_DECAP_SET;
	}
	if (o == PKT_ECN_ECT1) {
		/* Inner ECT(0) becomes ECT(1); inner CE stays CE (an odd pair). */
		*odd = i == PKT_ECN_CE;
		if (i == PKT_ECN_CE)
			return PKT_ECN_DECAP_KEEP;
		*ecn = PKT_ECN_ECT1;
		return PKT_ECN_DECAP_SET;
	}
	/* Outer ECT(0) over inner ECT(1) or CE: keep the inner field. */
	*odd = i == PKT_ECN_ECT1;
	return PKT_ECN_DECAP_KEEP;
}

/* Rewrites the TOS byte, patching the header checksum incrementally (RFC 1624 eqn. 3). */
static inline void
pkt_ipv4_set_tos(struct rte_ipv4_hdr *ip, uint8_t tos)
{
	/* The 16-bit word holding version/IHL and TOS, before and after. */
	uint16_t old_w = (uint16_t)(ip->version_ihl << 8 | ip->type_of_service);
	uint16_t new_w = (uint16_t)(ip->version_ihl << 8 | tos);
	uint32_t s = (uint16_t)~rte_be_to_cpu_16(ip->hdr_checksum);

	s += (uint16_t)~old_w;
	s += new_w;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	ip->type_of_service = tos;
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~s);
}

/* Marks an ECN-capable packet Congestion Experienced (RFC 3168); false if it is Not-ECT. */
static inline bool
pkt_ipv4_set_ce(struct rte_ipv4_hdr *ip)
{
	uint8_t tos = ip->type_of_service;

	if ((tos & PKT_ECN_MASK) == PKT_ECN_NOT_ECT)
		return false;
	if ((tos & PKT_ECN_MASK) != PKT_ECN_CE)
		pkt_ipv4_set_tos(ip, (uint8_t)(tos | PKT_ECN_CE));
	return true;
}

#endif
