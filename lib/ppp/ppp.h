/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A PPP link as a server sees it (RFC 1661): LCP, then CHAP authentication
 * (MS-CHAPv2, RFC 2759, or MD5, RFC 1994) against a chap-secrets file, then
 * IPCP (RFC 1332 + DNS from RFC 1877) and CCP negotiating MPPE (RFC 3078).
 *
 * Transport-neutral: frames come in through ppp_link_input() and go out
 * through a callback, starting at the protocol field (no HDLC address and
 * control bytes). Time is passed in by the caller (milliseconds), so tests
 * drive the timers without sleeping. One link is used by one thread.
 */
#ifndef DPVPN_PPP_H
#define DPVPN_PPP_H

#include <stdbool.h>
#include <stdint.h>

#include "chap_secrets.h"
#include "mschapv2.h"

/* Protocol numbers. */
#define PPP_IP     0x0021
#define PPP_COMP   0x00fd       /* MPPE-encrypted datagram */
#define PPP_IPCP   0x8021
#define PPP_CCP    0x80fd
#define PPP_LCP    0xc021
#define PPP_PAP    0xc023
#define PPP_CHAP   0xc223

/* Negotiation codes (RFC 1661 5, RFC 1962 for 14/15). */
enum {
	PPP_CONF_REQ = 1, PPP_CONF_ACK, PPP_CONF_NAK, PPP_CONF_REJ, PPP_TERM_REQ, PPP_TERM_ACK,
	PPP_CODE_REJ, PPP_PROTO_REJ, PPP_ECHO_REQ, PPP_ECHO_REPLY, PPP_DISCARD_REQ,
	PPP_RESET_REQ = 14, PPP_RESET_ACK = 15,
};

#define PPP_AUTH_MSCHAPV2 0x01
#define PPP_AUTH_MD5      0x02

enum ppp_mppe_policy { PPP_MPPE_OFF, PPP_MPPE_ALLOW, PPP_MPPE_REQUIRE };
enum ppp_mppe_stateful { PPP_STATEFUL_NO, PPP_STATEFUL_ALLOW, PPP_STATEFUL_PREFER };
#define PPP_MPPE_128 0x01
#define PPP_MPPE_40  0x02

/* MPPE option (CCP type 18) bits, as the 32-bit big-endian value. */
#define MPPE_OPT_H 0x01000000u  /* stateless */
#define MPPE_OPT_M 0x00000080u  /* 56-bit (not supported) */
#define MPPE_OPT_S 0x00000040u  /* 128-bit */
#define MPPE_OPT_L 0x00000020u  /* 40-bit */
#define MPPE_OPT_D 0x00000010u  /* obsolete */
#define MPPE_OPT_C 0x00000001u  /* MPPC compression (not supported) */

struct ppp_conf {
	const struct chap_secrets *secrets;
	char name[CHAP_NAME_MAX];       /* our name in CHAP challenges and chap-secrets' server column */
	uint32_t local_addr;            /* our IPCP address, network order */
	uint32_t dns[2];                /* RFC 1877 primary/secondary; 0: reject the option */
	uint16_t mru;                   /* what we receive (our LCP MRU) */
	uint8_t auth;                   /* PPP_AUTH_* allowed */
	uint8_t mppe;                   /* enum ppp_mppe_policy */
	uint8_t mppe_stateful;          /* enum ppp_mppe_stateful */
	uint8_t mppe_bits;              /* PPP_MPPE_128 | PPP_MPPE_40 allowed */
	uint32_t restart_ms;            /* Restart timer (RFC 1661 4.6), default 3000 */
	uint32_t max_configure;         /* default 10 */
	uint32_t max_terminate;         /* default 2 */
	uint32_t echo_interval_ms;      /* LCP echo when the link is open; 0: off */
	uint32_t echo_failures;         /* unanswered echoes before the link is declared dead */
};

/* Fills the defaults above (and auth = MS-CHAPv2, MPPE 128 required, stateful allowed). */
void ppp_conf_defaults(struct ppp_conf *c);

struct ppp_link;

struct ppp_link_cb {
	void *ctx;
	/* A frame to send: protocol (2 bytes) + information. */
	void (*send)(void *ctx, const uint8_t *frame, uint16_t len);
	/* The client's address: fixed (chap-secrets) or 0 for one from the pool. 0: none left. */
	uint32_t (*addr_alloc)(void *ctx, const char *user, uint32_t fixed);
	/* IPCP (and CCP when MPPE is required) opened: data may flow. */
	void (*up)(void *ctx, struct ppp_link *l);
	/* MPPE keys ready (CCP opened after up) or gone. */
	void (*mppe)(void *ctx, struct ppp_link *l);
	/* The link is finished (terminated, failed, timed out): why says which. */
	void (*down)(void *ctx, struct ppp_link *l, const char *why);
};

enum ppp_fsm_state { FSM_CLOSED, FSM_REQSENT, FSM_ACKRCVD, FSM_ACKSENT, FSM_OPENED, FSM_CLOSING };

struct ppp_fsm {
	const struct ppp_fsm_ops *ops;
	uint8_t state;                  /* enum ppp_fsm_state */
	uint8_t req_id;                 /* id of our last Configure-Request */
	uint8_t next_id;
	uint8_t retries;                /* restart counter */
	uint64_t deadline_ms;           /* 0: no timer */
	bool peer_acked;                /* we acked the peer's request */
	uint32_t rejected;              /* our options the peer rejected (bit per option type < 32) */
};

enum ppp_phase { PPP_PHASE_DEAD, PPP_PHASE_ESTABLISH, PPP_PHASE_AUTH, PPP_PHASE_NETWORK,
		 PPP_PHASE_TERMINATE };

struct ppp_link {
	const struct ppp_conf *conf;
	struct ppp_link_cb cb;
	uint64_t now_ms;
	uint8_t phase;                  /* enum ppp_phase */
	struct ppp_fsm lcp, ipcp, ccp;
	/* LCP */
	uint32_t our_magic, peer_magic;
	uint16_t peer_mru, our_mru;
	uint8_t auth;                   /* PPP_AUTH_* we ask for */
	uint8_t echo_missed;
	uint64_t next_echo_ms;
	/* CHAP */
	uint8_t chap_id, chap_tries;
	uint8_t challenge[MSCHAPV2_CHALLENGE_LEN];
	uint64_t chap_deadline_ms;
	bool authenticated;
	bool user_bound;                /* user holds the name of the first success, for good */
	char user[CHAP_NAME_MAX];
	struct mschapv2_result mschap;
	char chap_reply[96];            /* the Success message, resent if the response comes again */
	/* IPCP */
	uint32_t peer_addr;             /* network order, 0 until allocated */
	bool up;                        /* cb.up was called */
	/* CCP / MPPE */
	uint32_t mppe_opts;             /* the MPPE bits both sides use (MPPE_OPT_*) */
	bool ccp_stateful_asked;        /* we Nak-ed the peer's H away once (prefer stateful) */
	bool mppe_on;
	uint8_t mppe_send_key[16], mppe_recv_key[16]; /* start keys (RFC 3079 3.3, server side) */
	unsigned mppe_key_bits;
	bool mppe_stateless;
	/* counters */
	uint64_t rx_frames, tx_frames, rx_bad, proto_rejects_sent, echo_sent, echo_replies;
	char why[64];
};

void ppp_link_init(struct ppp_link *l, const struct ppp_conf *c, const struct ppp_link_cb *cb, uint64_t now_ms);
/* The server starts LCP at once (RFC 1661 "active open"). */
void ppp_link_start(struct ppp_link *l, uint64_t now_ms);
/* A frame from the peer, starting at the protocol field (1 or 2 bytes). */
void ppp_link_input(struct ppp_link *l, const uint8_t *frame, uint16_t len, uint64_t now_ms);
/* Retransmissions, echo; call every ~100 ms. */
void ppp_link_timer(struct ppp_link *l, uint64_t now_ms);
/* Administrative close: LCP Terminate-Request, then down. */
void ppp_link_close(struct ppp_link *l, const char *why, uint64_t now_ms);
/* The earliest deadline (ms) of the link's timers; UINT64_MAX when none. */
uint64_t ppp_link_next_deadline(const struct ppp_link *l);
/* "establish", "auth", "network", "open", "terminate", "dead". */
const char *ppp_link_state(const struct ppp_link *l);

#endif
