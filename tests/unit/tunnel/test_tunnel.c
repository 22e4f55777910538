/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/tunnel: key lookup, prefix routing, duplicate keys and routes, capacity. */
#include <string.h>

#include "check.h"
#include "eal.h"
#include "gre.h"

static struct tunnel *
gre_tunnel(uint32_t id, uint32_t peer, bool has_key, uint32_t key, const char *route, uint8_t depth)
{
	struct tunnel *t = calloc(1, sizeof(*t));
	struct gre_tunnel *g = calloc(1, sizeof(*g));

	t->id = id;
	t->ops = &gre_ops;
	t->priv = g;
	t->peer = rte_cpu_to_be_32(peer);
	t->local = RTE_BE32(0xc0000201);
	g->has_ikey = g->has_okey = has_key;
	g->ikey = g->okey = rte_cpu_to_be_32(key);
	if (route != NULL) {
		pkt_parse_ipv4(route, &t->routes[0].addr);
		t->routes[0].depth = depth;
		t->nb_routes = 1;
	}
	return t;
}

static void
free_tunnel(struct tunnel *t)
{
	free(t->priv);
	free(t);
}

int
main(void)
{
	struct tunnel_table tt;
	struct tunnel *a, *b, *c, *d, *e;
	struct tunnel_key k;
	rte_be32_t ip;

	if (test_eal_init("0") < 0)
		return 1;
	CHECK(tunnel_table_init(&tt, "t", 4, 64, SOCKET_ID_ANY) == 0);
	a = gre_tunnel(1, 0xc6336401, true, 42, "10.1.0.0", 16);
	b = gre_tunnel(2, 0xc6336401, false, 0, "10.2.0.0", 16);   /* same peer, no key */
	c = gre_tunnel(3, 0xc6336402, true, 42, "10.1.5.0", 24);   /* more specific inside a's */
	d = gre_tunnel(4, 0xc6336401, true, 42, NULL, 0);          /* same key as a */
	e = gre_tunnel(5, 0xc6336409, true, 1, "10.2.0.0", 16);    /* same route as b */
	CHECK(tunnel_table_add(&tt, a) == 0);
	CHECK(tunnel_table_add(&tt, b) == 0);
	CHECK(tunnel_table_add(&tt, c) == 0);
	CHECK(tunnel_table_add(&tt, d) == -EEXIST);
	CHECK(tunnel_table_add(&tt, e) == -EADDRINUSE);
	CHECK_EQ(tt.count, 3);

	/* Keys: the key bit is part of the identity. */
	memset(&k, 0, sizeof(k));
	gre_ops.key(a, &k);
	CHECK(tunnel_table_lookup(&tt, &k) == a);
	k.variant = 0;
	k.proto_key = 0;
	CHECK(tunnel_table_lookup(&tt, &k) == b);
	k.peer = RTE_BE32(0xc6336403);
	CHECK(tunnel_table_lookup(&tt, &k) == NULL);

	/* Routes: longest prefix wins. */
	pkt_parse_ipv4("10.1.5.9", &ip);
	CHECK(tunnel_table_route(&tt, ip) == c);
	pkt_parse_ipv4("10.1.6.9", &ip);
	CHECK(tunnel_table_route(&tt, ip) == a);
	pkt_parse_ipv4("10.2.255.255", &ip);
	CHECK(tunnel_table_route(&tt, ip) == b);
	pkt_parse_ipv4("10.3.0.1", &ip);
	CHECK(tunnel_table_route(&tt, ip) == NULL);
	CHECK(tunnel_table_by_id(&tt, 3) == c);
	CHECK(tunnel_table_by_id(&tt, 9) == NULL);
	CHECK(tunnel_table_at(&tt, a->index) == a);
	CHECK(tunnel_table_at(&tt, 1000) == NULL);

	/* Capacity. */
	struct tunnel *f = gre_tunnel(6, 0xc6336406, false, 0, NULL, 0);
	struct tunnel *g = gre_tunnel(7, 0xc6336407, false, 0, NULL, 0);
	CHECK(tunnel_table_add(&tt, f) == 0);
	CHECK(tunnel_table_add(&tt, g) == -ENOSPC);

	tunnel_table_fini(&tt);
	free_tunnel(a), free_tunnel(b), free_tunnel(c), free_tunnel(d), free_tunnel(e);
	free_tunnel(f), free_tunnel(g);
	rte_eal_cleanup();
	return check_summary("tunnel");
}
