/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers/pptp, the GRE v1 data path (RFC 2637 4.1): pptp_gre_parse on good
 * and malformed headers, pptp_gre_write round trips, and classify / decap /
 * rx_post / encap / encap_ctrl / keepalive on mbufs, in the clear and with
 * MPPE (stateless and stateful, including a lost packet and the
 * Reset-Request it causes). Every mbuf returns to the pool.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "check.h"
#include "clock.h"
#include "eal.h"
#include "pptp_impl.h"

static struct rte_mempool *pool;

/* ---- pptp_gre_parse / pptp_gre_write ---- */

/* A header as the RFC draws it: K always, S and A as asked, version 1. */
static uint16_t
header(uint8_t *h, bool seq, bool ack, uint16_t plen, uint16_t call_id, uint32_t s, uint32_t a)
{
	uint16_t n = 8;

	h[0] = (uint8_t)(0x20 | (seq ? 0x10 : 0));
	h[1] = (uint8_t)((ack ? 0x80 : 0) | 0x01);
	h[2] = 0x88;
	h[3] = 0x0b;
	h[4] = (uint8_t)(plen >> 8);
	h[5] = (uint8_t)plen;
	h[6] = (uint8_t)(call_id >> 8);
	h[7] = (uint8_t)call_id;
	if (seq) {
		h[n++] = (uint8_t)(s >> 24);
		h[n++] = (uint8_t)(s >> 16);
		h[n++] = (uint8_t)(s >> 8);
		h[n++] = (uint8_t)s;
	}
	if (ack) {
		h[n++] = (uint8_t)(a >> 24);
		h[n++] = (uint8_t)(a >> 16);
		h[n++] = (uint8_t)(a >> 8);
		h[n++] = (uint8_t)a;
	}
	return n;
}

static void
test_parse_good(void)
{
	uint8_t h[64] = { 0 };
	struct pptp_gre g;
	uint16_t n;

	/* Sequence and ack, a payload of 10 bytes. */
	n = header(h, true, true, 10, 0x1234, 0xdeadbeef, 0x01020304);
	CHECK_EQ(n, 16);
	memset(&g, 0xee, sizeof(g));
	CHECK_EQ(pptp_gre_parse(h, n + 10, &g), DROP_MAX);
	CHECK(g.has_seq && g.has_ack);
	CHECK_EQ(g.seq, 0xdeadbeef);
	CHECK_EQ(g.ack, 0x01020304);
	CHECK_EQ(g.payload_len, 10);
	CHECK_EQ(g.call_id, 0x1234);
	CHECK_EQ(g.hdr_len, 16);
	/* Extra bytes after the payload (Ethernet padding) are allowed. */
	CHECK_EQ(pptp_gre_parse(h, n + 30, &g), DROP_MAX);
	CHECK_EQ(g.payload_len, 10);

	/* Sequence without ack. */
	n = header(h, true, false, 3, 7, 42, 0);
	CHECK_EQ(n, 12);
	CHECK_EQ(pptp_gre_parse(h, n + 3, &g), DROP_MAX);
	CHECK(g.has_seq && !g.has_ack);
	CHECK_EQ(g.seq, 42);
	CHECK_EQ(g.ack, 0);
	CHECK_EQ(g.hdr_len, 12);
	CHECK_EQ(g.call_id, 7);

	/* An ack alone: no sequence number, no payload, 12 bytes. */
	n = header(h, false, true, 0, 0xffff, 0, 99);
	CHECK_EQ(n, 12);
	CHECK_EQ(pptp_gre_parse(h, n, &g), DROP_MAX);
	CHECK(!g.has_seq && g.has_ack);
	CHECK_EQ(g.ack, 99);
	CHECK_EQ(g.seq, 0);
	CHECK_EQ(g.payload_len, 0);
	CHECK_EQ(g.call_id, 0xffff);
	CHECK_EQ(g.hdr_len, 12);

	/* Neither: the 8-byte minimum, payload 0. */
	n = header(h, false, false, 0, 1, 0, 0);
	CHECK_EQ(n, 8);
	CHECK_EQ(pptp_gre_parse(h, 8, &g), DROP_MAX);
	CHECK(!g.has_seq && !g.has_ack);
	CHECK_EQ(g.hdr_len, 8);

	/* A sequenced empty payload parses (the PPP layer refuses it later). */
	n = header(h, true, false, 0, 1, 5, 0);
	CHECK_EQ(pptp_gre_parse(h, n, &g), DROP_MAX);
	CHECK_EQ(g.payload_len, 0);

	/* The payload exactly fills the packet. */
	n = header(h, true, true, 48, 2, 1, 1);
	CHECK_EQ(pptp_gre_parse(h, n + 48, &g), DROP_MAX);
}

static void
test_parse_bad(void)
{
	uint8_t h[64] = { 0 };
	struct pptp_gre g;
	uint16_t n;

	/* Not version 1: another driver's (plain GRE), -1. */
	n = header(h, true, true, 4, 1, 1, 1);
	for (uint8_t v = 0; v < 8; v++) {
		if (v == 1)
			continue;
		h[1] = (uint8_t)((h[1] & ~0x07) | v);
		CHECK_EQ(pptp_gre_parse(h, n + 4, &g), -1);
	}
	/* The version is checked on two bytes already. */
	h[1] = 0x00;
	CHECK_EQ(pptp_gre_parse(h, 2, &g), -1);

	/* Shorter than the flags: truncated, whatever they say. */
	n = header(h, true, true, 4, 1, 1, 1);
	CHECK_EQ(pptp_gre_parse(h, 0, &g), DROP_GRE_TRUNCATED);
	CHECK_EQ(pptp_gre_parse(h, 1, &g), DROP_GRE_TRUNCATED);

	/* Protocol other than 0x880B. */
	n = header(h, true, false, 4, 1, 1, 0);
	h[2] = 0x08;
	h[3] = 0x00;
	CHECK_EQ(pptp_gre_parse(h, n + 4, &g), DROP_PPTP_MALFORMED);
	h[2] = 0x88;
	h[3] = 0x0c;
	CHECK_EQ(pptp_gre_parse(h, n + 4, &g), DROP_PPTP_MALFORMED);

	/* Key bit clear. */
	n = header(h, true, false, 4, 1, 1, 0);
	h[0] &= (uint8_t)~0x20;
	CHECK_EQ(pptp_gre_parse(h, n + 4, &g), DROP_PPTP_MALFORMED);

	/* Checksum, routing, strict source route, recursion: each alone is malformed. */
	static const uint8_t bad0[] = { 0x80, 0x40, 0x08, 0x04, 0x02, 0x01 };
	for (unsigned i = 0; i < RTE_DIM(bad0); i++) {
		n = header(h, true, false, 4, 1, 1, 0);
		h[0] |= bad0[i];
		CHECK_EQ(pptp_gre_parse(h, n + 4, &g), DROP_PPTP_MALFORMED);
	}
	/* Flag bits of the second byte (between A and the version). */
	for (unsigned b = 3; b < 7; b++) {
		n = header(h, true, false, 4, 1, 1, 0);
		h[1] |= (uint8_t)(1u << b);
		CHECK_EQ(pptp_gre_parse(h, n + 4, &g), DROP_PPTP_MALFORMED);
	}

	/* Truncated inside each field: protocol, payload length, call id, sequence, ack. */
	n = header(h, true, true, 0, 1, 1, 1);
	for (uint32_t len = 2; len < n; len++)
		CHECK_EQ(pptp_gre_parse(h, len, &g), DROP_GRE_TRUNCATED);
	CHECK_EQ(pptp_gre_parse(h, n, &g), DROP_MAX);
	n = header(h, true, false, 0, 1, 1, 0);
	for (uint32_t len = 2; len < n; len++)
		CHECK_EQ(pptp_gre_parse(h, len, &g), DROP_GRE_TRUNCATED);
	n = header(h, false, true, 0, 1, 0, 1);
	for (uint32_t len = 2; len < n; len++)
		CHECK_EQ(pptp_gre_parse(h, len, &g), DROP_GRE_TRUNCATED);
	n = header(h, false, false, 0, 1, 0, 0);
	for (uint32_t len = 2; len < n; len++)
		CHECK_EQ(pptp_gre_parse(h, len, &g), DROP_GRE_TRUNCATED);

	/* Payload length beyond the packet, by one byte and by a lot. */
	n = header(h, true, true, 11, 1, 1, 1);
	CHECK_EQ(pptp_gre_parse(h, n + 10, &g), DROP_PPTP_MALFORMED);
	CHECK_EQ(pptp_gre_parse(h, n + 11, &g), DROP_MAX);
	n = header(h, true, false, 0xffff, 1, 1, 0);
	CHECK_EQ(pptp_gre_parse(h, sizeof(h), &g), DROP_PPTP_MALFORMED);

	/* A payload without a sequence number. */
	n = header(h, false, true, 4, 1, 0, 1);
	CHECK_EQ(pptp_gre_parse(h, n + 4, &g), DROP_PPTP_MALFORMED);
	n = header(h, false, false, 1, 1, 0, 0);
	CHECK_EQ(pptp_gre_parse(h, n + 1, &g), DROP_PPTP_MALFORMED);
}

static void
test_write_round_trip(void)
{
	static const uint32_t seqs[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff };
	static const uint16_t ids[] = { 0, 1, 0x1234, 0xffff };
	static const uint16_t lens[] = { 0, 1, 1500, 0xffff };
	uint8_t buf[PPTP_GRE_HDR_MAX + 16], ref[PPTP_GRE_HDR_MAX];
	struct pptp_gre g;

	for (unsigned form = 0; form < 4; form++) {
		const bool with_seq = form & 1, with_ack = form & 2;

		for (unsigned i = 0; i < RTE_DIM(seqs); i++)
			for (unsigned j = 0; j < RTE_DIM(ids); j++)
				for (unsigned k = 0; k < RTE_DIM(lens); k++) {
					uint32_t s = seqs[i], a = seqs[RTE_DIM(seqs) - 1 - i];
					/* Without a sequence number the payload must be empty. */
					uint16_t plen = with_seq ? lens[k] : 0;
					uint16_t n;

					memset(buf, 0xa5, sizeof(buf));
					n = pptp_gre_write(buf, ids[j], plen, with_seq ? &s : NULL, with_ack ? &a : NULL);
					CHECK_EQ(n, 8 + (with_seq ? 4 : 0) + (with_ack ? 4 : 0));
					CHECK(n <= PPTP_GRE_HDR_MAX);
					CHECK_EQ(buf[n], 0xa5); /* nothing written past the header */
					/* Byte for byte what the RFC's layout says. */
					CHECK_EQ(header(ref, with_seq, with_ack, plen, ids[j], s, a), n);
					CHECK(memcmp(ref, buf, n) == 0);
					/* The parser reads back every field (payload_len bytes present). */
					memset(&g, 0, sizeof(g));
					CHECK_EQ(pptp_gre_parse(buf, (uint32_t)n + plen, &g), DROP_MAX);
					CHECK_EQ(g.hdr_len, n);
					CHECK_EQ(g.call_id, ids[j]);
					CHECK_EQ(g.payload_len, plen);
					CHECK_EQ(g.has_seq, with_seq);
					CHECK_EQ(g.has_ack, with_ack);
					if (with_seq)
						CHECK_EQ(g.seq, s);
					if (with_ack)
						CHECK_EQ(g.ack, a);
				}
	}
}

/* ---- the data path on mbufs ---- */

struct sent {
	struct tunnel *t;
	uint8_t frame[64];
	uint16_t len;
	unsigned n;
};
static struct sent sent;

static void
host_send_frame(struct tunnel *t, struct rte_mbuf *m)
{
	sent.t = t;
	sent.len = (uint16_t)RTE_MIN(rte_pktmbuf_data_len(m), sizeof(sent.frame));
	memcpy(sent.frame, rte_pktmbuf_mtod(m, const uint8_t *), sent.len);
	sent.n++;
	rte_pktmbuf_free(m);
}

static struct session_host host;

struct sess {
	struct tunnel t;
	struct pptp_session s;
};

static void
sess_init(struct sess *x, uint16_t call_id, uint16_t peer_call_id)
{
	memset(x, 0, sizeof(*x));
	x->t.ops = &pptp_ops;
	x->t.priv = &x->s;
	x->t.peer = RTE_BE32(0xc0000202);
	x->t.local = RTE_BE32(0xc0000201);
	x->s.call_id = call_id;
	x->s.peer_call_id = peer_call_id;
}

/* An inner IPv4 packet of len bytes. */
static struct rte_mbuf *
inner_packet(uint16_t len, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p = m ? (uint8_t *)rte_pktmbuf_append(m, len) : NULL;

	if (p == NULL)
		abort();
	memset(p, fill, len);
	p[0] = 0x45;
	return m;
}

static struct rte_mbuf *
mbuf_with(const uint8_t *d, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p = m ? (uint8_t *)rte_pktmbuf_append(m, len) : NULL;

	if (p == NULL)
		abort();
	memcpy(p, d, len);
	return m;
}

/* Puts a 20-byte outer IPv4 header in front (what the app checked before classify). */
static struct rte_ipv4_hdr *
add_outer(struct rte_mbuf *m, rte_be32_t src, rte_be32_t dst)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));

	if (ip == NULL)
		abort();
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->next_proto_id = IPPROTO_GRE;
	ip->src_addr = src;
	ip->dst_addr = dst;
	return ip;
}

/* decap then rx_post of one packet (as the worker runs them around the window). */
static enum drop_reason
receive(struct sess *rx, struct rte_mbuf *m, struct tunnel_rx *info)
{
	enum drop_reason r;

	memset(info, 0, sizeof(*info));
	r = pptp_ops.decap(&rx->t, m, 20, info);
	if (r != DROP_MAX || !info->has_seq)
		return r;
	pptp_ops.rx_post(&rx->t, &m, &r, 1);
	return r;
}

static void
test_classify_decap(void)
{
	uint8_t pkt[64];
	struct sess x;
	struct tunnel_key k, want;
	struct tunnel_rx rx;
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	uint16_t n;

	sess_init(&x, 0x55, 0x66);
	x.s.tx_seq = 100;               /* we sent 0..99: the acks below are of packets we sent */
	/* classify keys the packet by call id and outer addresses, like pptp_ops.key for the session. */
	n = header(pkt, true, true, 6, 0x55, 10, 3);
	memcpy(pkt + n, "\xff\x03\x00\x21\x45\x00", 6);
	m = mbuf_with(pkt, (uint16_t)(n + 6));
	ip = add_outer(m, x.t.peer, x.t.local);
	memset(&k, 0, sizeof(k));
	memset(&want, 0, sizeof(want));
	CHECK_EQ(pptp_ops.classify(m, ip, 20, &k), DROP_MAX);
	pptp_ops.key(&x.t, &want);
	CHECK(memcmp(&k, &want, sizeof(k)) == 0);
	CHECK_EQ(k.proto_key, 0x55);
	CHECK_EQ(k.variant, PPTP_KEY_VARIANT);
	/* decap: ack taken, sequence reported, m trimmed to the PPP frame. */
	CHECK_EQ(pptp_ops.decap(&x.t, m, 20, &rx), DROP_MAX);
	CHECK(rx.has_seq);
	CHECK_EQ(rx.seq, 10);
	CHECK_EQ(x.s.peer_ack, 3);
	CHECK_EQ(x.s.acks_rx, 1);
	CHECK_EQ(x.s.rx_seq, 10);
	CHECK(x.s.rx_any);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 6);
	CHECK(memcmp(rte_pktmbuf_mtod(m, uint8_t *), "\xff\x03\x00\x21\x45\x00", 6) == 0);
	rte_pktmbuf_free(m);

	/* An older sequence number does not move rx_seq back; a newer one does (wrapping). */
	n = header(pkt, true, false, 1, 0x55, 9, 0);
	m = mbuf_with(pkt, (uint16_t)(n + 1));
	add_outer(m, x.t.peer, x.t.local);
	CHECK_EQ(pptp_ops.decap(&x.t, m, 20, &rx), DROP_MAX);
	CHECK_EQ(x.s.rx_seq, 10);
	rte_pktmbuf_free(m);
	x.s.rx_seq = 0xfffffffe;
	n = header(pkt, true, false, 1, 0x55, 2, 0);
	m = mbuf_with(pkt, (uint16_t)(n + 1));
	add_outer(m, x.t.peer, x.t.local);
	CHECK_EQ(pptp_ops.decap(&x.t, m, 20, &rx), DROP_MAX);
	CHECK_EQ(x.s.rx_seq, 2);
	rte_pktmbuf_free(m);

	/* An ack alone is consumed: no sequence number for the window. */
	n = header(pkt, false, true, 0, 0x55, 0, 77);
	m = mbuf_with(pkt, n);
	add_outer(m, x.t.peer, x.t.local);
	memset(&rx, 0, sizeof(rx));
	CHECK_EQ(pptp_ops.decap(&x.t, m, 20, &rx), DROP_MAX);
	CHECK(!rx.has_seq);
	CHECK_EQ(rx.late_drop, TUNNEL_RX_CONSUMED);
	CHECK_EQ(x.s.peer_ack, 77);
	rte_pktmbuf_free(m);

	/* Malformed and truncated headers give their reasons; plain GRE is not PPTP's. */
	n = header(pkt, true, false, 40, 0x55, 1, 0);
	m = mbuf_with(pkt, (uint16_t)(n + 4));
	ip = add_outer(m, x.t.peer, x.t.local);
	CHECK_EQ(pptp_ops.classify(m, ip, 20, &k), DROP_PPTP_MALFORMED);
	CHECK_EQ(pptp_ops.decap(&x.t, m, 20, &rx), DROP_PPTP_MALFORMED);
	rte_pktmbuf_free(m);
	m = mbuf_with(pkt, 5);
	ip = add_outer(m, x.t.peer, x.t.local);
	CHECK_EQ(pptp_ops.classify(m, ip, 20, &k), DROP_GRE_TRUNCATED);
	CHECK_EQ(pptp_ops.decap(&x.t, m, 20, &rx), DROP_GRE_TRUNCATED);
	rte_pktmbuf_free(m);
	pkt[1] = 0x00;
	m = mbuf_with(pkt, 12);
	ip = add_outer(m, x.t.peer, x.t.local);
	CHECK_EQ(pptp_ops.classify(m, ip, 20, &k), -1);
	/* decap never returns -1 (a drop reason is counted). */
	CHECK_EQ(pptp_ops.decap(&x.t, m, 20, &rx), DROP_PPTP_MALFORMED);
	rte_pktmbuf_free(m);
}

/* Encap in the clear, with the ack rules of RFC 2637 4.4. */
static void
test_encap_clear(void)
{
	struct sess a, b;
	struct rte_mbuf *m;
	struct tunnel_rx rx;
	struct pptp_gre g;
	uint8_t room[8];
	const uint8_t *p;

	sess_init(&a, 1, 2);
	sess_init(&b, 2, 1);
	/* Not open yet, closing, or MPPE required but not on: refused. */
	m = inner_packet(40, 1);
	CHECK_EQ(pptp_ops.encap(&a.t, m), DROP_PPTP_NOT_OPEN);
	a.s.ip_up = 1;
	a.s.closing = 1;
	CHECK_EQ(pptp_ops.encap(&a.t, m), DROP_PPTP_NOT_OPEN);
	a.s.closing = 0;
	a.s.mppe_required = true;
	CHECK_EQ(pptp_ops.encap(&a.t, m), DROP_PPTP_NOT_OPEN);
	a.s.mppe_required = false;
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 40); /* refused packets are left alone */

	/* Open: GRE v1 with sequence 0, no ack (nothing received), FF 03 00 21. */
	CHECK_EQ(pptp_ops.encap(&a.t, m), DROP_MAX);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	CHECK_EQ(pptp_gre_parse(p, rte_pktmbuf_pkt_len(m), &g), DROP_MAX);
	CHECK(g.has_seq && !g.has_ack);
	CHECK_EQ(g.seq, 0);
	CHECK_EQ(g.call_id, 2);
	CHECK_EQ(g.payload_len, 44);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 12 + 44);
	CHECK(memcmp(p + 12, "\xff\x03\x00\x21\x45", 5) == 0);
	CHECK_EQ(a.s.tx_seq, 1);
	/* b receives it: not up yet, then up and delivered as the inner packet. */
	add_outer(m, a.t.local, a.t.peer);
	CHECK_EQ(receive(&b, m, &rx), DROP_PPTP_NOT_OPEN);
	CHECK(rx.has_seq);
	CHECK_EQ(rx.seq, 0);
	rte_pktmbuf_free(m);
	b.s.ip_up = 1;
	m = inner_packet(60, 2);
	CHECK_EQ(pptp_ops.encap(&a.t, m), DROP_MAX);
	add_outer(m, a.t.local, a.t.peer);
	CHECK_EQ(receive(&b, m, &rx), DROP_MAX);
	CHECK_EQ(rx.seq, 1);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 60);
	CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[0], 0x45);
	CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[59], 2);
	rte_pktmbuf_free(m);

	/* b now owes an ack: its next data packet carries it, the one after does not. */
	CHECK_EQ(pptp_ops.keepalive(&b.t, 0, room, sizeof(room)), TUNNEL_KEEPALIVE_EMPTY);
	m = inner_packet(20, 3);
	CHECK_EQ(pptp_ops.encap(&b.t, m), DROP_MAX);
	CHECK_EQ(pptp_gre_parse(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_pkt_len(m), &g), DROP_MAX);
	CHECK(g.has_seq && g.has_ack);
	CHECK_EQ(g.ack, 1);
	CHECK_EQ(g.call_id, 1);
	rte_pktmbuf_free(m);
	CHECK_EQ(pptp_ops.keepalive(&b.t, 0, room, sizeof(room)), 0);
	m = inner_packet(20, 3);
	CHECK_EQ(pptp_ops.encap(&b.t, m), DROP_MAX);
	CHECK_EQ(pptp_gre_parse(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_pkt_len(m), &g), DROP_MAX);
	CHECK(g.has_seq && !g.has_ack);
	CHECK_EQ(g.seq, 1);
	rte_pktmbuf_free(m);

	/* An ack alone from encap_ctrl: no sequence number used, payload 0. */
	m = inner_packet(20, 4);
	CHECK_EQ(pptp_ops.encap(&a.t, m), DROP_MAX);
	add_outer(m, a.t.local, a.t.peer);
	CHECK_EQ(receive(&b, m, &rx), DROP_MAX);
	rte_pktmbuf_free(m);
	CHECK_EQ(pptp_ops.keepalive(&b.t, 0, room, sizeof(room)), TUNNEL_KEEPALIVE_EMPTY);
	m = rte_pktmbuf_alloc(pool);
	CHECK_EQ(pptp_ops.encap_ctrl(&b.t, m), DROP_MAX);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 12);
	CHECK_EQ(pptp_gre_parse(rte_pktmbuf_mtod(m, uint8_t *), 12, &g), DROP_MAX);
	CHECK(!g.has_seq && g.has_ack);
	CHECK_EQ(g.ack, 2);
	CHECK_EQ(b.s.acks_only_tx, 1);
	CHECK_EQ(b.s.tx_seq, 2);
	CHECK_EQ(pptp_ops.keepalive(&b.t, 0, room, sizeof(room)), 0);
	/* a takes the ack. */
	add_outer(m, b.t.local, b.t.peer);
	CHECK_EQ(pptp_ops.decap(&a.t, m, 20, &rx), DROP_MAX);
	CHECK_EQ(a.s.peer_ack, 2);
	rte_pktmbuf_free(m);

	/* A control frame from encap_ctrl is sequenced and counted. */
	m = mbuf_with((const uint8_t *)"\xff\x03\xc0\x21\x09\x01\x00\x08\x00\x00\x00\x00", 12);
	CHECK_EQ(pptp_ops.encap_ctrl(&a.t, m), DROP_MAX);
	CHECK_EQ(pptp_gre_parse(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_pkt_len(m), &g), DROP_MAX);
	CHECK(g.has_seq);
	CHECK_EQ(g.seq, 3);
	CHECK_EQ(g.payload_len, 12);
	CHECK_EQ(a.s.ctrl_tx, 1);
	rte_pktmbuf_free(m);

}

/* A data packet from s's side to the other, whose ack (if any) s takes. */
static void
ack_to(struct sess *x, uint32_t ack)
{
	uint8_t pkt[32];
	uint16_t n = header(pkt, false, true, 0, x->s.call_id, 0, ack);
	struct rte_mbuf *m = mbuf_with(pkt, n);
	struct tunnel_rx rx;

	add_outer(m, x->t.peer, x->t.local);
	memset(&rx, 0, sizeof(rx));
	CHECK_EQ(pptp_ops.decap(&x->t, m, 20, &rx), DROP_MAX);
	rte_pktmbuf_free(m);
}

static void
send_data(struct sess *x, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = inner_packet(20, 5);

		CHECK_EQ(pptp_ops.encap(&x->t, m), DROP_MAX);
		rte_pktmbuf_free(m);
	}
}

/* An open session whose client asked for a window of 2; enforce: timeout 1000 ticks. */
static void
sess_window(struct sess *a, bool enforce)
{
	sess_init(a, 1, 2);
	a->s.ip_up = 1;
	a->s.peer_window = 2;
	a->s.window_enforce = enforce;
	a->s.window_timeout = enforce ? 1000 : 0;
}

/* The client's receive window (RFC 2637 4.2): counted, or with enforce held back by tx_open. */
static void
test_peer_window(void)
{
	struct sess a;

	/* count: tx_open always lets go; the packet past the window is counted. */
	sess_window(&a, false);
	CHECK(pptp_ops.tx_open(&a.t, 1000));
	send_data(&a, 3);
	CHECK(pptp_ops.tx_open(&a.t, 1000));
	CHECK_EQ(a.s.beyond_peer_window, 1);
	CHECK_EQ(a.s.peer_window_waits, 0);

	/* enforce: open while fewer than 2 are unacked. */
	sess_window(&a, true);
	CHECK(pptp_ops.tx_open(&a.t, 5000));
	send_data(&a, 1);
	CHECK(pptp_ops.tx_open(&a.t, 5000));
	send_data(&a, 1);
	CHECK(!pptp_ops.tx_open(&a.t, 5000));
	CHECK(!pptp_ops.tx_open(&a.t, 5999));
	CHECK_EQ(a.s.peer_window_waits, 1);
	/* An ack of seq 0 opens one slot; an ack of something never sent changes nothing. */
	ack_to(&a, 7);
	CHECK(!pptp_ops.tx_open(&a.t, 5999));
	ack_to(&a, 0);
	CHECK_EQ(a.s.peer_ack, 0);
	CHECK(pptp_ops.tx_open(&a.t, 6000));
	send_data(&a, 1);
	CHECK(!pptp_ops.tx_open(&a.t, 6000));
	CHECK_EQ(a.s.peer_window_waits, 2);
	/* An older ack arriving late does not move the window back. */
	ack_to(&a, 2);
	CHECK_EQ(a.s.peer_ack, 2);
	CHECK(pptp_ops.tx_open(&a.t, 6100));
	ack_to(&a, 1);
	CHECK_EQ(a.s.peer_ack, 2);
	CHECK_EQ(a.s.unacked, 3);
	/* A window that stays full without an ack reopens after window_timeout, counted. */
	send_data(&a, 2);
	CHECK(!pptp_ops.tx_open(&a.t, 7000));
	CHECK(!pptp_ops.tx_open(&a.t, 7999));
	CHECK_EQ(a.s.peer_window_timeouts, 0);
	CHECK(pptp_ops.tx_open(&a.t, 8000));
	CHECK_EQ(a.s.peer_window_timeouts, 1);
	CHECK_EQ(a.s.unacked, a.s.tx_seq);
	CHECK_EQ(a.s.beyond_peer_window, 0);   /* nothing data went past it */
	/* Let go but still in the encap stage (not numbered yet): they count against the window. */
	sess_window(&a, true);
	CHECK(pptp_ops.tx_open(&a.t, 100));
	CHECK(pptp_ops.tx_open(&a.t, 100));
	CHECK(!pptp_ops.tx_open(&a.t, 100));
	CHECK_EQ(a.s.tx_granted, 2);
	send_data(&a, 2);
	CHECK_EQ(a.s.tx_granted, 0);
	CHECK(!pptp_ops.tx_open(&a.t, 100));
	/* A grant whose packet was dropped before encap is returned by housekeeping. */
	ack_to(&a, 0);
	CHECK(pptp_ops.tx_open(&a.t, 200));
	CHECK(!pptp_ops.tx_open(&a.t, 200));
	{
		uint8_t room[64];

		pptp_ops.keepalive(&a.t, 300, room, sizeof(room));
	}
	CHECK_EQ(a.s.tx_granted, 0);
	CHECK(pptp_ops.tx_open(&a.t, 300));
	/* A window of 0 (not advertised) holds nothing back. */
	a.s.peer_window = 0;
	send_data(&a, 5);
	CHECK(pptp_ops.tx_open(&a.t, 8000));
}

/* rx_post on PPP frames that are not inner IPv4. */
static void
test_rx_post(void)
{
	struct sess x;
	struct rte_mbuf *m, *got;
	enum drop_reason r;
	struct rte_ring *ring;

	sess_init(&x, 9, 10);
	x.s.ip_up = 1;
	/* No control ring: a control frame is a ppp_control_full drop (the caller frees it). */
	m = mbuf_with((const uint8_t *)"\xff\x03\xc0\x21\x01\x01\x00\x04", 8);
	pptp_ops.rx_post(&x.t, &m, &r, 1);
	CHECK_EQ(r, DROP_PPP_CONTROL_FULL);
	rte_pktmbuf_free(m);

	ring = rte_ring_create("pptp_test_ctl", 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	CHECK(ring != NULL);
	pptp_ctl_ring = ring;
	/* LCP with address/control: queued from the protocol on, tagged with the call id. */
	m = mbuf_with((const uint8_t *)"\xff\x03\xc0\x21\x01\x01\x00\x04", 8);
	pptp_ops.rx_post(&x.t, &m, &r, 1);
	CHECK_EQ(r, TUNNEL_RX_TAKEN);
	CHECK_EQ(rte_ring_dequeue(ring, (void **)&got), 0);
	CHECK(got == m);
	CHECK_EQ(got->hash.usr, 9);
	CHECK_EQ(rte_pktmbuf_pkt_len(got), 6);
	CHECK_EQ(rte_pktmbuf_mtod(got, uint8_t *)[0], 0xc0);
	rte_pktmbuf_free(got);
	CHECK_EQ(x.s.ctrl_rx, 1);
	/* Without address/control (ACFC) it goes as is. */
	m = mbuf_with((const uint8_t *)"\x80\x21\x01\x01\x00\x04", 6);
	pptp_ops.rx_post(&x.t, &m, &r, 1);
	CHECK_EQ(r, TUNNEL_RX_TAKEN);
	CHECK_EQ(rte_ring_dequeue(ring, (void **)&got), 0);
	CHECK_EQ(rte_pktmbuf_pkt_len(got), 6);
	rte_pktmbuf_free(got);
	/* A CCP Reset-Request without MPPE on is control traffic too. */
	m = mbuf_with((const uint8_t *)"\x80\xfd\x0e\x01\x00\x04", 6);
	pptp_ops.rx_post(&x.t, &m, &r, 1);
	CHECK_EQ(r, TUNNEL_RX_TAKEN);
	CHECK_EQ(rte_ring_dequeue(ring, (void **)&got), 0);
	rte_pktmbuf_free(got);
	CHECK_EQ(x.s.resets_rx, 0);

	/* Protocol-Field-Compression: 0x21 alone is IPv4. */
	m = mbuf_with((const uint8_t *)"\x21\x45\x00\x00", 4);
	pptp_ops.rx_post(&x.t, &m, &r, 1);
	CHECK_EQ(r, DROP_MAX);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 3);
	rte_pktmbuf_free(m);
	/* Malformed protocol fields: empty, one even byte, two even bytes. */
	static const struct {
		const char *d;
		uint16_t len;
	} bad[] = { { "", 0 }, { "\x00", 1 }, { "\xff\x03", 2 }, { "\x00\x20\x45", 3 }, { "\xff\x03\x00", 3 } };
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		m = mbuf_with((const uint8_t *)bad[i].d, bad[i].len);
		pptp_ops.rx_post(&x.t, &m, &r, 1);
		CHECK_EQ(r, DROP_PPP_MALFORMED);
		rte_pktmbuf_free(m);
	}
	/* IPv4 in the clear where MPPE is required; MPPE frames before MPPE is on. */
	x.s.mppe_required = true;
	m = mbuf_with((const uint8_t *)"\xff\x03\x00\x21\x45", 5);
	pptp_ops.rx_post(&x.t, &m, &r, 1);
	CHECK_EQ(r, DROP_PPTP_UNENCRYPTED);
	rte_pktmbuf_free(m);
	m = mbuf_with((const uint8_t *)"\xff\x03\x00\xfd\x90\x00\x12\x34", 8);
	pptp_ops.rx_post(&x.t, &m, &r, 1);
	CHECK_EQ(r, DROP_PPTP_NOT_OPEN);
	rte_pktmbuf_free(m);
	/* Not up: IPv4 in the clear (MPPE not required) is not delivered. */
	x.s.mppe_required = false;
	x.s.ip_up = 0;
	m = mbuf_with((const uint8_t *)"\xff\x03\x00\x21\x45", 5);
	pptp_ops.rx_post(&x.t, &m, &r, 1);
	CHECK_EQ(r, DROP_PPTP_NOT_OPEN);
	rte_pktmbuf_free(m);

	pptp_ctl_ring = NULL;
	rte_ring_free(ring);
}

static void
mppe_pair(struct sess *a, struct sess *b, bool stateless)
{
	static const uint8_t key[16] = { 0x8b, 0x7c, 0xdc, 0x14, 0x9b, 0x99, 0x3a, 0x1b,
					 0xa1, 0x18, 0xcb, 0x15, 0x3f, 0x56, 0xdc, 0xcb };
	static const uint8_t key2[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

	sess_init(a, 1, 2);
	sess_init(b, 2, 1);
	/* a's sending key is b's receiving key and the reverse. */
	CHECK_EQ(mppe_state_init(&a->s.mppe_tx, MPPE_DIR_TX, key, 128, stateless), 0);
	CHECK_EQ(mppe_state_init(&b->s.mppe_rx, MPPE_DIR_RX, key, 128, stateless), 0);
	CHECK_EQ(mppe_state_init(&b->s.mppe_tx, MPPE_DIR_TX, key2, 128, stateless), 0);
	CHECK_EQ(mppe_state_init(&a->s.mppe_rx, MPPE_DIR_RX, key2, 128, stateless), 0);
	a->s.mppe_on = b->s.mppe_on = 1;
	a->s.ip_up = b->s.ip_up = 1;
	a->s.mppe_required = b->s.mppe_required = true;
}

/* IPv4 packet m (any layout) from a to b through MPPE: the verdict of b's receive. */
static enum drop_reason
mppe_send_mbuf(struct sess *a, struct sess *b, struct rte_mbuf *m, struct rte_mbuf **out)
{
	const uint32_t len = rte_pktmbuf_pkt_len(m);
	struct tunnel_rx rx;
	struct pptp_gre g;
	const uint8_t *p;
	enum drop_reason r;

	CHECK_EQ(pptp_ops.encap(&a->t, m), DROP_MAX);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	CHECK_EQ(pptp_gre_parse(p, rte_pktmbuf_pkt_len(m), &g), DROP_MAX);
	/* FF 03 00 FD, MPPE header (encrypted), then ciphertext of 00 21 + packet. */
	CHECK_EQ(g.payload_len, 4 + 2 + 2 + len);
	CHECK(memcmp(p + g.hdr_len, "\xff\x03\x00\xfd", 4) == 0);
	CHECK(p[g.hdr_len + 4] & MPPE_BIT_ENCRYPTED);
	add_outer(m, a->t.local, a->t.peer);
	r = receive(b, m, &rx);
	if (out != NULL && r == DROP_MAX)
		*out = m;
	else
		rte_pktmbuf_free(m);
	return r;
}

static enum drop_reason
mppe_send(struct sess *a, struct sess *b, uint16_t len, uint8_t fill, struct rte_mbuf **out)
{
	return mppe_send_mbuf(a, b, inner_packet(len, fill), out);
}

/*
 * dpvpn fragments inner packets larger than the tunnel MTU with
 * rte_ipv4_fragment_packet, whose fragments are chains (a header mbuf and
 * indirect data): MPPE must encrypt them all, not drop them.
 */
static void
test_mppe_fragments(void)
{
	struct rte_mbuf *whole = inner_packet(1400, 7), *frags[4], *m;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(whole, struct rte_ipv4_hdr *);
	uint32_t carried = 0;
	struct sess a, b;
	int32_t nf;

	ip->fragment_offset = 0;
	ip->total_length = rte_cpu_to_be_16(1400);
	nf = rte_ipv4_fragment_packet(whole, frags, RTE_DIM(frags), 600, pool, pool);
	rte_pktmbuf_free(whole);
	CHECK_EQ(nf, 3);
	for (int stateless = 0; stateless < 2; stateless++) {
		mppe_pair(&a, &b, stateless);
		for (int32_t i = 0; i < nf; i++) {
			const uint32_t len = rte_pktmbuf_pkt_len(frags[i]);

			CHECK(frags[i]->nb_segs > 1);
			m = NULL;
			/* The first pass keeps the fragments for the second. */
			CHECK_EQ(mppe_send_mbuf(&a, &b, stateless ? frags[i] : rte_pktmbuf_copy(frags[i], pool, 0, UINT32_MAX),
						&m),
				 DROP_MAX);
			if (m == NULL)
				continue;
			CHECK_EQ(rte_pktmbuf_pkt_len(m), len);
			CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[0], 0x45);
			CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[len - 1], 7);
			carried += len - 20;
			rte_pktmbuf_free(m);
		}
	}
	CHECK_EQ(carried, 2 * (1400 - 20));
}

/*
 * rx_post_burst as the worker calls it: the windows' runs of several sessions
 * interleaved in one call. Each session's packets must decrypt in order with
 * its own keys (stateless and stateful), whatever the interleaving.
 */
static void
test_rx_post_burst(void)
{
	enum { NS = 3, PER = 40 };

	for (int stateless = 0; stateless < 2; stateless++) {
		struct sess tx[NS], rx[NS];
		struct tunnel *ts[NS * PER];
		struct rte_mbuf *m[NS * PER];
		enum drop_reason r[NS * PER];
		unsigned n = 0, next[NS] = { 0 };

		for (unsigned k = 0; k < NS; k++) {
			static const uint8_t base[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
			uint8_t key[16];

			memcpy(key, base, sizeof(key));
			key[0] = (uint8_t)(key[0] + k); /* a key of its own per session */
			sess_init(&tx[k], (uint16_t)(10 + k), (uint16_t)(20 + k));
			sess_init(&rx[k], (uint16_t)(20 + k), (uint16_t)(10 + k));
			CHECK_EQ(mppe_state_init(&tx[k].s.mppe_tx, MPPE_DIR_TX, key, 128, stateless), 0);
			CHECK_EQ(mppe_state_init(&rx[k].s.mppe_rx, MPPE_DIR_RX, key, 128, stateless), 0);
			tx[k].s.mppe_on = rx[k].s.mppe_on = 1;
			tx[k].s.ip_up = rx[k].s.ip_up = 1;
		}
		/* Session k's packet i carries fill (k << 6 | i); round-robin, session 1 twice as often. */
		for (unsigned i = 0; n < NS * PER; i++) {
			unsigned k = i % 4 == 3 ? 1 : i % 4 % NS;
			struct tunnel_rx info;

			if (next[k] == PER)
				k = next[0] < PER ? 0 : next[1] < PER ? 1 : 2;
			m[n] = inner_packet(60, (uint8_t)(k << 6 | next[k]));
			next[k]++;
			CHECK_EQ(pptp_ops.encap(&tx[k].t, m[n]), DROP_MAX);
			add_outer(m[n], tx[k].t.local, tx[k].t.peer);
			memset(&info, 0, sizeof(info));
			CHECK_EQ(pptp_ops.decap(&rx[k].t, m[n], 20, &info), DROP_MAX);
			ts[n++] = &rx[k].t;
		}
		pptp_ops.rx_post_burst(ts, m, r, (uint16_t)n);
		memset(next, 0, sizeof(next));
		for (unsigned i = 0; i < n; i++) {
			unsigned k = 0;

			while (k < NS - 1 && ts[i] != &rx[k].t)
				k++;

			CHECK_EQ(r[i], DROP_MAX);
			if (r[i] == DROP_MAX) {
				CHECK_EQ(rte_pktmbuf_pkt_len(m[i]), 60);
				CHECK_EQ(rte_pktmbuf_mtod(m[i], uint8_t *)[59], (uint8_t)(k << 6 | next[k]));
			}
			next[k]++;
			rte_pktmbuf_free(m[i]);
		}
	}
}

static void
test_mppe(void)
{
	struct sess a, b;
	struct rte_mbuf *m = NULL, *drop;
	enum drop_reason r;
	struct rte_ring *ring;

	for (int stateless = 0; stateless < 2; stateless++) {
		mppe_pair(&a, &b, stateless);
		for (unsigned i = 0; i < 300; i++) {
			m = NULL;
			CHECK_EQ(mppe_send(&a, &b, (uint16_t)(20 + i % 100), (uint8_t)i, &m), DROP_MAX);
			if (m == NULL)
				continue;
			CHECK_EQ(rte_pktmbuf_pkt_len(m), 20 + i % 100);
			CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[0], 0x45);
			CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[19], (uint8_t)i);
			rte_pktmbuf_free(m);
		}
	}

	/* Stateful: a lost packet desynchronises; b asks a Reset-Request and discards until flushed. */
	host.pool = pool;
	host.send_frame = host_send_frame;
	pptp_gre_set_host(&host);
	mppe_pair(&a, &b, false);
	CHECK_EQ(mppe_send(&a, &b, 40, 1, NULL), DROP_MAX);
	drop = inner_packet(40, 2);
	CHECK_EQ(pptp_ops.encap(&a.t, drop), DROP_MAX); /* lost on the way */
	rte_pktmbuf_free(drop);
	memset(&sent, 0, sizeof(sent));
	CHECK_EQ(mppe_send(&a, &b, 40, 3, NULL), DROP_MPPE_LOST);
	CHECK_EQ(sent.n, 1);
	CHECK(sent.t == &b.t);
	CHECK_EQ(sent.len, 8);
	CHECK(memcmp(sent.frame, "\xff\x03\x80\xfd\x0e\x00\x00\x04", 8) == 0);
	CHECK_EQ(b.s.resets_tx, 1);
	CHECK_EQ(mppe_send(&a, &b, 40, 4, NULL), DROP_MPPE_LOST);
	CHECK_EQ(sent.n, 1); /* discarding: no second request for the same loss */
	/* The keepalive asks again after a second without a flushed packet. */
	CHECK_EQ(pptp_ops.keepalive(&b.t, b.s.last_reset_tsc + clock_ms_to_ticks(1001), NULL, 64), 0);
	CHECK_EQ(sent.n, 2);
	CHECK_EQ(sent.frame[5], 1); /* the next id */
	/*
	 * a gets the Reset-Request through rx_post and answers with a Reset-Ack
	 * (same id) through the host; a re-keys when that Ack leaves through
	 * encap_ctrl, so the packet after it carries the flushed bit.
	 */
	ring = rte_ring_create("pptp_test_ctl2", 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	pptp_ctl_ring = ring;
	m = mbuf_with(sent.frame, sent.len);
	pptp_ops.rx_post(&a.t, &m, &r, 1);
	CHECK_EQ(r, TUNNEL_RX_TAKEN);
	CHECK_EQ(a.s.resets_rx, 1);
	CHECK_EQ(rte_ring_count(ring), 0); /* handled in the data path, freed there */
	CHECK_EQ(sent.n, 3);
	CHECK(sent.t == &a.t);
	CHECK_EQ(sent.len, 8);
	CHECK(memcmp(sent.frame, "\xff\x03\x80\xfd\x0f\x01\x00\x04", 8) == 0);
	/* Data a sends before the Ack left is not flushed: b still discards it. */
	CHECK_EQ(mppe_send(&a, &b, 40, 5, NULL), DROP_MPPE_LOST);
	{
		struct rte_mbuf *ack = mbuf_with(sent.frame, sent.len), *got;
		struct tunnel_rx rx;
		struct pptp_gre g;

		CHECK_EQ(pptp_ops.encap_ctrl(&a.t, ack), DROP_MAX);
		CHECK_EQ(a.s.mppe_tx.flush, 1);
		CHECK_EQ(a.s.ctrl_tx, 1);
		CHECK_EQ(pptp_gre_parse(rte_pktmbuf_mtod(ack, uint8_t *), rte_pktmbuf_pkt_len(ack), &g), DROP_MAX);
		CHECK(g.has_seq);
		CHECK_EQ(g.payload_len, 8);
		/* b takes the Reset-Ack as control traffic (for its CCP). */
		add_outer(ack, a.t.local, a.t.peer);
		CHECK_EQ(receive(&b, ack, &rx), TUNNEL_RX_TAKEN);
		CHECK_EQ(rte_ring_dequeue(ring, (void **)&got), 0);
		CHECK(got == ack);
		CHECK_EQ(got->hash.usr, b.s.call_id);
		CHECK_EQ(rte_pktmbuf_mtod(got, uint8_t *)[2], 0x0f);
		rte_pktmbuf_free(got);
	}
	CHECK_EQ(mppe_send(&a, &b, 40, 6, NULL), DROP_MAX);
	CHECK_EQ(a.s.mppe_tx.flush, 0);
	CHECK_EQ(mppe_send(&a, &b, 40, 7, NULL), DROP_MAX);
	/* A Reset-Request without its id byte is not acted on: it goes to the control thread. */
	m = mbuf_with((const uint8_t *)"\xff\x03\x80\xfd\x0e", 5);
	pptp_ops.rx_post(&a.t, &m, &r, 1);
	CHECK_EQ(r, TUNNEL_RX_TAKEN);
	CHECK_EQ(a.s.resets_rx, 1);
	CHECK_EQ(rte_ring_dequeue(ring, (void **)&m), 0);
	rte_pktmbuf_free(m);
	CHECK_EQ(sent.n, 3);
	/* A replayed (old) count is late. */
	{
		struct rte_mbuf *x = inner_packet(40, 7), *dup;
		struct tunnel_rx rx;

		CHECK_EQ(pptp_ops.encap(&a.t, x), DROP_MAX);
		add_outer(x, a.t.local, a.t.peer);
		dup = rte_pktmbuf_copy(x, pool, 0, UINT32_MAX);
		CHECK_EQ(receive(&b, x, &rx), DROP_MAX);
		CHECK_EQ(receive(&b, dup, &rx), DROP_MPPE_LATE);
		rte_pktmbuf_free(x);
		rte_pktmbuf_free(dup);
	}
	/* An MPPE frame too short for its header is bad. */
	m = mbuf_with((const uint8_t *)"\xff\x03\x00\xfd\x90", 5);
	pptp_ops.rx_post(&b.t, &m, &r, 1);
	CHECK_EQ(r, DROP_MPPE_BAD);
	rte_pktmbuf_free(m);
	/* IPv4 in the clear while MPPE is on. */
	m = mbuf_with((const uint8_t *)"\xff\x03\x00\x21\x45", 5);
	pptp_ops.rx_post(&b.t, &m, &r, 1);
	CHECK_EQ(r, DROP_PPTP_UNENCRYPTED);
	rte_pktmbuf_free(m);
	pptp_ctl_ring = NULL;
	rte_ring_free(ring);
	pptp_gre_set_host(NULL);
}

int
main(void)
{
	unsigned before;

	if (test_eal_init("0") < 0)
		return 1;
	clock_use_fake(1000000000, 1);
	pool = rte_pktmbuf_pool_create("test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	before = rte_mempool_in_use_count(pool);
	test_parse_good();
	test_parse_bad();
	test_write_round_trip();
	test_classify_decap();
	test_encap_clear();
	test_peer_window();
	test_rx_post();
	test_rx_post_burst();
	test_mppe();
	test_mppe_fragments();
	CHECK_EQ(rte_mempool_in_use_count(pool), before);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return check_summary("pptp-gre");
}
