/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fq_codel: the scheduler of RFC 8290 with the CoDel queue of RFC 8289 per
 * flow. See fq_codel.h for the model.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_random.h>

#include "fq_codel.h"
#include "pkt_ecn.h"
#include "stats.h"

/* What a queued packet carries: the next packet of its flow and when it came. */
struct fq_codel_mbuf {
	struct rte_mbuf *next;
	uint64_t enqueue_time;
};

static int fq_codel_dynfield = -1;

static inline struct fq_codel_mbuf *
pkt_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, fq_codel_dynfield, struct fq_codel_mbuf *);
}

#define NO_FLOW UINT32_MAX
enum { LIST_NONE, LIST_NEW, LIST_OLD };

struct fq_codel_flow {
	struct rte_mbuf *head, *tail;
	int32_t deficit;          /* bytes the flow may still send this round */
	uint32_t backlog;         /* bytes queued */
	uint32_t next;            /* next flow on the same list */
	uint8_t list;             /* LIST_* */
	struct codel_vars cv;
};

/* One cache line per flow: the flow array is a queue's whole memory. */
_Static_assert(sizeof(struct fq_codel_flow) == 64, "a flow fills one cache line");

struct flow_list {
	uint32_t head, tail;
};

struct fq_codel {
	struct fq_codel_params p;
	struct fq_codel_stats *st;
	fq_codel_drop_fn drop;
	void *drop_arg;
	struct flow_hash_key key;
	uint32_t packets;         /* queued, all flows */
	uint32_t memory;          /* mbuf buffer bytes queued */
	struct flow_list new_flows, old_flows;
	struct fq_codel_flow flows[];
};

int
fq_codel_dynfield_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "dpvpn_fq_codel",
		.size = sizeof(struct fq_codel_mbuf),
		.align = __alignof__(struct fq_codel_mbuf),
	};

	if (fq_codel_dynfield < 0)
		fq_codel_dynfield = rte_mbuf_dynfield_register(&desc);
	return fq_codel_dynfield < 0 ? -1 : 0;
}

void
fq_codel_params_default(struct fq_codel_params *p, uint64_t hz)
{
	*p = (struct fq_codel_params){
		.flows = 1024,
		.quantum = 1514,
		.limit = 10240,
		.memory_limit = 32u << 20,
		.drop_batch = 64,
		.mtu = 1500,
		.target = hz / 200,      /* 5 ms */
		.interval = hz / 10,     /* 100 ms */
		.codel = true,
		.ecn = true,
	};
}

struct fq_codel *
fq_codel_create(const struct fq_codel_params *p, struct fq_codel_stats *stats, fq_codel_drop_fn drop,
		void *drop_arg, int socket)
{
	struct fq_codel *q;

	if (fq_codel_dynfield < 0 || p->flows == 0 || (p->flows & (p->flows - 1)) != 0 ||
	    p->quantum == 0 || p->limit == 0 || p->drop_batch == 0 || drop == NULL || stats == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	q = rte_zmalloc_socket("fq_codel", sizeof(*q) + p->flows * sizeof(q->flows[0]),
			       RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	q->p = *p;
	q->st = stats;
	q->drop = drop;
	q->drop_arg = drop_arg;
	q->key.k0 = rte_rand();
	q->key.k1 = rte_rand();
	q->new_flows = q->old_flows = (struct flow_list){ NO_FLOW, NO_FLOW };
	return q;
}

/* Bytes of mbuf buffers m holds: what the memory limit bounds. */
static inline uint32_t
pkt_memory(const struct rte_mbuf *m)
{
	return (uint32_t)m->buf_len * m->nb_segs;
}

static inline uint32_t
flow_index(const struct fq_codel *q, const struct fq_codel_flow *f)
{
	return (uint32_t)(f - q->flows);
}

static inline void
list_append(struct fq_codel *q, struct flow_list *l, struct fq_codel_flow *f, uint8_t which)
{
	uint32_t i = flow_index(q, f);

	f->next = NO_FLOW;
	f->list = which;
	if (l->tail == NO_FLOW)
		l->head = i;
	else
		q->flows[l->tail].next = i;
	l->tail = i;
}

static inline struct fq_codel_flow *
list_pop(struct fq_codel *q, struct flow_list *l)
{
	struct fq_codel_flow *f = &q->flows[l->head];

	l->head = f->next;
	if (l->head == NO_FLOW)
		l->tail = NO_FLOW;
	f->list = LIST_NONE;
	return f;
}

/* Takes the head packet of f off the queue (NULL when f is empty). */
static inline struct rte_mbuf *
flow_pop(struct fq_codel *q, struct fq_codel_flow *f)
{
	struct rte_mbuf *m = f->head;
	uint32_t len;

	if (m == NULL)
		return NULL;
	f->head = pkt_meta(m)->next;
	if (f->head == NULL)
		f->tail = NULL;
	len = rte_pktmbuf_pkt_len(m);
	f->backlog -= len;
	q->packets--;
	q->memory -= pkt_memory(m);
	stats_add(&q->st->backlog_packets, (uint64_t)-1);
	stats_add(&q->st->backlog_bytes, -(uint64_t)len);
	return m;
}

static void
drop_pkt(struct fq_codel *q, struct rte_mbuf *m, enum fq_codel_drop_reason why)
{
	stats_inc(why == FQ_CODEL_DROP_AQM ? &q->st->aqm_drops : &q->st->overlimit_drops);
	q->drop(q->drop_arg, m, why);
}

/*
 * At a limit: drop from the head of the flow holding the most bytes, up to
 * drop_batch packets or half its backlog, whichever comes first (RFC 8290
 * section 4.1). Scanning every flow is costly, so it is done once per batch.
 */
static void
drop_from_fattest(struct fq_codel *q)
{
	struct fq_codel_flow *fat = &q->flows[0];
	uint32_t dropped_bytes = 0, threshold;

	for (uint32_t i = 1; i < q->p.flows; i++)
		if (q->flows[i].backlog > fat->backlog)
			fat = &q->flows[i];
	threshold = fat->backlog / 2;
	for (uint32_t n = 0; n < q->p.drop_batch && dropped_bytes < threshold; n++) {
		struct rte_mbuf *m = flow_pop(q, fat);

		if (m == NULL)
			break;
		dropped_bytes += rte_pktmbuf_pkt_len(m);
		drop_pkt(q, m, FQ_CODEL_DROP_OVERLIMIT);
	}
	/* A one-packet flow has threshold 0: still drop that packet. */
	if (dropped_bytes == 0) {
		struct rte_mbuf *m = flow_pop(q, fat);

		if (m != NULL)
			drop_pkt(q, m, FQ_CODEL_DROP_OVERLIMIT);
	}
}

uint32_t
fq_codel_classify(const struct fq_codel *q, const struct rte_mbuf *m)
{
	return (uint32_t)flow_hash_ipv4(&q->key, rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *),
					rte_pktmbuf_data_len(m));
}

void
fq_codel_enqueue(struct fq_codel *q, struct rte_mbuf *m, uint32_t hash, uint64_t now)
{
	struct fq_codel_flow *f = &q->flows[hash & (q->p.flows - 1)];
	struct fq_codel_mbuf *meta = pkt_meta(m);
	uint32_t len = rte_pktmbuf_pkt_len(m);

	meta->next = NULL;
	meta->enqueue_time = now;
	if (f->tail == NULL)
		f->head = m;
	else
		pkt_meta(f->tail)->next = m;
	f->tail = m;
	f->backlog += len;
	q->packets++;
	q->memory += pkt_memory(m);
	stats_inc(&q->st->enqueued);
	stats_inc(&q->st->backlog_packets);
	stats_add(&q->st->backlog_bytes, len);
	if (f->list == LIST_NONE) {
		/* A flow that was idle starts on the new list: sparse flows go first. */
		list_append(q, &q->new_flows, f, LIST_NEW);
		f->deficit = (int32_t)q->p.quantum;
		stats_inc(&q->st->active_flows);
		stats_inc(&q->st->new_flow_count);
	}
	if (unlikely(q->packets > q->p.limit || q->memory > q->p.memory_limit))
		drop_from_fattest(q);
}

/*
 * Takes f's head packet and tells whether CoDel wants it dropped: every
 * packet has been waiting longer than target for at least an interval.
 */
static struct rte_mbuf *
codel_pop(struct fq_codel *q, struct fq_codel_flow *f, uint64_t now, bool *ok_to_drop)
{
	struct rte_mbuf *m = flow_pop(q, f);
	uint64_t sojourn;

	*ok_to_drop = false;
	if (m == NULL) {
		f->cv.first_above_time = 0;
		return NULL;
	}
	sojourn = now - pkt_meta(m)->enqueue_time;
	if (!q->p.codel || sojourn < q->p.target || f->backlog <= q->p.mtu) {
		/* Below target, or too little queued to be a standing queue. */
		f->cv.first_above_time = 0;
	} else if (f->cv.first_above_time == 0) {
		f->cv.first_above_time = now + q->p.interval;
	} else if (now >= f->cv.first_above_time) {
		*ok_to_drop = true;
	}
	return m;
}

/* ECN-capable packets are marked instead of dropped: true when m was marked. */
static inline bool
codel_mark(struct fq_codel *q, struct rte_mbuf *m)
{
	if (!q->p.ecn || !pkt_ipv4_set_ce(rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *)))
		return false;
	stats_inc(&q->st->ecn_marks);
	return true;
}

/* RFC 8289's dequeue for one flow: the packet to send, or NULL when f ran empty. */
static struct rte_mbuf *
codel_dequeue(struct fq_codel *q, struct fq_codel_flow *f, uint64_t now)
{
	struct codel_vars *cv = &f->cv;
	bool drop;
	struct rte_mbuf *m = codel_pop(q, f, now, &drop);

	if (m == NULL) {
		cv->dropping = false;
		return NULL;
	}
	if (cv->dropping) {
		if (!drop) {
			cv->dropping = false;
			return m;
		}
		/* A large backlog may make several drops due at once. */
		while (cv->dropping && now >= cv->drop_next) {
			cv->count++;
			if (codel_mark(q, m)) {
				cv->drop_next = codel_control_law(cv->drop_next, q->p.interval, cv->count);
				return m;
			}
			drop_pkt(q, m, FQ_CODEL_DROP_AQM);
			m = codel_pop(q, f, now, &drop);
			if (!drop)
				cv->dropping = false;
			else
				cv->drop_next = codel_control_law(cv->drop_next, q->p.interval, cv->count);
		}
		return m;
	}
	if (drop) {
		uint32_t delta;

		if (!codel_mark(q, m)) {
			drop_pkt(q, m, FQ_CODEL_DROP_AQM);
			m = codel_pop(q, f, now, &drop);
		}
		cv->dropping = true;
		/*
		 * Back in the dropping state soon after leaving it: resume near the
		 * drop rate that controlled the queue last time.
		 */
		delta = cv->count - cv->lastcount;
		cv->count = delta > 1 && now - cv->drop_next < 16 * q->p.interval ? delta : 1;
		cv->lastcount = cv->count;
		cv->drop_next = codel_control_law(now, q->p.interval, cv->count);
	}
	return m;
}

unsigned
fq_codel_hist_bucket(uint64_t ticks)
{
	unsigned e, b;

	if (ticks < (1ull << FQ_CODEL_HIST_MIN_LOG2))
		return 0;
	e = 63u - (unsigned)__builtin_clzll(ticks);
	b = 1 + 4 * (e - FQ_CODEL_HIST_MIN_LOG2) + (unsigned)((ticks >> (e - 2)) & 3);
	return b < FQ_CODEL_HIST_BUCKETS ? b : FQ_CODEL_HIST_BUCKETS - 1;
}

uint64_t
fq_codel_hist_floor(unsigned bucket)
{
	unsigned e, sub;

	if (bucket == 0)
		return 0;
	e = FQ_CODEL_HIST_MIN_LOG2 + (bucket - 1) / 4;
	sub = (bucket - 1) % 4;
	return (1ull << e) + ((uint64_t)sub << (e - 2));
}

uint64_t
fq_codel_hist_quantile(const uint64_t *hist, double quantile)
{
	uint64_t total = 0, seen = 0, want;

	for (unsigned i = 0; i < FQ_CODEL_HIST_BUCKETS; i++)
		total += __atomic_load_n(&hist[i], __ATOMIC_RELAXED);
	if (total == 0)
		return 0;
	want = (uint64_t)(quantile * (double)total);
	if (want >= total)
		want = total - 1;
	for (unsigned i = 0; i < FQ_CODEL_HIST_BUCKETS; i++) {
		seen += __atomic_load_n(&hist[i], __ATOMIC_RELAXED);
		if (seen > want)
			return fq_codel_hist_floor(i);
	}
	return fq_codel_hist_floor(FQ_CODEL_HIST_BUCKETS - 1);
}

static inline void
account_sent(struct fq_codel *q, const struct rte_mbuf *m, uint64_t now)
{
	uint64_t sojourn = now - pkt_meta((struct rte_mbuf *)(uintptr_t)m)->enqueue_time;

	stats_inc(&q->st->dequeued);
	stats_inc(&q->st->sojourn_hist[fq_codel_hist_bucket(sojourn)]);
	if (sojourn > q->st->sojourn_max)
		stats_add(&q->st->sojourn_max, sojourn - q->st->sojourn_max);
}

struct rte_mbuf *
fq_codel_dequeue(struct fq_codel *q, uint64_t now)
{
	for (;;) {
		struct flow_list *l = q->new_flows.head != NO_FLOW ? &q->new_flows : &q->old_flows;
		struct fq_codel_flow *f;
		struct rte_mbuf *m;

		if (l->head == NO_FLOW)
			return NULL;
		f = &q->flows[l->head];
		if (f->deficit <= 0) {
			/* Spent its quantum: a new round, at the back of the old flows. */
			f->deficit += (int32_t)q->p.quantum;
			list_pop(q, l);
			list_append(q, &q->old_flows, f, LIST_OLD);
			continue;
		}
		m = codel_dequeue(q, f, now);
		if (m == NULL) {
			/*
			 * Empty. A new flow goes to the old list first, so a flow
			 * cannot stay "new" (and first) by emptying every round.
			 */
			list_pop(q, l);
			if (l == &q->new_flows && q->old_flows.head != NO_FLOW)
				list_append(q, &q->old_flows, f, LIST_OLD);
			else
				stats_add(&q->st->active_flows, (uint64_t)-1);
			continue;
		}
		f->deficit -= (int32_t)rte_pktmbuf_pkt_len(m);
		account_sent(q, m, now);
		return m;
	}
}

uint32_t
fq_codel_backlog_packets(const struct fq_codel *q)
{
	return q->packets;
}

void
fq_codel_free(struct fq_codel *q)
{
	if (q == NULL)
		return;
	for (uint32_t i = 0; i < q->p.flows; i++) {
		struct rte_mbuf *m;

		while ((m = flow_pop(q, &q->flows[i])) != NULL)
			drop_pkt(q, m, FQ_CODEL_DROP_OVERLIMIT);
	}
	stats_add(&q->st->active_flows, -q->st->active_flows);
	rte_free(q);
}
