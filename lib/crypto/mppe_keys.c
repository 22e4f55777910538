/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MPPE keys: RFC 3079 section 3 (MS-CHAPv2 master and start keys) and the
 * RFC 3078 section 7.3 key change, which the data path calls on every re-key.
 */
#include <string.h>

#include "mppe.h"
#include "mppe_impl.h"

static const char magic1[] = "This is the MPPE Master Key";
static const char magic2[] =
	"On the client side, this is the send key; on the server side, it is the receive key.";
static const char magic3[] =
	"On the client side, this is the receive key; on the server side, it is the send key.";

#define SHA_PAD_LEN 40

unsigned
mppe_key_len(unsigned key_bits)
{
	switch (key_bits) {
	case 40:
	case 56:
		return 8;
	case 128:
		return 16;
	default:
		return 0;
	}
}

void
mppe_master_key(const uint8_t password_hash_hash[16], const uint8_t nt_response[24],
		uint8_t master[16])
{
	uint8_t buf[16 + 24 + sizeof(magic1) - 1], dg[20];

	memcpy(buf, password_hash_hash, 16);
	memcpy(buf + 16, nt_response, 24);
	memcpy(buf + 40, magic1, sizeof(magic1) - 1);
	mppe_sha1(buf, sizeof(buf), dg);
	memcpy(master, dg, 16);
}

int
mppe_start_key(const uint8_t master[16], unsigned key_len, bool is_send, bool is_server,
	       uint8_t *out)
{
	uint8_t buf[16 + SHA_PAD_LEN + sizeof(magic2) - 1 + SHA_PAD_LEN], dg[20];
	/* the client's send key is the server's receive key */
	const char *magic = (is_send == is_server) ? magic3 : magic2;

	if (key_len != 8 && key_len != 16)
		return -1;
	memcpy(buf, master, 16);
	memset(buf + 16, 0x00, SHA_PAD_LEN);
	memcpy(buf + 16 + SHA_PAD_LEN, magic, sizeof(magic2) - 1);
	memset(buf + 16 + SHA_PAD_LEN + sizeof(magic2) - 1, 0xf2, SHA_PAD_LEN);
	mppe_sha1(buf, sizeof(buf), dg);
	memcpy(out, dg, key_len);
	return 0;
}

void
mppe_new_key_from_sha(const uint8_t *start, const uint8_t *session, unsigned key_len,
		      uint8_t *interim)
{
	uint8_t buf[2 * 16 + 2 * SHA_PAD_LEN], dg[20];
	uint8_t *p = buf;

	memcpy(p, start, key_len);
	p += key_len;
	memset(p, 0x00, SHA_PAD_LEN);
	p += SHA_PAD_LEN;
	memcpy(p, session, key_len);
	p += key_len;
	memset(p, 0xf2, SHA_PAD_LEN);
	p += SHA_PAD_LEN;
	mppe_sha1(buf, (size_t)(p - buf), dg);
	memcpy(interim, dg, key_len);
}

void
mppe_salt(uint8_t *key, unsigned key_bits)
{
	/* RFC 3078 7.3: weaken 64 bits of key to 40 or 56 */
	if (key_bits == 40) {
		key[0] = 0xd1;
		key[1] = 0x26;
		key[2] = 0x9e;
	} else if (key_bits == 56) {
		key[0] = 0xd1;
	}
}

int
mppe_initial_session_key(const uint8_t *start, unsigned key_bits, uint8_t *session)
{
	unsigned len = mppe_key_len(key_bits);

	if (len == 0)
		return -1;
	mppe_new_key_from_sha(start, start, len, session);
	mppe_salt(session, key_bits);
	return 0;
}
