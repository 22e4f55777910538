/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS-mode OpenVPN data channel of one lcore, in process: the driver's
 * burst calls (openvpn_tls_ops.decap_burst / encap_burst, session_data.c) on
 * mbufs, beside the crypto ceiling of the same lcore: lib/crypto's engine
 * (the one the driver calls, same keys) on the same bytes, bursts of 32 and 1.
 *
 *   bench_ovpn_tls [-l lcore] [-a algo,...] [-S sessions,...] [-c case] [inner_bytes...]
 *
 * defaults: lcore 1, aes256-gcm,aes128-gcm,chacha20-poly1305, sessions 1,64,
 * inner sizes 64 1400, every case (-c: that case alone, e.g. under perf
 * record; its lines then lack the refill figures). A pass is PKTS packets in bursts; packet i belongs to
 * session i % S (round robin) and carries packet-id i / S + 1. Cases, per
 * (algo, size, sessions):
 *
 *   driver_decrypt  refill the mbuf from its template, then decap_burst (32)
 *   driver_refill   the refill alone: template memcpy + mbuf reset
 *   driver_encrypt  reset the mbuf to the plain inner packet, then encap_burst (32)
 *   driver_reset    that reset alone
 *   engine_decrypt  memcpy the ciphertext template, then aead_decrypt_burst (32 and 1)
 *   engine_refill   that memcpy alone
 *   engine_encrypt  aead_encrypt_burst in place (32 and 1)
 *
 * Decrypting in place destroys the input, so every decrypt case copies a
 * fresh ciphertext first; its copy is measured alone and reported beside it
 * (refill_ns_per_pkt, net_ns_per_pkt = ns_per_pkt - refill). The templates
 * are sealed once by OpenSSL (an independent AEAD), and every decap must end
 * DROP_MAX with the template's packet-id (checked on every packet of every
 * pass: the process exits 1 otherwise). Before timing, one pass of each
 * direction is verified byte for byte: decap's inner packets against the
 * plain ones, encap's and the engine's output opened by OpenSSL.
 *
 * One JSON line per case: packets/s and ns/packet, medians of RUNS runs of
 * about 150 ms, the runs interleaved across the cases of a configuration so
 * all see the same neighbours on a shared machine.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "aead.h"
#include "clock.h"
#include "control_packet.h"
#include "data_channel.h"
#include "openvpn.h"
#include "session.h"
#include "bench_time.h"

#define RUNS 5
#define RUN_S 0.15
#define BURST 32
#define PKTS 64                 /* per pass: two bursts; with 64 sessions one packet each */
#define MAX_SESSIONS PKTS
#define OUTER 28                /* IPv4 + UDP before the OpenVPN payload (l4_off 20) */
#define STRIDE 2048
#define MAX_INNER (STRIDE - OUTER - OVPN_AEAD_HDR)
#define PEER RTE_BE32(0xc0000202)
#define LOCAL RTE_BE32(0xc0000201)

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_ovpn_tls: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static struct {
	struct rte_mempool *pool;
	struct aead_engine *e;          /* ovpn_engine(): the driver's own, on this lcore */
	enum aead_algo algo;
	unsigned sessions, inner, wire; /* wire: OpenVPN payload bytes (24 + inner) */
	struct tunnel *t[MAX_SESSIONS];
	uint8_t material[MAX_SESSIONS][256];
	/* per packet of a pass */
	struct tunnel *tp[PKTS];
	struct rte_mbuf *dm[PKTS], *em[PKTS];  /* decap's and encap's mbufs */
	uint16_t l4[PKTS];
	uint32_t pid[PKTS];
	uint8_t *tmpl;                  /* OUTER + wire bytes, sealed by OpenSSL, per packet */
	uint8_t *plain;                 /* the inner packet, per packet */
	uint8_t *flat;                  /* the engine's decrypt buffers (wire bytes) */
	uint8_t *eflat;                 /* the engine's encrypt buffers */
	struct aead_op dops[PKTS], eops[PKTS];
	uint8_t div[PKTS][12], eiv[PKTS][12];
	unsigned burst;                 /* the engine cases' */
} B;

/* ---- the client's side: OpenSSL seals and opens (nonce = packet-id || implicit IV, AD = 8 bytes) ---- */

static const EVP_CIPHER *
evp_of(enum aead_algo a)
{
	return a == AEAD_AES256_GCM ? EVP_aes_256_gcm() : a == AEAD_AES128_GCM ? EVP_aes_128_gcm()
									    : EVP_chacha20_poly1305();
}

static const char *
cipher_name(enum aead_algo a)
{
	return a == AEAD_AES256_GCM ? "AES-256-GCM" : a == AEAD_AES128_GCM ? "AES-128-GCM" : "CHACHA20-POLY1305";
}

/* pkt: the OpenVPN payload (opcode .. ciphertext), len bytes. 0 or -1 (open: forged). */
static int
evp_aead(enum aead_algo a, int enc, const uint8_t *key, const uint8_t *iv8, uint8_t *pkt, uint32_t len)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	int n, ok;

	memcpy(nonce, pkt + 4, 4);
	memcpy(nonce + 4, iv8, 8);
	ok = x != NULL && EVP_CipherInit_ex(x, evp_of(a), NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
	     EVP_CipherInit_ex(x, NULL, NULL, key, nonce, enc) == 1 &&
	     EVP_CipherUpdate(x, NULL, &n, pkt, OVPN_AEAD_AD) == 1 &&
	     (enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, pkt + OVPN_AEAD_AD) == 1) &&
	     EVP_CipherUpdate(x, pkt + OVPN_AEAD_HDR, &n, pkt + OVPN_AEAD_HDR, (int)len - OVPN_AEAD_HDR) == 1 &&
	     EVP_CipherFinal_ex(x, pkt + OVPN_AEAD_HDR + n, &n) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, pkt + OVPN_AEAD_AD) == 1);
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

/* ---- setup of one (algo, sessions, size) ---- */

/* A session as server.c makes one after the key exchange: key_id 0 in slot 0, peer-id s + 1. */
static struct tunnel *
session_new(unsigned s)
{
	struct tunnel *t = calloc(1, sizeof(*t) + sizeof(struct ovpn_session));
	struct ovpn_session *o = (struct ovpn_session *)(t + 1);

	if (t == NULL || RAND_bytes(B.material[s], sizeof(B.material[s])) != 1)
		die("session %u: no memory or no random bytes", s);
	t->peer = PEER;
	t->local = LOCAL;
	ovpn_session_init(t, o, s + 1, RTE_BE16(1194), RTE_BE16(40000),
			  ovpn_dkey_new(B.algo, 0, 1, B.material[s], true));
	if (o->keys[0] == NULL)
		die("ovpn_dkey_new failed");
	return t;
}

static void
sessions_free(void)
{
	for (unsigned s = 0; s < B.sessions; s++) {
		openvpn_tls_ops.destroy(B.t[s]);
		free(B.t[s]);
		B.t[s] = NULL;
	}
}

/* The inner packet of packet i: an IPv4 first byte, then a per-packet pattern. */
static void
make_plain(unsigned i, uint8_t *p)
{
	for (unsigned j = 0; j < B.inner; j++)
		p[j] = (uint8_t)(i * 13 + j);
	p[0] = 0x45;
}

/* Packet i as the client sends it: outer IPv4 + UDP, P_DATA_V2 sealed by OpenSSL with the client's half. */
static void
make_template(unsigned i)
{
	unsigned s = i % B.sessions;
	uint8_t *p = B.tmpl + (size_t)i * STRIDE, *d = p + OUTER;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + 20);
	uint32_t peer_id = s + 1;

	memset(p, 0, OUTER);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(OUTER + B.wire));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = PEER;
	ip->dst_addr = LOCAL;
	udp->src_port = RTE_BE16(40000);
	udp->dst_port = RTE_BE16(1194);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + B.wire));
	d[0] = (uint8_t)(OVPN_P_DATA_V2 << 3 | 0);
	d[1] = (uint8_t)(peer_id >> 16);
	d[2] = (uint8_t)(peer_id >> 8);
	d[3] = (uint8_t)peer_id;
	ovpn_put_be32(d + 4, B.pid[i]);
	memcpy(d + OVPN_AEAD_HDR, B.plain + (size_t)i * STRIDE, B.inner);
	if (evp_aead(B.algo, 1, B.material[s], B.material[s] + 64, d, B.wire) < 0)
		die("OpenSSL could not seal packet %u", i);
}

static void
setup(enum aead_algo algo, unsigned sessions, unsigned inner)
{
	B.algo = algo;
	B.sessions = sessions;
	B.inner = inner;
	B.wire = OVPN_AEAD_HDR + inner;
	for (unsigned s = 0; s < sessions; s++)
		B.t[s] = session_new(s);
	for (unsigned i = 0; i < PKTS; i++) {
		struct ovpn_dkey *k = ((struct ovpn_session *)B.t[i % sessions]->priv)->keys[0];
		uint8_t *f = B.flat + (size_t)i * STRIDE, *ef = B.eflat + (size_t)i * STRIDE;

		B.tp[i] = B.t[i % sessions];
		B.pid[i] = i / sessions + 1;
		B.l4[i] = 20;
		make_plain(i, B.plain + (size_t)i * STRIDE);
		make_template(i);
		/* The engine's decrypt: the driver's ops on a flat copy of the payload (same key and nonce). */
		memcpy(B.div[i], B.tmpl + (size_t)i * STRIDE + OUTER + 4, 4);
		memcpy(B.div[i] + 4, k->dec_iv, OVPN_IMPLICIT_IV);
		B.dops[i] = (struct aead_op){
			.key = k->dec, .buf = f, .cipher_off = OVPN_AEAD_HDR, .cipher_len = inner,
			.iv = B.div[i], .aad = f, .aad_len = OVPN_AEAD_AD, .tag = f + OVPN_AEAD_AD,
		};
		/* The engine's encrypt: the header encap writes, then the plain packet. The nonce stays
		 * the same pass after pass (the driver's advances): same cost, and nothing leaves. */
		memcpy(ef, B.tmpl + (size_t)i * STRIDE + OUTER, OVPN_AEAD_HDR);
		memcpy(ef + OVPN_AEAD_HDR, B.plain + (size_t)i * STRIDE, inner);
		memcpy(B.eiv[i], ef + 4, 4);
		memcpy(B.eiv[i] + 4, k->enc_iv, OVPN_IMPLICIT_IV);
		B.eops[i] = (struct aead_op){
			.key = k->enc, .buf = ef, .cipher_off = OVPN_AEAD_HDR, .cipher_len = inner,
			.iv = B.eiv[i], .aad = ef, .aad_len = OVPN_AEAD_AD, .tag = ef + OVPN_AEAD_AD,
		};
	}
}

/* ---- the passes (what is timed) ---- */

/* An mbuf back to its state on arrival: len bytes at the default headroom. */
static inline void
mbuf_reset(struct rte_mbuf *m, uint32_t len)
{
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
}

/* A fresh copy of packet i's ciphertext, with its outer headers, as the NIC would have written it. */
static inline void
refill(unsigned i)
{
	mbuf_reset(B.dm[i], OUTER + B.wire);
	memcpy(rte_pktmbuf_mtod(B.dm[i], uint8_t *), B.tmpl + (size_t)i * STRIDE, OUTER + B.wire);
}

static void
pass_driver_decrypt(void)
{
	struct tunnel_rx rx[BURST];
	enum drop_reason r[BURST];

	for (unsigned b = 0; b < PKTS; b += BURST) {
		for (unsigned i = 0; i < BURST; i++)
			refill(b + i);
		memset(rx, 0, sizeof(rx));   /* as the worker's decap_stage_flush */
		openvpn_tls_ops.decap_burst(&B.tp[b], &B.dm[b], &B.l4[b], rx, r, BURST);
		for (unsigned i = 0; i < BURST; i++)
			if (unlikely(r[i] != DROP_MAX || !rx[i].has_seq || rx[i].seq != B.pid[b + i] ||
				     rx[i].late_drop != 0 || rte_pktmbuf_pkt_len(B.dm[b + i]) != B.inner))
				die("decap of packet %u: reason %d, has_seq %d, seq %u (want %u), late_drop %u, "
				    "len %u", b + i, (int)r[i], rx[i].has_seq, rx[i].seq, B.pid[b + i],
				    rx[i].late_drop, rte_pktmbuf_pkt_len(B.dm[b + i]));
	}
}

static void
pass_driver_refill(void)
{
	for (unsigned i = 0; i < PKTS; i++)
		refill(i);
}

static void
pass_driver_encrypt(void)
{
	enum drop_reason r[BURST];

	for (unsigned b = 0; b < PKTS; b += BURST) {
		/* Back to the inner packet (its content is last pass's ciphertext: the cost is the same). */
		for (unsigned i = 0; i < BURST; i++)
			mbuf_reset(B.em[b + i], B.inner);
		openvpn_tls_ops.encap_burst(&B.tp[b], &B.em[b], r, BURST);
		for (unsigned i = 0; i < BURST; i++)
			if (unlikely(r[i] != DROP_MAX))
				die("encap of packet %u: reason %d", b + i, (int)r[i]);
	}
}

static void
pass_driver_reset(void)
{
	for (unsigned i = 0; i < PKTS; i++)
		mbuf_reset(B.em[i], B.inner);
}

static void
pass_engine_decrypt(void)
{
	for (unsigned b = 0; b < PKTS; b += B.burst) {
		for (unsigned i = b; i < b + B.burst; i++)
			memcpy(B.flat + (size_t)i * STRIDE, B.tmpl + (size_t)i * STRIDE + OUTER, B.wire);
		if (unlikely(aead_decrypt_burst(B.e, &B.dops[b], B.burst) != B.burst))
			die("engine decrypt of packets %u..: status %s", b, aead_strerror(B.dops[b].status));
	}
}

static void
pass_engine_refill(void)
{
	for (unsigned i = 0; i < PKTS; i++)
		memcpy(B.flat + (size_t)i * STRIDE, B.tmpl + (size_t)i * STRIDE + OUTER, B.wire);
}

static void
pass_engine_encrypt(void)
{
	for (unsigned b = 0; b < PKTS; b += B.burst)
		if (unlikely(aead_encrypt_burst(B.e, &B.eops[b], B.burst) != B.burst))
			die("engine encrypt of packets %u..: status %s", b, aead_strerror(B.eops[b].status));
}

/* ---- checks, once per configuration before timing ---- */

static void
verify(void)
{
	uint32_t next_pid[MAX_SESSIONS] = { 0 };

	/* decap: every inner packet back, byte for byte (the pass itself checks reason and seq). */
	pass_driver_decrypt();
	for (unsigned i = 0; i < PKTS; i++)
		if (memcmp(rte_pktmbuf_mtod(B.dm[i], uint8_t *), B.plain + (size_t)i * STRIDE, B.inner) != 0)
			die("decap of packet %u: inner packet differs", i);
	/* encap: OpenSSL opens with the server's half (key at 128, implicit IV at 192); packet-ids count
	 * from 1 per session. */
	for (unsigned i = 0; i < PKTS; i++) {
		mbuf_reset(B.em[i], B.inner);
		memcpy(rte_pktmbuf_mtod(B.em[i], uint8_t *), B.plain + (size_t)i * STRIDE, B.inner);
	}
	pass_driver_encrypt();
	for (unsigned i = 0; i < PKTS; i++) {
		unsigned s = i % B.sessions;
		uint8_t *p = rte_pktmbuf_mtod(B.em[i], uint8_t *), *d = p + sizeof(struct rte_udp_hdr);
		uint32_t len = rte_pktmbuf_pkt_len(B.em[i]);

		if (len != sizeof(struct rte_udp_hdr) + B.wire || rte_be_to_cpu_16(((struct rte_udp_hdr *)p)->dgram_len) != len ||
		    d[0] != 0x48 || ((uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]) != s + 1 ||
		    ovpn_get_be32(d + 4) != ++next_pid[s])
			die("encap of packet %u: bad framing", i);
		if (evp_aead(B.algo, 0, B.material[s] + 128, B.material[s] + 192, d, B.wire) < 0 ||
		    memcmp(d + OVPN_AEAD_HDR, B.plain + (size_t)i * STRIDE, B.inner) != 0)
			die("encap of packet %u: OpenSSL does not open it to the inner packet", i);
	}
	/* The engine: its decrypt gives the plain packets back; OpenSSL opens its encrypt. */
	B.burst = BURST;
	pass_engine_decrypt();
	for (unsigned i = 0; i < PKTS; i++)
		if (memcmp(B.flat + (size_t)i * STRIDE + OVPN_AEAD_HDR, B.plain + (size_t)i * STRIDE, B.inner) != 0)
			die("engine decrypt of packet %u: differs", i);
	pass_engine_encrypt();
	for (unsigned i = 0; i < PKTS; i++) {
		uint8_t *ef = B.eflat + (size_t)i * STRIDE;
		unsigned s = i % B.sessions;

		if (evp_aead(B.algo, 0, B.material[s] + 128, B.material[s] + 192, ef, B.wire) < 0 ||
		    memcmp(ef + OVPN_AEAD_HDR, B.plain + (size_t)i * STRIDE, B.inner) != 0)
			die("engine encrypt of packet %u: OpenSSL does not open it", i);
		/* back to plain for the timed passes (content does not change the cost) */
		memcpy(ef + OVPN_AEAD_HDR, B.plain + (size_t)i * STRIDE, B.inner);
	}
}

/* ---- timing ---- */

enum { C_DDEC, C_DREFILL, C_EDEC32, C_EDEC1, C_EREFILL, C_DENC, C_DRESET, C_EENC32, C_EENC1, NCASES };

static const struct bcase {
	const char *name;
	void (*pass)(void);
	unsigned burst;
	int refill;                     /* the case whose copy this one includes, or -1 */
} cases[NCASES] = {
	[C_DDEC] = { "driver_decrypt", pass_driver_decrypt, BURST, C_DREFILL },
	[C_DREFILL] = { "driver_refill", pass_driver_refill, 0, -1 },
	[C_EDEC32] = { "engine_decrypt", pass_engine_decrypt, BURST, C_EREFILL },
	[C_EDEC1] = { "engine_decrypt", pass_engine_decrypt, 1, C_EREFILL },
	[C_EREFILL] = { "engine_refill", pass_engine_refill, 0, -1 },
	[C_DENC] = { "driver_encrypt", pass_driver_encrypt, BURST, C_DRESET },
	[C_DRESET] = { "driver_reset", pass_driver_reset, 0, -1 },
	[C_EENC32] = { "engine_encrypt", pass_engine_encrypt, BURST, -1 },
	[C_EENC1] = { "engine_encrypt", pass_engine_encrypt, 1, -1 },
};

static double
run(const struct bcase *c, long passes)
{
	double t0;

	B.burst = c->burst ? c->burst : BURST;
	t0 = bench_now();
	for (long p = 0; p < passes; p++)
		c->pass();
	return (double)passes * PKTS / (bench_now() - t0);
}

/* Passes for about RUN_S seconds: doubled until 20 ms, then scaled. */
static long
calibrate(const struct bcase *c)
{
	long passes = 1;
	double t;

	for (;;) {
		double t0 = bench_now();

		B.burst = c->burst ? c->burst : BURST;
		for (long p = 0; p < passes; p++)
			c->pass();
		t = bench_now() - t0;
		if (t > 0.02)
			break;
		passes *= 2;
	}
	return (long)((double)passes * RUN_S / t) + 1;
}

static const char *only;        /* -c: the one case to run (no refill beside it), or NULL */

static bool
case_on(int c)
{
	return only == NULL || strcmp(cases[c].name, only) == 0;
}

static double
median(const double *v)
{
	double s[RUNS];

	memcpy(s, v, sizeof(s));
	qsort(s, RUNS, sizeof(s[0]), bench_cmp_double);
	return s[RUNS / 2];
}

static void
measure_config(void)
{
	double rate[NCASES][RUNS], med[NCASES];
	long passes[NCASES];

	for (int c = 0; c < NCASES; c++)
		passes[c] = case_on(c) ? calibrate(&cases[c]) : 0;
	for (int r = 0; r < RUNS; r++)
		for (int c = 0; c < NCASES; c++)
			if (case_on(c))
				rate[c][r] = run(&cases[c], passes[c]);
	for (int c = 0; c < NCASES; c++)
		med[c] = case_on(c) ? median(rate[c]) : 0;
	for (int c = 0; c < NCASES; c++) {
		const struct bcase *k = &cases[c];
		double ns = 1e9 / med[c];

		if (!case_on(c))
			continue;

		printf("{\"cipher\":\"%s\",\"algo\":\"%s\",\"inner_bytes\":%u,\"wire_bytes\":%u,\"sessions\":%u,"
		       "\"case\":\"%s\",\"burst\":%u,\"arch\":\"%s\",\"lcore\":%u,\"pkts_per_s\":%.0f,\"ns_per_pkt\":%.2f",
		       cipher_name(B.algo), aead_algo_name(B.algo), B.inner, OUTER + B.wire, B.sessions, k->name,
		       k->burst, aead_engine_arch(B.e), rte_lcore_id(), med[c], ns);
		if (k->refill >= 0 && case_on(k->refill)) {
			double copy = 1e9 / med[k->refill];

			printf(",\"refill_ns_per_pkt\":%.2f,\"net_ns_per_pkt\":%.2f,\"net_pkts_per_s\":%.0f", copy,
			       ns - copy, ns > copy ? 1e9 / (ns - copy) : 0.0);
		}
		printf(",\"runs_pkts_per_s\":[");
		for (int r = 0; r < RUNS; r++)
			printf("%s%.0f", r ? "," : "", rate[c][r]);
		printf("]}\n");
	}
	fflush(stdout);
}

/* ---- main ---- */

static int
parse_algo(const char *s, enum aead_algo *a)
{
	static const enum aead_algo ok[] = { AEAD_AES256_GCM, AEAD_AES128_GCM, AEAD_CHACHA20_POLY1305 };

	for (unsigned i = 0; i < RTE_DIM(ok); i++)
		if (strcasecmp(s, aead_algo_name(ok[i])) == 0 || strcasecmp(s, cipher_name(ok[i])) == 0) {
			*a = ok[i];
			return 0;
		}
	return -1;
}

int
main(int argc, char **argv)
{
	enum aead_algo algos[8] = { AEAD_AES256_GCM, AEAD_AES128_GCM, AEAD_CHACHA20_POLY1305 };
	unsigned nalgos = 3, sessions[8] = { 1, 64 }, nsess = 2, sizes[16] = { 64, 1400 }, nsizes = 2;
	char lcores[16] = "1", prefix[64], *tok, *save;
	int opt;

	while ((opt = getopt(argc, argv, "l:a:S:c:")) != -1) {
		switch (opt) {
		case 'l':
			snprintf(lcores, sizeof(lcores), "%d", atoi(optarg));
			break;
		case 'a':
			nalgos = 0;
			for (tok = strtok_r(optarg, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
				if (nalgos == RTE_DIM(algos) || parse_algo(tok, &algos[nalgos++]) < 0)
					die("-a %s: aes256-gcm, aes128-gcm or chacha20-poly1305", tok);
			break;
		case 'S':
			nsess = 0;
			for (tok = strtok_r(optarg, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
				if (nsess == RTE_DIM(sessions))
					die("too many -S values");
				sessions[nsess] = (unsigned)atoi(tok);
				if (sessions[nsess] < 1 || sessions[nsess] > MAX_SESSIONS)
					die("-S %s: 1..%u sessions", tok, MAX_SESSIONS);
				nsess++;
			}
			break;
		case 'c':
			only = optarg;
			for (opt = 0; opt < NCASES && strcmp(cases[opt].name, only) != 0; opt++)
				;
			if (opt == NCASES)
				die("-c %s: driver_decrypt, driver_encrypt, engine_decrypt, engine_encrypt, ...", only);
			break;
		default:
			die("usage: bench_ovpn_tls [-l lcore] [-a algo,...] [-S sessions,...] [-c case] "
			    "[inner_bytes...]");
		}
	}
	if (optind < argc) {
		nsizes = 0;
		for (int i = optind; i < argc && nsizes < RTE_DIM(sizes); i++) {
			sizes[nsizes] = (unsigned)atoi(argv[i]);
			if (sizes[nsizes] < 20 || sizes[nsizes] > MAX_INNER)
				die("inner size %s: 20..%u", argv[i], MAX_INNER);
			nsizes++;
		}
	}

	snprintf(prefix, sizeof(prefix), "--file-prefix=bench_ovpn_tls_%d", (int)getpid());
	char *eal[] = { argv[0], "-l", lcores, "--no-huge", "--no-pci", "-m", "256", prefix, "--log-level=error",
			"--no-telemetry" };
	if (rte_eal_init(RTE_DIM(eal), eal) < 0)
		die("rte_eal_init: %s", rte_strerror(rte_errno));
	clock_init(rte_get_tsc_hz());   /* decap stamps last_rx_tsc with clock_now() */
	/* Headroom 128 holds encap's 32 bytes; the data room a full template. */
	B.pool = rte_pktmbuf_pool_create("bench_ovpn_tls", 2 * PKTS + 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	B.tmpl = rte_malloc("tmpl", (size_t)PKTS * STRIDE, 64);
	B.plain = rte_malloc("plain", (size_t)PKTS * STRIDE, 64);
	B.flat = rte_malloc("flat", (size_t)PKTS * STRIDE, 64);
	B.eflat = rte_malloc("eflat", (size_t)PKTS * STRIDE, 64);
	B.e = ovpn_engine();
	if (B.pool == NULL || B.tmpl == NULL || B.plain == NULL || B.flat == NULL || B.eflat == NULL || B.e == NULL)
		die("setup failed (mempool, buffers or crypto engine)");
	for (unsigned i = 0; i < PKTS; i++) {
		B.dm[i] = rte_pktmbuf_alloc(B.pool);
		B.em[i] = rte_pktmbuf_alloc(B.pool);
		if (B.dm[i] == NULL || B.em[i] == NULL)
			die("no mbufs");
	}
	for (unsigned a = 0; a < nalgos; a++)
		for (unsigned z = 0; z < nsizes; z++)
			for (unsigned s = 0; s < nsess; s++) {
				setup(algos[a], sessions[s], sizes[z]);
				verify();
				measure_config();
				sessions_free();
			}
	for (unsigned i = 0; i < PKTS; i++) {
		rte_pktmbuf_free(B.dm[i]);
		rte_pktmbuf_free(B.em[i]);
	}
	rte_free(B.tmpl);
	rte_free(B.plain);
	rte_free(B.flat);
	rte_free(B.eflat);
	rte_mempool_free(B.pool);
	rte_eal_cleanup();
	return 0;
}
