/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GRE (RFC 2784) with the key and sequence number extensions (RFC 2890),
 * carrying IPv4. Version 0 only: version 1 is PPTP's enhanced GRE and
 * belongs to drivers/pptp.
 */
#ifndef DPVPN_GRE_H
#define DPVPN_GRE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>

#include "tunnel.h"

/* First 16 bits of the GRE header, as bits of the big-endian word. */
#define GRE_F_CSUM 0x8000
#define GRE_F_ROUTING 0x4000
#define GRE_F_KEY 0x2000
#define GRE_F_SEQ 0x1000
#define GRE_F_STRICT 0x0800
#define GRE_RECUR_MASK 0x0700
#define GRE_VERSION_MASK 0x0007
/* RFC 2784 2.3: bits 1-5 (R, s, 3 recursion bits) must be zero; bits 6-12 are ignored. */
#define GRE_MUST_BE_ZERO (GRE_F_ROUTING | GRE_F_STRICT | GRE_RECUR_MASK)

struct gre_tunnel {
	rte_be32_t ikey;        /* key expected on receive (when has_ikey) */
	rte_be32_t okey;        /* key sent (when has_okey) */
	bool has_ikey;
	bool has_okey;
	bool seq;               /* send sequence numbers and require them on receive */
	bool csum;              /* send checksums and require them on receive */
	uint32_t tx_seq;        /* next sequence number to send */
};

/* Parsed fixed part of a GRE header. */
struct gre_info {
	uint16_t flags;         /* host order: the first 16 bits */
	uint16_t proto;         /* host order: payload ethertype */
	uint16_t hdr_len;       /* 4 + optional fields */
	rte_be32_t key;
	uint32_t seq;           /* host order */
};

/*
 * Parses a version-0 GRE header of len bytes. Returns DROP_MAX when valid, -1
 * when the version is not 0 (another driver's), else a drop reason.
 */
int gre_parse(const uint8_t *p, uint32_t len, struct gre_info *gi);

/* Bytes of a GRE header with these options. */
static inline uint16_t
gre_hdr_len(bool csum, bool key, bool seq)
{
	return (uint16_t)(4 + (csum ? 4 : 0) + (key ? 4 : 0) + (seq ? 4 : 0));
}

extern const struct tunnel_ops gre_ops;

#endif
