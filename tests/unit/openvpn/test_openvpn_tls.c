/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers/openvpn in TLS mode: control packets (parse and write, the byte
 * layouts a stock 2.6 client and server put on the wire), the reliability
 * layer, key-method 2 messages, peer-info and cipher choice, and the
 * P_DATA_V2 data path on mbufs: every packet we encrypt is opened by OpenSSL
 * (the independent AEAD), every packet OpenSSL seals is opened by us, with
 * key ids, replays, forgeries and a renegotiation's key switch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "check.h"
#include "control_packet.h"
#include "data_channel.h"
#include "eal.h"
#include "key_method.h"
#include "openvpn.h"
#include "reliable.h"
#include "session.h"

static struct rte_mempool *pool;

static void
test_control_packets(void)
{
	/* A 2.6 client's hard reset: opcode 7, key id 0, session id, no acks, message id 0: 14 bytes. */
	const uint8_t reset[14] = { 0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0 };
	struct ovpn_ctl_pkt p, q;
	uint8_t buf[256];
	uint32_t n;

	CHECK_EQ(ovpn_ctl_parse(reset, sizeof(reset), &p), OVPN_CTL_OK);
	CHECK_EQ(p.opcode, OVPN_P_CONTROL_HARD_RESET_CLIENT_V2);
	CHECK_EQ(p.key_id, 0);
	CHECK_EQ(p.nb_acks, 0);
	CHECK(p.has_msg_id && p.msg_id == 0 && p.payload_len == 0);
	CHECK(memcmp(p.sid, reset + 1, 8) == 0);
	for (uint32_t len = 0; len < sizeof(reset); len++)
		CHECK_EQ(ovpn_ctl_parse(reset, len, &p), OVPN_CTL_TRUNCATED);

	/* The server's answer as the stock server writes it: ack of 0, our message 0: 26 bytes. */
	memset(&q, 0, sizeof(q));
	q.opcode = OVPN_P_CONTROL_HARD_RESET_SERVER_V2;
	memset(q.sid, 0xaa, 8);
	q.nb_acks = 1;
	q.acks[0] = 0;
	memcpy(q.remote_sid, reset + 1, 8);
	q.has_msg_id = true;
	n = ovpn_ctl_write(buf, sizeof(buf), &q);
	CHECK_EQ(n, 26);
	CHECK_EQ(buf[0], 0x40);
	CHECK_EQ(buf[9], 1);
	CHECK(memcmp(buf + 14, reset + 1, 8) == 0);
	CHECK_EQ(ovpn_ctl_write(buf, 25, &q), 0);

	/* Round trip with 4 acks, key id 5 and a payload; every shorter prefix is refused. */
	q.opcode = OVPN_P_CONTROL_V1;
	q.key_id = 5;
	q.nb_acks = 4;
	for (unsigned i = 0; i < 4; i++)
		q.acks[i] = 0x01020300 + i;
	q.msg_id = 0xdeadbeef;
	q.payload = (const uint8_t *)"tls records";
	q.payload_len = 11;
	n = ovpn_ctl_write(buf, sizeof(buf), &q);
	CHECK_EQ(n, 1 + 8 + 1 + 16 + 8 + 4 + 11);
	CHECK_EQ(ovpn_ctl_parse(buf, n, &p), OVPN_CTL_OK);
	CHECK(p.opcode == OVPN_P_CONTROL_V1 && p.key_id == 5 && p.nb_acks == 4 && p.acks[3] == 0x01020303);
	CHECK(p.msg_id == 0xdeadbeef && p.payload_len == 11 && memcmp(p.payload, "tls records", 11) == 0);
	CHECK(memcmp(p.remote_sid, reset + 1, 8) == 0);
	for (uint32_t len = 0; len < n - 11; len++)
		CHECK_EQ(ovpn_ctl_parse(buf, len, &p), OVPN_CTL_TRUNCATED);

	/* An ack alone has no message id, and nothing after its acks. */
	q.opcode = OVPN_P_ACK_V1;
	q.has_msg_id = false;
	q.payload_len = 0;
	n = ovpn_ctl_write(buf, sizeof(buf), &q);
	CHECK_EQ(n, 1 + 8 + 1 + 16 + 8);
	CHECK_EQ(ovpn_ctl_parse(buf, n, &p), OVPN_CTL_OK);
	CHECK(!p.has_msg_id && p.nb_acks == 4);
	buf[n] = 0;
	CHECK_EQ(ovpn_ctl_parse(buf, n + 1, &p), OVPN_CTL_TRUNCATED);

	/* More than 8 acks (a 2.6 peer's limit), data and unserved opcodes. */
	buf[9] = 9;
	CHECK_EQ(ovpn_ctl_parse(buf, n, &p), OVPN_CTL_TOO_MANY_ACKS);
	buf[0] = OVPN_P_DATA_V2 << 3;
	CHECK_EQ(ovpn_ctl_parse(buf, n, &p), OVPN_CTL_BAD_OPCODE);
	buf[0] = 1 << 3; /* key-method 1's reset */
	CHECK_EQ(ovpn_ctl_parse(buf, n, &p), OVPN_CTL_BAD_OPCODE);
	buf[0] = OVPN_P_CONTROL_HARD_RESET_CLIENT_V3 << 3;
	CHECK_EQ(ovpn_ctl_parse(buf, n, &p), OVPN_CTL_BAD_OPCODE);
}

static void
test_reliable(void)
{
	struct ovpn_reliable *r = calloc(1, sizeof(*r));
	uint8_t data[OVPN_CTL_PAYLOAD_MAX], op;
	uint16_t len;
	uint32_t acks[16];
	struct ovpn_rel_out *o;

	ovpn_rel_init(r);
	/* Receive: 1 and 2 before 0 are held; 0 releases all three in order. */
	CHECK_EQ(ovpn_rel_input(r, 1, OVPN_P_CONTROL_V1, (const uint8_t *)"b", 1), 1);
	CHECK_EQ(ovpn_rel_input(r, 2, OVPN_P_CONTROL_V1, (const uint8_t *)"c", 1), 1);
	CHECK(!ovpn_rel_take(r, &op, data, &len));
	CHECK_EQ(ovpn_rel_input(r, 0, OVPN_P_CONTROL_HARD_RESET_CLIENT_V2, NULL, 0), 1);
	CHECK(ovpn_rel_take(r, &op, data, &len) && op == OVPN_P_CONTROL_HARD_RESET_CLIENT_V2 && len == 0);
	CHECK(ovpn_rel_take(r, &op, data, &len) && len == 1 && data[0] == 'b');
	CHECK(ovpn_rel_take(r, &op, data, &len) && len == 1 && data[0] == 'c');
	CHECK(!ovpn_rel_take(r, &op, data, &len));
	/* A copy of a taken message is acked again, not delivered again. */
	CHECK_EQ(ovpn_rel_take_acks(r, acks, 16), 3);
	CHECK_EQ(ovpn_rel_input(r, 1, OVPN_P_CONTROL_V1, (const uint8_t *)"b", 1), 0);
	CHECK(!ovpn_rel_take(r, &op, data, &len));
	CHECK_EQ(ovpn_rel_take_acks(r, acks, 16), 1);
	CHECK_EQ(acks[0], 1);
	/* Beyond the window: dropped and not acked (the sender sends it again later). */
	CHECK_EQ(ovpn_rel_input(r, 3 + OVPN_REL_IN, OVPN_P_CONTROL_V1, data, 1), -1);
	CHECK_EQ(r->nb_acks, 0);
	/* Acks leave in batches of at most the asked number, oldest first. */
	for (uint32_t id = 3; id < 3 + OVPN_REL_IN; id++)
		CHECK_EQ(ovpn_rel_input(r, id, OVPN_P_CONTROL_V1, data, 1), 1);
	CHECK_EQ(ovpn_rel_take_acks(r, acks, 4), 4);
	CHECK(acks[0] == 3 && acks[3] == 6);
	CHECK_EQ(r->nb_acks, OVPN_REL_IN - 4);

	/* Send: ids from 0, at most OVPN_REL_OUT in flight, resent with a doubling timeout until acked. */
	ovpn_rel_init(r);
	for (unsigned i = 0; i < OVPN_REL_OUT; i++)
		CHECK_EQ(ovpn_rel_queue(r, OVPN_P_CONTROL_V1, (const uint8_t *)"x", 1, 1000), i);
	CHECK_EQ(ovpn_rel_room(r), 0);
	CHECK_EQ(ovpn_rel_queue(r, OVPN_P_CONTROL_V1, data, 1, 1000), -1);
	for (unsigned i = 0; i < OVPN_REL_OUT; i++) {
		o = ovpn_rel_due(r, 1000);
		CHECK(o != NULL && o->msg_id == i);
	}
	CHECK(ovpn_rel_due(r, 1000 + OVPN_REL_TIMEOUT_MS - 1) == NULL);
	o = ovpn_rel_due(r, 1000 + OVPN_REL_TIMEOUT_MS);
	CHECK(o != NULL && o->msg_id == 0 && o->due_ms == 1000 + 3 * OVPN_REL_TIMEOUT_MS);
	CHECK_EQ(r->retransmits, 1);
	/* Acking the oldest frees room for one more; a later id acked first does not. */
	ovpn_rel_acked(r, 3);
	CHECK_EQ(ovpn_rel_room(r), 0);
	ovpn_rel_acked(r, 0);
	CHECK_EQ(ovpn_rel_room(r), 1);
	ovpn_rel_acked(r, 0); /* again, and unknown ids: ignored */
	ovpn_rel_acked(r, 77);
	CHECK(!ovpn_rel_all_acked(r));
	for (unsigned i = 0; i < OVPN_REL_OUT; i++)
		ovpn_rel_acked(r, i);
	CHECK(ovpn_rel_all_acked(r));
	CHECK_EQ(ovpn_rel_room(r), OVPN_REL_OUT);
	CHECK(ovpn_rel_due(r, 1000000) == NULL);
	CHECK_EQ(ovpn_rel_queue(r, OVPN_P_CONTROL_V1, data, OVPN_CTL_PAYLOAD_MAX + 1, 0), -1);
	free(r);
}

static uint32_t
put_string(uint8_t *p, const char *s)
{
	uint32_t n = s[0] ? (uint32_t)strlen(s) + 1 : 0;

	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	memcpy(p + 2, s, n);
	return 2 + n;
}

static void
test_key_method(void)
{
	const char *options = "V4,dev-type tun,link-mtu 1541,tun-mtu 1500,proto UDPv4,key-method 2,tls-client";
	const char *info = "IV_VER=2.6.14\nIV_NCP=2\nIV_CIPHERS=AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305\n"
			   "IV_PROTO=990\n";
	uint8_t msg[1024], out[1024], r1[32], r2[32];
	struct ovpn_km2_client *c = calloc(1, sizeof(*c));
	uint32_t n = 0, len;
	enum aead_algo ours[3] = { AEAD_CHACHA20_POLY1305, AEAD_AES128_GCM, AEAD_AES256_GCM };
	char v[64];

	memset(msg, 0, 4);
	msg[4] = 2;
	for (int i = 0; i < 112; i++)
		msg[5 + i] = (uint8_t)i;
	n = 5 + 112;
	n += put_string(msg + n, options);
	n += put_string(msg + n, "");
	n += put_string(msg + n, "");
	n += put_string(msg + n, info);
	CHECK_EQ(ovpn_km2_client_parse(msg, n, c), (int)n);
	CHECK(c->pre_master[0] == 0 && c->pre_master[47] == 47 && c->random1[0] == 48 && c->random2[31] == 111);
	CHECK(strcmp(c->options, options) == 0 && strcmp(c->peer_info, info) == 0 && c->username[0] == 0);
	/* Every shorter prefix that ends inside a field waits for more. */
	for (uint32_t l = 0; l < n; l++) {
		int rc = ovpn_km2_client_parse(msg, l, c);

		CHECK(rc == 0 || rc == (int)(5 + 112 + 2 + strlen(options) + 1) ||
		      rc == (int)(n - 2 - strlen(info) - 1));
	}
	/* Key method 1, a string without its NUL, a NUL inside: refused. */
	msg[4] = 1;
	CHECK_EQ(ovpn_km2_client_parse(msg, n, c), -1);
	msg[4] = 2;
	msg[5 + 112 + 2 + strlen(options)] = 'x';
	CHECK_EQ(ovpn_km2_client_parse(msg, n, c), -1);
	msg[5 + 112 + 2 + strlen(options)] = 0;
	msg[5 + 112 + 2 + 3] = 0;
	CHECK_EQ(ovpn_km2_client_parse(msg, n, c), -1);

	/* Ours: zeros, 2, randoms, options, then three empty strings (user, password, peer-info). */
	memset(r1, 1, sizeof(r1));
	memset(r2, 2, sizeof(r2));
	len = ovpn_km2_server_write(out, sizeof(out), r1, r2, "V4,tls-server");
	CHECK_EQ(len, 5 + 64 + 2 + 14 + 6);
	CHECK(out[0] == 0 && out[3] == 0 && out[4] == 2 && out[5] == 1 && out[37] == 2 && out[69] == 0 &&
	      out[70] == 14 && memcmp(out + 71, "V4,tls-server", 14) == 0);
	for (unsigned i = 85; i < len; i++)
		CHECK_EQ(out[i], 0);
	CHECK_EQ(ovpn_km2_server_write(out, len - 1, r1, r2, "V4,tls-server"), 0);

	/* Peer-info lines and the cipher choice: ours in our order, among the client's. */
	CHECK(ovpn_peer_info_get(info, "IV_PROTO", v, sizeof(v)) && strcmp(v, "990") == 0);
	CHECK(!ovpn_peer_info_get(info, "IV_PRO", v, sizeof(v)));
	CHECK_EQ(ovpn_cipher_choose(ours, 3, info), AEAD_CHACHA20_POLY1305);
	CHECK_EQ(ovpn_cipher_choose(ours + 1, 2, info), AEAD_AES128_GCM);
	CHECK_EQ(ovpn_cipher_choose(ours, 3, "IV_CIPHERS=aes-256-gcm\n"), AEAD_AES256_GCM);
	CHECK_EQ(ovpn_cipher_choose(ours, 3, "IV_CIPHERS=BF-CBC:AES-256-CBC\n"), -1);
	/* 2.4 clients: IV_NCP=2 alone means the two GCM ciphers. */
	CHECK_EQ(ovpn_cipher_choose(ours, 3, "IV_NCP=2\n"), AEAD_AES128_GCM);
	CHECK_EQ(ovpn_cipher_choose(ours, 3, "IV_VER=2.3\n"), -1);
	CHECK_EQ(ovpn_cipher_parse("chacha20-poly1305"), AEAD_CHACHA20_POLY1305);
	CHECK_EQ(ovpn_cipher_parse("AES-256-CBC"), -1);
	free(c);
}

/* RFC 2246 5: P_hash(secret, seed) = HMAC(secret, A(1) | seed) | HMAC(secret, A(2) | seed) | ... */
static void
p_hash(const EVP_MD *md, const uint8_t *secret, int slen, const uint8_t *seed, size_t seed_len, uint8_t *out,
       size_t len)
{
	uint8_t a[64], block[64], buf[64 + 256];
	unsigned alen, blen;

	HMAC(md, secret, slen, seed, seed_len, a, &alen);
	for (size_t off = 0; off < len; off += blen) {
		memcpy(buf, a, alen);
		memcpy(buf + alen, seed, seed_len);
		HMAC(md, secret, slen, buf, alen + seed_len, block, &blen);
		for (size_t i = 0; i < blen && off + i < len; i++)
			out[off + i] ^= block[i];
		HMAC(md, secret, slen, a, alen, a, &alen);
	}
}

/* TLS 1.0 PRF: P_MD5 over the secret's first half xor P_SHA1 over its second (halves share a byte if odd). */
static void
prf10(const uint8_t *secret, int slen, const char *label, const uint8_t *seed, size_t seed_len, uint8_t *out,
      size_t len)
{
	uint8_t ls[256];
	int half = (slen + 1) / 2;

	memcpy(ls, label, strlen(label));
	memcpy(ls + strlen(label), seed, seed_len);
	memset(out, 0, len);
	p_hash(EVP_md5(), secret, half, ls, strlen(label) + seed_len, out, len);
	p_hash(EVP_sha1(), secret + slen - half, half, ls, strlen(label) + seed_len, out, len);
}

static void
test_prf(void)
{
	struct ovpn_km2_client c;
	uint8_t r1[32], r2[32], csid[8], ssid[8], got[256], master[48], seed[80], want[256];

	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 48; i++)
		c.pre_master[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < 32; i++) {
		c.random1[i] = (uint8_t)(i + 100);
		c.random2[i] = (uint8_t)(i + 150);
		r1[i] = (uint8_t)(200 - i);
		r2[i] = (uint8_t)(i * 3);
	}
	for (int i = 0; i < 8; i++) {
		csid[i] = (uint8_t)(0xc0 + i);
		ssid[i] = (uint8_t)(0x50 + i);
	}
	CHECK_EQ(ovpn_prf_keys(&c, r1, r2, csid, ssid, got), 0);
	/* The same derivation spelled out with HMAC-MD5 and HMAC-SHA1 (openvpn's ssl.c order). */
	memcpy(seed, c.random1, 32);
	memcpy(seed + 32, r1, 32);
	prf10(c.pre_master, 48, "OpenVPN master secret", seed, 64, master, sizeof(master));
	memcpy(seed, c.random2, 32);
	memcpy(seed + 32, r2, 32);
	memcpy(seed + 64, csid, 8);
	memcpy(seed + 72, ssid, 8);
	prf10(master, 48, "OpenVPN key expansion", seed, 80, want, sizeof(want));
	CHECK(memcmp(got, want, sizeof(want)) == 0);
	/* Every input matters: a session id byte changes the keys. */
	ssid[7] ^= 1;
	CHECK_EQ(ovpn_prf_keys(&c, r1, r2, csid, ssid, got), 0);
	CHECK(memcmp(got, want, sizeof(want)) != 0);
}

/* ---- the data path, against OpenSSL ---- */

static uint8_t material[256];

static const EVP_CIPHER *
evp_of(enum aead_algo a)
{
	return a == AEAD_AES256_GCM ? EVP_aes_256_gcm() : a == AEAD_AES128_GCM ? EVP_aes_128_gcm()
									    : EVP_chacha20_poly1305();
}

/* OpenSSL seals or opens: nonce = pid || iv8, AD = the first 8 bytes, tag after them. */
static int
evp_aead(enum aead_algo a, bool enc, const uint8_t *key, const uint8_t *iv8, uint8_t *pkt, uint32_t len)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	int n, ok;

	memcpy(nonce, pkt + 4, 4);
	memcpy(nonce + 4, iv8, 8);
	ok = EVP_CipherInit_ex(x, evp_of(a), NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
	     EVP_CipherInit_ex(x, NULL, NULL, key, nonce, enc) == 1 &&
	     EVP_CipherUpdate(x, NULL, &n, pkt, 8) == 1 &&
	     (enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, pkt + 8) == 1) &&
	     EVP_CipherUpdate(x, pkt + 24, &n, pkt + 24, (int)len - 24) == 1 &&
	     EVP_CipherFinal_ex(x, pkt + 24 + n, &n) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, pkt + 8) == 1);
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

static struct tunnel *
session(enum aead_algo a)
{
	struct tunnel *t = calloc(1, sizeof(*t) + sizeof(struct ovpn_session));
	struct ovpn_session *s = (struct ovpn_session *)(t + 1);

	t->peer = RTE_BE32(0xc0000202);
	t->local = RTE_BE32(0xc0000201);
	ovpn_session_init(t, s, 0x123456, RTE_BE16(1194), RTE_BE16(40000), ovpn_dkey_new(a, 0, 1, material, true));
	CHECK(s->keys[0] != NULL && s->window_key == -1);
	return t;
}

static struct rte_mbuf *
inner_packet(uint32_t len, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);

	if (p == NULL)
		abort();
	memset(p, fill, len);
	p[0] = 0x45;
	return m;
}

/* A packet the client would send: P_DATA_V2 sealed by OpenSSL, with outer IPv4 and UDP headers. */
static struct rte_mbuf *
client_packet(enum aead_algo a, uint8_t key_id, uint32_t pid, uint32_t inner_len, const uint8_t *mat)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t len = 24 + inner_len;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(20 + 8 + len));
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + 20);
	uint8_t *d = p + 28;

	if (p == NULL)
		abort();
	memset(p, 0, 28);
	ip->version_ihl = 0x45;
	ip->src_addr = RTE_BE32(0xc0000202);
	ip->dst_addr = RTE_BE32(0xc0000201);
	udp->src_port = RTE_BE16(40000);
	udp->dst_port = RTE_BE16(1194);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + len));
	d[0] = (uint8_t)(OVPN_P_DATA_V2 << 3 | key_id);
	d[1] = 0x12;
	d[2] = 0x34;
	d[3] = 0x56;
	ovpn_put_be32(d + 4, pid);
	memset(d + 24, 0x77, inner_len);
	d[24] = 0x45;
	/* The client sends with the first half: cipher key at 0, implicit IV at 64. */
	if (evp_aead(a, true, mat, mat + 64, d, len) < 0)
		abort();
	return m;
}

static void
test_data_path(enum aead_algo a)
{
	struct tunnel *t = session(a);
	struct ovpn_session *s = t->priv;
	struct tunnel_rx rx;
	struct tunnel_key k1, k2;
	struct rte_mbuf *m;
	uint8_t mat2[256];
	struct ovpn_dkey *k;

	ovpn_tls_set_port(RTE_BE16(1194), true);
	/* Ours: OpenSSL opens it with the second half (cipher key at 128, implicit IV at 192). */
	for (uint32_t i = 1; i <= 3; i++) {
		uint32_t len;
		uint8_t *p;

		m = inner_packet(i == 3 ? 1400 : 64, (uint8_t)i);
		CHECK_EQ(openvpn_tls_ops.encap(t, m), DROP_MAX);
		p = rte_pktmbuf_mtod(m, uint8_t *);
		len = rte_pktmbuf_pkt_len(m);
		CHECK_EQ(rte_be_to_cpu_16(((struct rte_udp_hdr *)p)->dst_port), 40000);
		CHECK_EQ(rte_be_to_cpu_16(((struct rte_udp_hdr *)p)->dgram_len), len);
		p += 8;
		CHECK(p[0] == 0x48 && p[1] == 0x12 && p[2] == 0x34 && p[3] == 0x56 && ovpn_get_be32(p + 4) == i);
		CHECK_EQ(evp_aead(a, false, material + 128, material + 192, p, len - 8), 0);
		CHECK(p[24] == 0x45 && p[25] == (uint8_t)i);
		rte_pktmbuf_free(m);
	}

	/* Theirs: classify finds the session by address and peer-id, decap opens it. */
	m = client_packet(a, 0, 5, 100, material);
	openvpn_tls_ops.key(t, &k1);
	CHECK_EQ(openvpn_tls_ops.classify(m, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), 20, &k2), DROP_MAX);
	CHECK(memcmp(&k1, &k2, sizeof(k1)) == 0);
	memset(&rx, 0, sizeof(rx));
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_MAX);
	CHECK(rx.has_seq && rx.seq == 5 && !rx.restart && rx.late_drop == 0);
	CHECK(rte_pktmbuf_pkt_len(m) == 100 && rte_pktmbuf_mtod(m, uint8_t *)[0] == 0x45);
	rte_pktmbuf_free(m);
	/* A keepalive is consumed. */
	m = client_packet(a, 0, 6, OVPN_PING_LEN, material);
	memset(&rx, 0, sizeof(rx));
	{
		/* Reseal with the ping payload in place of the test filler. */
		uint8_t *d = rte_pktmbuf_mtod_offset(m, uint8_t *, 28);

		CHECK_EQ(evp_aead(a, false, material, material + 64, d, 24 + OVPN_PING_LEN), 0);
		memcpy(d + 24, ovpn_ping_payload, OVPN_PING_LEN);
		CHECK_EQ(evp_aead(a, true, material, material + 64, d, 24 + OVPN_PING_LEN), 0);
	}
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_MAX);
	CHECK(rx.late_drop == TUNNEL_RX_CONSUMED && s->pings_rx == 1);
	rte_pktmbuf_free(m);
	/* A flipped bit anywhere in the header, tag or ciphertext: forged. */
	for (unsigned off = 4; off < 24 + 50; off += 7) {
		/* (From 4: the peer-id bytes would name another session, found by classify, not decap.) */
		m = client_packet(a, 0, 7, 50, material);
		rte_pktmbuf_mtod_offset(m, uint8_t *, 28 + off)[0] ^= 0x10;
		memset(&rx, 0, sizeof(rx));
		CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_OVPN_BAD_HMAC);
		rte_pktmbuf_free(m);
	}
	/* No key under that key id; packet-id 0; too short. */
	m = client_packet(a, 3, 8, 50, material);
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_OVPN_BAD_KEY_ID);
	rte_pktmbuf_free(m);
	m = client_packet(a, 0, 0, 50, material);
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_OVPN_REPLAY);
	rte_pktmbuf_free(m);
	m = client_packet(a, 0, 9, 0, material);
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_OVPN_MALFORMED);
	rte_pktmbuf_free(m);

	/* A renegotiation: key id 1 in the second slot. We keep sending with key 0 ... */
	for (unsigned i = 0; i < sizeof(mat2); i++)
		mat2[i] = (uint8_t)(material[i] ^ 0x5a);
	k = ovpn_dkey_new(a, 1, 2, mat2, true);
	s->keys[1] = k;
	m = inner_packet(64, 9);
	CHECK_EQ(openvpn_tls_ops.encap(t, m), DROP_MAX);
	CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[8], 0x48);
	rte_pktmbuf_free(m);
	/* ... until the client's first packet under key 1: the window restarts, sending moves. */
	m = client_packet(a, 1, 1, 60, mat2);
	memset(&rx, 0, sizeof(rx));
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_MAX);
	CHECK(rx.has_seq && rx.seq == 1 && rx.restart && s->tx_slot == 1 && s->window_key == 1);
	rte_pktmbuf_free(m);
	m = inner_packet(64, 10);
	CHECK_EQ(openvpn_tls_ops.encap(t, m), DROP_MAX);
	CHECK_EQ(rte_pktmbuf_mtod(m, uint8_t *)[8], 0x49);
	CHECK_EQ(ovpn_get_be32(rte_pktmbuf_mtod(m, uint8_t *) + 12), 1); /* key 1 counts from 1 */
	CHECK_EQ(evp_aead(a, false, mat2 + 128, mat2 + 192, rte_pktmbuf_mtod(m, uint8_t *) + 8,
			  rte_pktmbuf_pkt_len(m) - 8), 0);
	rte_pktmbuf_free(m);
	/* Key 0 afterwards: what it numbered up to the switch counts as seen; later ids pass once. */
	m = client_packet(a, 0, 5, 60, material);
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_OVPN_REPLAY);
	rte_pktmbuf_free(m);
	m = client_packet(a, 0, 12, 60, material);
	memset(&rx, 0, sizeof(rx));
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_MAX);
	CHECK(!rx.has_seq && s->old_key_rx == 1);
	rte_pktmbuf_free(m);
	m = client_packet(a, 0, 12, 60, material);
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_OVPN_REPLAY);
	rte_pktmbuf_free(m);
	openvpn_tls_ops.destroy(t);
	free(t);
}

/* A client packet whose plaintext is hdr | bytes (fragment header first), sealed by OpenSSL. */
static struct rte_mbuf *
client_fragment(uint32_t pid, uint32_t hdr, const uint8_t *bytes, uint32_t len)
{
	struct rte_mbuf *m = client_packet(AEAD_AES256_GCM, 0, pid, 4 + len, material);
	uint8_t *d = rte_pktmbuf_mtod_offset(m, uint8_t *, 28);

	CHECK_EQ(evp_aead(AEAD_AES256_GCM, false, material, material + 64, d, 24 + 4 + len), 0);
	ovpn_put_be32(d + 24, hdr);
	memcpy(d + 28, bytes, len);
	CHECK_EQ(evp_aead(AEAD_AES256_GCM, true, material, material + 64, d, 24 + 4 + len), 0);
	return m;
}

static void
test_fragment(void)
{
	struct tunnel *t = session(AEAD_AES256_GCM);
	struct ovpn_session *s = t->priv;
	struct tunnel_rx rx;
	struct rte_mbuf *m;
	uint8_t whole[900];

	s->fragment = 600;
	s->frag = calloc(1, sizeof(*s->frag));
	s->frag->ttl_ticks = UINT64_MAX / 2;
	for (unsigned i = 0; i < sizeof(whole); i++)
		whole[i] = (uint8_t)(i * 7);
	whole[0] = 0x45;
	/* Ours carry a "whole" header inside the encryption. */
	m = inner_packet(100, 1);
	CHECK_EQ(openvpn_tls_ops.encap(t, m), DROP_MAX);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 8 + 24 + 4 + 100);
	CHECK_EQ(evp_aead(AEAD_AES256_GCM, false, material + 128, material + 192, rte_pktmbuf_mtod(m, uint8_t *) + 8,
			  rte_pktmbuf_pkt_len(m) - 8), 0);
	CHECK(ovpn_get_be32(rte_pktmbuf_mtod(m, uint8_t *) + 8 + 24) == OVPN_FRAG_WHOLE &&
	      rte_pktmbuf_mtod(m, uint8_t *)[8 + 28] == 0x45);
	rte_pktmbuf_free(m);
	/* Theirs: a whole packet, then a datagram in two fragments (last one first). */
	m = client_fragment(1, OVPN_FRAG_WHOLE, whole, 200);
	memset(&rx, 0, sizeof(rx));
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_MAX);
	CHECK(rx.late_drop == 0 && rte_pktmbuf_pkt_len(m) == 200 && memcmp(rte_pktmbuf_mtod(m, uint8_t *), whole, 200) == 0);
	rte_pktmbuf_free(m);
	/* Last fragment (n = 1, size 500 / 4 in bits 15-28), then the first (n = 0). */
	m = client_fragment(2, OVPN_FRAG_LAST | 5u << 2 | 1u << 10 | (500u / 4) << 15, whole + 500, 400);
	memset(&rx, 0, sizeof(rx));
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_MAX);
	CHECK_EQ(rx.late_drop, TUNNEL_RX_CONSUMED);
	rte_pktmbuf_free(m);
	m = client_fragment(3, OVPN_FRAG_NOT_LAST | 5u << 2, whole, 500);
	memset(&rx, 0, sizeof(rx));
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_MAX);
	CHECK(rx.late_drop == 0 && rx.seq == 3 && rte_pktmbuf_pkt_len(m) == 900 &&
	      memcmp(rte_pktmbuf_mtod(m, uint8_t *), whole, 900) == 0);
	CHECK(s->frag->fragments == 2 && s->frag->reassembled == 1);
	rte_pktmbuf_free(m);
	/* Too short for its header: its packet-id is used up, it is dropped. */
	m = client_packet(AEAD_AES256_GCM, 0, 4, 3, material);
	memset(&rx, 0, sizeof(rx));
	CHECK_EQ(openvpn_tls_ops.decap(t, m, 20, &rx), DROP_MAX);
	CHECK_EQ(rx.late_drop, 1 + DROP_OVPN_FRAGMENT);
	rte_pktmbuf_free(m);
	openvpn_tls_ops.destroy(t);
	free(t);
}

static void
test_classify(void)
{
	struct rte_mbuf *m = client_packet(AEAD_AES256_GCM, 0, 1, 40, material);
	uint8_t *d = rte_pktmbuf_mtod_offset(m, uint8_t *, 28);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	struct tunnel_key k;

	ovpn_tls_set_port(0, false);
	CHECK_EQ(openvpn_tls_ops.classify(m, ip, 20, &k), -1); /* no server: static-key tunnels' */
	ovpn_tls_set_port(RTE_BE16(1195), true);
	CHECK_EQ(openvpn_tls_ops.classify(m, ip, 20, &k), -1); /* another port */
	ovpn_tls_set_port(RTE_BE16(1194), true);
	CHECK_EQ(openvpn_tls_ops.classify(m, ip, 20, &k), DROP_MAX);
	CHECK(k.proto_key == 0x123456 && k.variant == OVPN_TLS_KEY_VARIANT && k.peer == ip->src_addr);
	d[0] = OVPN_P_CONTROL_V1 << 3;
	CHECK_EQ(openvpn_tls_ops.classify(m, ip, 20, &k), TUNNEL_CLASSIFY_PUNT);
	d[0] = OVPN_P_ACK_V1 << 3 | 2;
	CHECK_EQ(openvpn_tls_ops.classify(m, ip, 20, &k), TUNNEL_CLASSIFY_PUNT);
	ovpn_tls_set_port(RTE_BE16(1194), false);
	CHECK_EQ(openvpn_tls_ops.classify(m, ip, 20, &k), DROP_OVPN_BAD_OPCODE);
	ovpn_tls_set_port(RTE_BE16(1194), true);
	d[0] = OVPN_P_DATA_V1 << 3;
	CHECK_EQ(openvpn_tls_ops.classify(m, ip, 20, &k), DROP_OVPN_BAD_OPCODE);
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - 28 - 3);
	CHECK_EQ(openvpn_tls_ops.classify(m, ip, 20, &k), DROP_OVPN_MALFORMED);
	rte_pktmbuf_free(m);
	ovpn_tls_set_port(0, false);
}

int
main(void)
{
	test_control_packets();
	test_reliable();
	test_key_method();
	test_prf();
	if (test_eal_init("0") < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("ovpntls", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	CHECK(pool != NULL);
	for (unsigned i = 0; i < sizeof(material); i++)
		material[i] = (uint8_t)(i * 29 + 3);
	test_data_path(AEAD_AES256_GCM);
	test_data_path(AEAD_AES128_GCM);
	test_data_path(AEAD_CHACHA20_POLY1305);
	test_fragment();
	test_classify();
	CHECK_EQ(rte_mempool_in_use_count(pool), 0);
	rte_mempool_free(pool);
	return check_summary("unit-openvpn-tls");
}
