/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's shared state: ports, workers, tunnels. One global instance,
 * set up by main.c before the workers start and read-only afterwards except
 * for counters (each written by one lcore) and the neighbour tables.
 */
#ifndef DPVPN_APP_H
#define DPVPN_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "config.h"
#include "neigh.h"
#include "pkt_tcp_mss.h"
#include "stats.h"
#include "tunnel.h"

#define BURST 32

enum port_role { PORT_OUTSIDE, PORT_INSIDE, PORT_MAX };

struct dp_port {
	const char *role_name;
	uint16_t port_id;
	uint16_t nb_rxq;        /* workers with index < nb_rxq poll RX */
	uint16_t nb_txq;        /* one per worker */
	uint16_t mtu;
	bool csum_offload;      /* RX reports IPv4 checksum status */
	bool configured;        /* ethdev configured: stop and close it at exit */
	struct rte_ether_addr mac;
	rte_be32_t addr;
	struct pkt_prefix subnet;
	rte_be32_t gateway;
	struct neigh_table neigh;
	char name[RTE_ETH_NAME_MAX_LEN];
};

/* Per-lcore counters, written only by their worker. */
struct lcore_stats {
	uint64_t rx[PORT_MAX];
	uint64_t tx[PORT_MAX];
	uint64_t handoff_out;   /* packets sent to another worker's ring */
	uint64_t handoff_in;    /* packets taken from our ring */
	uint64_t arp_replies;   /* ARP replies we sent */
	uint64_t arp_requests;  /* ARP requests we sent */
	uint64_t icmp_echo_replies;
	uint64_t icmp_errors;   /* time exceeded, fragmentation needed */
	uint64_t busy_cycles;   /* loop iterations that moved packets */
	uint64_t total_cycles;
	uint64_t drops[DROP_MAX];
} __rte_cache_aligned;

struct tx_buf {
	uint16_t n;
	struct rte_mbuf *pkts[BURST];
};

/* A worker's private copy of recent next-hop MACs: skips the shared table's probing. */
#define NEIGH_CACHE_SIZE 64
struct neigh_cache_entry {
	rte_be32_t ip;
	uint8_t port;
	struct rte_ether_addr mac;
	uint64_t valid_until;   /* clock ticks; re-checked in the shared table after this */
};

/*
 * Packets of drivers with burst crypto (ops->decap_burst / encap_burst) wait
 * here until the end of the loop iteration, so their crypto runs across
 * packets (multi-buffer). One driver at a time; order kept.
 */
#define STAGE_MAX 64
struct tunnel_stage {
	const struct tunnel_ops *ops;
	uint16_t n;
	struct tunnel *t[STAGE_MAX];
	struct rte_mbuf *m[STAGE_MAX];
	uint16_t l4_off[STAGE_MAX];     /* decap: where the tunnel header starts */
	uint8_t tos[STAGE_MAX];         /* decap: outer TOS received; encap: outer TOS to send */
	uint32_t inner_len[STAGE_MAX];  /* encap: inner bytes, for the counters */
};

struct worker {
	struct lcore_stats stats;
	uint64_t now;                   /* clock ticks at the start of this loop iteration */
	unsigned index;
	unsigned lcore_id;
	struct rte_ring *handoff;       /* MP/SC: packets of tunnels this worker owns */
	struct tx_buf tx[PORT_MAX];
	uint64_t next_housekeeping;
	uint32_t icmp_tokens;           /* ICMP errors we may still send this period */
	uint16_t ip_id;                 /* outer IPv4 identification */
	struct neigh_cache_entry ncache[NEIGH_CACHE_SIZE];
	uint32_t ncache_gen;            /* bumped on every ncache refill: tunnel templates copy slots */
	struct tunnel_cache_entry tcache[TUNNEL_CACHE_SIZE];
	/* Reorder windows of the tunnels this worker owns: their block pool and delivery sink. */
	struct reorder_ctx *reorder;
	struct reorder_sink sink;
	uint64_t next_sweep;
	struct rte_mbuf *sink_pkts[BURST];
	struct tunnel_qos *qos_active;  /* shaped tunnels of ours with packets queued */
	/* Staged for the drivers' burst calls: decap, encap, and after the windows (rx_post_burst). */
	struct tunnel_stage rx_stage, tx_stage, post_stage;
	/* Sessions the control thread took out of the table: their windows are freed here. */
	struct rte_ring *release;
	uint64_t next_exception_poll;
} __rte_cache_aligned;

/* Where a handed-off packet goes next: stored in an mbuf dynamic field. */
/* HANDOFF_CTRL: a control payload the driver or control thread built, sent with ops->encap_ctrl. */
enum handoff_dir { HANDOFF_DECAP = 1, HANDOFF_ENCAP = 2, HANDOFF_CTRL = 3 };
struct handoff_meta {
	uint32_t tunnel_index;
	uint16_t l4_off;        /* for HANDOFF_DECAP: offset of the tunnel header */
	uint8_t dir;
	uint8_t late_drop;      /* in a reorder window: tunnel_rx.late_drop, applied on leaving */
};

/* What removed run-time tunnels (PPTP sessions) counted, so the sums in /dpvpn/drops never go back. */
struct gone_counters {
	uint64_t drops[DROP_MAX];
	uint64_t under_window, duplicated, far_ahead;
};

struct dpvpn {
	struct dpvpn_config cfg;
	struct dp_port ports[PORT_MAX];
	struct worker *workers;
	unsigned nb_workers;
	struct tunnel_table tunnels;
	struct gone_counters gone;      /* under tunnels.lock */
	struct rte_mempool *pool;
	int handoff_dynfield;
	uint64_t start_tsc;
	volatile bool stop;
	volatile bool stopping;         /* signal received: the control thread says goodbye, then stop */
	struct exception_path *exc;     /* TAP for TCP 1723 (PPTP); NULL when off */
};

extern struct dpvpn dp;

static inline struct handoff_meta *
handoff_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, dp.handoff_dynfield, struct handoff_meta *);
}

static inline void
worker_drop(struct worker *w, struct rte_mbuf *m, enum drop_reason r)
{
	stats_inc(&w->stats.drops[r]);
	rte_pktmbuf_free(m);
}

static inline void
tunnel_drop_pkt(struct tunnel *t, struct rte_mbuf *m, enum drop_reason r)
{
	tunnel_drop(t, r);
	rte_pktmbuf_free(m);
}

/* Lowers the MSS of a TCP SYN crossing t (either way) to what fits its MTU. */
static inline void
tunnel_mss_clamp(struct tunnel *t, struct rte_ipv4_hdr *ip, uint32_t len)
{
	if (unlikely(t->mss_clamp != 0) && ip->next_proto_id == IPPROTO_TCP &&
	    pkt_tcp_mss_clamp(ip, len, t->mss_clamp))
		stats_inc(&t->mss_clamped);
}

/* A packet whose number the window used up but that is not delivered (tunnel_rx.late_drop). */
static inline void
tunnel_late_drop(struct tunnel *t, struct rte_mbuf *m, uint8_t late_drop)
{
	if (late_drop == TUNNEL_RX_CONSUMED)
		rte_pktmbuf_free(m);
	else
		tunnel_drop_pkt(t, m, (enum drop_reason)(late_drop - 1));
}

/* Frames for another unicast MAC reach us on shared segments and bridges. */
static inline bool
eth_for_us(const struct rte_ether_hdr *eth, const struct dp_port *port)
{
	return !rte_is_unicast_ether_addr(&eth->dst_addr) ||
	       rte_is_same_ether_addr(&eth->dst_addr, &port->mac);
}

void arp_input(struct worker *w, enum port_role p, struct rte_mbuf *m);

/*
 * Ethernet and ARP handling shared by both ports. Returns true if m was consumed.
 * Inline, like the helpers below: they run for every packet of both paths.
 */
static inline bool
l2_input(struct worker *w, enum port_role p, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;

	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eth))) {
		worker_drop(w, m, DROP_ETH_TRUNCATED);
		return true;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (unlikely(!eth_for_us(eth, &dp.ports[p]))) {
		worker_drop(w, m, DROP_ETH_NOT_FOR_US);
		return true;
	}
	if (likely(eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)))
		return false;
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
		arp_input(w, p, m);
	else
		worker_drop(w, m, DROP_ETH_UNSUPPORTED);
	return true;
}

/* Common IPv4 checks at the start of m's data + off; DROP_MAX when good. */
static inline enum drop_reason
ipv4_input_check(struct rte_mbuf *m, uint16_t off, struct rte_ipv4_hdr **ipp)
{
	struct rte_ipv4_hdr *ip;
	uint32_t avail = rte_pktmbuf_pkt_len(m) - off;
	uint64_t csum = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	enum drop_reason r;
	uint16_t total;

	/* Headers must sit in the first segment; every PMD here delivers them so. */
	if (unlikely(rte_pktmbuf_data_len(m) < off + sizeof(*ip)))
		return DROP_IP_TRUNCATED;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, off);
	if (unlikely(rte_pktmbuf_data_len(m) < off + pkt_ipv4_hdr_len(ip)))
		return DROP_IP_TRUNCATED;
	if (unlikely(csum == RTE_MBUF_F_RX_IP_CKSUM_BAD))
		return DROP_IP_BAD_CHECKSUM;
	r = pkt_ipv4_check(ip, avail,
			   dp.cfg.verify_checksums && csum != RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	if (unlikely(r != DROP_MAX))
		return r;
	/* Drop Ethernet padding so lengths below are the IP packet's. */
	total = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(avail > total))
		rte_pktmbuf_trim(m, (uint16_t)(avail - total));
	*ipp = ip;
	return DROP_MAX;
}

/* dst when on-link on port p, else the port's gateway; 0 when neither. */
static inline rte_be32_t
port_next_hop(enum port_role p, rte_be32_t dst)
{
	const struct dp_port *port = &dp.ports[p];

	return pkt_prefix_contains(&port->subnet, dst) ? dst : port->gateway;
}

/* port.c */
int ports_init(void);
void ports_stop(void);

/* worker.c */
int worker_main(void *arg);
void worker_flush(struct worker *w);

/* xmit.c: transmit helpers; the per-packet fast paths are inline below. */
void tx_flush(struct worker *w, enum port_role p);
/* xmit_ipv4 when nh is not in the worker's neighbour cache: asks the shared table. */
void xmit_ipv4_resolve(struct worker *w, enum port_role p, rte_be32_t nh, struct rte_mbuf *m,
		       struct tunnel *t);
void xmit_arp_request(struct worker *w, enum port_role p, rte_be32_t target);
/* Drops m for reason r: on tunnel t when given (its owner calls), else on the worker. */
void xmit_drop(struct worker *w, struct tunnel *t, struct rte_mbuf *m, enum drop_reason r);

static inline void
xmit_raw(struct worker *w, enum port_role p, struct rte_mbuf *m)
{
	struct tx_buf *b = &w->tx[p];

	b->pkts[b->n++] = m;
	if (b->n == BURST)
		tx_flush(w, p);
}

static inline struct neigh_cache_entry *
ncache_slot(struct worker *w, enum port_role p, rte_be32_t nh)
{
	uint32_t h = rte_be_to_cpu_32(nh) * 2654435761u;

	return &w->ncache[((h >> 26) ^ (uint32_t)p) & (NEIGH_CACHE_SIZE - 1)];
}

/* Prepends Ethernet to dst on port p for an IPv4 packet and sends it. */
static inline void
xmit_eth(struct worker *w, enum port_role p, const struct rte_ether_addr *dst,
	 struct rte_mbuf *m, struct tunnel *t)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));

	if (unlikely(eth == NULL)) {
		xmit_drop(w, t, m, DROP_NO_MBUF);
		return;
	}
	pkt_eth_set(eth, dst, &dp.ports[p].mac, RTE_ETHER_TYPE_IPV4);
	xmit_raw(w, p, m);
}

/*
 * Prepends Ethernet for an IPv4 packet to next hop nh on port p and sends it.
 * A tunnel's drops are counted on t (the caller owns it), others on the worker.
 */
static inline void
xmit_ipv4(struct worker *w, enum port_role p, rte_be32_t nh, struct rte_mbuf *m, struct tunnel *t)
{
	const struct neigh_cache_entry *c = ncache_slot(w, p, nh);

	if (likely(c->ip == nh && c->port == p && w->now < c->valid_until))
		xmit_eth(w, p, &c->mac, m, t);
	else
		xmit_ipv4_resolve(w, p, nh, m, t);
}

void handoff(struct worker *w, struct tunnel *t, struct rte_mbuf *m, enum handoff_dir dir,
	     uint16_t l4_off);

/* outside.c / inside.c: one RX burst each, n <= BURST */
void outside_input(struct worker *w, struct rte_mbuf **pkts, uint16_t n);
void inside_input(struct worker *w, struct rte_mbuf **pkts, uint16_t n);
void tunnel_decap_owned(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off);
/* Decapsulates / encapsulates what waits in the worker's stages (end of every loop iteration). */
void decap_stage_flush(struct worker *w);
void encap_stage_flush(struct worker *w);
/*
 * m carries the driver's header: adds the outer IPv4 header towards peer and sends it.
 * Returns the next hop used, or 0 when m was dropped (counted on t).
 */
rte_be32_t outer_send(struct worker *w, struct tunnel *t, rte_be32_t peer, struct rte_mbuf *m,
		      uint8_t tos);
/* paths.c: multi-path tunnels */
void paths_rx(struct worker *w, struct tunnel *t, const struct rte_mbuf *m, uint16_t l4_off);
/* m carries the driver's header; adds outer IPv4 (TOS tos) per chosen path and sends (consumes m). */
void paths_send(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint8_t tos);
void paths_housekeeping(struct tunnel *t);
bool tunnel_path_alive(const struct tunnel *t, unsigned i, uint64_t now);
/* The next path of a weighted tunnel among the live ones; NULL if none. */
struct tunnel_path *paths_pick_weighted(struct tunnel *t, uint64_t now);
/* The reorder sink's callback: delivers a window's in-order run. */
void reorder_deliver(struct reorder_window *win, struct rte_mbuf **pkts, uint16_t n, void *arg);
/* What reorder_deliver staged for drivers' rx_post_burst: post-processed and delivered. */
void post_stage_flush(struct worker *w);
/* Owner lcore: a packet into tunnel t (inner IPv4 at data start); queued first when t is shaped. */
void tunnel_encap_owned(struct worker *w, struct tunnel *t, struct rte_mbuf *m);
/* Owner lcore: fragments if needed, encapsulates and sends now (after the shaper). */
void tunnel_send(struct worker *w, struct tunnel *t, struct rte_mbuf *m);
/* Owner: a driver's control payload (ops->keepalive), encapsulated and sent to the peer. */
void tunnel_send_control(struct worker *w, struct tunnel *t, const uint8_t *payload, uint16_t len);
/* A control payload built elsewhere (HANDOFF_CTRL), owner lcore. */
void tunnel_send_ctrl_mbuf(struct worker *w, struct tunnel *t, struct rte_mbuf *m);

/* exception.c: TCP for our outside address goes to the kernel through a TAP and back. */
int exception_init(void);
void exception_fini(void);
/* Any worker: m (at its Ethernet header) for the kernel. */
void exception_punt(struct worker *w, struct rte_mbuf *m);
/* Worker 0: moves packets between the TAP and the outside port. */
unsigned exception_poll(struct worker *w);
/* The calling thread into / back from the TAP's namespace (sockets made in between live there). */
int exception_netns_enter(int *saved);
void exception_netns_leave(int saved);

/* sessions.c: run-time tunnels (PPTP calls) and the control thread. */
int sessions_init(void);
void sessions_fini(void);
/* Owner lcore: frees the windows of sessions taken out of the table. */
void sessions_release(struct worker *w);
/* Answers an ICMP echo to our address on port p (consumes m). */
void icmp_input(struct worker *w, enum port_role p, struct rte_mbuf *m, struct rte_ipv4_hdr *ip);
/* Sends an ICMP error from our inside address about orig (IPv4 at its data start); orig is kept. */
void send_icmp_error(struct worker *w, const struct rte_mbuf *orig, uint8_t type, uint8_t code,
		     uint16_t mtu);
/* Routes a packet we generated (IPv4 at data start): into a tunnel or out of the inside port. */
void local_output(struct worker *w, struct rte_mbuf *m);

/* telemetry.c */
int telemetry_init(void);
void print_final_counters(FILE *f);

#endif
