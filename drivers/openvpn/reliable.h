/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenVPN's reliability layer for control messages (one per key state):
 * every message we send has a message id and is sent again, with a
 * doubling timeout, until the peer acks it; every message received is
 * acked (copies too, in case our ack was lost), held until the ones before
 * it arrived, and taken in id order. Pure: time comes in as milliseconds.
 */
#ifndef DPVPN_OVPN_RELIABLE_H
#define DPVPN_OVPN_RELIABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "control_packet.h"

#define OVPN_REL_OUT 6                  /* our messages in flight: within any peer's receive window */
#define OVPN_REL_IN 8                   /* ids past the next one held for order */
#define OVPN_REL_ACKS 16                /* acks waiting to be sent */
#define OVPN_REL_TIMEOUT_MS 1000        /* first retransmission; doubles up to the max */
#define OVPN_REL_TIMEOUT_MAX_MS 8000

struct ovpn_rel_out {
	bool used;
	uint8_t opcode;
	uint16_t len;
	uint32_t msg_id;
	uint32_t timeout_ms;
	uint64_t due_ms;                /* send (again) at */
	uint8_t data[OVPN_CTL_PAYLOAD_MAX];
};

struct ovpn_rel_in {
	bool used;
	uint8_t opcode;
	uint16_t len;
	uint8_t data[OVPN_CTL_PAYLOAD_MAX];
};

struct ovpn_reliable {
	uint32_t next_out_id;
	struct ovpn_rel_out out[OVPN_REL_OUT];
	uint32_t next_in_id;            /* the id taken next */
	struct ovpn_rel_in in[OVPN_REL_IN]; /* id at in[id % OVPN_REL_IN] */
	uint32_t acks[OVPN_REL_ACKS];
	unsigned nb_acks;
	uint64_t retransmits, duplicates, beyond_window;
};

void ovpn_rel_init(struct ovpn_reliable *r);
/* A received message: 1 held, 0 a copy (acked again), -1 beyond the window (dropped, not acked). */
int ovpn_rel_input(struct ovpn_reliable *r, uint32_t msg_id, uint8_t opcode, const uint8_t *data,
		   uint32_t len);
/* The next message in id order into data (OVPN_CTL_PAYLOAD_MAX bytes); false when it has not arrived. */
bool ovpn_rel_take(struct ovpn_reliable *r, uint8_t *opcode, uint8_t *data, uint16_t *len);
/* The peer acked msg_id: it is not sent again. */
void ovpn_rel_acked(struct ovpn_reliable *r, uint32_t msg_id);
/* How many more messages may be queued now. */
unsigned ovpn_rel_room(const struct ovpn_reliable *r);
/* Queues a message, due now; its message id, or -1 when no room or too long. */
int64_t ovpn_rel_queue(struct ovpn_reliable *r, uint8_t opcode, const uint8_t *data, uint32_t len,
		       uint64_t now_ms);
/* A message due at now_ms (lowest id first), with its next time set; NULL when none is due. */
struct ovpn_rel_out *ovpn_rel_due(struct ovpn_reliable *r, uint64_t now_ms);
/* Up to max acks to send, oldest first; they leave the list. */
unsigned ovpn_rel_take_acks(struct ovpn_reliable *r, uint32_t *out, unsigned max);
/* True when nothing we sent waits for an ack. */
bool ovpn_rel_all_acked(const struct ovpn_reliable *r);

#endif
