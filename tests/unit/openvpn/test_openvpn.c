/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers/openvpn: the static key file parser, key direction, the data
 * channel's padding/length/time rules, and encap -> decap on mbufs with
 * every encapsulated packet also checked by OpenSSL (AES-CBC + HMAC), the
 * independent implementation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "check.h"
#include "data_channel.h"
#include "eal.h"
#include "openvpn.h"

static struct rte_mempool *pool;
static uint8_t file_key[OVPN_STATIC_KEY_LEN];
static char key_text[2048];

/* A key file as openvpn --genkey writes it: # header, BEGIN, 16 lines of 32 hex digits, END. */
static void
make_key_text(const char *eol)
{
	char *p = key_text;

	for (unsigned i = 0; i < OVPN_STATIC_KEY_LEN; i++)
		file_key[i] = (uint8_t)(i * 37 + 11);
	p += sprintf(p, "#%s# 2048 bit OpenVPN static key%s#%s-----BEGIN OpenVPN Static key V1-----%s",
		     eol, eol, eol, eol);
	for (unsigned line = 0; line < 16; line++) {
		for (unsigned i = 0; i < 16; i++)
			p += sprintf(p, "%02x", file_key[line * 16 + i]);
		p += sprintf(p, "%s", eol);
	}
	sprintf(p, "-----END OpenVPN Static key V1-----%s", eol);
}

static int
parse(const char *text, uint8_t *key, char *err)
{
	return ovpn_static_key_parse(text, strlen(text), key, err, 160);
}

static void
test_key_file(void)
{
	uint8_t key[OVPN_STATIC_KEY_LEN];
	char err[160], bad[2048];

	make_key_text("\n");
	CHECK_EQ(parse(key_text, key, err), 0);
	CHECK(memcmp(key, file_key, sizeof(key)) == 0);
	make_key_text("\r\n");
	CHECK_EQ(parse(key_text, key, err), 0);
	CHECK(memcmp(key, file_key, sizeof(key)) == 0);

	/* A non-hex digit on line 7 (4 header lines, then key line 3). */
	make_key_text("\n");
	strcpy(bad, key_text);
	{
		char *l = bad;

		for (int i = 0; i < 6; i++)
			l = strchr(l, '\n') + 1;
		l[5] = 'g';
	}
	CHECK_EQ(parse(bad, key, err), -1);
	CHECK(strncmp(err, "line 7: 'g'", 11) == 0);
	CHECK_EQ(key[0], 0); /* wiped */

	/* One line short: 240 bytes. */
	make_key_text("\n");
	strcpy(bad, key_text);
	{
		char *l = strstr(bad, "-----END");
		char *prev = l - 33;

		memmove(prev, l, strlen(l) + 1);
	}
	CHECK_EQ(parse(bad, key, err), -1);
	CHECK(strstr(err, "240 bytes") != NULL);
	CHECK(strncmp(err, "line 20:", 8) == 0);

	CHECK_EQ(parse("just text\n", key, err), -1);
	CHECK(strncmp(err, "line 1: expected", 16) == 0);
	CHECK_EQ(parse("# only a comment\n", key, err), -1);
	CHECK(strstr(err, "no '-----BEGIN") != NULL);
	make_key_text("\n");
	*strstr(key_text, "-----END") = '\0';
	CHECK_EQ(parse(key_text, key, err), -1);
	CHECK(strncmp(err, "line 4:", 7) == 0 && strstr(err, "without") != NULL);
	make_key_text("\n");
	strcat(key_text, "trailing\n");
	CHECK_EQ(parse(key_text, key, err), -1);
	CHECK(strncmp(err, "line 22: text after", 19) == 0);
}

static void
test_key_direction(void)
{
	const uint8_t *k = file_key;
	struct ovpn_key_pair p;

	p = ovpn_static_key_select(k, OVPN_KEY_DIR_NORMAL, 1);
	CHECK(p.cipher == k && p.hmac == k + 64);
	p = ovpn_static_key_select(k, OVPN_KEY_DIR_NORMAL, 0);
	CHECK(p.cipher == k + 128 && p.hmac == k + 192);
	p = ovpn_static_key_select(k, OVPN_KEY_DIR_INVERSE, 1);
	CHECK(p.cipher == k + 128 && p.hmac == k + 192);
	p = ovpn_static_key_select(k, OVPN_KEY_DIR_INVERSE, 0);
	CHECK(p.cipher == k && p.hmac == k + 64);
	p = ovpn_static_key_select(k, OVPN_KEY_DIR_BIDIRECTIONAL, 0);
	CHECK(p.cipher == k && p.hmac == k + 64);
	p = ovpn_static_key_select(k, OVPN_KEY_DIR_BIDIRECTIONAL, 1);
	CHECK(p.cipher == k && p.hmac == k + 64);
}

static void
test_rules(void)
{
	uint8_t b[48];

	for (uint32_t n = 0; n < 64; n++) {
		uint32_t pad = ovpn_pad_len(n);

		CHECK((n + pad) % 16 == 0 && pad >= 1 && pad <= 16);
	}
	memset(b, 0xaa, sizeof(b));
	memset(b + 32, 16, 16);
	CHECK_EQ(ovpn_pad_check(b, 48), 16);
	memset(b + 40, 8, 8);
	CHECK_EQ(ovpn_pad_check(b, 48), 8);
	b[41] = 7;
	CHECK_EQ(ovpn_pad_check(b, 48), 0);
	b[47] = 0;
	CHECK_EQ(ovpn_pad_check(b, 48), 0);
	b[47] = 17;
	CHECK_EQ(ovpn_pad_check(b, 48), 0);
	b[15] = 16;
	CHECK_EQ(ovpn_pad_check(b, 8), 0); /* pad longer than the data */

	CHECK(!ovpn_length_ok(32 + 16 + 15, 32));
	CHECK(ovpn_length_ok(32 + 16 + 16, 32));
	CHECK(!ovpn_length_ok(32 + 16 + 17, 32));
	CHECK(ovpn_length_ok(20 + 16 + 48, 20));
	CHECK(!ovpn_length_ok(10, 32));

	CHECK_EQ(ovpn_time_check(0, 5), OVPN_TIME_NEWER);
	CHECK_EQ(ovpn_time_check(5, 5), OVPN_TIME_SAME);
	CHECK_EQ(ovpn_time_check(6, 5), OVPN_TIME_OLDER);

	CHECK(ovpn_is_ping(ovpn_ping_payload, 16));
	CHECK(!ovpn_is_ping(ovpn_ping_payload, 15));
}

/* tunnel_conf over a small key=value table. */
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

static char last_error[256];

static int
kv_error(const struct tunnel_conf *c, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	(void)c;
	n = snprintf(last_error, sizeof(last_error), "%s: ", key);
	va_start(ap, fmt);
	vsnprintf(last_error + n, sizeof(last_error) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
configure(struct tunnel *t, const struct kv *table, const char *file)
{
	struct tunnel_conf c = { .get = kv_get, .error = kv_error, .ctx = (void *)table, .file = file };

	memset(t, 0, sizeof(*t));
	t->ops = &openvpn_ops;
	t->peer = RTE_BE32(0xc0000202);
	t->local = RTE_BE32(0xc0000201);
	return openvpn_ops.configure(t, &c);
}

/* OpenSSL's view of an encapsulated packet: HMAC, then AES-CBC decrypt without padding removal. */
static int
openssl_open(const uint8_t *p, uint32_t len, const uint8_t *ck, unsigned ck_len, const uint8_t *hk,
	     unsigned hk_len, const EVP_MD *md, uint8_t *plain)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;

	HMAC(md, hk, (int)hk_len, p + hk_len, len - hk_len, mac, &mac_len);
	ok = mac_len == hk_len && memcmp(mac, p, hk_len) == 0;
	EVP_DecryptInit_ex(ctx, ck_len == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc(), NULL, ck,
			   p + hk_len);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	ok = ok && EVP_DecryptUpdate(ctx, plain, &n1, p + hk_len + 16, (int)(len - hk_len - 16)) == 1 &&
	     EVP_DecryptFinal_ex(ctx, plain + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? n1 + n2 : -1;
}

static struct rte_mbuf *
inner_packet(uint16_t len, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);

	memset(p, fill, len);
	p[0] = 0x45;
	return m;
}

/* Puts the outer IPv4 header in front, as the app does before decap sees the packet. */
static uint16_t
add_outer(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));

	if (ip == NULL)
		abort();
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->src_addr = RTE_BE32(0xc0000202);
	ip->dst_addr = RTE_BE32(0xc0000201);
	return sizeof(*ip);
}

static void
test_roundtrip(const char *dir, const char *cipher, const char *auth)
{
	const struct kv server_conf[] = { { "secret", "k.key" }, { "key_direction", "0" },
					  { "cipher", cipher }, { "auth", auth }, { NULL, NULL } };
	const struct kv client_conf[] = { { "secret", "k.key" }, { "key_direction", "1" },
					  { "cipher", cipher }, { "auth", auth }, { NULL, NULL } };
	char file[512];
	struct tunnel server, client;
	const bool sha1 = strcasecmp(auth, "SHA1") == 0, aes128 = strcasecmp(cipher, "AES-128-CBC") == 0;
	const unsigned hl = sha1 ? 20 : 32, kl = aes128 ? 16 : 32;
	uint32_t first_pid = 0;

	snprintf(file, sizeof(file), "%s/dpvpn.ini", dir);
	CHECK_EQ(configure(&server, server_conf, file), 0);
	CHECK_EQ(configure(&client, client_conf, file), 0);
	CHECK_EQ(server.overhead, 8 + hl + 16 + 8 + 16);
	for (uint16_t len = 20; len <= 1400; len = (uint16_t)(len * 3 + 1)) {
		struct rte_mbuf *m = inner_packet(len, (uint8_t)len);
		struct tunnel_rx rx = { 0 };
		uint8_t plain[2048], expect[2048];
		const uint8_t *udp;
		uint32_t ulen;
		struct tunnel_key k1, k2;
		int n;

		memcpy(expect, rte_pktmbuf_mtod(m, uint8_t *), len);
		CHECK_EQ(openvpn_ops.encap(&server, m), DROP_MAX);
		udp = rte_pktmbuf_mtod(m, const uint8_t *);
		ulen = rte_pktmbuf_pkt_len(m);
		CHECK_EQ((udp[4] << 8 | udp[5]), ulen);
		CHECK_EQ((udp[0] << 8 | udp[1]), 1194);
		CHECK_EQ((ulen - 8 - hl - 16) % 16, 0);
		/* Server sends with key 0 (cipher at 0, HMAC at 64): OpenSSL must agree. */
		n = openssl_open(udp + 8, ulen - 8, file_key, kl, file_key + 64, hl,
				 sha1 ? EVP_sha1() : EVP_sha256(), plain);
		CHECK(n > 0);
		if (n > 0) {
			uint32_t pad = plain[n - 1];

			CHECK(pad >= 1 && pad <= 16);
			CHECK_EQ((uint32_t)n - pad - 8, len);
			CHECK(memcmp(plain + 8, expect, len) == 0);
			if (first_pid == 0)
				first_pid = ovpn_get_be32(plain);
		}
		/* The client (direction 1) receives with key 0: its decap takes the packet. */
		add_outer(m);
		openvpn_ops.key(&client, &k1);
		CHECK_EQ(openvpn_ops.classify(m, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), 20, &k2), DROP_MAX);
		/* Ports and addresses as the server wrote them: the server's view of the key. */
		openvpn_ops.key(&server, &k1);
		CHECK_EQ(k1.proto_key, k2.proto_key);
		CHECK_EQ(openvpn_ops.decap(&client, m, 20, &rx), DROP_MAX);
		CHECK(rx.has_seq && rx.late_drop == 0);
		CHECK_EQ(rte_pktmbuf_pkt_len(m), len);
		CHECK(memcmp(rte_pktmbuf_mtod(m, uint8_t *), expect, len) == 0);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(first_pid, 1);

	/* The server cannot read its own packets: direction 0 receives with key 1. */
	{
		struct rte_mbuf *m = inner_packet(100, 1);
		struct tunnel_rx rx = { 0 };

		CHECK_EQ(openvpn_ops.encap(&server, m), DROP_MAX);
		add_outer(m);
		CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_OVPN_BAD_HMAC);
		rte_pktmbuf_free(m);
	}
	/* A keepalive: consumed after the window, numbered. */
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		struct tunnel_rx rx = { 0 };

		memcpy(rte_pktmbuf_append(m, OVPN_PING_LEN), ovpn_ping_payload, OVPN_PING_LEN);
		CHECK_EQ(openvpn_ops.encap(&client, m), DROP_MAX);
		add_outer(m);
		CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_MAX);
		CHECK(rx.has_seq && rx.late_drop == TUNNEL_RX_CONSUMED);
		rte_pktmbuf_free(m);
	}
	/* Flip one ciphertext bit: the HMAC catches it. Truncate: malformed. */
	{
		struct rte_mbuf *m = inner_packet(100, 2);
		struct tunnel_rx rx = { 0 };

		CHECK_EQ(openvpn_ops.encap(&client, m), DROP_MAX);
		rte_pktmbuf_mtod(m, uint8_t *)[8 + hl + 16 + 3] ^= 1;
		add_outer(m);
		CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_OVPN_BAD_HMAC);
		rte_pktmbuf_free(m);
		m = inner_packet(100, 2);
		CHECK_EQ(openvpn_ops.encap(&client, m), DROP_MAX);
		rte_pktmbuf_mtod(m, uint8_t *)[5] -= 1; /* UDP length one short: not whole blocks */
		add_outer(m);
		CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_OVPN_MALFORMED);
		rte_pktmbuf_mtod(m, uint8_t *)[20 + 5] += 2; /* past the end */
		CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_UDP_TRUNCATED);
		rte_pktmbuf_free(m);
	}
	/* The peer restarts: a later time restarts the numbering; the old time is a replay. */
	{
		struct ovpn_tunnel *co = client.priv, *so = server.priv;
		uint32_t old_time = co->tx_time;
		struct rte_mbuf *m;
		struct tunnel_rx rx = { 0 };

		co->tx_time = old_time + 5;
		co->tx_pid = 0;
		m = inner_packet(60, 3);
		CHECK_EQ(openvpn_ops.encap(&client, m), DROP_MAX);
		add_outer(m);
		CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_MAX);
		CHECK(rx.restart && rx.seq == 1);
		CHECK_EQ(so->peer_restarts, 1);
		rte_pktmbuf_free(m);
		co->tx_time = old_time;
		m = inner_packet(60, 3);
		memset(&rx, 0, sizeof(rx));
		CHECK_EQ(openvpn_ops.encap(&client, m), DROP_MAX);
		add_outer(m);
		CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_OVPN_REPLAY);
		rte_pktmbuf_free(m);
	}
	openvpn_ops.destroy(&server);
	openvpn_ops.destroy(&client);
}

/* Bursts of packets of two tunnels through encap_burst and decap_burst, one bad in the middle. */
static void
test_burst(const char *dir)
{
	const struct kv s256[] = { { "secret", "k.key" }, { "key_direction", "0" }, { NULL, NULL } };
	const struct kv c256[] = { { "secret", "k.key" }, { "key_direction", "1" }, { NULL, NULL } };
	const struct kv s128[] = { { "secret", "k.key" }, { "key_direction", "0" }, { "cipher", "AES-128-CBC" },
				   { "auth", "SHA1" }, { "port", "1195" }, { NULL, NULL } };
	const struct kv c128[] = { { "secret", "k.key" }, { "key_direction", "1" }, { "cipher", "AES-128-CBC" },
				   { "auth", "SHA1" }, { "port", "1195" }, { NULL, NULL } };
	struct tunnel srv[2], cli[2];
	struct tunnel *ts[48], *tc[48];
	struct rte_mbuf *m[48];
	uint8_t expect[48][300];
	uint16_t l4[48];
	struct tunnel_rx rx[48];
	enum drop_reason r[48];
	char file[512];

	snprintf(file, sizeof(file), "%s/dpvpn.ini", dir);
	CHECK_EQ(configure(&srv[0], s256, file) | configure(&cli[0], c256, file) |
		 configure(&srv[1], s128, file) | configure(&cli[1], c128, file), 0);
	for (unsigned i = 0; i < 48; i++) {
		uint16_t len = (uint16_t)(20 + i * 5);

		ts[i] = &cli[i % 3 == 0];
		tc[i] = &srv[i % 3 == 0];
		m[i] = inner_packet(len, (uint8_t)i);
		memcpy(expect[i], rte_pktmbuf_mtod(m[i], uint8_t *), len);
	}
	openvpn_ops.encap_burst(ts, m, r, 48);
	for (unsigned i = 0; i < 48; i++) {
		CHECK_EQ(r[i], DROP_MAX);
		l4[i] = add_outer(m[i]);
	}
	rte_pktmbuf_mtod(m[17], uint8_t *)[20 + 8 + 40] ^= 0x80; /* one forged packet */
	memset(rx, 0, sizeof(rx));
	openvpn_ops.decap_burst(tc, m, l4, rx, r, 48);
	for (unsigned i = 0; i < 48; i++) {
		if (i == 17) {
			CHECK_EQ(r[i], DROP_OVPN_BAD_HMAC);
		} else {
			CHECK_EQ(r[i], DROP_MAX);
			CHECK_EQ(rte_pktmbuf_pkt_len(m[i]), 20 + i * 5);
			CHECK(memcmp(rte_pktmbuf_mtod(m[i], uint8_t *), expect[i], 20 + i * 5) == 0);
		}
		rte_pktmbuf_free(m[i]);
	}
	/* Packet-ids per tunnel in order of the burst: 16 for one tunnel, 32 for the other. */
	CHECK_EQ(rx[45].seq, 16);
	CHECK_EQ(rx[47].seq, 32);
	for (unsigned i = 0; i < 2; i++) {
		openvpn_ops.destroy(&srv[i]);
		openvpn_ops.destroy(&cli[i]);
	}
}

static uint32_t
frag_hdr(uint32_t type, uint32_t seq_id, uint32_t n, uint32_t last_size)
{
	return type | seq_id << 2 | n << 10 | (last_size >> 2) << 15;
}

/* fragment.c alone: order, loss, bad headers, bounded slots, expiry. */
static void
test_fragment_reassembly(void)
{
	struct ovpn_frag *f = calloc(1, sizeof(*f));
	uint8_t d[1500];
	const uint8_t *out;
	uint32_t out_len;

	for (unsigned i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 7);
	f->ttl_ticks = 1000;
	/* 1500 bytes in fragments of 400: 0, 1, 2 of 400 and the last (3) of 300, in order 2, 0, 3, 1. */
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(1, 9, 2, 0), d + 800, 400, 10, &out, &out_len), OVPN_FRAG_HELD);
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(1, 9, 0, 0), d, 400, 11, &out, &out_len), OVPN_FRAG_HELD);
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(2, 9, 3, 400), d + 1200, 300, 12, &out, &out_len), OVPN_FRAG_HELD);
	/* A fragment of another datagram meanwhile. */
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(1, 10, 0, 0), d, 400, 12, &out, &out_len), OVPN_FRAG_HELD);
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(1, 9, 1, 0), d + 400, 400, 13, &out, &out_len), OVPN_FRAG_DONE);
	CHECK_EQ(out_len, 1500);
	CHECK(memcmp(out, d, 1500) == 0);
	CHECK_EQ(f->reassembled, 1);
	/* A one-fragment datagram: last with n = 0. */
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(2, 11, 0, 400), d, 100, 14, &out, &out_len), OVPN_FRAG_DONE);
	CHECK_EQ(out_len, 100);
	/* Bad: whole or test type, size not a multiple of 4, longer than its size, past the buffer. */
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(0, 1, 0, 0), d, 10, 15, &out, &out_len), OVPN_FRAG_BAD);
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(3, 1, 0, 0), d, 10, 15, &out, &out_len), OVPN_FRAG_BAD);
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(1, 1, 0, 0), d, 10, 15, &out, &out_len), OVPN_FRAG_BAD);
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(2, 1, 0, 100), d, 200, 15, &out, &out_len), OVPN_FRAG_BAD);
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(1, 1, 31, 0), d, 400, 15, &out, &out_len), OVPN_FRAG_BAD);
	/* Seq 10 still waits; 4 more datagrams start: the oldest (10) is given up for the last. */
	for (uint32_t q = 20; q < 24; q++)
		CHECK_EQ(ovpn_frag_input(f, frag_hdr(1, q, 0, 0), d, 400, 20 + q, &out, &out_len), OVPN_FRAG_HELD);
	CHECK_EQ(f->given_up, 1);
	/* Its last fragment now starts a fresh datagram under seq 10: not complete. */
	CHECK_EQ(ovpn_frag_input(f, frag_hdr(2, 10, 1, 400), d + 400, 10, 50, &out, &out_len), OVPN_FRAG_HELD);
	CHECK_EQ(f->given_up, 2);
	/* Expiry: everything older than 1000 ticks goes. */
	CHECK_EQ(ovpn_frag_expire(f, 1000), 0);
	CHECK_EQ(ovpn_frag_expire(f, 1060), 4);
	for (unsigned i = 0; i < OVPN_FRAG_SLOTS; i++)
		CHECK_EQ(f->slot[i].since, 0);
	free(f);
}

/* Through the driver: a tunnel with fragment = 600 takes fragments of a real encrypted packet. */
static void
test_fragment_driver(const char *dir)
{
	const struct kv server_conf[] = { { "secret", "k.key" }, { "key_direction", "0" },
					  { "fragment", "600" }, { NULL, NULL } };
	const struct kv client_conf[] = { { "secret", "k.key" }, { "key_direction", "1" }, { NULL, NULL } };
	const struct kv tiny[] = { { "secret", "k.key" }, { "fragment", "60" }, { NULL, NULL } };
	struct tunnel server, client;
	uint8_t datagram[1000];
	char file[512];

	snprintf(file, sizeof(file), "%s/dpvpn.ini", dir);
	CHECK_EQ(configure(&server, server_conf, file), 0);
	CHECK_EQ(configure(&client, client_conf, file), 0);
	/* 600 bytes of UDP payload: 600 - 32 - 16 = 552 = 34 blocks + 8; 544 - 8 - 4 - 1 = 531. */
	CHECK_EQ(server.mtu, 531);
	CHECK_EQ(server.overhead, 84);
	memset(datagram, 0xab, sizeof(datagram));
	datagram[0] = 0x45;
	/* The client's framing by hand (its own tunnel sends the bytes as they are): 2 fragments of 500. */
	for (unsigned part = 0; part < 2; part++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 4 + 500);
		struct tunnel_rx rx = { 0 };

		ovpn_put_be32(p, part == 0 ? frag_hdr(1, 5, 0, 0) : frag_hdr(2, 5, 1, 500));
		memcpy(p + 4, datagram + part * 500, 500);
		CHECK_EQ(openvpn_ops.encap(&client, m), DROP_MAX);
		add_outer(m);
		CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_MAX);
		CHECK(rx.has_seq);
		if (part == 0) {
			CHECK_EQ(rx.late_drop, TUNNEL_RX_CONSUMED);
		} else {
			CHECK_EQ(rx.late_drop, 0);
			CHECK_EQ(rte_pktmbuf_pkt_len(m), 1000);
			CHECK(memcmp(rte_pktmbuf_mtod(m, uint8_t *), datagram, 1000) == 0);
		}
		rte_pktmbuf_free(m);
	}
	/* What the server sends carries a whole-packet header after the packet-id. */
	{
		struct rte_mbuf *m = inner_packet(200, 9);
		uint8_t plain[512];
		int n;

		CHECK_EQ(openvpn_ops.encap(&server, m), DROP_MAX);
		CHECK(rte_pktmbuf_pkt_len(m) - 8 <= 600);
		n = openssl_open(rte_pktmbuf_mtod(m, uint8_t *) + 8, rte_pktmbuf_pkt_len(m) - 8, file_key, 32,
				 file_key + 64, 32, EVP_sha256(), plain);
		CHECK(n > 12 && ovpn_get_be32(plain + 8) == 0 && plain[12] == 0x45);
		rte_pktmbuf_free(m);
	}
	openvpn_ops.destroy(&server);
	openvpn_ops.destroy(&client);
	CHECK_EQ(configure(&server, tiny, file), -1);
	CHECK(strncmp(last_error, "fragment: 60 leaves no room", 27) == 0);
	openvpn_ops.destroy(&server);
}

/* peer_port = any: found by the wildcard key, answers the port the client's packets came from. */
static void
test_float_port(const char *dir)
{
	const struct kv server_conf[] = { { "secret", "k.key" }, { "key_direction", "0" },
					  { "peer_port", "any" }, { NULL, NULL } };
	const struct kv client_conf[] = { { "secret", "k.key" }, { "key_direction", "1" },
					  { "port", "40000" }, { NULL, NULL } };
	struct tunnel server, client;
	struct tunnel_key want, k;
	struct tunnel_rx rx = { 0 };
	struct rte_mbuf *m;
	char file[512];

	snprintf(file, sizeof(file), "%s/dpvpn.ini", dir);
	CHECK_EQ(configure(&server, server_conf, file), 0);
	CHECK_EQ(configure(&client, client_conf, file), 0);
	/* Nothing heard yet: nothing to send to. */
	m = inner_packet(100, 1);
	CHECK_EQ(openvpn_ops.encap(&server, m), DROP_OVPN_PEER_UNKNOWN);
	rte_pktmbuf_free(m);
	CHECK_EQ(openvpn_ops.keepalive(&server, 1, (uint8_t[64]){ 0 }, 64), 0);
	/* The client's packet (source port 40000) misses the exact key, hits the wildcard. */
	m = inner_packet(100, 2);
	CHECK_EQ(openvpn_ops.encap(&client, m), DROP_MAX);
	add_outer(m);
	memset(&want, 0, sizeof(want));
	memset(&k, 0, sizeof(k)); /* as the app does: unused fields are 0 */
	openvpn_ops.key(&server, &want);
	CHECK_EQ(openvpn_ops.classify(m, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), 20, &k), DROP_MAX);
	CHECK(k.proto_key != want.proto_key);
	CHECK(openvpn_ops.classify_wildcard(&k));
	CHECK(memcmp(&k, &want, sizeof(k)) == 0);
	CHECK(!openvpn_ops.classify_wildcard(&k)); /* no second fallback */
	CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_MAX);
	rte_pktmbuf_free(m);
	/* Now answered on 40000. */
	m = inner_packet(100, 3);
	CHECK_EQ(openvpn_ops.encap(&server, m), DROP_MAX);
	CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[2] << 8 | rte_pktmbuf_mtod(m, uint8_t *)[3], 40000);
	rte_pktmbuf_free(m);
	/* A forged packet from another port does not move it. */
	m = inner_packet(100, 4);
	CHECK_EQ(openvpn_ops.encap(&client, m), DROP_MAX);
	rte_pktmbuf_mtod(m, uint8_t *)[1] ^= 1;     /* source port 40001 */
	rte_pktmbuf_mtod(m, uint8_t *)[8 + 40] ^= 1; /* and a broken HMAC */
	add_outer(m);
	CHECK_EQ(openvpn_ops.decap(&server, m, 20, &rx), DROP_OVPN_BAD_HMAC);
	rte_pktmbuf_free(m);
	CHECK_EQ(rte_be_to_cpu_16(((struct ovpn_tunnel *)server.priv)->peer_port), 40000);
	openvpn_ops.destroy(&server);
	openvpn_ops.destroy(&client);
}

static void
test_config_errors(const char *dir)
{
	char file[512];
	struct tunnel t;
	const struct kv no_secret[] = { { NULL, NULL } };
	const struct kv bad_cipher[] = { { "secret", "k.key" }, { "cipher", "BF-CBC" }, { NULL, NULL } };
	const struct kv bad_auth[] = { { "secret", "k.key" }, { "auth", "MD5" }, { NULL, NULL } };
	const struct kv bad_dir[] = { { "secret", "k.key" }, { "key_direction", "2" }, { NULL, NULL } };
	const struct kv missing[] = { { "secret", "nope.key" }, { NULL, NULL } };
	const struct kv broken[] = { { "secret", "broken.key" }, { NULL, NULL } };

	snprintf(file, sizeof(file), "%s/dpvpn.ini", dir);
	CHECK_EQ(configure(&t, no_secret, file), -1);
	CHECK(strncmp(last_error, "secret: missing", 15) == 0);
	openvpn_ops.destroy(&t);
	CHECK_EQ(configure(&t, bad_cipher, file), -1);
	CHECK(strstr(last_error, "cipher: 'BF-CBC' is not supported") != NULL);
	openvpn_ops.destroy(&t);
	CHECK_EQ(configure(&t, bad_auth, file), -1);
	CHECK(strncmp(last_error, "auth:", 5) == 0);
	openvpn_ops.destroy(&t);
	CHECK_EQ(configure(&t, bad_dir, file), -1);
	CHECK(strncmp(last_error, "key_direction:", 14) == 0);
	openvpn_ops.destroy(&t);
	CHECK_EQ(configure(&t, missing, file), -1);
	CHECK(strstr(last_error, "nope.key: No such file") != NULL);
	openvpn_ops.destroy(&t);
	/* An error inside the key file names the key file and its line. */
	CHECK_EQ(configure(&t, broken, file), -1);
	CHECK(strstr(last_error, "broken.key:1: expected") != NULL);
	openvpn_ops.destroy(&t);
}

int
main(void)
{
	char dir[] = "/tmp/dpvpn-test-ovpn-XXXXXX", path[600];
	FILE *f;

	test_key_file();
	test_key_direction();
	test_rules();
	if (test_eal_init("0") < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("ovpn", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	CHECK(pool != NULL && mkdtemp(dir) != NULL);
	make_key_text("\n");
	snprintf(path, sizeof(path), "%s/k.key", dir);
	f = fopen(path, "w");
	fputs(key_text, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/broken.key", dir);
	f = fopen(path, "w");
	fputs("not a key\n", f);
	fclose(f);
	test_roundtrip(dir, "AES-256-CBC", "SHA256");
	test_roundtrip(dir, "AES-128-CBC", "SHA1");
	test_roundtrip(dir, "aes-256-cbc", "sha1");
	test_burst(dir);
	test_fragment_reassembly();
	test_fragment_driver(dir);
	test_float_port(dir);
	test_config_errors(dir);
	CHECK_EQ(rte_mempool_in_use_count(pool), 0);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK_EQ(system(path), 0);
	rte_mempool_free(pool);
	return check_summary("unit-openvpn");
}
