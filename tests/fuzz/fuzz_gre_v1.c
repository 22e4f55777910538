/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for drivers/pptp's GRE v1 data path (gre_v1.c). The
 * first byte picks what the rest is:
 *   0: a header for pptp_gre_parse, checked against a model written from
 *      RFC 2637 4.1 here (verdict and every field); a good one written
 *      again with pptp_gre_write gives the same bytes;
 *   1: a session's flags (IP up, MPPE on / required, stateless, 40 or
 *      128 bits, rx_post burst size) and a stream of GRE packets for
 *      classify, decap and rx_post: verdicts agree with the parser, decap
 *      leaves exactly the payload, control frames reach the ring tagged
 *      with the call id, CCP Reset-Requests / Reset-Acks we send are well
 *      formed;
 *   2: a script of inner packets sent by one session (encap) and received
 *      by its peer (decap + rx_post), lost, duplicated, or followed by the
 *      receiver's Reset-Requests going back (the sender answers with a
 *      Reset-Ack, sent through encap_ctrl, after which it re-keys) and an
 *      ack alone, in the clear or through MPPE (stateless or stateful, 40
 *      or 128 bits): what is accepted is byte for byte what was sent,
 *      duplicates are late, stateless MPPE never loses sync, stateful MPPE
 *      discards after a loss and resyncs on the next flushed packet, acks
 *      name packets that were sent. (When a re-keying packet that is not a
 *      0x?FF flag packet is lost, stateful keys diverge on both ends, as
 *      in Linux: from there on only "no crash, no leak" is checked.)
 * Any crash, sanitizer report, broken invariant or leaked mbuf fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "clock.h"
#include "fuzz_eal.h"
#include "pptp_impl.h"

/* A broken invariant: where, then abort (libFuzzer keeps the input). */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *pool;
static struct session_host host;

/* Frames the data path sent through the host (its Reset-Requests). */
struct frame {
	struct tunnel *t;
	uint8_t b[16];
	uint16_t len;
};
static struct frame frames[256];
static unsigned nb_frames;

static void
host_send_frame(struct tunnel *t, struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	/* FF 03, CCP, Reset-Request or Reset-Ack, an id, length 4: nothing else is sent from here. */
	if (rte_pktmbuf_pkt_len(m) != 8 || memcmp(p, "\xff\x03\x80\xfd", 4) != 0 || (p[4] != 14 && p[4] != 15) ||
	    p[6] != 0 || p[7] != 4)
		FUZZ_FAIL();
	if (nb_frames < RTE_DIM(frames)) {
		frames[nb_frames].t = t;
		frames[nb_frames].len = 8;
		memcpy(frames[nb_frames].b, p, 8);
		nb_frames++;
	}
	rte_pktmbuf_free(m);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pool = fuzz_eal_init("fuzz", 511);
	pptp_ctl_ring = rte_ring_create("fuzz_pptp_ctl", 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (pptp_ctl_ring == NULL)
		FUZZ_FAIL();
	clock_use_fake(1000000000, 1);
	host.pool = pool;
	host.send_frame = host_send_frame;
	pptp_gre_set_host(&host);
	return 0;
}

/* ---- 0: the header parser against a model ---- */

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 2637 4.1: C R K S s Recur | A Flags Ver, protocol 880B, key = payload length | call id, [seq], [ack]. */
static int
model(const uint8_t *p, uint32_t len, struct pptp_gre *g)
{
	bool c, r, k, s, ss, a;
	unsigned recur, flags, ver;
	uint32_t hl;

	if (len < 2)
		return DROP_GRE_TRUNCATED;
	c = p[0] >> 7 & 1;
	r = p[0] >> 6 & 1;
	k = p[0] >> 5 & 1;
	s = p[0] >> 4 & 1;
	ss = p[0] >> 3 & 1;
	recur = p[0] & 7;
	a = p[1] >> 7 & 1;
	flags = p[1] >> 3 & 15;
	ver = p[1] & 7;
	if (ver != 1)
		return -1;
	if (c || r || !k || ss || recur != 0 || flags != 0)
		return DROP_PPTP_MALFORMED;
	hl = 8 + 4 * s + 4 * a;
	if (len < hl)
		return DROP_GRE_TRUNCATED;
	if ((p[2] << 8 | p[3]) != 0x880b)
		return DROP_PPTP_MALFORMED;
	g->payload_len = (uint16_t)(p[4] << 8 | p[5]);
	g->call_id = (uint16_t)(p[6] << 8 | p[7]);
	g->has_seq = s;
	g->has_ack = a;
	g->seq = s ? be32(p + 8) : 0;
	g->ack = a ? be32(p + 8 + 4 * s) : 0;
	g->hdr_len = (uint16_t)hl;
	if (g->payload_len > len - hl)
		return DROP_PPTP_MALFORMED; /* beyond the packet */
	if (g->payload_len != 0 && !s)
		return DROP_PPTP_MALFORMED; /* data without a sequence number */
	return DROP_MAX;
}

static void
parse_one(const uint8_t *p, uint32_t len)
{
	struct pptp_gre g, w;
	uint8_t again[PPTP_GRE_HDR_MAX];
	int rc = pptp_gre_parse(p, len, &g), want = model(p, len, &w);

	if (rc != want)
		FUZZ_FAIL();
	if (rc != DROP_MAX)
		return;
	if (g.payload_len != w.payload_len || g.call_id != w.call_id || g.has_seq != w.has_seq ||
	    g.has_ack != w.has_ack || g.seq != w.seq || g.ack != w.ack || g.hdr_len != w.hdr_len)
		FUZZ_FAIL();
	if (pptp_gre_write(again, g.call_id, g.payload_len, g.has_seq ? &g.seq : NULL, g.has_ack ? &g.ack : NULL) !=
		    g.hdr_len ||
	    memcmp(again, p, g.hdr_len) != 0)
		FUZZ_FAIL();
}

/* ---- sessions on mbufs ---- */

struct sess {
	struct tunnel t;
	struct pptp_session s;
};

static const uint8_t key1[16] = { 0x5d, 0x21, 0x73, 0x9a, 0x0c, 0xe4, 0x48, 0xb1,
				  0x02, 0x9f, 0x6e, 0x37, 0xc8, 0x15, 0xaa, 0x60 };
static const uint8_t key2[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				  0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x0f };

static void
sess_init(struct sess *x, uint16_t call_id, uint16_t peer_call_id, uint8_t flags, const uint8_t *tx_key,
	  const uint8_t *rx_key)
{
	const unsigned bits = (flags & 0x10) ? 40 : 128;
	const bool stateless = flags & 0x08;

	memset(x, 0, sizeof(*x));
	x->t.ops = &pptp_ops;
	x->t.priv = &x->s;
	x->t.peer = RTE_BE32(0xc0000202);
	x->t.local = RTE_BE32(0xc0000201);
	x->s.call_id = call_id;
	x->s.peer_call_id = peer_call_id;
	x->s.ip_up = flags & 1;
	x->s.mppe_on = (flags >> 1) & 1;
	x->s.mppe_required = flags & 4;
	if (mppe_state_init(&x->s.mppe_tx, MPPE_DIR_TX, tx_key, bits, stateless) < 0 ||
	    mppe_state_init(&x->s.mppe_rx, MPPE_DIR_RX, rx_key, bits, stateless) < 0)
		FUZZ_FAIL();
}

static struct rte_mbuf *
mbuf_with(const uint8_t *d, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len) : NULL;

	if (p == NULL)
		FUZZ_FAIL();
	memcpy(p, d, len);
	return m;
}

static struct rte_ipv4_hdr *
add_outer(struct rte_mbuf *m, const struct tunnel *from)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));

	if (ip == NULL)
		FUZZ_FAIL();
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->next_proto_id = IPPROTO_GRE;
	ip->src_addr = from->local;
	ip->dst_addr = from->peer;
	return ip;
}

/* Control frames rx_post queued: tagged with the session's call id; freed here. */
static void
drain_ring(uint16_t call_id)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(pptp_ctl_ring, (void **)&m) == 0) {
		if ((uint16_t)m->hash.usr != call_id || m->nb_segs != 1)
			FUZZ_FAIL();
		rte_pktmbuf_free(m);
	}
}

/* rx_post over a burst; frees what the driver did not take. */
static void
post(struct sess *x, struct rte_mbuf **m, uint16_t n, enum drop_reason *r)
{
	uint32_t len[32];

	for (uint16_t i = 0; i < n; i++)
		len[i] = rte_pktmbuf_pkt_len(m[i]);
	x->t.ops->rx_post(&x->t, m, r, n);
	for (uint16_t i = 0; i < n; i++) {
		if (r[i] == TUNNEL_RX_TAKEN)
			continue;
		if (r[i] > DROP_MAX)
			FUZZ_FAIL();
		if (r[i] == DROP_MAX && rte_pktmbuf_pkt_len(m[i]) >= len[i])
			FUZZ_FAIL(); /* at least the protocol field was taken off */
		rte_pktmbuf_free(m[i]);
	}
	drain_ring(x->s.call_id);
}

/* ---- 1: a packet stream into one session ---- */

static void
stream(const uint8_t *data, size_t size)
{
	static struct sess x;
	struct rte_mbuf *burst[32];
	enum drop_reason r[32];
	uint16_t n = 0, burst_max;

	if (size < 1)
		return;
	sess_init(&x, 0x1234, 0x4321, data[0], key1, key2);
	burst_max = (uint16_t)(1 + (data[0] >> 5) * 31 / 7); /* 1 .. 32 */
	data++;
	size--;
	nb_frames = 0;
	while (size >= 2) {
		size_t len = (size_t)(data[0] << 8 | data[1]) % 1901;
		struct pptp_gre g;
		struct tunnel_key k;
		struct tunnel_rx rx = { 0 };
		struct rte_mbuf *m;
		struct rte_ipv4_hdr *ip;
		int want;
		enum drop_reason v;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		want = pptp_gre_parse(data, (uint32_t)len, &g);
		m = mbuf_with(data, len);
		ip = add_outer(m, &x.t);
		memset(&k, 0, sizeof(k));
		if (x.t.ops->classify(m, ip, 20, &k) != want)
			FUZZ_FAIL();
		if (want == DROP_MAX && (k.proto_key != g.call_id || k.variant != PPTP_KEY_VARIANT ||
					 k.peer != ip->src_addr || k.local != ip->dst_addr))
			FUZZ_FAIL();
		uint32_t unacked = x.s.unacked, peer_ack = x.s.peer_ack;
		/* An ack counts when it is news and of something we sent. */
		bool news = want == DROP_MAX && g.has_ack && (int32_t)(g.ack + 1 - unacked) > 0 &&
			    (int32_t)(x.s.tx_seq - (g.ack + 1)) >= 0;

		v = x.t.ops->decap(&x.t, m, 20, &rx);
		if (v != (want == -1 ? DROP_PPTP_MALFORMED : (enum drop_reason)want))
			FUZZ_FAIL();
		if (news ? x.s.peer_ack != g.ack || x.s.unacked != g.ack + 1
			 : x.s.peer_ack != peer_ack || x.s.unacked != unacked)
			FUZZ_FAIL();
		if (v != DROP_MAX || !rx.has_seq) {
			if (v == DROP_MAX && (g.has_seq || rx.late_drop != TUNNEL_RX_CONSUMED))
				FUZZ_FAIL();
			rte_pktmbuf_free(m);
		} else {
			/* Exactly the payload is left, and the window gets its number. */
			if (!g.has_seq || rx.seq != g.seq || rte_pktmbuf_pkt_len(m) != g.payload_len ||
			    memcmp(rte_pktmbuf_mtod(m, uint8_t *), data + g.hdr_len, g.payload_len) != 0)
				FUZZ_FAIL();
			burst[n++] = m;
			if (n == burst_max) {
				post(&x, burst, n, r);
				n = 0;
			}
		}
		data += len;
		size -= len;
	}
	if (n)
		post(&x, burst, n, r);
	for (unsigned i = 0; i < nb_frames; i++)
		if (frames[i].t != &x.t || !x.s.mppe_on)
			FUZZ_FAIL();
}

/* ---- 2: a script between two sessions ---- */

struct model2 {
	bool mppe, stateless;
	bool lost_since_accept;         /* a packet b never saw since the last one it accepted */
	bool unsure;                    /* stateful keys may have diverged: bytes not checked any more */
	unsigned lost_run;
};

/* b receives m (a's packet, outer header added): the verdict; an accepted m is checked against inner. */
static enum drop_reason
deliver(struct sess *b, struct rte_mbuf *m, const uint8_t *inner, size_t len, uint32_t seq)
{
	struct tunnel_rx rx = { 0 };
	enum drop_reason v = b->t.ops->decap(&b->t, m, 20, &rx);

	if (v != DROP_MAX || !rx.has_seq || rx.seq != seq)
		FUZZ_FAIL();
	b->t.ops->rx_post(&b->t, &m, &v, 1);
	if (v == TUNNEL_RX_TAKEN) {
		/* IPv4 data is never control, unless stateful keys diverged (the model cannot tell). */
		if (inner != NULL)
			FUZZ_FAIL();
		drain_ring(b->s.call_id);
		return v;
	}
	if (v == DROP_MAX && inner != NULL &&
	    (rte_pktmbuf_pkt_len(m) != len || memcmp(rte_pktmbuf_mtod(m, uint8_t *), inner, len) != 0))
		FUZZ_FAIL();
	rte_pktmbuf_free(m);
	return v;
}

static void
script(const uint8_t *data, size_t size)
{
	static struct sess a, b;
	struct model2 md = { 0 };
	uint8_t flags;
	uint8_t room[16];

	if (size < 1)
		return;
	/* Both ends up, the same MPPE mode (CCP makes it so); MPPE required only where it is on. */
	flags = (uint8_t)(data[0] | 1);
	if (!(flags & 2))
		flags &= (uint8_t)~4;
	sess_init(&a, 10, 20, flags, key1, key2);
	sess_init(&b, 20, 10, flags, key2, key1);
	md.mppe = flags & 2;
	md.stateless = flags & 8;
	data++;
	size--;
	nb_frames = 0;
	while (size >= 2) {
		const uint8_t op = data[0];
		size_t len = ((size_t)(op >> 2 & 7) << 8 | data[1]) % 1401;
		struct rte_mbuf *m, *dup = NULL;
		struct pptp_gre g;
		const uint8_t *p;
		enum drop_reason v;
		bool flushed = false, far;
		uint32_t seq = a.s.tx_seq;

		data += 2;
		size -= 2;
		if ((op & 3) == 3) {
			/*
			 * b's Reset-Requests reach a (rx_post), a's Reset-Acks go back
			 * through a's encap_ctrl (a re-keys as they leave) to b, where
			 * they are control traffic. Then b acks what it has.
			 */
			for (unsigned i = 0; i < nb_frames; i++) {
				const struct frame fr = frames[i];

				m = mbuf_with(fr.b, fr.len);
				if (fr.t == &b.t && fr.b[4] == PPP_RESET_REQ) {
					uint64_t before = a.s.resets_rx;
					bool room = nb_frames < RTE_DIM(frames);

					post(&a, &m, 1, &v);
					if (v != TUNNEL_RX_TAKEN || a.s.resets_rx != before + 1)
						FUZZ_FAIL();
					/* The Reset-Ack a answers with, same id. */
					if (room && (frames[nb_frames - 1].t != &a.t ||
					    frames[nb_frames - 1].b[4] != PPP_RESET_ACK || frames[nb_frames - 1].b[5] != fr.b[5]))
						FUZZ_FAIL();
				} else if (fr.t == &a.t && fr.b[4] == PPP_RESET_ACK) {
					struct tunnel_rx rx = { 0 };

					if (a.t.ops->encap_ctrl(&a.t, m) != DROP_MAX || !a.s.mppe_tx.flush)
						FUZZ_FAIL();
					add_outer(m, &a.t);
					if (b.t.ops->decap(&b.t, m, 20, &rx) != DROP_MAX || !rx.has_seq)
						FUZZ_FAIL();
					post(&b, &m, 1, &v);
					if (v != TUNNEL_RX_TAKEN)
						FUZZ_FAIL();
				} else {
					FUZZ_FAIL();
				}
			}
			nb_frames = 0;
			clock_fake_advance(clock_ms_to_ticks((uint64_t)(op >> 2) * 100));
			if (b.t.ops->keepalive(&b.t, clock_now(), room, sizeof(room)) == TUNNEL_KEEPALIVE_EMPTY) {
				struct tunnel_rx rx = { 0 };

				m = rte_pktmbuf_alloc(pool);
				if (m == NULL || b.t.ops->encap_ctrl(&b.t, m) != DROP_MAX)
					FUZZ_FAIL();
				if (pptp_gre_parse(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_pkt_len(m), &g) !=
					    DROP_MAX ||
				    g.has_seq || !g.has_ack || g.ack != b.s.rx_seq || g.call_id != 10)
					FUZZ_FAIL();
				add_outer(m, &b.t);
				if (a.t.ops->decap(&a.t, m, 20, &rx) != DROP_MAX || rx.has_seq ||
				    a.s.peer_ack != b.s.rx_seq || (int32_t)(a.s.tx_seq - 1 - a.s.peer_ack) < 0)
					FUZZ_FAIL();
				rte_pktmbuf_free(m);
			}
			continue;
		}
		if (len > size)
			len = size;
		m = mbuf_with(data, len);
		if (a.t.ops->encap(&a.t, m) != DROP_MAX)
			FUZZ_FAIL();
		p = rte_pktmbuf_mtod(m, const uint8_t *);
		if (pptp_gre_parse(p, rte_pktmbuf_pkt_len(m), &g) != DROP_MAX || !g.has_seq || g.seq != seq ||
		    g.call_id != 20 || g.hdr_len + g.payload_len != rte_pktmbuf_pkt_len(m) ||
		    g.payload_len != len + (md.mppe ? 8 : 4))
			FUZZ_FAIL();
		if (md.mppe)
			flushed = p[g.hdr_len + 4] & MPPE_BIT_FLUSHED;
		if ((op & 3) == 1) {
			/* Lost on the way. A lost re-key that is not a flag packet leaves stateful keys unknown. */
			md.lost_since_accept = true;
			md.lost_run++;
			if (md.mppe && !md.stateless && flushed && (p[g.hdr_len + 5] & 0xff) != 0xff)
				md.unsure = true;
			rte_pktmbuf_free(m);
			data += len;
			size -= len;
			continue;
		}
		add_outer(m, &a.t);
		if ((op & 3) == 2)
			dup = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);
		/* So far behind that MPPE takes the packet for an old one: not modelled. */
		far = md.lost_run >= MPPE_CCOUNT_WINDOW - 1;
		if (md.mppe && !md.stateless && far)
			md.unsure = true;
		v = deliver(&b, m, md.unsure || (md.mppe && far) ? NULL : data, len, seq);
		if (!md.mppe) {
			if (v != DROP_MAX)
				FUZZ_FAIL();
		} else if (md.stateless) {
			/* Stateless: every packet stands alone. */
			if (!far && v != DROP_MAX)
				FUZZ_FAIL();
		} else if (!md.unsure) {
			/* Stateful: in sync unless something was lost; a flushed packet brings it back. */
			if (v != ((!md.lost_since_accept || flushed) ? DROP_MAX : DROP_MPPE_LOST))
				FUZZ_FAIL();
		}
		if (v == DROP_MAX) {
			md.lost_since_accept = false;
			md.lost_run = 0;
		} else {
			md.lost_run++;
		}
		if (dup != NULL) {
			/* The same packet again right after it was accepted: late. */
			if (v == DROP_MAX) {
				enum drop_reason dv = deliver(&b, dup, NULL, 0, seq);

				if (dv != (md.mppe ? DROP_MPPE_LATE : DROP_MAX))
					FUZZ_FAIL();
			} else {
				rte_pktmbuf_free(dup);
			}
		}
		data += len;
		size -= len;
	}
	if (b.s.resets_tx != 0 && (md.stateless || !md.mppe))
		FUZZ_FAIL(); /* only stateful MPPE asks for re-keys */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 16384)
		return 0;
	switch (data[0] & 3) {
	case 0:
		parse_one(data + 1, (uint32_t)(size - 1));
		break;
	case 1:
		stream(data + 1, size - 1);
		break;
	default:
		script(data + 1, size - 1);
		break;
	}
	if (rte_ring_count(pptp_ctl_ring) != 0 || rte_mempool_in_use_count(pool) != 0)
		FUZZ_FAIL(); /* an mbuf leaked */
	return 0;
}
