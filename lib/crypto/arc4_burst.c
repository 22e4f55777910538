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
 * the scalar loads they replace. Vector registers are used where they do
 * win: each lane's keystream is collected in an XMM register (pinsrb from
 * the S[x + y] load, no byte store) and XORed into the data 16 bytes at a
 * time; state copies and key expansion are vector memcpy.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

#include "arc4.h"
#include "arc4_impl.h"

/* K lanes, m bytes each. The lanes' permutations are copied side by side
 * into one scratch block, so a single base register plus a constant offset
 * reaches every lane and each lane's i and j stay in registers. */
#define KS_BLOCK 16
#define VEC_LANES 5   /* widest kernel: 2 registers per lane, 30 asm operands */

/* One RC4 step of lane k with the keystream byte stored to ksp[k * KS_BLOCK]:
 * used for the tail of a run (fewer than 16 bytes per lane). i and j are
 * 64-bit registers holding 0..255: the byte-wide inc/add wrap at 256 by
 * themselves and leave the upper bits zero, so they index memory with no
 * extension. */
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

/* The main kernel: 16 steps of every lane in one asm statement, i and j of
 * every lane pinned in registers for the whole block (with the state in
 * arrays, as a C loop would keep it, the compiler spills them around every
 * asm step and the store->load forwarding of i and j becomes the chain).
 * The keystream byte is inserted straight into lane L's vector register
 * (byte B) instead of being stored: a step is then 3 loads + 2 stores,
 * which is what bounds it (about 1.65 cycles per byte with 4 lanes on
 * this Zen core), and the XOR with the data is one 16-byte load/store. */
#ifdef __AVX__
#define PINSRB(B, L) "vpinsrb $" #B ", " #L "*256(%[s],%[x]), %[v" #L "], %[v" #L "]\n\t"
#else
#define PINSRB(B, L) "pinsrb $" #B ", " #L "*256(%[s],%[x]), %[v" #L "]\n\t"   /* SSE4.1 */
#endif
#define VSTEP(L, B)								\
	"incb %b[i" #L "]\n\t"							\
	"movzbl " #L "*256(%[s],%[i" #L "]), %k[x]\n\t"			\
	"addb %b[x], %b[j" #L "]\n\t"						\
	"movzbl " #L "*256(%[s],%[j" #L "]), %k[y]\n\t"			\
	"movb %b[y], " #L "*256(%[s],%[i" #L "])\n\t"				\
	"movb %b[x], " #L "*256(%[s],%[j" #L "])\n\t"				\
	"addb %b[y], %b[x]\n\t"							\
	PINSRB(B, L)
#define VROW2(B) VSTEP(0, B) VSTEP(1, B)
#define VROW3(B) VROW2(B) VSTEP(2, B)
#define VROW4(B) VROW3(B) VSTEP(3, B)
#define VROW5(B) VROW4(B) VSTEP(4, B)
#define VBLOCK(R) R(0) R(1) R(2) R(3) R(4) R(5) R(6) R(7) \
		  R(8) R(9) R(10) R(11) R(12) R(13) R(14) R(15)
#define VREG2 [i0] "+r"(i0), [j0] "+r"(j0), [i1] "+r"(i1), [j1] "+r"(j1)
#define VREG3 VREG2, [i2] "+r"(i2), [j2] "+r"(j2)
#define VREG4 VREG3, [i3] "+r"(i3), [j3] "+r"(j3)
#define VREG5 VREG4, [i4] "+r"(i4), [j4] "+r"(j4)
#define VOUT2 [v0] "=&x"(v[0]), [v1] "=&x"(v[1])
#define VOUT3 VOUT2, [v2] "=&x"(v[2])
#define VOUT4 VOUT3, [v3] "=&x"(v[3])
#define VOUT5 VOUT4, [v4] "=&x"(v[4])

#define LANES_FN(K)								\
static void									\
lanes_##K(struct arc4_job *const *job, const uint32_t *off, uint32_t m)	\
{										\
	uint8_t sb[K * 256] __attribute__((aligned(64)));			\
	uint8_t ks[K * KS_BLOCK] __attribute__((aligned(16)));		\
	uint64_t ii[VEC_LANES] = { 0 }, jj[VEC_LANES] = { 0 };			\
	uint32_t n = 0;								\
										\
	for (unsigned k = 0; k < K; k++) {					\
		memcpy(&sb[k * 256], job[k]->st->s, 256);			\
		ii[k] = job[k]->st->i;						\
		jj[k] = job[k]->st->j;						\
	}									\
	if (m >= KS_BLOCK) {							\
		uint64_t i0 = ii[0], j0 = jj[0], i1 = ii[1], j1 = jj[1];	\
		uint64_t i2 = ii[2], j2 = jj[2], i3 = ii[3], j3 = jj[3];	\
		uint64_t i4 = ii[4], j4 = jj[4];				\
										\
		for (; n + KS_BLOCK <= m; n += KS_BLOCK) {			\
			__m128i v[K];						\
			uint64_t x_, y_;					\
										\
			__asm__ volatile(VBLOCK(VROW##K)			\
				: VREG##K, [x] "=&r"(x_), [y] "=&r"(y_), VOUT##K \
				: [s] "r"(sb) : "memory");			\
			for (unsigned k = 0; k < K; k++) {			\
				const uint8_t *in = job[k]->in + off[k] + n;	\
				uint8_t *out = job[k]->out + off[k] + n;	\
				__m128i d = _mm_loadu_si128((const void *)in);	\
										\
				_mm_storeu_si128((void *)out, _mm_xor_si128(d, v[k])); \
			}							\
		}								\
		ii[0] = i0; jj[0] = j0; ii[1] = i1; jj[1] = j1;			\
		ii[2] = i2; jj[2] = j2; ii[3] = i3; jj[3] = j3;			\
		ii[4] = i4; jj[4] = j4;						\
	}									\
	lanes_tail(job, off, K, n, m - n, sb, ks, ii, jj);			\
	for (unsigned k = 0; k < K; k++) {					\
		memcpy(job[k]->st->s, &sb[k * 256], 256);			\
		job[k]->st->i = (uint8_t)ii[k];					\
		job[k]->st->j = (uint8_t)jj[k];					\
	}									\
}

/* The last m % 16 bytes of a run, one step at a time, lanes interleaved. */
static inline __attribute__((always_inline)) void
lanes_tail(struct arc4_job *const *job, const uint32_t *off, unsigned K, uint32_t n,
	   uint32_t r, uint8_t *sb, uint8_t *ks, uint64_t *ii, uint64_t *jj)
{
	for (uint32_t b = 0; b < r; b++) {
		uint8_t *ksp = ks + b;

		if (K > 0) ARC4_ASM_STEP(0, sb, ksp, ii[0], jj[0]);
		if (K > 1) ARC4_ASM_STEP(1, sb, ksp, ii[1], jj[1]);
		if (K > 2) ARC4_ASM_STEP(2, sb, ksp, ii[2], jj[2]);
		if (K > 3) ARC4_ASM_STEP(3, sb, ksp, ii[3], jj[3]);
		if (K > 4) ARC4_ASM_STEP(4, sb, ksp, ii[4], jj[4]);
	}
	for (unsigned k = 0; k < K; k++) {
		const uint8_t *in = job[k]->in + off[k] + n;
		uint8_t *out = job[k]->out + off[k] + n;

		for (uint32_t b = 0; b < r; b++)
			out[b] = in[b] ^ ks[k * KS_BLOCK + b];
	}
}

typedef void (*lanes_fn)(struct arc4_job *const *job, const uint32_t *off, uint32_t m);

LANES_FN(2)
LANES_FN(3)
LANES_FN(4)
LANES_FN(5)

/* one lane left: the single-stream loop (latency-bound, so it uses the
 * look-ahead kernel) needs no scratch copy */
static void
lanes_1(struct arc4_job *const *job, const uint32_t *off, uint32_t m)
{
	arc4_crypt(job[0]->st, job[0]->in + off[0], job[0]->out + off[0], m);
}

/* kernel for a number of ready lanes */
static const lanes_fn lanes_for[VEC_LANES + 1] = {
	NULL, lanes_1, lanes_2, lanes_3, lanes_4, lanes_5,
};

/* Up to 64 jobs at a time: a bit per job says it still waits. Jobs sharing a
 * state must run in array order, so a job is only taken when its state is not
 * in a lane; scanning from the front keeps the order. */
static void
sched_chunk(struct arc4_job *jobs, unsigned n, unsigned K)
{
	struct arc4_job *lane[VEC_LANES];
	uint32_t off[VEC_LANES];
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

		uint32_t m = UINT32_MAX;

		for (unsigned k = 0; k < used; k++)
			if (lane[k]->len - off[k] < m)
				m = lane[k]->len - off[k];
		lanes_for[used](lane, off, m);

		/* retire finished lanes, keep the rest packed at the front */
		unsigned keep = 0;

		for (unsigned k = 0; k < used; k++) {
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
static void burst_x3(struct arc4_job *jobs, unsigned n) { sched(jobs, n, 3); }
static void burst_x4(struct arc4_job *jobs, unsigned n) { sched(jobs, n, 4); }
static void burst_x5(struct arc4_job *jobs, unsigned n) { sched(jobs, n, 5); }

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
	{ "x3", 3, burst_x3 },
	{ "x4", 4, burst_x4 },
	{ "x5", 5, burst_x5 },
};
#define N_VARIANTS (sizeof(variants) / sizeof(variants[0]))

/* x4 won on the EPYC this was written on; arc4_select(NULL) re-checks. */
static const struct arc4_variant *selected = &variants[4];

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

/* Key schedules side by side (8 or 4 lanes). All lanes walk i = 0..255
 * together, so i and the key index are shared; each lane keeps its own j
 * chain in a register. Permutations and keys (expanded to 256 bytes, so
 * the loop needs no modulo) sit side by side in scratch blocks, one base
 * register each. A lane step is 6 instructions (3 loads, 2 stores); four
 * values of i per loop iteration (i is a multiple of 4, so i + 3 <= 255
 * never wraps and the offsets are constants). */
#define KSA_LANES 8

#define KSTEP(L, U)								\
	"movzbl " #L "*256+" #U "(%[s],%[i]), %k[x]\n\t"			\
	"addb " #L "*256+" #U "(%[kx],%[i]), %b[j" #L "]\n\t"			\
	"addb %b[x], %b[j" #L "]\n\t"						\
	"movzbl " #L "*256(%[s],%[j" #L "]), %k[y]\n\t"			\
	"movb %b[y], " #L "*256+" #U "(%[s],%[i])\n\t"				\
	"movb %b[x], " #L "*256(%[s],%[j" #L "])\n\t"
#define KROW4(U) KSTEP(0, U) KSTEP(1, U) KSTEP(2, U) KSTEP(3, U)
#define KROW8(U) KROW4(U) KSTEP(4, U) KSTEP(5, U) KSTEP(6, U) KSTEP(7, U)
#define KREG4 [j0] "+r"(j0), [j1] "+r"(j1), [j2] "+r"(j2), [j3] "+r"(j3)
#define KREG8 KREG4, [j4] "+r"(j4), [j5] "+r"(j5), [j6] "+r"(j6), [j7] "+r"(j7)

#define KSA_FN(K)								\
static void									\
ksa_##K(const struct arc4_key_job *const *jb)					\
{										\
	uint8_t sb[K * 256] __attribute__((aligned(64)));			\
	uint8_t kx[K * 256] __attribute__((aligned(64)));			\
	uint64_t j0 = 0, j1 = 0, j2 = 0, j3 = 0, j4 = 0, j5 = 0, j6 = 0, j7 = 0; \
	uint64_t i = 0, x_, y_;							\
										\
	for (unsigned k = 0; k < K; k++) {					\
		unsigned len = jb[k]->keylen;					\
										\
		for (unsigned o = 0; o < 256; o += len)				\
			memcpy(&kx[k * 256 + o], jb[k]->key, 256 - o < len ? 256 - o : len); \
		memcpy(&sb[k * 256], arc4_identity, 256);			\
	}									\
	(void)j4; (void)j5; (void)j6; (void)j7;					\
	__asm__ volatile(							\
		"1:\n\t"							\
		KROW##K(0) KROW##K(1) KROW##K(2) KROW##K(3)			\
		"addq $4, %[i]\n\t"						\
		"cmpq $256, %[i]\n\t"						\
		"jne 1b\n\t"							\
		: KREG##K, [i] "+r"(i), [x] "=&r"(x_), [y] "=&r"(y_)		\
		: [s] "r"(sb), [kx] "r"(kx)					\
		: "memory", "cc");						\
	for (unsigned k = 0; k < K; k++) {					\
		memcpy(jb[k]->st->s, &sb[k * 256], 256);			\
		jb[k]->st->i = 0;						\
		jb[k]->st->j = 0;						\
		jb[k]->st->busy = 0;						\
	}									\
}
KSA_FN(4)
KSA_FN(8)

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
			ksa_8(lane);
			used = 0;
		}
	}
	if (used >= 4) {
		ksa_4(lane);
		used -= 4;
		for (unsigned r = 0; r < used; r++)
			lane[r] = lane[r + 4];
	}
	for (unsigned r = 0; r < used; r++)
		arc4_set_key(lane[r]->st, lane[r]->key, lane[r]->keylen);
	return bad;
}
