/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fq_codel (RFC 8290): flow queues scheduled by deficit round robin, each
 * with CoDel (codel.h), new flows served before old ones so sparse traffic
 * (DNS, ping, TCP handshakes, VoIP) passes a bulk transfer's queue.
 *
 * One instance per tunnel that queues, owned by one lcore: no locks.
 * Packets are linked through an mbuf dynamic field (next pointer and enqueue
 * time), so a queue needs no packet slots of its own; memory is the flow
 * array (64 bytes per flow). Counters live in caller memory (struct
 * fq_codel_stats) so they outlive a queue that is freed while idle.
 *
 * Configured with flows = 1 and codel = false it is a plain FIFO with tail
 * drop at the limits: the comparison point for latency under load.
 */
#ifndef DPVPN_FQ_CODEL_H
#define DPVPN_FQ_CODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "codel.h"
#include "flow_hash.h"

struct fq_codel_params {
	uint32_t flows;         /* flow queues, a power of two (RFC 8290 default 1024) */
	uint32_t quantum;       /* bytes a flow may send per round (default 1514) */
	uint32_t limit;         /* packets queued at most */
	uint32_t memory_limit;  /* bytes of mbuf buffers queued at most */
	uint32_t drop_batch;    /* packets dropped at once from the fattest flow at a limit */
	uint32_t mtu;           /* a flow holding at most this many bytes is never dropped */
	uint64_t target;        /* clock ticks: acceptable standing queue delay (5 ms) */
	uint64_t interval;      /* clock ticks: sliding window of the minimum delay (100 ms) */
	bool codel;             /* false: no AQM, only the limits drop */
	bool ecn;               /* mark ECN-capable packets instead of dropping them */
};

/* Why a packet was dropped: passed to the drop callback. */
enum fq_codel_drop_reason { FQ_CODEL_DROP_AQM, FQ_CODEL_DROP_OVERLIMIT };

/* Sojourn-time histogram: 4 buckets per power of two of clock ticks from 2^12 up. */
#define FQ_CODEL_HIST_MIN_LOG2 12
#define FQ_CODEL_HIST_BUCKETS 84

/* Written by the owner lcore only (relaxed stores, see stats.h); read by telemetry. */
struct fq_codel_stats {
	uint64_t enqueued;
	uint64_t dequeued;
	uint64_t ecn_marks;       /* CE marks instead of drops */
	uint64_t aqm_drops;       /* CoDel drops */
	uint64_t overlimit_drops; /* packet or memory limit hit: dropped from the fattest flow */
	uint64_t backlog_packets;
	uint64_t backlog_bytes;
	uint64_t active_flows;    /* flows on the new or old list */
	uint64_t new_flow_count;  /* flows that became active (sparse-flow promotions) */
	uint64_t sojourn_max;     /* clock ticks */
	uint64_t sojourn_hist[FQ_CODEL_HIST_BUCKETS];
};

/* Frees m (or hands it on) after a drop; the queue has already forgotten it. */
typedef void (*fq_codel_drop_fn)(void *arg, struct rte_mbuf *m, enum fq_codel_drop_reason why);

struct fq_codel;

/* Registers the mbuf dynamic field queued packets are linked by. Once, after EAL init. */
int fq_codel_dynfield_register(void);

/* Defaults of RFC 8290 for a given clock rate (ticks per second). */
void fq_codel_params_default(struct fq_codel_params *p, uint64_t hz);
/* NULL when the parameters are invalid (EINVAL) or memory is short (ENOMEM), in rte_errno. */
struct fq_codel *fq_codel_create(const struct fq_codel_params *p, struct fq_codel_stats *stats,
				 fq_codel_drop_fn drop, void *drop_arg, int socket);
/* Drops (through the callback, as overlimit) whatever is queued and frees q. */
void fq_codel_free(struct fq_codel *q);

/* The flow of an IPv4 packet at m's data start, under q's secret key. */
uint32_t fq_codel_classify(const struct fq_codel *q, const struct rte_mbuf *m);
/* Queues m (an IPv4 packet at its data start) on flow hash at time now; may drop from the fattest flow. */
void fq_codel_enqueue(struct fq_codel *q, struct rte_mbuf *m, uint32_t hash, uint64_t now);
/* The next packet to send at time now, or NULL when empty. Drops and marks on the way. */
struct rte_mbuf *fq_codel_dequeue(struct fq_codel *q, uint64_t now);
uint32_t fq_codel_backlog_packets(const struct fq_codel *q);

/* Sojourn histogram helpers: bucket of a delay, and a bucket's lower bound in ticks. */
unsigned fq_codel_hist_bucket(uint64_t ticks);
uint64_t fq_codel_hist_floor(unsigned bucket);
/* The q-quantile (0..1) of the histogram, in ticks (a bucket's lower bound); 0 when empty. */
uint64_t fq_codel_hist_quantile(const uint64_t *hist, double quantile);

#endif
