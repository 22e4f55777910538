/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "neigh.h"

#define MAC_VALID (1ULL << 63)
#define MAX_PROBE 16

static uint64_t
mac_pack(const struct rte_ether_addr *mac)
{
	uint64_t v = 0;

	memcpy(&v, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	return v | MAC_VALID;
}

static void
mac_unpack(uint64_t v, struct rte_ether_addr *mac)
{
	memcpy(mac->addr_bytes, &v, RTE_ETHER_ADDR_LEN);
}

static uint32_t
ip_hash(rte_be32_t ip)
{
	/* Fibonacci hashing spreads neighbouring addresses over the table. */
	return (uint32_t)(((uint64_t)ip * 0x9e3779b97f4a7c15ULL) >> 32);
}

int
neigh_init(struct neigh_table *nt, uint32_t capacity, uint64_t timeout, uint64_t retry)
{
	uint32_t n = rte_align32pow2(capacity < 16 ? 16 : capacity);

	nt->slots = calloc(n, sizeof(*nt->slots));
	if (nt->slots == NULL)
		return -1;
	nt->mask = n - 1;
	nt->timeout = timeout;
	nt->retry = retry;
	return 0;
}

void
neigh_fini(struct neigh_table *nt)
{
	free(nt->slots);
	nt->slots = NULL;
}

/* Finds ip's slot, claiming a free one when create. NULL when absent or full. */
static struct neigh_entry *
slot_of(struct neigh_table *nt, rte_be32_t ip, bool create)
{
	uint32_t h = ip_hash(ip);

	for (uint32_t i = 0; i < MAX_PROBE && i <= nt->mask; i++) {
		struct neigh_entry *e = &nt->slots[(h + i) & nt->mask];
		rte_be32_t cur = __atomic_load_n(&e->ip, __ATOMIC_ACQUIRE);

		if (cur == ip)
			return e;
		if (cur != 0)
			continue;
		if (!create)
			return NULL;
		rte_be32_t expected = 0;
		if (__atomic_compare_exchange_n(&e->ip, &expected, ip, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return e;
		if (expected == ip) /* another lcore claimed it for the same address */
			return e;
	}
	return NULL;
}

/* One request per retry interval per entry, whichever lcore asks first. */
static bool
claim_request(struct neigh_table *nt, struct neigh_entry *e, uint64_t now)
{
	uint64_t last = __atomic_load_n(&e->requested, __ATOMIC_RELAXED);

	if (last != 0 && now - last < nt->retry)
		return false;
	return __atomic_compare_exchange_n(&e->requested, &last, now, false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

enum neigh_result
neigh_lookup(struct neigh_table *nt, rte_be32_t ip, uint64_t now, struct rte_ether_addr *mac)
{
	struct neigh_entry *e = slot_of(nt, ip, true);
	uint64_t m, age;

	if (e == NULL)
		return NEIGH_FULL;
	m = __atomic_load_n(&e->mac, __ATOMIC_ACQUIRE);
	if (m & MAC_VALID) {
		if (__atomic_load_n(&e->flags, __ATOMIC_RELAXED) & NEIGH_F_STATIC) {
			mac_unpack(m, mac);
			return NEIGH_OK;
		}
		age = now - __atomic_load_n(&e->confirmed, __ATOMIC_RELAXED);
		if (age < nt->timeout) {
			mac_unpack(m, mac);
			if (age >= nt->timeout / 2 && claim_request(nt, e, now))
				return NEIGH_OK_REFRESH;
			return NEIGH_OK;
		}
	}
	return claim_request(nt, e, now) ? NEIGH_MISS_REQUEST : NEIGH_MISS;
}

static void
entry_set(struct neigh_entry *e, const struct rte_ether_addr *mac, uint64_t now, bool is_static)
{
	if (is_static)
		__atomic_fetch_or(&e->flags, NEIGH_F_STATIC, __ATOMIC_RELAXED);
	else if (__atomic_load_n(&e->flags, __ATOMIC_RELAXED) & NEIGH_F_STATIC)
		return; /* configured entries are not overridden by the wire */
	__atomic_store_n(&e->confirmed, now, __ATOMIC_RELAXED);
	__atomic_store_n(&e->mac, mac_pack(mac), __ATOMIC_RELEASE);
	/* A fresh answer allows the next refresh only after the half-life. */
	__atomic_store_n(&e->requested, 0, __ATOMIC_RELAXED);
}

int
neigh_update(struct neigh_table *nt, rte_be32_t ip, const struct rte_ether_addr *mac,
	     uint64_t now, bool is_static)
{
	struct neigh_entry *e = slot_of(nt, ip, true);

	if (e == NULL)
		return -1;
	entry_set(e, mac, now, is_static);
	return 0;
}

void
neigh_refresh_if_known(struct neigh_table *nt, rte_be32_t ip, const struct rte_ether_addr *mac,
		       uint64_t now)
{
	struct neigh_entry *e = slot_of(nt, ip, false);

	if (e != NULL)
		entry_set(e, mac, now, false);
}

void
neigh_walk(const struct neigh_table *nt, uint64_t now, neigh_walk_fn fn, void *arg)
{
	for (uint32_t i = 0; i <= nt->mask; i++) {
		struct neigh_entry copy;
		const struct neigh_entry *e = &nt->slots[i];
		bool valid;

		copy.ip = __atomic_load_n(&e->ip, __ATOMIC_ACQUIRE);
		if (copy.ip == 0)
			continue;
		copy.flags = __atomic_load_n(&e->flags, __ATOMIC_RELAXED);
		copy.mac = __atomic_load_n(&e->mac, __ATOMIC_ACQUIRE);
		copy.confirmed = __atomic_load_n(&e->confirmed, __ATOMIC_RELAXED);
		copy.requested = __atomic_load_n(&e->requested, __ATOMIC_RELAXED);
		valid = (copy.mac & MAC_VALID) &&
			((copy.flags & NEIGH_F_STATIC) || now - copy.confirmed < nt->timeout);
		fn(&copy, valid, arg);
	}
}
