/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to lib/crypto: what mppe.c needs from mppe_keys.c. */
#ifndef DPVPN_MPPE_IMPL_H
#define DPVPN_MPPE_IMPL_H

#include <stddef.h>
#include <stdint.h>

void mppe_sha1(const void *data, size_t len, uint8_t digest[20]);
void mppe_salt(uint8_t *key, unsigned key_bits);

#endif
