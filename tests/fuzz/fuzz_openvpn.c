/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for drivers/openvpn. The first input byte picks what the
 * rest is:
 *   0: the text of a static key file (ovpn_static_key_parse): an error
 *      names its line and leaves the key zeroed;
 *   1: a UDP datagram for classify and decap on a SHA256 or a SHA1 tunnel:
 *      never accepted (nobody forges the HMAC), and refused for the reason
 *      its lengths call for (udp_truncated, ovpn_malformed, else bad HMAC);
 *   2: a payload sent through encap by a client's tunnel (key direction 1,
 *      or none) and received by decap on the server's (0, or none), for
 *      AES-256-CBC/SHA256, AES-128-CBC/SHA1 and AES-128-CBC/SHA256: the
 *      datagram must have the documented layout and must give back the same
 *      bytes with the next packet-id, flagged as a keepalive exactly when it
 *      is openvpn's ping and as not IPv4 exactly when it is not; a flipped
 *      bit chosen by the input must then be refused. On a server with
 *      fragment on (a misframed client) only the packet-id is checked;
 *   3: (second byte even) any plaintext, sealed by this harness with
 *      OpenSSL (AES-256-CBC, HMAC-SHA256 with the client's key, no padding
 *      added) and received by decap: what lies behind a good HMAC (padding,
 *      packet-id time, keepalive, inner packet, fragment header) must get
 *      the verdict a model of docs/openvpn.md gives; (odd) a sequence of
 *      fragment headers and sizes for the reassembly.
 * Any crash, sanitizer report, broken round trip or leaked mbuf fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "data_channel.h"
#include "fuzz_eal.h"
#include "openvpn.h"

static struct rte_mempool *pool;
/* openvpn's keepalive payload, as openvpn's ping.c has it (not the driver's copy). */
static const uint8_t ping[16] = { 0x2a, 0x18, 0x7b, 0xf3, 0x64, 0x1e, 0xb4, 0xcb,
				  0x07, 0xed, 0x2d, 0x0a, 0x98, 0x1f, 0xc7, 0x48 };
/* Client -> server pairs of the round trips, and a fragment-on server (misframed). */
struct pair {
	struct tunnel client, server;
	uint32_t hmac_len;
	uint8_t last_iv[16];    /* CBC IVs must never repeat */
};
static struct pair pairs[3];
static struct tunnel fserver;
/* Direction-0 servers for sealed plaintexts (their own packet-id time), without and with fragment. */
static struct tunnel sserver, sfserver;
static uint8_t file_key[OVPN_STATIC_KEY_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv);
static void round_trip(const uint8_t *data, size_t size);
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
	static const struct kv s[] = { { "secret", "k.key" }, { "key_direction", "0" }, { NULL, NULL } };
	static const struct kv c[] = { { "secret", "k.key" }, { "key_direction", "1" }, { NULL, NULL } };
	static const struct kv s1[] = { { "secret", "k.key" }, { "key_direction", "0" }, { "cipher", "AES-128-CBC" },
					{ "auth", "SHA1" }, { NULL, NULL } };
	static const struct kv c1[] = { { "secret", "k.key" }, { "key_direction", "1" }, { "cipher", "AES-128-CBC" },
					{ "auth", "SHA1" }, { NULL, NULL } };
	static const struct kv n[] = { { "secret", "k.key" }, { "key_direction", "none" }, { "cipher", "aes-128-cbc" },
				       { NULL, NULL } };
	static const struct kv f[] = { { "secret", "k.key" }, { "key_direction", "0" }, { "fragment", "1300" },
				       { NULL, NULL } };
	static char dir[] = "/tmp/dpvpn-fuzz-ovpn-XXXXXX";
	char path[128], file[128];
	FILE *fp;

	(void)argc;
	(void)argv;
	pool = fuzz_eal_init("fuzz", 255);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/k.key", dir);
	snprintf(file, sizeof(file), "%s/dpvpn.ini", dir);
	fp = fopen(path, "w");
	if (fp == NULL)
		abort();
	fputs("-----BEGIN OpenVPN Static key V1-----\n", fp);
	for (int line = 0; line < 16; line++) {
		for (int i = 0; i < 16; i++)
			fprintf(fp, "%02x", file_key[line * 16 + i] = (uint8_t)((line * 16 + i) * 29));
		fputc('\n', fp);
	}
	fputs("-----END OpenVPN Static key V1-----\n", fp);
	fclose(fp);
	configure(&pairs[0].server, s, file);
	configure(&pairs[0].client, c, file);
	pairs[0].hmac_len = 32;
	configure(&pairs[1].server, s1, file);
	configure(&pairs[1].client, c1, file);
	pairs[1].hmac_len = 20;
	configure(&pairs[2].server, n, file);
	configure(&pairs[2].client, n, file);
	pairs[2].hmac_len = 32;
	configure(&fserver, f, file);
	configure(&sserver, s, file);
	configure(&sfserver, f, file);
	unlink(path);
	rmdir(dir);
	/* Round trips that random bytes reach only by luck: openvpn's ping on each pair. */
	for (uint8_t sel = 0; sel < 3 * 4; sel += 4) {
		uint8_t in[1 + sizeof(ping)] = { sel };

		memcpy(in + 1, ping, sizeof(ping));
		round_trip(in, sizeof(in));
	}
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

/* The IV, packet-id, time and padding are the driver's; the rest follows from the payload. */
static void
check_layout(struct pair *p, struct rte_mbuf *m, uint32_t inner_len)
{
	const struct ovpn_tunnel *o = p->client.priv;
	const struct rte_udp_hdr *udp = rte_pktmbuf_mtod(m, const struct rte_udp_hdr *);
	uint32_t plain = OVPN_PID_LONG_LEN + inner_len;
	uint32_t want = sizeof(*udp) + p->hmac_len + OVPN_BLOCK + (plain / OVPN_BLOCK + 1) * OVPN_BLOCK;

	if (rte_pktmbuf_pkt_len(m) != want || rte_be_to_cpu_16(udp->dgram_len) != want ||
	    udp->src_port != o->port || udp->dst_port != o->peer_port || udp->dgram_cksum != 0)
		abort();
	if (memcmp((const uint8_t *)(udp + 1) + p->hmac_len, p->last_iv, sizeof(p->last_iv)) == 0)
		abort();
	memcpy(p->last_iv, (const uint8_t *)(udp + 1) + p->hmac_len, sizeof(p->last_iv));
}

static void
round_trip(const uint8_t *data, size_t size)
{
	const uint8_t sel = data[0];
	struct pair *p = &pairs[(sel >> 2 & 3) % RTE_DIM(pairs)];
	struct tunnel *rx_t = (sel & 0x40) ? &fserver : &p->server;
	struct rte_mbuf *m;
	struct tunnel_rx rx = { 0 };
	uint32_t before;
	enum drop_reason r;
	uint8_t want_late;

	if (rx_t == &fserver)
		p = &pairs[0]; /* the fragment server speaks pair 0's algorithm */
	before = ((struct ovpn_tunnel *)p->client.priv)->tx_pid;
	data++;
	size--;
	m = mbuf_with(data, size);
	if (openvpn_ops.encap(&p->client, m) != DROP_MAX)
		abort();
	if (((struct ovpn_tunnel *)p->client.priv)->tx_pid != before + 1)
		abort();
	check_layout(p, m, (uint32_t)size);
	add_outer(m);
	if (sel & 0x80) {
		/* One flipped bit anywhere in the datagram after the UDP header: never accepted. */
		uint32_t at = 20 + 8 + (uint32_t)(sel & 0x3f) * 7 % (rte_pktmbuf_pkt_len(m) - 28);

		rte_pktmbuf_mtod(m, uint8_t *)[at] ^= (uint8_t)(1 << (sel & 7));
		r = openvpn_ops.decap(rx_t, m, 20, &rx);
		if (r != DROP_OVPN_BAD_HMAC)
			abort();
	} else {
		r = openvpn_ops.decap(rx_t, m, 20, &rx);
		if (r != DROP_MAX || !rx.has_seq || rx.seq != before + 1)
			abort();
		if (rx_t != &fserver) {
			/* The payload comes back byte for byte, flagged for what it is. */
			want_late = size == sizeof(ping) && memcmp(data, ping, size) == 0 ? TUNNEL_RX_CONSUMED
				    : (size == 0 || data[0] >> 4 != 4) ? 1 + DROP_INNER_NOT_IPV4 : 0;
			if (rx.late_drop != want_late || rte_pktmbuf_pkt_len(m) != size ||
			    memcmp(rte_pktmbuf_mtod(m, uint8_t *), data, size) != 0)
				abort();
		}
	}
	rte_pktmbuf_free(m);
}

/* What decap must say of a datagram nobody could have authenticated, from its lengths alone. */
static enum drop_reason
raw_verdict(const uint8_t *udp, size_t size, uint32_t hmac_len)
{
	uint32_t udp_len, len;

	if (size < 8)
		return DROP_UDP_TRUNCATED;
	udp_len = (uint32_t)udp[4] << 8 | udp[5];
	if (udp_len < 8 || udp_len > size)
		return DROP_UDP_TRUNCATED;
	len = udp_len - 8;
	if (len < hmac_len + 2 * OVPN_BLOCK || (len - hmac_len - OVPN_BLOCK) % OVPN_BLOCK != 0)
		return DROP_OVPN_MALFORMED;
	return DROP_OVPN_BAD_HMAC;
}

static void
raw_datagram(const uint8_t *data, size_t size)
{
	struct pair *p = &pairs[data[0] >> 2 & 1];
	struct tunnel *t = (data[0] & 8) ? &fserver : &p->server;
	uint32_t hmac_len = t == &fserver ? 32 : p->hmac_len;
	struct tunnel_rx rx = { 0 };
	struct rte_mbuf *m;
	struct tunnel_key k;
	enum drop_reason r;

	data++;
	size--;
	m = mbuf_with(data, size);
	add_outer(m);
	r = openvpn_ops.classify(m, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), 20, &k);
	if (r != (size < 8 ? DROP_UDP_TRUNCATED : DROP_MAX))
		abort();
	if (r == DROP_MAX) {
		if (k.proto_key != ((uint32_t)(data[2] | data[3] << 8) << 16 | (uint32_t)(data[0] | data[1] << 8)))
			abort(); /* our port << 16 | the client's, both as on the wire */
		r = openvpn_ops.decap(t, m, 20, &rx);
		if (r != raw_verdict(data, size, hmac_len))
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

/* What decap must make of an authentic plaintext (docs/openvpn.md, data_channel.h). */
struct verdict {
	enum drop_reason r;
	uint8_t late_drop;
	const uint8_t *inner;   /* delivered bytes, when late_drop is 0 or a late drop */
	uint32_t inner_len;
	bool any_late;          /* a fragment: reassembly decides, not this model */
};

static struct verdict
model(const struct ovpn_tunnel *o, const uint8_t *plain, uint32_t len)
{
	struct verdict v = { .r = DROP_MAX };
	uint32_t pad = plain[len - 1], t = ovpn_get_be32(plain + 4);
	const uint8_t *inner = plain + 8;
	uint32_t inner_len;

	if (pad < 1 || pad > 16 || len < pad + 8) {
		v.r = DROP_OVPN_BAD_PADDING;
		return v;
	}
	for (uint32_t i = len - pad; i < len; i++)
		if (plain[i] != pad) {
			v.r = DROP_OVPN_BAD_PADDING;
			return v;
		}
	if (o->rx_time != 0 && t < o->rx_time) {
		v.r = DROP_OVPN_REPLAY;
		return v;
	}
	inner_len = len - pad - 8;
	if (o->fragment != 0) {
		if (inner_len < 4) {
			v.late_drop = 1 + DROP_OVPN_FRAGMENT;
			v.any_late = true; /* the bytes left behind do not matter */
			return v;
		}
		if ((plain[8 + 3] & 3) != OVPN_FRAG_WHOLE) {
			v.any_late = true;
			return v;
		}
		inner += 4;
		inner_len -= 4;
	}
	v.inner = inner;
	v.inner_len = inner_len;
	if (inner_len == sizeof(ping) && memcmp(inner, ping, sizeof(ping)) == 0)
		v.late_drop = TUNNEL_RX_CONSUMED;
	else if (inner_len == 0 || inner[0] >> 4 != 4)
		v.late_drop = 1 + DROP_INNER_NOT_IPV4;
	return v;
}

/* The client's side with OpenSSL: HMAC-SHA256 | IV | AES-256-CBC(plain), plain whole blocks. */
static void
seal(uint8_t *out, const uint8_t *iv, const uint8_t *plain, uint32_t len)
{
	/* Direction 0 receives with key 1: cipher bytes at 128, HMAC bytes at 192. */
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned int mac_len = 32;
	int n1 = 0, n2 = 0;

	memcpy(out + 32, iv, 16);
	if (c == NULL || EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, file_key + 128, iv) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1 || EVP_EncryptUpdate(c, out + 48, &n1, plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(c, out + 48 + n1, &n2) != 1 || (uint32_t)(n1 + n2) != len)
		abort();
	EVP_CIPHER_CTX_free(c);
	if (HMAC(EVP_sha256(), file_key + 192, 32, out + 32, 16 + len, out, &mac_len) == NULL || mac_len != 32)
		abort();
}

static void
sealed(const uint8_t *data, size_t size)
{
	struct tunnel *t = (data[0] & 2) ? &sfserver : &sserver;
	struct ovpn_tunnel *o = t->priv;
	uint32_t len = (uint32_t)(size - 1) & ~15u, known = o->rx_time;
	uint8_t dgram[8 + 48 + 1400];
	struct tunnel_rx rx = { 0 };
	struct verdict v;
	struct rte_mbuf *m;
	enum drop_reason r;

	if (len == 0)
		return;
	data++;
	v = model(o, data, len);
	memset(dgram, 0, 8);
	dgram[4] = (uint8_t)((8 + 48 + len) >> 8);
	dgram[5] = (uint8_t)(8 + 48 + len);
	seal(dgram + 8, data + len - 16, data, len); /* the last plaintext block doubles as the IV */
	m = mbuf_with(dgram, 8 + 48 + len);
	add_outer(m);
	r = openvpn_ops.decap(t, m, 20, &rx);
	if (r != v.r)
		abort();
	if (r == DROP_MAX) {
		/* Packet-id and time taken up; a later time is a restart unless it is the first. */
		if (!rx.has_seq || rx.seq != ovpn_get_be32(data) || o->rx_time != ovpn_get_be32(data + 4) ||
		    rx.restart != (known != 0 && o->rx_time > known))
			abort();
		if (!v.any_late && (rx.late_drop != v.late_drop || rte_pktmbuf_pkt_len(m) != v.inner_len ||
				    memcmp(rte_pktmbuf_mtod(m, uint8_t *), v.inner, v.inner_len) != 0))
			abort();
		if (v.any_late && v.late_drop != 0 && rx.late_drop != v.late_drop)
			abort();
	} else if (o->rx_time != known) {
		abort(); /* a refused packet moved the peer's time */
	}
	rte_pktmbuf_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[OVPN_STATIC_KEY_LEN];
	char err[128];

	if (size < 2 || size > 1400)
		return 0;
	switch (data[0] & 3) {
	case 0:
		memset(err, 0, sizeof(err));
		if (ovpn_static_key_parse((const char *)data + 1, size - 1, key, err, sizeof(err)) != 0) {
			static const uint8_t zero[OVPN_STATIC_KEY_LEN];

			if (strncmp(err, "line ", 5) != 0 || memcmp(key, zero, sizeof(key)) != 0)
				abort();
		}
		break;
	case 1:
		raw_datagram(data, size);
		break;
	case 2:
		round_trip(data + 1, size - 1);
		break;
	default:
		if (data[1] & 1)
			fragments(data + 2, size - 2);
		else
			sealed(data + 1, size - 1);
	}
	if (rte_mempool_in_use_count(pool) != 0)
		abort(); /* an mbuf leaked */
	return 0;
}
