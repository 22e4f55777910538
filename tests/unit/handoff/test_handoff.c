/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Handoff to the owner lcore: three producer lcores hand packets of a tunnel
 * to its owner's MP/SC ring concurrently; the owner receives each exactly
 * once with its metadata. A full ring drops and counts, and frees the mbuf.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include <rte_mbuf_dyn.h>

#include "check.h"
#include "dpvpn.h"
#include "eal.h"
#include "gre.h"

#define PRODUCERS 3
#define PER_PRODUCER 5000

static struct tunnel tun;
static struct worker producers[PRODUCERS];

static void *
produce(void *arg)
{
	struct worker *w = arg;

	for (uint32_t i = 0; i < PER_PRODUCER; i++) {
		struct rte_mbuf *m;

		while ((m = rte_pktmbuf_alloc(dp.pool)) == NULL)
			sched_yield();
		/* Payload: producer and index, to check exactly-once delivery. */
		*(uint32_t *)rte_pktmbuf_append(m, 4) = w->index << 24 | i;
		/*
		 * Wait while the ring is full: this test wants every packet through.
		 * Yielding, not spinning: four threads share two CPUs with other tests,
		 * and a spinning waiter would keep a preempted producer (halfway through
		 * its enqueue, which every other producer then waits for) off the CPU.
		 */
		while (rte_ring_count(dp.workers[1].handoff) > dp.cfg.handoff_ring - 64)
			sched_yield();
		handoff(w, &tun, m, (i & 1) ? HANDOFF_ENCAP : HANDOFF_DECAP, (uint16_t)(i & 0xff));
	}
	return NULL;
}

static void
test_concurrent(void)
{
	static uint8_t seen[PRODUCERS][PER_PRODUCER];
	pthread_t th[PRODUCERS];
	uint64_t got = 0, dup = 0, badmeta = 0, out = 0;

	for (int i = 0; i < PRODUCERS; i++) {
		producers[i].index = (unsigned)i + 2;
		pthread_create(&th[i], NULL, produce, &producers[i]);
	}
	while (got < PRODUCERS * PER_PRODUCER) {
		struct rte_mbuf *pkts[BURST];
		unsigned n = rte_ring_sc_dequeue_burst(dp.workers[1].handoff, (void **)pkts, BURST, NULL);

		if (n == 0)
			sched_yield();

		for (unsigned i = 0; i < n; i++) {
			uint32_t v = *rte_pktmbuf_mtod(pkts[i], uint32_t *);
			uint32_t p = (v >> 24) - 2, idx = v & 0xffffff;
			struct handoff_meta *hm = handoff_meta(pkts[i]);

			if (p >= PRODUCERS || idx >= PER_PRODUCER || seen[p][idx]++)
				dup++;
			if (hm->tunnel_index != tun.index || hm->l4_off != (idx & 0xff) ||
			    hm->dir != ((idx & 1) ? HANDOFF_ENCAP : HANDOFF_DECAP))
				badmeta++;
			rte_pktmbuf_free(pkts[i]);
		}
		got += n;
	}
	for (int i = 0; i < PRODUCERS; i++) {
		pthread_join(th[i], NULL);
		out += producers[i].stats.handoff_out;
	}
	CHECK_EQ(got, PRODUCERS * PER_PRODUCER);
	CHECK_EQ(out, got);
	CHECK_EQ(dup, 0);
	CHECK_EQ(badmeta, 0);
}

static void
test_full(void)
{
	struct worker w = { .index = 0 };
	unsigned cap = rte_ring_get_capacity(dp.workers[1].handoff);
	unsigned before = rte_mempool_in_use_count(dp.pool);

	for (unsigned i = 0; i < cap + 10; i++)
		handoff(&w, &tun, rte_pktmbuf_alloc(dp.pool), HANDOFF_DECAP, 0);
	CHECK_EQ(w.stats.handoff_out, cap);
	CHECK_EQ(w.stats.drops[DROP_HANDOFF_FULL], 10);
	CHECK_EQ(rte_mempool_in_use_count(dp.pool), before + cap);
	struct rte_mbuf *m = NULL;
	while (rte_ring_dequeue(dp.workers[1].handoff, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	CHECK_EQ(rte_mempool_in_use_count(dp.pool), before);
}

int
main(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "dpvpn_handoff_meta",
		.size = sizeof(struct handoff_meta),
		.align = __alignof__(struct handoff_meta),
	};
	static struct worker workers[2];

	if (test_eal_init("0") < 0)
		return 1;
	dp.cfg.handoff_ring = 1024;
	dp.pool = rte_pktmbuf_pool_create("test", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	dp.handoff_dynfield = rte_mbuf_dynfield_register(&desc);
	dp.workers = workers;
	dp.nb_workers = 2;
	for (int i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "h%d", i);
		workers[i].index = (unsigned)i;
		workers[i].handoff = rte_ring_create(name, dp.cfg.handoff_ring, SOCKET_ID_ANY, RING_F_SC_DEQ);
	}
	tun.worker = 1;
	tun.index = 5;
	CHECK(dp.pool != NULL && dp.handoff_dynfield >= 0);
	test_concurrent();
	test_full();
	CHECK_EQ(rte_mempool_in_use_count(dp.pool), 0);
	rte_eal_cleanup();
	return check_summary("handoff");
}
