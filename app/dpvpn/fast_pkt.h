/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of the per-packet fast paths (outside.c, inside.c), which count
 * instructions: packet bytes as words instead of fields, byte swaps the
 * compiler can fold, the LPM's first level read directly.
 */
#ifndef DPVPN_FAST_PKT_H
#define DPVPN_FAST_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_lpm.h>

#include "dpvpn.h"

/* Unaligned loads of packet bytes as words (memcpy: no aliasing or alignment trouble). */
static __rte_always_inline uint64_t
load64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static __rte_always_inline uint32_t
load32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static __rte_always_inline uint16_t
load16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Four bytes as they lie in memory, as the word load32 reads from them (folds to a constant). */
static __rte_always_inline uint32_t
bytes32(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	const uint8_t x[4] = { a, b, c, d };

	return load32(x);
}

/* Network to host order (little-endian hosts, as tunnel.h asserts). */
static __rte_always_inline uint32_t
host32(rte_be32_t v)
{
	return __builtin_bswap32(v);
}

static __rte_always_inline uint16_t
host16(rte_be16_t v)
{
	return __builtin_bswap16(v);
}

/*
 * pkt_ipv4_sum20_ok in fewer instructions: the header as two 64-bit words
 * and one 32-bit word, added with end-around carry (a sum modulo 2^64 - 1,
 * which 0xffff divides), then divisibility by 0xffff as a multiply by its
 * inverse modulo 2^64 (x * inv <= (2^64 - 1) / 0xffff exactly when 0xffff
 * divides x). A zero sum (all-zero header, or the one wrap-around that
 * stands for 1) is rejected like pkt_ipv4_sum20_ok's zero sum: the "- 1"
 * turns it into the largest value.
 */
static __rte_always_inline bool
ipv4_sum20_ok(const void *hdr)
{
	const uint8_t *p = hdr;
	uint64_t s;
	bool c;

	c = __builtin_add_overflow(load64(p), load64(p + 8), &s);
	c = __builtin_add_overflow(s, (uint64_t)load32(p + 16) + c, &s);
	s += c;
	return s * UINT64_C(0xfffefffefffeffff) - 1 < UINT64_C(0x0001000100010001);
}

/*
 * The LPM's first-level (tbl24) entry for a (network order). An entry that
 * is valid and not extended to a tbl8 group is rte_lpm_lookup's answer.
 */
static __rte_always_inline uint32_t
route_entry(rte_be32_t a)
{
	uint32_t e;

	memcpy(&e, &dp.tunnels.routes->tbl24[host32(a) >> 8], sizeof(e));
	return e;
}

/*
 * pkt_ipv4_ttl_dec without byte swaps: adding 0x0100 to the big-endian
 * checksum with end-around carry is adding 1 to it as read little-endian
 * (the carry out of the high byte lands in the low byte's bit 0 both ways).
 */
static __rte_always_inline void
ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint32_t s = (uint32_t)load16(&ip->hdr_checksum) + 1;
	uint16_t c = (uint16_t)(s + (s >> 16));

	ip->time_to_live--;
	memcpy(&ip->hdr_checksum, &c, sizeof(c));
}

#endif
