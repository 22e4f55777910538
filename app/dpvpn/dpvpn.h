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
	struct tunnel_cache_entry tcache[TUNNEL_CACHE_SIZE];
} __rte_cache_aligned;

/* Where a handed-off packet goes next: stored in an mbuf dynamic field. */
enum handoff_dir { HANDOFF_DECAP = 1, HANDOFF_ENCAP = 2 };
struct handoff_meta {
	uint32_t tunnel_index;
	uint16_t l4_off;        /* for HANDOFF_DECAP: offset of the tunnel header */
	uint8_t dir;
};

struct dpvpn {
	struct dpvpn_config cfg;
	struct dp_port ports[PORT_MAX];
	struct worker *workers;
	unsigned nb_workers;
	struct tunnel_table tunnels;
	struct rte_mempool *pool;
	int handoff_dynfield;
	uint64_t start_tsc;
	volatile bool stop;
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

/* port.c */
int ports_init(void);
void ports_stop(void);

/* worker.c */
int worker_main(void *arg);
void worker_flush(struct worker *w);

/* xmit.c: transmit helpers */
void xmit_raw(struct worker *w, enum port_role p, struct rte_mbuf *m);
/* Prepends Ethernet for an IPv4 packet to next hop nh on port p and sends it. */
void xmit_ipv4(struct worker *w, enum port_role p, rte_be32_t nh, struct rte_mbuf *m,
	       struct tunnel *t);
void xmit_arp_request(struct worker *w, enum port_role p, rte_be32_t target);
void handoff(struct worker *w, struct tunnel *t, struct rte_mbuf *m, enum handoff_dir dir,
	     uint16_t l4_off);

/* arp.c */
void arp_input(struct worker *w, enum port_role p, struct rte_mbuf *m);

/* outside.c / inside.c */
void outside_input(struct worker *w, struct rte_mbuf **pkts, uint16_t n);
void inside_input(struct worker *w, struct rte_mbuf **pkts, uint16_t n);
void tunnel_decap_owned(struct worker *w, struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off);
void tunnel_encap_owned(struct worker *w, struct tunnel *t, struct rte_mbuf *m);
/* Common IPv4 checks at the start of m's data + off; DROP_MAX when good. */
enum drop_reason ipv4_input_check(struct rte_mbuf *m, uint16_t off, struct rte_ipv4_hdr **ipp);
/* Answers an ICMP echo to our address on port p (consumes m). */
void icmp_input(struct worker *w, enum port_role p, struct rte_mbuf *m, struct rte_ipv4_hdr *ip);
/* Sends an ICMP error from our inside address about orig (IPv4 at its data start); orig is kept. */
void send_icmp_error(struct worker *w, const struct rte_mbuf *orig, uint8_t type, uint8_t code,
		     uint16_t mtu);
/* Routes a packet we generated (IPv4 at data start): into a tunnel or out of the inside port. */
void local_output(struct worker *w, struct rte_mbuf *m);
/* dst when on-link on port p, else the port's gateway; 0 when neither. */
rte_be32_t port_next_hop(enum port_role p, rte_be32_t dst);

/* telemetry.c */
int telemetry_init(void);
void print_final_counters(FILE *f);

#endif
