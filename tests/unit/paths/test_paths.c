/* SPDX-License-Identifier: BSD-3-Clause */
/* Multi-path tunnels: liveness from received traffic, weighted path choice (fake clock). */
#include <string.h>

#include "check.h"
#include "clock.h"
#include "dpvpn.h"

#define HZ 1000000ULL /* fake ticks: microseconds */

static void
test_liveness(void)
{
	struct tunnel t;

	memset(&t, 0, sizeof(t));
	t.nb_paths = 2;
	t.path_dead_ms = 1000;
	clock_use_fake(HZ, 10 * HZ);
	/* Nothing heard yet: nothing tells the paths apart, both are used. */
	CHECK(tunnel_path_alive(&t, 0, clock_now()) && tunnel_path_alive(&t, 1, clock_now()));
	/* Both heard: both alive. */
	t.paths[0].last_rx = t.paths[1].last_rx = clock_now();
	clock_fake_advance(500000);
	CHECK(tunnel_path_alive(&t, 0, clock_now()) && tunnel_path_alive(&t, 1, clock_now()));
	/* Path 1 falls silent while path 0 keeps talking: dead after a second. */
	for (int i = 0; i < 10; i++) {
		clock_fake_advance(100000);
		t.paths[0].last_rx = clock_now();
	}
	CHECK(tunnel_path_alive(&t, 0, clock_now()));
	CHECK(!tunnel_path_alive(&t, 1, clock_now()));
	/* Its next packet brings it back. */
	t.paths[1].last_rx = clock_now();
	CHECK(tunnel_path_alive(&t, 1, clock_now()));
	/* Both silent for long: both used again (no evidence against either). */
	clock_fake_advance(5 * HZ);
	CHECK(tunnel_path_alive(&t, 0, clock_now()) && tunnel_path_alive(&t, 1, clock_now()));
}

static void
test_weighted(void)
{
	struct tunnel t;
	unsigned count[3] = { 0 }, longest_run = 0, run = 0;
	struct tunnel_path *prev = NULL;

	memset(&t, 0, sizeof(t));
	t.nb_paths = 3;
	t.path_dead_ms = 1000;
	t.paths_mode = TUNNEL_PATHS_WEIGHTED;
	t.paths[0].weight = 1;
	t.paths[1].weight = 3;
	t.paths[2].weight = 4;
	clock_use_fake(HZ, 10 * HZ);
	for (int i = 0; i < 800; i++) {
		struct tunnel_path *p = paths_pick_weighted(&t, clock_now());

		count[p - t.paths]++;
		run = p == prev ? run + 1 : 1;
		longest_run = RTE_MAX(longest_run, run);
		prev = p;
	}
	/* Exact shares, and interleaved rather than in long runs. */
	CHECK_EQ(count[0], 100);
	CHECK_EQ(count[1], 300);
	CHECK_EQ(count[2], 400);
	CHECK(longest_run <= 2);
	/* A dead path gets nothing; the others share by their weights. */
	t.paths[0].last_rx = t.paths[1].last_rx = clock_now();
	t.paths[2].last_rx = clock_now() - 2 * HZ;
	memset(count, 0, sizeof(count));
	for (int i = 0; i < 400; i++)
		count[paths_pick_weighted(&t, clock_now()) - t.paths]++;
	CHECK_EQ(count[2], 0);
	CHECK_EQ(count[0], 100);
	CHECK_EQ(count[1], 300);
}

static void
test_auto_weights(void)
{
	struct tunnel t;

	memset(&t, 0, sizeof(t));
	t.nb_paths = 2;
	t.weights_auto = true;
	t.paths[0].weight = t.paths[1].weight = 1;
	/* Path 0 carries 3x the bytes of path 1, interval after interval. */
	for (int i = 0; i < 40; i++) {
		t.paths[0].interval_bytes = 300 * 1024;
		t.paths[1].interval_bytes = 100 * 1024;
		paths_housekeeping(&t);
	}
	CHECK(t.paths[0].weight >= 295 && t.paths[0].weight <= 300);
	CHECK(t.paths[1].weight >= 97 && t.paths[1].weight <= 100);
	/* A path that carries nothing keeps weight 1, so it can prove itself again. */
	for (int i = 0; i < 40; i++) {
		t.paths[1].interval_bytes = 0;
		paths_housekeeping(&t);
	}
	CHECK_EQ(t.paths[1].weight, 1);
}

int
main(void)
{
	test_liveness();
	test_weighted();
	test_auto_weights();
	return check_summary("paths");
}
