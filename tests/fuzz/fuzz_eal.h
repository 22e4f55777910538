/* SPDX-License-Identifier: BSD-3-Clause */
/* What every fuzzer that touches mbufs starts with: a minimal EAL and a small mbuf pool. */
#ifndef DPVPN_FUZZ_EAL_H
#define DPVPN_FUZZ_EAL_H

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "fuzz_fail.h"

/* EAL without hugepages, PCI or shared config on lcore 0, and a pool of n mbufs named name. */
static inline struct rte_mempool *
fuzz_eal_init(const char *name, unsigned n)
{
	char *eal[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf", "--log-level=1", "-l", "0" };
	struct rte_mempool *pool;

	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
		FUZZ_FAIL();
	pool = rte_pktmbuf_pool_create(name, n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		FUZZ_FAIL();
	return pool;
}

#endif
