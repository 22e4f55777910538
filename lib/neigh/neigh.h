/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 neighbour (ARP) cache of one port, shared by all worker lcores.
 *
 * Lock-free: an open-addressed table whose slots are claimed once by CAS on
 * the address and never freed (a port has few on-link neighbours: gateways,
 * on-link peers, inside hosts). The MAC and its timestamp live in one 64-bit
 * word each, so readers never see a torn entry.
 *
 * Expiry: an entry learnt or confirmed at time t is usable until t + timeout.
 * From t + timeout/2 on, lookups ask the caller to send a refresh request
 * (at most one per second per entry), so busy next hops never expire.
 */
#ifndef DPVPN_NEIGH_H
#define DPVPN_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

struct neigh_entry {
	rte_be32_t ip;          /* 0 = free slot (0.0.0.0 is never a neighbour) */
	uint32_t flags;         /* NEIGH_F_* */
	uint64_t mac;           /* MAC in the low 48 bits, bit 63 = valid */
	uint64_t confirmed;     /* clock ticks of the last reply or static setup */
	uint64_t requested;     /* clock ticks of the last request we sent */
};

#define NEIGH_F_STATIC 1u

struct neigh_table {
	uint32_t mask;          /* capacity - 1 */
	uint64_t timeout;       /* ticks */
	uint64_t retry;         /* ticks between requests for one entry */
	struct neigh_entry *slots;
};

enum neigh_result {
	NEIGH_OK,               /* mac is valid, nothing to do */
	NEIGH_OK_REFRESH,       /* mac is valid, send a request to refresh it */
	NEIGH_MISS_REQUEST,     /* no valid mac: send a request now */
	NEIGH_MISS,             /* no valid mac, a request is already on its way */
	NEIGH_FULL,             /* no slot left for this address */
};

/* capacity is rounded up to a power of two; timeout and retry in ticks. */
int neigh_init(struct neigh_table *nt, uint32_t capacity, uint64_t timeout, uint64_t retry);
void neigh_fini(struct neigh_table *nt);

/* Looks ip up at time now; on NEIGH_OK* fills mac. Creates a pending slot on a miss. */
enum neigh_result neigh_lookup(struct neigh_table *nt, rte_be32_t ip, uint64_t now,
			       struct rte_ether_addr *mac);

/* Records ip at mac (an ARP reply, or a request addressed to us). Returns 0 or -1 when full. */
int neigh_update(struct neigh_table *nt, rte_be32_t ip, const struct rte_ether_addr *mac,
		 uint64_t now, bool is_static);

/* Updates ip only if it already has a slot (gratuitous ARP, overheard replies). */
void neigh_refresh_if_known(struct neigh_table *nt, rte_be32_t ip,
			    const struct rte_ether_addr *mac, uint64_t now);

/* For telemetry: calls fn for every slot in use. */
typedef void (*neigh_walk_fn)(const struct neigh_entry *e, bool valid, void *arg);
void neigh_walk(const struct neigh_table *nt, uint64_t now, neigh_walk_fn fn, void *arg);

#endif
