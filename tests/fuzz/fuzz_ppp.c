/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for lib/ppp: one server link per input, configured by
 * the first two bytes (authentication, MPPE policy, stateful mode, key
 * lengths, echo, MRU, DNS, retry counts), then a script of operations:
 * raw frames (up to 2 KB) into ppp_link_input, negotiation packets with a
 * correct header around fuzzed options, a Configure-Ack of the server's
 * last request, a CHAP Response (right or wrong password, MS-CHAPv2 or
 * MD5, computed by fuzz_ppp_peer.h), time moving on with ppp_link_timer,
 * and an administrative close. A chap-secrets file in memory names the
 * users.
 *
 * Invariants (abort on failure): every frame sent is a negotiation packet
 * whose length field matches and which fits PPP_MAX_FRAME; no frame after
 * the link went down; IPCP and CCP only after authentication in the
 * network phase; up once, only authenticated with IPCP open, with the
 * address addr_alloc gave and MPPE on when required; MPPE keys only when
 * up; down once with a reason; the state name is one of six; and a closed
 * link always goes down within its terminate retries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ppp_peer.h"
#include "ppp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct chap_secrets secrets;
static const uint32_t fixed_addr = 0x0700000au;  /* 10.0.0.7, network order, bob's in chap-secrets */
static const uint32_t pool_addr = 0x6400000au;   /* 10.0.0.100 */

struct run {
	struct ppp_link l;
	struct ppp_conf conf;
	struct ppp_peer peer;
	bool pool_empty;
	uint32_t given;         /* what addr_alloc returned */
	unsigned ups, downs, mppes;
};

static struct run run;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] =
		"# client server secret address\n"
		"alice dpvpn \"sec ret\" *\n"
		"bob * pw 10.0.0.7\n"
		"carol other x -\n";

	(void)argc;
	(void)argv;
	if (mschapv2_init() < 0 || chap_secrets_parse("fuzz", text, &secrets) < 0)
		FUZZ_FAIL();
	return 0;
}

static void
cb_send(void *ctx, const uint8_t *frame, uint16_t len)
{
	struct run *r = ctx;
	uint16_t proto;

	if (r->downs != 0)
		FUZZ_FAIL(); /* nothing after down */
	ppp_peer_observe(&r->peer, frame, len);
	proto = peer_get16(frame);
	/* Network layers only after authentication (an answer may still leave while terminating). */
	if ((proto == PPP_IPCP || proto == PPP_CCP) &&
	    (!r->l.authenticated || (r->l.phase != PPP_PHASE_NETWORK && r->l.phase != PPP_PHASE_TERMINATE)))
		FUZZ_FAIL();
	if (proto == PPP_CCP && !(r->conf.mppe != PPP_MPPE_OFF && r->l.auth == PPP_AUTH_MSCHAPV2))
		FUZZ_FAIL(); /* MPPE needs MS-CHAPv2's keys */
}

static uint32_t
cb_addr_alloc(void *ctx, const char *user, uint32_t fixed)
{
	struct run *r = ctx;

	if (user == NULL || strlen(user) >= CHAP_NAME_MAX)
		FUZZ_FAIL();
	/* bob has a fixed address in chap-secrets, everybody else gets one from the pool. */
	if (strcmp(user, "bob") == 0 ? fixed != fixed_addr : fixed != 0)
		FUZZ_FAIL();
	r->given = r->pool_empty ? 0 : fixed ? fixed : pool_addr;
	return r->given;
}

static void
cb_up(void *ctx, struct ppp_link *l)
{
	struct run *r = ctx;

	if (l != &r->l || r->ups++ != 0 || r->downs != 0)
		FUZZ_FAIL();
	if (!l->authenticated || l->phase != PPP_PHASE_NETWORK || l->ipcp.state != FSM_OPENED)
		FUZZ_FAIL();
	if (l->peer_addr == 0 || l->peer_addr != r->given)
		FUZZ_FAIL();
	if (r->conf.mppe == PPP_MPPE_REQUIRE && !l->mppe_on)
		FUZZ_FAIL();
	if (strcmp(ppp_link_state(l), "open") != 0)
		FUZZ_FAIL();
	if (l->mppe_on && !l->mppe_stateless && r->conf.mppe_stateful == PPP_STATEFUL_NO)
		FUZZ_FAIL();
}

static void
cb_mppe(void *ctx, struct ppp_link *l)
{
	struct run *r = ctx;

	r->mppes++;
	if (!l->up || !l->mppe_on || r->downs != 0)
		FUZZ_FAIL();
	if (!(l->mppe_key_bits == 128 && (r->conf.mppe_bits & PPP_MPPE_128)) &&
	    !(l->mppe_key_bits == 40 && (r->conf.mppe_bits & PPP_MPPE_40)))
		FUZZ_FAIL(); /* a key length the configuration allows */
	if (l->mppe_stateless ? 0 : r->conf.mppe_stateful == PPP_STATEFUL_NO)
		FUZZ_FAIL();
}

static void
cb_down(void *ctx, struct ppp_link *l, const char *why)
{
	struct run *r = ctx;

	if (r->downs++ != 0 || why == NULL || why[0] == '\0' || strlen(why) >= sizeof(l->why))
		FUZZ_FAIL();
	if (l->phase != PPP_PHASE_DEAD)
		FUZZ_FAIL();
}

static void
check_state(const struct run *r)
{
	static const char *const names[] = { "establish", "auth", "network", "open", "terminate", "dead" };
	const char *s = ppp_link_state(&r->l);
	bool ok = false;

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ok |= strcmp(s, names[i]) == 0;
	if (!ok || (r->downs != 0) != (strcmp(s, "dead") == 0))
		FUZZ_FAIL();
	if (r->l.lcp.state > FSM_CLOSING || r->l.ipcp.state > FSM_CLOSING || r->l.ccp.state > FSM_CLOSING)
		FUZZ_FAIL();
	if (r->l.up && r->ups != 1)
		FUZZ_FAIL();
}

static void
configure(struct run *r, uint8_t a, uint8_t b)
{
	static const uint16_t mrus[4] = { 1500, 1400, 576, 1280 };
	struct ppp_conf *c = &r->conf;

	ppp_conf_defaults(c);
	c->secrets = &secrets;
	c->local_addr = 0x0100000au;    /* 10.0.0.1 */
	c->auth = (uint8_t)((a & 3) ? (a & 3) : 3);
	c->mppe = (uint8_t)((a >> 2 & 3) % 3);
	c->mppe_stateful = (uint8_t)((a >> 4 & 3) % 3);
	c->mppe_bits = (uint8_t)((a >> 6) ? (a >> 6) : 3);
	c->echo_interval_ms = (b & 1) ? 1000 : 0;
	c->mru = mrus[b >> 1 & 3];
	if (b & 8) {
		c->dns[0] = 0x0808080au;
		c->dns[1] = 0x0909090au;
	}
	c->max_configure = 1u + (b >> 4 & 3) * 3;
	c->max_terminate = 1u + (b >> 6 & 1);
	r->pool_empty = (b & 0x80) != 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const users[] = { "alice", "alice", "bob", "DOMAIN\\alice", "carol", "mallory" };
	static const char *const passwords[] = { "sec ret", "secret", "pw", "sec ret", "x", "x" };
	struct run *r = &run;
	struct ppp_link_cb cb = { .ctx = r, .send = cb_send, .addr_alloc = cb_addr_alloc, .up = cb_up,
				  .mppe = cb_mppe, .down = cb_down };
	uint64_t now = 1000000;
	uint8_t f[4096];
	uint16_t n;

	if (size < 2 || size > 8192)
		return 0;
	memset(r, 0, sizeof(*r));
	configure(r, data[0], data[1]);
	data += 2;
	size -= 2;
	ppp_link_init(&r->l, &r->conf, &cb, now);
	ppp_link_start(&r->l, now);
	check_state(r);
	while (size > 0) {
		uint8_t op = data[0];
		uint8_t arg = size > 1 ? data[1] : 0;
		size_t len;

		data += size > 1 ? 2 : 1;
		size -= size > 1 ? 2 : 1;
		switch (op & 7) {
		case 0:
		case 1:
		case 2:
			/* Raw bytes as a frame, up to 2047 bytes. */
			len = (size_t)arg | (size_t)(op & 0x70) << 4;
			if (len > size)
				len = size;
			ppp_link_input(&r->l, data, (uint16_t)len, now);
			data += len;
			size -= len;
			break;
		case 3:
			/* Configure-Ack of the server's last LCP / IPCP / CCP request (or a stale id). */
			n = ppp_peer_conf_ack(&r->peer, arg % PEER_NB_FSM, f, sizeof(f));
			if (n != 0) {
				f[3] = (uint8_t)(f[3] + (arg >> 7));
				ppp_link_input(&r->l, f, n, now);
			}
			break;
		case 4: {
			/* A negotiation packet with a correct header: code and fsm from op/arg, options from the input. */
			static const uint16_t protos[4] = { PPP_LCP, PPP_IPCP, PPP_CCP, PPP_CHAP };
			static const uint8_t codes[8] = { PPP_CONF_REQ, PPP_CONF_ACK, PPP_CONF_NAK, PPP_CONF_REJ,
							  PPP_TERM_REQ, PPP_TERM_ACK, PPP_ECHO_REQ, PPP_PROTO_REJ };
			uint16_t proto = protos[op >> 3 & 3];
			int k = peer_fsm_index(proto);

			len = arg;
			if (len > size)
				len = size;
			peer_put16(f, proto);
			f[2] = codes[op >> 5];
			/* Answers (Ack/Nak/Reject) name our last request's id. */
			f[3] = k >= 0 && f[2] >= PPP_CONF_ACK && f[2] <= PPP_CONF_REJ ? r->peer.req[k].id : (uint8_t)len;
			peer_put16(f + 4, (uint16_t)(4 + len));
			memcpy(f + 6, data, len);
			ppp_link_input(&r->l, f, (uint16_t)(6 + len), now);
			data += len;
			size -= len;
			break;
		}
		case 5: {
			/* CHAP Response: user / password pair, algorithm the link asked for (or the other). */
			unsigned u = (arg & 7) % (sizeof(users) / sizeof(users[0]));
			bool md5 = (r->l.auth == PPP_AUTH_MD5) ^ ((arg & 8) != 0);

			n = ppp_peer_chap_response(&r->peer, md5, users[u], passwords[u], arg, f, sizeof(f));
			if (n != 0) {
				if (arg & 0x80)
					f[3] ^= 1; /* the wrong id */
				ppp_link_input(&r->l, f, n, now);
			}
			break;
		}
		case 6:
			/* Time moves on; the timer runs when due (as pptp does) or anyway. */
			now += (uint64_t)arg * 50;
			if ((op & 8) || ppp_link_next_deadline(&r->l) <= now)
				ppp_link_timer(&r->l, now);
			break;
		default:
			ppp_link_close(&r->l, (op & 8) ? "administrative close" : "address in use", now);
			break;
		}
		check_state(r);
	}
	/* Close: the link must be down once the terminate retries are over. */
	ppp_link_close(&r->l, "end of input", now);
	for (unsigned i = 0; i <= r->conf.max_terminate + 1 && r->downs == 0; i++) {
		now += r->conf.restart_ms;
		ppp_link_timer(&r->l, now);
	}
	if (r->downs != 1)
		FUZZ_FAIL();
	check_state(r);
	return 0;
}
