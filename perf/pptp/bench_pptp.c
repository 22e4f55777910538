/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PPTP data path of one worker lcore, in process: the driver functions
 * the worker calls (pptp_ops: classify, decap, rx_post, encap_burst), the
 * tunnel table lookups and the reorder window, on rte_mbufs from a mempool,
 * with sessions set up as drivers/pptp does when CCP opens MPPE.
 *
 *   decrypt-and-deliver: wire frames (Ethernet, IPv4, GRE v1 with sequence
 *     and ack, PPP 00FD, MPPE) copied into fresh mbufs (a NIC's RX), then per
 *     packet pptp classify -> tunnel_table_lookup_cached -> decap ->
 *     reorder_push; reorder_sink_flush hands each window's run to the stage
 *     the worker keeps, flushed into rx_post_burst (MPPE decrypt in sequence
 *     order per session, across sessions), which leaves the inner IPv4 packet;
 *     the mbufs are freed (a TX). The frames come from a peer-side MPPE
 *     sender (lib/crypto, MPPE_DIR_TX with the client's keys) and carry
 *     consecutive GRE sequence numbers per session. MPPE is a continuous
 *     stream (stateful: ARC4 state; stateless too: each session key derives
 *     from the one before, so a cycle of 4096 counts does not repeat), so
 *     frames are regenerated between timed rounds, outside the timing.
 *   encrypt-and-send: inner IPv4 packets copied into fresh mbufs, the
 *     session found by inner destination (tunnel_table_route, LPM), then
 *     pptp_ops.encap_burst over the burst (MPPE encrypt across sessions, PPP
 *     and GRE v1 headers), the outer IPv4 header (pkt_ipv4_write_hdr, as
 *     the worker's outer_send), and free.
 *
 * Ceilings from the same process, same sizes and session pattern:
 *   arc4: lib/crypto's arc4_crypt_burst over the bytes MPPE encrypts
 *     (inner + 2), 32 jobs a call over the sessions' states;
 *   mppe_encrypt / mppe_decrypt: mppe_encrypt_burst / mppe_decrypt_burst
 *     alone on 32 ops a call (adds the per-packet re-key of stateless MPPE);
 *   mppe_decrypt_runs: mppe_decrypt_burst called once per run of one
 *     session's packets, the way rx_post receives them from the window;
 *   harness_rx / harness_tx: mbuf alloc + copy + free alone (the bench's
 *     stand-in for NIC I/O, included in the data-path figures).
 *
 * Verification: before and after the timed runs of each case a round is
 * checked packet by packet (decrypt: every frame delivered, in order, with
 * the plaintext that was sent; encrypt: outer IPv4, GRE v1 call id and
 * consecutive sequence numbers, PPP, and the plaintext decrypted by a
 * peer-side receiver). Timed rounds must deliver (decrypt) or encapsulate
 * (encrypt) every packet. Any failure exits with status 1.
 *
 *   bench_pptp [-r runs] [-t ms] [-l lcore] [-c mode:bytes:sessions]...
 *   bench_pptp -p decrypt|encrypt -s seconds -c mode:bytes:sessions   (for perf record, see perf_events)
 *
 * Prints one JSON line per case: packets per second of the thread's CPU
 * time, the median of the runs; the measurements of a case take turns run by
 * run, and the ratios to the ceilings are the medians of run-by-run ratios.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_udp.h>

#include "arc4.h"
#include "clock.h"
#include "mppe.h"
#include "mppe_impl.h"          /* mppe_sha1_selected */
#include "pkt.h"
#include "pptp_impl.h"          /* pptp_session_new, pptp_session_mppe_start */
#include "reorder.h"
#include "tunnel.h"

#define BURST 32                /* the worker's burst, and pptp_ops.burst_max */
#define ROUND 2048              /* packets per generated round (a multiple of BURST and of 64) */
#define MAX_SESS 64
#define STRIDE 2048
#define ETH_LEN 14
#define IP_LEN 20
#define GRE_LEN 16              /* with sequence and ack */
#define L4_OFF (ETH_LEN + IP_LEN)
#define MAX_RUNS 31
#define CALL_ID_BASE 100
#define PEER_CALL_ID_BASE 5000

static const rte_be32_t local_addr = RTE_BE32(0xc0000201);  /* 192.0.2.1 */
static const rte_be32_t inside_host = RTE_BE32(0x0a000002); /* 10.0.0.2 */

struct sess {
	struct tunnel *t;
	struct pptp_session *s;
	rte_be32_t peer, client;
	/* the client: its sender towards us, its receiver of what we send */
	struct mppe_state peer_tx, peer_rx;
	uint32_t peer_seq;      /* next GRE sequence number the client sends */
	uint32_t expect_rx;     /* decrypt verification: next sequence number delivered */
	uint32_t expect_tx;     /* encrypt verification: next sequence number we send */
};

static struct {
	struct rte_mempool *pool;
	struct tunnel_table tt;
	struct tunnel_cache_entry cache[TUNNEL_CACHE_SIZE];
	struct reorder_ctx *rctx;
	struct reorder_sink sink;
	struct rte_mbuf *sink_pkts[BURST];
	struct pptp_conf conf;
	struct sess ss[MAX_SESS];
	unsigned nsess, size, runs;
	bool stateless;
	double ms;
	uint64_t hz;
	/* decrypt input: one round of wire frames and the sequence numbers they carry */
	uint8_t *wire;
	uint16_t wire_len;
	uint32_t wire_seq[ROUND];
	/* encrypt input: one round of inner packets (they do not depend on state) */
	uint8_t *inner;
	/* sink results */
	bool verify;
	uint64_t delivered, dropped, bad, rx_post_calls;
	/* the worker's post stage: packets after their windows, for rx_post_burst */
	struct tunnel *post_t[BURST];
	struct rte_mbuf *post_m[BURST];
	uint16_t npost;
	struct rte_mbuf *done[ROUND];
	unsigned ndone;
	uint16_t ip_id;
	unsigned next_call;
} B;

static void
die(const char *fmt, const char *what)
{
	fprintf(stderr, "bench_pptp: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n");
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, unsigned n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Time: a run's rate is packets per second of this thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so time other processes of this shared
 * machine took the CPU away is not counted; a worker owns its core. The
 * share of wall-clock time the thread was on a CPU is reported beside it.
 */
struct span {
	uint64_t cpu_ns, tsc;
};

static inline struct span
span_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (struct span){ (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, rte_rdtsc() };
}

static inline void
span_add(struct span *acc, struct span from)
{
	struct span to = span_now();

	acc->cpu_ns += to.cpu_ns - from.cpu_ns;
	acc->tsc += to.tsc - from.tsc;
}

/* One run's result. */
struct run {
	double pps;             /* per second of CPU time */
	double on_cpu;          /* CPU time / wall time */
};

static struct run
run_of(uint64_t pkts, struct span sp)
{
	double wall_ns = (double)sp.tsc * 1e9 / (double)B.hz;

	return (struct run){ (double)pkts * 1e9 / (double)sp.cpu_ns, (double)sp.cpu_ns / wall_ns };
}

/*
 * Profiling: with BENCH_PPTP_PERF_CTL / BENCH_PPTP_PERF_ACK naming the fifos of
 * `perf record -D -1 --control fifo:CTL,ACK`, samples are taken only inside
 * the timed rounds (not during EAL start-up, frame generation or checks).
 */
static int perf_ctl = -1, perf_ack = -1;

static void
perf_events(bool on)
{
	char ack[8];

	if (perf_ctl < 0)
		return;
	if (write(perf_ctl, on ? "enable\n" : "disable\n", on ? 7 : 8) < 0 || read(perf_ack, ack, sizeof(ack)) <= 0)
		die("%s", "perf control fifo");
}

/* ---- packets ---- */

/* An inner IPv4/UDP packet of size bytes whose payload depends on tag. */
static void
make_inner(uint8_t *p, unsigned size, rte_be32_t src, rte_be32_t dst, uint32_t tag)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + IP_LEN);

	pkt_ipv4_write_hdr(ip, 0, (uint16_t)size, (uint16_t)tag, 64, IPPROTO_UDP, src, dst);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(1000 + (tag & 1023)));
	udp->dst_port = RTE_BE16(9);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(size - IP_LEN));
	udp->dgram_cksum = 0;
	for (unsigned i = IP_LEN + 8; i < size; i++)
		p[i] = (uint8_t)(tag * 131u + i * 7u + (tag >> 8));
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The client's next round: ROUND frames, session k % nsess for frame k, each
 * Ethernet | IPv4 (client -> us, GRE) | GRE v1 (K S A, our call id, seq, ack)
 * | FF 03 00 FD | MPPE(00 21 | inner), encrypted by the client's sender.
 * Written here byte by byte, not with the driver's pptp_gre_write.
 */
static void
generate_round(void)
{
	static struct mppe_op ops[ROUND];
	const uint16_t ppp_len = (uint16_t)(4 + MPPE_HDR_LEN + 2 + B.size);

	B.wire_len = (uint16_t)(ETH_LEN + IP_LEN + GRE_LEN + ppp_len);
	for (unsigned k = 0; k < ROUND; k++) {
		struct sess *S = &B.ss[k % B.nsess];
		uint8_t *p = B.wire + (size_t)k * STRIDE, *g = p + L4_OFF, *ppp = g + GRE_LEN;
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
		uint32_t seq = S->peer_seq++;

		memset(eth, 0, sizeof(*eth));
		eth->dst_addr.addr_bytes[0] = 0x02;
		eth->src_addr.addr_bytes[0] = 0x02;
		eth->src_addr.addr_bytes[5] = (uint8_t)(k % B.nsess);
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		pkt_ipv4_write_hdr((struct rte_ipv4_hdr *)(p + ETH_LEN), 0, (uint16_t)(B.wire_len - ETH_LEN),
				   (uint16_t)k, 64, IPPROTO_GRE, S->peer, local_addr);
		g[0] = 0x30;            /* K, S */
		g[1] = 0x81;            /* A, version 1 */
		wr16(g + 2, 0x880b);
		wr16(g + 4, ppp_len);
		wr16(g + 6, S->s->call_id);
		wr32(g + 8, seq);
		wr32(g + 12, seq / 2);  /* an ack of something we sent */
		ppp[0] = 0xff;
		ppp[1] = 0x03;
		ppp[2] = 0x00;
		ppp[3] = 0xfd;
		ppp[4 + MPPE_HDR_LEN] = 0x00;
		ppp[4 + MPPE_HDR_LEN + 1] = 0x21;
		make_inner(ppp + 4 + MPPE_HDR_LEN + 2, B.size, S->client, inside_host,
			   (uint32_t)(k % B.nsess) << 24 | (seq & 0xffffff));
		B.wire_seq[k] = seq;
		ops[k] = (struct mppe_op){ .st = &S->peer_tx, .pkt = ppp + 4, .len = MPPE_HDR_LEN + 2 + B.size };
	}
	/* Each session's frames in order; sessions interleaved (lib/crypto's burst engine). */
	if (mppe_encrypt_burst(ops, ROUND) != ROUND)
		die("%s", "the client's MPPE sender refused a packet");
}

/* ---- sessions ---- */

static void
keys_for(unsigned i, uint8_t server_send[16], uint8_t server_recv[16], uint8_t client_send[16],
	 uint8_t client_recv[16])
{
	uint8_t master[16];

	/* A master key per session (RFC 3079 3.4's output); the start keys as MS-CHAPv2 gives them. */
	for (unsigned b = 0; b < 16; b++)
		master[b] = (uint8_t)(0xd5 ^ (b * 17) ^ (i * 29));
	mppe_start_key(master, 16, true, true, server_send);
	mppe_start_key(master, 16, false, true, server_recv);
	mppe_start_key(master, 16, true, false, client_send);
	mppe_start_key(master, 16, false, false, client_recv);
	if (memcmp(server_send, client_recv, 16) != 0 || memcmp(server_recv, client_send, 16) != 0)
		die("%s", "RFC 3079 start keys: the client's and the server's do not pair up");
}

static void
sessions_open(unsigned nsess, bool stateless)
{
	B.nsess = nsess;
	B.stateless = stateless;
	memset(B.cache, 0, sizeof(B.cache));
	for (unsigned i = 0; i < nsess; i++) {
		struct sess *S = &B.ss[i];
		uint8_t ss_[16], sr[16], cs[16], cr[16];
		uint16_t call_id = (uint16_t)(CALL_ID_BASE + B.next_call++ % 60000);

		memset(S, 0, sizeof(*S));
		S->peer = rte_cpu_to_be_32(0xc6120000u + 10 + i);      /* 198.18.0.10 + i */
		S->client = rte_cpu_to_be_32(0x0a630000u + 2 + i);     /* 10.99.0.2 + i */
		/* What pptp_call_open does for an Outgoing-Call-Request, then the app's session_add. */
		S->t = pptp_session_new(&B.conf, local_addr, S->peer, call_id, (uint16_t)(PEER_CALL_ID_BASE + i),
					64, 1000000 + call_id);
		if (S->t == NULL)
			die("%s", "pptp_session_new failed");
		S->s = S->t->priv;
		if (reorder_window_init(B.rctx, &S->t->reorder, &S->t->reorder_conf) < 0 ||
		    tunnel_table_add(&B.tt, S->t) < 0 ||
		    tunnel_table_route_add(&B.tt, S->t, S->client, 32) < 0)
			die("%s", "session into the tunnel table failed");
		/* CCP opened MPPE-128 (call.c's mppe_publish), then IPCP (ppp_up). */
		keys_for(i, ss_, sr, cs, cr);
		pptp_session_mppe_start(S->s, ss_, sr, 128, stateless);
		__atomic_store_n(&S->s->ip_up, 1, __ATOMIC_RELEASE);
		/* The client's side. */
		mppe_state_init(&S->peer_tx, MPPE_DIR_TX, cs, 128, stateless);
		mppe_state_init(&S->peer_rx, MPPE_DIR_RX, cr, 128, stateless);
	}
}

static void
sessions_close(void)
{
	for (unsigned i = 0; i < B.nsess; i++) {
		struct tunnel *t = B.ss[i].t;

		tunnel_table_remove(&B.tt, t);
		reorder_free(B.rctx, &t->reorder);
		rte_free(t);
	}
	B.nsess = 0;
}

/* ---- decrypt-and-deliver ---- */

static void
check_delivered(struct tunnel *t, struct rte_mbuf *m)
{
	const struct pptp_session *s = t->priv;
	struct sess *S = NULL;
	uint8_t want[2048];

	for (unsigned i = 0; i < B.nsess; i++)
		if (B.ss[i].s == s)
			S = &B.ss[i];
	if (S == NULL)
		die("%s", "delivered on an unknown session");
	make_inner(want, B.size, S->client, inside_host,
		   (uint32_t)(S - B.ss) << 24 | (S->expect_rx & 0xffffff));
	S->expect_rx++;
	if (m->nb_segs != 1 || rte_pktmbuf_pkt_len(m) != B.size ||
	    memcmp(rte_pktmbuf_mtod(m, const uint8_t *), want, B.size) != 0)
		B.bad++;
}

/* What the worker's post_stage_flush does: rx_post_burst over the staged packets, then delivery. */
static void
post_flush(void)
{
	enum drop_reason r[BURST];

	if (B.npost == 0)
		return;
	B.rx_post_calls++;
	pptp_ops.rx_post_burst(B.post_t, B.post_m, r, B.npost);
	for (uint16_t i = 0; i < B.npost; i++) {
		if (r[i] == DROP_MAX) {
			B.delivered++;
			if (B.verify)
				check_delivered(B.post_t[i], B.post_m[i]);
			B.done[B.ndone++] = B.post_m[i];
		} else if (r[i] != TUNNEL_RX_TAKEN) {
			B.dropped++;
			B.done[B.ndone++] = B.post_m[i];
		} else {
			B.dropped++;        /* a data frame must not become control */
		}
	}
	B.npost = 0;
}

/* The window's sink: what the worker's reorder_deliver does, staging runs of all sessions. */
static void
sink_deliver(struct reorder_window *win, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	struct tunnel *t = container_of(win, struct tunnel, reorder);

	(void)arg;
	for (uint16_t i = 0; i < n; i++) {
		B.post_t[B.npost] = t;
		B.post_m[B.npost++] = pkts[i];
		if (B.npost == pptp_ops.burst_max)
			post_flush();
	}
}

/* One round of the client's frames through the data path. */
static void
decrypt_round(void)
{
	struct rte_mbuf *m[BURST];

	for (unsigned b = 0; b < ROUND; b += BURST) {
		uint64_t now;

		if (rte_pktmbuf_alloc_bulk(B.pool, m, BURST) != 0)
			die("%s", "mempool empty");
		for (unsigned i = 0; i < BURST; i++)
			rte_memcpy(rte_pktmbuf_append(m[i], B.wire_len), B.wire + (size_t)(b + i) * STRIDE,
				   B.wire_len);
		now = clock_now();
		B.ndone = 0;
		for (unsigned i = 0; i < BURST; i++) {
			const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m[i], const struct rte_ipv4_hdr *,
										ETH_LEN);
			struct tunnel_rx rx = { .has_seq = false };
			struct tunnel_key k;
			struct tunnel *t;
			int rc;

			memset(&k, 0, sizeof(k));
			rc = pptp_ops.classify(m[i], ip, L4_OFF, &k);
			t = rc == DROP_MAX ? tunnel_table_lookup_cached(&B.tt, B.cache, &k) : NULL;
			if (t == NULL || t->ops->decap(t, m[i], L4_OFF, &rx) != DROP_MAX || !rx.has_seq ||
			    rx.late_drop) {
				B.dropped++;
				B.done[B.ndone++] = m[i];
				continue;
			}
			reorder_push(B.rctx, &t->reorder, rx.seq, m[i], now, &B.sink);
		}
		reorder_sink_flush(&B.sink);
		post_flush();
		rte_pktmbuf_free_bulk(B.done, B.ndone);
	}
}

static void
decrypt_verify_round(const char *when)
{
	uint64_t d0 = B.delivered;

	B.verify = true;
	B.bad = 0;
	B.dropped = 0;
	for (unsigned i = 0; i < B.nsess; i++)
		B.ss[i].expect_rx = B.wire_seq[i];
	decrypt_round();
	B.verify = false;
	if (B.delivered - d0 != ROUND || B.bad != 0 || B.dropped != 0) {
		fprintf(stderr, "bench_pptp: decrypt verification %s: %lu of %u delivered, %lu wrong, %lu dropped\n",
			when, (unsigned long)(B.delivered - d0), ROUND, (unsigned long)B.bad,
			(unsigned long)B.dropped);
		exit(1);
	}
}

/* One run of decrypt-and-deliver: timed rounds for about ms of CPU time, a fresh round before each. */
static struct run
decrypt_run(double ms)
{
	struct span sp = { 0, 0 };
	uint64_t pkts = 0;

	while ((double)sp.cpu_ns < ms * 1e6) {
		uint64_t d0 = B.delivered;
		struct span t0;

		generate_round();       /* not timed */
		B.dropped = 0;
		perf_events(true);
		t0 = span_now();
		decrypt_round();
		span_add(&sp, t0);
		perf_events(false);
		pkts += ROUND;
		if (B.delivered - d0 != ROUND || B.dropped)
			die("%s", "a timed decrypt round did not deliver every packet");
	}
	return run_of(pkts, sp);
}

/* ---- encrypt-and-send ---- */

static void
generate_inner(void)
{
	for (unsigned k = 0; k < ROUND; k++) {
		struct sess *S = &B.ss[k % B.nsess];

		make_inner(B.inner + (size_t)k * STRIDE, B.size, inside_host, S->client, k);
	}
}

/* What the client makes of one of our packets (m at the outer IPv4 header, inner packet k). */
static bool
check_sent(struct rte_mbuf *m, struct tunnel *t, unsigned k)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *), *g = p + IP_LEN;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;
	struct sess *S = NULL;
	uint16_t gl, plen;
	struct mppe_op op;
	uint8_t buf[2048];

	for (unsigned i = 0; i < B.nsess; i++)
		if (B.ss[i].t == t)
			S = &B.ss[i];
	if (S == NULL || m->nb_segs != 1 || rte_pktmbuf_pkt_len(m) < IP_LEN + 12 + 4 + MPPE_HDR_LEN + 2 + B.size)
		return false;
	if (ip->version_ihl != 0x45 || ip->next_proto_id != IPPROTO_GRE || ip->src_addr != local_addr ||
	    ip->dst_addr != S->peer || rte_be_to_cpu_16(ip->total_length) != rte_pktmbuf_pkt_len(m) ||
	    rte_raw_cksum(ip, IP_LEN) != 0xffff)
		return false;
	/* GRE v1: K and S set, A optional, version 1, our peer's call id, consecutive numbers. */
	if (g[0] != 0x30 || (g[1] & 0x7f) != 0x01 || g[2] != 0x88 || g[3] != 0x0b ||
	    (uint16_t)(g[6] << 8 | g[7]) != S->s->peer_call_id || rd32(g + 8) != S->expect_tx)
		return false;
	S->expect_tx++;
	gl = (g[1] & 0x80) ? 16 : 12;
	plen = (uint16_t)(g[4] << 8 | g[5]);
	if (plen != rte_pktmbuf_pkt_len(m) - IP_LEN - gl || plen != 4 + MPPE_HDR_LEN + 2 + B.size)
		return false;
	if (memcmp(g + gl, "\xff\x03\x00\xfd", 4) != 0)
		return false;
	memcpy(buf, g + gl + 4, plen - 4u);
	op = (struct mppe_op){ .st = &S->peer_rx, .pkt = buf, .len = plen - 4u };
	if (mppe_decrypt_burst(&op, 1) != 1 || buf[2] != 0x00 || buf[3] != 0x21)
		return false;
	return memcmp(buf + 4, B.inner + (size_t)k * STRIDE, B.size) == 0;
}

static void
encrypt_round(bool verify, uint64_t *ok)
{
	struct rte_mbuf *m[BURST];
	struct tunnel *t[BURST];
	enum drop_reason r[BURST];

	for (unsigned b = 0; b < ROUND; b += BURST) {
		for (;;)
			if (rte_pktmbuf_alloc_bulk(B.pool, m, BURST) == 0)
				break;
		for (unsigned i = 0; i < BURST; i++)
			rte_memcpy(rte_pktmbuf_append(m[i], (uint16_t)B.size), B.inner + (size_t)(b + i) * STRIDE,
				   B.size);
		for (unsigned i = 0; i < BURST; i++)
			t[i] = tunnel_table_route(&B.tt, rte_pktmbuf_mtod(m[i], const struct rte_ipv4_hdr *)->dst_addr);
		t[0]->ops->encap_burst(t, m, r, BURST);
		for (unsigned i = 0; i < BURST; i++) {
			struct rte_ipv4_hdr *outer;

			if (r[i] != DROP_MAX)
				continue;
			outer = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m[i], sizeof(*outer));
			if (outer == NULL)
				continue;
			pkt_ipv4_write_hdr(outer, 0, (uint16_t)rte_pktmbuf_pkt_len(m[i]), B.ip_id++, t[i]->ttl,
					   t[i]->ops->ip_proto, t[i]->local, t[i]->peer);
			if (!verify || check_sent(m[i], t[i], b + i))
				(*ok)++;
		}
		rte_pktmbuf_free_bulk(m, BURST);
	}
}

static void
encrypt_verify_round(const char *when)
{
	uint64_t ok = 0;

	encrypt_round(true, &ok);
	if (ok != ROUND) {
		fprintf(stderr, "bench_pptp: encrypt verification %s: %lu of %u packets right\n", when,
			(unsigned long)ok, ROUND);
		exit(1);
	}
}

static struct run
encrypt_run(double ms)
{
	struct span sp = { 0, 0 };
	uint64_t pkts = 0, ok = 0;

	while ((double)sp.cpu_ns < ms * 1e6) {
		struct span t0;

		perf_events(true);
		t0 = span_now();
		encrypt_round(false, &ok);
		span_add(&sp, t0);
		perf_events(false);
		pkts += ROUND;
	}
	if (ok != pkts)
		die("%s", "a timed encrypt round did not encapsulate every packet");
	return run_of(pkts, sp);
}

static void
encrypt_verify_start(void)
{
	generate_inner();
	for (unsigned i = 0; i < B.nsess; i++)
		B.ss[i].expect_tx = B.ss[i].s->tx_seq;
	encrypt_verify_round("before the timed runs");
}

/* The client in step with what we sent meanwhile: its receiver takes our sender's state. */
static void
encrypt_verify_end(void)
{
	for (unsigned i = 0; i < B.nsess; i++) {
		struct sess *S = &B.ss[i];

		S->peer_rx = S->s->mppe_tx;
		S->peer_rx.dir = MPPE_DIR_RX;
		S->peer_rx.flush = 0;
		S->expect_tx = S->s->tx_seq;
	}
	encrypt_verify_round("after the timed runs");
}

/* ---- ceilings ---- */

struct ceil {
	struct arc4_state rc4[MAX_SESS];
	struct mppe_state st[MAX_SESS];
	struct arc4_job jobs[BURST];
	struct mppe_op ops[BURST];
	uint16_t cc[MAX_SESS];
	uint8_t buf[BURST][STRIDE];
	int kind;
};

enum { C_ARC4, C_MPPE_ENC, C_MPPE_DEC, C_MPPE_DEC_RUNS, C_HARNESS_RX, C_HARNESS_TX, C_COUNT };
static const char *const ceil_names[C_COUNT] = { "arc4", "mppe_encrypt", "mppe_decrypt", "mppe_decrypt_runs",
						 "harness_rx", "harness_tx" };

/* Valid MPPE headers for the next count of each op's session (the contents stay whatever they are). */
static void
next_headers(struct ceil *c)
{
	for (unsigned k = 0; k < BURST; k++) {
		unsigned i = k % B.nsess;
		uint16_t cc = c->cc[i] = (uint16_t)((c->cc[i] + 1) & MPPE_CCOUNT_MASK);
		uint8_t bits = MPPE_BIT_ENCRYPTED;

		if (B.stateless || (cc & 0xff) == 0xff)
			bits |= MPPE_BIT_FLUSHED;
		mppe_hdr_encode(c->buf[k], bits, cc);
	}
}

static void
ceil_once(struct ceil *c)
{
	struct rte_mbuf *m[BURST];
	unsigned ok, from;

	switch (c->kind) {
	case C_ARC4:
		arc4_crypt_burst(c->jobs, BURST);
		break;
	case C_MPPE_ENC:
		if (mppe_encrypt_burst(c->ops, BURST) != BURST)
			die("%s", "mppe_encrypt_burst refused a packet");
		break;
	case C_MPPE_DEC:
		next_headers(c);
		if (mppe_decrypt_burst(c->ops, BURST) != BURST)
			die("%s", "mppe_decrypt_burst refused a packet");
		break;
	case C_MPPE_DEC_RUNS:
		next_headers(c);
		ok = 0;
		from = 0;
		for (unsigned k = 1; k <= BURST; k++)
			if (k == BURST || c->ops[k].st != c->ops[from].st) {
				ok += mppe_decrypt_burst(c->ops + from, k - from);
				from = k;
			}
		if (ok != BURST)
			die("%s", "mppe_decrypt_burst refused a packet");
		break;
	case C_HARNESS_RX:
	case C_HARNESS_TX:
		if (rte_pktmbuf_alloc_bulk(B.pool, m, BURST) != 0)
			die("%s", "mempool empty");
		for (unsigned i = 0; i < BURST; i++) {
			if (c->kind == C_HARNESS_RX)
				rte_memcpy(rte_pktmbuf_append(m[i], B.wire_len), B.wire + (size_t)i * STRIDE,
					   B.wire_len);
			else
				rte_memcpy(rte_pktmbuf_append(m[i], (uint16_t)B.size), B.inner + (size_t)i * STRIDE,
					   B.size);
		}
		rte_pktmbuf_free_bulk(m, BURST);
		break;
	}
}

static void
ceil_setup(struct ceil *c, int kind)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	for (unsigned i = 0; i < B.nsess; i++) {
		uint8_t ss_[16], sr[16], cs[16], cr[16];

		keys_for(i, ss_, sr, cs, cr);
		arc4_set_key(&c->rc4[i], ss_, 16);
		mppe_state_init(&c->st[i], kind == C_MPPE_ENC ? MPPE_DIR_TX : MPPE_DIR_RX, ss_, 128, B.stateless);
		c->cc[i] = MPPE_CCOUNT_MASK;
	}
	for (unsigned k = 0; k < BURST; k++) {
		c->jobs[k] = (struct arc4_job){ &c->rc4[k % B.nsess], c->buf[k], c->buf[k], B.size + 2 };
		c->ops[k] = (struct mppe_op){ .st = &c->st[k % B.nsess], .pkt = c->buf[k],
					      .len = MPPE_HDR_LEN + 2 + B.size };
	}
}

/* One run of a ceiling: bursts of 32 for about ms of CPU time. */
static struct run
ceil_run(struct ceil *c, double ms)
{
	struct span sp = { 0, 0 };
	uint64_t pkts = 0;

	while ((double)sp.cpu_ns < ms * 1e6) {
		struct span t0 = span_now();

		for (unsigned n = 0; n < 64; n++)
			ceil_once(c);
		span_add(&sp, t0);
		pkts += 64 * BURST;
	}
	return run_of(pkts, sp);
}

/* ---- cases ---- */

static const char *
no_key(const struct tunnel_conf *c, const char *key)
{
	(void)c;
	(void)key;
	return NULL;
}

static int
conf_error(const struct tunnel_conf *c, const char *key, const char *fmt, ...)
{
	(void)c;
	(void)fmt;
	fprintf(stderr, "bench_pptp: [pptp] %s: bad default\n", key);
	return -1;
}

struct bcase {
	bool stateless;
	unsigned size, nsess;
};

static int
parse_case(const char *s, struct bcase *c)
{
	char mode[16];

	if (sscanf(s, "%15[a-z]:%u:%u", mode, &c->size, &c->nsess) != 3)
		return -1;
	if (strcmp(mode, "stateless") == 0)
		c->stateless = true;
	else if (strcmp(mode, "stateful") == 0)
		c->stateless = false;
	else
		return -1;
	if (c->size < 28 || c->size > 1400 || c->nsess == 0 || c->nsess > MAX_SESS)
		return -1;
	return 0;
}

enum { M_DECRYPT, M_ENCRYPT, M_CEIL, M_COUNT = M_CEIL + C_COUNT };

static double
ratio_median(const struct run *a, const struct run *b, unsigned n)
{
	double q[MAX_RUNS];

	for (unsigned r = 0; r < n; r++)
		q[r] = a[r].pps / b[r].pps;
	return median(q, n);
}

/*
 * One case: verification rounds, then B.runs rounds in which every
 * measurement (the two directions and the ceilings) takes one run of B.ms,
 * in a rotating order, so a slow moment of the shared machine falls on all
 * of them alike; ratios are taken run by run, then the median.
 */
static void
run_case(const struct bcase *c, const char *only, double seconds)
{
	static struct ceil ceils[C_COUNT];
	static struct run res[M_COUNT][MAX_RUNS];
	double med[M_COUNT] = { 0 }, oncpu[M_COUNT] = { 0 };
	const unsigned runs = only ? 1 : B.runs;
	uint64_t calls0, deliv0;

	B.size = c->size;
	sessions_open(c->nsess, c->stateless);
	generate_round();
	decrypt_verify_round("before the timed runs");
	encrypt_verify_start();
	for (int k = 0; k < C_COUNT; k++)
		ceil_setup(&ceils[k], k);
	calls0 = B.rx_post_calls;
	deliv0 = B.delivered;
	for (unsigned r = 0; r < runs; r++)
		for (unsigned j = 0; j < M_COUNT; j++) {
			unsigned m = (j + r) % M_COUNT;

			if (only != NULL && m != (strcmp(only, "decrypt") == 0 ? M_DECRYPT : M_ENCRYPT))
				continue;
			res[m][r] = m == M_DECRYPT ? decrypt_run(only ? seconds * 1e3 : B.ms)
				  : m == M_ENCRYPT ? encrypt_run(only ? seconds * 1e3 : B.ms)
						   : ceil_run(&ceils[m - M_CEIL], B.ms);
		}
	calls0 = B.rx_post_calls - calls0;
	deliv0 = B.delivered - deliv0;
	generate_round();
	decrypt_verify_round("after the timed runs");
	encrypt_verify_end();
	for (unsigned m = 0; m < M_COUNT; m++) {
		double v[MAX_RUNS], o[MAX_RUNS];

		for (unsigned r = 0; r < runs; r++) {
			v[r] = res[m][r].pps;
			o[r] = res[m][r].on_cpu;
		}
		med[m] = median(v, runs);
		oncpu[m] = median(o, runs);
	}
	printf("{\"mode\":\"%s\",\"inner_bytes\":%u,\"sessions\":%u,\"burst\":%u,\"runs\":%u,\"ms_per_run\":%.0f,"
	       "\"arc4\":\"%s\",\"sha1\":\"%s\",\"decrypt_pps\":%.0f,\"encrypt_pps\":%.0f",
	       c->stateless ? "stateless" : "stateful", c->size, c->nsess, BURST, runs,
	       only ? seconds * 1e3 : B.ms, arc4_selected(), mppe_sha1_selected(), med[M_DECRYPT], med[M_ENCRYPT]);
	for (int k = 0; k < C_COUNT; k++)
		printf(",\"%s_pps\":%.0f", ceil_names[k], med[M_CEIL + k]);
	if (only == NULL) {
		printf(",\"ratio_decrypt_arc4\":%.4f,\"ratio_decrypt_mppe\":%.4f,\"ratio_decrypt_mppe_runs\":%.4f,"
		       "\"ratio_encrypt_arc4\":%.4f,\"ratio_encrypt_mppe\":%.4f",
		       ratio_median(res[M_DECRYPT], res[M_CEIL + C_ARC4], runs),
		       ratio_median(res[M_DECRYPT], res[M_CEIL + C_MPPE_DEC], runs),
		       ratio_median(res[M_DECRYPT], res[M_CEIL + C_MPPE_DEC_RUNS], runs),
		       ratio_median(res[M_ENCRYPT], res[M_CEIL + C_ARC4], runs),
		       ratio_median(res[M_ENCRYPT], res[M_CEIL + C_MPPE_ENC], runs));
	}
	printf(",\"on_cpu_decrypt\":%.3f,\"on_cpu_encrypt\":%.3f", oncpu[M_DECRYPT], oncpu[M_ENCRYPT]);
	/* Every packet passed its verification rounds (or the process exited 1). */
	printf(",\"decrypt_pkts_per_rx_post\":%.2f,\"verified\":true}\n",
	       calls0 ? (double)deliv0 / (double)calls0 : 0.0);
	fflush(stdout);
	sessions_close();
}

int
main(int argc, char **argv)
{
	static const struct bcase all[] = {
		{ true, 64, 1 }, { true, 64, 64 }, { true, 1400, 1 }, { true, 1400, 64 },
		{ false, 64, 1 }, { false, 64, 64 }, { false, 1400, 1 }, { false, 1400, 64 },
	};
	struct bcase cases[32];
	unsigned ncases = 0;
	const char *only = NULL;
	double seconds = 0;
	char prefix[64], lcores[16] = "-l 1";
	int opt;

	B.runs = 7;
	B.ms = 100;
	while ((opt = getopt(argc, argv, "r:t:c:p:s:l:")) != -1) {
		switch (opt) {
		case 'r':
			B.runs = (unsigned)atoi(optarg);
			break;
		case 't':
			B.ms = atof(optarg);
			break;
		case 'c':
			if (ncases == RTE_DIM(cases) || parse_case(optarg, &cases[ncases]) < 0)
				die("bad case '%s' (stateless|stateful:bytes:sessions, bytes 28..1400, 1..64 sessions)",
				    optarg);
			ncases++;
			break;
		case 'p':
			only = optarg;
			if (strcmp(only, "decrypt") != 0 && strcmp(only, "encrypt") != 0)
				die("-p %s: decrypt or encrypt", optarg);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'l':
			snprintf(lcores, sizeof(lcores), "-l %d", atoi(optarg));
			break;
		default:
			die("%s", "usage: bench_pptp [-r runs] [-t ms] [-l lcore] [-c mode:bytes:sessions]... "
				  "[-p decrypt|encrypt -s seconds]");
		}
	}
	if (B.runs == 0 || B.runs > MAX_RUNS || B.ms <= 0)
		die("%s", "-r 1..31, -t > 0");
	if (only != NULL && (seconds <= 0 || ncases != 1))
		die("%s", "-p needs -s seconds and exactly one -c");
	if (getenv("BENCH_PPTP_PERF_CTL") != NULL && getenv("BENCH_PPTP_PERF_ACK") != NULL) {
		perf_ctl = open(getenv("BENCH_PPTP_PERF_CTL"), O_WRONLY);
		perf_ack = open(getenv("BENCH_PPTP_PERF_ACK"), O_RDONLY);
		if (perf_ctl < 0 || perf_ack < 0)
			die("%s", "cannot open the perf control fifos");
	}
	if (ncases == 0) {
		memcpy(cases, all, sizeof(all));
		ncases = RTE_DIM(all);
	}

	snprintf(prefix, sizeof(prefix), "--file-prefix=bench_pptp_%d", (int)getpid());
	char *eal[] = { argv[0], lcores, "--no-huge", "--no-pci", "-m", "512", prefix, "--log-level=error",
			"--no-telemetry" };
	if (rte_eal_init(RTE_DIM(eal), eal) < 0)
		die("rte_eal_init: %s", rte_strerror(rte_errno));
	B.hz = rte_get_tsc_hz();
	clock_init(B.hz);
	/* Enough for a burst in flight plus the per-lcore cache, as the worker's pool. */
	B.pool = rte_pktmbuf_pool_create("bench_pptp", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	B.wire = rte_malloc("wire", (size_t)ROUND * STRIDE, 64);
	B.inner = rte_malloc("inner", (size_t)ROUND * STRIDE, 64);
	struct reorder_ctx_conf rc = {
		.defaults = { .size = REORDER_DEFAULT_SIZE, .hold_us = REORDER_DEFAULT_HOLD_US },
		.hz = B.hz,
		.socket_id = SOCKET_ID_ANY,
	};
	B.rctx = reorder_ctx_create(&rc);
	if (B.pool == NULL || B.wire == NULL || B.inner == NULL || B.rctx == NULL ||
	    tunnel_table_init(&B.tt, "bench_pptp", 1024, 1024, SOCKET_ID_ANY) < 0)
		die("%s", "setup failed (mempool, buffers, reorder pool or tunnel table)");
	reorder_sink_init(&B.sink, B.rctx, B.sink_pkts, BURST, sink_deliver, NULL);
	/* The [pptp] defaults: pptp_conf_parse of a section without keys, the template as config.c sets it. */
	struct tunnel_conf none = { .get = no_key, .error = conf_error };

	if (pptp_conf_parse(&B.conf, &none) < 0)
		die("%s", "pptp_conf_parse of the defaults failed");
	B.conf.template.sequenced = true;
	B.conf.template.mtu = B.conf.mtu;
	B.conf.template.ttl = 64;
	B.conf.template.reorder_mode = TUNNEL_REORDER_ON;

	for (unsigned i = 0; i < ncases; i++)
		run_case(&cases[i], only, seconds);
	rte_free(B.wire);
	rte_free(B.inner);
	tunnel_table_fini(&B.tt);
	reorder_ctx_free(B.rctx);
	rte_mempool_free(B.pool);
	rte_eal_cleanup();
	return 0;
}
