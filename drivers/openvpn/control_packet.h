/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenVPN's packet opcodes and its control packets in TLS mode (no
 * tls-auth, no tls-crypt), as UDP payloads:
 *
 *   opcode << 3 | key_id (1) | session id (8) | ack count (1)
 *   | acked message ids (4 each) | remote session id (8, when acks > 0)
 *   | message id (4, not in P_ACK_V1) | payload (TLS records; empty in resets)
 *
 * Data packets (P_DATA_V2) start with the same opcode byte and a 3-byte
 * peer-id (session_data.c). Message ids count from 0 in each key state.
 */
#ifndef DPVPN_OVPN_CONTROL_PACKET_H
#define DPVPN_OVPN_CONTROL_PACKET_H

#include <stdbool.h>
#include <stdint.h>

enum ovpn_opcode {
	OVPN_P_CONTROL_HARD_RESET_CLIENT_V1 = 1,
	OVPN_P_CONTROL_HARD_RESET_SERVER_V1 = 2,
	OVPN_P_CONTROL_SOFT_RESET_V1 = 3,
	OVPN_P_CONTROL_V1 = 4,
	OVPN_P_ACK_V1 = 5,
	OVPN_P_DATA_V1 = 6,
	OVPN_P_CONTROL_HARD_RESET_CLIENT_V2 = 7,
	OVPN_P_CONTROL_HARD_RESET_SERVER_V2 = 8,
	OVPN_P_DATA_V2 = 9,
	OVPN_P_CONTROL_HARD_RESET_CLIENT_V3 = 10,
	OVPN_P_CONTROL_WKC_V1 = 11,
};

#define OVPN_SID_LEN 8
#define OVPN_ACKS_MAX 8                 /* a 2.6 peer refuses more (RELIABLE_ACK_SIZE) */
#define OVPN_CTL_PAYLOAD_MAX 1400       /* control payloads we accept; openvpn's tls-mtu is 1250 */

static inline uint8_t
ovpn_op_of(uint8_t b)
{
	return b >> 3;
}

static inline uint8_t
ovpn_key_id_of(uint8_t b)
{
	return b & 7;
}

struct ovpn_ctl_pkt {
	uint8_t opcode, key_id;
	uint8_t sid[OVPN_SID_LEN];
	uint8_t nb_acks;
	uint32_t acks[OVPN_ACKS_MAX];
	uint8_t remote_sid[OVPN_SID_LEN]; /* with nb_acks > 0 */
	bool has_msg_id;                /* every control opcode but P_ACK_V1 */
	uint32_t msg_id;
	const uint8_t *payload;
	uint32_t payload_len;
};

enum ovpn_ctl_error {
	OVPN_CTL_OK = 0,
	OVPN_CTL_TRUNCATED,             /* shorter than its fields */
	OVPN_CTL_BAD_OPCODE,            /* a data opcode, or one we do not serve (V1 resets, V3, WKC) */
	OVPN_CTL_TOO_MANY_ACKS,
	OVPN_CTL_TOO_LONG,              /* payload above OVPN_CTL_PAYLOAD_MAX */
	OVPN_CTL_ERROR_COUNT
};

const char *ovpn_ctl_strerror(int e);
bool ovpn_opcode_is_control(uint8_t opcode);
/* Parses a UDP payload; c->payload points into p. */
enum ovpn_ctl_error ovpn_ctl_parse(const uint8_t *p, uint32_t len, struct ovpn_ctl_pkt *c);
/* Writes c (payload copied) into p; returns the length, 0 when room is too small. */
uint32_t ovpn_ctl_write(uint8_t *p, uint32_t room, const struct ovpn_ctl_pkt *c);

#endif
