/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to lib/crypto: what mppe.c needs from mppe_keys.c. */
#ifndef DPVPN_MPPE_IMPL_H
#define DPVPN_MPPE_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* SHA-1 (sha1.c): SHA-NI where the CPU has it, intel-ipsec-mb otherwise.
 * mppe_sha1_select: "shani", "ipsec-mb", or NULL for the best this CPU
 * runs; -1 for an unknown name or one this CPU cannot run. */
void mppe_sha1(const void *data, size_t len, uint8_t digest[20]);
int mppe_sha1_select(const char *name);
const char *mppe_sha1_selected(void);
void mppe_salt(uint8_t *key, unsigned key_bits);

#endif
