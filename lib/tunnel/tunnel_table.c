/* SPDX-License-Identifier: BSD-3-Clause */
/* rte_hash/rte_lpm RCU attachment is still marked experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lpm.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "tunnel.h"

int
tunnel_table_init(struct tunnel_table *tt, const char *name, uint32_t capacity,
		  uint32_t max_routes, int socket)
{
	char hname[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = hname,
		.entries = capacity < 8 ? 8 : capacity,
		.key_len = sizeof(struct tunnel_key),
		.hash_func = rte_hash_crc, /* SSE4.2 CRC32: a few cycles for 16 bytes */
		.socket_id = socket,
		/* Sessions come and go from the control thread while workers look up. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_lpm_config lc = {
		.max_rules = max_routes,
		.number_tbl8s = 1 << 12,
	};

	memset(tt, 0, sizeof(*tt));
	snprintf(hname, sizeof(hname), "%s_key", name);
	tt->by_key = rte_hash_create(&hp);
	if (tt->by_key == NULL)
		return -rte_errno;
	snprintf(hname, sizeof(hname), "%s_lpm", name);
	tt->routes = rte_lpm_create(hname, socket, &lc);
	tt->by_index = rte_zmalloc_socket("tunnels", sizeof(*tt->by_index) * capacity, 0, socket);
	if (tt->routes == NULL || tt->by_index == NULL) {
		tunnel_table_fini(tt);
		return -ENOMEM;
	}
	tt->capacity = capacity;
	pthread_mutex_init(&tt->lock, NULL);
	return 0;
}

int
tunnel_table_rcu_init(struct tunnel_table *tt, unsigned nb_readers)
{
	size_t sz = rte_rcu_qsbr_get_memsize(nb_readers);
	struct rte_hash_rcu_config hc = { .mode = RTE_HASH_QSBR_MODE_SYNC };
	struct rte_lpm_rcu_config lc = { .mode = RTE_LPM_QSBR_MODE_SYNC };

	tt->rcu = rte_zmalloc("tunnel_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (tt->rcu == NULL || rte_rcu_qsbr_init(tt->rcu, nb_readers) != 0)
		return -ENOMEM;
	/* Deleted keys and LPM groups are reused only after every worker moved on. */
	hc.v = tt->rcu;
	lc.v = tt->rcu;
	if (rte_hash_rcu_qsbr_add(tt->by_key, &hc) != 0 || rte_lpm_rcu_qsbr_add(tt->routes, &lc) != 0)
		return -rte_errno;
	return 0;
}

int
tunnel_table_route_add(struct tunnel_table *tt, struct tunnel *t, rte_be32_t addr, uint8_t depth)
{
	uint32_t nh, a = rte_be_to_cpu_32(addr);
	int rc;

	if (t->nb_routes == TUNNEL_MAX_ROUTES)
		return -ENOSPC;
	if (rte_lpm_is_rule_present(tt->routes, a, depth, &nh) == 1)
		return -EADDRINUSE;
	rc = rte_lpm_add(tt->routes, a, depth, t->index);
	if (rc < 0)
		return rc;
	t->routes[t->nb_routes].addr = addr;
	t->routes[t->nb_routes].depth = depth;
	t->nb_routes++;
	return 0;
}

void
tunnel_table_unlink(struct tunnel_table *tt, struct tunnel *t)
{
	struct tunnel_key k;

	if (t->index >= tt->capacity || tt->by_index[t->index] != t)
		return;
	memset(&k, 0, sizeof(k));
	t->ops->key(t, &k);
	for (unsigned p = 0; p < t->nb_paths; p++) {
		k.peer = t->paths[p].peer;
		rte_hash_del_key(tt->by_key, &k);
	}
	for (unsigned i = 0; i < t->nb_routes; i++)
		rte_lpm_delete(tt->routes, rte_be_to_cpu_32(t->routes[i].addr), t->routes[i].depth);
	tt->by_index[t->index] = NULL;
	tt->count--;
	__atomic_add_fetch(&tt->generation, 1, __ATOMIC_RELEASE);
}

void
tunnel_table_sync(struct tunnel_table *tt)
{
	if (tt->rcu != NULL)
		rte_rcu_qsbr_synchronize(tt->rcu, RTE_QSBR_THRID_INVALID);
}

void
tunnel_table_remove(struct tunnel_table *tt, struct tunnel *t)
{
	tunnel_table_unlink(tt, t);
	tunnel_table_sync(tt);
}

void
tunnel_table_fini(struct tunnel_table *tt)
{
	rte_hash_free(tt->by_key);
	rte_lpm_free(tt->routes);
	rte_free(tt->by_index);
	rte_free(tt->rcu);
	memset(tt, 0, sizeof(*tt));
}

int
tunnel_table_add(struct tunnel_table *tt, struct tunnel *t)
{
	struct tunnel_key k;
	uint32_t idx;
	int rc;

	if (tt->count >= tt->capacity)
		return -ENOSPC;
	/* Round-robin over free slots: a slot just freed is reused last (packets may still name it). */
	for (uint32_t n = 0; n < tt->capacity; n++) {
		idx = (tt->next_index + n) % tt->capacity;
		if (tt->by_index[idx] == NULL)
			break;
	}
	if (t->nb_paths == 0) {
		t->nb_paths = 1;
		t->paths[0].peer = t->peer;
	}
	/* Every path is a key of its own, all leading to the one tunnel. */
	memset(&k, 0, sizeof(k));
	t->ops->key(t, &k);
	for (unsigned p = 0; p < t->nb_paths; p++) {
		k.peer = t->paths[p].peer;
		if (rte_hash_lookup(tt->by_key, &k) >= 0)
			return -EEXIST;
	}
	t->index = idx;
	for (unsigned i = 0; i < t->nb_routes; i++) {
		uint32_t nh;
		uint32_t a = rte_be_to_cpu_32(t->routes[i].addr);

		/* The same prefix in two tunnels is a configuration error, not a silent override. */
		if (rte_lpm_is_rule_present(tt->routes, a, t->routes[i].depth, &nh) == 1) {
			for (unsigned j = 0; j < i; j++)
				rte_lpm_delete(tt->routes, rte_be_to_cpu_32(t->routes[j].addr),
					       t->routes[j].depth);
			return -EADDRINUSE;
		}
		rc = rte_lpm_add(tt->routes, a, t->routes[i].depth, idx);
		if (rc < 0)
			return rc;
	}
	for (unsigned p = 0; p < t->nb_paths; p++) {
		k.peer = t->paths[p].peer;
		rc = rte_hash_add_key_data(tt->by_key, &k, t);
		if (rc < 0)
			return rc;
	}
	tt->by_index[idx] = t;
	tt->next_index = (idx + 1) % tt->capacity;
	tt->count++;
	return 0;
}

struct tunnel *
tunnel_table_lookup(const struct tunnel_table *tt, const struct tunnel_key *k)
{
	void *data;

	if (rte_hash_lookup_data(tt->by_key, k, &data) < 0)
		return NULL;
	return data;
}

struct tunnel *
tunnel_table_lookup_fill(const struct tunnel_table *tt, struct tunnel_cache_entry *e,
			 struct tunnel_key_words k, uint32_t gen)
{
	struct tunnel_key key;

	memcpy(&key, &k, sizeof(key));
	e->t = tunnel_table_lookup(tt, &key);
	e->key = k;
	e->generation = gen;
	return e->t;
}

struct tunnel *
tunnel_table_by_id(const struct tunnel_table *tt, uint32_t id)
{
	/* Telemetry only: a scan is fine and needs no second index. */
	for (uint32_t i = 0; i < tt->capacity; i++) {
		struct tunnel *t = tt->by_index[i];

		if (t != NULL && t->id == id)
			return t;
	}
	return NULL;
}
