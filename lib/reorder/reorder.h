/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-tunnel sequence window: turns jitter and dual lines into in-order delivery.
 *
 * One struct reorder_window lives inside each sequenced tunnel (about 128 bytes
 * when idle). Buffer space (a "block": mbuf slots, arrival times, history
 * bitmap) is taken from the owner lcore's struct reorder_ctx only while the
 * tunnel sees reordering, and goes back after it has been quiet. Everything is
 * single-threaded per lcore: no locks, no atomics beyond relaxed stores that
 * let telemetry read the counters.
 *
 * Every mbuf given to reorder_push() ends exactly once: delivered in sequence
 * order through the sink (counted accepted), freed by the library and counted
 * (under_window, duplicated, far_ahead), or, while held, freed by
 * reorder_free() (counted freed). docs/reorder.md states the identities.
 */
#ifndef DPVPN_REORDER_H
#define DPVPN_REORDER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#define REORDER_DEFAULT_SIZE    2048u
#define REORDER_DEFAULT_HOLD_US 333000u
#define REORDER_DEFAULT_HOLD_MIN_US 1000u
#define REORDER_DEFAULT_RESYNC  3u
#define REORDER_MIN_SIZE        8u
/* Far below 2^31 so serial arithmetic never sees an ambiguous distance. */
#define REORDER_MAX_SIZE        (1u << 16)

/* Per-window settings (per tunnel, or the ctx defaults). Zero means default. */
struct reorder_conf {
	uint32_t size;         /* packets, power of two in [MIN_SIZE, ctx max_size] */
	uint32_t hold_us;      /* hold time of a gap; the upper bound when adaptive */
	uint32_t hold_min_us;  /* adaptive lower bound */
	uint8_t resync_after;  /* consistent out-of-place packets before resync */
	bool adaptive;         /* hold = 2.2 * (srtt + 4 rttvar) of gap-fill delays */
	bool off;              /* pass-through like stock Linux: drop anything older
				  than the last delivered, never wait */
};

/* Per-lcore context: the block pool. */
struct reorder_ctx_conf {
	struct reorder_conf defaults; /* used by reorder_window_init(conf = NULL) */
	uint32_t max_size;        /* largest window of any tunnel (block size); 0: defaults.size */
	uint32_t max_blocks;      /* cap on blocks (memory cap); 0: 256 */
	uint32_t prealloc_blocks; /* allocated at create, the rest on demand up to the cap */
	uint32_t release_idle_us; /* sweep returns a block unused this long; 0: 1 s */
	uint64_t hz;              /* ticks per second of `now`; 0: clock_hz() */
	int socket_id;            /* for rte_malloc; SOCKET_ID_ANY is fine */
};

/*
 * Counters, written only by the owner lcore with relaxed stores; read them with
 * reorder_stats_read(). Fates (each input packet exactly one, eventually):
 * accepted, under_window, duplicated, far_ahead, freed. The others are events.
 */
struct reorder_stats {
	uint64_t accepted;     /* delivered upward, in order */
	uint64_t under_window; /* arrived behind the delivered edge, not a known copy */
	uint64_t duplicated;   /* copy of a held packet or of one delivered within the window */
	uint64_t far_ahead;    /* more than a window ahead, dropped pending resync evidence */
	uint64_t freed;        /* held when reorder_free() tore the window down */
	uint64_t buffered;     /* event: had a gap before it and waited */
	uint64_t lost;         /* event: sequence numbers given up (hold expired, overflow, no block) */
	uint64_t resyncs;      /* event: the edge jumped to the peer's new numbering */
	uint64_t nobuf;        /* event: needed a block, pool at cap: gap given up at once */
};

struct reorder_block;
struct reorder_ctx;

/* Embed in the tunnel. Fields are internal; read through the functions below. */
struct reorder_window {
	struct reorder_block *blk; /* NULL unless reordering recently */
	uint32_t next;        /* next sequence number to deliver (delivered edge + 1) */
	uint32_t clean_from;  /* every number in [clean_from, next) was delivered */
	uint32_t held;        /* packets waiting (telemetry reads it) */
	uint32_t hold;        /* current hold, time units of the ctx */
	uint32_t hold_max, hold_min;
	uint32_t srtt, rttvar; /* adaptive hold estimator, time units */
	uint32_t far_seq;     /* last out-of-place sequence number (resync evidence) */
	uint32_t far_since;   /* when the current evidence run began */
	uint8_t log2_size;
	uint8_t far_count;
	uint8_t resync_after;
	uint8_t flags;
	struct reorder_stats stats;
};

/*
 * Where delivered packets go. The caller owns pkts[cap]; the library appends
 * and calls fn when the array is full or the window changes, so one fn call
 * carries packets of one window, in order. Like rte_reorder's insert + drain,
 * a push only files the packet; the run that became deliverable is drained
 * when the sink moves to another window or at reorder_sink_flush(), which the
 * caller must call at the end of every RX burst (and after sweeps). fn must
 * not push into the same window.
 */
typedef void (*reorder_deliver_fn)(struct reorder_window *w, struct rte_mbuf **pkts,
				   uint16_t n, void *arg);

struct reorder_sink {
	struct reorder_ctx *ctx;
	struct rte_mbuf **pkts;
	uint16_t n, cap;
	struct reorder_window *win;
	reorder_deliver_fn fn;
	void *arg;
};

static inline void
reorder_sink_init(struct reorder_sink *s, struct reorder_ctx *ctx, struct rte_mbuf **pkts,
		  uint16_t cap, reorder_deliver_fn fn, void *arg)
{
	s->ctx = ctx;
	s->pkts = pkts;
	s->n = 0;
	s->cap = cap;
	s->win = NULL;
	s->fn = fn;
	s->arg = arg;
}

/* Drain the current window's deliverable run and hand everything to fn. */
void reorder_sink_flush(struct reorder_sink *s);

/* NULL with rte_errno set (EINVAL, ENOMEM) on failure. */
struct reorder_ctx *reorder_ctx_create(const struct reorder_ctx_conf *conf);
/* Frees the pool; any window still holding packets has them freed (counted freed). */
void reorder_ctx_free(struct reorder_ctx *ctx);

/* conf NULL: the ctx defaults. 0 or -EINVAL (size not a power of two or too large). */
int reorder_window_init(struct reorder_ctx *ctx, struct reorder_window *w,
			const struct reorder_conf *conf);

/* One packet of window w with sequence number seq; now in ticks (clock_now(),
 * read once per burst). Delivers straight into the sink when in order and
 * nothing is held; otherwise files it, and the deliverable run is drained at
 * the next sink flush or window switch. Drops (copies, too late, far ahead)
 * free the mbuf and count it. */
void reorder_push(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq,
		  struct rte_mbuf *m, uint64_t now, struct reorder_sink *sink);
void reorder_push_burst(struct reorder_ctx *ctx, struct reorder_window *w,
			const uint32_t *seqs, struct rte_mbuf **pkts, uint16_t n,
			uint64_t now, struct reorder_sink *sink);

/* The peer's numbering restarted, on authenticated evidence (not a guess
 * from out-of-place numbers): what is held is delivered, the gaps counted
 * lost, and the window starts over at seq, delivering m (counted resyncs). */
void reorder_restart(struct reorder_ctx *ctx, struct reorder_window *w, uint32_t seq,
		     struct rte_mbuf *m, uint64_t now, struct reorder_sink *sink);

/* Gives up expired gaps of w and returns its block if quiet long enough.
 * Call reorder_sink_flush() afterwards. */
void reorder_sweep(struct reorder_ctx *ctx, struct reorder_window *w, uint64_t now,
		   struct reorder_sink *sink);
/* The same for every window of ctx that holds a block: call every ~1 ms. */
void reorder_sweep_all(struct reorder_ctx *ctx, uint64_t now, struct reorder_sink *sink);

/* Delivers everything held, in order (gaps counted lost), and returns the block.
 * The window stays in sync: traffic may continue. */
void reorder_flush(struct reorder_ctx *ctx, struct reorder_window *w, struct reorder_sink *sink);
/* Teardown without delivery: frees held mbufs (counted freed), returns the block,
 * and leaves the window unsynchronized (the next packet starts it again). */
void reorder_free(struct reorder_ctx *ctx, struct reorder_window *w);

/* Telemetry, from any thread. */
void reorder_stats_read(const struct reorder_window *w, struct reorder_stats *out);
static inline uint32_t
reorder_held(const struct reorder_window *w)
{
	return __atomic_load_n(&w->held, __ATOMIC_RELAXED);
}
uint32_t reorder_hold_us(const struct reorder_ctx *ctx, const struct reorder_window *w);
static inline uint32_t
reorder_next_seq(const struct reorder_window *w)
{
	return __atomic_load_n(&w->next, __ATOMIC_RELAXED);
}

/* Pool state, for telemetry and tests. */
struct reorder_ctx_info {
	uint32_t blocks_allocated; /* memory taken so far (never more than max_blocks) */
	uint32_t blocks_in_use;    /* attached to windows */
	uint32_t block_bytes;      /* size of one block */
	uint64_t reclaimed;        /* quiet blocks taken back for another window */
	uint64_t nobuf;            /* attach failures at the cap */
};
void reorder_ctx_info(const struct reorder_ctx *ctx, struct reorder_ctx_info *out);

#endif
