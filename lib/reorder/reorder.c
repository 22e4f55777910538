/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reorder window. Sequence space seen from the edge `next`:
 *
 *   [next - size, next)   the past: history bitmap, bit = delivered (vs given up)
 *   [next, next + size)   the future: slot = held mbuf or empty (a gap)
 *
 * Both halves share positions seq & (size - 1): a position's past number is
 * always exactly `size` below its future one, so the bitmap and the slots never
 * disagree about which number a position means. The bitmap and slots live in a
 * block that is only attached while reordering happens; without it the past is
 * summarised by clean_from (everything from there to the edge was delivered).
 *
 * Gap hold time: a gap exists since the first packet beyond it arrived, i.e. the
 * earliest arrival among held packets. A FIFO of held sequence numbers in arrival
 * order gives that packet in O(1) amortized (stale entries are popped lazily).
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "clock.h"
#include "reorder.h"

/* Consistent far-ahead evidence slides the window up to this many windows
 * (counting the numbers between as lost); farther is a renumbering: resync. */
#define REORDER_SLIDE_MAX 16u

#define F_SYNCED    0x01
#define F_OFF       0x02
#define F_ADAPTIVE  0x04
#define F_ADAPT_SET 0x08 /* estimator has its first sample */

enum { L_FREE, L_BUSY, L_IDLE };

struct blist {
	struct reorder_block *head, *tail;
};

struct reorder_block {
	struct reorder_block *prev, *next; /* in one of the ctx lists */
	struct reorder_window *win;
	uint32_t fifo_head, fifo_tail;     /* free-running indices */
	uint32_t idle_since;               /* when held last fell to zero */
	uint32_t deadline;                 /* no gap expires before this (lower bound) */
	uint32_t mask;                     /* window size - 1 of the owner */
	uint8_t list;
	uint64_t *bits;
	struct rte_mbuf **slot;
	uint64_t *fifo;                    /* filed packets in arrival order: time << 32 | seq */
};

struct reorder_ctx {
	struct reorder_conf defaults;
	uint32_t max_size;
	uint32_t fifo_mask;       /* FIFO holds 2 * max_size: the proven bound */
	uint32_t max_blocks, n_blocks, in_use;
	uint32_t block_bytes;
	uint32_t release_idle;    /* time units */
	unsigned int shift;       /* ticks >> shift = time units (~1 us) */
	uint64_t units_per_s;
	int socket_id;
	uint32_t now;             /* time of the last push: for drains at sink flush */
	uint64_t reclaimed, nobuf;
	struct reorder_block *free;
	struct blist busy, idle;
	struct reorder_block **all;
};

/* ---- small helpers ---- */

#define STAT_ADD(w, f, v) \
	__atomic_store_n(&(w)->stats.f, (w)->stats.f + (v), __ATOMIC_RELAXED)

static inline void
set_held(struct reorder_window *w, uint32_t v)
{
	__atomic_store_n(&w->held, v, __ATOMIC_RELAXED);
}

static inline void
set_next(struct reorder_window *w, uint32_t v)
{
	__atomic_store_n(&w->next, v, __ATOMIC_RELAXED);
}

static inline uint32_t
mask_of(const struct reorder_window *w)
{
	return (1u << w->log2_size) - 1;
}

static inline uint32_t
units(const struct reorder_ctx *ctx, uint64_t ticks)
{
	return (uint32_t)(ticks >> ctx->shift);
}

static uint32_t
us_to_units(const struct reorder_ctx *ctx, uint32_t us)
{
	uint64_t u = (uint64_t)us * ctx->units_per_s / 1000000u;

	return u > INT32_MAX ? INT32_MAX : (uint32_t)u;
}

static inline void
bit_set(uint64_t *bits, uint32_t p)
{
	bits[p >> 6] |= 1ull << (p & 63);
}

static inline void
bit_clear(uint64_t *bits, uint32_t p)
{
	bits[p >> 6] &= ~(1ull << (p & 63));
}

static inline bool
bit_test(const uint64_t *bits, uint32_t p)
{
	return (bits[p >> 6] >> (p & 63)) & 1;
}

static inline void
sink_out(struct reorder_sink *s)
{
	if (s->n) {
		uint16_t n = s->n;

		s->n = 0;
		s->fn(s->win, s->pkts, n, s->arg);
	}
}

static inline void
sink_put(struct reorder_sink *s, struct rte_mbuf *m)
{
	s->pkts[s->n++] = m;
	if (unlikely(s->n == s->cap))
		sink_out(s);
}

static void settle(struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_sink *s);

/* The sink carries one window at a time: finish the previous one first. */
static void
sink_switch(struct reorder_sink *s, struct reorder_window *w)
{
	if (s->win != NULL) {
		settle(s->ctx, s->win, s);
		sink_out(s);
	}
	s->win = w;
}

static inline void
sink_bind(struct reorder_sink *s, struct reorder_window *w)
{
	if (unlikely(s->win != w))
		sink_switch(s, w);
}

/* ---- block lists ---- */

static void
blist_del(struct blist *l, struct reorder_block *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		l->head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		l->tail = b->prev;
	b->prev = b->next = NULL;
}

static void
blist_append(struct blist *l, struct reorder_block *b)
{
	b->next = NULL;
	b->prev = l->tail;
	if (l->tail)
		l->tail->next = b;
	else
		l->head = b;
	l->tail = b;
}

static struct blist *
list_of(struct reorder_ctx *ctx, struct reorder_block *b)
{
	return b->list == L_BUSY ? &ctx->busy : &ctx->idle;
}

static void
move_to(struct reorder_ctx *ctx, struct reorder_block *b, uint8_t list)
{
	blist_del(list_of(ctx, b), b);
	b->list = list;
	blist_append(list_of(ctx, b), b);
}

/* held fell to zero: the FIFO has only stale entries; start the quiet clock. */
static void
went_idle(struct reorder_ctx *ctx, struct reorder_block *b, uint32_t now)
{
	b->fifo_head = b->fifo_tail;
	b->idle_since = now;
	move_to(ctx, b, L_IDLE);
}

/* First packet filed: the gap it reveals expires one hold time from now. */
static void
went_busy(struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_block *b,
	  uint32_t now)
{
	b->deadline = now + w->hold;
	move_to(ctx, b, L_BUSY);
}

/* Detach a block whose window holds nothing. Past history falls back to clean_from. */
static void
block_release(struct reorder_ctx *ctx, struct reorder_block *b)
{
	b->win->blk = NULL;
	b->win = NULL;
	blist_del(list_of(ctx, b), b);
	b->list = L_FREE;
	b->next = ctx->free;
	ctx->free = b;
	ctx->in_use--;
}

/* One allocation: header, history bitmap, slots, FIFO (2 * n). The arrival
 * time rides in the FIFO entry: sequential writes instead of a random one. */
static size_t
block_layout(size_t n, size_t *off_bits, size_t *off_slot, size_t *off_fifo)
{
	*off_bits = RTE_ALIGN_CEIL(sizeof(struct reorder_block), 64);
	*off_slot = *off_bits + RTE_ALIGN_CEIL(RTE_MAX(n / 8, 8u), 64);
	*off_fifo = *off_slot + n * sizeof(struct rte_mbuf *);
	return *off_fifo + 2 * n * sizeof(uint64_t);
}

static struct reorder_block *
block_new(struct reorder_ctx *ctx)
{
	size_t off_bits, off_slot, off_fifo;
	size_t total = block_layout(ctx->max_size, &off_bits, &off_slot, &off_fifo);
	uint8_t *mem = rte_zmalloc_socket("reorder_block", total, RTE_CACHE_LINE_SIZE,
					  ctx->socket_id);
	struct reorder_block *b = (struct reorder_block *)mem;

	if (mem == NULL)
		return NULL;
	b->bits = (uint64_t *)(mem + off_bits);
	b->slot = (struct rte_mbuf **)(mem + off_slot);
	b->fifo = (uint64_t *)(mem + off_fifo);
	b->list = L_FREE;
	ctx->all[ctx->n_blocks++] = b;
	return b;
}

/* Rebuild the history bitmap from clean_from: exact, since a window without a
 * block gave up nothing after clean_from. */
static void
bits_from_clean(struct reorder_window *w, struct reorder_block *b)
{
	uint32_t size = mask_of(w) + 1;
	uint32_t run = RTE_MIN(w->next - w->clean_from, size);
	uint32_t words = RTE_MAX(size / 64, 1u);
	uint32_t k;

	if (run == size) {
		memset(b->bits, 0xff, words * 8);
		return;
	}
	memset(b->bits, 0, words * 8);
	for (k = 1; k <= run; k++)
		bit_set(b->bits, (w->next - k) & mask_of(w));
}

static struct reorder_block *
block_attach(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t now)
{
	struct reorder_block *b = ctx->free;

	if (b != NULL) {
		ctx->free = b->next;
	} else if (ctx->n_blocks < ctx->max_blocks && (b = block_new(ctx)) != NULL) {
		/* new, zeroed */
	} else if ((b = ctx->idle.head) != NULL) {
		/* Take back the longest-quiet block: it holds no packets, only history. */
		block_release(ctx, b);
		ctx->free = b->next;
		ctx->reclaimed++;
	} else {
		ctx->nobuf++;
		return NULL;
	}
	b->win = w;
	b->mask = mask_of(w);
	b->fifo_head = b->fifo_tail = 0;
	b->idle_since = now;
	b->list = L_IDLE;
	blist_append(&ctx->idle, b);
	ctx->in_use++;
	w->blk = b;
	bits_from_clean(w, b);
	return b;
}

/* ---- adaptive hold ---- */

static void
adapt(struct reorder_window *w, uint32_t sample, uint32_t now)
{
	uint64_t h;

	if (!(w->flags & F_ADAPT_SET)) {
		w->srtt = sample;
		w->rttvar = sample / 2;
		w->flags |= F_ADAPT_SET;
	} else {
		uint32_t delta = sample > w->srtt ? sample - w->srtt : w->srtt - sample;

		/* RFC 6298 gains: 1/4 for the variation, 1/8 for the mean. */
		w->rttvar = w->rttvar - w->rttvar / 4 + delta / 4;
		w->srtt = w->srtt - w->srtt / 8 + sample / 8;
	}
	h = ((uint64_t)w->srtt + 4ull * w->rttvar) * 11 / 5;
	h = RTE_MAX(h, (uint64_t)w->hold_min);
	h = RTE_MIN(h, (uint64_t)w->hold_max);
	__atomic_store_n(&w->hold, (uint32_t)h, __ATOMIC_RELAXED);
	if (w->blk)
		w->blk->deadline = now; /* the cached deadline used the old hold */
}

/* ---- moving the edge (window has a block) ---- */

/* Mark k numbers from position p on as delivered in the history bitmap. */
static inline void
bits_set_run(uint64_t *bits, uint32_t p, uint32_t k, uint32_t mask)
{
	while (k) {
		uint32_t off = p & 63, n = RTE_MIN(k, 64 - off);
		uint32_t left = mask + 1 - p; /* stop at the end of the ring */

		n = RTE_MIN(n, left);
		bits[p >> 6] |= (n == 64 ? ~0ull : ((1ull << n) - 1)) << off;
		p = (p + n) & mask;
		k -= n;
	}
}

/* Deliver the run of held packets at the edge, a sink-full at a time. */
static void
drain(struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_block *b,
      uint32_t now, struct reorder_sink *sink)
{
	uint32_t mask = b->mask, next = w->next, held = w->held, total = 0;

	for (;;) {
		struct rte_mbuf **out = sink->pkts + sink->n;
		uint32_t room = sink->cap - sink->n, k = 0;
		struct rte_mbuf *m;

		while (k < room && (m = b->slot[(next + k) & mask]) != NULL) {
			b->slot[(next + k) & mask] = NULL;
			out[k++] = m;
		}
		bits_set_run(b->bits, next & mask, k, mask);
		next += k;
		total += k;
		sink->n += k;
		if (k < room)
			break;
		sink_out(sink);
	}
	set_next(w, next);
	if (total) {
		set_held(w, held - total);
		STAT_ADD(w, accepted, total);
		if (held == total)
			went_idle(ctx, b, now);
	}
}

/* Give up every number below target (delivering held ones), then drain. */
static void
advance_to(struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_block *b,
	   uint32_t target, uint32_t now, struct reorder_sink *sink)
{
	uint32_t mask = mask_of(w), next = w->next, held = w->held;
	uint32_t acc = 0, lost = 0, last_lost = 0;

	while (next != target) {
		uint32_t p = next & mask;
		struct rte_mbuf *m = b->slot[p];

		if (m != NULL) {
			b->slot[p] = NULL;
			bit_set(b->bits, p);
			sink_put(sink, m);
			acc++;
		} else {
			bit_clear(b->bits, p);
			last_lost = next;
			lost++;
		}
		next++;
	}
	set_next(w, next);
	if (lost) {
		w->clean_from = last_lost + 1;
		STAT_ADD(w, lost, lost);
	}
	if (acc) {
		set_held(w, held - acc);
		STAT_ADD(w, accepted, acc);
		if (held == acc) {
			went_idle(ctx, b, now);
			return;
		}
	}
	drain(ctx, w, b, now, sink);
}

static inline uint32_t fe_seq(uint64_t e) { return (uint32_t)e; }
static inline uint32_t fe_time(uint64_t e) { return (uint32_t)(e >> 32); }

/* Earliest-arrived filed packet (its FIFO entry); requires held > 0. */
static inline uint64_t
fifo_front(const struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_block *b)
{
	for (;;) {
		uint64_t e = b->fifo[b->fifo_head & ctx->fifo_mask];

		if ((int32_t)(fe_seq(e) - w->next) >= 0)
			return e;
		b->fifo_head++;
	}
}

/* Give up gaps whose hold ran out: all below the earliest-arrived held packet. */
static void
expire(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t now,
       struct reorder_sink *sink)
{
	struct reorder_block *b = w->blk;

	while (w->held) {
		uint64_t e = fifo_front(ctx, w, b);
		uint32_t deadline = fe_time(e) + w->hold;

		if ((int32_t)(now - deadline) < 0) {
			b->deadline = deadline;
			return;
		}
		advance_to(ctx, w, b, fe_seq(e), now, sink);
	}
}

/* Deliver the run filed at the edge (pushes only file packets). */
static void
settle(struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_sink *s)
{
	struct reorder_block *b = w->blk;

	if (w->held && b->slot[w->next & b->mask] != NULL)
		drain(ctx, w, b, ctx->now, s);
}

/* Deliver everything held in order; the edge stops after the last held packet. */
static void
flush_held(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t now,
	   struct reorder_sink *sink)
{
	struct reorder_block *b = w->blk;

	while (w->held) {
		uint32_t mask = mask_of(w), p = w->next & mask;

		if (b->slot[p] != NULL) {
			drain(ctx, w, b, now, sink);
		} else {
			/* skip the gap up to the next held slot */
			uint32_t k = 1;

			while (b->slot[(w->next + k) & mask] == NULL)
				k++;
			advance_to(ctx, w, b, w->next + k, now, sink);
		}
	}
}

/* Defensive: the FIFO bound (2 * size) is proven in docs/reorder.md; if it were
 * ever wrong, squeeze out stale entries instead of overwriting live ones. */
static void
fifo_compact(struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_block *b)
{
	uint32_t i, out = b->fifo_head;

	for (i = b->fifo_head; i != b->fifo_tail; i++) {
		uint64_t e = b->fifo[i & ctx->fifo_mask];

		if ((int32_t)(fe_seq(e) - w->next) >= 0)
			b->fifo[out++ & ctx->fifo_mask] = e;
	}
	b->fifo_tail = out;
}

/* ---- the out-of-place paths ---- */

static void
drop(struct reorder_window *w, struct rte_mbuf *m)
{
	RTE_SET_USED(w);
	rte_pktmbuf_free(m);
}

/* Start (or restart) the window at seq, delivering seq. */
static void
sync_at(struct reorder_window *w, uint32_t seq, struct rte_mbuf *m, struct reorder_sink *sink)
{
	set_next(w, seq + 1);
	w->clean_from = seq;
	w->far_count = 0;
	w->flags |= F_SYNCED;
	STAT_ADD(w, accepted, 1);
	sink_put(sink, m);
}

/* Consistent evidence that the peer's numbering moved: `resync_after`
 * out-of-place packets in a row, each ahead of the previous by at most a
 * window, with no in-window packet between. Behind-the-edge evidence must
 * also last a hold time, so a burst of merely late packets never resyncs. */
static bool
evidence(struct reorder_window *w, uint32_t seq, uint32_t now, bool ahead)
{
	if (w->far_count && seq - w->far_seq - 1 < mask_of(w) + 1u) {
		if (w->far_count < UINT8_MAX)
			w->far_count++;
	} else {
		w->far_count = 1;
		w->far_since = now;
	}
	w->far_seq = seq;
	return w->far_count >= w->resync_after &&
	       (ahead || now - w->far_since >= w->hold_max);
}

static void
resync(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq, struct rte_mbuf *m,
       uint32_t now, struct reorder_sink *sink)
{
	if (w->blk) {
		flush_held(ctx, w, now, sink);
		block_release(ctx, w->blk);
	}
	STAT_ADD(w, resyncs, 1);
	sync_at(w, seq, m, sink);
}

/* Behind the edge: a copy (duplicated) or a number given up earlier (under_window). */
static void
behind(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq, struct rte_mbuf *m,
       uint32_t now, struct reorder_sink *sink)
{
	uint32_t dist = w->next - seq;

	if (dist <= mask_of(w) + 1u) {
		bool copy = w->blk ? bit_test(w->blk->bits, seq & mask_of(w))
				   : dist <= w->next - w->clean_from;

		if (copy) {
			STAT_ADD(w, duplicated, 1);
			drop(w, m);
			return;
		}
		/* Late after its gap was given up: the hold looks too short. */
		if ((w->flags & F_ADAPTIVE) && w->hold < w->hold_max)
			adapt(w, w->hold * 2, now);
	}
	if (evidence(w, seq, now, false)) {
		resync(ctx, w, seq, m, now, sink);
		return;
	}
	STAT_ADD(w, under_window, 1);
	drop(w, m);
}

/* Stock Linux GRE: drop anything older than the last delivered, never wait. */
static void
push_off(struct reorder_window *w, uint32_t seq, struct rte_mbuf *m, struct reorder_sink *sink)
{
	uint32_t diff = seq - w->next;

	if ((int32_t)diff < 0) {
		STAT_ADD(w, under_window, 1);
		drop(w, m);
		return;
	}
	if (diff)
		STAT_ADD(w, lost, diff);
	set_next(w, seq + 1);
	STAT_ADD(w, accepted, 1);
	sink_put(sink, m);
}

/* Pool at its cap: behave like the window is off for this gap. */
static void
no_block(struct reorder_window *w, uint32_t seq, struct rte_mbuf *m, struct reorder_sink *sink)
{
	STAT_ADD(w, nobuf, 1);
	STAT_ADD(w, lost, seq - w->next);
	w->clean_from = seq;
	set_next(w, seq + 1);
	STAT_ADD(w, accepted, 1);
	sink_put(sink, m);
}

/* File a packet inside the window (at the edge or with a gap before it); the
 * deliverable run is drained at the next sink flush or window switch. */
static inline void
file_packet(struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_block *b,
	    uint32_t seq, struct rte_mbuf *m, uint32_t now, uint32_t diff)
{
	uint32_t p = seq & b->mask;

	if (unlikely(b->slot[p] != NULL)) {
		STAT_ADD(w, duplicated, 1);
		drop(w, m);
		return;
	}
	if (w->held == 0)
		went_busy(ctx, w, b, now);
	else if (unlikely(diff == 0 && (w->flags & F_ADAPTIVE)))
		adapt(w, now - fe_time(fifo_front(ctx, w, b)), now); /* gap filled */
	if (unlikely(b->fifo_tail - b->fifo_head > ctx->fifo_mask))
		fifo_compact(ctx, w, b);
	b->slot[p] = m;
	b->fifo[b->fifo_tail++ & ctx->fifo_mask] = (uint64_t)now << 32 | seq;
	set_held(w, w->held + 1);
	STAT_ADD(w, buffered, diff != 0);
	w->far_count = 0;
}

static void
file_or_degrade(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq,
		struct rte_mbuf *m, uint32_t now, struct reorder_sink *sink)
{
	struct reorder_block *b = w->blk;

	if (b == NULL && (b = block_attach(ctx, w, now)) == NULL)
		no_block(w, seq, m, sink);
	else
		file_packet(ctx, w, b, seq, m, now, seq - w->next);
}

/* Move the edge so that seq (ahead of the window) fits at its top, giving up
 * what lies below, then file seq. */
static void
slide(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq, struct rte_mbuf *m,
      uint32_t now, struct reorder_sink *sink)
{
	uint32_t target = seq - mask_of(w);

	w->far_count = 0;
	if (w->blk) {
		advance_to(ctx, w, w->blk, target, now, sink);
	} else {
		STAT_ADD(w, lost, target - w->next);
		w->clean_from = target;
		set_next(w, target);
	}
	file_or_degrade(ctx, w, seq, m, now, sink);
}

/* Everything but "in the window": behind the edge, or beyond the window. */
static void
push_slow(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq, struct rte_mbuf *m,
	  uint32_t now, struct reorder_sink *sink)
{
	uint32_t size = mask_of(w) + 1, diff = seq - w->next;

	if ((int32_t)diff < 0) {
		behind(ctx, w, seq, m, now, sink);
		return;
	}
	/* The edge may lag behind a run filed but not yet drained. */
	if (w->held) {
		settle(ctx, w, sink);
		diff = seq - w->next;
		if (diff < size) {
			file_or_degrade(ctx, w, seq, m, now, sink);
			return;
		}
	}
	/* With the window half full this is overflow of a busy tunnel, not a jump:
	 * slide (give up the oldest gaps) by at most a window. Otherwise only
	 * consistent evidence moves the edge: a slide if the distance is modest
	 * (the numbers between count as lost), a resync if not. */
	if ((w->blk && diff < 2 * size && w->held >= size / 2) ||
	    (evidence(w, seq, now, true) && diff < REORDER_SLIDE_MAX * size)) {
		slide(ctx, w, seq, m, now, sink);
		return;
	}
	if (w->far_count >= w->resync_after) {
		resync(ctx, w, seq, m, now, sink);
		return;
	}
	STAT_ADD(w, far_ahead, 1);
	drop(w, m);
}

/* Every case; reorder_push() below only inlines the two common ones. */
static void __attribute__((noinline))
push_general(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq,
	     struct rte_mbuf *m, uint32_t now, struct reorder_sink *sink)
{
	struct reorder_block *b = w->blk;
	uint32_t diff;

	sink_bind(sink, w);
	if (unlikely((w->flags & (F_SYNCED | F_OFF)) != F_SYNCED)) {
		if (!(w->flags & F_SYNCED))
			sync_at(w, seq, m, sink);
		else
			push_off(w, seq, m, sink);
		return;
	}
	ctx->now = now;
	diff = seq - w->next;
	if (likely(w->held == 0)) {
		if (likely(diff == 0)) {
			/* in order with nothing waiting: straight through */
			if (b != NULL)
				bit_set(b->bits, seq & b->mask);
			/* keep clean_from within 2^31 of the edge for serial compares */
			if (unlikely(seq - w->clean_from > INT32_MAX))
				w->clean_from = seq - mask_of(w) - 1;
			set_next(w, seq + 1);
			STAT_ADD(w, accepted, 1);
			w->far_count = 0;
			sink_put(sink, m);
			return;
		}
	} else if (unlikely((int32_t)(now - b->deadline) >= 0)) {
		/* a gap may have run out of hold: checked on every arrival */
		expire(ctx, w, now, sink);
		diff = seq - w->next;
		b = w->blk;
	}
	if (likely(diff <= mask_of(w))) {
		if (unlikely(b == NULL) && (b = block_attach(ctx, w, now)) == NULL) {
			no_block(w, seq, m, sink);
			return;
		}
		file_packet(ctx, w, b, seq, m, now, diff);
		return;
	}
	push_slow(ctx, w, seq, m, now, sink);
}

void
reorder_restart(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq,
		struct rte_mbuf *m, uint64_t now_ticks, struct reorder_sink *sink)
{
	uint32_t now = units(ctx, now_ticks);

	sink_bind(sink, w);
	ctx->now = now;
	if (!(w->flags & F_SYNCED))
		sync_at(w, seq, m, sink);
	else
		resync(ctx, w, seq, m, now, sink);
}

static void __attribute__((noinline))
sink_out_cold(struct reorder_sink *s)
{
	sink_out(s);
}

/*
 * The fast path, kept small enough to need no saved registers: an in-order
 * packet with nothing waiting goes straight to the sink; a packet inside the
 * window of a tunnel already reordering is filed. Anything else (first gap,
 * expiry due, copy, out of window, adaptive sample, unsynced, off) takes
 * push_general().
 */
void
reorder_push(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq,
	     struct rte_mbuf *m, uint64_t now_ticks, struct reorder_sink *sink)
{
	uint32_t now = units(ctx, now_ticks);
	struct reorder_block *b = w->blk;
	uint32_t diff = seq - w->next, held = w->held, p;

	if (unlikely(sink->win != w || (w->flags & (F_SYNCED | F_OFF)) != F_SYNCED))
		goto general;
	ctx->now = now;
	if (held == 0) {
		if (unlikely(diff != 0 || seq - w->clean_from > INT32_MAX))
			goto general;
		if (b != NULL)
			bit_set(b->bits, seq & b->mask);
		set_next(w, seq + 1);
		STAT_ADD(w, accepted, 1);
		w->far_count = 0;
		sink->pkts[sink->n++] = m;
		if (unlikely(sink->n == sink->cap))
			sink_out_cold(sink);
		return;
	}
	p = seq & b->mask;
	if (unlikely((int32_t)(now - b->deadline) >= 0 || diff > b->mask || b->slot[p] != NULL ||
		     b->fifo_tail - b->fifo_head > ctx->fifo_mask ||
		     (diff == 0 && (w->flags & F_ADAPTIVE))))
		goto general;
	b->slot[p] = m;
	b->fifo[b->fifo_tail++ & ctx->fifo_mask] = (uint64_t)now << 32 | seq;
	set_held(w, held + 1);
	STAT_ADD(w, buffered, diff != 0);
	w->far_count = 0;
	return;
general:
	push_general(ctx, w, seq, m, now, sink);
}

void
reorder_push_burst(struct reorder_ctx *ctx, struct reorder_window *w, const uint32_t *seqs,
		   struct rte_mbuf **pkts, uint16_t n, uint64_t now, struct reorder_sink *sink)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		reorder_push(ctx, w, seqs[i], pkts[i], now, sink);
}

void
reorder_sink_flush(struct reorder_sink *s)
{
	if (s->win != NULL)
		settle(s->ctx, s->win, s);
	sink_out(s);
	/* unbound: the window may be torn down after the burst */
	s->win = NULL;
}

static void
sweep_one(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t now,
	  struct reorder_sink *sink)
{
	sink_bind(sink, w);
	if (w->held && (int32_t)(now - w->blk->deadline) >= 0)
		expire(ctx, w, now, sink);
}

void
reorder_sweep(struct reorder_ctx *ctx, struct reorder_window *w, uint64_t now_ticks,
	      struct reorder_sink *sink)
{
	uint32_t now = units(ctx, now_ticks);
	struct reorder_block *b = w->blk;

	if (b == NULL)
		return;
	ctx->now = now;
	sweep_one(ctx, w, now, sink);
	settle(ctx, w, sink);
	if (w->held == 0 && now - b->idle_since >= ctx->release_idle)
		block_release(ctx, b);
}

void
reorder_sweep_all(struct reorder_ctx *ctx, uint64_t now_ticks, struct reorder_sink *sink)
{
	uint32_t now = units(ctx, now_ticks);
	struct reorder_block *b, *nb;

	ctx->now = now;
	for (b = ctx->busy.head; b != NULL; b = nb) {
		nb = b->next; /* expire may move b to the idle list */
		sweep_one(ctx, b->win, now, sink);
	}
	if (sink->win != NULL) {
		settle(ctx, sink->win, sink);
		sink_out(sink);
		sink->win = NULL;
	}
	/* The idle list is in order of idle_since: stop at the first young one. */
	while ((b = ctx->idle.head) != NULL && now - b->idle_since >= ctx->release_idle)
		block_release(ctx, b);
}

void
reorder_flush(struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_sink *sink)
{
	struct reorder_block *b = w->blk;

	if (b == NULL)
		return;
	sink_bind(sink, w);
	flush_held(ctx, w, ctx->now, sink);
	block_release(ctx, b);
}

void
reorder_free(struct reorder_ctx *ctx, struct reorder_window *w)
{
	struct reorder_block *b = w->blk;

	if (b != NULL) {
		uint32_t p, size = mask_of(w) + 1, n = 0;

		for (p = 0; p < size; p++) {
			if (b->slot[p] != NULL) {
				rte_pktmbuf_free(b->slot[p]);
				b->slot[p] = NULL;
				n++;
			}
		}
		STAT_ADD(w, freed, n);
		set_held(w, 0);
		block_release(ctx, b);
	}
	w->flags &= ~F_SYNCED;
	w->far_count = 0;
}

/* ---- setup ---- */

static unsigned int
log2_floor(uint64_t v)
{
	unsigned int r = 0;

	while (v >>= 1)
		r++;
	return r;
}

static void
conf_fill(struct reorder_conf *c, const struct reorder_conf *base)
{
	if (c->size == 0)
		c->size = base->size;
	if (c->hold_us == 0)
		c->hold_us = base->hold_us;
	if (c->hold_min_us == 0)
		c->hold_min_us = base->hold_min_us;
	if (c->resync_after == 0)
		c->resync_after = base->resync_after;
}

struct reorder_ctx *
reorder_ctx_create(const struct reorder_ctx_conf *conf)
{
	static const struct reorder_conf builtin = {
		.size = REORDER_DEFAULT_SIZE,
		.hold_us = REORDER_DEFAULT_HOLD_US,
		.hold_min_us = REORDER_DEFAULT_HOLD_MIN_US,
		.resync_after = REORDER_DEFAULT_RESYNC,
	};
	struct reorder_ctx *ctx;
	uint64_t hz = conf->hz ? conf->hz : clock_hz();
	uint32_t i;

	ctx = rte_zmalloc_socket("reorder_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE, conf->socket_id);
	if (ctx == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ctx->defaults = conf->defaults;
	conf_fill(&ctx->defaults, &builtin);
	ctx->max_size = conf->max_size ? conf->max_size : ctx->defaults.size;
	ctx->max_blocks = conf->max_blocks ? conf->max_blocks : 256;
	ctx->socket_id = conf->socket_id;
	if (!rte_is_power_of_2(ctx->max_size) || ctx->max_size < REORDER_MIN_SIZE ||
	    ctx->max_size > REORDER_MAX_SIZE || ctx->defaults.size > ctx->max_size ||
	    !rte_is_power_of_2(ctx->defaults.size) || hz < 1000000 ||
	    conf->prealloc_blocks > ctx->max_blocks) {
		rte_free(ctx);
		rte_errno = EINVAL;
		return NULL;
	}
	ctx->fifo_mask = 2 * ctx->max_size - 1;
	{
		size_t a, b, c;

		ctx->block_bytes = (uint32_t)block_layout(ctx->max_size, &a, &b, &c);
	}
	/* ~1 us units: 2^32 of them last 71 minutes, far beyond any hold time. */
	ctx->shift = log2_floor(hz / 1000000);
	ctx->units_per_s = hz >> ctx->shift;
	ctx->release_idle = us_to_units(ctx, conf->release_idle_us ? conf->release_idle_us : 1000000);
	if (ctx->release_idle == 0)
		ctx->release_idle = 1;
	ctx->all = rte_zmalloc_socket("reorder_blocks", ctx->max_blocks * sizeof(ctx->all[0]), 0,
				      conf->socket_id);
	if (ctx->all == NULL) {
		rte_free(ctx);
		rte_errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < conf->prealloc_blocks; i++) {
		struct reorder_block *b = block_new(ctx);

		if (b == NULL) {
			reorder_ctx_free(ctx);
			rte_errno = ENOMEM;
			return NULL;
		}
		b->next = ctx->free;
		ctx->free = b;
	}
	return ctx;
}

void
reorder_ctx_free(struct reorder_ctx *ctx)
{
	uint32_t i;

	if (ctx == NULL)
		return;
	for (i = 0; i < ctx->n_blocks; i++) {
		struct reorder_block *b = ctx->all[i];

		if (b->win != NULL)
			reorder_free(ctx, b->win);
		rte_free(b);
	}
	rte_free(ctx->all);
	rte_free(ctx);
}

int
reorder_window_init(struct reorder_ctx *ctx, struct reorder_window *w,
		    const struct reorder_conf *conf)
{
	struct reorder_conf c = conf ? *conf : ctx->defaults;

	conf_fill(&c, &ctx->defaults);
	if (!rte_is_power_of_2(c.size) || c.size < REORDER_MIN_SIZE || c.size > ctx->max_size ||
	    c.hold_min_us > c.hold_us)
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	w->log2_size = (uint8_t)log2_floor(c.size);
	w->hold_max = us_to_units(ctx, c.hold_us);
	w->hold_min = us_to_units(ctx, c.hold_min_us);
	/* Adaptive: no delay variation measured yet, so the shortest hold. A path
	 * that only loses packets never fills a gap and must not wait hold_max
	 * for each loss; late arrivals and gap fills raise it (adapt). */
	w->hold = c.adaptive ? w->hold_min : w->hold_max;
	w->resync_after = c.resync_after;
	w->flags = (c.off ? F_OFF : 0) | (c.adaptive ? F_ADAPTIVE : 0);
	return 0;
}

void
reorder_stats_read(const struct reorder_window *w, struct reorder_stats *o)
{
	o->accepted = __atomic_load_n(&w->stats.accepted, __ATOMIC_RELAXED);
	o->under_window = __atomic_load_n(&w->stats.under_window, __ATOMIC_RELAXED);
	o->duplicated = __atomic_load_n(&w->stats.duplicated, __ATOMIC_RELAXED);
	o->far_ahead = __atomic_load_n(&w->stats.far_ahead, __ATOMIC_RELAXED);
	o->freed = __atomic_load_n(&w->stats.freed, __ATOMIC_RELAXED);
	o->buffered = __atomic_load_n(&w->stats.buffered, __ATOMIC_RELAXED);
	o->lost = __atomic_load_n(&w->stats.lost, __ATOMIC_RELAXED);
	o->resyncs = __atomic_load_n(&w->stats.resyncs, __ATOMIC_RELAXED);
	o->nobuf = __atomic_load_n(&w->stats.nobuf, __ATOMIC_RELAXED);
}

uint32_t
reorder_hold_us(const struct reorder_ctx *ctx, const struct reorder_window *w)
{
	uint32_t hold = __atomic_load_n(&w->hold, __ATOMIC_RELAXED);

	return (uint32_t)(((uint64_t)hold * 1000000u + ctx->units_per_s / 2) / ctx->units_per_s);
}

void
reorder_ctx_info(const struct reorder_ctx *ctx, struct reorder_ctx_info *o)
{
	o->blocks_allocated = ctx->n_blocks;
	o->blocks_in_use = ctx->in_use;
	o->block_bytes = ctx->block_bytes;
	o->reclaimed = ctx->reclaimed;
	o->nobuf = ctx->nobuf;
}
