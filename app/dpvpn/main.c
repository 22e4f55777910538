/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpvpn [EAL options] -- -f FILE [--check]
 *
 * Start-up order: EAL, clock, configuration, mbuf pool, tunnel table, worker
 * rings, ports, telemetry; then workers run until SIGINT/SIGTERM, and the
 * final counters are printed.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "clock.h"
#include "dpvpn.h"

static void
on_signal(int sig __rte_unused)
{
	/* With a control thread, it says goodbye to clients first and then stops the workers. */
	__atomic_store_n(&dp.stopping, true, __ATOMIC_RELAXED);
	if (!config_has_servers(&dp.cfg))
		__atomic_store_n(&dp.stop, true, __ATOMIC_RELAXED);
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- -f FILE [--check]\n"
		"  -f, --config FILE  configuration (see docs/configuration.md)\n"
		"  --check            read the configuration, report errors and exit\n"
		"Workers run on the EAL worker lcores (-l 0-2: lcore 0 main, 1-2 workers);\n"
		"with a single lcore the main lcore runs the worker loop.\n",
		prog);
}

static int
setup_workers(void)
{
	unsigned lcore, i = 0;
	int socket = (int)rte_socket_id();

	dp.nb_workers = rte_lcore_count() > 1 ? rte_lcore_count() - 1 : 1;
	dp.workers = rte_zmalloc_socket("workers", sizeof(*dp.workers) * dp.nb_workers,
					RTE_CACHE_LINE_SIZE, socket);
	if (dp.workers == NULL)
		return -1;
	for (i = 0; i < dp.nb_workers; i++) {
		char name[RTE_RING_NAMESIZE];

		dp.workers[i].index = i;
		snprintf(name, sizeof(name), "handoff%u", i);
		/* Many lcores hand packets to one owner: multi-producer, single-consumer. */
		dp.workers[i].handoff = rte_ring_create(name, dp.cfg.handoff_ring, socket, RING_F_SC_DEQ);
		if (dp.workers[i].handoff == NULL) {
			fprintf(stderr, "dpvpn: handoff ring: %s\n", rte_strerror(rte_errno));
			return -1;
		}
	}
	/* Each worker's reorder pool serves windows up to the largest any tunnel asks for. */
	uint32_t max_window = dp.cfg.reorder_window;
	for (unsigned t = 0; t < dp.cfg.nb_tunnels; t++)
		max_window = RTE_MAX(max_window, dp.cfg.tunnels[t]->reorder_conf.size);
	for (i = 0; i < dp.nb_workers; i++) {
		struct reorder_ctx_conf rc = {
			.defaults = { .size = dp.cfg.reorder_window,
				      .hold_us = dp.cfg.reorder_hold_ms * 1000,
				      .adaptive = dp.cfg.reorder_adaptive },
			.max_size = max_window,
			.max_blocks = dp.cfg.reorder_blocks,
			.hz = clock_hz(),
			.socket_id = socket,
		};

		dp.workers[i].reorder = reorder_ctx_create(&rc);
		if (dp.workers[i].reorder == NULL) {
			fprintf(stderr, "dpvpn: reorder pool: %s\n", rte_strerror(rte_errno));
			return -1;
		}
	}
	i = 0;
	if (rte_lcore_count() > 1)
		RTE_LCORE_FOREACH_WORKER(lcore)
			dp.workers[i++].lcore_id = lcore;
	else
		dp.workers[0].lcore_id = rte_get_main_lcore();
	return 0;
}

static int
setup_tunnels(void)
{
	int rc = tunnel_table_init(&dp.tunnels, "tunnels", dp.cfg.max_tunnels, dp.cfg.max_routes,
				   (int)rte_socket_id());

	if (rc < 0) {
		fprintf(stderr, "dpvpn: tunnel table: %s\n", rte_strerror(-rc));
		return -1;
	}
	for (unsigned i = 0; i < dp.cfg.nb_tunnels; i++) {
		struct tunnel *t = dp.cfg.tunnels[i];

		/* Spread tunnels over workers; each is then touched by its owner only. */
		t->worker = (uint16_t)(i % dp.nb_workers);
		if (t->reorder_mode != TUNNEL_REORDER_NONE) {
			rc = reorder_window_init(dp.workers[t->worker].reorder, &t->reorder, &t->reorder_conf);
			if (rc < 0) {
				fprintf(stderr, "%s: [tunnel %u] reorder window: %s\n", dp.cfg.file, t->id,
					rte_strerror(-rc));
				return -1;
			}
		}
		if (t->qos != NULL)
			qos_tunnel_init(t);
		rc = tunnel_table_add(&dp.tunnels, t);
		if (rc < 0) {
			fprintf(stderr, "%s: [tunnel %u] cannot be added: %s\n", dp.cfg.file, t->id,
				rc == -EADDRINUSE ? "one of its routes belongs to another tunnel"
						  : rte_strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/*
 * PPTP and OpenVPN TLS servers: the TAP for their control traffic,
 * quiescent-state tracking for run-time tunnels, the control thread.
 */
static int
setup_sessions(void)
{
	int rc;

	if (!config_has_servers(&dp.cfg))
		return 0;
	rc = tunnel_table_rcu_init(&dp.tunnels, dp.nb_workers);
	if (rc < 0) {
		fprintf(stderr, "dpvpn: tunnel table RCU: %s\n", rte_strerror(-rc));
		return -1;
	}
	if (exception_init() < 0 || sessions_init() < 0)
		return -1;
	return 0;
}

static void
drain_rings(void)
{
	struct rte_mbuf *m = NULL;

	for (unsigned i = 0; i < dp.nb_workers; i++)
		while (rte_ring_dequeue(dp.workers[i].handoff, (void **)&m) == 0)
			rte_pktmbuf_free(m);
}

/* Free 2 MiB or 1 GiB hugepages on a mounted hugetlbfs: what EAL needs to start without --no-huge. */
static bool
hugepages_usable(void)
{
	static const char *const pools[] = {
		"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages",
		"/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages",
	};
	bool free_pages = false, mounted = false;
	char line[512];
	FILE *f;

	for (unsigned i = 0; i < RTE_DIM(pools); i++) {
		unsigned long n = 0;

		f = fopen(pools[i], "r");
		if (f != NULL) {
			free_pages |= fscanf(f, "%lu", &n) == 1 && n > 0;
			fclose(f);
		}
	}
	f = fopen("/proc/mounts", "r");
	if (f != NULL) {
		while (!mounted && fgets(line, sizeof(line), f) != NULL)
			mounted = strstr(line, " hugetlbfs ") != NULL;
		fclose(f);
	}
	return free_pages && mounted;
}

/*
 * Hugepages when they can be had, --no-huge otherwise: without any memory option and without
 * usable hugepages, add "--no-huge -m 1024" so EAL starts instead of failing.
 */
static char **
eal_args_with_memory_fallback(int *argc, char **argv)
{
	static char *no_huge[] = { "--no-huge", "-m", "1024" };
	char **out;
	int n = *argc, eal_end = n;

	for (int i = 1; i < n; i++) {
		if (strcmp(argv[i], "--") == 0) {
			eal_end = i;
			break;
		}
		if (strcmp(argv[i], "--no-huge") == 0 || strcmp(argv[i], "-m") == 0 ||
		    strncmp(argv[i], "--socket-mem", 12) == 0 || strcmp(argv[i], "--in-memory") == 0 ||
		    strncmp(argv[i], "--huge-dir", 10) == 0)
			return argv;
	}
	if (hugepages_usable())
		return argv;
	out = calloc((size_t)n + RTE_DIM(no_huge) + 1, sizeof(*out));
	if (out == NULL)
		return argv;
	memcpy(out, argv, sizeof(*out) * (size_t)eal_end);
	memcpy(out + eal_end, no_huge, sizeof(no_huge));
	memcpy(out + eal_end + RTE_DIM(no_huge), argv + eal_end, sizeof(*out) * (size_t)(n - eal_end));
	*argc = n + (int)RTE_DIM(no_huge);
	fprintf(stderr, "dpvpn: no usable hugepages: running with --no-huge -m 1024 "
			"(see docs/operations.md to reserve hugepages)\n");
	return out;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct rte_mbuf_dynfield meta_desc = {
		.name = "dpvpn_handoff_meta",
		.size = sizeof(struct handoff_meta),
		.align = __alignof__(struct handoff_meta),
	};
	const char *file = NULL;
	bool check_only = false;
	int ret, opt, rc = EXIT_FAILURE;

	argv = eal_args_with_memory_fallback(&argc, argv);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "dpvpn: EAL init failed: %s\n", rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			file = optarg;
			break;
		case 'c':
			check_only = true;
			break;
		default:
			usage("dpvpn");
			goto out_eal;
		}
	}
	if (file == NULL) {
		usage("dpvpn");
		goto out_eal;
	}
	clock_init(rte_get_tsc_hz());
	dp.start_tsc = clock_now();
	if (config_load(file, &dp.cfg) < 0)
		goto out_eal;
	if (check_only) {
		printf("%s: configuration OK (%u tunnels)\n", file, dp.cfg.nb_tunnels);
		rc = EXIT_SUCCESS;
		goto out_cfg;
	}
	dp.pool = rte_pktmbuf_pool_create("mbufs", dp.cfg.mbufs, dp.cfg.mbuf_cache, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (dp.pool == NULL) {
		fprintf(stderr, "%s: [dpvpn] mbufs: cannot allocate %u mbufs: %s (lower mbufs or give EAL more memory with -m)\n",
			file, dp.cfg.mbufs, rte_strerror(rte_errno));
		goto out_cfg;
	}
	dp.handoff_dynfield = rte_mbuf_dynfield_register(&meta_desc);
	if (dp.handoff_dynfield < 0 || fq_codel_dynfield_register() < 0 || setup_workers() < 0 || setup_tunnels() < 0 ||
	    ports_init() < 0 || setup_sessions() < 0 || telemetry_init() < 0)
		goto out_ports;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("dpvpn: running: %u worker(s), %u tunnel(s), outside %s, inside %s\n", dp.nb_workers,
	       dp.tunnels.count, dp.ports[PORT_OUTSIDE].name, dp.ports[PORT_INSIDE].name);
	fflush(stdout);

	if (rte_lcore_count() > 1) {
		for (unsigned i = 0; i < dp.nb_workers; i++)
			rte_eal_remote_launch(worker_main, &dp.workers[i], dp.workers[i].lcore_id);
		while (!__atomic_load_n(&dp.stop, __ATOMIC_RELAXED))
			usleep(100000);
		rte_eal_mp_wait_lcore();
	} else {
		worker_main(&dp.workers[0]);
	}
	printf("dpvpn: stopping\n");
	print_final_counters(stdout);
	rc = EXIT_SUCCESS;
out_ports:
	__atomic_store_n(&dp.stop, true, __ATOMIC_RELAXED);
	sessions_fini();
	exception_fini();
	ports_stop();
	if (dp.workers != NULL) {
		drain_rings();
		for (unsigned i = 0; i < dp.nb_workers; i++) {
			rte_ring_free(dp.workers[i].handoff);
			/* Packets still waiting in windows are freed (counted "freed"). */
			reorder_ctx_free(dp.workers[i].reorder);
		}
	}
	/* Packets still queued behind shapers are dropped (counted qos_overlimit). */
	for (unsigned i = 0; i < dp.cfg.nb_tunnels; i++)
		qos_tunnel_fini(dp.cfg.tunnels[i]);
	if (dp.pool != NULL) {
		/* Every mbuf must be back: a leak shows here and fails the tests. */
		printf("dpvpn: mbufs in use after shutdown: %u\n", rte_mempool_in_use_count(dp.pool));
		rte_mempool_free(dp.pool);
	}
	tunnel_table_fini(&dp.tunnels);
	rte_free(dp.workers);
out_cfg:
	config_free(&dp.cfg);
out_eal:
	rte_eal_cleanup();
	return rc;
}
