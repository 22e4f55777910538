/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for drivers/openvpn. The first input byte picks what the
 * rest is:
 *   0: the text of a static key file (ovpn_static_key_parse);
 *   1: a UDP datagram for classify and decap (mostly refused by the HMAC);
 *   2: a payload sent through encap by the client's tunnel and received by
 *      decap on the server's, which must give back the same bytes, or a
 *      consumed keepalive, fragment, or non-IPv4 late drop; a flipped bit
 *      chosen by the input must then be refused;
 *   3: a sequence of fragment headers and sizes for the reassembly.
 * Any crash, sanitizer report, broken round trip or leaked mbuf fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "data_channel.h"
#include "openvpn.h"

static struct rte_mempool *pool;
static struct tunnel server, client, fserver;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct kv {
	const char *k, *v;
};

static const char *
kv_get(const struct tunnel_conf *c, const char *key)
{
	for (const struct kv *e = c->ctx; e->k != NULL; e++)
		if (strcmp(e->k, key) == 0)
			return e->v;
	return NULL;
}

static int
kv_error(const struct tunnel_conf *c, const char *key, const char *fmt, ...)
{
	(void)c;
	(void)key;
	(void)fmt;
	return -1;
}

static void
configure(struct tunnel *t, const struct kv *table, const char *file)
{
	struct tunnel_conf c = { .get = kv_get, .error = kv_error, .ctx = (void *)table, .file = file };

	t->ops = &openvpn_ops;
	t->peer = RTE_BE32(0xc0000202);
	t->local = RTE_BE32(0xc0000201);
	if (openvpn_ops.configure(t, &c) < 0)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf", "--log-level=1", "-l", "0" };
	static const struct kv s[] = { { "secret", "k.key" }, { "key_direction", "0" }, { NULL, NULL } };
	static const struct kv c[] = { { "secret", "k.key" }, { "key_direction", "1" }, { NULL, NULL } };
	static const struct kv f[] = { { "secret", "k.key" }, { "key_direction", "0" }, { "fragment", "1300" },
				       { NULL, NULL } };
	static char dir[] = "/tmp/dpvpn-fuzz-ovpn-XXXXXX";
	char path[128], file[128];
	FILE *fp;

	(void)argc;
	(void)argv;
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL || mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/k.key", dir);
	snprintf(file, sizeof(file), "%s/dpvpn.ini", dir);
	fp = fopen(path, "w");
	if (fp == NULL)
		abort();
	fputs("-----BEGIN OpenVPN Static key V1-----\n", fp);
	for (int line = 0; line < 16; line++) {
		for (int i = 0; i < 16; i++)
			fprintf(fp, "%02x", (line * 16 + i) * 29 & 0xff);
		fputc('\n', fp);
	}
	fputs("-----END OpenVPN Static key V1-----\n", fp);
	fclose(fp);
	configure(&server, s, file);
	configure(&client, c, file);
	configure(&fserver, f, file);
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct rte_mbuf *
mbuf_with(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	if (m == NULL)
		abort();
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)size);
	if (p == NULL)
		abort();
	memcpy(p, data, size);
	return m;
}

/* The outer IPv4 header the app would have checked in front of the UDP datagram. */
static uint16_t
add_outer(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));

	if (ip == NULL)
		abort();
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->src_addr = RTE_BE32(0xc0000202);
	ip->dst_addr = RTE_BE32(0xc0000201);
	return sizeof(*ip);
}

static void
round_trip(struct tunnel *rx_t, const uint8_t *data, size_t size)
{
	struct rte_mbuf *m = mbuf_with(data + 1, size - 1);
	struct tunnel_rx rx = { 0 };
	uint32_t before = ((struct ovpn_tunnel *)client.priv)->tx_pid;
	enum drop_reason r;

	if (openvpn_ops.encap(&client, m) != DROP_MAX)
		abort();
	if (((struct ovpn_tunnel *)client.priv)->tx_pid != before + 1)
		abort();
	add_outer(m);
	if (data[0] & 0x80) {
		/* One flipped bit anywhere in the datagram after the UDP header: never accepted. */
		uint32_t at = 20 + 8 + (uint32_t)(data[0] & 0x7f) * 7 % (rte_pktmbuf_pkt_len(m) - 28);

		rte_pktmbuf_mtod(m, uint8_t *)[at] ^= 1;
		r = openvpn_ops.decap(rx_t, m, 20, &rx);
		if (r != DROP_OVPN_BAD_HMAC)
			abort();
	} else {
		r = openvpn_ops.decap(rx_t, m, 20, &rx);
		if (r != DROP_MAX || !rx.has_seq || rx.seq != before + 1)
			abort();
		/* A whole payload comes back byte for byte unless the driver consumed or refused it. */
		if (rx_t == &server && rx.late_drop == 0 &&
		    (rte_pktmbuf_pkt_len(m) != size - 1 ||
		     memcmp(rte_pktmbuf_mtod(m, uint8_t *), data + 1, size - 1) != 0))
			abort();
	}
	rte_pktmbuf_free(m);
}

static void
fragments(const uint8_t *data, size_t size)
{
	static struct ovpn_frag f = { .ttl_ticks = 100 };
	uint64_t now = 1;

	/* Records of 4 header bytes and 2 length bytes; the data is whatever follows. */
	while (size >= 6) {
		const uint8_t *out;
		uint32_t out_len, len = (uint32_t)(data[4] << 8 | data[5]) % 1700;

		if (ovpn_frag_input(&f, ovpn_get_be32(data), data, len < size ? len : (uint32_t)size, now, &out,
				    &out_len) == OVPN_FRAG_DONE && out_len > OVPN_FRAG_DATAGRAM_MAX)
			abort();
		ovpn_frag_expire(&f, now);
		now += data[5] & 0x3f;
		data += 6;
		size -= 6;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[OVPN_STATIC_KEY_LEN];
	char err[128];
	struct rte_mbuf *m;
	struct tunnel_key k;
	struct tunnel_rx rx = { 0 };

	if (size < 2 || size > 1400)
		return 0;
	switch (data[0] & 3) {
	case 0:
		ovpn_static_key_parse((const char *)data + 1, size - 1, key, err, sizeof(err));
		break;
	case 1:
		m = mbuf_with(data + 1, size - 1);
		add_outer(m);
		if (openvpn_ops.classify(m, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), 20, &k) == DROP_MAX)
			openvpn_ops.decap((data[0] & 4) ? &fserver : &server, m, 20, &rx);
		rte_pktmbuf_free(m);
		break;
	case 2:
		round_trip((data[0] & 4) ? &fserver : &server, data + 1, size - 1);
		break;
	default:
		fragments(data + 1, size - 1);
	}
	if (rte_mempool_in_use_count(pool) != 0)
		abort(); /* an mbuf leaked */
	return 0;
}
