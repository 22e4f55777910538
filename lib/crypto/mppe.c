/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MPPE data path: coherency counts, re-keys and the burst engine.
 *
 * A burst is worked in rounds: round r holds the r-th packet of every
 * session present, so inside a round every state is distinct and the
 * re-keys (SHA-1, two ARC4 key schedules) and the keystream of all packets
 * can be interleaved. Most bursts are a single round.
 */
#include <string.h>

#include "mppe.h"
#include "mppe_impl.h"

static const char *const status_names[MPPE_STATUS_COUNT] = {
	[MPPE_OK] = "ok",
	[MPPE_ERR_BAD_ARG] = "bad_arg",
	[MPPE_ERR_WRONG_DIR] = "wrong_direction",
	[MPPE_ERR_TRUNCATED] = "truncated",
	[MPPE_ERR_NOT_ENCRYPTED] = "not_encrypted",
	[MPPE_ERR_COMPRESSED] = "compressed",
	[MPPE_ERR_NOT_FLUSHED] = "not_flushed",
	[MPPE_ERR_REPLAY] = "replay",
	[MPPE_ERR_LOST] = "lost",
	[MPPE_ERR_DISCARD] = "discard",
};

const char *
mppe_strerror(int status)
{
	if (status < 0)
		status = -status;
	if (status >= MPPE_STATUS_COUNT)
		return "unknown";
	return status_names[status];
}

void
mppe_hdr_encode(uint8_t *p, uint8_t bits, uint16_t ccount)
{
	p[0] = (uint8_t)((bits & 0xf0) | ((ccount >> 8) & 0x0f));
	p[1] = (uint8_t)ccount;
}

int
mppe_hdr_decode(const uint8_t *p, size_t len, struct mppe_hdr *h)
{
	if (p == NULL || len < MPPE_HDR_LEN)
		return -MPPE_ERR_TRUNCATED;
	h->bits = p[0] & 0xf0;
	h->ccount = (uint16_t)(((p[0] & 0x0f) << 8) | p[1]);
	return 0;
}

int
mppe_state_init(struct mppe_state *st, enum mppe_dir dir, const uint8_t *start_key,
		unsigned key_bits, bool stateless)
{
	unsigned len = mppe_key_len(key_bits);

	if (st == NULL || start_key == NULL || len == 0 ||
	    (dir != MPPE_DIR_TX && dir != MPPE_DIR_RX))
		return -1;
	memset(st, 0, sizeof(*st));
	st->key_len = (uint8_t)len;
	st->key_bits = (uint8_t)key_bits;
	st->stateless = stateless;
	memcpy(st->start_key, start_key, len);
	mppe_initial_session_key(st->start_key, key_bits, st->session_key);
	arc4_set_key(&st->rc4, st->session_key, len);
	/* so that the first packet carries count 0 */
	st->ccount = MPPE_CCOUNT_MASK;
	st->dir = (uint8_t)dir;
	return 0;
}

void
mppe_tx_reset(struct mppe_state *st)
{
	if (st != NULL && st->dir == MPPE_DIR_TX)
		st->flush = 1;
}

/* RFC 3078 7.3 without the final key schedule: new session key from
 * SHA-1(start | pad | session | pad), encrypted with itself. The ARC4 state
 * is used as scratch and must be keyed with the session key afterwards. */
static void
rekey_session(struct mppe_state *st)
{
	uint8_t interim[16];

	mppe_new_key_from_sha(st->start_key, st->session_key, st->key_len, interim);
	arc4_set_key(&st->rc4, interim, st->key_len);
	arc4_crypt(&st->rc4, interim, st->session_key, st->key_len);
	mppe_salt(st->session_key, st->key_bits);
	st->rekeys++;
}

/* Per-op work decided in the first pass of a round. */
struct plan {
	uint16_t rekeys;   /* session key changes before this packet */
	uint8_t resync;    /* stateful, first flushed packet after a loss */
};

/* TX header logic: next count, re-key decision, header bytes. */
static int
plan_tx(struct mppe_op *op, struct plan *pl)
{
	struct mppe_state *st = op->st;
	uint8_t bits = MPPE_BIT_ENCRYPTED;

	if (st->dir != MPPE_DIR_TX)
		return MPPE_ERR_WRONG_DIR;
	st->ccount = (st->ccount + 1) & MPPE_CCOUNT_MASK;
	pl->rekeys = 0;
	pl->resync = 0;
	if (st->stateless || (st->ccount & 0xff) == 0xff || st->flush) {
		pl->rekeys = 1;
		bits |= MPPE_BIT_FLUSHED;
		st->flush = 0;
	}
	mppe_hdr_encode(op->pkt, bits, st->ccount);
	op->ccount = st->ccount;
	return MPPE_OK;
}

/* Number of 0x?FF counts strictly between from and to, walking forward. */
static unsigned
flag_packets_between(uint16_t from, uint16_t to)
{
	return (((to >> 8) - (from >> 8)) & 0x0f);
}

/* RX header logic (RFC 3078 8.1 and 8.2). On success pl->rekeys tells how
 * many key changes bring this state to the sender's key for this packet;
 * 0 means the keystream simply continues. */
static int
plan_rx(struct mppe_op *op, struct plan *pl)
{
	struct mppe_state *st = op->st;
	struct mppe_hdr h;
	bool flushed;

	if (st->dir != MPPE_DIR_RX)
		return MPPE_ERR_WRONG_DIR;
	if (op->len <= MPPE_HDR_LEN)
		return MPPE_ERR_TRUNCATED;
	mppe_hdr_decode(op->pkt, op->len, &h);
	op->ccount = h.ccount;
	if (!(h.bits & MPPE_BIT_ENCRYPTED))
		return MPPE_ERR_NOT_ENCRYPTED;
	if (h.bits & (MPPE_BIT_B | MPPE_BIT_C))
		return MPPE_ERR_COMPRESSED;
	flushed = h.bits & MPPE_BIT_FLUSHED;
	if (!flushed && (st->stateless || (h.ccount & 0xff) == 0xff))
		return MPPE_ERR_NOT_FLUSHED;
	pl->resync = 0;

	if (st->stateless) {
		/* one key per count: follow the sender over lost packets */
		unsigned ahead = (h.ccount - st->ccount) & MPPE_CCOUNT_MASK;

		if (ahead == 0 || ahead > MPPE_CCOUNT_WINDOW)
			return MPPE_ERR_REPLAY;
		pl->rekeys = (uint16_t)ahead;
		st->ccount = h.ccount;
		return MPPE_OK;
	}

	uint16_t expect = (st->ccount + 1) & MPPE_CCOUNT_MASK;
	unsigned ahead = (h.ccount - expect) & MPPE_CCOUNT_MASK;

	if (ahead >= MPPE_CCOUNT_WINDOW && !st->flush)
		return MPPE_ERR_REPLAY;   /* behind us: our state is still good */
	if (ahead != 0 || st->flush) {
		if (!flushed) {
			if (st->flush)
				return MPPE_ERR_DISCARD;
			/* the keystream is lost: wait for the sender to flush */
			st->flush = 1;
			st->ccount = expect;
			return MPPE_ERR_LOST;
		}
		/* resync: the sender changed keys at every 0x?FF it sent
		 * after our last packet, then once more for this one */
		uint16_t from = st->flush ? (uint16_t)((st->ccount) & MPPE_CCOUNT_MASK) : expect;

		pl->rekeys = (uint16_t)(flag_packets_between(from, h.ccount) + 1);
		pl->resync = 1;
		st->flush = 0;
		st->ccount = h.ccount;
		return MPPE_OK;
	}
	pl->rekeys = flushed ? 1 : 0;
	st->ccount = h.ccount;
	return MPPE_OK;
}

#define CHUNK 64

/*
 * Whether the first decrypted bytes of an MPPE payload look like what a peer
 * encrypts: PPP protocols 0x0021-0x00FA (RFC 3078 8; Linux encrypts exactly
 * those), for IPv4 followed by version 4, with or without a compressed
 * protocol field. A wrong key passes this about once in 10^4 tries.
 */
static bool
plausible_plaintext(const uint8_t *b, unsigned len)
{
	if (len >= 3 && b[0] == 0x00 && b[1] == 0x21)
		return (b[2] >> 4) == 4;
	if (len >= 2 && b[0] == 0x21)
		return (b[1] >> 4) == 4;
	return len >= 2 && b[0] == 0x00 && (b[1] & 1) && b[1] > 0x21 && b[1] <= 0xfa;
}

/* Extra key changes tried when resynchronising (see resync_decrypt). */
#define RESYNC_EXTRA 3

/*
 * Stateful resynchronisation after a loss, one packet, slow path. The count
 * of key changes the sender made is a guess: it changes keys at every 0x?FF
 * and at every flushed packet, and a flushed packet it sent after a Reset
 * may itself have been lost (or dropped late), which Linux's receiver never
 * recovers from. We try the guess, then up to RESYNC_EXTRA more changes, and
 * keep the first whose plaintext is plausible; none: the guess, as Linux.
 */
static void
resync_decrypt(struct mppe_op *op, unsigned rekeys)
{
	struct mppe_state *st = op->st;
	uint8_t *p = op->pkt + MPPE_HDR_LEN;
	const unsigned len = op->len - MPPE_HDR_LEN;
	uint8_t base[16], head[3];
	const uint64_t stat = st->rekeys;
	unsigned extra, chosen = 0;

	memcpy(base, st->session_key, sizeof(base));
	for (extra = 0; extra <= RESYNC_EXTRA; extra++) {
		struct arc4_state trial;

		memcpy(st->session_key, base, sizeof(base));
		for (unsigned q = 0; q < rekeys + extra; q++)
			rekey_session(st);
		arc4_set_key(&trial, st->session_key, st->key_len);
		arc4_crypt(&trial, p, head, len < 3 ? len : 3);
		if (plausible_plaintext(head, len < 3 ? len : 3)) {
			chosen = extra;
			break;
		}
	}
	if (extra > RESYNC_EXTRA) {
		chosen = 0;
		memcpy(st->session_key, base, sizeof(base));
		for (unsigned q = 0; q < rekeys; q++)
			rekey_session(st);
	}
	st->rekeys = stat + rekeys + chosen;
	st->resync_extra += chosen;
	arc4_set_key(&st->rc4, st->session_key, st->key_len);
	arc4_crypt(&st->rc4, p, p, len);
	explicit_bzero(base, sizeof(base));
}

/* One round: ops[idx[0..n)] have distinct states and a plan. All but the
 * last key change of an op run one by one (only after loss); the last one
 * of every op is batched so the key schedules interleave. */
static void
run_round(struct mppe_op *ops, const unsigned *idx, unsigned n, const struct plan *pl)
{
	struct arc4_key_job kj[CHUNK];
	struct mppe_state *ks[CHUNK];
	struct arc4_job jobs[CHUNK];
	uint8_t interim[CHUNK][16];
	unsigned nk = 0, nj = 0;

	for (unsigned r = 0; r < n; r++) {
		struct mppe_op *op = &ops[idx[r]];
		struct mppe_state *st = op->st;

		if (pl[r].rekeys == 0 || pl[r].resync)
			continue;
		for (unsigned q = 1; q < pl[r].rekeys; q++)
			rekey_session(st);
		mppe_new_key_from_sha(st->start_key, st->session_key, st->key_len, interim[nk]);
		kj[nk] = (struct arc4_key_job){ &st->rc4, interim[nk], st->key_len };
		ks[nk++] = st;
	}
	if (nk > 0)
		arc4_set_key_burst(kj, nk);
	for (unsigned k = 0; k < nk; k++) {
		struct mppe_state *st = ks[k];

		arc4_crypt(&st->rc4, interim[k], st->session_key, st->key_len);
		mppe_salt(st->session_key, st->key_bits);
		st->rekeys++;
		kj[k].key = st->session_key;
	}
	if (nk > 0)
		arc4_set_key_burst(kj, nk);

	for (unsigned r = 0; r < n; r++) {
		struct mppe_op *op = &ops[idx[r]];
		uint8_t *p = op->pkt + MPPE_HDR_LEN;

		if (pl[r].resync) {
			resync_decrypt(op, pl[r].rekeys);
			continue;
		}
		jobs[nj++] = (struct arc4_job){ &op->st->rc4, p, p, op->len - MPPE_HDR_LEN };
	}
	arc4_crypt_burst(jobs, nj);
}

typedef int (*plan_fn)(struct mppe_op *op, struct plan *pl);

/* Split up to CHUNK ops into rounds and run them in order. */
static unsigned
burst_chunk(struct mppe_op *ops, unsigned n, plan_fn plan, uint32_t mark)
{
	uint8_t round[CHUNK];
	unsigned rounds = 0, ok = 0;

	for (unsigned k = 0; k < n; k++) {
		struct mppe_state *st = ops[k].st;

		round[k] = 0;
		if (st == NULL || ops[k].pkt == NULL || st->dir == 0) {
			ops[k].status = MPPE_ERR_BAD_ARG;
			continue;
		}
		if (ops[k].len <= MPPE_HDR_LEN) {
			ops[k].status = MPPE_ERR_TRUNCATED;
			continue;
		}
		if (st->burst_mark != mark) {
			st->burst_mark = mark;
			st->burst_round = 0;
		} else {
			st->burst_round++;
		}
		round[k] = (uint8_t)st->burst_round;
		ops[k].status = -1;   /* to be planned */
		if (st->burst_round + 1 > rounds)
			rounds = st->burst_round + 1;
	}
	for (unsigned r = 0; r < rounds; r++) {
		unsigned idx[CHUNK], m = 0;
		struct plan pl[CHUNK];

		for (unsigned k = 0; k < n; k++) {
			if (ops[k].status != -1 || round[k] != r)
				continue;
			ops[k].status = (int16_t)plan(&ops[k], &pl[m]);
			if (ops[k].status == MPPE_OK) {
				idx[m++] = k;
				ok++;
			}
		}
		run_round(ops, idx, m, pl);
	}
	return ok;
}

static unsigned
burst(struct mppe_op *ops, unsigned n, plan_fn plan)
{
	/* a fresh mark per call tells the states which burst counted them */
	static _Thread_local uint32_t serial;
	unsigned ok = 0;

	if (ops == NULL)
		return 0;
	for (unsigned done = 0; done < n; done += CHUNK) {
		if (++serial == 0)
			serial = 1;
		ok += burst_chunk(ops + done, n - done < CHUNK ? n - done : CHUNK, plan, serial);
	}
	return ok;
}

unsigned
mppe_encrypt_burst(struct mppe_op *ops, unsigned n)
{
	return burst(ops, n, plan_tx);
}

unsigned
mppe_decrypt_burst(struct mppe_op *ops, unsigned n)
{
	return burst(ops, n, plan_rx);
}
