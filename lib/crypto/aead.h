/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AEAD burst engine for the UDP tunnels (OpenVPN data channel), over
 * intel-ipsec-mb's multi-buffer job API.
 *
 * One engine per lcore (it owns an IMB_MGR, which is not thread-safe). Keys
 * are per tunnel and direction, expanded once by aead_key_init(). A burst of
 * packets of many tunnels with different algorithms goes through one call:
 * the manager fills its lanes per algorithm and returns jobs in order.
 *
 * Operations work in place on one buffer, like a DPDK symmetric crypto op:
 * the cipher region and (for CBC+HMAC) the authenticated region are offsets
 * into buf. GCM and ChaCha20-Poly1305 authenticate aad plus the cipher region.
 */
#ifndef DPVPN_AEAD_H
#define DPVPN_AEAD_H

#include <stdint.h>

enum aead_algo {
	AEAD_AES128_GCM,
	AEAD_AES256_GCM,
	AEAD_AES128_CBC_HMAC_SHA1,
	AEAD_AES256_CBC_HMAC_SHA1,
	AEAD_AES128_CBC_HMAC_SHA256,
	AEAD_AES256_CBC_HMAC_SHA256,
	AEAD_CHACHA20_POLY1305,
	AEAD_ALGO_COUNT
};

enum aead_status {
	AEAD_OK = 0,
	AEAD_ERR_BAD_ARG,    /* NULL key, buffer, IV or tag; key not initialised */
	AEAD_ERR_LENGTH,     /* CBC region empty or not a multiple of 16; too long */
	AEAD_ERR_AAD,        /* AAD longer than AEAD_AAD_MAX */
	AEAD_ERR_AUTH,       /* tag mismatch: forged or corrupted packet */
	AEAD_ERR_ENGINE,     /* intel-ipsec-mb refused the job */
	AEAD_STATUS_COUNT
};

#define AEAD_AAD_MAX 256
#define AEAD_TAG_MAX 32
#define AEAD_LEN_MAX 65535

const char *aead_strerror(int status);
const char *aead_algo_name(enum aead_algo algo);
/* Sizes for an algorithm: cipher key, auth key (0 when none), IV, tag. */
unsigned aead_key_len(enum aead_algo algo);
unsigned aead_auth_key_len(enum aead_algo algo);
unsigned aead_iv_len(enum aead_algo algo);
unsigned aead_tag_len(enum aead_algo algo);

/* Expanded key material of one tunnel direction. Opaque: large (GCM tables)
 * and 64-byte aligned; allocate with aead_key_alloc() or embed with care. */
struct aead_key;
struct aead_key *aead_key_alloc(void);
void aead_key_free(struct aead_key *k);

struct aead_engine;

/* arch: NULL or "auto" picks the best the CPU has (init_mb_mgr_auto);
 * "sse", "avx", "avx2", "avx512" force one. NULL on failure. */
struct aead_engine *aead_engine_create(const char *arch);
void aead_engine_free(struct aead_engine *e);
const char *aead_engine_arch(const struct aead_engine *e);

/* Expand keys. auth_key is the HMAC key for the CBC algorithms (any length,
 * OpenVPN uses the digest length), ignored otherwise. Returns 0 or -1. */
int aead_key_init(struct aead_engine *e, struct aead_key *k, enum aead_algo algo,
		  const uint8_t *cipher_key, const uint8_t *auth_key, uint32_t auth_key_len);

struct aead_op {
	const struct aead_key *key;
	uint8_t *buf;
	uint32_t cipher_off, cipher_len;  /* encrypted in place */
	uint32_t auth_off, auth_len;      /* CBC+HMAC: HMAC region, after encryption */
	const uint8_t *iv;                /* aead_iv_len() bytes */
	const uint8_t *aad;               /* GCM / ChaCha20-Poly1305 */
	uint32_t aad_len;
	uint8_t *tag;                     /* encrypt: written; decrypt: checked */
	int16_t status;                   /* out: enum aead_status */
};

/* Encrypt (then MAC) / (check then) decrypt a burst. Returns the number of
 * ops that ended AEAD_OK; every op gets its own status. A decrypt whose tag
 * does not match leaves AEAD_ERR_AUTH (the buffer content is then undefined). */
unsigned aead_encrypt_burst(struct aead_engine *e, struct aead_op *ops, unsigned n);
unsigned aead_decrypt_burst(struct aead_engine *e, struct aead_op *ops, unsigned n);

#endif
