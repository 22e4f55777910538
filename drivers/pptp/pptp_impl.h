/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to drivers/pptp: control connections and calls (control thread only). */
#ifndef DPVPN_PPTP_IMPL_H
#define DPVPN_PPTP_IMPL_H

#include <sys/queue.h>

#include "log_limit.h"
#include "pptp.h"

/* A client's TCP connection on port 1723 (RFC 2637 2: one per client host). */
struct pptp_call;

struct pptp_conn {
	TAILQ_ENTRY(pptp_conn) next;
	TAILQ_HEAD(, pptp_call) calls;  /* this connection's calls */
	int fd;
	rte_be32_t peer;
	uint16_t peer_port;
	bool established;               /* Start-Control-Connection done */
	bool dead;                      /* close at the end of this round */
	uint8_t rbuf[1024];
	uint32_t rlen;
	uint64_t last_rx_ms;
	uint64_t echo_sent_ms;          /* 0: no Echo-Request outstanding */
	uint32_t echo_id;
	unsigned nb_calls;
	char why[64];
};

/* One call: a session with its tunnel, PPP link and address. */
struct pptp_call {
	TAILQ_ENTRY(pptp_call) next;    /* pptp_server.calls_live */
	TAILQ_ENTRY(pptp_call) conn_next; /* pptp_conn.calls */
	struct pptp_conn *conn;
	struct tunnel *t;
	struct pptp_session *s;
	struct ppp_link ppp;
	uint16_t call_id, peer_call_id, serial;
	rte_be32_t addr;                /* assigned by IPCP, 0 before */
	bool addr_from_pool;
	bool dead;                      /* tear down at the end of this round */
	bool cdn_sent;
	uint64_t started_ms;
	char why[64];
};

struct pptp_server {
	const struct pptp_conf *conf;
	const struct session_host *host;
	int listen_fd;
	int epoll_fd;                   /* the listening socket, the wake eventfd, every connection */
	TAILQ_HEAD(, pptp_conn) conns;
	unsigned nb_conns;
	struct pptp_call *calls[65536]; /* by our call id */
	/* The same calls as a list: timers and reaping visit the live ones, not 65536 slots. */
	TAILQ_HEAD(, pptp_call) calls_live;
	unsigned nb_calls;
	unsigned nb_dead_calls;         /* closed, waiting for pptp_calls_reap */
	uint16_t next_call_id;
	uint32_t next_session_id;
	uint8_t *pool_used;             /* one byte per pool address */
	uint32_t pool_size;
	/* counters */
	uint64_t conns_accepted, conns_closed, conns_refused, calls_opened, calls_closed, calls_refused,
		 auth_failures, sessions_up, bad_messages, echo_timeouts, ppp_frames_rx, ppp_frames_tx;
	struct log_limit log;
};

extern struct pptp_server pptp_srv;

/* Rate-limited log line (control protocols must not flood the log). */
void pptp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * call.c, sessions: a call's tunnel and data-path state (ops, template
 * settings, call ids; not in the table, no PPP), freed with rte_free; and
 * MPPE switched on with the keys CCP agreed (both directions' states, then
 * mppe_on published). pptp_call_open and the PPP callbacks use them, and so
 * does perf/pptp, which sets sessions up without a PPP negotiation.
 */
struct tunnel *pptp_session_new(const struct pptp_conf *conf, rte_be32_t local, rte_be32_t peer,
				uint16_t call_id, uint16_t peer_call_id, uint16_t peer_window, uint32_t id);
void pptp_session_mppe_start(struct pptp_session *s, const uint8_t *send_key, const uint8_t *recv_key,
			     unsigned key_bits, bool stateless);

/* control.c: a new control connection on socket fd, registered for reading; NULL if out of memory. */
struct pptp_conn *pptp_conn_add(int fd, rte_be32_t peer, uint16_t peer_port);

/* call.c */
struct pptp_call *pptp_call_open(struct pptp_conn *c, uint16_t peer_call_id, uint16_t serial,
				 uint16_t peer_window, uint8_t *result, uint8_t *error);
/* Marks the call for teardown (CDN to the client unless it asked). */
void pptp_call_close(struct pptp_call *call, const char *why, bool send_cdn);
/* Frees every call marked dead (after the round, outside PPP callbacks). */
void pptp_calls_reap(void);
void pptp_calls_timer(uint64_t now_ms);
void pptp_call_ppp_input(struct rte_mbuf *m);

void pptp_tunnel_telemetry(const struct tunnel *t, struct rte_tel_data *d);

/* gre_v1.c: the host the data path sends Reset-Requests through. */
void pptp_gre_set_host(const struct session_host *h);

/* control.c */
void pptp_conn_send_cdn(struct pptp_conn *c, uint16_t call_id, uint8_t result, const char *why);

#endif
