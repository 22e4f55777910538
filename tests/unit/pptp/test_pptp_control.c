/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers/pptp, the control connection (RFC 2637 section 2) driven as the
 * app drives it: pptp_server_init with a test pptp_host listening on a
 * loopback address of its own, clients on ordinary TCP sockets, and
 * pptp_server_poll rounds. Checks the replies byte by byte, the counters,
 * the calls that open and close (session_add / session_remove of the host),
 * PPP frames through pptp_ctl_ring, and that every mbuf is returned.
 *
 * Exit code 77 (skipped) when port 1723 on the test's loopback address
 * cannot be bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "check.h"
#include "eal.h"
#include "pptp_impl.h"

enum {
	SCCRQ = 1, SCCRP, STOPCCRQ, STOPCCRP, ECHORQ, ECHORP, OCRQ, OCRP, ICRQ, ICRP, ICCN, CCRQ, CDN, WEN, SLI,
};
/* RFC 2637 2.1-2.16, written out here independently of control.c's table. */
static const uint16_t rfc_len[] = {
	[SCCRQ] = 156, [SCCRP] = 156, [STOPCCRQ] = 16, [STOPCCRP] = 16, [ECHORQ] = 16, [ECHORP] = 20,
	[OCRQ] = 168, [OCRP] = 32, [ICRQ] = 220, [ICRP] = 24, [ICCN] = 28, [CCRQ] = 16, [CDN] = 148,
	[WEN] = 40, [SLI] = 24,
};

static struct rte_mempool *pool;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pptp_conf conf;
static struct chap_secrets secrets;
static struct session_host host;
static struct sockaddr_in server_addr;

/* What the host saw. */
static unsigned sessions_added, sessions_removed, frames_sent;
static bool fail_session_add;
static struct tunnel *last_added, *last_frame_t;
static uint8_t last_frame[256];
static uint16_t last_frame_len;

static int
host_session_add(struct tunnel *t)
{
	if (fail_session_add)
		return -1;
	sessions_added++;
	last_added = t;
	return 0;
}

static int
host_route_add(struct tunnel *t, rte_be32_t addr)
{
	(void)t;
	(void)addr;
	return 0;
}

static void
host_sessions_remove(struct tunnel *const *t, unsigned n)
{
	(void)t;
	sessions_removed += n;
}

static void
host_send_frame(struct tunnel *t, struct rte_mbuf *m)
{
	frames_sent++;
	last_frame_t = t;
	last_frame_len = (uint16_t)RTE_MIN(rte_pktmbuf_data_len(m), sizeof(last_frame));
	memcpy(last_frame, rte_pktmbuf_mtod(m, const uint8_t *), last_frame_len);
	rte_pktmbuf_free(m);
}

/* ---- messages ---- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
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

/* A control message of type with its RFC length, body zeroed. */
static uint16_t
msg(uint8_t *m, uint16_t type)
{
	uint16_t len = rfc_len[type];

	memset(m, 0, len);
	put16(m, len);
	put16(m + 2, 1);                /* control message */
	put32(m + 4, 0x1a2b3c4d);       /* magic cookie */
	put16(m + 8, type);
	return len;
}

static uint16_t
sccrq(uint8_t *m)
{
	uint16_t len = msg(m, SCCRQ);

	put16(m + 12, 0x0100);
	put32(m + 16, 1);
	put32(m + 20, 1);
	strcpy((char *)m + 28, "client");
	return len;
}

static uint16_t
ocrq(uint8_t *m, uint16_t peer_call_id, uint16_t serial, uint16_t window)
{
	uint16_t len = msg(m, OCRQ);

	put16(m + 12, peer_call_id);
	put16(m + 14, serial);
	put32(m + 16, 300);
	put32(m + 20, 100000000);
	put32(m + 24, 3);
	put32(m + 28, 3);
	put16(m + 32, window);
	return len;
}

static uint16_t
simple(uint8_t *m, uint16_t type, uint32_t v32)
{
	uint16_t len = msg(m, type);

	put32(m + 12, v32);
	return len;
}

/* ---- the server and its clients ---- */

static void
rounds(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pptp_server_poll(5);
}

static int
client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned before = pptp_srv.conns_accepted + pptp_srv.conns_refused;
	int one = 1;

	/* No Nagle: each message leaves at once, so a few poll rounds see it. */
	if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 || connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) < 0) {
		perror("connect");
		exit(1);
	}
	for (unsigned i = 0; i < 100 && pptp_srv.conns_accepted + pptp_srv.conns_refused == before; i++)
		pptp_server_poll(10);
	return fd;
}

static void
send_all(int fd, const uint8_t *m, size_t len)
{
	if (send(fd, m, len, MSG_NOSIGNAL) != (ssize_t)len) {
		perror("send");
		exit(1);
	}
}

/*
 * The next message from the server into m (poll rounds until it is there):
 * its type, 0 when the server closed the connection, -1 when nothing came.
 */
static int
next_msg(int fd, uint8_t *m, uint16_t *len)
{
	for (unsigned i = 0; i < 100; i++) {
		uint8_t hdr[2];
		ssize_t n = recv(fd, hdr, 2, MSG_PEEK | MSG_DONTWAIT);

		if (n == 0)
			return 0;
		if (n < 0 && errno != EAGAIN)
			return 0;       /* reset */
		if (n == 2) {
			uint16_t l = get16(hdr);
			int avail = (int)recv(fd, m, l, MSG_PEEK | MSG_DONTWAIT);

			if (l >= 12 && avail == l) {
				recv(fd, m, l, 0);
				*len = l;
				return get16(m + 8);
			}
		}
		pptp_server_poll(5);
	}
	return -1;
}

/* Nothing more from the server for a few rounds (and the connection still open). */
static bool
quiet(int fd)
{
	uint8_t b;

	rounds(5);
	return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

/* The server closed the connection: EOF (after any messages already sent). */
static bool
closed(int fd)
{
	uint8_t m[1024];
	uint16_t len;
	int t;

	while ((t = next_msg(fd, m, &len)) > 0)
		;
	return t == 0;
}

static void
check_header(const uint8_t *m, uint16_t len, uint16_t type)
{
	CHECK_EQ(len, rfc_len[type]);
	CHECK_EQ(get16(m), rfc_len[type]);
	CHECK_EQ(get16(m + 2), 1);
	CHECK_EQ(get32(m + 4), 0x1a2b3c4d);
	CHECK_EQ(get16(m + 8), type);
	CHECK_EQ(get16(m + 10), 0);
}

/* A client that completed Start-Control-Connection. */
static int
established_client(void)
{
	uint8_t m[1024];
	uint16_t len;
	int fd = client();

	send_all(fd, m, sccrq(m));
	CHECK_EQ(next_msg(fd, m, &len), SCCRP);
	CHECK_EQ(m[14], 1);
	return fd;
}

/* An Outgoing-Call on fd: our call id (0 when refused, with *result / *error). */
static uint16_t
place_call(int fd, uint16_t peer_call_id, uint8_t *result, uint8_t *error)
{
	uint8_t m[1024];
	uint16_t len;

	send_all(fd, m, ocrq(m, peer_call_id, 77, 32));
	if (next_msg(fd, m, &len) != OCRP)
		return 0;
	check_header(m, len, OCRP);
	CHECK_EQ(get16(m + 14), peer_call_id);
	CHECK_EQ(get16(m + 24), conf.window);  /* our Packet Recv Window Size */
	*result = m[16];
	*error = m[17];
	return get16(m + 12);
}

/* ---- tests ---- */

static void
test_start(void)
{
	uint8_t m[1024];
	uint16_t len;
	int fd = client();

	CHECK_EQ(pptp_srv.nb_conns, 1);
	send_all(fd, m, sccrq(m));
	CHECK_EQ(next_msg(fd, m, &len), SCCRP);
	check_header(m, len, SCCRP);
	CHECK_EQ(get16(m + 12), 0x0100);        /* protocol version 1.0 */
	CHECK_EQ(m[14], 1);                     /* result: OK */
	CHECK_EQ(m[15], 0);
	CHECK(get32(m + 16) & 1);               /* asynchronous framing */
	CHECK_EQ(get16(m + 24), conf.max_sessions);
	CHECK(strcmp((const char *)m + 28, conf.ppp.name) == 0);
	CHECK(strcmp((const char *)m + 92, "dpvpn") == 0);
	CHECK(m[28 + 63] == 0 && m[92 + 63] == 0);
	CHECK(quiet(fd));

	/* A second Start-Control-Connection-Request: general error, closed. */
	send_all(fd, m, sccrq(m));
	CHECK_EQ(next_msg(fd, m, &len), SCCRP);
	CHECK_EQ(m[14], 2);
	CHECK(closed(fd));
	close(fd);
	rounds(2);
	CHECK_EQ(pptp_srv.nb_conns, 0);

	/* Protocol version 2.0: result 5, closed. */
	fd = client();
	sccrq(m);
	put16(m + 12, 0x0200);
	send_all(fd, m, rfc_len[SCCRQ]);
	CHECK_EQ(next_msg(fd, m, &len), SCCRP);
	CHECK_EQ(m[14], 5);
	CHECK_EQ(get16(m + 12), 0x0100);
	CHECK(closed(fd));
	close(fd);
}

static void
test_echo(void)
{
	uint8_t m[1024];
	uint16_t len;
	int fd = client();

	/* Answered even before Start-Control-Connection (RFC 2637 2.4: keepalive at any time). */
	send_all(fd, m, simple(m, ECHORQ, 0xdeadbeef));
	CHECK_EQ(next_msg(fd, m, &len), ECHORP);
	check_header(m, len, ECHORP);
	CHECK_EQ(get32(m + 12), 0xdeadbeef);
	CHECK_EQ(m[16], 1);
	CHECK_EQ(m[17], 0);
	send_all(fd, m, sccrq(m));
	CHECK_EQ(next_msg(fd, m, &len), SCCRP);
	send_all(fd, m, simple(m, ECHORQ, 7));
	CHECK_EQ(next_msg(fd, m, &len), ECHORP);
	CHECK_EQ(get32(m + 12), 7);
	close(fd);
	rounds(2);
}

static void
test_out_of_state(void)
{
	uint8_t m[1024];
	uint16_t len;
	uint64_t bad = pptp_srv.bad_messages, opened = pptp_srv.calls_opened;
	unsigned added = sessions_added;
	int fd = client();

	/* Outgoing-Call-Request before Start-Control-Connection: refused (2: general error, 1: not connected). */
	send_all(fd, m, ocrq(m, 0x4242, 1, 16));
	CHECK_EQ(next_msg(fd, m, &len), OCRP);
	check_header(m, len, OCRP);
	CHECK_EQ(get16(m + 12), 0);             /* no call */
	CHECK_EQ(get16(m + 14), 0x4242);
	CHECK_EQ(m[16], 2);
	CHECK_EQ(m[17], 1);
	CHECK_EQ(pptp_srv.bad_messages, bad + 1);
	CHECK_EQ(pptp_srv.calls_opened, opened);
	CHECK_EQ(pptp_srv.nb_calls, 0);
	CHECK_EQ(sessions_added, added);
	/* Other messages before it: counted, not answered, connection kept. */
	send_all(fd, m, simple(m, CCRQ, 0));
	send_all(fd, m, simple(m, SLI, 0));
	CHECK(quiet(fd));
	CHECK_EQ(pptp_srv.bad_messages, bad + 3);
	/* Stop-Control-Connection-Request is allowed before: answered, then closed. */
	send_all(fd, m, simple(m, STOPCCRQ, 0x01000000));
	CHECK_EQ(next_msg(fd, m, &len), STOPCCRP);
	check_header(m, len, STOPCCRP);
	CHECK_EQ(m[12], 1);
	CHECK(closed(fd));
	close(fd);
	rounds(2);
	CHECK_EQ(pptp_srv.nb_conns, 0);
}

static void
test_bad_messages(void)
{
	uint8_t m[2048];
	uint16_t len;
	uint64_t bad = pptp_srv.bad_messages, closed_before = pptp_srv.conns_closed;
	int fd;

	/* Bad magic cookie: closed without an answer. */
	fd = established_client();
	sccrq(m);
	put32(m + 4, 0x1a2b3c4e);
	send_all(fd, m, rfc_len[SCCRQ]);
	CHECK(closed(fd));
	close(fd);
	CHECK_EQ(pptp_srv.bad_messages, bad + 1);

	/* Message type 2 (management) instead of 1 (control). */
	fd = client();
	simple(m, ECHORQ, 1);
	put16(m + 2, 2);
	send_all(fd, m, rfc_len[ECHORQ]);
	CHECK(closed(fd));
	close(fd);
	CHECK_EQ(pptp_srv.bad_messages, bad + 2);

	/* Length below the header, and beyond what a control message can be. */
	fd = client();
	simple(m, ECHORQ, 1);
	put16(m, 8);
	send_all(fd, m, 16);
	CHECK(closed(fd));
	close(fd);
	fd = client();
	memset(m, 0, sizeof(m));
	put16(m, 2000);
	send_all(fd, m, 2000);
	CHECK(closed(fd));
	close(fd);
	fd = client();
	put16(m, 0);
	send_all(fd, m, 2);
	CHECK(closed(fd));
	close(fd);
	CHECK_EQ(pptp_srv.bad_messages, bad + 5);

	/* A known type shorter than its RFC length: closed. */
	fd = established_client();
	simple(m, OCRQ, 0);
	put16(m, 16);
	send_all(fd, m, 16);
	CHECK(closed(fd));
	close(fd);
	CHECK_EQ(pptp_srv.bad_messages, bad + 6);

	/* An unknown type (its length is known from the header): skipped, the connection goes on. */
	fd = established_client();
	msg(m, ECHORQ);
	put16(m + 8, 99);
	send_all(fd, m, 16);
	msg(m, ECHORQ);
	put16(m, 40);
	put16(m + 8, 0);
	send_all(fd, m, 40);
	CHECK(quiet(fd));
	CHECK_EQ(pptp_srv.bad_messages, bad + 8);
	send_all(fd, m, simple(m, ECHORQ, 5));
	CHECK_EQ(next_msg(fd, m, &len), ECHORP);
	/* Longer than the RFC length: the extra bytes are skipped with the message. */
	simple(m, ECHORQ, 6);
	put16(m, 30);
	send_all(fd, m, 30);
	send_all(fd, m, simple(m, ECHORQ, 8));
	CHECK_EQ(next_msg(fd, m, &len), ECHORP);
	CHECK_EQ(get32(m + 12), 6);
	CHECK_EQ(next_msg(fd, m, &len), ECHORP);
	CHECK_EQ(get32(m + 12), 8);
	/* Messages of the PAC's side and incoming calls: counted, not answered. */
	send_all(fd, m, msg(m, ICRQ));
	send_all(fd, m, msg(m, SCCRP));
	send_all(fd, m, msg(m, OCRP));
	CHECK(quiet(fd));
	CHECK_EQ(pptp_srv.bad_messages, bad + 11);
	/* The notices a PNS may send are taken silently. */
	send_all(fd, m, msg(m, SLI));
	send_all(fd, m, msg(m, WEN));
	send_all(fd, m, msg(m, CDN));
	CHECK(quiet(fd));
	CHECK_EQ(pptp_srv.bad_messages, bad + 11);
	close(fd);
	rounds(3);
	CHECK_EQ(pptp_srv.nb_conns, 0);
	CHECK_EQ(pptp_srv.conns_closed, closed_before + 7);
}

static void
test_framing(void)
{
	uint8_t m[1024], two[256];
	uint16_t len, n;
	int fd = client();

	/* One byte per TCP segment. */
	n = sccrq(m);
	for (uint16_t i = 0; i < n; i++) {
		send_all(fd, m + i, 1);
		rounds(1);
	}
	CHECK_EQ(next_msg(fd, m, &len), SCCRP);
	CHECK_EQ(m[14], 1);
	/* Two messages in one segment: two answers, in order. */
	n = simple(two, ECHORQ, 1);
	n = (uint16_t)(n + simple(two + n, ECHORQ, 2));
	send_all(fd, two, n);
	CHECK_EQ(next_msg(fd, m, &len), ECHORP);
	CHECK_EQ(get32(m + 12), 1);
	CHECK_EQ(next_msg(fd, m, &len), ECHORP);
	CHECK_EQ(get32(m + 12), 2);
	/* A full receive buffer's worth of small messages in one write. */
	uint8_t many[64 * 16];
	for (unsigned i = 0; i < 64; i++)
		simple(many + i * 16, ECHORQ, 100 + i);
	send_all(fd, many, sizeof(many));
	for (unsigned i = 0; i < 64; i++) {
		CHECK_EQ(next_msg(fd, m, &len), ECHORP);
		CHECK_EQ(get32(m + 12), 100 + i);
	}
	close(fd);
	rounds(2);
}

static void
test_calls(void)
{
	uint8_t m[1024];
	uint16_t len, id, id2;
	uint8_t result, error;
	uint64_t closed_calls = pptp_srv.calls_closed;
	unsigned added = sessions_added, removed = sessions_removed, frames = frames_sent;
	int fd = established_client();
	struct pptp_call *call;

	id = place_call(fd, 0x1111, &result, &error);
	CHECK(id != 0);
	CHECK_EQ(result, 1);
	CHECK_EQ(error, 0);
	CHECK_EQ(sessions_added, added + 1);
	CHECK_EQ(pptp_srv.nb_calls, 1);
	call = pptp_srv.calls[id];
	CHECK(call != NULL);
	if (call == NULL)
		return;
	CHECK(call->t == last_added);
	CHECK_EQ(call->s->call_id, id);
	CHECK_EQ(call->s->peer_call_id, 0x1111);
	CHECK_EQ(call->s->peer_window, 32);
	CHECK_EQ(call->serial, 77);
	{
		/* The tunnel's outer addresses: the client's as the server saw it, and ours. */
		struct sockaddr_in me;
		socklen_t sl = sizeof(me);

		getsockname(fd, (struct sockaddr *)&me, &sl);
		CHECK(call->t->peer == me.sin_addr.s_addr);
		CHECK(call->t->local == host.local);
	}
	/* PPP starts at once: our LCP Configure-Request, with address and control. */
	CHECK_EQ(frames_sent, frames + 1);
	CHECK(last_frame_t == call->t);
	CHECK(last_frame_len >= 8 && memcmp(last_frame, "\xff\x03\xc0\x21\x01", 5) == 0);
	CHECK_EQ(get16(last_frame + 6), last_frame_len - 4);

	/* A PPP frame from the data path (the lcore's ring): the client's LCP Configure-Request is acked. */
	{
		static const uint8_t req[] = { 0xc0, 0x21, 0x01, 0x07, 0x00, 0x0a, 0x05, 0x06, 0x12, 0x34, 0x56, 0x79 };
		struct rte_mbuf *f = rte_pktmbuf_alloc(pool);
		uint64_t rx = pptp_srv.ppp_frames_rx;

		memcpy(rte_pktmbuf_append(f, sizeof(req)), req, sizeof(req));
		f->hash.usr = id;
		CHECK_EQ(rte_ring_enqueue(pptp_ctl_ring, f), 0);
		rounds(1);
		CHECK_EQ(pptp_srv.ppp_frames_rx, rx + 1);
		CHECK_EQ(last_frame_len, 2 + sizeof(req));
		CHECK(memcmp(last_frame, "\xff\x03\xc0\x21\x02\x07\x00\x0a", 8) == 0);
		CHECK(memcmp(last_frame + 8, req + 6, 6) == 0);
		CHECK_EQ(call->ppp.peer_magic, 0x12345679);
		/* For a call that does not exist: counted and freed. */
		f = rte_pktmbuf_alloc(pool);
		memcpy(rte_pktmbuf_append(f, sizeof(req)), req, sizeof(req));
		f->hash.usr = (uint16_t)(id + 100);
		frames = frames_sent;
		CHECK_EQ(rte_ring_enqueue(pptp_ctl_ring, f), 0);
		rounds(1);
		CHECK_EQ(pptp_srv.ppp_frames_rx, rx + 2);
		CHECK_EQ(frames_sent, frames);
	}

	/* A second call on the same connection gets another id. */
	id2 = place_call(fd, 0x2222, &result, &error);
	CHECK(id2 != 0 && id2 != id);
	CHECK_EQ(pptp_srv.nb_calls, 2);

	/* Call-Clear-Request (by the client's call id): Call-Disconnect-Notify with result 4, call gone. */
	send_all(fd, m, simple(m, CCRQ, 0x1111u << 16));
	CHECK_EQ(next_msg(fd, m, &len), CDN);
	check_header(m, len, CDN);
	CHECK_EQ(get16(m + 12), id);
	CHECK_EQ(m[14], 4);
	CHECK_EQ(m[147], 0);
	rounds(1);
	CHECK(pptp_srv.calls[id] == NULL);
	CHECK_EQ(pptp_srv.nb_calls, 1);
	CHECK_EQ(sessions_removed, removed + 1);
	CHECK_EQ(pptp_srv.calls_closed, closed_calls + 1);
	/* Again, or for a call it never had: no answer. */
	send_all(fd, m, simple(m, CCRQ, 0x1111u << 16));
	send_all(fd, m, simple(m, CCRQ, 0x9999u << 16));
	CHECK(quiet(fd));
	CHECK_EQ(pptp_srv.nb_calls, 1);

	/* Stop-Control-Connection-Request: the reply, the other call torn down, the connection closed. */
	send_all(fd, m, simple(m, STOPCCRQ, 0x01000000));
	CHECK_EQ(next_msg(fd, m, &len), STOPCCRP);
	check_header(m, len, STOPCCRP);
	CHECK_EQ(m[12], 1);
	CHECK(closed(fd));
	close(fd);
	rounds(1);
	CHECK_EQ(pptp_srv.nb_calls, 0);
	CHECK(pptp_srv.calls[id2] == NULL);
	CHECK_EQ(sessions_removed, removed + 2);
	CHECK_EQ(pptp_srv.nb_conns, 0);

	/* A client that just goes away: its calls go with it. */
	fd = established_client();
	id = place_call(fd, 0x3333, &result, &error);
	CHECK(id != 0);
	CHECK_EQ(pptp_srv.nb_calls, 1);
	close(fd);
	rounds(3);
	CHECK_EQ(pptp_srv.nb_calls, 0);
	CHECK_EQ(sessions_removed, removed + 3);
}

static void
test_call_limits(void)
{
	uint8_t m[1024];
	uint16_t len, id;
	uint8_t result, error;
	uint64_t refused = pptp_srv.calls_refused;
	int fd = established_client();

	conf.max_sessions = 1;
	id = place_call(fd, 1, &result, &error);
	CHECK(id != 0);
	CHECK_EQ(result, 1);
	/* No room: general error, no resource. */
	CHECK_EQ(place_call(fd, 2, &result, &error), 0);
	CHECK_EQ(result, 2);
	CHECK_EQ(error, 4);
	CHECK_EQ(pptp_srv.calls_refused, refused + 1);
	CHECK_EQ(pptp_srv.nb_calls, 1);
	/* The host cannot take the session: PAC error. */
	conf.max_sessions = 8;
	fail_session_add = true;
	CHECK_EQ(place_call(fd, 3, &result, &error), 0);
	CHECK_EQ(result, 2);
	CHECK_EQ(error, 6);
	CHECK_EQ(pptp_srv.calls_refused, refused + 2);
	CHECK_EQ(pptp_srv.nb_calls, 1);
	fail_session_add = false;
	send_all(fd, m, simple(m, CCRQ, 1u << 16));
	CHECK_EQ(next_msg(fd, m, &len), CDN);
	rounds(1);
	CHECK_EQ(pptp_srv.nb_calls, 0);
	close(fd);
	rounds(2);

	/* Connection limit: accepted by the kernel, closed by the server and counted. */
	int fds[3];
	uint64_t crefused = pptp_srv.conns_refused;

	conf.max_connections = 2;
	fds[0] = client();
	fds[1] = client();
	fds[2] = client();
	CHECK_EQ(pptp_srv.nb_conns, 2);
	CHECK_EQ(pptp_srv.conns_refused, crefused + 1);
	CHECK(closed(fds[2]));
	CHECK(quiet(fds[0]));
	for (unsigned i = 0; i < 3; i++)
		close(fds[i]);
	conf.max_connections = 8;
	rounds(3);
	CHECK_EQ(pptp_srv.nb_conns, 0);
}

/* Echo-Request after echo_interval_s of silence; no Echo-Reply within it closes. Real time: ~3 s. */
static void
test_keepalive(void)
{
	uint8_t m[1024];
	uint16_t len;
	uint64_t timeouts = pptp_srv.echo_timeouts;
	struct timespec start, now;
	int fd = established_client();
	int t = -1;

	conf.echo_interval_s = 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned i = 0; i < 400 && (t = next_msg(fd, m, &len)) == -1; i++)
		;
	clock_gettime(CLOCK_MONOTONIC, &now);
	CHECK_EQ(t, ECHORQ);
	check_header(m, len, ECHORQ);
	/* Not before a second of silence (the last message came just before start). */
	CHECK((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= 900);
	/* Answer it: the connection stays. A wrong identifier does not count as an answer. */
	uint32_t echo_id = get32(m + 12);

	simple(m, ECHORP, echo_id);
	m[16] = 1;
	send_all(fd, m, rfc_len[ECHORP]);
	rounds(2);
	CHECK_EQ(pptp_srv.echo_timeouts, timeouts);
	CHECK_EQ(pptp_srv.nb_conns, 1);
	/* The next one, not answered (a reply for another identifier): closed as dead. */
	for (unsigned i = 0; i < 400 && (t = next_msg(fd, m, &len)) == -1; i++)
		;
	CHECK_EQ(t, ECHORQ);
	CHECK(get32(m + 12) != echo_id);
	simple(m, ECHORP, echo_id);
	send_all(fd, m, rfc_len[ECHORP]);
	for (unsigned i = 0; i < 400 && pptp_srv.nb_conns != 0; i++)
		pptp_server_poll(10);
	CHECK_EQ(pptp_srv.nb_conns, 0);
	CHECK_EQ(pptp_srv.echo_timeouts, timeouts + 1);
	CHECK(closed(fd));
	close(fd);
	conf.echo_interval_s = 0;
}

/* pptp_server_fini: Stop-Control-Connection-Request to each client, calls freed. */
static void
test_fini(void)
{
	uint8_t m[1024];
	uint16_t len;
	uint8_t result, error;
	unsigned removed = sessions_removed;
	int fd = established_client();

	CHECK(place_call(fd, 5, &result, &error) != 0);
	pptp_server_fini();
	CHECK_EQ(recv(fd, m, 16, MSG_WAITALL), 16);
	len = 16;
	check_header(m, len, STOPCCRQ);
	CHECK_EQ(m[12], 1);
	CHECK_EQ(recv(fd, m, 1, 0), 0);
	CHECK_EQ(sessions_removed, removed + 1);
	CHECK_EQ(pptp_srv.nb_calls, 0);
	CHECK_EQ(pptp_srv.nb_conns, 0);
	CHECK(pptp_ctl_ring == NULL);
	close(fd);
}

int
main(void)
{
	unsigned before;
	pid_t pid = getpid();

	if (test_eal_init("0") < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	before = rte_mempool_in_use_count(pool);

	if (chap_secrets_parse("test", "alice * secret *\n", &secrets) < 0)
		return 1;
	ppp_conf_defaults(&conf.ppp);
	snprintf(conf.ppp.name, sizeof(conf.ppp.name), "pptp-test");
	conf.ppp.secrets = &secrets;
	conf.ppp.local_addr = RTE_BE32(0x0a090001);
	conf.enable = true;
	snprintf(conf.tap, sizeof(conf.tap), "none");
	conf.pool.addr = RTE_BE32(0x0a090000);
	conf.pool.depth = 24;
	conf.max_sessions = 8;
	conf.max_connections = 8;
	conf.mtu = 1400;
	conf.window = 64;

	/* A loopback address of this process's own (127/8 is all local on Linux). */
	host.local = htonl(0x7f000000u | ((uint32_t)pid & 0xffffff));
	host.pool = pool;
	host.lock = &lock;
	host.session_add = host_session_add;
	host.route_add = host_route_add;
	host.sessions_remove = host_sessions_remove;
	host.send_frame = host_send_frame;
	server_addr.sin_family = AF_INET;
	server_addr.sin_port = htons(PPTP_PORT);
	server_addr.sin_addr.s_addr = host.local;
	if (pptp_server_init(&conf, &host) < 0) {
		printf("pptp-control: cannot listen on port %u: skipped\n", PPTP_PORT);
		return 77;
	}

	test_start();
	test_echo();
	test_out_of_state();
	test_bad_messages();
	test_framing();
	test_calls();
	test_call_limits();
	test_keepalive();
	test_fini();

	CHECK_EQ(rte_mempool_in_use_count(pool), before);
	chap_secrets_free(&secrets);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return check_summary("pptp-control");
}
