/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MPPE: RFC 3079 key vectors; the wire output against a second MPPE sender
 * written here with OpenSSL SHA-1 and RC4, for long streams in both modes
 * and all key sizes; round trips through the receiver with loss, reordering,
 * duplicates and count wrap; and every kind of bad packet.
 */
#include <stdbool.h>

#include "check.h"
#include "mppe.h"
#include "mppe_impl.h"
#include "ossl.h"

/* ---- RFC 3079 section 3.5 ---------------------------------------------- */

static void
md4(const uint8_t *d, size_t n, uint8_t out[16])
{
	EVP_MD *md = EVP_MD_fetch(NULL, "MD4", "provider=legacy");

	CHECK(md != NULL && EVP_Digest(d, n, out, NULL, md, NULL));
	EVP_MD_free(md);
}

static void
test_rfc3079(void)
{
	const char *pw = "clientPass";
	uint8_t unicode[20], pwhash[16], pwhashhash[16], want[16], nt[24], master[16];
	uint8_t k[16], k2[16], sess[16];

	/* NtPasswordHash and its hash, from the RFC's password (RFC 2759 8.3) */
	for (int i = 0; i < 10; i++) {
		unicode[2 * i] = (uint8_t)pw[i];
		unicode[2 * i + 1] = 0;
	}
	md4(unicode, sizeof(unicode), pwhash);
	hex_to_bytes("44EBBA8D5312B8D611474411F56989AE", want);
	CHECK_MEM(pwhash, want, 16, "PasswordHash");
	md4(pwhash, 16, pwhashhash);
	hex_to_bytes("41C00C584BD2D91C4017A2A12FA59F3F", want);
	CHECK_MEM(pwhashhash, want, 16, "PasswordHashHash");

	hex_to_bytes("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF", nt);
	mppe_master_key(pwhashhash, nt, master);
	hex_to_bytes("FDECE3717A8C838CB388E527AE3CDD31", want);
	CHECK_MEM(master, want, 16, "MasterKey");

	/* the RFC derives from the server's side: send key = Magic3 */
	CHECK(mppe_start_key(master, 16, true, true, k) == 0);
	hex_to_bytes("8B7CDC149B993A1BA118CB153F56DCCB", want);
	CHECK_MEM(k, want, 16, "SendStartKey128");
	CHECK(mppe_start_key(master, 16, false, false, k2) == 0);
	CHECK_MEM(k2, k, 16, "client receive key = server send key");
	CHECK(mppe_start_key(master, 16, true, false, k2) == 0);
	CHECK(memcmp(k2, k, 16) != 0);
	CHECK(mppe_start_key(master, 8, true, true, k2) == 0);
	CHECK_MEM(k2, want, 8, "SendStartKey40/56");
	CHECK(mppe_start_key(master, 12, true, true, k2) == -1);

	CHECK(mppe_initial_session_key(k, 128, sess) == 0);
	hex_to_bytes("405CB2247A7956E6E211007AE27B22D4", want);
	CHECK_MEM(sess, want, 16, "SendSessionKey128");
	CHECK(mppe_initial_session_key(k, 40, sess) == 0);
	hex_to_bytes("D1269EC49FA62E3E", want);
	CHECK_MEM(sess, want, 8, "SendSessionKey40");
	CHECK(mppe_initial_session_key(k, 56, sess) == 0);
	hex_to_bytes("D15C00C49FA62E3E", want);
	CHECK_MEM(sess, want, 8, "SendSessionKey56");
	CHECK(mppe_initial_session_key(k, 64, sess) == -1);
}

/* ---- a second sender: RFC 3078 with OpenSSL ------------------------------ */

struct model {
	uint8_t start[16], session[16];
	unsigned len, bits;
	bool stateless, reset;
	uint16_t ccount;
	EVP_CIPHER_CTX *rc4;
};

static void
model_rekey(struct model *m, bool initial)
{
	uint8_t buf[112], dg[20];
	size_t n = 0;

	memcpy(buf, m->start, m->len);
	n += m->len;
	memset(buf + n, 0, 40);
	n += 40;
	memcpy(buf + n, m->session, m->len);
	n += m->len;
	memset(buf + n, 0xf2, 40);
	n += 40;
	ossl_sha1(buf, n, dg);
	if (initial) {
		memcpy(m->session, dg, m->len);
	} else {
		EVP_CIPHER_CTX *t = ossl_rc4_new(dg, (int)m->len);

		ossl_rc4_run(t, dg, m->session, (int)m->len);
		EVP_CIPHER_CTX_free(t);
	}
	if (m->bits == 40)
		memcpy(m->session, "\xd1\x26\x9e", 3);
	else if (m->bits == 56)
		m->session[0] = 0xd1;
	EVP_CIPHER_CTX_free(m->rc4);
	m->rc4 = ossl_rc4_new(m->session, (int)m->len);
}

static void
model_init(struct model *m, const uint8_t *start, unsigned bits, bool stateless)
{
	memset(m, 0, sizeof(*m));
	m->len = bits == 128 ? 16 : 8;
	m->bits = bits;
	m->stateless = stateless;
	memcpy(m->start, start, m->len);
	memcpy(m->session, start, m->len);
	model_rekey(m, true);
	m->ccount = 0xfff;
}

/* plain: PPP protocol + data; wire: header + ciphertext */
static void
model_encrypt(struct model *m, const uint8_t *plain, unsigned len, uint8_t *wire)
{
	uint8_t bits = 0x10;

	m->ccount = (m->ccount + 1) & 0xfff;
	if (m->stateless || (m->ccount & 0xff) == 0xff || m->reset) {
		model_rekey(m, false);
		bits |= 0x80;
		m->reset = false;
	}
	wire[0] = (uint8_t)(bits | (m->ccount >> 8));
	wire[1] = (uint8_t)m->ccount;
	ossl_rc4_run(m->rc4, plain, wire + 2, (int)len);
}

/* ---- streams ------------------------------------------------------------ */

#define SESSIONS 12
#define PKT_MAX 1500

/* Many sessions, mixed key sizes and modes, bursts with several packets per
 * session in shuffled session order: the library's wire bytes must equal
 * the model's, and the receiver must give the plaintext back. */
static void
test_streams_vs_model(unsigned packets_per_session)
{
	static uint8_t plain[64][PKT_MAX], wire[64][PKT_MAX + 2], mwire[64][PKT_MAX + 2];
	struct mppe_state tx[SESSIONS], rx[SESSIONS];
	struct model model[SESSIONS];
	unsigned sent[SESSIONS] = { 0 };
	static const unsigned bits_of[3] = { 40, 56, 128 };

	for (int s = 0; s < SESSIONS; s++) {
		uint8_t start[16];
		unsigned bits = bits_of[s % 3];
		bool stateless = (s / 3) % 2;

		rng_fill(start, sizeof(start));
		CHECK(mppe_state_init(&tx[s], MPPE_DIR_TX, start, bits, stateless) == 0);
		CHECK(mppe_state_init(&rx[s], MPPE_DIR_RX, start, bits, stateless) == 0);
		model_init(&model[s], start, bits, stateless);
	}
	for (;;) {
		struct mppe_op ops[64];
		int sess_of[64];
		bool in_burst[SESSIONS] = { false };
		unsigned n = 0;

		/* up to 64 packets: random sessions, each in its own order */
		while (n < 64) {
			int s = (int)(rng() % SESSIONS);

			if (sent[s] >= packets_per_session) {
				bool any = false;

				for (int q = 0; q < SESSIONS; q++)
					any |= sent[q] < packets_per_session;
				if (!any)
					break;
				continue;
			}
			unsigned len = 1 + (unsigned)(rng() % 4 == 0 ? rng() % 8 : rng() % PKT_MAX);

			rng_fill(plain[n], len);
			memcpy(wire[n] + 2, plain[n], len);
			/* a stateful reset now and then, as after a CCP Reset-Request;
			 * it acts on the session's next packet, so only before the
			 * session's first packet in this burst */
			if (!model[s].stateless && !in_burst[s] && rng() % 37 == 0) {
				mppe_tx_reset(&tx[s]);
				mppe_tx_reset(&tx[s]);   /* twice still means one re-key */
				model[s].reset = true;
			}
			model_encrypt(&model[s], plain[n], len, mwire[n]);
			ops[n] = (struct mppe_op){ .st = &tx[s], .pkt = wire[n], .len = len + 2 };
			sess_of[n] = s;
			in_burst[s] = true;
			sent[s]++;
			n++;
		}
		if (n == 0)
			break;
		CHECK(mppe_encrypt_burst(ops, n) == n);
		for (unsigned k = 0; k < n; k++) {
			if (memcmp(wire[k], mwire[k], ops[k].len) != 0) {
				fprintf(stderr, "session %d packet ccount %u: wire differs from model\n",
					sess_of[k], ops[k].ccount);
				check_failures++;
			}
			ops[k].st = &rx[sess_of[k]];
		}
		CHECK(mppe_decrypt_burst(ops, n) == n);
		for (unsigned k = 0; k < n; k++) {
			CHECK(ops[k].status == MPPE_OK);
			CHECK_MEM(wire[k] + 2, plain[k], ops[k].len - 2, "round trip");
		}
	}
	for (int s = 0; s < SESSIONS; s++) {
		/* past 4096 packets the 12-bit count has wrapped */
		CHECK(tx[s].ccount == ((packets_per_session - 1) & 0xfff));
		CHECK(rx[s].ccount == tx[s].ccount);
		EVP_CIPHER_CTX_free(model[s].rc4);
	}
}

/* ---- loss, reordering, duplicates --------------------------------------- */

struct pkt {
	uint8_t data[300];
	uint8_t plain[300];
	uint32_t len;
};

static void
make_packets(struct mppe_state *tx, struct pkt *p, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		struct mppe_op op;

		p[k].len = 2 + 3 + (uint32_t)(rng() % 295);
		rng_fill(p[k].plain + 2, p[k].len - 2);
		/* what a peer encrypts: PPP protocol 0x0021 and an IPv4 header (resync checks it) */
		memcpy(p[k].plain + 2, "\x00\x21\x45", 3);
		memcpy(p[k].data, p[k].plain, p[k].len);
		op = (struct mppe_op){ .st = tx, .pkt = p[k].data, .len = p[k].len };
		CHECK(mppe_encrypt_burst(&op, 1) == 1);
	}
}

static int
receive(struct mppe_state *rx, struct pkt *p)
{
	uint8_t buf[300];
	struct mppe_op op = { .st = rx, .pkt = buf, .len = p->len };

	memcpy(buf, p->data, p->len);
	mppe_decrypt_burst(&op, 1);
	if (op.status == MPPE_OK && memcmp(buf + 2, p->plain + 2, p->len - 2) != 0)
		return -100;   /* accepted but garbage: the worst outcome */
	return op.status;
}

static void
test_stateful_loss(unsigned bits)
{
	static struct pkt p[1200];
	struct mppe_state tx, rx;
	uint8_t start[16];

	rng_fill(start, sizeof(start));
	mppe_state_init(&tx, MPPE_DIR_TX, start, bits, false);
	mppe_state_init(&rx, MPPE_DIR_RX, start, bits, false);
	make_packets(&tx, p, 600);

	for (int k = 0; k < 10; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_OK);
	/* 10 lost: 11 shows the gap, 12 is discarded */
	CHECK(receive(&rx, &p[11]) == MPPE_ERR_LOST);
	CHECK(receive(&rx, &p[12]) == MPPE_ERR_DISCARD);
	/* the late 10 cannot help any more either */
	CHECK(receive(&rx, &p[10]) == MPPE_ERR_DISCARD);
	/* 255 is a flag packet (flushed): resync on it */
	for (int k = 13; k < 255; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_ERR_DISCARD);
	CHECK(receive(&rx, &p[255]) == MPPE_OK);
	for (int k = 256; k < 300; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_OK);

	/* reordering: 301 before 300 is a gap; then the peer answers the
	 * Reset-Request and its next packet carries the flushed bit */
	CHECK(receive(&rx, &p[301]) == MPPE_ERR_LOST);
	CHECK(receive(&rx, &p[300]) == MPPE_ERR_DISCARD);
	mppe_tx_reset(&tx);
	make_packets(&tx, p + 600, 600);   /* packets 600.. follow the reset */
	for (int k = 302; k < 511; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_ERR_DISCARD);
	/* 511 = 0x1FF is a flag packet: resync there even before the reset */
	for (int k = 511; k < 600; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_OK);
	CHECK(receive(&rx, &p[600]) == MPPE_OK);           /* flushed by the reset */
	CHECK(receive(&rx, &p[601]) == MPPE_OK);
	/* a late and a duplicate packet: refused, the stream stays in sync */
	CHECK(receive(&rx, &p[599]) == MPPE_ERR_REPLAY);
	CHECK(receive(&rx, &p[601]) == MPPE_ERR_REPLAY);
	CHECK(receive(&rx, &p[602]) == MPPE_OK);
	/* losing exactly a flag packet (767 = 0x2FF) and resyncing on the
	 * next one (1023 = 0x3FF) must count the missed key change */
	for (int k = 603; k < 767; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_OK);
	CHECK(receive(&rx, &p[768]) == MPPE_ERR_LOST);
	for (int k = 769; k < 1023; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_ERR_DISCARD);
	for (int k = 1023; k < 1200; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_OK);
	CHECK(rx.rekeys > 0 && rx.ccount == 1199);
}

/*
 * The flushed packet the sender sent after our Reset-Request is lost too:
 * the sender changed keys for it, and the next flushed packet (a flag
 * packet) resyncs only if the receiver finds that extra key change (Linux's
 * receiver never does; the keys stay apart and it decrypts garbage).
 */
static void
test_stateful_lost_flush(unsigned bits)
{
	static struct pkt p[700];
	struct mppe_state tx, rx;
	uint8_t start[16];

	rng_fill(start, sizeof(start));
	mppe_state_init(&tx, MPPE_DIR_TX, start, bits, false);
	mppe_state_init(&rx, MPPE_DIR_RX, start, bits, false);
	make_packets(&tx, p, 12);
	for (int k = 0; k < 10; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_OK);
	CHECK(receive(&rx, &p[11]) == MPPE_ERR_LOST);      /* 10 lost */
	mppe_tx_reset(&tx);                                 /* our Reset-Request arrived */
	make_packets(&tx, p + 12, 700 - 12);               /* 12 is flushed: lost as well */
	CHECK((p[12].data[0] & MPPE_BIT_FLUSHED) != 0);
	for (int k = 13; k < 255; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_ERR_DISCARD);
	CHECK(receive(&rx, &p[255]) == MPPE_OK);           /* flag packet 0x0FF, right plaintext */
	CHECK(rx.resync_extra == 1);
	for (int k = 256; k < 700; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_OK);

	/* The ordinary resync (the flushed packet arrives) needs no extra change. */
	mppe_state_init(&tx, MPPE_DIR_TX, start, bits, false);
	mppe_state_init(&rx, MPPE_DIR_RX, start, bits, false);
	make_packets(&tx, p, 12);
	for (int k = 0; k < 10; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_OK);
	CHECK(receive(&rx, &p[11]) == MPPE_ERR_LOST);
	mppe_tx_reset(&tx);
	make_packets(&tx, p + 12, 100);
	for (int k = 12; k < 112; k++)
		CHECK(receive(&rx, &p[k]) == MPPE_OK);
	CHECK(rx.resync_extra == 0);
}

static void
test_stateless_loss(unsigned bits)
{
	static struct pkt p[5000];
	struct mppe_state tx, rx;
	uint8_t start[16];

	rng_fill(start, sizeof(start));
	mppe_state_init(&tx, MPPE_DIR_TX, start, bits, true);
	mppe_state_init(&rx, MPPE_DIR_RX, start, bits, true);
	make_packets(&tx, p, 5000);
	CHECK(receive(&rx, &p[0]) == MPPE_OK);
	CHECK(receive(&rx, &p[0]) == MPPE_ERR_REPLAY);     /* duplicate */
	CHECK(receive(&rx, &p[5]) == MPPE_OK);             /* 4 lost */
	CHECK(receive(&rx, &p[3]) == MPPE_ERR_REPLAY);     /* late */
	CHECK(receive(&rx, &p[6]) == MPPE_OK);
	CHECK(receive(&rx, &p[1000]) == MPPE_OK);          /* a long gap */
	CHECK(receive(&rx, &p[3100]) == MPPE_ERR_REPLAY);  /* > half the space ahead */
	/* random loss and local reordering across the count wrap */
	unsigned last = 1000;

	for (unsigned k = 1001; k + 1 < 5000; k++) {
		if (rng() % 10 == 0)
			continue;                     /* lost */
		if (rng() % 10 == 0) {                /* swapped pair */
			CHECK(receive(&rx, &p[k + 1]) == MPPE_OK);
			CHECK(receive(&rx, &p[k]) == MPPE_ERR_REPLAY);
			last = k + 1;
			k++;
			continue;
		}
		CHECK(receive(&rx, &p[k]) == MPPE_OK);
		last = k;
	}
	CHECK(rx.ccount == (last & 0xfff));
}

/* ---- bad input ---------------------------------------------------------- */

static void
test_bad_input(void)
{
	struct mppe_state tx, rx, sl, blank;
	uint8_t start[16] = { 1, 2, 3 }, buf[64] = { 0 };
	struct mppe_op op;
	struct mppe_hdr h;

	memset(&blank, 0, sizeof(blank));
	CHECK(mppe_state_init(&tx, MPPE_DIR_TX, start, 128, false) == 0);
	CHECK(mppe_state_init(&rx, MPPE_DIR_RX, start, 128, false) == 0);
	CHECK(mppe_state_init(&sl, MPPE_DIR_RX, start, 40, true) == 0);
	CHECK(mppe_state_init(&tx, MPPE_DIR_TX, start, 64, false) == -1);
	CHECK(mppe_state_init(&tx, 0, start, 128, false) == -1);
	CHECK(mppe_state_init(&tx, MPPE_DIR_TX, NULL, 128, false) == -1);
	CHECK(mppe_state_init(NULL, MPPE_DIR_TX, start, 128, false) == -1);
	CHECK(mppe_state_init(&tx, MPPE_DIR_TX, start, 128, false) == 0);

#define RX(st_, b0, b1, len_, want) do {					\
	buf[0] = (b0); buf[1] = (b1);						\
	op = (struct mppe_op){ .st = (st_), .pkt = buf, .len = (len_) };	\
	CHECK(mppe_decrypt_burst(&op, 1) == ((want) == MPPE_OK));		\
	if (op.status != (want))						\
		fprintf(stderr, "got %s want %s\n", mppe_strerror(op.status),	\
			mppe_strerror(want));					\
	CHECK(op.status == (want));						\
} while (0)

	RX(&rx, 0x10, 0x00, 0, MPPE_ERR_TRUNCATED);
	RX(&rx, 0x10, 0x00, 1, MPPE_ERR_TRUNCATED);
	RX(&rx, 0x10, 0x00, 2, MPPE_ERR_TRUNCATED);
	RX(&rx, 0x00, 0x00, 10, MPPE_ERR_NOT_ENCRYPTED);
	RX(&rx, 0x50, 0x00, 10, MPPE_ERR_COMPRESSED);
	RX(&rx, 0x30, 0x00, 10, MPPE_ERR_COMPRESSED);
	RX(&rx, 0x10, 0xff, 10, MPPE_ERR_NOT_FLUSHED);     /* flag packet without A */
	RX(&sl, 0x10, 0x00, 10, MPPE_ERR_NOT_FLUSHED);     /* stateless without A */
	RX(&tx, 0x10, 0x00, 10, MPPE_ERR_WRONG_DIR);
	RX(&blank, 0x10, 0x00, 10, MPPE_ERR_BAD_ARG);
	RX(NULL, 0x10, 0x00, 10, MPPE_ERR_BAD_ARG);
	/* none of that moved the receiver: count 0 is still next */
	RX(&rx, 0x10, 0x00, 10, MPPE_OK);
	RX(&rx, 0x90, 0x00, 10, MPPE_ERR_REPLAY);          /* 0 again, even flushed */

	op = (struct mppe_op){ .st = &rx, .pkt = buf, .len = 10 };
	CHECK(mppe_encrypt_burst(&op, 1) == 0 && op.status == MPPE_ERR_WRONG_DIR);
	op = (struct mppe_op){ .st = &tx, .pkt = NULL, .len = 10 };
	CHECK(mppe_encrypt_burst(&op, 1) == 0 && op.status == MPPE_ERR_BAD_ARG);
	op = (struct mppe_op){ .st = &tx, .pkt = buf, .len = 2 };
	CHECK(mppe_encrypt_burst(&op, 1) == 0 && op.status == MPPE_ERR_TRUNCATED);
	CHECK(tx.ccount == 0xfff);                         /* refused ops took no count */
	CHECK(mppe_encrypt_burst(NULL, 3) == 0);

	/* header helpers */
	mppe_hdr_encode(buf, MPPE_BIT_FLUSHED | MPPE_BIT_ENCRYPTED, 0xabc);
	CHECK(buf[0] == 0x9a && buf[1] == 0xbc);
	CHECK(mppe_hdr_decode(buf, 2, &h) == 0 && h.bits == 0x90 && h.ccount == 0xabc);
	CHECK(mppe_hdr_decode(buf, 1, &h) == -MPPE_ERR_TRUNCATED);
	CHECK(mppe_hdr_decode(NULL, 2, &h) == -MPPE_ERR_TRUNCATED);
	CHECK(strcmp(mppe_strerror(MPPE_ERR_REPLAY), "replay") == 0);
	CHECK(strcmp(mppe_strerror(-MPPE_ERR_LOST), "lost") == 0);
	CHECK(strcmp(mppe_strerror(999), "unknown") == 0);

	/* random garbage never crashes and never claims more than it got */
	for (int r = 0; r < 20000; r++) {
		struct mppe_op ops[4];

		for (int k = 0; k < 4; k++) {
			rng_fill(buf + 16 * k, 16);
			ops[k] = (struct mppe_op){ .st = rng() % 2 ? &rx : &sl, .pkt = buf + 16 * k,
						   .len = (uint32_t)(rng() % 17) };
		}
		CHECK(mppe_decrypt_burst(ops, 4) <= 4);
	}
}

/* Every SHA-1 implementation against OpenSSL: every length 0..300 (one,
 * two and more blocks, all padding cases) and random lengths up to 4 KB,
 * random data, unaligned starts; then the RFC 3079 vectors through it. */
static void
test_sha1_impls(void)
{
	static const char *const names[] = { "shani", "ipsec-mb" };
	static uint8_t buf[4100];
	uint8_t got[20], want[20];

	for (size_t v = 0; v < sizeof(names) / sizeof(names[0]); v++) {
		if (mppe_sha1_select(names[v]) != 0) {
			printf("sha1 %s: not on this CPU, skipped\n", names[v]);
			continue;
		}
		CHECK(strcmp(mppe_sha1_selected(), names[v]) == 0);
		for (unsigned round = 0; round < 1300; round++) {
			size_t len = round <= 300 ? round : (size_t)(rng() % 4096);
			size_t at = rng() % 4;

			rng_fill(buf + at, len);
			mppe_sha1(buf + at, len, got);
			ossl_sha1(buf + at, len, want);
			if (memcmp(got, want, 20) != 0) {
				fprintf(stderr, "sha1 %s differs from OpenSSL at length %zu\n",
					names[v], len);
				check_failures++;
				break;
			}
		}
		test_rfc3079();
	}
	CHECK(mppe_sha1_select("no-such-sha1") == -1);
	CHECK(mppe_sha1_select(NULL) == 0);
	printf("sha1 selected: %s\n", mppe_sha1_selected());
}

int
main(void)
{
	ossl_init();
	test_sha1_impls();
	test_rfc3079();
	test_streams_vs_model(300);
	test_streams_vs_model(4500);   /* wraps the coherency count */
	test_stateful_loss(128);
	test_stateful_loss(40);
	test_stateful_lost_flush(128);
	test_stateful_lost_flush(40);
	test_stateless_loss(128);
	test_stateless_loss(56);
	test_bad_input();
	return check_done("test_mppe");
}
