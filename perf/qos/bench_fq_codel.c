/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cost of the scheduler per packet on one core: classify (keyed flow hash),
 * enqueue and dequeue through fq_codel, with 1, 64 and 1024 flows all
 * backlogged, in bursts of 32 as the worker loop does. The ceiling from the
 * same run is the cheapest queue there is: an rte_ring SP/SC enqueue and
 * dequeue of the same mbufs. Prints one JSON object.
 *
 *     bench_fq_codel [seconds per case]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "fq_codel.h"
#include "pkt.h"

#define BURST 32
#define PKTS 8192

static struct rte_mbuf *pkts[PKTS];

static void
drop_free(void *arg, struct rte_mbuf *m, enum fq_codel_drop_reason why)
{
	(void)arg;
	(void)why;
	rte_pktmbuf_free(m);
}

/* PKTS UDP packets spread round robin over flows distinct 5-tuples. */
static void
make_packets(struct rte_mempool *pool, unsigned flows)
{
	for (unsigned i = 0; i < PKTS; i++) {
		struct rte_ipv4_hdr *ip;
		struct rte_udp_hdr *udp;

		if (pkts[i] == NULL)
			pkts[i] = rte_pktmbuf_alloc(pool);
		rte_pktmbuf_reset(pkts[i]);
		ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(pkts[i], 64);
		pkt_ipv4_write_hdr(ip, 0, 64, 0, 64, IPPROTO_UDP, RTE_BE32(0x0a000002), RTE_BE32(0x0a010002));
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->src_port = rte_cpu_to_be_16((uint16_t)(1000 + i % flows));
		udp->dst_port = RTE_BE16(9);
	}
}

/* Nanoseconds per packet through classify + enqueue + dequeue with every flow backlogged. */
static double
run_fq_codel(unsigned flows, double seconds)
{
	struct fq_codel_params p;
	struct fq_codel_stats st = { 0 };
	struct fq_codel *q;
	uint64_t n = 0, t0, end, hz = rte_get_tsc_hz();
	/* pkts[0, nfree) are not queued: enqueue takes from the top, dequeue puts back. */
	unsigned nfree = PKTS;

	fq_codel_params_default(&p, hz);
	p.limit = PKTS;
	p.memory_limit = 1u << 30;
	q = fq_codel_create(&p, &st, drop_free, NULL, SOCKET_ID_ANY);
	if (q == NULL) {
		fprintf(stderr, "fq_codel_create: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	/* Half the packets wait in the queue (every flow backlogged), half circulate. */
	while (nfree > PKTS / 2) {
		struct rte_mbuf *m = pkts[--nfree];

		fq_codel_enqueue(q, m, fq_codel_classify(q, m), rte_rdtsc());
	}
	/* Distinct 5-tuples may still share a queue (hash collisions): report, do not hide. */
	if (st.active_flows != flows)
		fprintf(stderr, "note: %u flows occupy %" PRIu64 " queues\n", flows, st.active_flows);
	t0 = rte_rdtsc();
	end = t0 + (uint64_t)(seconds * (double)hz);
	for (uint64_t now = t0; now < end; now = rte_rdtsc()) {
		for (unsigned r = 0; r < 64; r++) {
			for (unsigned i = 0; i < BURST; i++) {
				struct rte_mbuf *m = pkts[--nfree];

				fq_codel_enqueue(q, m, fq_codel_classify(q, m), now);
			}
			for (unsigned i = 0; i < BURST; i++) {
				struct rte_mbuf *m = fq_codel_dequeue(q, now);

				if (m == NULL) {
					fprintf(stderr, "queue ran empty: %" PRIu64 " aqm, %" PRIu64 " overlimit drops\n",
						st.aqm_drops, st.overlimit_drops);
					exit(1);
				}
				pkts[nfree++] = m;
			}
			n += BURST;
		}
	}
	t0 = rte_rdtsc() - t0;
	if (st.aqm_drops + st.overlimit_drops != 0)
		fprintf(stderr, "warning: %" PRIu64 " drops\n", st.aqm_drops + st.overlimit_drops);
	/* Take the waiting half back for the next case. */
	while (nfree < PKTS)
		pkts[nfree++] = fq_codel_dequeue(q, rte_rdtsc());
	fq_codel_free(q);
	return (double)t0 * 1e9 / (double)hz / (double)n;
}

/* The same traffic through an rte_ring (no classification, no fairness): the floor. */
static double
run_ring(double seconds)
{
	struct rte_ring *r = rte_ring_create("bench", PKTS, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	uint64_t n = 0, t0, end, hz = rte_get_tsc_hz();
	unsigned head = 0;

	rte_ring_enqueue_bulk(r, (void **)pkts, PKTS / 2, NULL);
	head = PKTS / 2;
	t0 = rte_rdtsc();
	end = t0 + (uint64_t)(seconds * (double)hz);
	while (rte_rdtsc() < end)
		for (unsigned k = 0; k < 64; k++) {
			struct rte_mbuf *out[BURST];

			for (unsigned i = 0; i < BURST; i++)
				rte_ring_sp_enqueue(r, pkts[(head + i) % PKTS]);
			for (unsigned i = 0; i < BURST; i++)
				rte_ring_sc_dequeue(r, (void **)&out[i]);
			for (unsigned i = 0; i < BURST; i++)
				pkts[(head + i) % PKTS] = out[i];
			head = (head + BURST) % PKTS;
			n += BURST;
		}
	t0 = rte_rdtsc() - t0;
	for (unsigned i = 0; i < PKTS / 2; i++)
		rte_ring_sc_dequeue(r, (void **)&pkts[(head + i) % PKTS]);
	rte_ring_free(r);
	return (double)t0 * 1e9 / (double)hz / (double)n;
}

int
main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--log-level=3", "-l", "1",
			"--file-prefix", "bench-fqc", NULL };
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	static const unsigned flow_cases[] = { 1, 64, 1024 };
	struct rte_mempool *pool;

	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0 || fq_codel_dynfield_register() < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	pool = rte_pktmbuf_pool_create("bench", PKTS * 2, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	make_packets(pool, 1);
	printf("{\"ring_ns_per_pkt\": %.2f, \"fq_codel\": [", run_ring(seconds));
	for (unsigned i = 0; i < RTE_DIM(flow_cases); i++) {
		make_packets(pool, flow_cases[i]);
		printf("%s{\"flows\": %u, \"ns_per_pkt\": %.2f}", i ? ", " : "", flow_cases[i],
		       run_fq_codel(flow_cases[i], seconds));
		fflush(stdout);
	}
	printf("]}\n");
	return 0;
}
