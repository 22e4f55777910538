/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/neigh with the fake clock: resolution, request pacing, refresh, expiry, statics, races. */
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "clock.h"
#include "neigh.h"

#define HZ 1000000ULL /* fake ticks: microseconds */
#define TIMEOUT (300 * HZ)
#define RETRY (1 * HZ)

static const struct rte_ether_addr mac1 = { { 2, 0, 0, 0, 0, 1 } };
static const struct rte_ether_addr mac2 = { { 2, 0, 0, 0, 0, 2 } };

static void
test_lifecycle(void)
{
	struct neigh_table nt;
	struct rte_ether_addr m;
	rte_be32_t ip = RTE_BE32(0x0a000002);

	clock_use_fake(HZ, 1000);
	CHECK(neigh_init(&nt, 16, TIMEOUT, RETRY) == 0);
	/* Unknown: the first lookup asks for a request, the next ones wait for the retry time. */
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_MISS_REQUEST);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_MISS);
	clock_fake_advance(RETRY - 1);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_MISS);
	clock_fake_advance(1);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_MISS_REQUEST);
	/* Learnt: usable, no request until half the timeout. */
	CHECK(neigh_update(&nt, ip, &mac1, clock_now(), false) == 0);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_OK);
	CHECK(rte_is_same_ether_addr(&m, &mac1));
	clock_fake_advance(TIMEOUT / 2 - 1);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_OK);
	clock_fake_advance(1);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_OK_REFRESH);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_OK); /* one refresh per retry */
	/* No answer: expires at the timeout. */
	clock_fake_advance(TIMEOUT / 2 - 1);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_OK_REFRESH);
	clock_fake_advance(1);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_MISS);
	/* A new MAC replaces the old one. */
	neigh_update(&nt, ip, &mac2, clock_now(), false);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_OK);
	CHECK(rte_is_same_ether_addr(&m, &mac2));
	/* refresh_if_known does not create entries. */
	neigh_refresh_if_known(&nt, RTE_BE32(0x0a000003), &mac1, clock_now());
	CHECK_EQ(neigh_lookup(&nt, RTE_BE32(0x0a000003), clock_now(), &m), NEIGH_MISS_REQUEST);
	neigh_fini(&nt);
}

static void
test_static(void)
{
	struct neigh_table nt;
	struct rte_ether_addr m;
	rte_be32_t ip = RTE_BE32(0xc0000202);

	clock_use_fake(HZ, 5);
	neigh_init(&nt, 16, TIMEOUT, RETRY);
	neigh_update(&nt, ip, &mac1, clock_now(), true);
	clock_fake_advance(10 * TIMEOUT);
	CHECK_EQ(neigh_lookup(&nt, ip, clock_now(), &m), NEIGH_OK);
	/* The wire cannot override configuration (ARP spoofing of a static next hop). */
	neigh_update(&nt, ip, &mac2, clock_now(), false);
	neigh_lookup(&nt, ip, clock_now(), &m);
	CHECK(rte_is_same_ether_addr(&m, &mac1));
	neigh_fini(&nt);
}

static void
test_full(void)
{
	struct neigh_table nt;
	struct rte_ether_addr m;
	unsigned ok = 0, full = 0;

	clock_use_fake(HZ, 5);
	neigh_init(&nt, 16, TIMEOUT, RETRY);
	for (uint32_t i = 1; i <= 64; i++) {
		enum neigh_result r = neigh_lookup(&nt, rte_cpu_to_be_32(0x0a000000 + i), clock_now(), &m);

		if (r == NEIGH_FULL)
			full++;
		else
			ok++;
	}
	CHECK_EQ(ok, 16);
	CHECK_EQ(full, 48);
	CHECK(neigh_update(&nt, RTE_BE32(0x0b000001), &mac1, clock_now(), false) < 0);
	neigh_fini(&nt);
}

struct race_arg {
	struct neigh_table *nt;
	unsigned requests;
};

static void *
race(void *p)
{
	struct race_arg *a = p;
	struct rte_ether_addr m;

	for (uint32_t i = 1; i <= 200; i++)
		if (neigh_lookup(a->nt, rte_cpu_to_be_32(0x0a000000 + i), clock_now(), &m) ==
		    NEIGH_MISS_REQUEST)
			a->requests++;
	return NULL;
}

/* Four lcores missing on the same 200 addresses: each address gets one slot and one request. */
static void
test_race(void)
{
	struct neigh_table nt;
	pthread_t th[4];
	struct race_arg a[4];
	unsigned total = 0, used = 0;

	clock_use_fake(HZ, 5);
	neigh_init(&nt, 1024, TIMEOUT, RETRY);
	for (int i = 0; i < 4; i++) {
		a[i] = (struct race_arg){ .nt = &nt };
		pthread_create(&th[i], NULL, race, &a[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += a[i].requests;
	}
	for (uint32_t i = 0; i <= nt.mask; i++)
		used += nt.slots[i].ip != 0;
	CHECK_EQ(total, 200);
	CHECK_EQ(used, 200);
	neigh_fini(&nt);
}

int
main(void)
{
	test_lifecycle();
	test_static();
	test_full();
	test_race();
	return check_summary("neigh");
}
