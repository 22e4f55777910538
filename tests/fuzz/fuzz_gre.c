/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the outside parsers: IPv4 checks, ARP, GRE classify
 * and decap on real mbufs, ICMP errors about the packet. Any crash, sanitizer
 * report or leaked mbuf fails.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "fuzz_eal.h"
#include "gre.h"

static struct rte_mempool *pool;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pool = fuzz_eal_init("fuzz", 255);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gre_tunnel g;
	static struct tunnel t = { .ops = &gre_ops, .priv = &g };
	struct rte_mbuf *m, *err;
	struct rte_ipv4_hdr *ip;
	struct tunnel_key k;
	struct tunnel_rx rx;
	uint16_t l4;

	if (size < 1 || size > 2000)
		return 0;
	/* The first byte picks the tunnel's options. */
	g.has_ikey = data[0] & 1;
	g.seq = data[0] & 2;
	g.csum = data[0] & 4;
	data++;
	size--;
	m = rte_pktmbuf_alloc(pool);
	memcpy(rte_pktmbuf_append(m, (uint16_t)size), data, size);
	pkt_arp_check(rte_pktmbuf_mtod(m, struct rte_arp_hdr *), (uint32_t)size);
	ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	if (pkt_ipv4_check(ip, (uint32_t)size, true) == DROP_MAX) {
		err = pkt_icmp_error(m, pool, PKT_ICMP_TIME_EXCEEDED, 0, 0, RTE_BE32(0x0a000001));
		rte_pktmbuf_free(err);
		l4 = pkt_ipv4_hdr_len(ip);
		memset(&k, 0, sizeof(k));
		if (gre_ops.classify(m, ip, l4, &k) == DROP_MAX &&
		    gre_ops.decap(&t, m, l4, &rx) == DROP_MAX &&
		    pkt_ipv4_check(rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), rte_pktmbuf_pkt_len(m),
				   true) == DROP_MAX)
			gre_ops.encap(&t, m);
	}
	rte_pktmbuf_free(m);
	if (rte_mempool_in_use_count(pool) != 0)
		abort(); /* an mbuf leaked */
	return 0;
}
