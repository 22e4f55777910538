/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ppp's server link driven by a scripted client. Every frame the client
 * sends is built here byte by byte; every frame the server sends is captured
 * from the send callback and parsed here. The MS-CHAPv2 client side uses
 * lib/ppp's primitives (checked against RFC 2759 in test_mschapv2.c); the
 * MPPE start keys are checked against RFC 3079 3.3/3.4 rewritten here with
 * OpenSSL SHA-1 and anchored to the RFC's sample values.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ppp.h"
#include "ppp_test.h"

enum { LCP_MRU = 1, LCP_ACCM = 2, LCP_AUTH = 3, LCP_MAGIC = 5, LCP_PFC = 7, LCP_ACFC = 8, LCP_CALLBACK = 13 };
enum { CHAP_CHALLENGE = 1, CHAP_RESPONSE, CHAP_SUCCESS, CHAP_FAILURE };
enum { IPCP_COMP = 2, IPCP_ADDR = 3, IPCP_DNS1 = 129, IPCP_DNS2 = 131 };
#define CCP_MPPE 18
#define PPP_IPV6CP 0x8057

#define MAXF 256
#define FMAX 1600

static const char secrets_text[] =
	"# client  server  secret        address\n"
	"User      *       clientPass\n"
	"fixed     dpvpn   \"fixed pass\"  10.9.8.7\n"
	"md5       *       md5secret\n";

/* The client's fixed MS-CHAPv2 peer challenge. */
static const uint8_t peer_challenge[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
					    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };

static struct harness {
	struct ppp_link l;
	struct ppp_conf conf;
	struct chap_secrets secrets;
	uint64_t now;
	/* what the server sent */
	uint8_t f[MAXF][FMAX];
	uint16_t flen[MAXF];
	unsigned nf, rd, overflow;
	/* callbacks */
	unsigned up, mppe, down, alloc;
	bool mppe_on_at_up;
	uint64_t down_at;
	char why[96];
	char alloc_user[CHAP_NAME_MAX];
	uint32_t alloc_fixed, pool_addr;
	/* what the client learned */
	uint8_t lcp_id, lcp_opts[64];
	uint16_t lcp_len;
	uint32_t srv_magic;
	uint8_t chap_id, challenge[16];
	uint8_t ipcp_id, ipcp_opts[64];
	uint16_t ipcp_len;
	uint8_t ccp_id, ccp_opts[64];
	uint16_t ccp_len;
	uint8_t pw_hash[16], nt[24];
} h;

static uint8_t no_frame[FMAX]; /* what a failed EXPECT hands back, so callers never crash */

static uint32_t
ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Fields of a captured frame: protocol (2), code, id, length (2), data. */
static uint8_t fid(const uint8_t *f) { return f[3]; }
static uint16_t fdlen(const uint8_t *f) { return get16(f + 4) >= 4 ? (uint16_t)(get16(f + 4) - 4) : 0; }
static const uint8_t *fdata(const uint8_t *f) { return f + 6; }

/* ---- callbacks ----------------------------------------------------------- */

static void
cb_send(void *ctx, const uint8_t *frame, uint16_t len)
{
	CHECK(ctx == &h);
	/* Every frame is protocol + a complete control packet, its length field exact. */
	CHECK(len >= 6 && get16(frame + 4) == len - 2);
	if (h.nf >= MAXF || len > FMAX) {
		h.overflow++;
		return;
	}
	memcpy(h.f[h.nf], frame, len);
	h.flen[h.nf++] = len;
}

static uint32_t
cb_addr_alloc(void *ctx, const char *user, uint32_t fixed)
{
	CHECK(ctx == &h);
	h.alloc++;
	snprintf(h.alloc_user, sizeof(h.alloc_user), "%s", user);
	h.alloc_fixed = fixed;
	return fixed ? fixed : h.pool_addr;
}

static void
cb_up(void *ctx, struct ppp_link *l)
{
	CHECK(ctx == &h && l == &h.l);
	h.up++;
	h.mppe_on_at_up = l->mppe_on;
}

static void
cb_mppe(void *ctx, struct ppp_link *l)
{
	CHECK(ctx == &h && l == &h.l);
	h.mppe++;
}

static void
cb_down(void *ctx, struct ppp_link *l, const char *why)
{
	CHECK(ctx == &h && l == &h.l);
	CHECK(why != NULL && why[0] != '\0');
	h.down++;
	h.down_at = h.now;
	snprintf(h.why, sizeof(h.why), "%s", why ? why : "");
}

static const struct ppp_link_cb cbs = {
	.ctx = &h,
	.send = cb_send,
	.addr_alloc = cb_addr_alloc,
	.up = cb_up,
	.mppe = cb_mppe,
	.down = cb_down,
};

/* ---- the scripted client ----------------------------------------------- */

static const uint8_t *
expect_(int line, uint16_t proto, uint8_t code)
{
	const uint8_t *f;

	if (h.rd >= h.nf) {
		check_failed++;
		fprintf(stderr, "%s:%d: expected %04x code %u from the server, nothing was sent\n", __FILE__, line,
			proto, code);
		return no_frame;
	}
	f = h.f[h.rd++];
	if (get16(f) != proto || f[2] != code) {
		check_failed++;
		fprintf(stderr, "%s:%d: expected %04x code %u from the server, got %04x code %u\n", __FILE__, line,
			proto, code, get16(f), f[2]);
		return no_frame;
	}
	check_passed++;
	return f;
}
#define EXPECT(proto, code) expect_(__LINE__, (proto), (code))

static void
expect_none_(int line)
{
	if (h.rd == h.nf) {
		check_passed++;
		return;
	}
	check_failed++;
	fprintf(stderr, "%s:%d: expected silence, the server sent %u frame(s), first %04x code %u\n", __FILE__,
		line, h.nf - h.rd, get16(h.f[h.rd]), h.f[h.rd][2]);
	h.rd = h.nf;
}
#define EXPECT_NONE() expect_none_(__LINE__)

/* A control packet from the client: protocol, code, id, length, data. */
static void
cp(uint16_t proto, uint8_t code, uint8_t id, const void *data, uint16_t dlen)
{
	uint8_t b[FMAX + 8];

	b[0] = (uint8_t)(proto >> 8);
	b[1] = (uint8_t)proto;
	b[2] = code;
	b[3] = id;
	b[4] = (uint8_t)((dlen + 4) >> 8);
	b[5] = (uint8_t)(dlen + 4);
	if (dlen)
		memcpy(b + 6, data, dlen);
	ppp_link_input(&h.l, b, (uint16_t)(dlen + 6), h.now);
}

static void
raw(const void *frame, uint16_t len)
{
	ppp_link_input(&h.l, frame, len, h.now);
}

/* The option of type t in an option list, or NULL. */
static const uint8_t *
find_opt(const uint8_t *p, uint16_t len, uint8_t t)
{
	while (len >= 2 && p[1] >= 2 && p[1] <= len) {
		if (p[0] == t)
			return p;
		len = (uint16_t)(len - p[1]);
		p += p[1];
	}
	return NULL;
}

static void
reset(void)
{
	chap_secrets_free(&h.secrets);
	memset(&h, 0, sizeof(h));
	CHECK_EQ(chap_secrets_parse("secrets", secrets_text, &h.secrets), 0);
	ppp_conf_defaults(&h.conf);
	h.conf.secrets = &h.secrets;
	h.conf.local_addr = ip("10.0.0.1");
	h.conf.dns[0] = ip("10.0.0.53");
	h.conf.dns[1] = ip("10.0.1.53");
	h.pool_addr = ip("10.0.0.100");
}

static void
start(void)
{
	ppp_link_init(&h.l, &h.conf, &cbs, h.now);
	CHECK_STR(ppp_link_state(&h.l), "dead");
	ppp_link_start(&h.l, h.now);
	CHECK_STR(ppp_link_state(&h.l), "establish");
}

/* The server's LCP Configure-Request: remembered for the Ack. */
static void
take_lcp_req(void)
{
	const uint8_t *f = EXPECT(PPP_LCP, PPP_CONF_REQ), *o;

	h.lcp_id = fid(f);
	h.lcp_len = fdlen(f);
	CHECK(h.lcp_len <= sizeof(h.lcp_opts));
	memcpy(h.lcp_opts, fdata(f), h.lcp_len < sizeof(h.lcp_opts) ? h.lcp_len : sizeof(h.lcp_opts));
	o = find_opt(h.lcp_opts, h.lcp_len, LCP_MAGIC);
	CHECK(o != NULL && o[1] == 6);
	h.srv_magic = o ? get32(o + 2) : 0;
	CHECK(h.srv_magic != 0);
}

/* The client's LCP request: MRU 1400, a magic, PFC, ACFC, ACCM 0. */
static const uint8_t client_lcp[] = { LCP_MRU, 4, 0x05, 0x78, LCP_MAGIC, 6, 0x11, 0x22, 0x33, 0x44,
				      LCP_PFC, 2, LCP_ACFC, 2, LCP_ACCM, 6, 0, 0, 0, 0 };

static void
take_challenge(void)
{
	const uint8_t *f = EXPECT(PPP_CHAP, CHAP_CHALLENGE);
	size_t nlen = strlen(h.conf.name);

	h.chap_id = fid(f);
	CHECK_EQ(fdlen(f), 1 + 16 + nlen);
	CHECK_EQ(fdata(f)[0], 16);
	memcpy(h.challenge, fdata(f) + 1, 16);
	CHECK(memcmp(fdata(f) + 17, h.conf.name, nlen) == 0);
}

/* LCP to Opened, leaving the server's CHAP Challenge taken. */
static void
lcp_open(void)
{
	const uint8_t *f;

	take_lcp_req();
	cp(PPP_LCP, PPP_CONF_REQ, 0x21, client_lcp, sizeof(client_lcp));
	f = EXPECT(PPP_LCP, PPP_CONF_ACK);
	CHECK_EQ(fid(f), 0x21);
	CHECK_EQ(fdlen(f), sizeof(client_lcp));
	CHECK_MEM(fdata(f), client_lcp, sizeof(client_lcp));
	cp(PPP_LCP, PPP_CONF_ACK, h.lcp_id, h.lcp_opts, h.lcp_len);
	CHECK_EQ(h.l.lcp.state, FSM_OPENED);
	CHECK_EQ(h.l.peer_mru, 1400);
	CHECK_EQ(h.l.peer_magic, 0x11223344);
	CHECK_STR(ppp_link_state(&h.l), "auth");
	take_challenge();
}

/* An MS-CHAPv2 Response as a client computes it (RFC 2759 4 and 8). */
static void
chap_respond(const char *user, const char *password, uint8_t id)
{
	uint8_t b[1 + MSCHAPV2_RESPONSE_LEN + CHAP_NAME_MAX];
	const char *bare = strrchr(user, '\\') ? strrchr(user, '\\') + 1 : user;
	size_t n = strlen(user);

	CHECK_EQ(mschapv2_nt_hash(password, h.pw_hash), 0);
	CHECK_EQ(mschapv2_nt_response(h.challenge, peer_challenge, bare, h.pw_hash, h.nt), 0);
	b[0] = MSCHAPV2_RESPONSE_LEN;
	memcpy(b + 1, peer_challenge, 16);
	memset(b + 17, 0, 8);
	memcpy(b + 25, h.nt, 24);
	b[49] = 0;
	memcpy(b + 50, user, n);
	cp(PPP_CHAP, CHAP_RESPONSE, id, b, (uint16_t)(50 + n));
}

/* The network-phase requests the server sends right after its Success. */
static void
take_ncp_reqs(bool ccp)
{
	const uint8_t *f, *o;

	if (ccp) {
		f = EXPECT(PPP_CCP, PPP_CONF_REQ);
		h.ccp_id = fid(f);
		h.ccp_len = fdlen(f);
		CHECK_EQ(h.ccp_len, 6);
		memcpy(h.ccp_opts, fdata(f), h.ccp_len <= 64 ? h.ccp_len : 64);
		CHECK_EQ(h.ccp_opts[0], CCP_MPPE);
	}
	f = EXPECT(PPP_IPCP, PPP_CONF_REQ);
	h.ipcp_id = fid(f);
	h.ipcp_len = fdlen(f);
	memcpy(h.ipcp_opts, fdata(f), h.ipcp_len <= 64 ? h.ipcp_len : 64);
	o = find_opt(h.ipcp_opts, h.ipcp_len, IPCP_ADDR);
	CHECK(o != NULL && o[1] == 6 && memcmp(o + 2, &h.conf.local_addr, 4) == 0);
}

/* A good MS-CHAPv2 login: the Success message carries RFC 2759's "S=" value. */
static void
auth_ok(const char *user, const char *password)
{
	char want[MSCHAPV2_AUTH_RESPONSE_LEN + 1];
	const char *bare = strrchr(user, '\\') ? strrchr(user, '\\') + 1 : user;
	const uint8_t *f;

	chap_respond(user, password, h.chap_id);
	f = EXPECT(PPP_CHAP, CHAP_SUCCESS);
	CHECK_EQ(fid(f), h.chap_id);
	mschapv2_auth_response(h.pw_hash, h.nt, peer_challenge, h.challenge, bare, want);
	CHECK(fdlen(f) >= MSCHAPV2_AUTH_RESPONSE_LEN);
	CHECK_MEM(fdata(f), want, MSCHAPV2_AUTH_RESPONSE_LEN);
	/* Anything after the 42 bytes is " M=<message>" (RFC 2759 5). */
	CHECK(fdlen(f) == MSCHAPV2_AUTH_RESPONSE_LEN ||
	      memcmp(fdata(f) + MSCHAPV2_AUTH_RESPONSE_LEN, " M=", 3) == 0);
	CHECK(h.l.authenticated);
	CHECK_STR(h.l.user, user);
	CHECK_STR(ppp_link_state(&h.l), "network");
	take_ncp_reqs(h.conf.mppe != PPP_MPPE_OFF);
}

/* IPCP: the client asks 0.0.0.0 and DNS 0, is Nak-ed to the real values, asks again. */
static void
ipcp_open(uint32_t want_addr)
{
	static const uint8_t ask[] = { IPCP_ADDR, 6, 0, 0, 0, 0, IPCP_DNS1, 6, 0, 0, 0, 0, IPCP_DNS2, 6, 0, 0, 0, 0 };
	uint8_t nak[sizeof(ask)];
	const uint8_t *f;
	unsigned allocs = h.alloc;

	memcpy(nak, ask, sizeof(ask));
	memcpy(nak + 2, &want_addr, 4);
	memcpy(nak + 8, &h.conf.dns[0], 4);
	memcpy(nak + 14, &h.conf.dns[1], 4);
	cp(PPP_IPCP, PPP_CONF_REQ, 1, ask, sizeof(ask));
	f = EXPECT(PPP_IPCP, PPP_CONF_NAK);
	CHECK_EQ(fid(f), 1);
	CHECK_EQ(fdlen(f), sizeof(nak));
	CHECK_MEM(fdata(f), nak, sizeof(nak));
	CHECK_EQ(h.alloc, allocs + 1);
	cp(PPP_IPCP, PPP_CONF_REQ, 2, nak, sizeof(nak));
	f = EXPECT(PPP_IPCP, PPP_CONF_ACK);
	CHECK_EQ(fid(f), 2);
	CHECK_EQ(fdlen(f), sizeof(nak));
	CHECK_MEM(fdata(f), nak, sizeof(nak));
	CHECK_EQ(h.alloc, allocs + 1); /* one address per session */
	cp(PPP_IPCP, PPP_CONF_ACK, h.ipcp_id, h.ipcp_opts, h.ipcp_len);
	CHECK_EQ(h.l.ipcp.state, FSM_OPENED);
	CHECK_EQ(h.l.peer_addr, want_addr);
}

/* CCP: the client asks for bits and the server agrees; then it acks the server's request. */
static void
ccp_open(uint32_t bits)
{
	uint8_t o[6] = { CCP_MPPE, 6 };
	const uint8_t *f;

	put32(o + 2, bits);
	cp(PPP_CCP, PPP_CONF_REQ, 0x41, o, 6);
	f = EXPECT(PPP_CCP, PPP_CONF_ACK);
	CHECK_EQ(fid(f), 0x41);
	CHECK_MEM(fdata(f), o, 6);
	cp(PPP_CCP, PPP_CONF_ACK, h.ccp_id, h.ccp_opts, h.ccp_len);
	CHECK_EQ(h.l.ccp.state, FSM_OPENED);
}

/* The whole default session: MS-CHAPv2, IPCP from the pool, MPPE 128 stateless. */
static void
bring_up(void)
{
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	ipcp_open(h.pool_addr);
	CHECK_EQ(h.up, 0);              /* MPPE is required: nothing flows before CCP */
	ccp_open(MPPE_OPT_H | MPPE_OPT_S);
	CHECK_EQ(h.up, 1);
	CHECK(h.mppe_on_at_up);
	CHECK_STR(ppp_link_state(&h.l), "open");
	EXPECT_NONE();
}

/* Runs the timer every 100 ms up to t; returns how many frames were sent meanwhile. */
static unsigned
run_until(uint64_t t)
{
	unsigned before = h.nf;

	while (h.now + 100 <= t) {
		h.now += 100;
		ppp_link_timer(&h.l, h.now);
	}
	return h.nf - before;
}

/* ---- RFC 3079 key derivation, written from the RFC ------------------------ */

static const char magic1[] = "This is the MPPE Master Key";
static const char magic2[] = "On the client side, this is the send key; on the server side, it is the receive key.";
static const char magic3[] = "On the client side, this is the receive key; on the server side, it is the send key.";

static void
sha1_of(const void *const *parts, const size_t *lens, unsigned n, uint8_t out[20])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	CHECK(c != NULL && EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1);
	for (unsigned i = 0; i < n; i++)
		EVP_DigestUpdate(c, parts[i], lens[i]);
	EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
}

/* GetMasterKey (RFC 3079 3.4) */
static void
rfc_master_key(const uint8_t pwhh[16], const uint8_t nt[24], uint8_t mk[16])
{
	const void *p[] = { pwhh, nt, magic1 };
	const size_t n[] = { 16, 24, sizeof(magic1) - 1 };
	uint8_t d[20];

	sha1_of(p, n, 3, d);
	memcpy(mk, d, 16);
}

/* GetAsymmetricStartKey (RFC 3079 3.4) */
static void
rfc_start_key(const uint8_t mk[16], unsigned len, bool is_send, bool is_server, uint8_t *out)
{
	uint8_t pad1[40], pad2[40], d[20];
	const char *s = is_send == is_server ? magic3 : magic2;
	const void *p[] = { mk, pad1, s, pad2 };
	const size_t n[] = { 16, 40, 84, 40 };

	memset(pad1, 0, sizeof(pad1));
	memset(pad2, 0xf2, sizeof(pad2));
	CHECK_EQ(strlen(s), 84);
	sha1_of(p, n, 4, d);
	memcpy(out, d, len);
}

static void
md4(const uint8_t *in, size_t n, uint8_t out[16])
{
	EVP_MD *m = EVP_MD_fetch(NULL, "MD4", "provider=legacy");

	CHECK(m != NULL && EVP_Digest(in, n, out, NULL, m, NULL) == 1);
	EVP_MD_free(m);
}

/* The model above against RFC 3079 3.5's sample derivation (same user as RFC 2759 9.2). */
static void
test_key_model(void)
{
	uint8_t pwhh[16], nt[24], mk[16], k[16], want[16];

	unhex("41C00C584BD2D91C4017A2A12FA59F3F", pwhh);
	unhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF", nt);
	rfc_master_key(pwhh, nt, mk);
	unhex("FDECE3717A8C838CB388E527AE3CDD31", want);
	CHECK_MEM(mk, want, 16);
	rfc_start_key(mk, 16, true, true, k);
	unhex("8B7CDC149B993A1BA118CB153F56DCCB", want);
	CHECK_MEM(k, want, 16);
}

/* The link's start keys: RFC 3079 3.3 seen from the client. */
static void
check_keys(unsigned key_len)
{
	uint8_t pwhh[16], mk[16], client_send[16], client_recv[16];

	md4(h.pw_hash, 16, pwhh);
	CHECK_MEM(h.l.mschap.pw_hash_hash, pwhh, 16);
	CHECK_MEM(h.l.mschap.nt_response, h.nt, 24);
	rfc_master_key(pwhh, h.nt, mk);
	rfc_start_key(mk, key_len, true, false, client_send);
	rfc_start_key(mk, key_len, false, false, client_recv);
	/* What the server sends the client receives, and the reverse. */
	CHECK_MEM(h.l.mppe_send_key, client_recv, key_len);
	CHECK_MEM(h.l.mppe_recv_key, client_send, key_len);
	CHECK(memcmp(h.l.mppe_send_key, h.l.mppe_recv_key, key_len) != 0);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_full_session(void)
{
	const uint8_t *o;

	reset();
	start();
	/* The server's LCP request: CHAP with MS-CHAPv2, a magic, no MRU at the default 1500. */
	take_lcp_req();
	o = find_opt(h.lcp_opts, h.lcp_len, LCP_AUTH);
	{
		static const uint8_t want[] = { LCP_AUTH, 5, 0xc2, 0x23, 0x81 };

		CHECK(o != NULL && memcmp(o, want, sizeof(want)) == 0);
	}
	CHECK(find_opt(h.lcp_opts, h.lcp_len, LCP_MRU) == NULL);
	CHECK_EQ(h.srv_magic, h.l.our_magic);
	CHECK_EQ(ppp_link_next_deadline(&h.l), h.now + h.conf.restart_ms);

	/* The rest, with the client acking first this time (crossed order is fine). */
	cp(PPP_LCP, PPP_CONF_ACK, h.lcp_id, h.lcp_opts, h.lcp_len);
	CHECK_EQ(h.l.lcp.state, FSM_ACKRCVD);
	EXPECT_NONE();
	cp(PPP_LCP, PPP_CONF_REQ, 0x21, client_lcp, sizeof(client_lcp));
	EXPECT(PPP_LCP, PPP_CONF_ACK);
	CHECK_EQ(h.l.lcp.state, FSM_OPENED);
	take_challenge();
	auth_ok("User", "clientPass");
	/* CCP carries what the configuration asks: 128-bit, stateless allowed -> H|S. */
	CHECK_EQ(get32(h.ccp_opts + 2), MPPE_OPT_H | MPPE_OPT_S);
	ipcp_open(h.pool_addr);
	CHECK_STR(h.alloc_user, "User");
	CHECK_EQ(h.alloc_fixed, 0);
	CHECK_EQ(h.up, 0);
	CHECK_STR(ppp_link_state(&h.l), "network");
	ccp_open(MPPE_OPT_H | MPPE_OPT_S);
	CHECK_EQ(h.up, 1);
	CHECK(h.mppe_on_at_up);
	CHECK_EQ(h.mppe, 0);            /* keys were ready before up: up covers them */
	CHECK(h.l.mppe_on);
	CHECK(h.l.mppe_stateless);
	CHECK_EQ(h.l.mppe_key_bits, 128);
	check_keys(16);
	CHECK_STR(ppp_link_state(&h.l), "open");
	CHECK_EQ(h.l.rx_bad, 0);
	CHECK_EQ(h.l.tx_frames, h.nf);
	CHECK_EQ(h.down, 0);
	CHECK_EQ(ppp_link_next_deadline(&h.l), h.conf.echo_interval_ms); /* only the echo timer is left */
	EXPECT_NONE();

	/* A repeated Response (our Success was lost) gets the same Success, nothing restarts. */
	{
		const uint8_t *f;
		uint8_t first[FMAX];
		uint16_t first_len;
		unsigned i;

		for (i = 0; i < h.nf; i++)
			if (get16(h.f[i]) == PPP_CHAP && h.f[i][2] == CHAP_SUCCESS)
				break;
		CHECK(i < h.nf);
		first_len = i < h.nf ? h.flen[i] : 0;
		memcpy(first, i < h.nf ? h.f[i] : no_frame, FMAX);
		chap_respond("User", "clientPass", h.chap_id);
		f = EXPECT(PPP_CHAP, CHAP_SUCCESS);
		CHECK_EQ(h.flen[h.rd - 1], first_len);
		CHECK_MEM(f, first, first_len);
		EXPECT_NONE();
		CHECK_EQ(h.up, 1);
		CHECK_EQ(h.alloc, 1);
	}
}

/* A fixed address from chap-secrets is passed to addr_alloc; a DOMAIN\ prefix is stripped for the hash. */
static void
test_fixed_address(void)
{
	reset();
	start();
	lcp_open();
	auth_ok("fixed", "fixed pass");
	ipcp_open(ip("10.9.8.7"));
	CHECK_STR(h.alloc_user, "fixed");
	CHECK_EQ(h.alloc_fixed, ip("10.9.8.7"));
	ccp_open(MPPE_OPT_H | MPPE_OPT_S);
	CHECK_EQ(h.up, 1);

	/* "DOMAIN\User": chap-secrets is looked up with the full name, the hash uses the bare one. */
	reset();
	chap_secrets_free(&h.secrets);
	CHECK_EQ(chap_secrets_parse("s", "\"CORP\\\\User\" * clientPass\n", &h.secrets), 0);
	CHECK_STR(h.secrets.v[0].client, "CORP\\User");
	start();
	lcp_open();
	auth_ok("CORP\\User", "clientPass");
	CHECK_EQ(h.down, 0);
}

static void
test_ipcp_details(void)
{
	const uint8_t *f;

	reset();
	h.conf.dns[1] = 0;              /* no secondary DNS: the option is rejected */
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	{
		/* VJ compression and a missing DNS are rejected, and only they (RFC 1661 5.4). */
		static const uint8_t req[] = { IPCP_ADDR, 6, 10, 0, 0, 77, IPCP_COMP, 6, 0x00, 0x2d, 0x0f, 0x01,
					       IPCP_DNS2, 6, 0, 0, 0, 0 };
		static const uint8_t rej[] = { IPCP_COMP, 6, 0x00, 0x2d, 0x0f, 0x01, IPCP_DNS2, 6, 0, 0, 0, 0 };

		cp(PPP_IPCP, PPP_CONF_REQ, 7, req, sizeof(req));
		f = EXPECT(PPP_IPCP, PPP_CONF_REJ);
		CHECK_EQ(fid(f), 7);
		CHECK_EQ(fdlen(f), sizeof(rej));
		CHECK_MEM(fdata(f), rej, sizeof(rej));
	}
	{
		/* An address of the client's choosing is Nak-ed to the pool's. */
		static const uint8_t req[] = { IPCP_ADDR, 6, 10, 0, 0, 77 };
		uint8_t nak[6] = { IPCP_ADDR, 6 };

		memcpy(nak + 2, &h.pool_addr, 4);
		cp(PPP_IPCP, PPP_CONF_REQ, 8, req, sizeof(req));
		f = EXPECT(PPP_IPCP, PPP_CONF_NAK);
		CHECK_MEM(fdata(f), nak, 6);
		cp(PPP_IPCP, PPP_CONF_REQ, 9, nak, sizeof(nak));
		EXPECT(PPP_IPCP, PPP_CONF_ACK);
		CHECK_EQ(h.alloc, 1);
	}
	/* A Nak of our own address: ours is ours, the same request goes again with a new id. */
	{
		uint8_t other[6] = { IPCP_ADDR, 6, 10, 0, 0, 9 };

		cp(PPP_IPCP, PPP_CONF_NAK, h.ipcp_id, other, sizeof(other));
		f = EXPECT(PPP_IPCP, PPP_CONF_REQ);
		CHECK(fid(f) != h.ipcp_id);
		CHECK_EQ(fdlen(f), h.ipcp_len);
		CHECK_MEM(fdata(f), h.ipcp_opts, h.ipcp_len);
		h.ipcp_id = fid(f);
		cp(PPP_IPCP, PPP_CONF_ACK, h.ipcp_id, h.ipcp_opts, h.ipcp_len);
		CHECK_EQ(h.l.ipcp.state, FSM_OPENED);
	}
	EXPECT_NONE();
}

/* The pool is empty: the link ends with the reason, never up. */
static void
test_pool_empty(void)
{
	static const uint8_t ask[] = { IPCP_ADDR, 6, 0, 0, 0, 0 };
	const uint8_t *f;
	bool term = false;

	reset();
	h.pool_addr = 0;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	cp(PPP_IPCP, PPP_CONF_REQ, 1, ask, sizeof(ask));
	CHECK_EQ(h.alloc, 1);
	while (h.rd < h.nf) {
		f = h.f[h.rd++];
		if (get16(f) == PPP_LCP && f[2] == PPP_TERM_REQ) {
			term = true;
			cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
		}
		/* whatever else is sent, the client is never given an address */
		CHECK(!(get16(f) == PPP_IPCP && (f[2] == PPP_CONF_NAK || f[2] == PPP_CONF_ACK)));
	}
	CHECK(term);
	CHECK_EQ(h.up, 0);
	CHECK_EQ(h.down, 1);
	CHECK_STR(h.why, "no address left in the pool");
}

static void
test_lcp_options(void)
{
	const uint8_t *f, *o;

	reset();
	h.conf.mru = 1400;
	start();
	take_lcp_req();
	o = find_opt(h.lcp_opts, h.lcp_len, LCP_MRU);
	CHECK(o != NULL && o[1] == 4 && get16(o + 2) == 1400);
	{
		/* Our own magic back (a looped link) and a zero magic are Nak-ed with another value. */
		uint8_t req[6] = { LCP_MAGIC, 6 };

		put32(req + 2, h.srv_magic);
		cp(PPP_LCP, PPP_CONF_REQ, 1, req, sizeof(req));
		f = EXPECT(PPP_LCP, PPP_CONF_NAK);
		CHECK_EQ(fid(f), 1);
		CHECK(fdlen(f) == 6 && fdata(f)[0] == LCP_MAGIC && get32(fdata(f) + 2) != h.srv_magic &&
		      get32(fdata(f) + 2) != 0);
		put32(req + 2, 0);
		cp(PPP_LCP, PPP_CONF_REQ, 2, req, sizeof(req));
		f = EXPECT(PPP_LCP, PPP_CONF_NAK);
		CHECK(fdlen(f) == 6 && get32(fdata(f) + 2) != 0);
	}
	{
		/* A tiny MRU is Nak-ed up; callback and "authenticate yourself" are rejected. */
		static const uint8_t req[] = { LCP_MRU, 4, 0, 64, LCP_MAGIC, 6, 1, 2, 3, 4 };
		static const uint8_t rej_req[] = { LCP_MRU, 4, 0x05, 0xdc, LCP_CALLBACK, 3, 6,
						   LCP_AUTH, 4, 0xc0, 0x23 };
		static const uint8_t rej[] = { LCP_CALLBACK, 3, 6, LCP_AUTH, 4, 0xc0, 0x23 };

		cp(PPP_LCP, PPP_CONF_REQ, 3, req, sizeof(req));
		f = EXPECT(PPP_LCP, PPP_CONF_NAK);
		CHECK(fdlen(f) == 4 && fdata(f)[0] == LCP_MRU && get16(fdata(f) + 2) >= 128);
		cp(PPP_LCP, PPP_CONF_REQ, 4, rej_req, sizeof(rej_req));
		f = EXPECT(PPP_LCP, PPP_CONF_REJ);
		CHECK_EQ(fid(f), 4);
		CHECK_EQ(fdlen(f), sizeof(rej));
		CHECK_MEM(fdata(f), rej, sizeof(rej));
	}
	CHECK(h.l.lcp.state != FSM_OPENED && h.l.lcp.state != FSM_ACKSENT);
	/* A Nak of our MRU: the server asks again with the peer's value (bounded by its own). */
	{
		static const uint8_t nak[] = { LCP_MRU, 4, 0x05, 0x00 };

		cp(PPP_LCP, PPP_CONF_NAK, h.lcp_id, nak, sizeof(nak));
		f = EXPECT(PPP_LCP, PPP_CONF_REQ);
		CHECK(fid(f) != h.lcp_id);
		o = find_opt(fdata(f), fdlen(f), LCP_MRU);
		CHECK(o != NULL && get16(o + 2) == 1280);
	}
	EXPECT_NONE();
}

/* Auth negotiation in LCP: Nak to MD5 when allowed, give up when not. */
static void
test_lcp_auth_nak(void)
{
	static const uint8_t nak_md5[] = { LCP_AUTH, 5, 0xc2, 0x23, 0x05 };
	static const uint8_t nak_pap[] = { LCP_AUTH, 4, 0xc0, 0x23 };
	const uint8_t *f, *o;

	reset();
	h.conf.auth = PPP_AUTH_MSCHAPV2 | PPP_AUTH_MD5;
	h.conf.mppe = PPP_MPPE_OFF;
	start();
	take_lcp_req();
	cp(PPP_LCP, PPP_CONF_NAK, h.lcp_id, nak_md5, sizeof(nak_md5));
	f = EXPECT(PPP_LCP, PPP_CONF_REQ);
	o = find_opt(fdata(f), fdlen(f), LCP_AUTH);
	CHECK(o != NULL && memcmp(o, nak_md5, sizeof(nak_md5)) == 0);
	CHECK_EQ(h.l.auth, PPP_AUTH_MD5);

	/* MS-CHAPv2 only: a Nak to PAP ends the link (no authentication, no service). */
	reset();
	start();
	take_lcp_req();
	cp(PPP_LCP, PPP_CONF_NAK, h.lcp_id, nak_pap, sizeof(nak_pap));
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.down, 1);
	CHECK_EQ(h.up, 0);

	/* Rejecting the auth option ends it too. */
	reset();
	start();
	take_lcp_req();
	o = find_opt(h.lcp_opts, h.lcp_len, LCP_AUTH);
	cp(PPP_LCP, PPP_CONF_REJ, h.lcp_id, o ? o : nak_pap, 5);
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.down, 1);
	CHECK_EQ(h.up, 0);

	/* Rejecting the magic only drops it from the next request. */
	reset();
	start();
	take_lcp_req();
	{
		uint8_t rej[6] = { LCP_MAGIC, 6 };

		put32(rej + 2, h.srv_magic);
		cp(PPP_LCP, PPP_CONF_REJ, h.lcp_id, rej, sizeof(rej));
		f = EXPECT(PPP_LCP, PPP_CONF_REQ);
		CHECK(find_opt(fdata(f), fdlen(f), LCP_MAGIC) == NULL);
		CHECK(find_opt(fdata(f), fdlen(f), LCP_AUTH) != NULL);
	}
	CHECK_EQ(h.down, 0);
}

/* MD5-CHAP (RFC 1994): MD5(id | secret | challenge); no MPPE without MS-CHAPv2. */
static void
md5_response(uint8_t id, const char *secret, const char *name)
{
	uint8_t b[1 + 16 + CHAP_NAME_MAX];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t n = strlen(name);

	EVP_DigestInit_ex(c, EVP_md5(), NULL);
	EVP_DigestUpdate(c, &id, 1);
	EVP_DigestUpdate(c, secret, strlen(secret));
	EVP_DigestUpdate(c, h.challenge, 16);
	EVP_DigestFinal_ex(c, b + 1, NULL);
	EVP_MD_CTX_free(c);
	b[0] = 16;
	memcpy(b + 17, name, n);
	cp(PPP_CHAP, CHAP_RESPONSE, id, b, (uint16_t)(17 + n));
}

static void
test_md5(void)
{
	static const uint8_t ccp_req[] = { CCP_MPPE, 6, 0x01, 0, 0, 0x40 };
	const uint8_t *f, *o;

	reset();
	h.conf.auth = PPP_AUTH_MD5;
	h.conf.mppe = PPP_MPPE_OFF;
	start();
	take_lcp_req();
	o = find_opt(h.lcp_opts, h.lcp_len, LCP_AUTH);
	{
		static const uint8_t want[] = { LCP_AUTH, 5, 0xc2, 0x23, 0x05 };

		CHECK(o != NULL && memcmp(o, want, sizeof(want)) == 0);
	}
	cp(PPP_LCP, PPP_CONF_REQ, 1, client_lcp, sizeof(client_lcp));
	EXPECT(PPP_LCP, PPP_CONF_ACK);
	cp(PPP_LCP, PPP_CONF_ACK, h.lcp_id, h.lcp_opts, h.lcp_len);
	take_challenge();
	md5_response(h.chap_id, "md5secret", "md5");
	f = EXPECT(PPP_CHAP, CHAP_SUCCESS);
	CHECK_EQ(fid(f), h.chap_id);
	take_ncp_reqs(false);           /* IPCP only */
	ipcp_open(h.pool_addr);
	CHECK_EQ(h.up, 1);
	CHECK(!h.mppe_on_at_up);
	/* CCP is not served without MPPE: LCP Protocol-Rejects it. */
	cp(PPP_CCP, PPP_CONF_REQ, 5, ccp_req, sizeof(ccp_req));
	f = EXPECT(PPP_LCP, PPP_PROTO_REJ);
	CHECK(fdlen(f) >= 2 && get16(fdata(f)) == PPP_CCP);
	CHECK_EQ(h.l.proto_rejects_sent, 1);
	EXPECT_NONE();

	/* A wrong MD5 secret fails. */
	reset();
	h.conf.auth = PPP_AUTH_MD5;
	h.conf.mppe = PPP_MPPE_OFF;
	start();
	lcp_open();
	md5_response(h.chap_id, "not-the-secret", "md5");
	f = EXPECT(PPP_CHAP, CHAP_FAILURE);
	CHECK_EQ(fid(f), h.chap_id);
	EXPECT(PPP_LCP, PPP_TERM_REQ);

	/* MD5 while MPPE is required: keys cannot exist, so the link ends. */
	reset();
	h.conf.auth = PPP_AUTH_MD5;
	start();
	lcp_open();
	md5_response(h.chap_id, "md5secret", "md5");
	EXPECT(PPP_CHAP, CHAP_SUCCESS);
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.up, 0);
	CHECK_EQ(h.down, 1);
	CHECK(strstr(h.why, "MPPE") != NULL);
}

/* Wrong password / unknown user: CHAP Failure (code 4) with E=691, then the link ends. */
static void
test_auth_failure(void)
{
	const uint8_t *f;
	char want[64];

	reset();
	start();
	lcp_open();
	chap_respond("User", "wrongPass", h.chap_id);
	f = EXPECT(PPP_CHAP, CHAP_FAILURE);
	CHECK_EQ(fid(f), h.chap_id);
	/* RFC 2759 6: E=691 (bad credentials), R=0, C=<our challenge in hex>, V=3 */
	{
		int n = snprintf(want, sizeof(want), "E=691 R=0 C=");

		for (int i = 0; i < 16; i++)
			n += snprintf(want + n, sizeof(want) - (size_t)n, "%02X", h.challenge[i]);
		snprintf(want + n, sizeof(want) - (size_t)n, " V=3");
	}
	CHECK(fdlen(f) >= strlen(want) && memcmp(fdata(f), want, strlen(want)) == 0);
	CHECK(!h.l.authenticated);
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	CHECK_STR(ppp_link_state(&h.l), "terminate");
	CHECK_EQ(h.down, 0);
	/* A right answer now comes too late. */
	chap_respond("User", "clientPass", h.chap_id);
	EXPECT_NONE();
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.down, 1);
	CHECK_STR(h.why, "authentication failed");
	CHECK_EQ(h.up, 0);
	CHECK_EQ(h.alloc, 0);
	CHECK_STR(ppp_link_state(&h.l), "dead");
	/* Dead is dead: nothing answers, no timer fires. */
	cp(PPP_LCP, PPP_CONF_REQ, 9, client_lcp, sizeof(client_lcp));
	CHECK_EQ(run_until(h.now + 60000), 0);
	CHECK_EQ(h.down, 1);
	CHECK_EQ(ppp_link_next_deadline(&h.l), UINT64_MAX);

	/* A user chap-secrets does not know. */
	reset();
	start();
	lcp_open();
	chap_respond("nobody", "clientPass", h.chap_id);
	EXPECT(PPP_CHAP, CHAP_FAILURE);
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.down, 1);
	CHECK_STR(h.why, "authentication failed");

	/* The right password of another user. */
	reset();
	start();
	lcp_open();
	chap_respond("fixed", "clientPass", h.chap_id);
	EXPECT(PPP_CHAP, CHAP_FAILURE);

	/* MS-CHAPv2 with a value of the wrong size (an MD5-sized one) fails, it is not a crash. */
	reset();
	start();
	lcp_open();
	{
		uint8_t b[1 + 16 + 4] = { 16 };

		memcpy(b + 17, "User", 4);
		cp(PPP_CHAP, CHAP_RESPONSE, h.chap_id, b, sizeof(b));
		EXPECT(PPP_CHAP, CHAP_FAILURE);
	}
}

/* The client renegotiates LCP (RFC 1661 3.2: back to Establish); LCP opens again and asks for CHAP. */
static void
renegotiate_lcp(void)
{
	const uint8_t *f;

	cp(PPP_LCP, PPP_CONF_REQ, 0x22, client_lcp, sizeof(client_lcp));
	take_lcp_req();
	f = EXPECT(PPP_LCP, PPP_CONF_ACK);
	CHECK_EQ(fid(f), 0x22);
	CHECK_STR(ppp_link_state(&h.l), "establish");
	cp(PPP_LCP, PPP_CONF_ACK, h.lcp_id, h.lcp_opts, h.lcp_len);
	CHECK_EQ(h.l.lcp.state, FSM_OPENED);
	take_challenge();
	CHECK(!h.l.authenticated);
}

/* After an LCP renegotiation the same user may authenticate again; another user may not. */
static void
test_reauth_other_user(void)
{
	const uint8_t *f;
	uint32_t addr;

	reset();
	bring_up();
	addr = h.l.peer_addr;
	CHECK(addr != 0);
	renegotiate_lcp();
	/* The same user again: Success, and the session keeps its address. */
	chap_respond("User", "clientPass", h.chap_id);
	EXPECT(PPP_CHAP, CHAP_SUCCESS);
	CHECK(h.l.authenticated);
	CHECK_EQ(h.l.peer_addr, addr);
	CHECK_EQ(h.alloc, 1);
	CHECK_EQ(h.down, 0);

	/* Another user with valid credentials: refused, the link closes, the first user stays on record. */
	reset();
	bring_up();
	renegotiate_lcp();
	{
		char pw[] = "fixed pass";

		chap_respond("fixed", pw, h.chap_id);
	}
	f = EXPECT(PPP_CHAP, CHAP_FAILURE);
	CHECK_EQ(fid(f), h.chap_id);
	CHECK(!h.l.authenticated);
	CHECK_STR(h.l.user, "User");
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.down, 1);
	CHECK_STR(h.why, "authenticated again as another user");
	CHECK_EQ(h.alloc, 1);
}

/* Protocols nobody serves are Protocol-Rejected once the link is open (RFC 1661 5.7). */
static void
test_protocol_reject(void)
{
	uint8_t fr[FMAX + 200];
	const uint8_t *f;
	/* IPV6CP Configure-Request with an interface identifier */
	static const uint8_t v6cp[] = { 0x80, 0x57, 0x01, 0x01, 0x00, 0x0e, 0x01, 0x0a,
					0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

	reset();
	start();
	/* Before LCP is open: silently discarded. */
	raw(v6cp, sizeof(v6cp));
	CHECK_EQ(h.nf, 1);              /* only the request start() sent */
	lcp_open();
	/* During authentication: still discarded (RFC 1661 3.5). */
	raw(v6cp, sizeof(v6cp));
	EXPECT_NONE();
	CHECK_EQ(h.l.proto_rejects_sent, 0);
	auth_ok("User", "clientPass");
	ipcp_open(h.pool_addr);
	ccp_open(MPPE_OPT_H | MPPE_OPT_S);
	CHECK_EQ(h.up, 1);

	raw(v6cp, sizeof(v6cp));
	f = EXPECT(PPP_LCP, PPP_PROTO_REJ);
	CHECK_EQ(fdlen(f), sizeof(v6cp));       /* rejected protocol + the whole packet */
	CHECK_MEM(fdata(f), v6cp, sizeof(v6cp));
	CHECK_EQ(h.l.proto_rejects_sent, 1);

	/* A compressed one-byte protocol field is expanded in the reject. */
	{
		static const uint8_t pfc[] = { 0x3d, 0xaa, 0xbb }; /* 0x003d, multilink */
		static const uint8_t want[] = { 0x00, 0x3d, 0xaa, 0xbb };

		raw(pfc, sizeof(pfc));
		f = EXPECT(PPP_LCP, PPP_PROTO_REJ);
		CHECK_EQ(fdlen(f), sizeof(want));
		CHECK_MEM(fdata(f), want, sizeof(want));
	}
	/* A big one is cut to fit the client's MRU (1400). */
	memset(fr, 0x5a, sizeof(fr));
	fr[0] = 0x80;
	fr[1] = 0x57;
	raw(fr, 1600);
	f = EXPECT(PPP_LCP, PPP_PROTO_REJ);
	CHECK_EQ(fdlen(f), 1400 - 4);
	CHECK_EQ(h.flen[h.rd - 1], 2 + 1400);
	CHECK_MEM(fdata(f), fr, 1400 - 4);
	CHECK_EQ(h.l.proto_rejects_sent, 3);

	/* An LCP code nobody knows gets a Code-Reject carrying the packet. */
	{
		static const uint8_t pkt[] = { 0x20, 0x05, 0x00, 0x06, 0xde, 0xad };

		cp(PPP_LCP, 0x20, 0x05, pkt + 4, 2);
		f = EXPECT(PPP_LCP, PPP_CODE_REJ);
		CHECK_EQ(fdlen(f), sizeof(pkt));
		CHECK_MEM(fdata(f), pkt, sizeof(pkt));
	}
	/* IPCP has no Echo: also a Code-Reject, in IPCP. */
	cp(PPP_IPCP, PPP_ECHO_REQ, 6, "abcd", 4);
	f = EXPECT(PPP_IPCP, PPP_CODE_REJ);
	CHECK(fdlen(f) == 8 && fdata(f)[0] == PPP_ECHO_REQ && fdata(f)[1] == 6);
	EXPECT_NONE();
	CHECK_EQ(h.down, 0);
}

/* Frames that do not belong to the current state are dropped without answers. */
static void
test_out_of_state(void)
{
	static const uint8_t ask[] = { IPCP_ADDR, 6, 0, 0, 0, 0 };
	static const uint8_t mppe[] = { CCP_MPPE, 6, 0x01, 0, 0, 0x40 };
	uint64_t bad;

	reset();
	start();
	take_lcp_req();
	/* Establish phase: CHAP, IPCP and CCP go nowhere. */
	chap_respond("User", "clientPass", 1);
	cp(PPP_IPCP, PPP_CONF_REQ, 1, ask, sizeof(ask));
	cp(PPP_CCP, PPP_CONF_REQ, 1, mppe, sizeof(mppe));
	EXPECT_NONE();
	CHECK_EQ(h.alloc, 0);
	/* Acks, Naks and Rejects with an id we never used: ignored (RFC 1661 5.2-5.4). */
	cp(PPP_LCP, PPP_CONF_ACK, (uint8_t)(h.lcp_id + 1), h.lcp_opts, h.lcp_len);
	cp(PPP_LCP, PPP_CONF_NAK, (uint8_t)(h.lcp_id + 1), h.lcp_opts, h.lcp_len);
	cp(PPP_LCP, PPP_CONF_REJ, (uint8_t)(h.lcp_id + 7), h.lcp_opts, h.lcp_len);
	EXPECT_NONE();
	CHECK_EQ(h.l.lcp.state, FSM_REQSENT);
	/* Echo before Opened: no reply. */
	cp(PPP_LCP, PPP_ECHO_REQ, 3, "\x11\x22\x33\x44", 4);
	EXPECT_NONE();
	/* Now open LCP properly. */
	cp(PPP_LCP, PPP_CONF_REQ, 0x21, client_lcp, sizeof(client_lcp));
	EXPECT(PPP_LCP, PPP_CONF_ACK);
	cp(PPP_LCP, PPP_CONF_ACK, h.lcp_id, h.lcp_opts, h.lcp_len);
	take_challenge();

	/* Authentication phase: IPCP and CCP are discarded (RFC 1661 3.5), not rejected. */
	cp(PPP_IPCP, PPP_CONF_REQ, 1, ask, sizeof(ask));
	cp(PPP_CCP, PPP_CONF_REQ, 1, mppe, sizeof(mppe));
	EXPECT_NONE();
	CHECK_EQ(h.alloc, 0);
	CHECK_EQ(h.l.ipcp.state, FSM_CLOSED);
	CHECK_EQ(h.l.ccp.state, FSM_CLOSED);
	/* A Response with another id: counted, no verdict. */
	bad = h.l.rx_bad;
	chap_respond("User", "clientPass", (uint8_t)(h.chap_id + 1));
	EXPECT_NONE();
	CHECK_EQ(h.l.rx_bad, bad + 1);
	CHECK(!h.l.authenticated);
	/* CHAP codes a client never sends to an authenticator. */
	cp(PPP_CHAP, CHAP_SUCCESS, h.chap_id, "S=00", 4);
	cp(PPP_CHAP, CHAP_CHALLENGE, h.chap_id, "\x10" "0123456789abcdef", 17);
	EXPECT_NONE();
	CHECK_EQ(h.l.rx_bad, bad + 3);
	CHECK(!h.l.authenticated);
	/* The right one still works, and the session comes up. */
	auth_ok("User", "clientPass");
	/* Stale NCP acks are ignored too. */
	cp(PPP_IPCP, PPP_CONF_ACK, (uint8_t)(h.ipcp_id + 1), h.ipcp_opts, h.ipcp_len);
	cp(PPP_CCP, PPP_CONF_ACK, (uint8_t)(h.ccp_id + 1), h.ccp_opts, h.ccp_len);
	EXPECT_NONE();
	CHECK_EQ(h.l.ipcp.state, FSM_REQSENT);
	CHECK_EQ(h.l.ccp.state, FSM_REQSENT);
	ipcp_open(h.pool_addr);
	ccp_open(MPPE_OPT_H | MPPE_OPT_S);
	CHECK_EQ(h.up, 1);
	CHECK_EQ(h.down, 0);
	/* A Configure-Ack for LCP when it is open with a stale id: still ignored, link stays. */
	cp(PPP_LCP, PPP_CONF_ACK, (uint8_t)(h.lcp_id + 3), h.lcp_opts, h.lcp_len);
	EXPECT_NONE();
	CHECK_EQ(h.l.lcp.state, FSM_OPENED);
	/* CCP Reset-Request is the data path's business: no reply from here. */
	cp(PPP_CCP, PPP_RESET_REQ, 1, NULL, 0);
	EXPECT_NONE();
}

/* Broken frames: counted in rx_bad, nothing crashes, nothing is answered as if valid. */
static void
test_malformed(void)
{
	uint8_t b[64];
	uint64_t bad;
	const uint8_t *f;

	reset();
	start();
	take_lcp_req();
	memset(b, 0, sizeof(b));

	bad = h.l.rx_bad;
	raw(b, 0);                                              /* nothing */
	CHECK_EQ(h.l.rx_bad, bad + 1);
	b[0] = 0xc0;
	raw(b, 1);                                              /* half a protocol field */
	CHECK_EQ(h.l.rx_bad, bad + 2);
	{
		static const uint8_t proto_only[] = { 0xc0, 0x21 };
		static const uint8_t short_hdr[] = { 0xc0, 0x21, 0x01, 0x05, 0x00 };
		static const uint8_t too_long[] = { 0xc0, 0x21, 0x01, 0x05, 0x00, 0x20, 0x01, 0x04, 0x05, 0xdc };
		static const uint8_t len_lt_hdr[] = { 0xc0, 0x21, 0x01, 0x05, 0x00, 0x02 };

		raw(proto_only, sizeof(proto_only));
		raw(short_hdr, sizeof(short_hdr));
		raw(too_long, sizeof(too_long));        /* length 32, 8 bytes there */
		raw(len_lt_hdr, sizeof(len_lt_hdr));    /* length 2 < header */
		CHECK_EQ(h.l.rx_bad, bad + 6);
	}
	EXPECT_NONE();

	/* Options with length 0, 1, past the end, or a wrong size for their type. */
	{
		static const uint8_t len0[] = { LCP_MRU, 4, 0x05, 0x78, LCP_MAGIC, 0 };
		static const uint8_t len1[] = { LCP_MAGIC, 1, 0, 0 };
		static const uint8_t past[] = { LCP_MRU, 10, 0x05, 0x78 };
		static const uint8_t badsize[] = { LCP_MRU, 3, 0x05 };
		const uint8_t *const lists[] = { len0, len1, past, badsize };
		const uint16_t lens[] = { sizeof(len0), sizeof(len1), sizeof(past), sizeof(badsize) };

		for (unsigned i = 0; i < 4; i++) {
			bad = h.l.rx_bad;
			cp(PPP_LCP, PPP_CONF_REQ, (uint8_t)(0x30 + i), lists[i], lens[i]);
			CHECK_EQ(h.l.rx_bad, bad + 1);
			/* never acked: whatever comes back is a Reject */
			if (h.rd < h.nf) {
				f = EXPECT(PPP_LCP, PPP_CONF_REJ);
				CHECK_EQ(fid(f), 0x30 + i);
			}
			CHECK_EQ(h.l.lcp.state, FSM_REQSENT);
		}
	}
	/* A malformed Nak of our request is dropped and counted, not taken as disagreement. */
	{
		static const uint8_t nak[] = { LCP_AUTH, 1, 0xc2 };

		bad = h.l.rx_bad;
		cp(PPP_LCP, PPP_CONF_NAK, h.lcp_id, nak, sizeof(nak));
		CHECK_EQ(h.l.rx_bad, bad + 1);
		EXPECT_NONE();
		CHECK_EQ(h.l.lcp.state, FSM_REQSENT);
		cp(PPP_LCP, PPP_CONF_REJ, h.lcp_id, nak, sizeof(nak));
		CHECK_EQ(h.l.rx_bad, bad + 2);
		EXPECT_NONE();
		CHECK_EQ(h.down, 0);
	}
	/* Padding past the length field is not part of the packet (RFC 1661 5). */
	{
		uint8_t pad[6 + sizeof(client_lcp) + 5];

		pad[0] = 0xc0;
		pad[1] = 0x21;
		pad[2] = PPP_CONF_REQ;
		pad[3] = 0x21;
		pad[4] = 0;
		pad[5] = (uint8_t)(4 + sizeof(client_lcp));
		memcpy(pad + 6, client_lcp, sizeof(client_lcp));
		memset(pad + 6 + sizeof(client_lcp), 0xff, 5);
		raw(pad, sizeof(pad));
		f = EXPECT(PPP_LCP, PPP_CONF_ACK);
		CHECK_EQ(fdlen(f), sizeof(client_lcp));
		CHECK_MEM(fdata(f), client_lcp, sizeof(client_lcp));
	}
	cp(PPP_LCP, PPP_CONF_ACK, h.lcp_id, h.lcp_opts, h.lcp_len);
	CHECK_EQ(h.l.lcp.state, FSM_OPENED);
	take_challenge();

	/* Broken CHAP Responses. */
	{
		uint8_t r[8] = { CHAP_RESPONSE, h.chap_id, 0x00, 0x08, 49, 1, 2, 3 }; /* value-size past the end */
		uint8_t fr[2 + sizeof(r)] = { 0xc2, 0x23 };

		bad = h.l.rx_bad;
		memcpy(fr + 2, r, sizeof(r));
		raw(fr, sizeof(fr));
		raw(fr, 2 + 4);                         /* no value-size byte */
		fr[5] = 0x40;                           /* length beyond the frame */
		raw(fr, sizeof(fr));
		fr[5] = 0x03;                           /* length below the header */
		raw(fr, sizeof(fr));
		CHECK_EQ(h.l.rx_bad, bad + 4);
		EXPECT_NONE();
		CHECK(!h.l.authenticated);
	}
	auth_ok("User", "clientPass");

	/* Broken NCP requests. */
	{
		static const uint8_t ip0[] = { IPCP_ADDR, 0, 0, 0, 0, 0 };
		static const uint8_t ip1[] = { IPCP_ADDR, 1 };
		static const uint8_t ip5[] = { IPCP_ADDR, 5, 10, 0, 0 };
		static const uint8_t ccp0[] = { CCP_MPPE, 0, 1, 0, 0, 0x40 };
		static const uint8_t ccp1[] = { CCP_MPPE, 1 };

		bad = h.l.rx_bad;
		cp(PPP_IPCP, PPP_CONF_REQ, 1, ip0, sizeof(ip0));
		cp(PPP_IPCP, PPP_CONF_REQ, 2, ip1, sizeof(ip1));
		cp(PPP_IPCP, PPP_CONF_REQ, 3, ip5, sizeof(ip5));
		cp(PPP_CCP, PPP_CONF_REQ, 4, ccp0, sizeof(ccp0));
		cp(PPP_CCP, PPP_CONF_REQ, 5, ccp1, sizeof(ccp1));
		CHECK_EQ(h.l.rx_bad, bad + 5);
		while (h.rd < h.nf) {
			f = h.f[h.rd++];
			CHECK(f[2] == PPP_CONF_REJ); /* never an Ack or a Nak with an address */
		}
		CHECK(h.l.ipcp.state != FSM_OPENED && h.l.ipcp.state != FSM_ACKSENT);
		CHECK(h.l.ccp.state != FSM_OPENED && h.l.ccp.state != FSM_ACKSENT);
	}
	/* The session still comes up afterwards. */
	ipcp_open(h.pool_addr);
	ccp_open(MPPE_OPT_H | MPPE_OPT_S);
	CHECK_EQ(h.up, 1);
	CHECK_EQ(h.down, 0);
}

/* No answer at all: Configure-Request every restart_ms, Max-Configure in total, then down. */
static void
test_lcp_timeout(void)
{
	unsigned reqs = 1;
	uint64_t last = 0;
	bool spaced = true;

	reset();
	h.conf.restart_ms = 3000;
	h.conf.max_configure = 10;
	start();
	EXPECT(PPP_LCP, PPP_CONF_REQ);
	CHECK_EQ(run_until(h.conf.restart_ms - 100), 0);
	while (h.down == 0 && h.now < 100000) {
		run_until(h.now + 100);
		while (h.rd < h.nf) {
			const uint8_t *f = EXPECT(PPP_LCP, PPP_CONF_REQ);

			(void)f;
			reqs++;
			spaced = spaced && h.now - last == h.conf.restart_ms;
			last = h.now;
		}
	}
	/* RFC 1661 4.6: Max-Configure counts the Configure-Requests sent. */
	CHECK_EQ(reqs, h.conf.max_configure);
	CHECK(spaced);
	CHECK_EQ(h.down, 1);
	CHECK_EQ(h.down_at, (uint64_t)h.conf.max_configure * h.conf.restart_ms);
	CHECK_STR(h.why, "negotiation timed out");
	CHECK_EQ(run_until(h.now + 30000), 0);
	CHECK_EQ(h.down, 1);

	/* The same with max_configure 3, restart 500. */
	reset();
	h.conf.restart_ms = 500;
	h.conf.max_configure = 3;
	start();
	run_until(10000);
	CHECK_EQ(h.nf, 3);
	CHECK_EQ(h.down, 1);
	CHECK_EQ(h.down_at, 1500);
}

/* No CHAP Response: the same Challenge again, then the link is closed. */
static void
test_chap_timeout(void)
{
	unsigned challenges = 1, term = 0;

	reset();
	h.conf.restart_ms = 1000;
	h.conf.max_configure = 4;
	h.conf.max_terminate = 2;
	start();
	lcp_open();
	while (h.down == 0 && h.now < 100000) {
		run_until(h.now + 100);
		while (h.rd < h.nf) {
			const uint8_t *f = h.f[h.rd++];

			if (get16(f) == PPP_CHAP) {
				CHECK_EQ(f[2], CHAP_CHALLENGE);
				CHECK_EQ(fid(f), h.chap_id);
				CHECK(memcmp(fdata(f) + 1, h.challenge, 16) == 0);
				challenges++;
			} else {
				CHECK(get16(f) == PPP_LCP && f[2] == PPP_TERM_REQ);
				term++;
			}
		}
	}
	CHECK_EQ(challenges, h.conf.max_configure);
	CHECK_EQ(term, h.conf.max_terminate);
	CHECK_EQ(h.down, 1);
	CHECK_STR(h.why, "no CHAP response");
	CHECK_EQ(h.up, 0);
}

/* LCP echo: a request every echo_interval_ms; echo_failures unanswered ones end the link. */
static void
test_echo(void)
{
	const uint8_t *f;
	uint64_t t0;

	reset();
	h.conf.echo_interval_ms = 1000;
	h.conf.echo_failures = 3;
	bring_up();
	t0 = h.now;     /* LCP opened at t0 */
	CHECK_EQ(ppp_link_next_deadline(&h.l), t0 + 1000);
	CHECK_EQ(run_until(t0 + 900), 0);

	/* The client's own Echo-Request: answered with our magic and its data. */
	{
		static const uint8_t req[] = { 0x11, 0x22, 0x33, 0x44, 'p', 'i', 'n', 'g' };

		cp(PPP_LCP, PPP_ECHO_REQ, 0x66, req, sizeof(req));
		f = EXPECT(PPP_LCP, PPP_ECHO_REPLY);
		CHECK_EQ(fid(f), 0x66);
		CHECK(fdlen(f) == sizeof(req) && get32(fdata(f)) == h.srv_magic &&
		      memcmp(fdata(f) + 4, "ping", 4) == 0);
	}

	/* Two answered echoes. */
	for (int i = 1; i <= 2; i++) {
		CHECK_EQ(run_until(t0 + 1000u * (unsigned)i), 1);
		f = EXPECT(PPP_LCP, PPP_ECHO_REQ);
		CHECK(fdlen(f) >= 4 && get32(fdata(f)) == h.srv_magic);
		{
			uint8_t rep[4];

			put32(rep, 0x11223344);
			cp(PPP_LCP, PPP_ECHO_REPLY, fid(f), rep, 4);
		}
		CHECK_EQ(run_until(t0 + 1000u * (unsigned)i + 900), 0);
	}
	CHECK_EQ(h.l.echo_replies, 2);
	/* Then silence: three more requests, then down, with no Terminate exchange. */
	CHECK_EQ(run_until(t0 + 5000), 3);
	for (int i = 0; i < 3; i++)
		EXPECT(PPP_LCP, PPP_ECHO_REQ);
	CHECK_EQ(h.down, 0);
	CHECK_EQ(run_until(t0 + 5900), 0);
	CHECK_EQ(h.down, 0);
	CHECK_EQ(run_until(t0 + 6000), 0);
	CHECK_EQ(h.down, 1);
	CHECK_EQ(h.down_at, t0 + 6000);
	CHECK_STR(h.why, "no LCP echo reply");
	CHECK_EQ(h.l.echo_sent, 5);
	CHECK_EQ(run_until(t0 + 20000), 0);

	/* echo_interval_ms 0: no echoes at all. */
	reset();
	h.conf.echo_interval_ms = 0;
	bring_up();
	CHECK_EQ(run_until(h.now + 120000), 0);
	CHECK_EQ(h.down, 0);
	CHECK_EQ(ppp_link_next_deadline(&h.l), UINT64_MAX);
}

/* The client ends the session: Terminate-Ack, then down. */
static void
test_peer_terminate(void)
{
	const uint8_t *f;

	reset();
	bring_up();
	cp(PPP_LCP, PPP_TERM_REQ, 0x77, "bye", 3);
	f = EXPECT(PPP_LCP, PPP_TERM_ACK);
	CHECK_EQ(fid(f), 0x77);
	CHECK_EQ(h.down, 1);
	CHECK_STR(h.why, "peer terminated");
	CHECK_STR(ppp_link_state(&h.l), "dead");
	/* Nothing more: no echo, no reply. */
	cp(PPP_LCP, PPP_ECHO_REQ, 1, "\x11\x22\x33\x44", 4);
	CHECK_EQ(run_until(h.now + 60000), 0);
	EXPECT_NONE();
	CHECK_EQ(h.down, 1);
}

/* ppp_link_close: Terminate-Request with the reason, down on the Ack or after Max-Terminate. */
static void
test_close(void)
{
	const uint8_t *f;
	unsigned term = 0;

	reset();
	bring_up();
	ppp_link_close(&h.l, "admin shutdown", h.now);
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	CHECK_EQ(fdlen(f), strlen("admin shutdown"));
	CHECK(memcmp(fdata(f), "admin shutdown", 14) == 0);
	CHECK_STR(ppp_link_state(&h.l), "terminate");
	CHECK_EQ(h.down, 0);
	/* Closing again does not send more. */
	ppp_link_close(&h.l, "again", h.now);
	EXPECT_NONE();
	/* Network traffic during Terminate is not served. */
	{
		static const uint8_t ask[] = { IPCP_ADDR, 6, 0, 0, 0, 0 };

		cp(PPP_IPCP, PPP_CONF_REQ, 9, ask, sizeof(ask));
		EXPECT_NONE();
	}
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.down, 1);
	CHECK_STR(h.why, "admin shutdown");
	CHECK_STR(ppp_link_state(&h.l), "dead");

	/* A client that does not answer: Max-Terminate requests restart_ms apart, then down. */
	reset();
	bring_up();
	ppp_link_close(&h.l, "admin shutdown", h.now);
	{
		uint64_t t0 = h.now;

		while (h.down == 0 && h.now < t0 + 100000) {
			run_until(h.now + 100);
			while (h.rd < h.nf) {
				EXPECT(PPP_LCP, PPP_TERM_REQ);
				term++;
			}
		}
		/* RFC 1661 4.6: Max-Terminate counts the Terminate-Requests sent. */
		CHECK_EQ(term, h.conf.max_terminate);
		CHECK_EQ(h.down, 1);
		CHECK_EQ(h.down_at, t0 + (uint64_t)h.conf.max_terminate * h.conf.restart_ms);
		CHECK_STR(h.why, "admin shutdown");
	}

	/* Closing before LCP is even open still says goodbye. */
	reset();
	start();
	EXPECT(PPP_LCP, PPP_CONF_REQ);
	ppp_link_close(&h.l, "shutting down", h.now);
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.down, 1);
	CHECK_STR(h.why, "shutting down");
}

/* MPPE required, and the client will not do CCP: no session. */
static void
test_mppe_required_refused(void)
{
	const uint8_t *f;

	/* Protocol-Reject of CCP. */
	reset();
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	ipcp_open(h.pool_addr);
	{
		uint8_t rej[2 + 4 + 6] = { 0x80, 0xfd, PPP_CONF_REQ, h.ccp_id, 0, 10 };

		memcpy(rej + 6, h.ccp_opts, 6);
		cp(PPP_LCP, PPP_PROTO_REJ, 0x31, rej, sizeof(rej));
	}
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	CHECK_EQ(h.up, 0);
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.down, 1);
	CHECK(strstr(h.why, "MPPE required") != NULL);
	CHECK_EQ(h.up, 0);
	CHECK(!h.l.mppe_on);

	/* Configure-Reject of option 18: CCP closes, then the link. */
	reset();
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	ipcp_open(h.pool_addr);
	cp(PPP_CCP, PPP_CONF_REJ, h.ccp_id, h.ccp_opts, h.ccp_len);
	f = EXPECT(PPP_CCP, PPP_TERM_REQ);
	cp(PPP_CCP, PPP_TERM_ACK, fid(f), NULL, 0);
	f = EXPECT(PPP_LCP, PPP_TERM_REQ);
	cp(PPP_LCP, PPP_TERM_ACK, fid(f), NULL, 0);
	CHECK_EQ(h.up, 0);
	CHECK_EQ(h.down, 1);
	CHECK(strstr(h.why, "MPPE required") != NULL);

	/* The client asks for MPPE the configuration cannot give (56-bit only): rejected. */
	reset();
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	{
		uint8_t o[6] = { CCP_MPPE, 6 };

		put32(o + 2, MPPE_OPT_H | MPPE_OPT_M);
		cp(PPP_CCP, PPP_CONF_REQ, 3, o, 6);
		f = EXPECT(PPP_CCP, PPP_CONF_REJ);
		CHECK_EQ(fid(f), 3);
		CHECK_MEM(fdata(f), o, 6);
		/* 40-bit is not configured (128 only): nothing to agree on. */
		put32(o + 2, MPPE_OPT_H | MPPE_OPT_L);
		cp(PPP_CCP, PPP_CONF_REQ, 5, o, 6);
		f = EXPECT(PPP_CCP, PPP_CONF_REJ);
		CHECK_MEM(fdata(f), o, 6);
		/* Other compressors (Stac LZS, 17) are rejected as well. */
		cp(PPP_CCP, PPP_CONF_REQ, 4, "\x11\x05\x00\x01\x04", 5);
		f = EXPECT(PPP_CCP, PPP_CONF_REJ);
		CHECK(fdlen(f) == 5 && fdata(f)[0] == 17);
	}
	CHECK_EQ(h.up, 0);
}

/* MPPE allowed, not required. */
static void
test_mppe_allow(void)
{
	const uint8_t *f;

	/* The client rejects CCP: the session is up without MPPE. */
	reset();
	h.conf.mppe = PPP_MPPE_ALLOW;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	ipcp_open(h.pool_addr);
	CHECK_EQ(h.up, 1);              /* IP may flow in the clear */
	CHECK(!h.mppe_on_at_up);
	{
		uint8_t rej[2 + 4 + 6] = { 0x80, 0xfd, PPP_CONF_REQ, h.ccp_id, 0, 10 };

		memcpy(rej + 6, h.ccp_opts, 6);
		cp(PPP_LCP, PPP_PROTO_REJ, 0x31, rej, sizeof(rej));
	}
	EXPECT_NONE();
	CHECK_EQ(h.down, 0);
	CHECK_EQ(h.up, 1);
	CHECK_EQ(h.mppe, 0);
	CHECK(!h.l.mppe_on);
	CHECK_STR(ppp_link_state(&h.l), "open");
	CHECK_EQ(run_until(h.now + 9000), 0); /* no CCP retransmissions after the reject */

	/* A Configure-Reject of MPPE: CCP closes, the session stays. */
	reset();
	h.conf.mppe = PPP_MPPE_ALLOW;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	ipcp_open(h.pool_addr);
	cp(PPP_CCP, PPP_CONF_REJ, h.ccp_id, h.ccp_opts, h.ccp_len);
	f = EXPECT(PPP_CCP, PPP_TERM_REQ);
	cp(PPP_CCP, PPP_TERM_ACK, fid(f), NULL, 0);
	EXPECT_NONE();
	CHECK_EQ(h.down, 0);
	CHECK_EQ(h.up, 1);
	CHECK(!h.l.mppe_on);

	/* CCP completing after up: the mppe callback hands over the keys. */
	reset();
	h.conf.mppe = PPP_MPPE_ALLOW;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	ipcp_open(h.pool_addr);
	CHECK_EQ(h.up, 1);
	CHECK_EQ(h.mppe, 0);
	ccp_open(MPPE_OPT_H | MPPE_OPT_S);
	CHECK_EQ(h.mppe, 1);
	CHECK_EQ(h.up, 1);
	CHECK(h.l.mppe_on);
	check_keys(16);
}

/* Preferring stateful: H is Nak-ed away once; a client that insists keeps it. */
static void
test_mppe_prefer_stateful(void)
{
	uint8_t hs[6] = { CCP_MPPE, 6 }, s[6] = { CCP_MPPE, 6 };
	const uint8_t *f;

	put32(hs + 2, MPPE_OPT_H | MPPE_OPT_S);
	put32(s + 2, MPPE_OPT_S);

	/* The client insists on stateless. */
	reset();
	h.conf.mppe_stateful = PPP_STATEFUL_PREFER;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	CHECK_EQ(get32(h.ccp_opts + 2), MPPE_OPT_S);    /* our own request: stateful */
	ipcp_open(h.pool_addr);
	cp(PPP_CCP, PPP_CONF_REQ, 1, hs, 6);
	f = EXPECT(PPP_CCP, PPP_CONF_NAK);
	CHECK_EQ(fid(f), 1);
	CHECK(fdlen(f) == 6 && memcmp(fdata(f), s, 6) == 0);
	cp(PPP_CCP, PPP_CONF_REQ, 2, hs, 6);
	f = EXPECT(PPP_CCP, PPP_CONF_ACK);
	CHECK_EQ(fid(f), 2);
	/* ... and Naks our stateful request to stateless: we follow. */
	cp(PPP_CCP, PPP_CONF_NAK, h.ccp_id, hs, 6);
	f = EXPECT(PPP_CCP, PPP_CONF_REQ);
	CHECK(fid(f) != h.ccp_id);
	CHECK(fdlen(f) == 6 && memcmp(fdata(f), hs, 6) == 0);
	cp(PPP_CCP, PPP_CONF_ACK, fid(f), fdata(f), 6);
	CHECK_EQ(h.l.ccp.state, FSM_OPENED);
	CHECK_EQ(h.up, 1);
	CHECK(h.l.mppe_stateless);
	CHECK_EQ(h.l.mppe_key_bits, 128);

	/* The client agrees to stateful. */
	reset();
	h.conf.mppe_stateful = PPP_STATEFUL_PREFER;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	ipcp_open(h.pool_addr);
	cp(PPP_CCP, PPP_CONF_REQ, 1, hs, 6);
	f = EXPECT(PPP_CCP, PPP_CONF_NAK);
	CHECK(fdlen(f) == 6 && memcmp(fdata(f), s, 6) == 0);
	cp(PPP_CCP, PPP_CONF_REQ, 2, s, 6);
	EXPECT(PPP_CCP, PPP_CONF_ACK);
	cp(PPP_CCP, PPP_CONF_ACK, h.ccp_id, h.ccp_opts, h.ccp_len);
	CHECK_EQ(h.up, 1);
	CHECK(h.l.mppe_on);
	CHECK(!h.l.mppe_stateless);
	check_keys(16);

	/* Stateful not allowed: a stateful request is Nak-ed to stateless. */
	reset();
	h.conf.mppe_stateful = PPP_STATEFUL_NO;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	cp(PPP_CCP, PPP_CONF_REQ, 1, s, 6);
	f = EXPECT(PPP_CCP, PPP_CONF_NAK);
	CHECK(fdlen(f) == 6 && memcmp(fdata(f), hs, 6) == 0);
	/* and a Nak of ours to stateful is not acceptable: CCP gives up. */
	cp(PPP_CCP, PPP_CONF_NAK, h.ccp_id, s, 6);
	EXPECT(PPP_CCP, PPP_TERM_REQ);
}

/* 40-bit keys only. */
static void
test_mppe_40(void)
{
	uint8_t o[6] = { CCP_MPPE, 6 };
	const uint8_t *f;

	reset();
	h.conf.mppe_bits = PPP_MPPE_40;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	CHECK_EQ(get32(h.ccp_opts + 2), MPPE_OPT_H | MPPE_OPT_L);
	ipcp_open(h.pool_addr);
	/* 128 and 40 offered: Nak to 40. */
	put32(o + 2, MPPE_OPT_H | MPPE_OPT_S | MPPE_OPT_L);
	cp(PPP_CCP, PPP_CONF_REQ, 1, o, 6);
	f = EXPECT(PPP_CCP, PPP_CONF_NAK);
	CHECK(fdlen(f) == 6 && get32(fdata(f) + 2) == (MPPE_OPT_H | MPPE_OPT_L));
	/* 128 only: nothing to agree on, rejected. */
	put32(o + 2, MPPE_OPT_H | MPPE_OPT_S);
	cp(PPP_CCP, PPP_CONF_REQ, 2, o, 6);
	EXPECT(PPP_CCP, PPP_CONF_REJ);
	/* 40: agreed. */
	ccp_open(MPPE_OPT_H | MPPE_OPT_L);
	CHECK_EQ(h.up, 1);
	CHECK(h.mppe_on_at_up);
	CHECK_EQ(h.l.mppe_key_bits, 40);
	CHECK(h.l.mppe_stateless);
	check_keys(8);
}

/*
 * mppe_bits = any (128 and 40) against a 40-only client (pppd
 * require-mppe-40, which rejects a lone S): both lengths offered, the
 * client's Nak to 40 taken, 40-bit keys.
 */
static void
test_mppe_any(void)
{
	uint8_t o[6] = { CCP_MPPE, 6 };
	const uint8_t *f;

	reset();
	h.conf.mppe_bits = PPP_MPPE_128 | PPP_MPPE_40;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	CHECK_EQ(get32(h.ccp_opts + 2), MPPE_OPT_H | MPPE_OPT_S | MPPE_OPT_L);
	ipcp_open(h.pool_addr);
	put32(o + 2, MPPE_OPT_H | MPPE_OPT_L);
	cp(PPP_CCP, PPP_CONF_NAK, h.ccp_id, o, 6);
	f = EXPECT(PPP_CCP, PPP_CONF_REQ);
	CHECK(fdlen(f) == 6 && get32(fdata(f) + 2) == (MPPE_OPT_H | MPPE_OPT_L));
	h.ccp_id = fid(f);
	memcpy(h.ccp_opts, fdata(f), 6);
	ccp_open(MPPE_OPT_H | MPPE_OPT_L);
	CHECK_EQ(h.up, 1);
	CHECK_EQ(h.l.mppe_key_bits, 40);
	check_keys(8);
	/* A 128-capable client still gets 128: both offered, 128 taken. */
	reset();
	h.conf.mppe_bits = PPP_MPPE_128 | PPP_MPPE_40;
	start();
	lcp_open();
	auth_ok("User", "clientPass");
	ipcp_open(h.pool_addr);
	put32(o + 2, MPPE_OPT_H | MPPE_OPT_S);
	cp(PPP_CCP, PPP_CONF_NAK, h.ccp_id, o, 6);
	f = EXPECT(PPP_CCP, PPP_CONF_REQ);
	h.ccp_id = fid(f);
	memcpy(h.ccp_opts, fdata(f), 6);
	ccp_open(MPPE_OPT_H | MPPE_OPT_S);
	CHECK_EQ(h.l.mppe_key_bits, 128);
	check_keys(16);
}

int
main(void)
{
	if (mschapv2_init() < 0) {
		fprintf(stderr, "mschapv2_init failed (OpenSSL legacy provider missing?)\n");
		return 1;
	}
	test_key_model();
	test_full_session();
	test_fixed_address();
	test_ipcp_details();
	test_pool_empty();
	test_lcp_options();
	test_lcp_auth_nak();
	test_md5();
	test_auth_failure();
	test_reauth_other_user();
	test_protocol_reject();
	test_out_of_state();
	test_malformed();
	test_lcp_timeout();
	test_chap_timeout();
	test_echo();
	test_peer_terminate();
	test_close();
	test_mppe_required_refused();
	test_mppe_allow();
	test_mppe_prefer_stateful();
	test_mppe_40();
	test_mppe_any();
	CHECK_EQ(h.overflow, 0);
	chap_secrets_free(&h.secrets);
	return check_summary("unit-ppp-link");
}
