/* SPDX-License-Identifier: BSD-3-Clause */
/* OpenVPN's control message reliability (reliable.h). */
#include <string.h>

#include "reliable.h"

void
ovpn_rel_init(struct ovpn_reliable *r)
{
	memset(r, 0, sizeof(*r));
}

static void
ack_add(struct ovpn_reliable *r, uint32_t msg_id)
{
	for (unsigned i = 0; i < r->nb_acks; i++)
		if (r->acks[i] == msg_id)
			return;
	if (r->nb_acks == OVPN_REL_ACKS) {
		/* Full: the oldest goes; the peer sends that message again and we ack it then. */
		memmove(r->acks, r->acks + 1, sizeof(r->acks[0]) * (OVPN_REL_ACKS - 1));
		r->nb_acks--;
	}
	r->acks[r->nb_acks++] = msg_id;
}

int
ovpn_rel_input(struct ovpn_reliable *r, uint32_t msg_id, uint8_t opcode, const uint8_t *data, uint32_t len)
{
	uint32_t ahead = msg_id - r->next_in_id; /* modulo 2^32: "before next" is a huge value */
	struct ovpn_rel_in *s;

	if (ahead >= OVPN_REL_IN && ahead < UINT32_MAX / 2) {
		r->beyond_window++;
		return -1;
	}
	ack_add(r, msg_id);
	if (ahead >= OVPN_REL_IN) {
		r->duplicates++;
		return 0; /* already taken */
	}
	s = &r->in[msg_id % OVPN_REL_IN];
	if (s->used || len > sizeof(s->data)) {
		r->duplicates += s->used;
		return 0;
	}
	s->used = true;
	s->opcode = opcode;
	s->len = (uint16_t)len;
	memcpy(s->data, data, len);
	return 1;
}

bool
ovpn_rel_take(struct ovpn_reliable *r, uint8_t *opcode, uint8_t *data, uint16_t *len)
{
	struct ovpn_rel_in *s = &r->in[r->next_in_id % OVPN_REL_IN];

	if (!s->used)
		return false;
	*opcode = s->opcode;
	*len = s->len;
	memcpy(data, s->data, s->len);
	s->used = false;
	r->next_in_id++;
	return true;
}

void
ovpn_rel_acked(struct ovpn_reliable *r, uint32_t msg_id)
{
	for (unsigned i = 0; i < OVPN_REL_OUT; i++)
		if (r->out[i].used && r->out[i].msg_id == msg_id)
			r->out[i].used = false;
}

unsigned
ovpn_rel_room(const struct ovpn_reliable *r)
{
	uint32_t oldest = r->next_out_id;

	for (unsigned i = 0; i < OVPN_REL_OUT; i++)
		if (r->out[i].used && r->next_out_id - r->out[i].msg_id > r->next_out_id - oldest)
			oldest = r->out[i].msg_id;
	/*
	 * The peer holds ids up to its next expected one plus its window: new
	 * ids stay within OVPN_REL_OUT of the oldest one not acked yet.
	 */
	return OVPN_REL_OUT - (r->next_out_id - oldest);
}

int64_t
ovpn_rel_queue(struct ovpn_reliable *r, uint8_t opcode, const uint8_t *data, uint32_t len, uint64_t now_ms)
{
	if (len > OVPN_CTL_PAYLOAD_MAX || ovpn_rel_room(r) == 0)
		return -1;
	for (unsigned i = 0; i < OVPN_REL_OUT; i++) {
		struct ovpn_rel_out *o = &r->out[i];

		if (o->used)
			continue;
		o->used = true;
		o->opcode = opcode;
		o->len = (uint16_t)len;
		memcpy(o->data, data, len);
		o->msg_id = r->next_out_id++;
		o->timeout_ms = OVPN_REL_TIMEOUT_MS;
		o->due_ms = now_ms;
		return o->msg_id;
	}
	return -1;
}

struct ovpn_rel_out *
ovpn_rel_due(struct ovpn_reliable *r, uint64_t now_ms)
{
	struct ovpn_rel_out *best = NULL;

	for (unsigned i = 0; i < OVPN_REL_OUT; i++) {
		struct ovpn_rel_out *o = &r->out[i];

		if (o->used && o->due_ms <= now_ms &&
		    (best == NULL || (int32_t)(o->msg_id - best->msg_id) < 0))
			best = o;
	}
	if (best == NULL)
		return NULL;
	if (best->timeout_ms > OVPN_REL_TIMEOUT_MS)
		r->retransmits++; /* sent before */
	best->due_ms = now_ms + best->timeout_ms;
	best->timeout_ms = best->timeout_ms * 2 > OVPN_REL_TIMEOUT_MAX_MS ? OVPN_REL_TIMEOUT_MAX_MS
									   : best->timeout_ms * 2;
	return best;
}

unsigned
ovpn_rel_take_acks(struct ovpn_reliable *r, uint32_t *out, unsigned max)
{
	unsigned n = r->nb_acks < max ? r->nb_acks : max;

	memcpy(out, r->acks, sizeof(out[0]) * n);
	memmove(r->acks, r->acks + n, sizeof(r->acks[0]) * (r->nb_acks - n));
	r->nb_acks -= n;
	return n;
}

bool
ovpn_rel_all_acked(const struct ovpn_reliable *r)
{
	for (unsigned i = 0; i < OVPN_REL_OUT; i++)
		if (r->out[i].used)
			return false;
	return true;
}
