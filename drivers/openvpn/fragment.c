/* SPDX-License-Identifier: BSD-3-Clause */
/* Reassembly of OpenVPN --fragment datagrams; the header layout is in fragment.h. */
#include <string.h>

#include "fragment.h"

#define ALL_ARRIVED 0xffffffffu

static struct ovpn_frag_slot *
slot_for(struct ovpn_frag *f, uint8_t seq_id, uint64_t now)
{
	struct ovpn_frag_slot *free_slot = NULL, *oldest = &f->slot[0];

	for (unsigned i = 0; i < OVPN_FRAG_SLOTS; i++) {
		struct ovpn_frag_slot *s = &f->slot[i];

		if (s->since != 0 && s->seq_id == seq_id)
			return s;
		if (s->since == 0 && free_slot == NULL)
			free_slot = s;
		if (s->since < oldest->since)
			oldest = s;
	}
	if (free_slot == NULL) {
		/* All busy: the oldest datagram is given up for the newer one. */
		free_slot = oldest;
		f->given_up++;
	}
	free_slot->since = now;
	free_slot->seq_id = seq_id;
	free_slot->map = 0;
	free_slot->size = 0;
	free_slot->total = 0;
	return free_slot;
}

enum ovpn_frag_result
ovpn_frag_input(struct ovpn_frag *f, uint32_t hdr, const uint8_t *data, uint32_t len, uint64_t now,
		const uint8_t **out, uint32_t *out_len)
{
	const uint32_t type = hdr & 3, n = (hdr >> 10) & 0x1f;
	const uint8_t seq_id = (uint8_t)(hdr >> 2);
	/* Not-last fragments all have the fragment size; the last one says it. */
	const uint32_t size = type == OVPN_FRAG_LAST ? ((hdr >> 15) & 0x3fff) << 2 : len;
	struct ovpn_frag_slot *s;

	if ((type != OVPN_FRAG_NOT_LAST && type != OVPN_FRAG_LAST) || size == 0 || (size & 3) != 0 ||
	    len > size || n * size + len > OVPN_FRAG_DATAGRAM_MAX)
		return OVPN_FRAG_BAD;
	f->fragments++;
	s = slot_for(f, seq_id, now != 0 ? now : 1);
	if (s->size != size) {
		/* A new datagram under a reused sequence id: start over, as openvpn does. */
		s->map = 0;
		s->total = 0;
		s->size = (uint16_t)size;
	}
	memcpy(s->buf + n * size, data, len);
	if (type == OVPN_FRAG_LAST) {
		s->map |= ALL_ARRIVED << n;
		s->total = (uint16_t)(n * size + len);
	} else {
		s->map |= 1u << n;
	}
	if (s->map != ALL_ARRIVED)
		return OVPN_FRAG_HELD;
	s->since = 0;
	f->reassembled++;
	*out = s->buf;
	*out_len = s->total;
	return OVPN_FRAG_DONE;
}

unsigned
ovpn_frag_expire(struct ovpn_frag *f, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < OVPN_FRAG_SLOTS; i++)
		if (f->slot[i].since != 0 && now - f->slot[i].since >= f->ttl_ticks) {
			f->slot[i].since = 0;
			n++;
		}
	f->given_up += n;
	return n;
}
