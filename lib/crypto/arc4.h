/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARC4 (RC4) for MPPE: a scalar reference, a fast single stream, and a
 * multi-stream engine.
 *
 * RC4 is byte-serial inside one stream (each output depends on the swap
 * before it), so one stream cannot go much faster than the latency of its
 * load -> add -> load chain. A concentrator always has many tunnels and a
 * burst carries packets of many of them: the burst engine advances several
 * independent states in one loop so their chains overlap in the CPU.
 *
 * States are plain memory owned by the caller (one per MPPE direction);
 * nothing here allocates.
 */
#ifndef DPVPN_ARC4_H
#define DPVPN_ARC4_H

#include <stddef.h>
#include <stdint.h>

#define ARC4_KEY_MAX 256
#define ARC4_MAX_LANES 16

struct arc4_state {
	uint8_t s[256];  /* the permutation */
	uint8_t i, j;
	uint8_t busy;    /* internal: set while a burst lane owns the state */
};

/* A piece of work for the burst engine: len bytes of in XOR keystream of st
 * into out (in == out is fine). Jobs that share a state run in array order. */
struct arc4_job {
	struct arc4_state *st;
	const uint8_t *in;
	uint8_t *out;
	uint32_t len;
};

/* A key schedule for the burst key setup. */
struct arc4_key_job {
	struct arc4_state *st;
	const uint8_t *key;
	uint32_t keylen;   /* 1..ARC4_KEY_MAX */
};

/* Key schedule (KSA). Returns 0, or -1 when keylen is 0 or > 256
 * (the state is then left untouched). */
int arc4_set_key(struct arc4_state *st, const uint8_t *key, size_t keylen);

/* The textbook loop, one byte at a time: the reference for tests. */
void arc4_crypt_ref(struct arc4_state *st, const uint8_t *in, uint8_t *out, size_t len);

/* One stream, unrolled; bit-identical to the reference. */
void arc4_crypt(struct arc4_state *st, const uint8_t *in, uint8_t *out, size_t len);

/* Many streams: runs every job with the selected variant. */
void arc4_crypt_burst(struct arc4_job *jobs, unsigned n);

/* Many key schedules interleaved (the MPPE stateless re-key path).
 * Jobs with a bad keylen are skipped and counted in the return value. */
unsigned arc4_set_key_burst(const struct arc4_key_job *jobs, unsigned n);

/* The burst variants, by name: "ref" (reference loop per job), "x1" (fast
 * single stream per job), "x2" .. "x5" (that many lanes interleaved). */
struct arc4_variant {
	const char *name;
	unsigned lanes;
	void (*burst)(struct arc4_job *jobs, unsigned n);
};

unsigned arc4_variant_count(void);
const struct arc4_variant *arc4_variant_get(unsigned idx);

/* Pick the burst variant: a name from the table, or NULL to time each one
 * on this CPU (about a millisecond) and keep the fastest. Returns 0 or -1
 * for an unknown name. Call once at start-up, before worker threads run. */
int arc4_select(const char *name);
const char *arc4_selected(void);

#endif
