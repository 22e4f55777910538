/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MPPE (RFC 3078) with keys from MS-CHAPv2 (RFC 3079).
 *
 * One struct mppe_state per direction of a PPP session: the driver keeps a
 * TX and an RX state per tunnel. The data path hands whole bursts of packets
 * of many sessions to mppe_encrypt_burst() / mppe_decrypt_burst(); re-keys
 * and the ARC4 keystream then run several sessions at once.
 *
 * Wire format handled here (after the PPP protocol 0x00FD):
 *   2 bytes  A B C D + 12-bit coherency count (big endian)
 *   N bytes  ARC4(PPP protocol field of the inner packet + its data)
 * Behaviour follows RFC 3078 section 7/8 and matches Linux ppp_mppe: the
 * coherency count starts at 0, a re-keyed packet carries the flushed bit (A),
 * stateless mode re-keys before every packet, stateful mode when the low byte
 * of the count is 0xFF and after a CCP Reset-Request.
 */
#ifndef DPVPN_MPPE_H
#define DPVPN_MPPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arc4.h"

#define MPPE_HDR_LEN 2
#define MPPE_BIT_FLUSHED   0x80   /* A: tables re-initialised */
#define MPPE_BIT_B         0x40   /* MPPC only */
#define MPPE_BIT_C         0x20   /* MPPC only: compressed */
#define MPPE_BIT_ENCRYPTED 0x10   /* D */
#define MPPE_CCOUNT_SPACE  0x1000
#define MPPE_CCOUNT_MASK   0x0fff
/* a count further ahead than this is taken as late, not as loss (Linux too) */
#define MPPE_CCOUNT_WINDOW (MPPE_CCOUNT_SPACE / 2)

/* Why a packet was refused. Every value has a name for drop counters. */
enum mppe_status {
	MPPE_OK = 0,
	MPPE_ERR_BAD_ARG,       /* NULL state or packet, state not initialised */
	MPPE_ERR_WRONG_DIR,     /* an RX state given to encrypt or the reverse */
	MPPE_ERR_TRUNCATED,     /* no room for the header and one byte */
	MPPE_ERR_NOT_ENCRYPTED, /* D bit clear */
	MPPE_ERR_COMPRESSED,    /* B or C set: MPPC was not negotiated */
	MPPE_ERR_NOT_FLUSHED,   /* stateless without A, or a 0x?FF packet without A */
	MPPE_ERR_REPLAY,        /* count not ahead of the last one: late or duplicate */
	MPPE_ERR_LOST,          /* stateful: gap seen, send a CCP Reset-Request */
	MPPE_ERR_DISCARD,       /* stateful: still waiting for a flushed packet */
	MPPE_STATUS_COUNT
};

const char *mppe_strerror(int status);

enum mppe_dir { MPPE_DIR_TX = 1, MPPE_DIR_RX = 2 };

struct mppe_state {
	struct arc4_state rc4;
	uint8_t start_key[16];    /* MasterSendKey / MasterReceiveKey of RFC 3079 */
	uint8_t session_key[16];
	uint8_t key_len;          /* 8 (40/56-bit) or 16 */
	uint8_t key_bits;         /* 40, 56, 128 */
	uint8_t stateless;
	uint8_t dir;              /* enum mppe_dir, 0 = not initialised */
	uint8_t flush;            /* TX: reset asked; RX: discarding until A */
	uint16_t ccount;          /* last count sent / accepted */
	uint32_t burst_mark;      /* internal to the burst scheduler */
	uint32_t burst_round;
	uint64_t rekeys;          /* session keys changed (statistics) */
	uint64_t resync_extra;    /* RX: key changes found by trial on resync (a lost flushed packet) */
};

/* Set up one direction. start_key holds key_bits/8 rounded up to 8 or 16
 * bytes (mppe_start_key's output). Returns 0, or -1 on a bad argument. */
int mppe_state_init(struct mppe_state *st, enum mppe_dir dir, const uint8_t *start_key,
		    unsigned key_bits, bool stateless);

/* TX: the peer sent a CCP Reset-Request; the next packet re-keys and
 * carries the flushed bit. Several requests before it still mean one re-key. */
void mppe_tx_reset(struct mppe_state *st);

/* One packet for the burst calls. pkt points at the 2-byte MPPE header,
 * followed by the PPP protocol field and data; len counts all of it.
 * Encryption and decryption work in place. */
struct mppe_op {
	struct mppe_state *st;
	uint8_t *pkt;
	uint32_t len;
	int16_t status;   /* out: MPPE_OK or an enum mppe_status */
	uint16_t ccount;  /* out: the packet's coherency count */
};

/* Encrypt: writes the header (count, A and D bits) and encrypts in place.
 * Decrypt: checks the header, re-keys as the counts say, decrypts in place.
 * Packets of one session are handled in array order; packets of different
 * sessions are interleaved. Returns how many ops ended MPPE_OK. */
unsigned mppe_encrypt_burst(struct mppe_op *ops, unsigned n);
unsigned mppe_decrypt_burst(struct mppe_op *ops, unsigned n);

/* Header helpers for the driver and the fuzzer. decode returns 0 or
 * -MPPE_ERR_TRUNCATED. */
struct mppe_hdr {
	uint8_t bits;     /* A B C D in the high nibble */
	uint16_t ccount;
};
void mppe_hdr_encode(uint8_t *p, uint8_t bits, uint16_t ccount);
int mppe_hdr_decode(const uint8_t *p, size_t len, struct mppe_hdr *h);

/* RFC 3079 key derivation (section 3). */
/* GetMasterKey: SHA-1(PasswordHashHash | NT-Response | Magic1), 16 bytes. */
void mppe_master_key(const uint8_t password_hash_hash[16], const uint8_t nt_response[24],
		     uint8_t master[16]);
/* GetAsymmetricStartKey: key_len 8 (40/56-bit) or 16. Returns 0 or -1. */
int mppe_start_key(const uint8_t master[16], unsigned key_len, bool is_send, bool is_server,
		   uint8_t *out);
/* GetNewKeyFromSHA (RFC 3078 7.3): the interim key, key_len bytes. */
void mppe_new_key_from_sha(const uint8_t *start, const uint8_t *session, unsigned key_len,
			   uint8_t *interim);
/* The first session key: GetNewKeyFromSHA(start, start) plus the 40/56-bit
 * salt (RFC 3079 3.5 "SendSessionKey"). Returns 0 or -1. */
int mppe_initial_session_key(const uint8_t *start, unsigned key_bits, uint8_t *session);
/* Key length in bytes for 40, 56, 128; 0 for anything else. */
unsigned mppe_key_len(unsigned key_bits);

#endif
