/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenVPN's data channel in static-key mode with a CBC cipher and an HMAC
 * (openvpn --secret, --cipher AES-*-CBC, --auth SHA*), as a UDP payload:
 *
 *   HMAC (digest length) | IV (16) | AES-CBC( packet-id (4) | time (4) | payload | PKCS#7 pad )
 *
 * No opcode byte: static-key mode has no control channel. The HMAC covers
 * IV and ciphertext (encrypt-then-MAC), so a forged packet is rejected
 * before it is decrypted, and padding is never an oracle. packet-id is the
 * long form: a 32-bit counter from 1 and the sender's start time in Unix
 * seconds; a later time means the sender restarted. The payload is an IPv4
 * packet (tun mode), or the 16-byte keepalive below.
 */
#ifndef DPVPN_OVPN_DATA_CHANNEL_H
#define DPVPN_OVPN_DATA_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_udp.h>

#include "stats.h"

#define OVPN_BLOCK 16                   /* AES block, and the CBC IV */
#define OVPN_PID_LONG_LEN 8             /* packet-id + time */
#define OVPN_PING_LEN 16

/* The keepalive payload (openvpn --ping), as found on the wire. */
static const uint8_t ovpn_ping_payload[OVPN_PING_LEN] = {
	0x2a, 0x18, 0x7b, 0xf3, 0x64, 0x1e, 0xb4, 0xcb,
	0x07, 0xed, 0x2d, 0x0a, 0x98, 0x1f, 0xc7, 0x48,
};

static inline bool
ovpn_is_ping(const uint8_t *payload, uint32_t len)
{
	return len == OVPN_PING_LEN && memcmp(payload, ovpn_ping_payload, OVPN_PING_LEN) == 0;
}

/* PKCS#7: 1 to 16 bytes, each holding the count, so a full block when already aligned. */
static inline uint32_t
ovpn_pad_len(uint32_t plain_len)
{
	return OVPN_BLOCK - plain_len % OVPN_BLOCK;
}

/* The pad length of a decrypted region of len bytes, or 0 when the padding is invalid. */
static inline uint32_t
ovpn_pad_check(const uint8_t *plain, uint32_t len)
{
	uint32_t pad = len ? plain[len - 1] : 0;

	if (pad == 0 || pad > OVPN_BLOCK || pad > len)
		return 0;
	for (uint32_t i = len - pad; i < len - 1; i++)
		if (plain[i] != pad)
			return 0;
	return pad;
}

/* Smallest valid packet: HMAC, IV and one block (packet-id, time, pad). */
static inline bool
ovpn_length_ok(uint32_t udp_payload_len, uint32_t hmac_len)
{
	uint32_t ct;

	if (udp_payload_len < hmac_len + 2 * OVPN_BLOCK)
		return false;
	ct = udp_payload_len - hmac_len - OVPN_BLOCK;
	return ct % OVPN_BLOCK == 0;
}

static inline uint32_t
ovpn_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
ovpn_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * When to send a keepalive: after `ticks` in which nothing was sent. mark is
 * what the sender has numbered so far (a packet-id, with the key id above it
 * in TLS mode); the ping takes the next one.
 */
struct ovpn_keepalive {
	uint64_t since;                 /* when mark last moved (or we pinged); 0: not yet */
	uint64_t mark;
};

static inline bool
ovpn_keepalive_due(struct ovpn_keepalive *ka, uint64_t mark, uint64_t now, uint64_t ticks)
{
	if (mark != ka->mark || ka->since == 0) {
		/* Something was sent since we last looked: the peer hears from us anyway. */
		ka->mark = mark;
		ka->since = now;
		return false;
	}
	if (now - ka->since < ticks)
		return false;
	ka->mark = mark + 1; /* the ping's own packet-id */
	ka->since = now;
	return true;
}

/*
 * The UDP payload of an outside packet at l4_off, whole in the first segment
 * (the pool's mbufs hold a full MTU); DROP_MAX, or DROP_UDP_TRUNCATED.
 */
static inline enum drop_reason
ovpn_udp_payload(struct rte_mbuf *m, uint16_t l4_off, uint8_t **payload, uint32_t *len, rte_be16_t *sport)
{
	const struct rte_udp_hdr *udp;
	uint32_t udp_len;

	if (!rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_data_len(m) < l4_off + sizeof(*udp))
		return DROP_UDP_TRUNCATED;
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, l4_off);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (udp_len < sizeof(*udp) || l4_off + udp_len > rte_pktmbuf_data_len(m))
		return DROP_UDP_TRUNCATED;
	*payload = (uint8_t *)(uintptr_t)(udp + 1);
	*len = udp_len - sizeof(*udp);
	*sport = udp->src_port;
	return DROP_MAX;
}

/* What a received packet-id time means for the peer's session we know (time 0: none yet). */
enum ovpn_time_verdict { OVPN_TIME_SAME, OVPN_TIME_NEWER, OVPN_TIME_OLDER };

static inline enum ovpn_time_verdict
ovpn_time_check(uint32_t known, uint32_t received)
{
	if (received == known)
		return OVPN_TIME_SAME;
	return received > known ? OVPN_TIME_NEWER : OVPN_TIME_OLDER;
}

#endif
