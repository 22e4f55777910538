/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/reorder unit tests: fake clock, a real DPDK mempool (EAL without hugepages),
 * every mbuf traced from push to its one fate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "clock.h"
#include "reorder.h"

#define HZ 1000000000ull /* fake clock: 1 tick = 1 ns */
#define MS(x) ((uint64_t)(x) * 1000000ull)

static int failures;
static const char *cur_test;

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, cur_test, #c); \
		failures++; \
		return; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
	if (a_ != b_) { \
		fprintf(stderr, "%s:%d: %s: %s == %llu, expected %s == %llu\n", __FILE__, __LINE__, \
			cur_test, #a, a_, #b, b_); \
		failures++; \
		return; \
	} \
} while (0)

static struct rte_mempool *pool;
static unsigned int pool_start;

/* ---- delivered-packet recorder ---- */

struct rec {
	uint32_t *seq;
	uint32_t *id;
	struct reorder_window **win;
	size_t n, cap;
	unsigned int calls;
};

static void
rec_reset(struct rec *r)
{
	r->n = 0;
	r->calls = 0;
}

static void
deliver(struct reorder_window *w, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	struct rec *r = arg;
	uint16_t i;

	r->calls++;
	for (i = 0; i < n; i++) {
		uint32_t *d = rte_pktmbuf_mtod(pkts[i], uint32_t *);

		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 4096;
			r->seq = realloc(r->seq, r->cap * sizeof(*r->seq));
			r->id = realloc(r->id, r->cap * sizeof(*r->id));
			r->win = realloc(r->win, r->cap * sizeof(*r->win));
		}
		r->seq[r->n] = d[0];
		r->id[r->n] = d[1];
		r->win[r->n] = w;
		r->n++;
		rte_pktmbuf_free(pkts[i]);
	}
}

/* ---- fixture ---- */

struct fx {
	struct reorder_ctx *ctx;
	struct reorder_window w;
	struct reorder_sink sink;
	struct rte_mbuf *arr[32];
	struct rec rec;
	uint32_t next_id;
	uint64_t pushed;
};

static struct rte_mbuf *
mk(struct fx *f, uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t *d;

	if (m == NULL) {
		fprintf(stderr, "mempool exhausted\n");
		exit(2);
	}
	d = (uint32_t *)rte_pktmbuf_append(m, 8);
	d[0] = seq;
	d[1] = f->next_id++;
	return m;
}

static void
push_w(struct fx *f, struct reorder_window *w, uint32_t seq)
{
	f->pushed++;
	reorder_push(f->ctx, w, seq, mk(f, seq), clock_now(), &f->sink);
}

static void
push(struct fx *f, uint32_t seq)
{
	push_w(f, &f->w, seq);
}

static void
flush_sink(struct fx *f)
{
	reorder_sink_flush(&f->sink);
}

static void
fx_init(struct fx *f, const struct reorder_ctx_conf *cc, const struct reorder_conf *wc)
{
	struct reorder_ctx_conf def = { .socket_id = SOCKET_ID_ANY };

	memset(f, 0, sizeof(*f));
	clock_use_fake(HZ, 1000 * HZ);
	f->ctx = reorder_ctx_create(cc ? cc : &def);
	if (f->ctx == NULL) {
		fprintf(stderr, "reorder_ctx_create: %s\n", rte_strerror(rte_errno));
		exit(2);
	}
	if (reorder_window_init(f->ctx, &f->w, wc) != 0) {
		fprintf(stderr, "reorder_window_init failed\n");
		exit(2);
	}
	reorder_sink_init(&f->sink, f->ctx, f->arr, RTE_DIM(f->arr), deliver, &f->rec);
}

static void
fx_fini(struct fx *f)
{
	flush_sink(f);
	reorder_free(f->ctx, &f->w);
	reorder_ctx_free(f->ctx);
	free(f->rec.seq);
	free(f->rec.id);
	free(f->rec.win);
}

static struct reorder_stats
st(const struct reorder_window *w)
{
	struct reorder_stats s;

	reorder_stats_read(w, &s);
	return s;
}

/* Every pushed packet has exactly one fate, or is still held. */
static bool
conserved(const struct reorder_window *w, uint64_t pushed)
{
	struct reorder_stats s = st(w);

	return s.accepted + s.under_window + s.duplicated + s.far_ahead + s.freed +
	       reorder_held(w) == pushed;
}

static bool
rec_is_range(const struct rec *r, uint32_t first, size_t n)
{
	size_t i;

	if (r->n != n)
		return false;
	for (i = 0; i < n; i++)
		if (r->seq[i] != (uint32_t)(first + i))
			return false;
	return true;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint32_t
rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void
shuffle(uint32_t *a, uint32_t n)
{
	uint32_t i;

	for (i = n; i > 1; i--) {
		uint32_t j = rnd_below(i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* ---- tests ---- */

static void
t_idle_cost(void)
{
	struct fx f;
	struct reorder_window *many;
	struct reorder_ctx_info info;
	uint32_t i, n = 100000;

	printf("  sizeof(struct reorder_window) = %zu bytes\n", sizeof(struct reorder_window));
	CHECK(sizeof(struct reorder_window) <= 128);
	fx_init(&f, NULL, NULL);
	many = calloc(n, sizeof(*many));
	CHECK(many != NULL);
	/* 100,000 tunnels carrying in-order traffic take no block at all. */
	for (i = 0; i < n; i++) {
		CHECK(reorder_window_init(f.ctx, &many[i], NULL) == 0);
		push_w(&f, &many[i], i * 7);
		push_w(&f, &many[i], i * 7 + 1);
	}
	flush_sink(&f);
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.blocks_allocated, 0);
	CHECK_EQ(f.rec.n, 2 * n);
	printf("  100000 idle tunnels: %zu bytes of windows, 0 blocks; one block = %u bytes\n",
	       n * sizeof(*many), info.block_bytes);
	free(many);
	fx_fini(&f);
}

static void
t_in_order(void)
{
	struct fx f;
	uint32_t i;
	struct reorder_ctx_info info;

	fx_init(&f, NULL, NULL);
	for (i = 0; i < 10000; i++)
		push(&f, 5000 + i);
	flush_sink(&f);
	CHECK(rec_is_range(&f.rec, 5000, 10000));
	CHECK_EQ(st(&f.w).accepted, 10000);
	CHECK_EQ(st(&f.w).buffered, 0);
	CHECK_EQ(st(&f.w).lost, 0);
	CHECK(conserved(&f.w, f.pushed));
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.blocks_allocated, 0);
	fx_fini(&f);
}

/* Shuffle inside chunks of `chunk` packets: all delivered, in order, nothing lost. */
static void
permute_within(uint32_t chunk, uint32_t base)
{
	struct fx f;
	uint32_t n = 20 * chunk, i, c;
	uint32_t *a = malloc(n * sizeof(*a));

	fx_init(&f, NULL, NULL);
	for (i = 0; i < n; i++)
		a[i] = base + i;
	for (c = 0; c < n; c += chunk)
		shuffle(a + c + (c == 0), chunk - (c == 0)); /* first packet syncs */
	for (i = 0; i < n; i++) {
		push(&f, a[i]);
		clock_fake_advance(1000);
	}
	flush_sink(&f);
	free(a);
	CHECK(rec_is_range(&f.rec, base, n));
	CHECK_EQ(st(&f.w).accepted, n);
	CHECK_EQ(st(&f.w).lost, 0);
	CHECK(st(&f.w).buffered > 0);
	CHECK_EQ(reorder_held(&f.w), 0);
	CHECK_EQ(reorder_next_seq(&f.w), base + n);
	fx_fini(&f);
}

static void
t_permute_within(void)
{
	permute_within(32, 100);
	permute_within(256, 0);
	permute_within(2048, 7);
}

/* Displacements larger than the window: the window slides, gives up what it
 * must, and still never delivers out of order. */
static void
t_permute_beyond(void)
{
	struct reorder_conf wc = { .size = 64 };
	struct fx f;
	uint32_t n = 4096, i;
	uint32_t *a = malloc(n * sizeof(*a));
	struct reorder_stats s;

	fx_init(&f, NULL, &wc);
	for (i = 0; i < n; i++)
		a[i] = i;
	shuffle(a + 1, 255); /* 4x the window */
	for (i = 256; i + 200 <= n; i += 200)
		shuffle(a + i, 200);
	push(&f, 0);
	for (i = 1; i < n; i++)
		push(&f, a[i]);
	reorder_flush(f.ctx, &f.w, &f.sink);
	flush_sink(&f);
	free(a);
	for (i = 1; i < f.rec.n; i++)
		CHECK((int32_t)(f.rec.seq[i] - f.rec.seq[i - 1]) > 0);
	s = st(&f.w);
	CHECK(s.lost > 0);
	CHECK_EQ(s.resyncs, 0);
	CHECK(conserved(&f.w, f.pushed));
	/* edge identity: every number the edge passed was delivered or given up */
	CHECK_EQ(reorder_next_seq(&f.w), s.accepted + s.lost);
	/* a number given up arrives later as under_window, or not at all */
	CHECK(s.under_window + s.far_ahead <= s.lost);
	fx_fini(&f);
}

static void
t_duplicates(void)
{
	struct fx f;
	struct reorder_stats s;

	fx_init(&f, NULL, NULL);
	push(&f, 10);
	push(&f, 10);           /* copy of a delivered packet, no block: clean_from rule */
	CHECK_EQ(st(&f.w).duplicated, 1);
	push(&f, 13);
	push(&f, 13);           /* copy of a held packet */
	CHECK_EQ(st(&f.w).duplicated, 2);
	push(&f, 11);
	push(&f, 12);           /* delivers 11, 12, 13 */
	push(&f, 11);           /* copy of a delivered packet, with the block (bitmap) */
	push(&f, 13);
	CHECK_EQ(st(&f.w).duplicated, 4);
	flush_sink(&f);
	CHECK(rec_is_range(&f.rec, 10, 4));
	/* a given-up number arriving late is not a copy */
	push(&f, 16);
	clock_fake_advance(MS(400));
	push(&f, 17);           /* expires 14, 15 */
	push(&f, 14);
	push(&f, 16);           /* copy of a packet delivered after the gap */
	s = st(&f.w);
	CHECK_EQ(s.lost, 2);
	CHECK_EQ(s.under_window, 1);
	CHECK_EQ(s.duplicated, 5);
	/* exactly at the back edge of the window (2048 behind) still known */
	{
		uint32_t i;

		for (i = 18; i < 18 + 2048; i++)
			push(&f, i);
		flush_sink(&f); /* end of burst: the edge catches up */
		push(&f, 18);   /* next - 18 == 2048: inside the window */
		CHECK_EQ(st(&f.w).duplicated, 6);
		push(&f, 17);   /* 2049 behind: too old to know */
		CHECK_EQ(st(&f.w).under_window, 2);
	}
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);
}

static void
t_expiry_on_arrival(void)
{
	struct fx f;
	struct reorder_stats s;

	fx_init(&f, NULL, NULL);
	push(&f, 1);
	push(&f, 3);
	push(&f, 4);
	clock_fake_advance(MS(332));
	push(&f, 5);            /* not yet: 332 ms < 333 ms */
	flush_sink(&f);
	CHECK_EQ(f.rec.n, 1);
	clock_fake_advance(MS(1));
	push(&f, 6);            /* 333 ms since 3 arrived: give up 2 */
	flush_sink(&f);
	CHECK(rec_is_range(&f.rec, 1, 6) == false); /* 2 missing */
	CHECK_EQ(f.rec.n, 5);
	CHECK_EQ(f.rec.seq[1], 3);
	CHECK_EQ(f.rec.seq[4], 6);
	s = st(&f.w);
	CHECK_EQ(s.lost, 1);
	CHECK_EQ(s.buffered, 3);
	push(&f, 2);            /* late: under_window */
	CHECK_EQ(st(&f.w).under_window, 1);
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);
}

/* The hold of a gap starts when the first packet beyond it arrives, not when the
 * lowest held one did: no packet waits much longer than the hold time. */
static void
t_expiry_earliest_arrival(void)
{
	struct fx f;

	fx_init(&f, NULL, NULL);
	push(&f, 9);
	push(&f, 15);           /* t = 0: gap 10..14 known */
	clock_fake_advance(MS(200));
	push(&f, 12);           /* t = 200 */
	clock_fake_advance(MS(133));
	push(&f, 16);           /* t = 333: 15 has waited the hold: everything to 16 goes */
	flush_sink(&f);
	CHECK_EQ(f.rec.n, 4);
	CHECK_EQ(f.rec.seq[1], 12);
	CHECK_EQ(f.rec.seq[2], 15);
	CHECK_EQ(f.rec.seq[3], 16);
	CHECK_EQ(st(&f.w).lost, 4);
	CHECK_EQ(reorder_held(&f.w), 0);
	fx_fini(&f);
}

static void
t_expiry_by_sweep(void)
{
	struct fx f;
	struct reorder_window w2;
	struct reorder_ctx_info info;

	fx_init(&f, NULL, NULL);
	CHECK(reorder_window_init(f.ctx, &w2, NULL) == 0);
	push(&f, 100);
	push(&f, 102);
	push_w(&f, &w2, 7);
	push_w(&f, &w2, 9);
	push_w(&f, &w2, 10);
	flush_sink(&f);
	CHECK_EQ(f.rec.n, 2);
	clock_fake_advance(MS(300));
	reorder_sweep_all(f.ctx, clock_now(), &f.sink);
	flush_sink(&f);
	CHECK_EQ(f.rec.n, 2);   /* too early */
	clock_fake_advance(MS(40));
	reorder_sweep_all(f.ctx, clock_now(), &f.sink);
	flush_sink(&f);
	CHECK_EQ(f.rec.n, 5);   /* an idle tunnel does not sit on its packets */
	CHECK_EQ(reorder_held(&f.w), 0);
	CHECK_EQ(reorder_held(&w2), 0);
	/* each deliver call carried one window's packets, in order */
	CHECK(f.rec.win[2] == &f.w && f.rec.win[3] == &w2 && f.rec.win[4] == &w2);
	CHECK_EQ(st(&f.w).lost, 1);
	CHECK_EQ(st(&w2).lost, 1);
	/* quiet blocks go back to the pool after release_idle (1 s) */
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.blocks_in_use, 2);
	clock_fake_advance(MS(1100));
	reorder_sweep_all(f.ctx, clock_now(), &f.sink);
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.blocks_in_use, 0);
	/* the per-window sweep does the same */
	push(&f, 104);
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.blocks_in_use, 1);
	clock_fake_advance(MS(400));
	reorder_sweep(f.ctx, &f.w, clock_now(), &f.sink);
	CHECK_EQ(reorder_held(&f.w), 0);
	clock_fake_advance(MS(1100));
	reorder_sweep(f.ctx, &f.w, clock_now(), &f.sink);
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.blocks_in_use, 0);
	/* a copy of a packet delivered after the last loss is still recognised */
	push(&f, 104);
	CHECK_EQ(st(&f.w).duplicated, 1);
	reorder_free(f.ctx, &w2);
	fx_fini(&f);
}

static void
t_wrap(void)
{
	struct fx f;
	uint32_t base = 0xffffff00u, n = 512, i;
	uint32_t a[512];

	fx_init(&f, NULL, NULL);
	for (i = 0; i < n; i++)
		a[i] = base + i;
	for (i = 1; i + 32 <= n; i += 32)
		shuffle(a + i, 32);
	for (i = 0; i < n; i++)
		push(&f, a[i]);
	flush_sink(&f);
	CHECK(rec_is_range(&f.rec, base, n));
	CHECK_EQ(reorder_next_seq(&f.w), base + n);
	/* copies across the wrap */
	push(&f, 0xfffffffeu);
	push(&f, 0x00000001u);
	CHECK_EQ(st(&f.w).duplicated, 2);
	/* a gap right at the wrap, given up by expiry */
	fx_fini(&f);
	fx_init(&f, NULL, NULL);
	push(&f, 0xfffffffeu);
	push(&f, 0x00000001u);  /* gap 0xffffffff, 0 */
	push(&f, 0x00000000u);
	clock_fake_advance(MS(334));
	push(&f, 0x00000002u);
	flush_sink(&f);
	CHECK_EQ(f.rec.n, 4);
	CHECK_EQ(f.rec.seq[1], 0);
	CHECK_EQ(f.rec.seq[2], 1);
	CHECK_EQ(f.rec.seq[3], 2);
	CHECK_EQ(st(&f.w).lost, 1);
	push(&f, 0xffffffffu);
	CHECK_EQ(st(&f.w).under_window, 1);
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);
}

/* One forged number far ahead: dropped and counted; held packets stay, traffic flows. */
static void
t_forged_far_ahead(void)
{
	struct fx f;
	uint32_t i;
	struct reorder_stats s;

	fx_init(&f, NULL, NULL);
	push(&f, 1000);
	push(&f, 1002);         /* held */
	push(&f, 1000 + 5000);  /* forged, beyond the window */
	push(&f, 1001u + 0x80000010u); /* forged, over half the space away */
	s = st(&f.w);
	CHECK_EQ(s.far_ahead, 1);
	CHECK_EQ(s.under_window, 1); /* 2^31 away reads as behind */
	CHECK_EQ(reorder_held(&f.w), 1);
	push(&f, 1001);
	for (i = 1003; i < 1100; i++)
		push(&f, i);
	flush_sink(&f);
	CHECK(rec_is_range(&f.rec, 1000, 100));
	s = st(&f.w);
	CHECK_EQ(s.resyncs, 0);
	CHECK_EQ(s.lost, 0);
	/* two forged packets between legit ones never add up to evidence */
	for (i = 1100; i < 1200; i++) {
		push(&f, i);
		if (i % 10 == 0)
			push(&f, i + 100000);
	}
	CHECK_EQ(st(&f.w).resyncs, 0);
	CHECK_EQ(reorder_next_seq(&f.w), 1200);
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);
}

/* A forged number inside the window on a quiet tunnel: its gap expires and the
 * edge jumps. Returning legit traffic is behind the edge; after resync_after
 * consistent packets spanning a hold time the window follows it back. */
static void
t_forged_in_window_stall_recovers(void)
{
	struct fx f;
	uint32_t i, seq = 50;
	struct reorder_stats s;

	fx_init(&f, NULL, NULL);
	for (i = 0; i < 10; i++)
		push(&f, seq++);
	push(&f, seq + 2000);   /* forged, within the 2048 window */
	clock_fake_advance(MS(400));
	reorder_sweep(f.ctx, &f.w, clock_now(), &f.sink); /* gives up 2000 numbers */
	CHECK_EQ(st(&f.w).lost, 2000);
	/* legit traffic resumes 100 ms apart */
	for (i = 0; i < 10; i++) {
		push(&f, seq++);
		clock_fake_advance(MS(100));
	}
	s = st(&f.w);
	CHECK_EQ(s.resyncs, 1);
	CHECK(s.under_window <= 5); /* stall bounded by evidence count and a hold time */
	flush_sink(&f);
	CHECK_EQ(f.rec.seq[f.rec.n - 1], seq - 1);
	CHECK_EQ(reorder_next_seq(&f.w), seq);
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);
}

/* The peer restarts its numbering: ahead (immediate after evidence) or behind
 * (after evidence lasting a hold time). */
static void
t_resync(void)
{
	struct fx f;
	uint32_t i;
	struct reorder_stats s;

	fx_init(&f, NULL, NULL);
	for (i = 0; i < 10; i++)
		push(&f, 3000000000u + i);
	push(&f, 3000000000u + 20); /* held across the resync: delivered first */
	for (i = 0; i < 10; i++)
		push(&f, 5 + i);    /* 0 - 3e9 mod 2^32 = 1.29e9 ahead */
	flush_sink(&f);
	s = st(&f.w);
	CHECK_EQ(s.resyncs, 1);
	CHECK_EQ(s.far_ahead, REORDER_DEFAULT_RESYNC - 1);
	CHECK_EQ(reorder_next_seq(&f.w), 15);
	CHECK_EQ(f.rec.seq[10], 3000000000u + 20);
	CHECK_EQ(f.rec.seq[11], 5 + REORDER_DEFAULT_RESYNC - 1);
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);

	fx_init(&f, NULL, NULL);
	for (i = 0; i < 10; i++)
		push(&f, 1000000000u + i);
	for (i = 0; i < 3; i++)
		push(&f, i);        /* behind: under_window, evidence not yet a hold long */
	CHECK_EQ(st(&f.w).resyncs, 0);
	clock_fake_advance(MS(340));
	push(&f, 3);
	s = st(&f.w);
	CHECK_EQ(s.resyncs, 1);
	CHECK_EQ(s.under_window, 3);
	push(&f, 4);
	CHECK_EQ(reorder_next_seq(&f.w), 5);
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);
}

/* Window full because of a long gap on a busy tunnel: slide, do not drop. */
static void
t_overflow_slide(void)
{
	struct reorder_conf wc = { .size = 256 };
	struct fx f;
	uint32_t i;
	struct reorder_stats s;

	fx_init(&f, NULL, &wc);
	push(&f, 0);
	for (i = 2; i < 256 + 50; i++)
		push(&f, i);
	flush_sink(&f);
	s = st(&f.w);
	CHECK_EQ(s.lost, 1);
	CHECK_EQ(s.far_ahead, 0);
	CHECK_EQ(f.rec.n, 256 + 49);
	CHECK_EQ(reorder_next_seq(&f.w), 256 + 50);
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);
}

static void
t_memory_cap(void)
{
	struct reorder_ctx_conf cc = { .max_blocks = 2, .socket_id = SOCKET_ID_ANY,
				       .release_idle_us = 500000 };
	struct fx f;
	struct reorder_window w[3];
	struct reorder_ctx_info info;
	struct reorder_stats s;
	int i;

	fx_init(&f, &cc, NULL);
	for (i = 0; i < 3; i++) {
		CHECK(reorder_window_init(f.ctx, &w[i], NULL) == 0);
		push_w(&f, &w[i], 100);
		push_w(&f, &w[i], 102); /* needs a block */
	}
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.blocks_allocated, 2);
	CHECK_EQ(info.nobuf, 1);
	s = st(&w[2]);
	CHECK_EQ(s.nobuf, 1);
	CHECK_EQ(s.accepted, 2); /* delivered at once, gap given up */
	CHECK_EQ(s.lost, 1);
	CHECK_EQ(reorder_held(&w[2]), 0);
	push_w(&f, &w[2], 101);
	CHECK_EQ(st(&w[2]).under_window, 1);
	/* the first two go quiet: a quiet block is reclaimed for the third */
	push_w(&f, &w[0], 101);
	push_w(&f, &w[1], 101);
	push_w(&f, &w[2], 105);
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.reclaimed, 1);
	CHECK_EQ(info.blocks_allocated, 2);
	CHECK_EQ(reorder_held(&w[2]), 1);
	for (i = 0; i < 3; i++) {
		CHECK(conserved(&w[i], i == 2 ? 4 : 3));
		reorder_free(f.ctx, &w[i]);
	}
	CHECK_EQ(st(&w[2]).freed, 1);
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.blocks_in_use, 0);
	fx_fini(&f);
}

static void
t_off_mode(void)
{
	struct reorder_conf wc = { .off = true };
	struct fx f;
	struct reorder_stats s;
	struct reorder_ctx_info info;

	fx_init(&f, NULL, &wc);
	push(&f, 1);
	push(&f, 3);
	push(&f, 2);            /* older than the last delivered: dropped like Linux */
	push(&f, 3);
	push(&f, 4);
	push(&f, 100000);       /* stock Linux follows any jump ahead */
	push(&f, 100001);
	flush_sink(&f);
	s = st(&f.w);
	CHECK_EQ(s.accepted, 5);
	CHECK_EQ(s.under_window, 2);
	CHECK_EQ(s.buffered, 0);
	CHECK_EQ(s.lost, 1 + (100000 - 5));
	CHECK_EQ(reorder_next_seq(&f.w), s.accepted + s.lost + 1);
	reorder_ctx_info(f.ctx, &info);
	CHECK_EQ(info.blocks_allocated, 0);
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);
}

/* Constant reorder delay d: the hold converges near 2.2 d, within its bounds. */
static void
t_adaptive(void)
{
	struct reorder_conf wc = { .adaptive = true, .hold_us = 100000, .hold_min_us = 2000 };
	struct fx f;
	uint32_t seq = 1, i;
	uint32_t h;

	fx_init(&f, NULL, &wc);
	/* Nothing measured yet: the shortest hold, not the longest. */
	CHECK_EQ(reorder_hold_us(f.ctx, &f.w), 2000);
	push(&f, seq++);
	/* Loss alone (gaps that never fill) is no delay variation: the hold stays at its floor. */
	for (i = 0; i < 20; i++) {
		push(&f, seq + 1);
		clock_fake_advance(MS(3));
		push(&f, seq + 2);      /* expires seq */
		seq += 3;
	}
	CHECK_EQ(reorder_hold_us(f.ctx, &f.w), 2000);
	for (i = 0; i < 200; i++) {
		push(&f, seq + 1);      /* the next packet arrives 5 ms late */
		clock_fake_advance(MS(5));
		push(&f, seq);
		seq += 2;
	}
	h = reorder_hold_us(f.ctx, &f.w);
	printf("  adaptive hold for 5 ms reorder delay: %u us\n", h);
	CHECK(h >= 10500 && h <= 12000);
	/* late arrivals after a give-up push the hold back up, never above the max */
	for (i = 0; i < 50; i++) {
		push(&f, seq + 1);
		clock_fake_advance(MS(200));
		push(&f, seq + 2);      /* expires seq */
		push(&f, seq);          /* too late */
		seq += 3;
	}
	h = reorder_hold_us(f.ctx, &f.w);
	printf("  after late arrivals: %u us\n", h);
	CHECK(h > 12000 && h <= 100000);
	/* small delays: floored at hold_min */
	for (i = 0; i < 300; i++) {
		push(&f, seq + 1);
		push(&f, seq);
		flush_sink(&f); /* one RX burst */
		seq += 2;
	}
	CHECK_EQ(reorder_hold_us(f.ctx, &f.w), 2000);
	CHECK(conserved(&f.w, f.pushed));
	fx_fini(&f);
}

/* A tiny sink and a release of a whole window at once. */
static void
t_big_release_small_sink(void)
{
	struct fx f;
	struct rte_mbuf *small[3];
	uint32_t i;

	fx_init(&f, NULL, NULL);
	reorder_sink_init(&f.sink, f.ctx, small, RTE_DIM(small), deliver, &f.rec);
	push(&f, 0);
	for (i = 2; i < 2048; i++)
		push(&f, i);
	flush_sink(&f);
	CHECK_EQ(f.rec.n, 1);
	CHECK_EQ(reorder_held(&f.w), 2046);
	push(&f, 1);            /* releases 2047 packets */
	flush_sink(&f);
	CHECK(rec_is_range(&f.rec, 0, 2048));
	CHECK(f.rec.calls >= 2048 / 3);
	fx_fini(&f);
}

static void
t_flush_and_free(void)
{
	struct fx f;
	struct reorder_stats s;

	fx_init(&f, NULL, NULL);
	push(&f, 1);
	push(&f, 3);
	push(&f, 5);
	push(&f, 6);
	reorder_flush(f.ctx, &f.w, &f.sink); /* teardown with delivery */
	flush_sink(&f);
	CHECK_EQ(f.rec.n, 4);
	CHECK_EQ(f.rec.seq[3], 6);
	s = st(&f.w);
	CHECK_EQ(s.lost, 2);
	CHECK_EQ(reorder_next_seq(&f.w), 7);
	push(&f, 7);            /* still in sync */
	push(&f, 9);
	push(&f, 10);
	reorder_free(f.ctx, &f.w); /* teardown without delivery */
	s = st(&f.w);
	CHECK_EQ(s.freed, 2);
	CHECK(conserved(&f.w, f.pushed));
	push(&f, 500);          /* unsynchronized again: starts fresh */
	CHECK_EQ(reorder_next_seq(&f.w), 501);
	fx_fini(&f);
}

static void
t_bad_config(void)
{
	struct reorder_ctx_conf cc = { .max_size = 1000, .socket_id = SOCKET_ID_ANY };
	struct reorder_conf wc = { .size = 4096 };
	struct fx f;

	CHECK(reorder_ctx_create(&cc) == NULL);
	CHECK_EQ(rte_errno, EINVAL);
	fx_init(&f, NULL, NULL);
	CHECK_EQ(reorder_window_init(f.ctx, &f.w, &wc), -EINVAL);
	wc.size = 12;
	CHECK_EQ(reorder_window_init(f.ctx, &f.w, &wc), -EINVAL);
	wc.size = 16;
	CHECK_EQ(reorder_window_init(f.ctx, &f.w, &wc), 0);
	fx_fini(&f);
}

/*
 * Property test. A sender emits numbers in order; the network delays each by a
 * random amount (jitter, sometimes beyond the window or the hold), duplicates
 * some (dual line), loses some, and injects rare forged numbers. Checks:
 * output strictly increasing (serial arithmetic) between resyncs, each mbuf out
 * at most once, every input exactly one fate, edge identity, exact duplicate
 * classification while blocks stay attached, and no mbuf leaked.
 */
struct ev {
	uint64_t t;
	uint32_t seq;
};

static int
ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

struct prop {
	uint32_t base, n, id0;
	uint8_t *state;     /* per sequence number: 0 unseen, 1 delivered, 2 held */
	uint8_t *out_id;    /* per mbuf id: delivered already */
	uint32_t last;
	bool have_last;
	int bad;
};

/* Take what the sink delivered: order, at-most-once, and the model's state. */
static void
absorb(struct prop *p, struct rec *r, const struct reorder_window *w, bool may_go_back)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		uint32_t q = r->seq[i];

		if (r->win[i] != w)
			continue; /* the hog's packets */

		if (p->have_last && (int32_t)(q - p->last) <= 0 && !may_go_back) {
			fprintf(stderr, "out of order: %u after %u\n", q, p->last);
			p->bad++;
		}
		p->last = q;
		p->have_last = true;
		if (p->out_id[r->id[i] - p->id0]++) {
			fprintf(stderr, "mbuf %u delivered twice\n", r->id[i]);
			p->bad++;
		}
		if (q - p->base < p->n)
			p->state[q - p->base] = 1;
	}
	rec_reset(r);
}

static struct reorder_stats agg; /* summed over scenarios: shows what was exercised */

static void
property_one(unsigned int scen)
{
	struct reorder_ctx_conf cc = { .socket_id = SOCKET_ID_ANY, .max_size = 2048 };
	struct reorder_conf wc = { 0 };
	struct fx f;
	struct prop p = { 0 };
	uint32_t size = 8u << rnd_below(9);              /* 8 .. 2048 */
	uint32_t n = 500 + rnd_below(4000), i, k;
	uint32_t base = rnd_below(4) == 0 ? 0xffffffffu - rnd_below(2000) : (uint32_t)rnd();
	uint64_t jitter = 1000 * (1 + rnd_below(50000)); /* up to 50 ms */
	uint64_t gap_ns = 1000 * (1 + rnd_below(2000));  /* 1 us .. 2 ms between sends */
	unsigned int dup_pct = rnd_below(30), loss_pct = rnd_below(10), forge_pm = rnd_below(5);
	bool tight_pool = rnd_below(4) == 0, exact;
	struct ev *ev = malloc(sizeof(*ev) * (2 * n + 64));
	struct reorder_window hog;  /* competes for the block when the pool is tight */
	uint32_t hog_seq = 77;
	uint64_t main_pushed = 0, hog_pushed = 0;
	size_t m = 0, j;
	struct reorder_stats s;
	uint64_t t0;

	wc.size = size;
	wc.hold_us = 1000 * (1 + rnd_below(400));
	wc.adaptive = rnd_below(3) == 0;
	wc.off = rnd_below(10) == 0;
	if (wc.adaptive)
		wc.hold_min_us = RTE_MIN(wc.hold_us, 500u);
	if (tight_pool) {
		/* a second, busy window holds the only block half the time */
		cc.max_blocks = 1;
		cc.release_idle_us = 1000;
	} else {
		cc.release_idle_us = 4000000000u; /* never: keeps the history exact */
	}
	exact = !tight_pool && !wc.off;
	fx_init(&f, &cc, &wc);
	if (reorder_window_init(f.ctx, &hog, NULL) != 0)
		exit(2);
	p.base = base;
	p.n = n;
	p.id0 = f.next_id;
	p.state = calloc(n, 1);
	p.out_id = calloc(2 * n + 64, 1);
	t0 = clock_now();
	ev[m].t = t0;
	ev[m++].seq = base; /* the first packet syncs, on time */
	for (i = 1; i < n; i++) {
		uint64_t send = t0 + i * gap_ns;
		uint32_t copies = 1 + (rnd_below(100) < dup_pct);

		if (rnd_below(100) < loss_pct)
			copies--;
		for (k = 0; k < copies; k++) {
			ev[m].t = send + 1 + (rnd_below(8) == 0 ? rnd() % (4 * jitter) : rnd() % jitter);
			ev[m++].seq = base + i;
		}
		if (rnd_below(1000) < forge_pm) {
			ev[m].t = send + 1;
			ev[m++].seq = base + i + size + rnd_below(1u << 30);
		}
	}
	qsort(ev + 1, m - 1, sizeof(*ev), ev_cmp);

	/* RX bursts of 1..32 arrivals share one clock reading; the sink is
	 * flushed after each burst, as the lcore loop does. */
	for (j = 0; j < m && !p.bad; ) {
		size_t burst = 1 + rnd_below(32), e;
		uint64_t t_last = ev[RTE_MIN(j + burst, m) - 1].t;
		uint64_t resyncs_before = st(&f.w).resyncs;

		while (clock_now() + MS(1) < t_last) {
			clock_fake_advance(MS(1));
			reorder_sweep_all(f.ctx, clock_now(), &f.sink);
		}
		if (t_last > clock_now())
			clock_fake_advance(t_last - clock_now());
		flush_sink(&f);
		absorb(&p, &f.rec, &f.w, false);
		for (e = j; e < m && e < j + burst; e++) {
			struct reorder_stats b4, af;
			uint32_t q = ev[e].seq, nx;
			uint8_t before = 0;

			if (q - base < n)
				before = p.state[q - base];
			if (tight_pool && e % 97 == 0) {
				push_w(&f, &hog, hog_seq + 2);   /* filed: takes the block if free */
				hog_pushed++;
			} else if (tight_pool && e % 97 == 90) {
				push_w(&f, &hog, hog_seq + 1);   /* fills the gap, quiet again */
				hog_seq += 2;
				hog_pushed++;
			}
			b4 = st(&f.w);
			push(&f, q);
			main_pushed++;
			af = st(&f.w);
			nx = reorder_next_seq(&f.w); /* the edge the window judged by */
			if (af.under_window == b4.under_window && af.duplicated == b4.duplicated &&
			    af.far_ahead == b4.far_ahead && q - base < n && before != 1)
				p.state[q - base] = 2; /* accepted: filed or on its way out */
			if (af.resyncs != b4.resyncs)
				exact = false; /* history restarts at a resync */
			if (exact && q - base < n) {
				bool copy = (before == 2 && ((int32_t)(nx - q) <= 0 || nx - q <= size)) ||
					    (before == 1 && (int32_t)(nx - q) > 0 && nx - q <= size);

				if (af.duplicated - b4.duplicated != copy) {
					fprintf(stderr, "scenario %u: seq %u state %u next %u: "
						"duplicated %s\n", scen, q, before, nx,
						copy ? "missed" : "wrongly counted");
					p.bad++;
				}
			}
			if (!conserved(&f.w, main_pushed) || !conserved(&hog, hog_pushed)) {
				fprintf(stderr, "scenario %u: fates do not add up after seq %u\n",
					scen, q);
				p.bad++;
			}
		}
		j = e;
		flush_sink(&f);
		absorb(&p, &f.rec, &f.w, st(&f.w).resyncs != resyncs_before);
	}
	CHECK_EQ(p.bad, 0);
	/* let every hold expire: nothing may stay behind */
	clock_fake_advance(MS(500));
	reorder_sweep_all(f.ctx, clock_now(), &f.sink);
	flush_sink(&f);
	absorb(&p, &f.rec, &f.w, false);
	CHECK_EQ(p.bad, 0);
	CHECK_EQ(reorder_held(&f.w), 0);
	s = st(&f.w);
	CHECK(conserved(&f.w, main_pushed));
	agg.accepted += s.accepted;
	agg.under_window += s.under_window;
	agg.duplicated += s.duplicated;
	agg.far_ahead += s.far_ahead;
	agg.buffered += s.buffered;
	agg.lost += s.lost;
	agg.resyncs += s.resyncs;
	agg.nobuf += s.nobuf;
	reorder_free(f.ctx, &hog);
	CHECK(conserved(&hog, hog_pushed));
	/* edge identity: every number passed was delivered or given up */
	if (s.resyncs == 0)
		CHECK_EQ(reorder_next_seq(&f.w) - base, s.accepted + s.lost);
	/* a buffered packet is delivered later (nothing freed here) */
	CHECK(s.buffered <= s.accepted && s.freed == 0);
	fx_fini(&f);
	free(ev);
	free(p.state);
	free(p.out_id);
	CHECK_EQ(rte_mempool_in_use_count(pool), pool_start);
}

static void
t_property(void)
{
	unsigned int i, n = getenv("REORDER_SCENARIOS") ? atoi(getenv("REORDER_SCENARIOS")) : 2000;
	int before = failures;

	for (i = 0; i < n && failures == before; i++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull * (i + 1);

		rng_state = seed;
		property_one(i);
		if (failures != before)
			fprintf(stderr, "  property scenario %u (seed %#llx) failed\n", i,
				(unsigned long long)seed);
	}
	printf("  %u random scenarios: accepted %llu under_window %llu duplicated %llu far_ahead %llu\n"
	       "    buffered %llu lost %llu resyncs %llu nobuf %llu\n", i,
	       (unsigned long long)agg.accepted, (unsigned long long)agg.under_window,
	       (unsigned long long)agg.duplicated, (unsigned long long)agg.far_ahead,
	       (unsigned long long)agg.buffered, (unsigned long long)agg.lost,
	       (unsigned long long)agg.resyncs, (unsigned long long)agg.nobuf);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "idle_cost", t_idle_cost },
	{ "in_order", t_in_order },
	{ "permute_within", t_permute_within },
	{ "permute_beyond", t_permute_beyond },
	{ "duplicates", t_duplicates },
	{ "expiry_on_arrival", t_expiry_on_arrival },
	{ "expiry_earliest_arrival", t_expiry_earliest_arrival },
	{ "expiry_by_sweep", t_expiry_by_sweep },
	{ "wrap", t_wrap },
	{ "forged_far_ahead", t_forged_far_ahead },
	{ "forged_in_window_stall_recovers", t_forged_in_window_stall_recovers },
	{ "resync", t_resync },
	{ "overflow_slide", t_overflow_slide },
	{ "memory_cap", t_memory_cap },
	{ "off_mode", t_off_mode },
	{ "adaptive", t_adaptive },
	{ "big_release_small_sink", t_big_release_small_sink },
	{ "flush_and_free", t_flush_and_free },
	{ "bad_config", t_bad_config },
	{ "property", t_property },
};

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal_args[] = { argv[0], "--no-huge", "--no-pci", "-m", "256", "--no-shconf",
			     "--no-telemetry", "-l", "0", "--log-level", "*:error", prefix };
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t i;

	/* no hugepages, no shared files: runs beside other tests and the daemon */
	snprintf(prefix, sizeof(prefix), "--file-prefix=reorder_test_%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	pool = rte_pktmbuf_pool_create("reorder_test", 16383, 0, 0, 256, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	pool_start = rte_mempool_in_use_count(pool);
	for (i = 0; i < RTE_DIM(tests); i++) {
		int before = failures;

		if (only && strcmp(only, tests[i].name))
			continue;
		cur_test = tests[i].name;
		tests[i].fn();
		if (rte_mempool_in_use_count(pool) != pool_start) {
			fprintf(stderr, "%s: %u mbufs leaked\n", tests[i].name,
				rte_mempool_in_use_count(pool) - pool_start);
			failures++;
			pool_start = rte_mempool_in_use_count(pool);
		}
		printf("%s %s\n", failures == before ? "ok  " : "FAIL", tests[i].name);
	}
	rte_mempool_free(pool);
	rte_eal_cleanup();
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
