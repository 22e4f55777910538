/* SPDX-License-Identifier: BSD-3-Clause */
/* drivers/gre: header parsing, encap/decap round trips on mbufs, RFC 2890 sequence rules. */
#include <string.h>

#include <rte_mbuf.h>

#include "check.h"
#include "eal.h"
#include "gre.h"

static struct rte_mempool *pool;

static void
test_parse(void)
{
	uint8_t h[16] = { 0 };
	struct gre_info gi;

	h[2] = 0x08; /* IPv4 */
	CHECK_EQ(gre_parse(h, 4, &gi), DROP_MAX);
	CHECK_EQ(gi.hdr_len, 4);
	CHECK_EQ(gre_parse(h, 3, &gi), DROP_GRE_TRUNCATED);
	h[0] = 0x20; /* key */
	memcpy(h + 4, "\x00\x00\x00\x2a", 4);
	CHECK_EQ(gre_parse(h, 7, &gi), DROP_GRE_TRUNCATED);
	CHECK_EQ(gre_parse(h, 8, &gi), DROP_MAX);
	CHECK(gi.key == RTE_BE32(42));
	h[0] = 0xb0; /* checksum, key, sequence */
	memcpy(h + 8, "\x00\x00\x00\x2a", 4);
	memcpy(h + 12, "\x00\x00\x01\x00", 4);
	CHECK_EQ(gre_parse(h, 16, &gi), DROP_MAX);
	CHECK_EQ(gi.hdr_len, 16);
	CHECK_EQ(gi.seq, 256);
	CHECK_EQ(gre_parse(h, 15, &gi), DROP_GRE_TRUNCATED);
	h[0] = 0x40; /* routing present: RFC 2784 says discard */
	CHECK_EQ(gre_parse(h, 16, &gi), DROP_GRE_BAD_FLAGS);
	h[0] = 0x01; /* recursion control */
	CHECK_EQ(gre_parse(h, 16, &gi), DROP_GRE_BAD_FLAGS);
	h[0] = 0x00;
	h[1] = 0x01; /* version 1: PPTP's, not ours */
	CHECK_EQ(gre_parse(h, 16, &gi), -1);
	h[1] = 0xf8; /* bits 6-12 are ignored on receipt */
	CHECK_EQ(gre_parse(h, 16, &gi), DROP_MAX);
}

static struct tunnel *
make_tunnel(bool key, bool seq, bool csum)
{
	static struct tunnel t;
	static struct gre_tunnel g;

	memset(&t, 0, sizeof(t));
	memset(&g, 0, sizeof(g));
	t.ops = &gre_ops;
	t.priv = &g;
	t.peer = RTE_BE32(0xc0000202);
	t.local = RTE_BE32(0xc0000201);
	g.has_ikey = g.has_okey = key;
	g.ikey = g.okey = RTE_BE32(7);
	g.seq = seq;
	g.csum = csum;
	return &t;
}

/* An inner IPv4 packet of len bytes in a fresh mbuf. */
static struct rte_mbuf *
inner_packet(uint16_t len, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);

	memset(p, fill, len);
	p[0] = 0x45;
	return m;
}

/* Encapsulate, pretend the result arrived behind Ethernet + IPv4, classify and decapsulate. */
static enum drop_reason
round_trip(struct tunnel *tx, struct tunnel *rx, struct rte_mbuf *m, struct tunnel_key *k)
{
	struct rte_ipv4_hdr ip = { .src_addr = tx->local, .dst_addr = tx->peer };
	const uint16_t l4 = 34;
	int rc;

	CHECK_EQ(tx->ops->encap(tx, m), DROP_MAX);
	rte_pktmbuf_prepend(m, l4);
	memset(k, 0, sizeof(*k));
	rc = gre_ops.classify(m, &ip, l4, k);
	if (rc != DROP_MAX)
		return (enum drop_reason)rc;
	struct tunnel_rx info;

	return gre_ops.decap(rx, m, l4, &info);
}

static void
test_round_trip(void)
{
	for (int opts = 0; opts < 8; opts++) {
		struct tunnel *t = make_tunnel(opts & 1, opts & 2, opts & 4);
		struct rte_mbuf *m = inner_packet(101, (uint8_t)opts);
		struct tunnel_key k, want = { 0 };
		uint8_t copy[101];

		memcpy(copy, rte_pktmbuf_mtod(m, void *), 101);
		CHECK_EQ(round_trip(t, t, m, &k), DROP_MAX);
		CHECK_EQ(rte_pktmbuf_pkt_len(m), 101);
		CHECK(memcmp(rte_pktmbuf_mtod(m, void *), copy, 101) == 0);
		gre_ops.key(t, &want);
		/* classify sees the packet from the peer's side: swap for comparison */
		want.peer = t->local;
		want.local = t->peer;
		CHECK(memcmp(&k, &want, sizeof(k)) == 0);
		rte_pktmbuf_free(m);
	}
}

static void
test_checksum(void)
{
	struct tunnel_rx info;
	struct tunnel *t = make_tunnel(true, false, true);
	struct tunnel_key k;
	struct rte_mbuf *m = inner_packet(64, 3);
	struct rte_ipv4_hdr ip = { 0 };

	/* Corrupt one payload byte after encapsulation: the GRE checksum must catch it. */
	CHECK_EQ(t->ops->encap(t, m), DROP_MAX);
	rte_pktmbuf_mtod_offset(m, uint8_t *, 30)[0] ^= 0x40;
	CHECK_EQ(gre_ops.classify(m, &ip, 0, &k), DROP_MAX);
	CHECK_EQ(gre_ops.decap(t, m, 0, &info), DROP_GRE_BAD_CHECKSUM);
	rte_pktmbuf_free(m);

	/* A tunnel that requires checksums refuses packets without one. */
	struct tunnel *plain = make_tunnel(true, false, false);
	m = inner_packet(64, 3);
	CHECK_EQ(plain->ops->encap(plain, m), DROP_MAX);
	t = make_tunnel(true, false, true);
	CHECK_EQ(gre_ops.decap(t, m, 0, &info), DROP_CHECKSUM_MISSING);
	rte_pktmbuf_free(m);
}

/* decap reports each packet's sequence number for the window; ordering is not its job. */
static void
test_sequence(void)
{
	struct tunnel *t = make_tunnel(false, true, false);
	struct gre_tunnel *g = t->priv;
	uint32_t order[] = { 5, 6, 8, 7, 8, 0xffffffff, 0 };
	struct tunnel_rx info;

	for (unsigned i = 0; i < RTE_DIM(order); i++) {
		struct rte_mbuf *m = inner_packet(40, 1);

		g->tx_seq = order[i];
		CHECK_EQ(t->ops->encap(t, m), DROP_MAX);
		info.has_seq = false;
		CHECK_EQ(gre_ops.decap(t, m, 0, &info), DROP_MAX);
		CHECK(info.has_seq && info.seq == order[i]);
		CHECK_EQ(rte_pktmbuf_pkt_len(m), 40);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(g->tx_seq, 1); /* encap numbers consecutively, across the wrap */
	/* Sequence required but absent. */
	struct tunnel *noseq = make_tunnel(false, false, false);
	struct rte_mbuf *m = inner_packet(40, 1);
	noseq->ops->encap(noseq, m);
	t = make_tunnel(false, true, false);
	CHECK_EQ(gre_ops.decap(t, m, 0, &info), DROP_SEQ_MISSING);
	rte_pktmbuf_free(m);
	/* Not sequenced: no number reported even if the peer sends one. */
	m = inner_packet(40, 1);
	t = make_tunnel(false, true, false);
	t->ops->encap(t, m);
	struct tunnel *plain = make_tunnel(false, false, false);
	info.has_seq = true;
	CHECK_EQ(gre_ops.decap(plain, m, 0, &info), DROP_MAX);
	CHECK(!info.has_seq);
	rte_pktmbuf_free(m);
}

static void
test_not_ipv4(void)
{
	struct tunnel_rx info;
	struct tunnel *t = make_tunnel(false, false, false);
	struct rte_mbuf *m = inner_packet(40, 1);

	t->ops->encap(t, m);
	rte_pktmbuf_mtod(m, uint8_t *)[2] = 0x86; /* IPv6 ethertype 0x86dd */
	rte_pktmbuf_mtod(m, uint8_t *)[3] = 0xdd;
	CHECK_EQ(gre_ops.decap(t, m, 0, &info), DROP_GRE_UNKNOWN_PROTO);
	rte_pktmbuf_free(m);
}

int
main(void)
{
	unsigned before;

	if (test_eal_init("0") < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	before = rte_mempool_in_use_count(pool);
	test_parse();
	test_round_trip();
	test_checksum();
	test_sequence();
	test_not_ipv4();
	CHECK_EQ(rte_mempool_in_use_count(pool), before);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return check_summary("gre");
}
