/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenVPN's --fragment framing: with it, every data packet carries a 32-bit
 * big-endian header after the packet-id (inside the encryption):
 *
 *   bits 0-1   type: 0 whole, 1 a fragment but not the last, 2 the last, 3 test (unused)
 *   bits 2-9   sequence id shared by the fragments of one datagram
 *   bits 10-14 fragment number n (0-31); fragment n starts at n * fragment size
 *   bits 15-28 in the last fragment: the fragment size / 4 (the others have that size)
 *
 * Fragments of a datagram may arrive in any order; each is its own packet
 * with its own packet-id. Reassembly state is bounded: OVPN_FRAG_SLOTS
 * datagrams at once per tunnel (the oldest is given up for a new one), each
 * at most OVPN_FRAG_DATAGRAM_MAX bytes, given up after OVPN_FRAG_TTL_MS.
 * We always send whole packets: the tunnel MTU keeps them under the size.
 */
#ifndef DPVPN_OVPN_FRAGMENT_H
#define DPVPN_OVPN_FRAGMENT_H

#include <stdbool.h>
#include <stdint.h>

#define OVPN_FRAG_HDR_LEN 4
#define OVPN_FRAG_WHOLE 0
#define OVPN_FRAG_NOT_LAST 1
#define OVPN_FRAG_LAST 2
#define OVPN_FRAG_SLOTS 4
#define OVPN_FRAG_DATAGRAM_MAX 1600     /* a 1500-byte tun MTU plus room */
#define OVPN_FRAG_TTL_MS 10000          /* openvpn's own fragment time-to-live */

struct ovpn_frag_slot {
	uint64_t since;         /* clock ticks of the first fragment; 0: slot free */
	uint32_t map;           /* bit n: fragment n arrived; the last sets n..31 */
	uint16_t size;          /* fragment size of this datagram */
	uint16_t total;         /* datagram length, known once the last arrived */
	uint8_t seq_id;
	uint8_t buf[OVPN_FRAG_DATAGRAM_MAX];
};

struct ovpn_frag {
	struct ovpn_frag_slot slot[OVPN_FRAG_SLOTS];
	uint64_t ttl_ticks;
	/* Counters (owner writes, telemetry reads relaxed). */
	uint64_t fragments, reassembled, given_up;
};

enum ovpn_frag_result {
	OVPN_FRAG_HELD,         /* stored; the datagram is not complete yet */
	OVPN_FRAG_DONE,         /* this fragment completed the datagram: *out, *out_len */
	OVPN_FRAG_BAD,          /* malformed: type, size or offset */
};

/*
 * Files one fragment (header hdr, len data bytes) received at now. On
 * OVPN_FRAG_DONE, *out points at the whole datagram inside the slot, valid
 * until the next call.
 */
enum ovpn_frag_result ovpn_frag_input(struct ovpn_frag *f, uint32_t hdr, const uint8_t *data,
				      uint32_t len, uint64_t now, const uint8_t **out, uint32_t *out_len);

/*
 * With --fragment on, after decryption, *inner at the fragment header: true
 * for a whole packet (*inner, *inner_len now past the header); false when m
 * was a fragment: filed, and rx->late_drop says what leaves the window (the
 * fragment that completes a datagram carries it on in m). data_channel.c.
 */
struct rte_mbuf;
struct tunnel_rx;
bool ovpn_frag_receive(struct ovpn_frag *f, struct rte_mbuf *m, uint8_t **inner, uint32_t *inner_len,
		       struct tunnel_rx *rx);

/* Reassembly state for a tunnel with --fragment on, with openvpn's TTL; NULL if out of memory. */
struct ovpn_frag *ovpn_frag_new(void);
/* Telemetry: "fragment" (N, or 0 when off) and, with f, the reassembly counters. */
struct rte_tel_data;
void ovpn_frag_telemetry(const struct ovpn_frag *f, uint16_t fragment, struct rte_tel_data *d);

/* Gives up datagrams older than the TTL; returns how many. */
unsigned ovpn_frag_expire(struct ovpn_frag *f, uint64_t now);

#endif
