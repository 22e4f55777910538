/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reorder window cost per packet (insert + drain), beside DPDK's rte_reorder
 * doing the same work in the same process, interleaved run by run so both see
 * the same machine noise. Prints one JSON object; perf/reorder/run.py drives it.
 *
 *   bench_reorder [packets_per_run] [runs] [case...]
 *
 * Cases (32-packet bursts, window 2048 for both):
 *   in_order    numbers arrive in order
 *   shuffled32  a random permutation inside every burst
 *   late1       two packets of every burst arrive one burst late
 * rte_reorder needs its sequence number in the mbuf (dynfield); writing it is
 * part of its cost, as a driver would have to do it. Our window takes the number
 * as an argument. Both drain once per burst; the clock is read once per burst.
 */
/* rte_reorder_seqn() is marked experimental in 22.11. */
#define ALLOW_EXPERIMENTAL_API

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_reorder.h>

#include "clock.h"
#include "reorder.h"

#define BURST 32
#define WIN 2048
#define NPERM 1024
#define NMBUF 4096 /* more mbufs than the window, cycled */

static struct rte_mbuf *mbufs[NMBUF];
static uint8_t perm[NPERM][BURST];
static uint64_t delivered;

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void
make_perms(void)
{
	int p, i;

	for (p = 0; p < NPERM; p++) {
		for (i = 0; i < BURST; i++)
			perm[p][i] = (uint8_t)i;
		for (i = BURST; i > 1; i--) {
			int j = (int)rnd((uint32_t)i);
			uint8_t t = perm[p][i - 1];

			perm[p][i - 1] = perm[p][j];
			perm[p][j] = t;
		}
	}
}

enum kind { IN_ORDER, SHUFFLED32, LATE1 };

/* Arrival order of numbers for burst number b: base + offsets. LATE1 moves
 * offsets 5 and 20 of burst b into burst b + 1 (after its own packets);
 * the last burst keeps its own so both sides end empty. */
static void
burst_seqs(enum kind k, uint32_t base, uint32_t b, bool last, uint32_t *seq, uint32_t *n)
{
	uint32_t i, c = 0;

	switch (k) {
	case IN_ORDER:
		for (i = 0; i < BURST; i++)
			seq[c++] = base + i;
		break;
	case SHUFFLED32:
		for (i = 0; i < BURST; i++)
			seq[c++] = base + perm[b % NPERM][i];
		break;
	case LATE1:
		for (i = 0; i < BURST; i++)
			if ((i != 5 && i != 20) || last)
				seq[c++] = base + i;
		if (b > 0) {
			seq[c++] = base - BURST + 5;
			seq[c++] = base - BURST + 20;
		}
		break;
	}
	*n = c;
}

static void
count_out(struct reorder_window *w, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	RTE_SET_USED(w);
	RTE_SET_USED(pkts);
	RTE_SET_USED(arg);
	delivered += n;
}

/* Precomputed arrival order for one run, so both sides do identical work. */
static uint32_t *sched;
static uint32_t *sched_len;

static uint32_t
build_schedule(enum kind k, uint32_t bursts)
{
	uint32_t b, total = 0;

	for (b = 0; b < bursts; b++) {
		burst_seqs(k, 1 + b * BURST, b, b + 1 == bursts, sched + (size_t)b * (BURST + 2), &sched_len[b]);
		total += sched_len[b];
	}
	return total;
}

/* Both sides must have delivered every packet (plus the sync one). */
static double
per_packet(const char *who, uint64_t cycles, uint32_t total)
{
	if (delivered != total + 1) {
		fprintf(stderr, "%s: delivered %llu of %u\n", who, (unsigned long long)delivered,
			total + 1);
		exit(1);
	}
	return (double)cycles / total;
}

static double
run_dpvpn(struct reorder_ctx *ctx, uint32_t bursts, uint32_t total)
{
	struct reorder_window w;
	struct rte_mbuf *out[64];
	struct reorder_sink sink;
	uint64_t t0, t1;
	uint32_t b, i, mi = 0;

	reorder_window_init(ctx, &w, NULL);
	reorder_sink_init(&sink, ctx, out, RTE_DIM(out), count_out, NULL);
	delivered = 0;
	reorder_push(ctx, &w, 0, mbufs[mi++], rte_rdtsc(), &sink); /* sync */
	reorder_sink_flush(&sink);
	t0 = rte_rdtsc_precise();
	for (b = 0; b < bursts; b++) {
		const uint32_t *seq = sched + (size_t)b * (BURST + 2);
		uint64_t now = rte_rdtsc();

		for (i = 0; i < sched_len[b]; i++) {
			reorder_push(ctx, &w, seq[i], mbufs[mi], now, &sink);
			mi = (mi + 1) & (NMBUF - 1);
		}
		reorder_sink_flush(&sink);
	}
	t1 = rte_rdtsc_precise();
	reorder_flush(ctx, &w, &sink);
	reorder_sink_flush(&sink);
	return per_packet("dpvpn", t1 - t0, total);
}

static double
run_rte(struct rte_reorder_buffer *rb, uint32_t bursts, uint32_t total)
{
	struct rte_mbuf *out[WIN];
	uint64_t t0, t1;
	uint32_t b, i, mi = 0;
	unsigned int n;

	rte_reorder_reset(rb);
	delivered = 0;
	*rte_reorder_seqn(mbufs[mi]) = 0; /* sync */
	rte_reorder_insert(rb, mbufs[mi++]);
	delivered += rte_reorder_drain(rb, out, RTE_DIM(out));
	t0 = rte_rdtsc_precise();
	for (b = 0; b < bursts; b++) {
		const uint32_t *seq = sched + (size_t)b * (BURST + 2);

		for (i = 0; i < sched_len[b]; i++) {
			struct rte_mbuf *m = mbufs[mi];

			*rte_reorder_seqn(m) = seq[i];
			if (unlikely(rte_reorder_insert(rb, m) != 0)) {
				fprintf(stderr, "rte_reorder_insert: %s\n", rte_strerror(rte_errno));
				exit(1);
			}
			mi = (mi + 1) & (NMBUF - 1);
		}
		n = rte_reorder_drain(rb, out, 64);
		delivered += n;
	}
	t1 = rte_rdtsc_precise();
	delivered += rte_reorder_drain(rb, out, RTE_DIM(out));
	return per_packet("rte_reorder", t1 - t0, total);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const char *names[] = { "in_order", "shuffled32", "late1" };
	char prefix[64];
	char *eal[] = { argv[0], "--no-huge", "--no-pci", "-m", "512", "--no-shconf",
			"--no-telemetry", "-l", "0", "--log-level", "*:error", prefix };
	uint32_t packets = argc > 1 ? (uint32_t)atoi(argv[1]) : 1u << 20;
	int runs = argc > 2 ? atoi(argv[2]) : 11;
	uint32_t bursts = packets / BURST;
	struct reorder_ctx_conf cc = { .socket_id = SOCKET_ID_ANY, .max_size = WIN };
	struct rte_mempool *mp;
	struct reorder_ctx *ctx;
	struct rte_reorder_buffer *rb;
	int c, r, first = 1;
	bool want[3] = { argc <= 3, argc <= 3, argc <= 3 };
	double *a = malloc(sizeof(double) * runs), *q = malloc(sizeof(double) * runs);

	snprintf(prefix, sizeof(prefix), "--file-prefix=bench_reorder_%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	for (c = 3; c < argc; c++)
		for (r = 0; r < 3; r++)
			if (!strcmp(argv[c], names[r]))
				want[r] = true;
	clock_init(rte_get_tsc_hz());
	cc.hz = rte_get_tsc_hz();
	mp = rte_pktmbuf_pool_create("bench", NMBUF + 1023, 0, 0, 256, SOCKET_ID_ANY);
	ctx = reorder_ctx_create(&cc);
	rb = rte_reorder_create("bench", SOCKET_ID_ANY, WIN);
	if (mp == NULL || ctx == NULL || rb == NULL) {
		fprintf(stderr, "setup: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	if (rte_pktmbuf_alloc_bulk(mp, mbufs, NMBUF) != 0)
		return 2;
	make_perms();
	sched = malloc(sizeof(uint32_t) * (size_t)bursts * (BURST + 2));
	sched_len = malloc(sizeof(uint32_t) * bursts);

	printf("{\"packets_per_run\": %u, \"runs\": %d, \"burst\": %d, \"window\": %d, "
	       "\"tsc_hz\": %llu, \"cases\": {", bursts * BURST, runs, BURST, WIN,
	       (unsigned long long)rte_get_tsc_hz());
	for (c = 0; c < 3; c++) {
		uint32_t total;

		if (!want[c])
			continue;
		total = build_schedule((enum kind)c, bursts);
		run_dpvpn(ctx, bursts, total); /* warm caches and the block pool */
		run_rte(rb, bursts, total);
		for (r = 0; r < runs; r++) {
			/* alternate who goes first so drift hits both */
			if (r & 1) {
				q[r] = run_rte(rb, bursts, total);
				a[r] = run_dpvpn(ctx, bursts, total);
			} else {
				a[r] = run_dpvpn(ctx, bursts, total);
				q[r] = run_rte(rb, bursts, total);
			}
		}
		printf("%s\"%s\": {\"dpvpn\": [", first ? "" : ", ", names[c]);
		for (r = 0; r < runs; r++)
			printf("%s%.3f", r ? ", " : "", a[r]);
		printf("], \"rte_reorder\": [");
		for (r = 0; r < runs; r++)
			printf("%s%.3f", r ? ", " : "", q[r]);
		qsort(a, runs, sizeof(double), cmp_double);
		qsort(q, runs, sizeof(double), cmp_double);
		printf("], \"dpvpn_median\": %.3f, \"rte_reorder_median\": %.3f}",
		       a[runs / 2], q[runs / 2]);
		first = 0;
		fflush(stdout);
	}
	printf("}}\n");
	rte_pktmbuf_free_bulk(mbufs, NMBUF);
	rte_reorder_free(rb);
	reorder_ctx_free(ctx);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	free(a);
	free(q);
	free(sched);
	free(sched_len);
	return 0;
}
