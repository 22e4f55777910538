/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenVPN static key files (openvpn --genkey secret FILE): 2048 bits in hex
 * between "-----BEGIN OpenVPN Static key V1-----" and the END line. The 256
 * bytes are two keys of 64 cipher bytes then 64 HMAC bytes; an algorithm
 * uses the leading bytes it needs of each.
 *
 * key-direction picks which key encrypts and which decrypts: none (both
 * ends use key 0 both ways), 0 (send with key 0, receive with key 1) or
 * 1 (the other way round; the far end then uses 0).
 */
#ifndef DPVPN_OVPN_STATIC_KEY_H
#define DPVPN_OVPN_STATIC_KEY_H

#include <stddef.h>
#include <stdint.h>

#define OVPN_STATIC_KEY_LEN 256
#define OVPN_KEY_PART_LEN 64

enum ovpn_key_direction {
	OVPN_KEY_DIR_BIDIRECTIONAL = -1,
	OVPN_KEY_DIR_NORMAL = 0,
	OVPN_KEY_DIR_INVERSE = 1,
};

/*
 * Parses the text of a static key file. Returns 0, or -1 with a message in
 * err naming the line ("line 5: ..."); the key bytes are wiped on error.
 */
int ovpn_static_key_parse(const char *text, size_t len, uint8_t key[OVPN_STATIC_KEY_LEN],
			  char *err, size_t err_len);

/* The cipher and HMAC key material for one direction (64 bytes each). */
struct ovpn_key_pair {
	const uint8_t *cipher;
	const uint8_t *hmac;
};

/* encrypt: true for the keys this end sends with, false for the ones it receives with. */
struct ovpn_key_pair ovpn_static_key_select(const uint8_t key[OVPN_STATIC_KEY_LEN],
					    enum ovpn_key_direction dir, int encrypt);

#endif
