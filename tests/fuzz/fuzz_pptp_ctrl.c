/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for drivers/pptp's control side (control.c, call.c and
 * the PPP links they run). pptp_server_init runs once with a test host
 * (its listener on a loopback address of the process's own); each input is
 * one client connection, put on the server's list as conn_accept would,
 * over a socketpair instead of TCP (thousands of TCP connections a second
 * would run out of ports). The first byte picks the PPP configuration, the
 * rest is a script of operations:
 *   0: raw bytes on the connection;
 *   1: one control message with a correct header (length, type 1, magic
 *      cookie) around fuzzed contents, of any message type;
 *   2: a frame to a call's PPP link through pptp_ctl_ring, as an lcore
 *      would pass it: raw bytes, a Configure-Ack of the server's last
 *      LCP/IPCP/CCP request, or a CHAP Response (right or wrong password)
 *      built by fuzz_ppp_peer.h;
 *   3: a few pptp_server_poll rounds.
 * Bytes for the connection are polled in when a frame or poll operation
 * comes, or at the end (each round walks 65536 call slots twice: fewer
 * rounds, more inputs a second). After each round the replies are read and checked: every message has its
 * RFC 2637 length, type 1 and the magic cookie, and is one a PAC sends;
 * calls are connected only after Start-Control-Connection; nothing follows
 * a Stop-Control-Connection-Reply or a refused start; Call-Disconnect-Notify
 * names calls we were given. Every PPP frame to the client is a well-formed
 * negotiation packet. At the end the client closes: the connection, every
 * call, session, pool address and mbuf must be gone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fuzz_eal.h"
#include "fuzz_ppp_peer.h"
#include "pptp_impl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	SCCRQ = 1, SCCRP, STOPCCRQ, STOPCCRP, ECHORQ, ECHORP, OCRQ, OCRP, ICRQ, ICRP, ICCN, CCRQ, CDN, WEN, SLI,
};
/* RFC 2637 2.1-2.16. */
static const uint16_t rfc_len[16] = {
	[SCCRQ] = 156, [SCCRP] = 156, [STOPCCRQ] = 16, [STOPCCRP] = 16, [ECHORQ] = 16, [ECHORP] = 20,
	[OCRQ] = 168, [OCRP] = 32, [ICRQ] = 220, [ICRP] = 24, [ICCN] = 28, [CCRQ] = 16, [CDN] = 148,
	[WEN] = 40, [SLI] = 24,
};

static struct rte_mempool *pool;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pptp_conf conf;
static struct chap_secrets secrets;
static struct session_host host;
static unsigned sessions_added, sessions_removed;
static bool route_fails;

/* The client's view of up to 16 calls, by call id (low 4 bits). */
struct call_view {
	uint16_t id;            /* 0: free */
	struct ppp_peer peer;
};
static struct call_view views[16];

/* One input's connection as the client sees it. */
struct client {
	int fd;
	uint8_t buf[8192];
	uint32_t len;
	bool started;           /* SCCRP with result 1 received */
	bool over;              /* StopCCRP or a refused start received: nothing may follow */
	uint16_t last_call;
	uint16_t given[64];     /* call ids in OCRPs with result 1 */
	unsigned nb_given;
};
static struct client cl;

static struct call_view *
view_of(uint16_t id)
{
	struct call_view *v = &views[id & 15];

	if (v->id != id) {
		memset(v, 0, sizeof(*v));
		v->id = id;
	}
	return v;
}

static int
host_session_add(struct tunnel *t)
{
	const struct pptp_session *s = t->priv;

	if (s == NULL || s->call_id == 0 || t->ops != &pptp_ops || s->ip_up || s->mppe_on)
		FUZZ_FAIL();
	sessions_added++;
	return 0;
}

static int
host_route_add(struct tunnel *t, rte_be32_t addr)
{
	const struct pptp_session *s = t->priv;

	/* Only once authenticated, with an address from the pool or chap-secrets. */
	if (addr == 0 || s->call == NULL || !s->call->ppp.authenticated)
		FUZZ_FAIL();
	return route_fails ? -1 : 0;
}

static void
host_sessions_remove(struct tunnel *const *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct pptp_session *s = t[i]->priv;

		if (s == NULL || !s->closing)
			FUZZ_FAIL(); /* the data path was told before the session goes */
		sessions_removed++;
	}
}

static void
host_send_frame(struct tunnel *t, struct rte_mbuf *m)
{
	const struct pptp_session *s = t->priv;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t len = rte_pktmbuf_data_len(m);

	/* FF 03 and a negotiation packet (fuzz_ppp_peer.h checks it). */
	if (m->nb_segs != 1 || len < 2 || p[0] != 0xff || p[1] != 0x03)
		FUZZ_FAIL();
	ppp_peer_observe(&view_of(s->call_id)->peer, p + 2, (uint16_t)(len - 2));
	rte_pktmbuf_free(m);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] = "alice * secret *\nbob * pw 10.9.0.5\ncarol * pw 192.168.1.1\n";
	const uint32_t pid = (uint32_t)getpid();

	(void)argc;
	(void)argv;
	pool = fuzz_eal_init("fuzz", 511);
	if (chap_secrets_parse("fuzz", text, &secrets) < 0)
		FUZZ_FAIL();
	ppp_conf_defaults(&conf.ppp);
	conf.ppp.secrets = &secrets;
	conf.ppp.local_addr = RTE_BE32(0x0a090001);
	conf.enable = true;
	snprintf(conf.tap, sizeof(conf.tap), "none");
	/* A small pool (5 addresses besides ours) so that it can run out. */
	conf.pool.addr = RTE_BE32(0x0a090000);
	conf.pool.depth = 29;
	conf.max_sessions = 8;
	conf.max_connections = 4;
	conf.mtu = 1400;
	conf.window = 64;
	/* A loopback address of this process's own for the listener (127/8 is all local). */
	host.local = htonl(0x7f000000u | (pid & 0xffffff));
	host.pool = pool;
	host.lock = &lock;
	host.session_add = host_session_add;
	host.route_add = host_route_add;
	host.sessions_remove = host_sessions_remove;
	host.send_frame = host_send_frame;
	if (pptp_server_init(&conf, &host) < 0) {
		fprintf(stderr, "fuzz-pptp-ctrl: pptp_server_init failed\n");
		FUZZ_FAIL();
	}
	return 0;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Reads and checks what the server sent so far. */
static void
read_replies(struct client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);

		if (n <= 0)
			break;
		c->len += (uint32_t)n;
		while (c->len >= 12) {
			const uint8_t *m = c->buf;
			uint16_t len = get16(m), type = get16(m + 8);

			if (type >= 16 || len != rfc_len[type] || get16(m + 2) != 1 || get32(m + 4) != 0x1a2b3c4d ||
			    get16(m + 10) != 0)
				FUZZ_FAIL();
			if (c->len < len)
				break;
			if (c->over)
				FUZZ_FAIL(); /* nothing after the end */
			switch (type) {
			case SCCRP:
				if (get16(m + 12) != 0x0100)
					FUZZ_FAIL();
				if (m[14] == 1) {
					if (c->started)
						FUZZ_FAIL(); /* started twice */
					c->started = true;
				} else {
					c->over = true;
				}
				break;
			case STOPCCRP:
				c->over = true;
				break;
			case OCRP:
				if (m[16] == 1) {
					uint16_t id = get16(m + 12);

					if (!c->started || id == 0 || m[17] != 0)
						FUZZ_FAIL(); /* a call only on a started connection */
					for (unsigned i = 0; i < c->nb_given; i++)
						if (c->given[i] == id)
							FUZZ_FAIL(); /* an id given twice */
					if (c->nb_given < RTE_DIM(c->given))
						c->given[c->nb_given++] = id;
					c->last_call = id;
				} else if (get16(m + 12) != 0 || m[16] != 2) {
					FUZZ_FAIL(); /* refused: general error, no call id */
				}
				break;
			case CDN: {
				uint16_t id = get16(m + 12);
				bool known = false;

				for (unsigned i = 0; i < c->nb_given; i++)
					known |= c->given[i] == id;
				if (!known && c->nb_given < RTE_DIM(c->given))
					FUZZ_FAIL();
				if (m[14] != 3 && m[14] != 4)
					FUZZ_FAIL();
				break;
			}
			case ECHORP:
				if (m[16] != 1)
					FUZZ_FAIL();
				break;
			case ECHORQ:
			case STOPCCRQ:
				break;
			default:
				FUZZ_FAIL(); /* not a PAC's message */
			}
			memmove(c->buf, c->buf + len, c->len - len);
			c->len -= len;
		}
		if (c->len == sizeof(c->buf))
			FUZZ_FAIL();
	}
}

static bool
alive(void)
{
	return pptp_srv.nb_conns != 0;
}

/* Poll rounds until the server read what is waiting for it (or closed the connection). */
static void
settle(int server_fd)
{
	for (unsigned i = 0; i < 64 && alive(); i++) {
		int pending = 0;

		pptp_server_poll(0);
		read_replies(&cl);
		if (!alive() || (ioctl(server_fd, FIONREAD, &pending) == 0 && pending == 0))
			break;
	}
}

static void
to_call(uint16_t id, const uint8_t *f, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p = m ? (uint8_t *)rte_pktmbuf_append(m, len) : NULL;

	if (p == NULL)
		FUZZ_FAIL();
	memcpy(p, f, len);
	m->hash.usr = id;
	if (rte_ring_enqueue(pptp_ctl_ring, m) != 0)
		FUZZ_FAIL();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const users[] = { "alice", "alice", "bob", "carol" };
	static const char *const passwords[] = { "secret", "wrong", "pw", "pw" };
	static const uint8_t mppe_policy[4] = { PPP_MPPE_REQUIRE, PPP_MPPE_ALLOW, PPP_MPPE_OFF, PPP_MPPE_REQUIRE };
	struct pptp_conn *c;
	int sv[2];
	uint8_t f[2048];
	bool unread = false;

	if (size < 1 || size > 8192)
		return 0;
	/* The configuration for this input (no call outlives it). */
	conf.ppp.auth = (uint8_t)((data[0] & 3) ? (data[0] & 3) : 3);
	conf.ppp.mppe = mppe_policy[data[0] >> 2 & 3];
	conf.ppp.mppe_stateful = (uint8_t)((data[0] >> 4 & 3) % 3);
	conf.max_sessions = (data[0] & 0x40) ? 2 : 8;
	route_fails = data[0] & 0x80;
	data++;
	size--;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		FUZZ_FAIL();
	/* What conn_accept does for a TCP connection. */
	c = pptp_conn_add(sv[0], RTE_BE32(0xc0000202), 40000);
	if (c == NULL)
		FUZZ_FAIL();
	memset(&cl, 0, sizeof(cl));
	cl.fd = sv[1];

	while (size >= 2 && alive()) {
		const uint8_t op = data[0], arg = data[1];
		size_t len;

		data += 2;
		size -= 2;
		/*
		 * Bytes for the connection pile up until something else happens
		 * (fewer rounds, more inputs a second); the server reads up to its
		 * buffer per round.
		 */
		if ((op & 3) >= 2 && unread) {
			settle(sv[0]);
			unread = false;
		}
		switch (op & 3) {
		case 0:
			/* Raw bytes. */
			len = (size_t)arg | (size_t)(op >> 2 & 7) << 8;
			if (len > size)
				len = size;
			if (len && send(sv[1], data, len, MSG_NOSIGNAL) < 0 && errno != EPIPE)
				FUZZ_FAIL();
			data += len;
			size -= len;
			unread = true;
			break;
		case 1: {
			/* A message of type arg & 15 with its RFC length (or a fuzzed one when op says so). */
			uint16_t type = arg & 15;
			uint16_t mlen = rfc_len[type] ? rfc_len[type] : 16;

			if (op & 4)
				mlen = (uint16_t)(12 + (op >> 3) * 7);
			memset(f, 0, mlen);
			len = RTE_MIN((size_t)mlen - 12, size);
			memcpy(f + 12, data, len);
			data += len;
			size -= len;
			put16(f, mlen);
			put16(f + 2, 1);
			f[4] = 0x1a;
			f[5] = 0x2b;
			f[6] = 0x3c;
			f[7] = 0x4d;
			put16(f + 8, type);
			if (type == SCCRQ && !(arg & 0x10))
				put16(f + 12, 0x0100); /* the right version, mostly */
			if (type == CCRQ && (arg & 0x20) && cl.last_call != 0 && pptp_srv.calls[cl.last_call] != NULL)
				put16(f + 12, pptp_srv.calls[cl.last_call]->peer_call_id);
			if (send(sv[1], f, mlen, MSG_NOSIGNAL) < 0 && errno != EPIPE)
				FUZZ_FAIL();
			unread = true;
			break;
		}
		case 2: {
			/* A PPP frame for the last call (or another id) through the lcores' ring. */
			uint16_t id = (op & 0x80) ? (uint16_t)(arg | arg << 8) : cl.last_call;
			struct pptp_call *call = pptp_srv.calls[id];
			struct call_view *v = view_of(id);
			uint16_t n = 0;

			switch (op >> 2 & 3) {
			case 0:
			case 1:
				len = RTE_MIN((size_t)arg | (size_t)(op >> 4 & 7) << 8, size);
				memcpy(f, data, len);
				n = (uint16_t)len;
				data += len;
				size -= len;
				break;
			case 2:
				n = ppp_peer_conf_ack(&v->peer, arg, f, sizeof(f));
				break;
			default:
				if (call != NULL)
					n = ppp_peer_chap_response(&v->peer, call->ppp.auth == PPP_AUTH_MD5,
								   users[arg & 3], passwords[arg & 3], arg, f,
								   sizeof(f));
				break;
			}
			to_call(id, f, n);
			pptp_server_poll(0);
			read_replies(&cl);
			break;
		}
		default:
			for (unsigned i = 0; i <= (arg & 3u); i++) {
				pptp_server_poll(0);
				read_replies(&cl);
			}
			break;
		}
		if (sessions_added - sessions_removed != pptp_srv.nb_calls || pptp_srv.nb_calls > conf.max_sessions)
			FUZZ_FAIL();
	}

	if (unread)
		settle(sv[0]);
	/* The client goes away: everything it had must go with it. */
	shutdown(sv[1], SHUT_WR);
	for (unsigned i = 0; i < 64 && alive(); i++) {
		pptp_server_poll(0);
		read_replies(&cl);
	}
	read_replies(&cl);
	close(sv[1]);
	if (alive() || pptp_srv.nb_calls != 0 || sessions_added != sessions_removed)
		FUZZ_FAIL();
	for (uint32_t i = 0; i < pptp_srv.pool_size; i++)
		if (pptp_srv.pool_used[i])
			FUZZ_FAIL(); /* an address not returned */
	if (rte_ring_count(pptp_ctl_ring) != 0 || rte_mempool_in_use_count(pool) != 0)
		FUZZ_FAIL(); /* an mbuf leaked */
	return 0;
}
