/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AEAD burst engine: turns aead_ops into intel-ipsec-mb jobs.
 *
 * Jobs are submitted one after another and come back in submission order
 * once their lanes fill; a flush at the end of the burst drains the rest.
 * Decryption writes the computed tag to a scratch slot and compares it in
 * constant time, so a forged packet costs the same as a good one.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"

#define NO_COMPAT_IMB_API_053
#include <intel-ipsec-mb.h>

struct aead_key {
	union {
		struct gcm_key_data gcm;                 /* GCM: round keys + GHASH tables */
		struct {
			uint32_t enc[15 * 4] __attribute__((aligned(16)));
			uint32_t dec[15 * 4] __attribute__((aligned(16)));
			uint8_t ipad[32] __attribute__((aligned(16)));  /* SHA state after key^ipad */
			uint8_t opad[32] __attribute__((aligned(16)));
		} cbc;
		uint8_t chacha[32];
	} u;
	uint8_t algo;
	uint8_t ready;
} __attribute__((aligned(64)));

struct aead_engine {
	IMB_MGR *mgr;
	const char *arch;
};

struct algo_info {
	const char *name;
	uint8_t key_len, auth_key_len, iv_len, tag_len;
	IMB_CIPHER_MODE cipher;
	IMB_HASH_ALG hash;
};

static const struct algo_info algos[AEAD_ALGO_COUNT] = {
	[AEAD_AES128_GCM] = { "aes128-gcm", 16, 0, 12, 16, IMB_CIPHER_GCM, IMB_AUTH_AES_GMAC },
	[AEAD_AES256_GCM] = { "aes256-gcm", 32, 0, 12, 16, IMB_CIPHER_GCM, IMB_AUTH_AES_GMAC },
	[AEAD_AES128_CBC_HMAC_SHA1] = { "aes128-cbc-hmac-sha1", 16, 20, 16, 20,
					IMB_CIPHER_CBC, IMB_AUTH_HMAC_SHA_1 },
	[AEAD_AES256_CBC_HMAC_SHA1] = { "aes256-cbc-hmac-sha1", 32, 20, 16, 20,
					IMB_CIPHER_CBC, IMB_AUTH_HMAC_SHA_1 },
	[AEAD_AES128_CBC_HMAC_SHA256] = { "aes128-cbc-hmac-sha256", 16, 32, 16, 32,
					  IMB_CIPHER_CBC, IMB_AUTH_HMAC_SHA_256 },
	[AEAD_AES256_CBC_HMAC_SHA256] = { "aes256-cbc-hmac-sha256", 32, 32, 16, 32,
					  IMB_CIPHER_CBC, IMB_AUTH_HMAC_SHA_256 },
	[AEAD_CHACHA20_POLY1305] = { "chacha20-poly1305", 32, 0, 12, 16,
				     IMB_CIPHER_CHACHA20_POLY1305, IMB_AUTH_CHACHA20_POLY1305 },
};

static const char *const status_names[AEAD_STATUS_COUNT] = {
	[AEAD_OK] = "ok",
	[AEAD_ERR_BAD_ARG] = "bad_arg",
	[AEAD_ERR_LENGTH] = "bad_length",
	[AEAD_ERR_AAD] = "aad_too_long",
	[AEAD_ERR_AUTH] = "auth_failed",
	[AEAD_ERR_ENGINE] = "engine_error",
};

const char *
aead_strerror(int status)
{
	if (status < 0)
		status = -status;
	return status < AEAD_STATUS_COUNT ? status_names[status] : "unknown";
}

static const struct algo_info *
info(enum aead_algo a)
{
	return (unsigned)a < AEAD_ALGO_COUNT ? &algos[a] : NULL;
}

const char *aead_algo_name(enum aead_algo a) { return info(a) ? info(a)->name : NULL; }
unsigned aead_key_len(enum aead_algo a) { return info(a) ? info(a)->key_len : 0; }
unsigned aead_auth_key_len(enum aead_algo a) { return info(a) ? info(a)->auth_key_len : 0; }
unsigned aead_iv_len(enum aead_algo a) { return info(a) ? info(a)->iv_len : 0; }
unsigned aead_tag_len(enum aead_algo a) { return info(a) ? info(a)->tag_len : 0; }

struct aead_key *
aead_key_alloc(void)
{
	struct aead_key *k = aligned_alloc(64, sizeof(*k));

	if (k != NULL)
		memset(k, 0, sizeof(*k));
	return k;
}

void
aead_key_free(struct aead_key *k)
{
	if (k != NULL) {
		/* key material should not outlive the tunnel */
		memset(k, 0, sizeof(*k));
		__asm__ volatile("" : : "r"(k) : "memory");
		free(k);
	}
}

struct aead_engine *
aead_engine_create(const char *arch)
{
	struct aead_engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->mgr = alloc_mb_mgr(0);
	if (e->mgr == NULL) {
		free(e);
		return NULL;
	}
	if (arch == NULL || strcmp(arch, "auto") == 0) {
		IMB_ARCH a = IMB_ARCH_NONE;
		static const char *const names[] = {
			[IMB_ARCH_NOAESNI] = "noaesni", [IMB_ARCH_SSE] = "sse",
			[IMB_ARCH_AVX] = "avx", [IMB_ARCH_AVX2] = "avx2",
			[IMB_ARCH_AVX512] = "avx512",
		};

		init_mb_mgr_auto(e->mgr, &a);
		if (a <= IMB_ARCH_NONE || a >= IMB_ARCH_NUM)
			goto fail;
		e->arch = names[a];
	} else if (strcmp(arch, "sse") == 0) {
		init_mb_mgr_sse(e->mgr);
		e->arch = "sse";
	} else if (strcmp(arch, "avx") == 0) {
		init_mb_mgr_avx(e->mgr);
		e->arch = "avx";
	} else if (strcmp(arch, "avx2") == 0) {
		init_mb_mgr_avx2(e->mgr);
		e->arch = "avx2";
	} else if (strcmp(arch, "avx512") == 0) {
		init_mb_mgr_avx512(e->mgr);
		e->arch = "avx512";
	} else {
		goto fail;
	}
	if (imb_get_errno(e->mgr) != 0)
		goto fail;
	return e;
fail:
	free_mb_mgr(e->mgr);
	free(e);
	return NULL;
}

void
aead_engine_free(struct aead_engine *e)
{
	if (e == NULL)
		return;
	free_mb_mgr(e->mgr);
	free(e);
}

const char *
aead_engine_arch(const struct aead_engine *e)
{
	return e != NULL ? e->arch : NULL;
}

/* HMAC precompute (RFC 2104): the hash state after one block of
 * key ^ ipad and of key ^ opad; the job then hashes only the message. */
static void
hmac_precompute(IMB_MGR *mgr, IMB_HASH_ALG hash, const uint8_t *key, uint32_t key_len,
		uint8_t *ipad_state, uint8_t *opad_state)
{
	uint8_t k[64] = { 0 }, blk[64];

	if (key_len > 64) {
		if (hash == IMB_AUTH_HMAC_SHA_1)
			IMB_SHA1(mgr, key, key_len, k);
		else
			IMB_SHA256(mgr, key, key_len, k);
	} else {
		memcpy(k, key, key_len);
	}
	for (int pass = 0; pass < 2; pass++) {
		uint8_t pad = pass == 0 ? 0x36 : 0x5c;
		uint8_t *out = pass == 0 ? ipad_state : opad_state;

		for (int b = 0; b < 64; b++)
			blk[b] = k[b] ^ pad;
		if (hash == IMB_AUTH_HMAC_SHA_1)
			IMB_SHA1_ONE_BLOCK(mgr, blk, out);
		else
			IMB_SHA256_ONE_BLOCK(mgr, blk, out);
	}
	memset(k, 0, sizeof(k));
	memset(blk, 0, sizeof(blk));
}

int
aead_key_init(struct aead_engine *e, struct aead_key *k, enum aead_algo algo,
	      const uint8_t *cipher_key, const uint8_t *auth_key, uint32_t auth_key_len)
{
	const struct algo_info *ai = info(algo);

	if (e == NULL || k == NULL || ai == NULL || cipher_key == NULL)
		return -1;
	if (ai->cipher == IMB_CIPHER_CBC && (auth_key == NULL || auth_key_len == 0))
		return -1;
	memset(k, 0, sizeof(*k));
	switch (algo) {
	case AEAD_AES128_GCM:
		IMB_AES128_GCM_PRE(e->mgr, cipher_key, &k->u.gcm);
		break;
	case AEAD_AES256_GCM:
		IMB_AES256_GCM_PRE(e->mgr, cipher_key, &k->u.gcm);
		break;
	case AEAD_CHACHA20_POLY1305:
		memcpy(k->u.chacha, cipher_key, 32);
		break;
	default:
		if (ai->key_len == 16)
			IMB_AES_KEYEXP_128(e->mgr, cipher_key, k->u.cbc.enc, k->u.cbc.dec);
		else
			IMB_AES_KEYEXP_256(e->mgr, cipher_key, k->u.cbc.enc, k->u.cbc.dec);
		hmac_precompute(e->mgr, ai->hash, auth_key, auth_key_len, k->u.cbc.ipad,
				k->u.cbc.opad);
		break;
	}
	k->algo = (uint8_t)algo;
	k->ready = 1;
	return 0;
}

static int
check_op(const struct aead_op *op)
{
	const struct aead_key *k = op->key;

	if (k == NULL || !k->ready || k->algo >= AEAD_ALGO_COUNT || op->buf == NULL ||
	    op->iv == NULL || op->tag == NULL)
		return AEAD_ERR_BAD_ARG;
	if (op->cipher_len > AEAD_LEN_MAX)
		return AEAD_ERR_LENGTH;
	if (algos[k->algo].cipher == IMB_CIPHER_CBC) {
		if (op->cipher_len == 0 || op->cipher_len % 16 != 0 ||
		    op->auth_len > AEAD_LEN_MAX + 64)
			return AEAD_ERR_LENGTH;
	} else if (op->aad_len > AEAD_AAD_MAX || (op->aad_len > 0 && op->aad == NULL)) {
		return AEAD_ERR_AAD;
	}
	return AEAD_OK;
}

/* Fill one job from an op. */
static void
fill_job(IMB_JOB *job, const struct aead_op *op, bool enc, uint8_t *tag_out)
{
	const struct aead_key *k = op->key;
	const struct algo_info *ai = &algos[k->algo];

	job->cipher_direction = enc ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->cipher_mode = ai->cipher;
	job->hash_alg = ai->hash;
	job->key_len_in_bytes = ai->key_len;
	job->src = op->buf;
	job->dst = op->buf + op->cipher_off;
	job->cipher_start_src_offset_in_bytes = op->cipher_off;
	job->msg_len_to_cipher_in_bytes = op->cipher_len;
	job->iv = op->iv;
	job->iv_len_in_bytes = ai->iv_len;
	job->auth_tag_output = tag_out;
	job->auth_tag_output_len_in_bytes = ai->tag_len;
	switch (ai->cipher) {
	case IMB_CIPHER_GCM:
		job->enc_keys = &k->u.gcm;
		job->dec_keys = &k->u.gcm;
		job->hash_start_src_offset_in_bytes = op->cipher_off;
		job->msg_len_to_hash_in_bytes = op->cipher_len;
		job->u.GCM.aad = op->aad;
		job->u.GCM.aad_len_in_bytes = op->aad_len;
		break;
	case IMB_CIPHER_CHACHA20_POLY1305:
		job->enc_keys = k->u.chacha;
		job->dec_keys = k->u.chacha;
		job->hash_start_src_offset_in_bytes = op->cipher_off;
		job->msg_len_to_hash_in_bytes = op->cipher_len;
		job->u.CHACHA20_POLY1305.aad = op->aad;
		job->u.CHACHA20_POLY1305.aad_len_in_bytes = op->aad_len;
		break;
	default:
		job->enc_keys = k->u.cbc.enc;
		job->dec_keys = k->u.cbc.dec;
		job->hash_start_src_offset_in_bytes = op->auth_off;
		job->msg_len_to_hash_in_bytes = op->auth_len;
		job->u.HMAC._hashed_auth_key_xor_ipad = k->u.cbc.ipad;
		job->u.HMAC._hashed_auth_key_xor_opad = k->u.cbc.opad;
		break;
	}
}

/* Constant-time compare: no early exit on the first differing byte. */
static int
tag_equal(const uint8_t *a, const uint8_t *b, unsigned len)
{
	uint8_t d = 0;

	for (unsigned i = 0; i < len; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

static void
complete(IMB_JOB *job, bool enc)
{
	struct aead_op *op = job->user_data;

	if (job->status != IMB_STATUS_COMPLETED) {
		op->status = AEAD_ERR_ENGINE;
		return;
	}
	if (!enc && !tag_equal(job->user_data2, op->tag, algos[op->key->algo].tag_len)) {
		op->status = AEAD_ERR_AUTH;
		return;
	}
	op->status = AEAD_OK;
}

/* GCM skips the job manager: with VAES one buffer already fills the vector
 * units, and the direct call saves the job bookkeeping that dominates at
 * 64 B (the aesni_gcm PMD does the same). */
static void
gcm_direct(struct aead_engine *e, struct aead_op *op, bool enc)
{
	const struct aead_key *k = op->key;
	struct gcm_context_data ctx;
	uint8_t *p = op->buf + op->cipher_off;
	uint8_t tag[16];

	if (k->algo == AEAD_AES128_GCM) {
		if (enc)
			IMB_AES128_GCM_ENC(e->mgr, &k->u.gcm, &ctx, p, p, op->cipher_len, op->iv,
					   op->aad, op->aad_len, op->tag, 16);
		else
			IMB_AES128_GCM_DEC(e->mgr, &k->u.gcm, &ctx, p, p, op->cipher_len, op->iv,
					   op->aad, op->aad_len, tag, 16);
	} else {
		if (enc)
			IMB_AES256_GCM_ENC(e->mgr, &k->u.gcm, &ctx, p, p, op->cipher_len, op->iv,
					   op->aad, op->aad_len, op->tag, 16);
		else
			IMB_AES256_GCM_DEC(e->mgr, &k->u.gcm, &ctx, p, p, op->cipher_len, op->iv,
					   op->aad, op->aad_len, tag, 16);
	}
	op->status = (enc || tag_equal(tag, op->tag, 16)) ? AEAD_OK : AEAD_ERR_AUTH;
}

#define CHUNK 64

/* Submit the job-manager ops of a chunk with the burst API: one call hands
 * the manager every job (no per-job submit and completion polling), and
 * the validation the manager would repeat per job is check_op's, done
 * once up front (the aesni_mb PMD submits unchecked too). */
static void
submit_jobs(struct aead_engine *e, struct aead_op *const *jop, unsigned n, bool enc,
	    uint8_t (*scratch)[AEAD_TAG_MAX])
{
	IMB_JOB *jobs[CHUNK];
	unsigned done = 0;

	while (done < n) {
		uint32_t got = IMB_GET_NEXT_BURST(e->mgr, n - done, jobs);

		if (got == 0) {
			/* queue full (not expected: it is drained every chunk) */
			uint32_t fl = IMB_FLUSH_BURST(e->mgr, CHUNK, jobs);

			for (uint32_t q = 0; q < fl; q++)
				complete(jobs[q], enc);
			if (fl == 0)
				break;
			continue;
		}
		for (uint32_t q = 0; q < got; q++) {
			struct aead_op *op = jop[done + q];
			uint8_t *tag = scratch[done + q];

			fill_job(jobs[q], op, enc, enc ? op->tag : tag);
			jobs[q]->user_data = op;
			jobs[q]->user_data2 = tag;
		}
		uint32_t c = IMB_SUBMIT_BURST_NOCHECK(e->mgr, got, jobs);

		for (uint32_t q = 0; q < c; q++)
			complete(jobs[q], enc);
		done += got;
	}
	/* drain before the scratch tags go out of scope */
	for (;;) {
		uint32_t fl = IMB_FLUSH_BURST(e->mgr, CHUNK, jobs);

		if (fl == 0)
			break;
		for (uint32_t q = 0; q < fl; q++)
			complete(jobs[q], enc);
	}
}

static unsigned
burst(struct aead_engine *e, struct aead_op *ops, unsigned n, bool enc)
{
	uint8_t scratch[CHUNK][AEAD_TAG_MAX] __attribute__((aligned(16)));
	struct aead_op *jop[CHUNK];
	unsigned ok = 0;

	if (e == NULL || ops == NULL)
		return 0;
	for (unsigned base = 0; base < n; base += CHUNK) {
		unsigned m = n - base < CHUNK ? n - base : CHUNK, nj = 0;

		for (unsigned k = 0; k < m; k++) {
			struct aead_op *op = &ops[base + k];
			int st = check_op(op);

			if (st != AEAD_OK) {
				op->status = (int16_t)st;
				continue;
			}
			if (algos[op->key->algo].cipher == IMB_CIPHER_GCM) {
				gcm_direct(e, op, enc);
				continue;
			}
			op->status = AEAD_ERR_ENGINE;   /* until the job returns */
			jop[nj++] = op;
		}
		if (nj > 0)
			submit_jobs(e, jop, nj, enc, scratch);
		for (unsigned k = 0; k < m; k++)
			ok += ops[base + k].status == AEAD_OK;
	}
	return ok;
}

unsigned
aead_encrypt_burst(struct aead_engine *e, struct aead_op *ops, unsigned n)
{
	return burst(e, ops, n, true);
}

unsigned
aead_decrypt_burst(struct aead_engine *e, struct aead_op *ops, unsigned n)
{
	return burst(e, ops, n, false);
}
