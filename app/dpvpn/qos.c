/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-tunnel shaper and fq_codel on the owner lcore: see qos.h. */
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_telemetry.h>

#include "clock.h"
#include "dpvpn.h"
#include "qos.h"

#define QOS_IDLE_FREE_MS 1000  /* a queue without backlog this long goes back to the heap */
#define QOS_RUN_BURST 32       /* packets one tunnel may send per loop: others get their turn */

/* Queues allocated over all workers, against cfg.qos_max_queues. */
static uint32_t queues_in_use;

/* Bytes a packet occupies on the client's line before its framing overhead. */
static inline uint32_t
wire_len(const struct tunnel *t, const struct rte_mbuf *m)
{
	return rte_pktmbuf_pkt_len(m) + t->overhead + (uint32_t)sizeof(struct rte_ipv4_hdr);
}

static void
qos_drop(void *arg, struct rte_mbuf *m, enum fq_codel_drop_reason why)
{
	tunnel_drop_pkt(arg, m, why == FQ_CODEL_DROP_AQM ? DROP_QOS_AQM : DROP_QOS_OVERLIMIT);
}

/* The line has room and the peer's flow control lets one more go. */
static inline bool
may_send(struct tunnel_qos *qs, const struct worker *w)
{
	return shaper_ready(&qs->shaper, w->now) && (qs->t->ops->tx_open == NULL || qs->t->ops->tx_open(qs->t, w->now));
}

int
qos_tunnel_alloc(struct tunnel *t, const struct qos_conf *c)
{
	t->qos = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*t->qos), RTE_CACHE_LINE_SIZE));
	if (t->qos == NULL)
		return -1;
	memset(t->qos, 0, sizeof(*t->qos));
	t->qos->conf = *c;
	return 0;
}

void
qos_tunnel_init(struct tunnel *t)
{
	struct tunnel_qos *qs = t->qos;
	const struct qos_conf *c = &qs->conf;
	uint32_t burst = c->burst;

	if (burst == 0 && c->rate_bps != 0) {
		/* A millisecond at the rate, at least two full-size packets. */
		uint64_t ms_bytes = c->rate_bps / 8000;
		uint32_t two = 2 * (t->mtu + t->overhead + (uint32_t)sizeof(struct rte_ipv4_hdr));

		burst = ms_bytes > two ? (uint32_t)RTE_MIN(ms_bytes, UINT32_MAX / 2) : two;
	}
	qs->t = t;
	shaper_init(&qs->shaper, c->rate_bps, burst, c->overhead, clock_hz());
}

static int
queue_alloc(struct tunnel_qos *qs, unsigned socket)
{
	const struct qos_conf *c = &qs->conf;
	struct fq_codel_params p;

	if (__atomic_add_fetch(&queues_in_use, 1, __ATOMIC_RELAXED) > dp.cfg.qos_max_queues)
		goto full;
	fq_codel_params_default(&p, clock_hz());
	p.flows = c->fifo ? 1 : c->flows;
	p.codel = !c->fifo;
	p.quantum = c->quantum;
	p.limit = c->limit;
	p.memory_limit = c->memory;
	p.mtu = qs->t->mtu;
	p.target = clock_us_to_ticks(c->target_us);
	p.interval = clock_ms_to_ticks(c->interval_ms);
	p.ecn = c->ecn;
	qs->q = fq_codel_create(&p, &qs->st, qos_drop, qs->t, (int)socket);
	if (qs->q != NULL)
		return 0;
full:
	__atomic_sub_fetch(&queues_in_use, 1, __ATOMIC_RELAXED);
	return -1;
}

static void
queue_free(struct tunnel_qos *qs)
{
	fq_codel_free(qs->q);
	qs->q = NULL;
	__atomic_sub_fetch(&queues_in_use, 1, __ATOMIC_RELAXED);
}

void
qos_tunnel_fini(struct tunnel *t)
{
	if (t->qos != NULL && t->qos->q != NULL)
		queue_free(t->qos);
}

void
qos_input(struct worker *w, struct tunnel *t, struct rte_mbuf *m)
{
	struct tunnel_qos *qs = t->qos;

	if (qs->q == NULL || fq_codel_backlog_packets(qs->q) == 0) {
		if (may_send(qs, w)) {
			/* Nothing waits and the line has room: no reason to queue. */
			shaper_charge(&qs->shaper, w->now, wire_len(t, m));
			stats_inc(&qs->bypassed);
			stats_inc(&qs->st.sojourn_hist[0]);
			tunnel_send(w, t, m);
			return;
		}
		if (qs->q == NULL && queue_alloc(qs, rte_socket_id()) < 0) {
			tunnel_drop_pkt(t, m, DROP_QOS_NO_QUEUE);
			return;
		}
	}
	fq_codel_enqueue(qs->q, m, fq_codel_classify(qs->q, m), w->now);
	if (!qs->active) {
		qs->active = true;
		qs->next_active = w->qos_active;
		w->qos_active = qs;
	}
}

unsigned
qos_run(struct worker *w)
{
	struct tunnel_qos **pp = &w->qos_active;
	unsigned sent = 0;

	while (*pp != NULL) {
		struct tunnel_qos *qs = *pp;
		struct tunnel *t = qs->t;

		for (unsigned n = 0; n < QOS_RUN_BURST && may_send(qs, w); n++) {
			struct rte_mbuf *m = fq_codel_dequeue(qs->q, w->now);

			if (m == NULL)
				break;
			shaper_charge(&qs->shaper, w->now, wire_len(t, m));
			tunnel_send(w, t, m);
			sent++;
		}
		if (fq_codel_backlog_packets(qs->q) == 0) {
			*pp = qs->next_active;
			qs->active = false;
			qs->idle_since = w->now;
		} else {
			pp = &qs->next_active;
		}
	}
	return sent;
}

void
qos_tunnel_release(struct worker *w, struct tunnel *t)
{
	struct tunnel_qos *qs = t->qos;

	if (qs->active) {
		struct tunnel_qos **pp = &w->qos_active;

		while (*pp != qs)
			pp = &(*pp)->next_active;
		*pp = qs->next_active;
		qs->active = false;
	}
	qos_tunnel_fini(t);
}

void
qos_housekeeping(struct tunnel *t, uint64_t now)
{
	struct tunnel_qos *qs = t->qos;

	if (qs->q != NULL && !qs->active && now - qs->idle_since > clock_ms_to_ticks(QOS_IDLE_FREE_MS))
		queue_free(qs);
}

static uint64_t
ticks_us(uint64_t ticks)
{
	return clock_ticks_to_us(ticks);
}

void
qos_telemetry(const struct tunnel *t, struct rte_tel_data *d)
{
	const struct tunnel_qos *qs = t->qos;
	const struct fq_codel_stats *st;

	if (qs == NULL) {
		rte_tel_data_add_dict_string(d, "mode", "unshaped");
		return;
	}
	st = &qs->st;
	rte_tel_data_add_dict_string(d, "mode", qs->conf.fifo ? "fifo" : "fq_codel");
	rte_tel_data_add_dict_u64(d, "rate_bps", qs->conf.rate_bps);
	/* An unshaped queue (rate 0: held only by the peer's window) has no burst. */
	rte_tel_data_add_dict_u64(d, "burst_bytes", qs->shaper.ticks_per_byte == 0 ? 0 :
				  (qs->shaper.burst_ticks << SHAPER_FRAC_BITS) / qs->shaper.ticks_per_byte);
	rte_tel_data_add_dict_u64(d, "overhead", qs->conf.overhead);
	rte_tel_data_add_dict_u64(d, "flows", qs->conf.fifo ? 1 : qs->conf.flows);
	rte_tel_data_add_dict_u64(d, "target_us", qs->conf.target_us);
	rte_tel_data_add_dict_u64(d, "interval_ms", qs->conf.interval_ms);
	rte_tel_data_add_dict_u64(d, "ecn", qs->conf.ecn);
	rte_tel_data_add_dict_u64(d, "backlog_packets", stats_read(&st->backlog_packets));
	rte_tel_data_add_dict_u64(d, "backlog_bytes", stats_read(&st->backlog_bytes));
	rte_tel_data_add_dict_u64(d, "active_flows", stats_read(&st->active_flows));
	rte_tel_data_add_dict_u64(d, "new_flows", stats_read(&st->new_flow_count));
	rte_tel_data_add_dict_u64(d, "bypassed", stats_read(&qs->bypassed));
	rte_tel_data_add_dict_u64(d, "enqueued", stats_read(&st->enqueued));
	rte_tel_data_add_dict_u64(d, "dequeued", stats_read(&st->dequeued));
	rte_tel_data_add_dict_u64(d, "ecn_marks", stats_read(&st->ecn_marks));
	rte_tel_data_add_dict_u64(d, "aqm_drops", stats_read(&st->aqm_drops));
	rte_tel_data_add_dict_u64(d, "overlimit_drops", stats_read(&st->overlimit_drops));
	rte_tel_data_add_dict_u64(d, "sojourn_p50_us", ticks_us(fq_codel_hist_quantile(st->sojourn_hist, 0.50)));
	rte_tel_data_add_dict_u64(d, "sojourn_p90_us", ticks_us(fq_codel_hist_quantile(st->sojourn_hist, 0.90)));
	rte_tel_data_add_dict_u64(d, "sojourn_p99_us", ticks_us(fq_codel_hist_quantile(st->sojourn_hist, 0.99)));
	rte_tel_data_add_dict_u64(d, "sojourn_max_us", ticks_us(stats_read(&st->sojourn_max)));
}
