/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PPTP (RFC 2637): the control connection on TCP 1723 (control.c), the
 * sessions it creates (session.c: one tunnel per call, a PPP link from
 * lib/ppp, an address from the pool) and their GRE v1 data path
 * (gre_v1.c: sequence/ack numbers, the reorder window, MPPE).
 *
 * Threads: the control thread runs everything in control.c and session.c
 * and the PPP links; a session's owner lcore runs gre_v1.c for it. They
 * meet in three places: PPP frames from the lcore to the control thread
 * (a ring), frames from the control thread to the lcore (the app's handoff
 * ring, through pptp_host.send_frame), and the flags/keys the control
 * thread publishes once (ip_up, mppe_on) before the lcore reads them.
 */
#ifndef DPVPN_PPTP_H
#define DPVPN_PPTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

#include "mppe.h"
#include "ppp.h"
#include "tunnel.h"

#define PPTP_PORT 1723
#define PPTP_GRE_PROTO 0x880b
#define PPTP_KEY_VARIANT 2              /* tunnel_key.variant of PPTP calls (GRE v0 uses 0/1) */
#define PPTP_GRE_HDR_MAX 16             /* flags, protocol, key (length + call id), seq, ack */
#define PPTP_PPP_HDR 4                  /* FF 03 + 2-byte protocol */
#define PPTP_OVERHEAD (PPTP_GRE_HDR_MAX + PPTP_PPP_HDR + MPPE_HDR_LEN + 2)

/* The [pptp] section. */
struct pptp_conf {
	bool enable;
	char tap[16];                   /* kernel TAP for TCP 1723 */
	char secrets_path[4096];
	struct chap_secrets secrets;
	struct ppp_conf ppp;
	struct pkt_prefix pool;
	uint32_t max_sessions;
	uint32_t max_connections;
	uint32_t echo_interval_s;       /* PPTP Echo-Request after this long idle; 0: off */
	uint16_t mtu;                   /* largest inner packet sent to a client (and our MRU) */
	uint16_t window;                /* our Packet Recv Window Size */
	bool peer_window_enforce;       /* hold data beyond the client's window (else count it) */
	uint32_t peer_window_timeout_ms; /* a full window without an ack this long counts as acked */
	struct tunnel template;         /* reorder, mss_clamp, ttl, dscp for every session */
};


/* Data-path state of one call, written by the owner lcore unless said otherwise. */
struct pptp_session {
	/* set by the control thread before the session is in the table */
	uint16_t call_id, peer_call_id;
	uint16_t peer_window;           /* the client's Packet Recv Window Size */
	bool window_enforce;            /* pptp_conf.peer_window_enforce */
	uint32_t id;                    /* == tunnel id */
	uint64_t window_timeout;        /* clock ticks: pptp_conf.peer_window_timeout_ms */
	/* published once by the control thread (release), read by the lcore (acquire) */
	uint8_t ip_up;
	uint8_t mppe_on;
	uint8_t closing;
	bool mppe_required;
	/* owner lcore */
	uint32_t tx_seq;                /* next sequence number to send */
	uint32_t rx_seq;                /* highest sequence number received */
	uint32_t ack_sent;              /* the last ack value sent */
	bool rx_any;
	uint64_t last_ack_tsc;
	uint64_t last_reset_tsc;
	struct mppe_state mppe_tx, mppe_rx;
	uint64_t acks_rx, acks_only_tx, ctrl_rx, ctrl_tx, resets_rx, resets_tx, beyond_peer_window;
	uint64_t peer_window_waits;     /* times the window closed with data waiting */
	uint64_t peer_window_timeouts;  /* times it reopened without an ack (window_timeout) */
	uint32_t peer_ack;              /* the client's highest ack (valid once peer_acked) */
	uint32_t unacked;               /* first sequence number the client has not acked */
	uint32_t tx_granted;            /* let go by tx_open, not numbered yet (in the encap stage) */
	uint64_t window_closed_at;      /* clock ticks the window closed; 0 while open */
	/* control thread */
	struct pptp_call *call;
};

extern const struct tunnel_ops pptp_ops;

/* Control thread (control.c). */
int pptp_server_init(const struct pptp_conf *c, const struct session_host *host);
/* One round: sockets, PPP frames from the lcores, timers. Waits up to timeout_ms for sockets. */
void pptp_server_poll(int timeout_ms);
/* Closes every call and connection (Stop-Control-Connection) and frees them. */
void pptp_server_fini(void);

/* The ring the lcores put PPP control frames on (m->hash.usr = call id). */
extern struct rte_ring *pptp_ctl_ring;
/* An eventfd the lcores write when the ring was empty: wakes the control thread's poll(). */
extern int pptp_ctl_wake;

/* Telemetry, from any thread (takes the server lock). */
struct rte_tel_data;
void pptp_telemetry_server(struct rte_tel_data *d);
void pptp_telemetry_sessions(struct rte_tel_data *d);

/* Config (pptp_conf.c): [pptp] keys through the generic accessor. */
int pptp_conf_parse(struct pptp_conf *c, const struct tunnel_conf *tc);
void pptp_conf_free(struct pptp_conf *c);

/* GRE v1 header (gre_v1.c), also for tests and the fuzzer. */
struct pptp_gre {
	uint16_t payload_len;
	uint16_t call_id;
	bool has_seq, has_ack;
	uint32_t seq, ack;
	uint16_t hdr_len;
};
/* DROP_MAX, PPTP_MALFORMED / GRE_TRUNCATED, or -1 when not version 1. */
int pptp_gre_parse(const uint8_t *p, uint32_t len, struct pptp_gre *g);
uint16_t pptp_gre_write(uint8_t *p, uint16_t call_id, uint16_t payload_len, const uint32_t *seq,
			const uint32_t *ack);

#endif
