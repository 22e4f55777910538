/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnels and the table that finds them.
 *
 * A tunnel is owned by one worker lcore: only that lcore touches its state
 * and writes its counters. Outside packets are found by a protocol key
 * (rte_hash), inside packets by destination prefix (rte_lpm). Each protocol
 * is a driver behind struct tunnel_ops (drivers/<proto>).
 */
#ifndef DPVPN_TUNNEL_H
#define DPVPN_TUNNEL_H

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include <rte_common.h>
#include <nmmintrin.h>
#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>

#include "pkt.h"
#include "reorder.h"
#include "stats.h"
#include "tunnel_tx.h"

struct rte_hash;
struct rte_lpm;
struct rte_tel_data;
struct tunnel;
struct tunnel_qos;

/* What outside packets are matched on. Drivers fill it; unused fields stay 0. */
struct tunnel_key {
	rte_be32_t peer;        /* outer source of received packets */
	rte_be32_t local;       /* outer destination of received packets */
	uint32_t proto_key;     /* GRE key, PPTP call id, UDP ports, peer id... */
	uint8_t ip_proto;       /* IPPROTO_GRE, IPPROTO_UDP */
	uint8_t variant;        /* driver-defined, e.g. GRE key present */
	uint16_t pad;
};

struct tunnel_stats {
	uint64_t rx_packets;    /* decapsulated and delivered inside */
	uint64_t rx_bytes;      /* inner bytes of those */
	uint64_t tx_packets;    /* encapsulated and sent to the peer */
	uint64_t tx_bytes;      /* inner bytes of those */
	uint64_t drops[DROP_MAX];
} __rte_cache_aligned;

/* Configuration access for drivers: reading a key marks it as known. */
struct tunnel_conf {
	const char *(*get)(const struct tunnel_conf *c, const char *key);
	/* Prints "FILE:LINE: [section] key: message" and returns -1. */
	int (*error)(const struct tunnel_conf *c, const char *key, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	void *ctx;
	const char *file;       /* the configuration file: relative paths in keys start at its folder */
};

/* Reads "yes/no/true/false/on/off/1/0"; absent keys give def. -1 on a bad value. */
int tunnel_conf_bool(const struct tunnel_conf *c, const char *key, bool def, bool *out);
/* Reads an unsigned integer within [min, max]; absent keys give def. */
int tunnel_conf_uint(const struct tunnel_conf *c, const char *key, uint64_t def, uint64_t min,
		     uint64_t max, uint64_t *out);

/*
 * Reads a list of IPv4 addresses separated by commas or spaces, at most max,
 * into out; *n gets how many (0 when the key is absent). -1 on a bad item.
 */
int tunnel_conf_ipv4_list(const struct tunnel_conf *c, const char *key, rte_be32_t *out, unsigned max,
			  unsigned *n);

/*
 * A session made at run time takes what its server's section set for every
 * session (a template tunnel: TTL, DSCP, reorder window, MSS clamp); the QoS
 * queue is the app's (session_add).
 */
struct tunnel;
void tunnel_from_template(struct tunnel *t, const struct tunnel *tpl);

/* What decap learnt about a received packet. */
struct tunnel_rx {
	uint32_t seq;
	bool has_seq;
	/*
	 * 1 + a drop reason for a packet that must still pass the window so its
	 * sequence number is used up (a gap would hold the tunnel for the hold
	 * time), and is dropped as it leaves; 0 for a packet to deliver.
	 */
	uint8_t late_drop;
	/*
	 * The peer started a new numbering, proven by an authenticated header
	 * (OpenVPN's packet-id time moved forward after the peer restarted): the
	 * window restarts at seq instead of waiting for resync evidence.
	 */
	bool restart;
};

/* classify verdict: the packet is for the control thread (the exception path takes it). */
#define TUNNEL_CLASSIFY_PUNT (-2)
/* late_drop value for a packet the driver consumed (a keepalive): freed, not counted as a drop. */
#define TUNNEL_RX_CONSUMED (DROP_MAX + 1)
/* rx_post verdict: the driver kept the mbuf (a control frame for the control thread) or freed it. */
#define TUNNEL_RX_TAKEN ((enum drop_reason)(DROP_MAX + 1))
/* keepalive return value: send an empty control payload (PPTP's ack alone). */
#define TUNNEL_KEEPALIVE_EMPTY UINT16_MAX
static_assert(DROP_MAX + 1 <= UINT8_MAX, "late_drop holds 1 + a drop reason");

struct tunnel_ops {
	const char *name;       /* "protocol = <name>" in the configuration */
	uint8_t ip_proto;       /* outer IP protocol it listens on */
	uint16_t overhead;      /* most bytes encap adds in front of the inner packet */

	/* Reads driver keys, sets up t->priv and t->overhead (default: ops->overhead). */
	int (*configure)(struct tunnel *t, const struct tunnel_conf *c);
	/* The key outside packets of t are found by. */
	void (*key)(const struct tunnel *t, struct tunnel_key *k);
	/*
	 * Any lcore: parses the protocol header at l4_off (after the outer IPv4
	 * header) and fills k. Returns DROP_MAX, a drop reason, or -1 when the
	 * packet belongs to another driver of the same IP protocol.
	 */
	int (*classify)(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t l4_off,
			struct tunnel_key *k);
	/*
	 * Optional, any lcore: when no tunnel has classify's key, rewrites k to
	 * the wildcard key a tunnel may be configured with (OpenVPN's
	 * peer_port = any: the client's source port zeroed) for a second lookup.
	 * Returns false when there is none.
	 */
	bool (*classify_wildcard)(struct tunnel_key *k);
	/*
	 * Owner lcore: checks and strips everything up to the inner IPv4 header,
	 * and reports the packet's sequence number (rx->has_seq) for the reorder
	 * window, which runs after decap and before delivery.
	 */
	enum drop_reason (*decap)(struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off,
				  struct tunnel_rx *rx);
	/* Owner lcore: prepends the protocol header; the caller adds outer IPv4 + Ethernet. */
	enum drop_reason (*encap)(struct tunnel *t, struct rte_mbuf *m);
	/*
	 * Optional, owner lcore: writes into hdr (room bytes) the header encap
	 * would prepend, when it is the same for every packet but a sequence
	 * number, and returns its length; 0 when it varies (then encap runs per
	 * packet). *seq: the counter encap post-increments into the header at
	 * *seq_off, or left NULL.
	 */
	uint16_t (*tx_header)(struct tunnel *t, uint8_t *hdr, uint16_t room, uint32_t **seq,
			      uint16_t *seq_off);
	/*
	 * Optional, owner lcore: decap / encap of up to burst_max packets at once,
	 * of any tunnels of this driver, with the same result per packet as
	 * decap / encap (in r[i]), so crypto runs multi-buffer across packets.
	 * The app stages such packets during a loop iteration and calls these.
	 */
	void (*decap_burst)(struct tunnel *const *t, struct rte_mbuf *const *m, const uint16_t *l4_off,
			    struct tunnel_rx *rx, enum drop_reason *r, uint16_t n);
	void (*encap_burst)(struct tunnel *const *t, struct rte_mbuf *const *m, enum drop_reason *r,
			    uint16_t n);
	uint16_t burst_max;
	/*
	 * Optional, owner lcore, from housekeeping (every 100 ms): writes into
	 * payload (room bytes) a control payload to encapsulate and send now,
	 * such as a keepalive when nothing was sent for a while, and returns its
	 * length; 0 when nothing is due.
	 */
	uint16_t (*keepalive)(struct tunnel *t, uint64_t now, uint8_t *payload, uint16_t room);
	/*
	 * Optional, owner lcore: after the reorder window, before delivery: turns
	 * each m[i] (as decap left it) into an inner IPv4 packet (r[i] =
	 * DROP_MAX), a drop reason, or TUNNEL_RX_TAKEN when the driver kept or
	 * freed the mbuf (a PPP control frame for the control thread). PPTP
	 * decrypts MPPE here, where packets are in sequence order.
	 */
	void (*rx_post)(struct tunnel *t, struct rte_mbuf **m, enum drop_reason *r, uint16_t n);
	/*
	 * Optional, owner lcore: rx_post for packets of several tunnels of this
	 * driver (t[i] is m[i]'s; each tunnel's packets in order). The worker
	 * stages the windows' runs across tunnels so per-packet crypto runs in
	 * bursts even when every session has one packet per round.
	 */
	void (*rx_post_burst)(struct tunnel *const *t, struct rte_mbuf **m, enum drop_reason *r, uint16_t n);
	/*
	 * Optional, owner lcore: encapsulates a control payload the driver or the
	 * control thread built (m starts at it; empty for PPTP's ack alone),
	 * without the data path's transforms. Used for keepalive payloads and
	 * frames handed over with HANDOFF_CTRL.
	 */
	enum drop_reason (*encap_ctrl)(struct tunnel *t, struct rte_mbuf *m);
	/*
	 * Optional, owner lcore: may one more data packet leave now (clock ticks)?
	 * False holds it in the tunnel's QoS queue until the peer's flow control
	 * opens (PPTP's receive window, RFC 2637 4.2). Consulted only for tunnels
	 * with QoS state.
	 */
	bool (*tx_open)(struct tunnel *t, uint64_t now);
	/* Adds driver fields to a telemetry dict. */
	void (*telemetry)(const struct tunnel *t, struct rte_tel_data *d);
	void (*destroy)(struct tunnel *t);
};

/*
 * What the app gives a driver whose control thread makes tunnels at run time
 * (PPTP calls, OpenVPN TLS clients).
 */
struct session_host {
	rte_be32_t local;               /* the outside address (GRE source, TCP 1723) */
	struct rte_mempool *pool;
	pthread_mutex_t *lock;          /* the tunnel table's: held while calls change */
	/* Control thread: puts t in the tunnel table on some lcore (reorder window ready). */
	int (*session_add)(struct tunnel *t);
	/* Control thread: routes addr/32 into t. */
	int (*route_add)(struct tunnel *t, rte_be32_t addr);
	/*
	 * Control thread: takes the n sessions out of the table; returns once no
	 * lcore uses any of them (one grace period for the lot: a mass teardown
	 * must not hold the table lock for one wait per session).
	 */
	void (*sessions_remove)(struct tunnel *const *t, unsigned n);
	/* Control thread: returns once every lcore passed a quiescent state (what no tunnel points to any
	 * more, like replaced keys, may then be freed). */
	void (*sync)(void);
	/* Any thread: m (starting at the PPP frame, or empty for an ack) to t's owner, who sends it. */
	void (*send_frame)(struct tunnel *t, struct rte_mbuf *m);
};

#define TUNNEL_MAX_ROUTES 64

/*
 * Multi-path tunnels: one tunnel, several outer peer addresses (a client's
 * ADSL and LTE lines). All paths feed the one receive window; sending is
 * redundant (every packet on every live path) or weighted.
 */
#define TUNNEL_MAX_PATHS 4
enum { TUNNEL_PATHS_REDUNDANT, TUNNEL_PATHS_WEIGHTED };

struct tunnel_path {
	rte_be32_t peer;
	uint32_t weight;        /* configured weight; with weights = auto, the measured one */
	int64_t current;        /* smooth weighted round-robin credit */
	uint64_t last_rx;       /* clock ticks of the last packet received on this path */
	uint64_t interval_bytes; /* auto weights: bytes received in the current interval */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes; /* written by the owner only */
};

/* How a tunnel treats sequence numbers on receive. */
enum {
	TUNNEL_REORDER_NONE,    /* not sequenced: deliver as received */
	TUNNEL_REORDER_ON,      /* window: restore order, drop duplicates, wait for gaps */
	TUNNEL_REORDER_OFF,     /* like stock Linux: drop anything not newer than the last */
};

struct tunnel {
	struct tunnel_stats stats;      /* first: its own cache lines */
	const struct tunnel_ops *ops;
	void *priv;                     /* driver state */
	uint32_t id;                    /* operator-visible id */
	uint32_t index;                 /* slot in the table, LPM next hop */
	uint16_t worker;                /* owner worker index */
	uint16_t mtu;                   /* largest inner packet sent without DF trouble */
	uint16_t overhead;              /* bytes encap adds with this tunnel's options (driver sets) */
	rte_be32_t local;               /* outer source address */
	rte_be32_t peer;                /* outer destination address */
	uint8_t ttl;                    /* outer TTL */
	uint8_t nb_routes;
	bool source_check;              /* inner source must route back into this tunnel */
	bool sequenced;                 /* the driver receives sequence numbers (sets in configure) */
	uint8_t reorder_mode;           /* TUNNEL_REORDER_* */
	struct reorder_conf reorder_conf;
	struct reorder_window reorder;  /* owned by the owner worker's reorder context */
	uint8_t nb_paths;               /* 1: a plain tunnel to peer */
	uint8_t paths_mode;             /* TUNNEL_PATHS_* */
	bool weights_auto;              /* weights follow each path's received byte rate */
	uint16_t path_dead_ms;          /* silent this long while another path is heard: dead */
	struct tunnel_path paths[TUNNEL_MAX_PATHS]; /* paths[0].peer == peer */
	struct tunnel_tx tx;            /* owner only: prebuilt headers for encap */
	struct tunnel_qos *qos;         /* shaper + fq_codel towards the peer; NULL: unshaped */
	uint8_t dscp;                   /* outer DSCP, or PKT_DSCP_INHERIT from the inner packet */
	uint64_t ecn_odd;               /* RFC 6040 combinations a compliant peer never sends */
	uint16_t mss_clamp;             /* TCP SYNs both ways get MSS <= this; 0: off */
	uint64_t mss_clamped;           /* SYNs whose MSS was lowered (owner writes) */
	uint8_t released;               /* run-time tunnels: the owner freed its window (sessions.c) */
	char name[32];
	struct pkt_prefix routes[TUNNEL_MAX_ROUTES];
};

struct rte_rcu_qsbr;

struct tunnel_table {
	/*
	 * Held by the thread that adds or removes tunnels at run time (the
	 * control thread) and by telemetry readers, never by workers.
	 */
	pthread_mutex_t lock;
	/* Workers report quiescent states here; removal waits for all of them. */
	struct rte_rcu_qsbr *rcu;
	struct rte_hash *by_key;
	struct rte_lpm *routes;
	struct tunnel **by_index;
	uint32_t capacity;
	uint32_t count;
	uint32_t next_index;    /* where the search for a free slot starts */
	uint32_t generation;    /* bumped whenever a tunnel leaves: invalidates lookup caches */
};

/*
 * A tunnel key as two 64-bit words, built from values in registers: the
 * cache hashes and compares these, and storing the key field by field then
 * reading it back as words would stall store-to-load forwarding per packet.
 * Same bytes as struct tunnel_key (little-endian hosts).
 */
struct tunnel_key_words {
	uint64_t lo;            /* peer | local << 32 */
	uint64_t hi;            /* proto_key | ip_proto << 32 | variant << 40 */
};

static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN, "tunnel_key_words assumes little-endian");
static_assert(sizeof(struct tunnel_key) == sizeof(struct tunnel_key_words), "key is two words");
static_assert(offsetof(struct tunnel_key, ip_proto) == 12 && offsetof(struct tunnel_key, variant) == 13,
	      "tunnel_key layout matches tunnel_key_words");

static inline struct tunnel_key_words
tunnel_key_words_make(rte_be32_t peer, rte_be32_t local, uint32_t proto_key, uint8_t ip_proto,
		      uint8_t variant)
{
	return (struct tunnel_key_words){
		.lo = (uint64_t)local << 32 | peer,
		.hi = (uint64_t)variant << 40 | (uint64_t)ip_proto << 32 | proto_key,
	};
}

/*
 * A worker's direct-mapped cache in front of the shared hash: most bursts
 * carry few tunnels, and a hit costs one CRC and one 16-byte compare.
 */
#define TUNNEL_CACHE_SIZE 256
struct tunnel_cache_entry {
	struct tunnel_key_words key;
	struct tunnel *t;
	uint32_t generation;
};

int tunnel_table_init(struct tunnel_table *tt, const char *name, uint32_t capacity,
		      uint32_t max_routes, int socket);
void tunnel_table_fini(struct tunnel_table *tt);
/* Inserts t (ops, peer, local set) and its routes. Returns 0 or a negative errno. */
int tunnel_table_add(struct tunnel_table *tt, struct tunnel *t);
/*
 * Run-time changes (sessions): readers (workers) must be registered on
 * tt->rcu (tunnel_table_rcu_init) and report quiescent states.
 */
int tunnel_table_rcu_init(struct tunnel_table *tt, unsigned nb_readers);
/* Routes prefix into t, which is in the table. 0, -EADDRINUSE, -ENOSPC or another errno. */
int tunnel_table_route_add(struct tunnel_table *tt, struct tunnel *t, rte_be32_t addr, uint8_t depth);
/*
 * Takes t out: keys, routes, slot; lookup caches see the new generation.
 * Returns after every reader passed a quiescent state, so no lookup still
 * returns t (packets already queued for it may still name its slot).
 */
void tunnel_table_remove(struct tunnel_table *tt, struct tunnel *t);
/*
 * The two halves of tunnel_table_remove, for removing many at once: unlink
 * each (no wait), then one tunnel_table_sync waits for every reader once
 * (one grace period for the batch instead of one per tunnel).
 */
void tunnel_table_unlink(struct tunnel_table *tt, struct tunnel *t);
void tunnel_table_sync(struct tunnel_table *tt);

struct tunnel *tunnel_table_lookup(const struct tunnel_table *tt, const struct tunnel_key *k);
/* The shared-hash lookup behind a cache miss; refills e. */
struct tunnel *tunnel_table_lookup_fill(const struct tunnel_table *tt, struct tunnel_cache_entry *e,
					struct tunnel_key_words k, uint32_t gen);

static inline struct tunnel *
tunnel_table_lookup_words(const struct tunnel_table *tt, struct tunnel_cache_entry *cache,
			  struct tunnel_key_words k)
{
	/* CRC32 instruction directly: rte_hash_crc checks its runtime algorithm choice per call. */
	uint32_t h = (uint32_t)_mm_crc32_u64(_mm_crc32_u64(0, k.lo), k.hi);
	struct tunnel_cache_entry *e = &cache[h & (TUNNEL_CACHE_SIZE - 1)];
	uint32_t gen = __atomic_load_n(&tt->generation, __ATOMIC_ACQUIRE);

	if (likely(e->t != NULL && e->generation == gen && e->key.lo == k.lo && e->key.hi == k.hi))
		return e->t;
	return tunnel_table_lookup_fill(tt, e, k, gen);
}

static inline struct tunnel *
tunnel_table_lookup_cached(const struct tunnel_table *tt, struct tunnel_cache_entry *cache,
			   const struct tunnel_key *k)
{
	struct tunnel_key_words kw;

	/* memcpy, not a cast: reading the key through uint64_t * breaks strict aliasing. */
	memcpy(&kw, k, sizeof(kw));
	return tunnel_table_lookup_words(tt, cache, kw);
}

/* The tunnel dst is routed into (longest prefix), or NULL. Inline: twice per decapsulated packet. */
static inline struct tunnel *
tunnel_table_route(const struct tunnel_table *tt, rte_be32_t dst)
{
	uint32_t nh;

	if (rte_lpm_lookup(tt->routes, rte_be_to_cpu_32(dst), &nh) != 0)
		return NULL;
	return nh < tt->capacity ? tt->by_index[nh] : NULL;
}
/*
 * True when a is routed into t: the inner source check. Compares the LPM
 * next hop with t's slot instead of loading the slot (by_index[t->index] is t
 * while t is in the table).
 */
static inline bool
tunnel_table_routes_to(const struct tunnel_table *tt, rte_be32_t a, const struct tunnel *t)
{
	uint32_t nh;

	return rte_lpm_lookup(tt->routes, rte_be_to_cpu_32(a), &nh) == 0 && nh == t->index;
}
struct tunnel *tunnel_table_by_id(const struct tunnel_table *tt, uint32_t id);

static inline struct tunnel *
tunnel_table_at(const struct tunnel_table *tt, uint32_t index)
{
	return index < tt->capacity ? tt->by_index[index] : NULL;
}

static inline void
tunnel_drop(struct tunnel *t, enum drop_reason r)
{
	stats_inc(&t->stats.drops[r]);
}

#endif
