/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-tunnel QoS towards the client: a shaper set slightly below the
 * client's line rate, and fq_codel behind it, so the queue forms here (where
 * it is fair and short) and not in the ISP's buffers.
 *
 * A shaped tunnel's packets pass qos_input on the owner lcore. While the
 * shaper has room and nothing is queued they go straight on (no queue, no
 * cost); otherwise they wait in the tunnel's fq_codel, which the owner's loop
 * drains at the shaper's pace (qos_run). The queue is allocated when the
 * tunnel first has to queue and freed after a second without backlog.
 * Unshaped tunnels have no tunnel_qos at all, except PPTP sessions that
 * respect the client's receive window: their queue (rate 0, never shaped)
 * holds what the window does not let go yet (tunnel_ops.tx_open).
 */
#ifndef DPVPN_QOS_H
#define DPVPN_QOS_H

#include <stdbool.h>
#include <stdint.h>

#include "fq_codel.h"
#include "shaper.h"
#include "tunnel.h"

struct worker;
struct rte_tel_data;

/* The keys of docs/configuration.md "QoS", in physical units. */
struct qos_conf {
	uint64_t rate_bps;      /* shaper rate; 0: unshaped */
	uint32_t burst;         /* bytes the shaper lets through at once; 0: automatic */
	uint32_t overhead;      /* bytes the client's line adds per packet */
	bool fifo;              /* one FIFO with tail drop instead of fq_codel (for comparison) */
	uint32_t flows;
	uint32_t quantum;
	uint32_t limit;         /* packets */
	uint32_t memory;        /* bytes */
	uint32_t target_us;
	uint32_t interval_ms;
	bool ecn;
};

struct tunnel_qos {
	struct qos_conf conf;
	struct shaper shaper;
	struct tunnel *t;
	struct fq_codel *q;             /* NULL while the tunnel has not queued for a while */
	struct tunnel_qos *next_active; /* the owner's list of tunnels with backlog */
	bool active;
	uint64_t idle_since;            /* clock ticks the backlog last reached zero */
	uint64_t bypassed;              /* packets sent without waiting */
	struct fq_codel_stats st;
};

/* Defaults of every QoS key. */
void qos_conf_default(struct qos_conf *c);
/* Reads the QoS keys of a section with def as defaults; -1 after printing FILE:LINE. */
int qos_conf_parse(const struct tunnel_conf *c, const struct qos_conf *def, struct qos_conf *out);
/* Parses "20mbit", "1.5gbit", "800kbit", "100000" (bit/s), "0" or "off"; -1 if malformed. */
int qos_parse_rate(const char *s, uint64_t *bps);

/* Allocates t->qos (zeroed) with conf c; -1 when out of memory. The caller frees it with free(). */
int qos_tunnel_alloc(struct tunnel *t, const struct qos_conf *c);
/* Sets up a tunnel's QoS state (t->qos allocated, conf filled): after clock_init. */
void qos_tunnel_init(struct tunnel *t);
/* Frees the queue and whatever it still holds (counted as qos_overlimit drops). */
void qos_tunnel_fini(struct tunnel *t);
/* Owner lcore w, for a tunnel leaving at run time: off w's active list, then qos_tunnel_fini. */
void qos_tunnel_release(struct worker *w, struct tunnel *t);

/* Owner lcore: a packet for shaped tunnel t (inner IPv4 at data start); consumes m. */
void qos_input(struct worker *w, struct tunnel *t, struct rte_mbuf *m);
/* Owner lcore, every loop: sends what the shapers allow. Returns packets sent. */
unsigned qos_run(struct worker *w);
/* Owner lcore, housekeeping: returns the queues of tunnels idle for a while. */
void qos_housekeeping(struct tunnel *t, uint64_t now);

/* Telemetry fields of t's QoS into dict d (t shaped or not). */
void qos_telemetry(const struct tunnel *t, struct rte_tel_data *d);

#endif
