/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenVPN over UDP, static-key mode (drivers/openvpn): one configured tunnel
 * per client, found by the outer addresses and UDP ports. The data channel
 * format is in data_channel.h, the key file in static_key.h.
 */
#ifndef DPVPN_OPENVPN_H
#define DPVPN_OPENVPN_H

#include <stdint.h>

#include "aead.h"
#include "data_channel.h"
#include "fragment.h"
#include "static_key.h"
#include "tunnel.h"

extern const struct tunnel_ops openvpn_ops;

struct ovpn_tunnel {
	enum aead_algo algo;
	uint16_t hmac_len;
	rte_be16_t port;                /* ours */
	rte_be16_t peer_port;           /* with float_port: the last one an authentic packet came from, 0 before */
	bool float_port;                /* peer_port = any */
	enum ovpn_key_direction key_dir;
	struct aead_key *enc, *dec;
	/* Owner lcore only. */
	uint32_t tx_pid;                /* last packet-id sent; the first is 1 */
	uint32_t tx_time;               /* our packet-id time: when we started */
	uint32_t rx_time;               /* the peer's packet-id time; 0 until its first packet */
	uint64_t keepalive_ticks;       /* send a ping after this long without sending; 0: never */
	struct ovpn_keepalive ka;
	/* Counters (owner writes, telemetry reads relaxed). */
	uint64_t pings_rx, pings_tx, peer_restarts;
	/* --fragment framing (fragment = N): a header in every packet, reassembly on receive. */
	uint16_t fragment;              /* 0: off; else the largest UDP payload we send */
	struct ovpn_frag *frag;         /* reassembly state, with fragment on */
	char secret[512];
};

/* Owner lcore: the data channel (data_channel.c). */
enum drop_reason ovpn_decap(struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off,
			    struct tunnel_rx *rx);
enum drop_reason ovpn_encap(struct tunnel *t, struct rte_mbuf *m);
/* The same for up to OVPN_BURST_MAX packets, crypto in one multi-buffer call. */
#define OVPN_BURST_MAX 64
void ovpn_decap_burst(struct tunnel *const *t, struct rte_mbuf *const *m, const uint16_t *l4_off,
		      struct tunnel_rx *rx, enum drop_reason *r, uint16_t n);
void ovpn_encap_burst(struct tunnel *const *t, struct rte_mbuf *const *m, enum drop_reason *r,
		      uint16_t n);
/* The calling lcore's crypto engine, created on first use; NULL if that failed. */
struct aead_engine *ovpn_engine(void);

#define OVPN_DEFAULT_PORT 1194

#endif
