/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ARC4 multi-stream engine.
 *
 * A kernel advances K independent states by the same number of bytes in one
 * loop. One stream is bound by the latency of its i -> S[i] -> j -> S[j]
 * chain; K chains in flight keep the load and store ports busy instead.
 * A scheduler feeds the lanes from the burst: when a lane's packet ends,
 * the next packet takes its place, so mixed lengths do not leave lanes idle.
 *
 * SIMD does not win for the keystream itself on AVX2: there is no scatter
 * for the two swaps per byte, and gathers of single bytes cost more than
 * the scalar loads they replace. Vector code is used where it does win:
 * state initialisation and key expansion (memcpy), done by the compiler.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "arc4.h"
#include "arc4_impl.h"

/* K lanes, m bytes each. The lanes' permutations are copied side by side
 * into one scratch block, so a single base register plus a constant offset
 * reaches every lane and each lane's i and j stay in registers. Keystream
 * goes to a small buffer and is XORed into the data a block at a time with
 * vector loads. */
#define KS_BLOCK 64

/* One RC4 step of lane k in nine instructions. i and j are 64-bit registers
 * holding 0..255: the byte-wide inc/add wrap at 256 by themselves and leave
 * the upper bits zero, so they index memory with no extension. Compilers
 * emit a zero-extension and an address add per access, about 14 uops per
 * step instead of 9; the step count is the cost here. */
#define ARC4_ASM_STEP(k, sb, ksp, i, j) do {					\
	uint64_t x_, y_;							\
	__asm__ volatile(							\
		"incb %b[ii]\n\t"						\
		"movzbl %c[so](%[s],%[ii]), %k[x]\n\t"			\
		"addb %b[x], %b[jj]\n\t"					\
		"movzbl %c[so](%[s],%[jj]), %k[y]\n\t"			\
		"movb %b[y], %c[so](%[s],%[ii])\n\t"				\
		"movb %b[x], %c[so](%[s],%[jj])\n\t"				\
		"addb %b[y], %b[x]\n\t"					\
		"movzbl %c[so](%[s],%[x]), %k[x]\n\t"			\
		"movb %b[x], %c[ko](%[ks])\n\t"				\
		: [ii] "+r"(i), [jj] "+r"(j), [x] "=&r"(x_), [y] "=&r"(y_)	\
		: [s] "r"(sb), [ks] "r"(ksp), [so] "i"((k) * 256),		\
		  [ko] "i"((k) * KS_BLOCK)					\
		: "memory");							\
} while (0)

static inline __attribute__((always_inline)) void
lanes_run(struct arc4_job *const *job, const uint32_t *off, unsigned K, uint32_t m)
{
	uint8_t sb[ARC4_MAX_LANES * 256] __attribute__((aligned(64)));
	uint8_t ks[ARC4_MAX_LANES * KS_BLOCK] __attribute__((aligned(64)));
	uint64_t i[ARC4_MAX_LANES], j[ARC4_MAX_LANES];

	for (unsigned k = 0; k < K; k++) {
		memcpy(&sb[k * 256], job[k]->st->s, 256);
		i[k] = job[k]->st->i;
		j[k] = job[k]->st->j;
	}
	for (uint32_t n = 0; n < m; n += KS_BLOCK) {
		uint32_t blk = m - n < KS_BLOCK ? m - n : KS_BLOCK;

		for (uint32_t b = 0; b < blk; b++) {
			uint8_t *ksp = ks + b;

			if (K > 0) ARC4_ASM_STEP(0, sb, ksp, i[0], j[0]);
			if (K > 1) ARC4_ASM_STEP(1, sb, ksp, i[1], j[1]);
			if (K > 2) ARC4_ASM_STEP(2, sb, ksp, i[2], j[2]);
			if (K > 3) ARC4_ASM_STEP(3, sb, ksp, i[3], j[3]);
			if (K > 4) ARC4_ASM_STEP(4, sb, ksp, i[4], j[4]);
			if (K > 5) ARC4_ASM_STEP(5, sb, ksp, i[5], j[5]);
			if (K > 6) ARC4_ASM_STEP(6, sb, ksp, i[6], j[6]);
			if (K > 7) ARC4_ASM_STEP(7, sb, ksp, i[7], j[7]);
		}
		for (unsigned k = 0; k < K; k++) {
			const uint8_t *in = job[k]->in + off[k] + n;
			uint8_t *out = job[k]->out + off[k] + n;
			const uint8_t *kk = &ks[k * KS_BLOCK];

			if (blk == KS_BLOCK) {
				/* fixed length: the compiler vectorizes it */
				for (uint32_t b = 0; b < KS_BLOCK; b++)
					out[b] = in[b] ^ kk[b];
			} else {
				for (uint32_t b = 0; b < blk; b++)
					out[b] = in[b] ^ kk[b];
			}
		}
	}
	for (unsigned k = 0; k < K; k++) {
		memcpy(job[k]->st->s, &sb[k * 256], 256);
		job[k]->st->i = (uint8_t)i[k];
		job[k]->st->j = (uint8_t)j[k];
	}
}

typedef void (*lanes_fn)(struct arc4_job *const *job, const uint32_t *off, uint32_t m);

#define LANES_FN(K) \
static void lanes_##K(struct arc4_job *const *job, const uint32_t *off, uint32_t m) \
{ lanes_run(job, off, K, m); }
LANES_FN(2)
LANES_FN(4)
LANES_FN(8)

/* one lane left: the single-stream loop needs no scratch copy */
static void
lanes_1(struct arc4_job *const *job, const uint32_t *off, uint32_t m)
{
	arc4_crypt(job[0]->st, job[0]->in + off[0], job[0]->out + off[0], m);
}

/* kernel for a number of ready lanes: the largest power of two <= ready */
static const lanes_fn lanes_for[9] = {
	NULL, lanes_1, lanes_2, lanes_2, lanes_4, lanes_4, lanes_4, lanes_4, lanes_8,
};
static const unsigned lanes_width[9] = { 0, 1, 2, 2, 4, 4, 4, 4, 8 };

/* Up to 64 jobs at a time: a bit per job says it still waits. Jobs sharing a
 * state must run in array order, so a job is only taken when its state is not
 * in a lane; scanning from the front keeps the order. */
static void
sched_chunk(struct arc4_job *jobs, unsigned n, unsigned K)
{
	struct arc4_job *lane[8];
	uint32_t off[8];
	uint64_t waiting = n == 64 ? ~0ULL : (1ULL << n) - 1;
	unsigned used = 0;

	for (;;) {
		/* fill empty lanes, front first */
		for (uint64_t w = waiting; w != 0 && used < K; w &= w - 1) {
			unsigned idx = (unsigned)__builtin_ctzll(w);
			struct arc4_job *jb = &jobs[idx];

			if (jb->len == 0) {
				waiting &= ~(1ULL << idx);
				continue;
			}
			if (jb->st->busy)
				continue;
			jb->st->busy = 1;
			waiting &= ~(1ULL << idx);
			lane[used] = jb;
			off[used] = 0;
			used++;
		}
		if (used == 0)
			return;

		unsigned width = lanes_width[used];
		uint32_t m = UINT32_MAX;

		for (unsigned k = 0; k < width; k++)
			if (lane[k]->len - off[k] < m)
				m = lane[k]->len - off[k];
		lanes_for[used](lane, off, m);

		/* retire finished lanes, keep the rest packed at the front */
		unsigned keep = 0;

		for (unsigned k = 0; k < used; k++) {
			if (k < width)
				off[k] += m;
			if (off[k] == lane[k]->len) {
				lane[k]->st->busy = 0;
				continue;
			}
			lane[keep] = lane[k];
			off[keep] = off[k];
			keep++;
		}
		used = keep;
	}
}

static void
sched(struct arc4_job *jobs, unsigned n, unsigned K)
{
	for (unsigned done = 0; done < n; done += 64)
		sched_chunk(jobs + done, n - done < 64 ? n - done : 64, K);
}

static void burst_x2(struct arc4_job *jobs, unsigned n) { sched(jobs, n, 2); }
static void burst_x4(struct arc4_job *jobs, unsigned n) { sched(jobs, n, 4); }
static void burst_x8(struct arc4_job *jobs, unsigned n) { sched(jobs, n, 8); }

static void
burst_ref(struct arc4_job *jobs, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		arc4_crypt_ref(jobs[k].st, jobs[k].in, jobs[k].out, jobs[k].len);
}

static void
burst_x1(struct arc4_job *jobs, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		arc4_crypt(jobs[k].st, jobs[k].in, jobs[k].out, jobs[k].len);
}

static const struct arc4_variant variants[] = {
	{ "ref", 1, burst_ref },
	{ "x1", 1, burst_x1 },
	{ "x2", 2, burst_x2 },
	{ "x4", 4, burst_x4 },
	{ "x8", 8, burst_x8 },
};
#define N_VARIANTS (sizeof(variants) / sizeof(variants[0]))

/* x2 won on the EPYC this was written on; arc4_select(NULL) re-checks. */
static const struct arc4_variant *selected = &variants[2];

unsigned
arc4_variant_count(void)
{
	return N_VARIANTS;
}

const struct arc4_variant *
arc4_variant_get(unsigned idx)
{
	return idx < N_VARIANTS ? &variants[idx] : NULL;
}

void
arc4_crypt_burst(struct arc4_job *jobs, unsigned n)
{
	selected->burst(jobs, n);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Time one variant on 16 streams of 512 B: a burst the way MPPE sees one. */
static uint64_t
time_variant(const struct arc4_variant *v)
{
	static struct arc4_state st[16];
	static uint8_t buf[16][512];
	struct arc4_job jobs[16];
	uint64_t best = UINT64_MAX;

	for (unsigned k = 0; k < 16; k++) {
		uint8_t key[16] = { (uint8_t)k, 1, 2, 3 };

		arc4_set_key(&st[k], key, sizeof(key));
		jobs[k] = (struct arc4_job){ &st[k], buf[k], buf[k], sizeof(buf[k]) };
	}
	/* best of several rounds: the minimum is the least disturbed */
	for (int r = 0; r < 8; r++) {
		uint64_t t0 = now_ns();

		for (int rep = 0; rep < 8; rep++)
			v->burst(jobs, 16);
		uint64_t t = now_ns() - t0;

		if (t < best)
			best = t;
	}
	return best;
}

int
arc4_select(const char *name)
{
	if (name != NULL) {
		for (unsigned k = 0; k < N_VARIANTS; k++)
			if (strcmp(variants[k].name, name) == 0) {
				selected = &variants[k];
				return 0;
			}
		return -1;
	}
	uint64_t best = UINT64_MAX;

	for (unsigned k = 1; k < N_VARIANTS; k++) {   /* never "ref" */
		uint64_t t = time_variant(&variants[k]);

		if (t < best) {
			best = t;
			selected = &variants[k];
		}
	}
	return 0;
}

const char *
arc4_selected(void)
{
	return selected->name;
}

/* Four key schedules side by side. All lanes walk i = 0..255 together, so i
 * and the key index are shared; each lane keeps its own j chain. Keys are
 * expanded to 256 bytes first so the loop needs no modulo. */
#define KSA_LANES 4

static void
ksa_lanes(const struct arc4_key_job *const *jb, unsigned K)
{
	uint8_t kx[KSA_LANES][256] __attribute__((aligned(32)));
	uint8_t *s[KSA_LANES];
	unsigned j[KSA_LANES];

	for (unsigned k = 0; k < K; k++) {
		unsigned len = jb[k]->keylen;

		for (unsigned o = 0; o < 256; o += len)
			memcpy(&kx[k][o], jb[k]->key, 256 - o < len ? 256 - o : len);
		s[k] = jb[k]->st->s;
		memcpy(s[k], arc4_identity, 256);
		j[k] = 0;
	}
	for (unsigned i = 0; i < 256; i++)
#pragma GCC unroll 4
		for (unsigned k = 0; k < K; k++) {
			unsigned x = s[k][i];

			j[k] = (j[k] + x + kx[k][i]) & 255;
			s[k][i] = s[k][j[k]];
			s[k][j[k]] = (uint8_t)x;
		}
	for (unsigned k = 0; k < K; k++) {
		jb[k]->st->i = 0;
		jb[k]->st->j = 0;
		jb[k]->st->busy = 0;
	}
}

static void ksa_4(const struct arc4_key_job *const *jb) { ksa_lanes(jb, 4); }

unsigned
arc4_set_key_burst(const struct arc4_key_job *jobs, unsigned n)
{
	const struct arc4_key_job *lane[KSA_LANES];
	unsigned used = 0, bad = 0;

	for (unsigned k = 0; k < n; k++) {
		const struct arc4_key_job *jb = &jobs[k];

		if (jb->keylen == 0 || jb->keylen > ARC4_KEY_MAX || jb->key == NULL) {
			bad++;
			continue;
		}
		/* the same state twice: flush the lanes first so the later key wins */
		for (unsigned l = 0; l < used; l++)
			if (lane[l]->st == jb->st) {
				for (unsigned r = 0; r < used; r++)
					arc4_set_key(lane[r]->st, lane[r]->key, lane[r]->keylen);
				used = 0;
				break;
			}
		lane[used++] = jb;
		if (used == KSA_LANES) {
			ksa_4(lane);
			used = 0;
		}
	}
	for (unsigned r = 0; r < used; r++)
		arc4_set_key(lane[r]->st, lane[r]->key, lane[r]->keylen);
	return bad;
}
