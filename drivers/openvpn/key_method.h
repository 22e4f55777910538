/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What travels inside the TLS channel of a key state (OpenVPN key-method 2):
 * first one binary message each way, then NUL-terminated text messages
 * (PUSH_REQUEST, PUSH_REPLY,...). Pure functions, no TLS here.
 *
 * Client to server:  0 (4 bytes) | 2 (1) | pre-master (48) | random1 (32) | random2 (32)
 *                    | options | username | password | peer-info
 * Server to client:  0 (4 bytes) | 2 (1) | random1 (32) | random2 (32) | options | "" | "" | ""
 *
 * Each string is a 2-byte length (counting a final NUL), then its bytes
 * and the NUL; an empty string is length 0 alone. Data channel keys come
 * from the TLS exporter (RFC 5705, label "EXPORTER-OpenVPN-datakeys", 256
 * bytes), which 2.5+ clients announce in IV_PROTO and the server confirms
 * in PUSH_REPLY.
 */
#ifndef DPVPN_OVPN_KEY_METHOD_H
#define DPVPN_OVPN_KEY_METHOD_H

#include <stdbool.h>
#include <stdint.h>

#include "aead.h"

#define OVPN_KM2_PRE_MASTER 48
#define OVPN_KM2_RANDOM 32
#define OVPN_OPTIONS_MAX 1024
#define OVPN_PEER_INFO_MAX 2048
#define OVPN_KEY_MATERIAL 256
#define OVPN_EKM_LABEL "EXPORTER-OpenVPN-datakeys"

/* IV_PROTO bits a client announces (openvpn ssl.h). */
#define OVPN_IV_PROTO_DATA_V2 (1u << 1)
#define OVPN_IV_PROTO_REQUEST_PUSH (1u << 2)
#define OVPN_IV_PROTO_TLS_KEY_EXPORT (1u << 3)
#define OVPN_IV_PROTO_CC_EXIT_NOTIFY (1u << 7)

struct ovpn_km2_client {
	uint8_t pre_master[OVPN_KM2_PRE_MASTER];
	uint8_t random1[OVPN_KM2_RANDOM], random2[OVPN_KM2_RANDOM];
	char options[OVPN_OPTIONS_MAX];
	char username[256];
	char peer_info[OVPN_PEER_INFO_MAX];
};

/*
 * Parses the client's message from the start of buf: its length when whole,
 * 0 when more bytes are needed, -1 when malformed.
 */
int ovpn_km2_client_parse(const uint8_t *buf, uint32_t len, struct ovpn_km2_client *c);
/* Writes the server's message into out (room bytes); its length, or 0 when room is too small. */
uint32_t ovpn_km2_server_write(uint8_t *out, uint32_t room, const uint8_t random1[OVPN_KM2_RANDOM],
			       const uint8_t random2[OVPN_KM2_RANDOM], const char *options);

/*
 * Data channel keys the pre-2.5 way (clients without TLS key export): the
 * TLS 1.0 PRF (MD5 and SHA-1) over key-method 2's randoms,
 *   master = PRF(pre-master, "OpenVPN master secret" | client random1 | server random1)
 *   keys   = PRF(master, "OpenVPN key expansion" | client random2 | server random2
 *                | client session id | server session id)
 * into OVPN_KEY_MATERIAL bytes laid out as the exporter's. 0 or -1.
 */
int ovpn_prf_keys(const struct ovpn_km2_client *c, const uint8_t srv_random1[OVPN_KM2_RANDOM],
		  const uint8_t srv_random2[OVPN_KM2_RANDOM], const uint8_t client_sid[8], const uint8_t server_sid[8],
		  uint8_t out[OVPN_KEY_MATERIAL]);

/* One "NAME=value" line of peer-info (lines end in '\n'), copied into out; false when absent. */
bool ovpn_peer_info_get(const char *peer_info, const char *name, char *out, unsigned size);

/* openvpn's cipher names of the AEAD algorithms (AES-256-GCM, ...); NULL for the others. */
const char *ovpn_cipher_name(enum aead_algo a);
/* The algorithm of an openvpn cipher name (case does not matter); -1 when not an AEAD we serve. */
int ovpn_cipher_parse(const char *name);
/*
 * The first of ours (in our order) that the client lists in IV_CIPHERS
 * (colon-separated; without IV_CIPHERS, 2.4's IV_NCP=2 means AES-256-GCM and
 * AES-128-GCM); -1 when none.
 */
int ovpn_cipher_choose(const enum aead_algo *ours, unsigned n, const char *peer_info);

#endif
