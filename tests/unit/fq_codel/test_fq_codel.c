/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/fq_codel: the keyed flow hash against OpenSSL's SipHash, CoDel's
 * control law and drop schedule against times computed by hand, ECN marking,
 * DRR fairness, sparse-flow priority, the limits hitting the fattest flow,
 * the shaper's rate, and no mbuf leaks. Time is a tick counter at 1 GHz
 * (1 tick = 1 ns), moved by hand.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "check.h"
#include "eal.h"
#include "fq_codel.h"
#include "pkt.h"
#include "pkt_ecn.h"
#include "shaper.h"

#define HZ 1000000000ull
#define MS 1000000ull

static struct rte_mempool *pool;

struct drops {
	unsigned aqm, overlimit;
	uint64_t last_time;
	uint64_t times[64];
	uint32_t flow_of[64];
};
static uint64_t now_ns;

static void
on_drop(void *arg, struct rte_mbuf *m, enum fq_codel_drop_reason why)
{
	struct drops *d = arg;

	if (why == FQ_CODEL_DROP_AQM) {
		if (d->aqm < RTE_DIM(d->times))
			d->times[d->aqm] = now_ns;
		d->aqm++;
	} else {
		if (d->overlimit < RTE_DIM(d->flow_of))
			d->flow_of[d->overlimit] = m->hash.usr;
		d->overlimit++;
	}
	rte_pktmbuf_free(m);
}

/* An IPv4/UDP packet of len bytes with the given TOS; the flow id rides in hash.usr. */
static struct rte_mbuf *
make_pkt(uint16_t len, uint8_t tos, uint32_t flow)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ipv4_hdr *ip;

	if (m == NULL)
		return NULL;
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, len);
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(ip, 0, len);
	pkt_ipv4_write_hdr(ip, tos, len, 1, 64, IPPROTO_UDP, RTE_BE32(0x0a000001 + flow), RTE_BE32(0x0a640001));
	m->hash.usr = flow;
	return m;
}

static struct fq_codel *
make_queue(struct fq_codel_params *p, struct fq_codel_stats *st, struct drops *d)
{
	memset(st, 0, sizeof(*st));
	memset(d, 0, sizeof(*d));
	return fq_codel_create(p, st, on_drop, d, SOCKET_ID_ANY);
}

static void
test_siphash(void)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	CHECK(mac != NULL);
	if (mac == NULL)
		return;
	for (int i = 0; i < 200; i++) {
		struct flow_hash_key k = { rte_rand(), rte_rand() };
		uint64_t m0 = rte_rand(), m1 = rte_rand(), ours = flow_hash_siphash13(&k, m0, m1), theirs = 0;
		unsigned char key[16], msg[16], out[8];
		unsigned int c = 1, d = 3, size = 8;
		size_t outl = 0;
		EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_C_ROUNDS, &c),
			OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_D_ROUNDS, &d),
			OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &size),
			OSSL_PARAM_construct_end(),
		};

		/* SipHash reads key and message as little-endian words, like this host. */
		memcpy(key, &k.k0, 8);
		memcpy(key + 8, &k.k1, 8);
		memcpy(msg, &m0, 8);
		memcpy(msg + 8, &m1, 8);
		CHECK(EVP_MAC_init(ctx, key, sizeof(key), params) == 1);
		CHECK(EVP_MAC_update(ctx, msg, sizeof(msg)) == 1);
		CHECK(EVP_MAC_final(ctx, out, &outl, sizeof(out)) == 1 && outl == 8);
		memcpy(&theirs, out, 8);
		if (ours != theirs) {
			CHECK_EQ(ours, theirs);
			EVP_MAC_CTX_free(ctx);
			break;
		}
		EVP_MAC_CTX_free(ctx);
	}
	EVP_MAC_free(mac);
	check_passed++;
}

static void
test_flow_hash_fields(void)
{
	struct flow_hash_key k = { 1, 2 };
	struct rte_mbuf *a = make_pkt(100, 0, 1), *b = make_pkt(100, 0, 1);
	struct rte_ipv4_hdr *ia = rte_pktmbuf_mtod(a, struct rte_ipv4_hdr *);
	struct rte_ipv4_hdr *ib = rte_pktmbuf_mtod(b, struct rte_ipv4_hdr *);
	uint16_t *pb = (uint16_t *)(ib + 1);

	CHECK_EQ(flow_hash_ipv4(&k, ia, 100), flow_hash_ipv4(&k, ib, 100));
	pb[0] = 1234; /* another source port: another flow */
	CHECK(flow_hash_ipv4(&k, ia, 100) != flow_hash_ipv4(&k, ib, 100));
	/* A non-first fragment has no ports: it hashes like the addresses and protocol alone. */
	ib->fragment_offset = rte_cpu_to_be_16(100);
	ia->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	CHECK_EQ(flow_hash_ipv4(&k, ia, 100), flow_hash_ipv4(&k, ib, 100));
	/* Another key, another hash. */
	struct flow_hash_key k2 = { 1, 3 };
	CHECK(flow_hash_ipv4(&k, ia, 100) != flow_hash_ipv4(&k2, ia, 100));
	rte_pktmbuf_free(a);
	rte_pktmbuf_free(b);
}

static void
test_control_law(void)
{
	const uint64_t interval = 100 * MS;

	/* interval / sqrt(count), computed by hand. */
	CHECK_EQ(codel_control_law(0, interval, 1), 100000000);
	CHECK_EQ(codel_control_law(0, interval, 2), 70710678);
	CHECK_EQ(codel_control_law(0, interval, 3), 57735026);
	CHECK_EQ(codel_control_law(0, interval, 4), 50000000);
	CHECK_EQ(codel_control_law(5, interval, 100), 10000005);
}

static void
base_params(struct fq_codel_params *p)
{
	fq_codel_params_default(p, HZ);
	CHECK_EQ(p->target, 5 * MS);
	CHECK_EQ(p->interval, 100 * MS);
}

/*
 * One flow, one 1000-byte packet dequeued and one enqueued per millisecond
 * behind 200 packets queued at time 0: the standing queue sits far above
 * target. By hand: the packet leaving at 5 ms waited 5 ms (not below target),
 * so first_above_time = 105 ms; the first drop is at 105 ms, the next ones at
 * 105 + 100 = 205, 205 + 70.71 = 275.71 (276 on the 1 ms grid),
 * 275.71 + 57.74 = 333.45 (334), 333.45 + 50 = 383.45 (384),
 * 383.45 + 44.72 = 428.17 (429).
 */
static void
test_codel_schedule(bool ecn)
{
	static const uint64_t expect[] = { 105, 205, 276, 334, 384, 429 };
	struct fq_codel_params p;
	struct fq_codel_stats st;
	struct drops d;
	struct fq_codel *q;
	uint64_t marks_at[RTE_DIM(expect)];
	unsigned marks = 0, sent = 0, bad_csum = 0;
	const uint8_t tos = ecn ? PKT_ECN_ECT0 : 0;

	base_params(&p);
	q = make_queue(&p, &st, &d);
	CHECK(q != NULL);
	now_ns = 0;
	for (int i = 0; i < 200; i++)
		fq_codel_enqueue(q, make_pkt(1000, tos, 0), 7, now_ns);
	for (uint64_t ms = 1; ms <= 440; ms++) {
		struct rte_mbuf *m;

		now_ns = ms * MS;
		fq_codel_enqueue(q, make_pkt(1000, tos, 0), 7, now_ns);
		m = fq_codel_dequeue(q, now_ns);
		if (m == NULL)
			continue;
		sent++;
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		if ((ip->type_of_service & PKT_ECN_MASK) == PKT_ECN_CE && marks < RTE_DIM(marks_at))
			marks_at[marks++] = ms;
		if (!pkt_ipv4_sum20_ok(ip))
			bad_csum++;
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(sent, 440);
	CHECK_EQ(bad_csum, 0);
	if (ecn) {
		CHECK_EQ(d.aqm, 0);
		CHECK_EQ(st.ecn_marks, RTE_DIM(expect));
		CHECK_EQ(marks, RTE_DIM(expect));
		for (unsigned i = 0; i < RTE_DIM(expect) && i < marks; i++)
			CHECK_EQ(marks_at[i], expect[i]);
	} else {
		CHECK_EQ(st.ecn_marks, 0);
		CHECK_EQ(d.aqm, RTE_DIM(expect));
		CHECK_EQ(st.aqm_drops, RTE_DIM(expect));
		for (unsigned i = 0; i < RTE_DIM(expect) && i < d.aqm; i++)
			CHECK_EQ(d.times[i] / MS, expect[i]);
	}
	/* Drain at line speed: the queue empties, CoDel leaves the dropping state. */
	unsigned before = d.aqm;
	while (fq_codel_backlog_packets(q) > 0) {
		struct rte_mbuf *m = fq_codel_dequeue(q, now_ns);

		if (m != NULL)
			rte_pktmbuf_free(m);
	}
	CHECK(fq_codel_dequeue(q, now_ns) == NULL);
	CHECK(d.aqm - before < 40); /* a few more drops while it drained, not every packet */
	CHECK_EQ(st.backlog_packets, 0);
	CHECK_EQ(st.backlog_bytes, 0);
	CHECK_EQ(st.active_flows, 0);
	CHECK_EQ(st.enqueued, st.dequeued + st.aqm_drops);
	/* Short waits afterwards: no drops at all. */
	before = d.aqm;
	for (int i = 0; i < 1000; i++) {
		now_ns += MS;
		fq_codel_enqueue(q, make_pkt(1000, tos, 0), 7, now_ns);
		now_ns += MS;
		rte_pktmbuf_free(fq_codel_dequeue(q, now_ns));
	}
	CHECK_EQ(d.aqm, before);
	fq_codel_free(q);
}

/* A flow of 1500-byte and one of 300-byte packets, both backlogged: equal bytes within a quantum. */
static void
test_drr_fairness(void)
{
	struct fq_codel_params p;
	struct fq_codel_stats st;
	struct drops d;
	struct fq_codel *q;
	uint64_t bytes[2] = { 0, 0 };

	base_params(&p);
	p.codel = false;
	q = make_queue(&p, &st, &d);
	now_ns = 0;
	for (int i = 0; i < 400; i++)
		fq_codel_enqueue(q, make_pkt(1500, 0, 0), 1, now_ns);
	for (int i = 0; i < 2000; i++)
		fq_codel_enqueue(q, make_pkt(300, 0, 1), 2, now_ns);
	while (bytes[0] + bytes[1] < 400000) {
		struct rte_mbuf *m = fq_codel_dequeue(q, now_ns);

		CHECK(m != NULL);
		if (m == NULL)
			break;
		bytes[m->hash.usr] += rte_pktmbuf_pkt_len(m);
		rte_pktmbuf_free(m);
	}
	printf("drr: %lu bytes of 1500-byte packets, %lu of 300-byte packets\n",
	       (unsigned long)bytes[0], (unsigned long)bytes[1]);
	CHECK(llabs((long long)bytes[0] - (long long)bytes[1]) <= 2 * 1514);
	CHECK_EQ(st.active_flows, 2);
	fq_codel_free(q);
	CHECK_EQ(st.active_flows, 0);
	CHECK_EQ(d.overlimit, 400 + 2000 - st.dequeued);
}

/* A bulk flow is being served; a single packet of a new flow jumps ahead within one quantum. */
static void
test_sparse_first(void)
{
	struct fq_codel_params p;
	struct fq_codel_stats st;
	struct drops d;
	struct fq_codel *q;
	int bulk_before_sparse = 0;

	base_params(&p);
	q = make_queue(&p, &st, &d);
	now_ns = 0;
	for (int i = 0; i < 100; i++)
		fq_codel_enqueue(q, make_pkt(1500, 0, 0), 1, now_ns);
	/* Let the bulk flow run a few rounds so it sits on the old list. */
	for (int i = 0; i < 10; i++)
		rte_pktmbuf_free(fq_codel_dequeue(q, now_ns));
	fq_codel_enqueue(q, make_pkt(100, 0, 1), 2, now_ns);
	for (;;) {
		struct rte_mbuf *m = fq_codel_dequeue(q, now_ns);
		uint32_t flow = m->hash.usr;

		rte_pktmbuf_free(m);
		if (flow == 1)
			break;
		bulk_before_sparse++;
	}
	/* The bulk flow may finish the packet its deficit allows, no more. */
	CHECK(bulk_before_sparse <= 1);
	CHECK_EQ(st.new_flow_count, 2);
	fq_codel_free(q);
}

/* At the packet limit the flow with the most bytes loses packets from its head. */
static void
test_limit_hits_fattest(void)
{
	struct fq_codel_params p;
	struct fq_codel_stats st;
	struct drops d;
	struct fq_codel *q;

	base_params(&p);
	p.limit = 100;
	q = make_queue(&p, &st, &d);
	now_ns = 0;
	for (int i = 0; i < 80; i++)
		fq_codel_enqueue(q, make_pkt(1000, 0, 0), 1, now_ns);
	for (int i = 0; i < 20; i++)
		fq_codel_enqueue(q, make_pkt(1000, 0, 1), 2, now_ns);
	CHECK_EQ(d.overlimit, 0);
	fq_codel_enqueue(q, make_pkt(1000, 0, 1), 2, now_ns); /* 101 > limit */
	/* Half of the fat flow's 80000 bytes: 40 packets, all from flow 0. */
	CHECK_EQ(d.overlimit, 40);
	CHECK_EQ(st.overlimit_drops, 40);
	unsigned from_fat = 0;
	for (unsigned i = 0; i < d.overlimit && i < RTE_DIM(d.flow_of); i++)
		from_fat += d.flow_of[i] == 0;
	CHECK_EQ(from_fat, 40);
	CHECK_EQ(fq_codel_backlog_packets(q), 61);
	/* Memory limit: one flow of large buffers. */
	fq_codel_free(q);
	base_params(&p);
	p.memory_limit = 50 * RTE_MBUF_DEFAULT_BUF_SIZE;
	p.drop_batch = 4;
	q = make_queue(&p, &st, &d);
	for (int i = 0; i < 51; i++)
		fq_codel_enqueue(q, make_pkt(64, 0, 0), 1, now_ns);
	CHECK_EQ(d.overlimit, 4); /* the batch bound, not half of the flow */
	CHECK_EQ(fq_codel_backlog_packets(q), 47);
	fq_codel_free(q);
	CHECK_EQ(d.overlimit, 51);
}

/* FIFO mode (one flow, no AQM) keeps arrival order across flows and never drops below the limit. */
static void
test_fifo(void)
{
	struct fq_codel_params p;
	struct fq_codel_stats st;
	struct drops d;
	struct fq_codel *q;
	bool in_order = true;

	base_params(&p);
	p.flows = 1;
	p.codel = false;
	q = make_queue(&p, &st, &d);
	for (uint32_t i = 0; i < 500; i++) {
		struct rte_mbuf *m = make_pkt(1500, 0, i);

		fq_codel_enqueue(q, m, fq_codel_classify(q, m), 0);
	}
	for (uint32_t i = 0; i < 500; i++) {
		struct rte_mbuf *m = fq_codel_dequeue(q, 10000 * MS);

		in_order &= m != NULL && m->hash.usr == i;
		rte_pktmbuf_free(m);
	}
	CHECK(in_order);
	CHECK_EQ(d.aqm + d.overlimit, 0);
	fq_codel_free(q);
}

static void
test_histogram(void)
{
	uint64_t hist[FQ_CODEL_HIST_BUCKETS] = { 0 };

	CHECK_EQ(fq_codel_hist_bucket(0), 0);
	CHECK_EQ(fq_codel_hist_bucket(4095), 0);
	CHECK_EQ(fq_codel_hist_bucket(4096), 1);
	CHECK_EQ(fq_codel_hist_floor(1), 4096);
	CHECK_EQ(fq_codel_hist_floor(2), 5120);
	CHECK_EQ(fq_codel_hist_bucket(5 * MS), fq_codel_hist_bucket(fq_codel_hist_floor(fq_codel_hist_bucket(5 * MS))));
	CHECK(fq_codel_hist_floor(fq_codel_hist_bucket(5 * MS)) <= 5 * MS);
	CHECK(fq_codel_hist_floor(fq_codel_hist_bucket(5 * MS)) > 5 * MS * 3 / 4);
	CHECK_EQ(fq_codel_hist_bucket(UINT64_MAX), FQ_CODEL_HIST_BUCKETS - 1);
	for (int i = 0; i < 90; i++)
		hist[fq_codel_hist_bucket(1 * MS)]++;
	for (int i = 0; i < 10; i++)
		hist[fq_codel_hist_bucket(100 * MS)]++;
	CHECK_EQ(fq_codel_hist_quantile(hist, 0.5), fq_codel_hist_floor(fq_codel_hist_bucket(MS)));
	CHECK_EQ(fq_codel_hist_quantile(hist, 0.95), fq_codel_hist_floor(fq_codel_hist_bucket(100 * MS)));
}

/* 10 Mbit/s with a 3000-byte burst: a saturating sender gets 1.25 MB per second plus the burst. */
static void
test_shaper(void)
{
	struct shaper s;
	uint64_t bytes = 0, t;

	shaper_init(&s, 10000000, 3000, 0, HZ);
	CHECK_EQ(shaper_cost(&s, 1500), 1200000); /* 1.2 ms per 1500 bytes */
	for (t = 10 * HZ; t < 11 * HZ; t += 1000) /* polled every microsecond */
		while (shaper_ready(&s, t)) {
			shaper_charge(&s, t, 1500);
			bytes += 1500;
		}
	printf("shaper: %lu bytes in 1 s at 10 Mbit/s\n", (unsigned long)bytes);
	CHECK(bytes >= 1250000 && bytes <= 1250000 + 3000 + 1500);
	/* Per-packet overhead counts against the rate: 1500 + 100 bytes per packet. */
	shaper_init(&s, 10000000, 1600, 100, HZ);
	bytes = 0;
	for (t = HZ; t < 2 * HZ; t += 1000)
		while (shaper_ready(&s, t)) {
			shaper_charge(&s, t, 1500);
			bytes += 1600;
		}
	CHECK(bytes >= 1250000 && bytes <= 1250000 + 2 * 1600);
}

int
main(void)
{
	if (test_eal_init("0") < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	pool = rte_pktmbuf_pool_create("fqc", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	CHECK(pool != NULL);
	CHECK(fq_codel_dynfield_register() == 0);
	test_siphash();
	test_flow_hash_fields();
	test_control_law();
	test_codel_schedule(false);
	test_codel_schedule(true);
	test_drr_fairness();
	test_sparse_first();
	test_limit_hits_fattest();
	test_fifo();
	test_histogram();
	test_shaper();
	CHECK_EQ(rte_mempool_in_use_count(pool), 0);
	return check_summary("fq_codel");
}
