/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client side of perf/pptp/e2e.py: a DPDK program with two ports, a
 * net_memif client facing dpvpn's outside port and a net_tap whose kernel
 * interface lives in the client namespace (where loadgen.py runs).
 *
 *   bridge (always): every frame from the tap goes to memif; every frame
 *     from memif goes to the tap, except GRE v1 frames carrying MPPE data
 *     (PPP 00FD): those are counted and checked here (see "rx" below) and
 *     freed, so the kernel and loadgen never see data traffic. Control
 *     traffic (TCP 1723, ARP, LCP/CHAP/IPCP/CCP in GRE) passes both ways.
 *   decrypt (command): after "load FILE" gave the sessions (dpvpn's call
 *     id, ours, our outer and inner addresses, the next GRE sequence number
 *     and the MS-CHAPv2 master key), generate
 *       Ether | IPv4 (client -> dpvpn, GRE) | GRE v1 (K S, dpvpn's call id,
 *       consecutive seq per session) | FF 03 00 FD | MPPE | ARC4(00 21 | IPv4/UDP)
 *     for the sessions round robin, 32 a burst, encrypted live with
 *     lib/crypto's MPPE sender (the client's send key, RFC 3079), and send
 *     them over memif; a burst memif does not take at once is retried, so
 *     no sequence number is skipped.
 *   rx: GRE data frames from dpvpn are counted per session; checked: outer
 *     IPv4 (dpvpn -> this session's client address, GRE), GRE v1 (K S set,
 *     version 1, protocol 880B, call id = ours, sequence = previous + 1),
 *     PPP FF 03 00 FD and the MPPE D bit.
 *
 * Commands on stdin, one a line, each answered by one JSON line on stdout:
 *   load FILE | decrypt | idle | stats | quit
 * FILE: "key value" lines (server, dpvpn_mac, our_mac, inner_dst, size,
 * stateless) and one line per session:
 *   s PEER_CALL_ID CALL_ID CLIENT_IP ASSIGNED_IP NEXT_SEQ MASTER_KEY_HEX
 *
 *   pptp_peer [EAL] -- [--memif net_memif0] [--tap net_tap0]
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "mppe.h"
#include "pkt.h"

#define BURST 32
#define RX_BURST 256                    /* from memif: the sink must keep up with dpvpn */
#define MAX_SESS 1024
#define ETH_LEN 14
#define IP_LEN 20
#define GRE_LEN 12                      /* K S: flags, protocol, length, call id, seq */
#define PPP_OFF (ETH_LEN + IP_LEN + GRE_LEN)

struct sess {
	uint16_t peer_call_id, call_id;
	rte_be32_t client_ip, addr;
	uint32_t tx_seq;
	struct mppe_state tx;
	uint64_t tx_pkts;
	uint64_t rx_pkts, rx_seq_err;
	uint32_t rx_next;
	bool rx_seen;
};

static struct {
	uint16_t memif, tap;
	struct rte_mempool *mp;
	struct sess s[MAX_SESS];
	unsigned nsess, rr;
	uint16_t by_call_id[65536];     /* our call id -> session index + 1 */
	rte_be32_t server, inner_dst;
	struct rte_ether_addr dpvpn_mac, our_mac;
	unsigned size;
	bool stateless, loaded, generating;
	uint64_t gen_pkts, tx_retries, tx_unsent, mppe_refused, alloc_fail;
	uint64_t rx_gre_data, rx_unknown_call, rx_bad_hdr;
	uint64_t to_tap, to_memif, bridge_drops;
	uint64_t gen_start_tsc, gen_cycles;
} P;

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- rx: what dpvpn sends to the clients ---- */

/* true when m is a GRE v1 frame with MPPE data (counted and checked here). */
static bool
rx_data(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + ETH_LEN);
	const uint8_t *g, *ppp;
	unsigned ihl, off;
	struct sess *S;

	if (m->data_len < PPP_OFF + 6 || rd16(p + 12) != RTE_ETHER_TYPE_IPV4 || ip->next_proto_id != IPPROTO_GRE)
		return false;
	ihl = (ip->version_ihl & 15u) * 4u;
	g = p + ETH_LEN + ihl;
	if ((g[1] & 7) != 1 || m->data_len < ETH_LEN + ihl + 8)
		return false;
	off = 8 + ((g[0] & 0x10) ? 4u : 0u) + ((g[1] & 0x80) ? 4u : 0u);
	if (m->data_len < ETH_LEN + ihl + off + 6)
		return false;
	ppp = g + off;
	if (!(ppp[0] == 0xff && ppp[1] == 0x03 && ppp[2] == 0x00 && ppp[3] == 0xfd) &&
	    !(ppp[0] == 0x00 && ppp[1] == 0xfd))
		return false;           /* LCP, CCP, ...: for loadgen */
	P.rx_gre_data++;
	if (P.by_call_id[rd16(g + 6)] == 0) {
		P.rx_unknown_call++;
		return true;
	}
	S = &P.s[P.by_call_id[rd16(g + 6)] - 1];
	S->rx_pkts++;
	if (ihl != IP_LEN || ip->src_addr != P.server || ip->dst_addr != S->client_ip ||
	    (g[0] & 0x30) != 0x30 || rd16(g + 2) != 0x880b || ppp[0] != 0xff ||
	    !(ppp[4] & MPPE_BIT_ENCRYPTED) || rd16(g + 4) != m->data_len - ETH_LEN - ihl - off) {
		P.rx_bad_hdr++;
		return true;
	}
	if (S->rx_seen && rd32(g + 8) != S->rx_next)
		S->rx_seq_err++;
	S->rx_seen = true;
	S->rx_next = rd32(g + 8) + 1;
	return true;
}

/* ---- bridge ---- */

static unsigned
bridge(void)
{
	struct rte_mbuf *pk[RX_BURST], *out[RX_BURST], *done[RX_BURST];
	unsigned n, k, nout = 0, ndone = 0, sent, work = 0;

	n = rte_eth_rx_burst(P.tap, 0, pk, BURST);
	if (n) {
		sent = rte_eth_tx_burst(P.memif, 0, pk, (uint16_t)n);
		P.to_memif += sent;
		P.bridge_drops += n - sent;
		rte_pktmbuf_free_bulk(pk + sent, n - sent);
		work += n;
	}
	n = rte_eth_rx_burst(P.memif, 0, pk, RX_BURST);
	for (k = 0; k < n; k++) {
		if (rx_data(pk[k]))
			done[ndone++] = pk[k];
		else
			out[nout++] = pk[k];
	}
	rte_pktmbuf_free_bulk(done, ndone);
	if (nout) {
		sent = rte_eth_tx_burst(P.tap, 0, out, (uint16_t)nout);
		P.to_tap += sent;
		P.bridge_drops += nout - sent;
		rte_pktmbuf_free_bulk(out + sent, nout - sent);
	}
	return work + n;
}

/* ---- decrypt: generate the clients' data ---- */

static void
make_inner(uint8_t *p, rte_be32_t src, uint32_t tag)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + IP_LEN);

	pkt_ipv4_write_hdr((struct rte_ipv4_hdr *)p, 0, (uint16_t)P.size, (uint16_t)tag, 64, IPPROTO_UDP, src,
			   P.inner_dst);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(1024 + (tag & 1023)));
	udp->dst_port = RTE_BE16(9);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(P.size - IP_LEN));
	udp->dgram_cksum = 0;
	memset(p + IP_LEN + 8, (int)(tag & 0xff), P.size - IP_LEN - 8);
}

static void
generate_burst(void)
{
	struct rte_mbuf *pk[BURST];
	struct mppe_op ops[BURST];
	const uint16_t ppp_len = (uint16_t)(4 + MPPE_HDR_LEN + 2 + P.size);
	const uint16_t len = (uint16_t)(PPP_OFF + ppp_len);
	unsigned sent = 0, spins = 0;
	uint64_t give_up;

	if (rte_pktmbuf_alloc_bulk(P.mp, pk, BURST) != 0) {
		P.alloc_fail++;
		return;
	}
	for (unsigned k = 0; k < BURST; k++) {
		struct sess *S = &P.s[P.rr];
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(pk[k], len), *g = p + ETH_LEN + IP_LEN, *ppp = p + PPP_OFF;

		P.rr = P.rr + 1 == P.nsess ? 0 : P.rr + 1;
		rte_ether_addr_copy(&P.dpvpn_mac, (struct rte_ether_addr *)p);
		rte_ether_addr_copy(&P.our_mac, (struct rte_ether_addr *)(p + 6));
		wr16(p + 12, RTE_ETHER_TYPE_IPV4);
		pkt_ipv4_write_hdr((struct rte_ipv4_hdr *)(p + ETH_LEN), 0, (uint16_t)(len - ETH_LEN),
				   (uint16_t)S->tx_seq, 64, IPPROTO_GRE, S->client_ip, P.server);
		g[0] = 0x30;            /* K, S */
		g[1] = 0x01;            /* version 1, no ack */
		wr16(g + 2, 0x880b);
		wr16(g + 4, ppp_len);
		wr16(g + 6, S->peer_call_id);
		wr32(g + 8, S->tx_seq++);
		ppp[0] = 0xff;
		ppp[1] = 0x03;
		ppp[2] = 0x00;
		ppp[3] = 0xfd;
		ppp[4 + MPPE_HDR_LEN] = 0x00;
		ppp[4 + MPPE_HDR_LEN + 1] = 0x21;
		make_inner(ppp + 4 + MPPE_HDR_LEN + 2, S->addr, (uint32_t)S->tx_pkts++);
		ops[k] = (struct mppe_op){ .st = &S->tx, .pkt = ppp + 4, .len = MPPE_HDR_LEN + 2 + P.size };
	}
	P.mppe_refused += BURST - mppe_encrypt_burst(ops, BURST);
	P.gen_pkts += BURST;
	give_up = rte_rdtsc() + rte_get_tsc_hz();
	while (sent < BURST) {
		sent += rte_eth_tx_burst(P.memif, 0, pk + sent, (uint16_t)(BURST - sent));
		if (sent < BURST) {
			P.tx_retries++;
			/* keep control traffic moving while memif is full */
			if ((++spins & 63) == 0)
				bridge();
			if (rte_rdtsc() > give_up) {
				P.tx_unsent += BURST - sent;
				rte_pktmbuf_free_bulk(pk + sent, BURST - sent);
				break;
			}
		}
	}
}

/* ---- sessions file ---- */

static int
parse_mac(const char *s, struct rte_ether_addr *a)
{
	return rte_ether_unformat_addr(s, a);
}

static const char *
load(const char *path)
{
	char line[256], k[32], v[128];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return "cannot open the sessions file";
	memset(P.by_call_id, 0, sizeof(P.by_call_id));
	P.nsess = 0;
	P.rr = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned pc, cc, seq;
		char cip[32], aip[32], key[40];

		if (line[0] == 's' && line[1] == ' ') {
			struct sess *S = &P.s[P.nsess];
			uint8_t master[16], start[16];
			struct in_addr a, b;

			if (P.nsess == MAX_SESS ||
			    sscanf(line, "s %u %u %31s %31s %u %39s", &pc, &cc, cip, aip, &seq, key) != 6 ||
			    pc == 0 || pc > 65535 || cc == 0 || cc > 65535 || strlen(key) != 32 ||
			    inet_pton(AF_INET, cip, &a) != 1 || inet_pton(AF_INET, aip, &b) != 1)
				goto bad;
			for (unsigned i = 0; i < 16; i++)
				if (sscanf(key + 2 * i, "%2hhx", &master[i]) != 1)
					goto bad;
			memset(S, 0, sizeof(*S));
			S->peer_call_id = (uint16_t)pc;
			S->call_id = (uint16_t)cc;
			S->client_ip = a.s_addr;
			S->addr = b.s_addr;
			S->tx_seq = seq;
			/* RFC 3079 3.3: the client's send key (is_send, not the server). */
			if (mppe_start_key(master, 16, true, false, start) < 0 ||
			    mppe_state_init(&S->tx, MPPE_DIR_TX, start, 128, P.stateless) < 0)
				goto bad;
			P.by_call_id[cc] = (uint16_t)(++P.nsess);
			continue;
		}
		if (sscanf(line, "%31s %127s", k, v) != 2)
			continue;
		struct in_addr a;
		if (!strcmp(k, "server") && inet_pton(AF_INET, v, &a) == 1)
			P.server = a.s_addr;
		else if (!strcmp(k, "inner_dst") && inet_pton(AF_INET, v, &a) == 1)
			P.inner_dst = a.s_addr;
		else if (!strcmp(k, "dpvpn_mac") && parse_mac(v, &P.dpvpn_mac) == 0)
			;
		else if (!strcmp(k, "our_mac") && parse_mac(v, &P.our_mac) == 0)
			;
		else if (!strcmp(k, "size") && atoi(v) >= 28 && atoi(v) <= 1400)
			P.size = (unsigned)atoi(v);
		else if (!strcmp(k, "stateless"))   /* before the session lines */
			P.stateless = atoi(v) != 0;
		else
			goto bad;
	}
	fclose(f);
	if (P.nsess == 0 || P.server == 0 || P.inner_dst == 0 || P.size == 0)
		return "sessions file incomplete";
	P.loaded = true;
	return NULL;
bad:
	fclose(f);
	P.nsess = 0;
	return "bad line in the sessions file";
}

/* ---- commands ---- */

static void
stats(void)
{
	struct rte_eth_link link;
	uint64_t cyc = P.gen_cycles + (P.generating ? rte_rdtsc() - P.gen_start_tsc : 0);

	rte_eth_link_get_nowait(P.memif, &link);
	printf("{\"memif_up\":%s,\"generating\":%s,\"sessions\":%u,\"gen_pkts\":%" PRIu64 ",\"gen_seconds\":%.6f,"
	       "\"tx_retries\":%" PRIu64 ",\"tx_unsent\":%" PRIu64 ",\"mppe_refused\":%" PRIu64 ",\"alloc_fail\":%" PRIu64
	       ",\"rx_gre_data\":%" PRIu64 ",\"rx_unknown_call\":%" PRIu64 ",\"rx_bad_hdr\":%" PRIu64
	       ",\"to_tap\":%" PRIu64 ",\"to_memif\":%" PRIu64 ",\"bridge_drops\":%" PRIu64 ",\"per_session\":[",
	       link.link_status ? "true" : "false", P.generating ? "true" : "false", P.nsess, P.gen_pkts,
	       (double)cyc / (double)rte_get_tsc_hz(), P.tx_retries, P.tx_unsent, P.mppe_refused, P.alloc_fail,
	       P.rx_gre_data, P.rx_unknown_call, P.rx_bad_hdr, P.to_tap, P.to_memif, P.bridge_drops);
	for (unsigned i = 0; i < P.nsess; i++)
		printf("%s{\"call_id\":%u,\"peer_call_id\":%u,\"tx\":%" PRIu64 ",\"next_seq\":%u,\"rx\":%" PRIu64
		       ",\"rx_seq_err\":%" PRIu64 "}", i ? "," : "", P.s[i].call_id, P.s[i].peer_call_id,
		       P.s[i].tx_pkts, P.s[i].tx_seq, P.s[i].rx_pkts, P.s[i].rx_seq_err);
	printf("]}\n");
	fflush(stdout);
}

static void
reply(const char *err)
{
	if (err)
		printf("{\"ok\":false,\"error\":\"%s\"}\n", err);
	else
		printf("{\"ok\":true}\n");
	fflush(stdout);
}

/* Returns false on quit. */
static bool
command(char *line)
{
	line[strcspn(line, "\r\n")] = '\0';
	if (!strncmp(line, "load ", 5)) {
		reply(P.generating ? "generating" : load(line + 5));
	} else if (!strcmp(line, "decrypt")) {
		if (!P.loaded) {
			reply("no sessions loaded");
		} else {
			P.generating = true;
			P.gen_start_tsc = rte_rdtsc();
			reply(NULL);
		}
	} else if (!strcmp(line, "idle")) {
		if (P.generating)
			P.gen_cycles += rte_rdtsc() - P.gen_start_tsc;
		P.generating = false;
		reply(NULL);
	} else if (!strcmp(line, "stats")) {
		stats();
	} else if (!strcmp(line, "quit")) {
		reply(NULL);
		return false;
	} else {
		reply("unknown command");
	}
	return true;
}

/* Reads whatever stdin has; runs complete lines. Returns false on quit or EOF. */
static bool
poll_stdin(void)
{
	static char buf[4096];
	static size_t have;
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	ssize_t r;
	char *nl;

	if (poll(&pfd, 1, 0) <= 0)
		return true;
	r = read(0, buf + have, sizeof(buf) - 1 - have);
	if (r <= 0)
		return false;
	have += (size_t)r;
	buf[have] = '\0';
	while ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		if (!command(buf))
			return false;
		have -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, have + 1);
	}
	if (have == sizeof(buf) - 1)
		have = 0;               /* a line too long: dropped */
	return true;
}

static int
port_init(const char *name, uint16_t *port)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_get_port_by_name(name, port) != 0) {
		fprintf(stderr, "pptp_peer: no port %s\n", name);
		return -1;
	}
	if (rte_eth_dev_configure(*port, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(*port, 0, 1024, rte_socket_id(), NULL, P.mp) < 0 ||
	    rte_eth_tx_queue_setup(*port, 0, 1024, rte_socket_id(), NULL) < 0 || rte_eth_dev_start(*port) < 0) {
		fprintf(stderr, "pptp_peer: cannot start %s\n", name);
		return -1;
	}
	rte_eth_promiscuous_enable(*port);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *memif = "net_memif0", *tap = "net_tap0";
	static const struct option lo[] = { { "memif", 1, NULL, 'm' }, { "tap", 1, NULL, 't' }, { NULL, 0, NULL, 0 } };
	int c, ret;
	uint64_t next_cmd = 0, iter = 0;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "pptp_peer: EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'm')
			memif = optarg;
		else if (c == 't')
			tap = optarg;
		else
			return 2;
	}
	P.mp = rte_pktmbuf_pool_create("peer", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (P.mp == NULL || port_init(memif, &P.memif) < 0 || port_init(tap, &P.tap) < 0)
		return 1;
	printf("{\"ready\":true}\n");
	fflush(stdout);
	for (;;) {
		unsigned work;

		if (P.generating) {
			generate_burst();
			work = 1 + bridge();
		} else {
			work = bridge();
		}
		/* stdin at most every 2 ms while busy */
		if ((++iter & 255) == 0 || !work) {
			uint64_t now = rte_rdtsc();

			if (now >= next_cmd) {
				next_cmd = now + rte_get_tsc_hz() / 500;
				if (!poll_stdin())
					break;
			}
		}
		if (!work && !P.generating)
			usleep(50);     /* bridging only: leave the CPU to loadgen and the kernel */
	}
	rte_eth_dev_stop(P.memif);
	rte_eth_dev_stop(P.tap);
	rte_eth_dev_close(P.memif);
	rte_eth_dev_close(P.tap);
	rte_eal_cleanup();
	return 0;
}
