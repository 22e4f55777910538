/* SPDX-License-Identifier: BSD-3-Clause */
/* OpenVPN control packets: parse and write (layout in control_packet.h). */
#include <string.h>

#include "control_packet.h"
#include "data_channel.h"

static const char *const errors[OVPN_CTL_ERROR_COUNT] = {
	[OVPN_CTL_OK] = "ok",
	[OVPN_CTL_TRUNCATED] = "truncated",
	[OVPN_CTL_BAD_OPCODE] = "opcode not served",
	[OVPN_CTL_TOO_MANY_ACKS] = "more than 8 acks",
	[OVPN_CTL_TOO_LONG] = "payload too long",
};

const char *
ovpn_ctl_strerror(int e)
{
	return e >= 0 && e < OVPN_CTL_ERROR_COUNT ? errors[e] : "?";
}

bool
ovpn_opcode_is_control(uint8_t opcode)
{
	return opcode == OVPN_P_CONTROL_HARD_RESET_CLIENT_V2 || opcode == OVPN_P_CONTROL_HARD_RESET_SERVER_V2 ||
	       opcode == OVPN_P_CONTROL_SOFT_RESET_V1 || opcode == OVPN_P_CONTROL_V1 || opcode == OVPN_P_ACK_V1;
}

enum ovpn_ctl_error
ovpn_ctl_parse(const uint8_t *p, uint32_t len, struct ovpn_ctl_pkt *c)
{
	uint32_t off = 1 + OVPN_SID_LEN + 1;

	memset(c, 0, sizeof(*c));
	if (len < 1)
		return OVPN_CTL_TRUNCATED;
	c->opcode = ovpn_op_of(p[0]);
	c->key_id = ovpn_key_id_of(p[0]);
	if (!ovpn_opcode_is_control(c->opcode))
		return OVPN_CTL_BAD_OPCODE;
	if (len < off)
		return OVPN_CTL_TRUNCATED;
	memcpy(c->sid, p + 1, OVPN_SID_LEN);
	c->nb_acks = p[1 + OVPN_SID_LEN];
	if (c->nb_acks > OVPN_ACKS_MAX)
		return OVPN_CTL_TOO_MANY_ACKS;
	if (c->nb_acks != 0) {
		if (len < off + 4u * c->nb_acks + OVPN_SID_LEN)
			return OVPN_CTL_TRUNCATED;
		for (unsigned i = 0; i < c->nb_acks; i++, off += 4)
			c->acks[i] = ovpn_get_be32(p + off);
		memcpy(c->remote_sid, p + off, OVPN_SID_LEN);
		off += OVPN_SID_LEN;
	}
	c->has_msg_id = c->opcode != OVPN_P_ACK_V1;
	if (c->has_msg_id) {
		if (len < off + 4)
			return OVPN_CTL_TRUNCATED;
		c->msg_id = ovpn_get_be32(p + off);
		off += 4;
	}
	c->payload = p + off;
	c->payload_len = len - off;
	if (c->payload_len > OVPN_CTL_PAYLOAD_MAX)
		return OVPN_CTL_TOO_LONG;
	/* An ack carries nothing else. */
	if (c->opcode == OVPN_P_ACK_V1 && c->payload_len != 0)
		return OVPN_CTL_TRUNCATED;
	return OVPN_CTL_OK;
}

uint32_t
ovpn_ctl_write(uint8_t *p, uint32_t room, const struct ovpn_ctl_pkt *c)
{
	uint32_t need = 1 + OVPN_SID_LEN + 1 + (c->nb_acks ? 4u * c->nb_acks + OVPN_SID_LEN : 0) +
			(c->has_msg_id ? 4 : 0) + c->payload_len;
	uint32_t off = 1 + OVPN_SID_LEN + 1;

	if (need > room || c->nb_acks > OVPN_ACKS_MAX)
		return 0;
	p[0] = (uint8_t)(c->opcode << 3 | (c->key_id & 7));
	memcpy(p + 1, c->sid, OVPN_SID_LEN);
	p[1 + OVPN_SID_LEN] = c->nb_acks;
	for (unsigned i = 0; i < c->nb_acks; i++, off += 4)
		ovpn_put_be32(p + off, c->acks[i]);
	if (c->nb_acks != 0) {
		memcpy(p + off, c->remote_sid, OVPN_SID_LEN);
		off += OVPN_SID_LEN;
	}
	if (c->has_msg_id) {
		ovpn_put_be32(p + off, c->msg_id);
		off += 4;
	}
	if (c->payload_len != 0)
		memcpy(p + off, c->payload, c->payload_len);
	return need;
}
