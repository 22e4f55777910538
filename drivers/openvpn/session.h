/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A TLS-mode OpenVPN client's data path (session_data.c): a tunnel made at
 * run time by the control thread (server.c), found by its peer-id in
 * P_DATA_V2 packets, with AEAD keys the TLS key exchange derived:
 *
 *   opcode 9 << 3 | key_id (1) | peer-id (3) | packet-id (4) | tag (16) | ciphertext
 *
 * The first 8 bytes are the AEAD's associated data; the nonce is the
 * packet-id followed by 8 bytes of implicit IV from the key material.
 *
 * Keys: the control thread publishes a new key set (key_id 0, then 1..7 at
 * each renegotiation) in the slot the owner does not send with, and frees
 * the set it replaces after a grace period. The owner decrypts with
 * whichever key_id a packet names, and moves its sending and its reorder
 * window to a newer set when the client's first packet under it arrives:
 * an openvpn peer keeps sending with the old key for a while after a
 * renegotiation (up to hand-window or reneg-sec / 2), and can decrypt the
 * new one only once it has processed our key exchange message. Packets of
 * the older key still arriving after the switch are replays or late: the
 * switch marks everything up to the old key's highest packet-id as seen.
 */
#ifndef DPVPN_OVPN_SESSION_H
#define DPVPN_OVPN_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "aead.h"
#include "data_channel.h"
#include "fragment.h"
#include "tunnel.h"

#define OVPN_TLS_KEY_VARIANT 3          /* tunnel_key.variant of peer-id keys */
#define OVPN_AEAD_HDR 24                /* opcode, peer-id, packet-id, tag */
#define OVPN_AEAD_AD 8                  /* opcode, peer-id, packet-id */
#define OVPN_IMPLICIT_IV 8
#define OVPN_PEER_ID_MAX 0xfffffe       /* 0xffffff means "no peer-id" in openvpn */

extern const struct tunnel_ops openvpn_tls_ops;

/* One direction pair of data channel keys, immutable once published but for the owner's fields. */
struct ovpn_dkey {
	struct aead_key *enc, *dec;
	enum aead_algo algo;
	uint8_t key_id;
	uint32_t gen;                   /* installation order: the newer set has the larger */
	uint8_t enc_iv[OVPN_IMPLICIT_IV], dec_iv[OVPN_IMPLICIT_IV];
	/* owner lcore */
	uint32_t tx_pid;                /* last packet-id sent; the first is 1 */
	uint32_t replay_top;            /* highest packet-id received */
	uint64_t replay_bits;           /* once not the window's key: bit i, replay_top - i seen */
};

struct ovpn_session {
	uint32_t peer_id;
	rte_be16_t port, peer_port;
	/* published by the control thread (release), read by the owner (acquire) */
	struct ovpn_dkey *keys[2];
	/* owner lcore (the control thread reads it) */
	uint8_t tx_slot;                /* index in keys of the set we send with */
	int16_t window_key;             /* key_id the reorder window numbers, -1 before the first packet */
	uint64_t keepalive_ticks;
	struct ovpn_keepalive ka;
	uint16_t fragment;              /* --fragment N: 0 off; else a header in every packet */
	struct ovpn_frag *frag;         /* reassembly, with fragment on (the control thread frees it) */
	/* counters (owner writes, anyone reads relaxed) */
	uint64_t pings_rx, pings_tx, old_key_rx, last_rx_tsc;
	/* the control thread's, for telemetry: set before the session is in the table, or atomically */
	char common_name[64];
	char cipher[24];
	const char *key_derivation;     /* "tls-ekm" or "prf" */
	rte_be32_t vaddr;
	uint64_t key_started_ms;        /* when the newest key was installed (monotonic ms) */
	uint32_t renegotiations;
};

/*
 * The key an outside packet with this peer-id is found by (and the tunnel's
 * key): the client's address too, so a packet from elsewhere never reaches
 * the session (no floating between addresses; the port may change).
 */
void ovpn_tls_key_make(rte_be32_t peer, rte_be32_t local, uint32_t peer_id, struct tunnel_key *k);
/*
 * A new session's data path in t (s is t->priv's memory, zeroed): its peer-id,
 * our port and the client's, and its first keys (key_id 0), sent with and
 * numbered by the window from the client's first packet.
 */
void ovpn_session_init(struct tunnel *t, struct ovpn_session *s, uint32_t peer_id, rte_be16_t port,
		       rte_be16_t peer_port, struct ovpn_dkey *k);
/* Control thread: data channel keys from 256 bytes of key material (struct key2 in openvpn). */
struct ovpn_dkey *ovpn_dkey_new(enum aead_algo algo, uint8_t key_id, uint32_t gen, const uint8_t material[256],
			      bool server);
void ovpn_dkey_free(struct ovpn_dkey *k);
/* The server's UDP port for classify (network order); 0: no server. */
void ovpn_tls_set_port(rte_be16_t port, bool punt);

#endif
