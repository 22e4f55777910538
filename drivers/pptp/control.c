/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PPTP control connections (RFC 2637 section 2) on TCP 1723, served by the
 * control thread with ordinary sockets: the kernel terminates TCP on the TAP
 * dpvpn punts port 1723 to. We are the PAC: clients (PNS) start the control
 * connection and place Outgoing-Calls; each call becomes a session.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_tailq.h>

#include "clock.h"
#include "pptp_impl.h"

#define PPTP_MAGIC 0x1a2b3c4d
#define PPTP_CTRL_MSG 1
#define HDR_LEN 12
#define ACCEPT_BURST 64         /* connections taken from the listen queue per round */
#define FD_RESERVE 64           /* descriptors left to the rest of dpvpn (telemetry clients ...) */
#define EVENTS_BURST 256        /* ready descriptors taken per round */

enum {
	SCCRQ = 1, SCCRP, STOPCCRQ, STOPCCRP, ECHORQ, ECHORP, OCRQ, OCRP, ICRQ, ICRP, ICCN, CCRQ, CDN, WEN, SLI,
};

/* Each message's fixed length (RFC 2637 2.1-2.16), by type. */
static const uint16_t msg_len[] = {
	[SCCRQ] = 156, [SCCRP] = 156, [STOPCCRQ] = 16, [STOPCCRP] = 16, [ECHORQ] = 16, [ECHORP] = 20,
	[OCRQ] = 168, [OCRP] = 32, [ICRQ] = 220, [ICRP] = 24, [ICCN] = 28, [CCRQ] = 16, [CDN] = 148,
	[WEN] = 40, [SLI] = 24,
};

static const char *const msg_name[] = {
	[SCCRQ] = "Start-Control-Connection-Request", [SCCRP] = "Start-Control-Connection-Reply",
	[STOPCCRQ] = "Stop-Control-Connection-Request", [STOPCCRP] = "Stop-Control-Connection-Reply",
	[ECHORQ] = "Echo-Request", [ECHORP] = "Echo-Reply", [OCRQ] = "Outgoing-Call-Request",
	[OCRP] = "Outgoing-Call-Reply", [ICRQ] = "Incoming-Call-Request", [ICRP] = "Incoming-Call-Reply",
	[ICCN] = "Incoming-Call-Connected", [CCRQ] = "Call-Clear-Request", [CDN] = "Call-Disconnect-Notify",
	[WEN] = "WAN-Error-Notify", [SLI] = "Set-Link-Info",
};

struct pptp_server pptp_srv = { .listen_fd = -1, .epoll_fd = -1 };

/* epoll data of the two descriptors that are not connections (a connection's is its pptp_conn). */
static char tag_listen, tag_wake;

/* Held open so that a full descriptor table can still take a connection off the queue to refuse it. */
static int spare_fd = -1;
/* Connections whose descriptor would reach this are refused: the open files limit less FD_RESERVE. */
static long fd_ceiling = -1;

void
pptp_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_limited_v(&pptp_srv.log, "pptp", fmt, ap);
	va_end(ap);
}

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

static void
conn_kill(struct pptp_conn *c, const char *why)
{
	if (!c->dead)
		snprintf(c->why, sizeof(c->why), "%s", why);
	c->dead = true;
}

/* Sends a message whose body (after the 12-byte header) is in m (msg_len bytes in all). */
static void
send_msg(struct pptp_conn *c, uint16_t type, uint8_t *m)
{
	uint16_t len = msg_len[type];
	ssize_t n;

	put16(m, len);
	put16(m + 2, PPTP_CTRL_MSG);
	put32(m + 4, PPTP_MAGIC);
	put16(m + 8, type);
	put16(m + 10, 0);
	/* Messages are small; a peer that does not read them is dropped, never waited for. */
	n = send(c->fd, m, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != len)
		conn_kill(c, n < 0 ? "send failed" : "peer not reading");
}

static void
fill_host_vendor(uint8_t *m)
{
	snprintf((char *)m + 28, 64, "%s", pptp_srv.conf->ppp.name);
	snprintf((char *)m + 92, 64, "dpvpn");
}

static void
on_sccrq(struct pptp_conn *c, const uint8_t *m)
{
	uint8_t r[156] = { 0 };

	put16(r + 12, 0x0100);          /* protocol version 1.0 */
	if (get16(m + 12) != 0x0100) {
		r[14] = 5;              /* Result: protocol version not supported */
		send_msg(c, SCCRP, r);
		conn_kill(c, "unsupported protocol version");
		return;
	}
	if (c->established) {
		r[14] = 2;              /* General error */
		r[15] = 0;
		send_msg(c, SCCRP, r);
		conn_kill(c, "second Start-Control-Connection-Request");
		return;
	}
	r[14] = 1;                      /* OK */
	put32(r + 16, 1);               /* framing: asynchronous (what pppd sends) */
	put32(r + 20, 1);               /* bearer: analog */
	put16(r + 24, (uint16_t)RTE_MIN(pptp_srv.conf->max_sessions, 65535u));
	put16(r + 26, 1);
	fill_host_vendor(r);
	send_msg(c, SCCRP, r);
	c->established = true;
}

static void
close_calls_of(struct pptp_conn *c, const char *why, bool cdn)
{
	struct pptp_call *call;

	TAILQ_FOREACH(call, &c->calls, conn_next)
		pptp_call_close(call, why, cdn);
}

static void
on_ocrq(struct pptp_conn *c, const uint8_t *m)
{
	uint8_t r[32] = { 0 };
	uint8_t result = 1, error = 0;
	struct pptp_call *call = NULL;

	if (!c->established) {
		result = 2;
		error = 1;              /* Not-Connected */
	} else {
		call = pptp_call_open(c, get16(m + 12), get16(m + 14), get16(m + 32), &result, &error);
	}
	put16(r + 12, call ? call->call_id : 0);
	put16(r + 14, get16(m + 12));
	r[16] = result;
	r[17] = error;
	put32(r + 20, 100000000);       /* connect speed, bits/s */
	put16(r + 24, pptp_srv.conf->window);
	put16(r + 26, 0);
	send_msg(c, OCRP, r);
	if (call != NULL)
		ppp_link_start(&call->ppp, clock_monotonic_ms());
}

void
pptp_conn_send_cdn(struct pptp_conn *c, uint16_t call_id, uint8_t result, const char *why)
{
	uint8_t r[148] = { 0 };

	if (c->dead)
		return;
	put16(r + 12, call_id);
	r[14] = result;
	snprintf((char *)r + 20, 128, "%s", why);
	send_msg(c, CDN, r);
}

static void
on_ccrq(struct pptp_conn *c, const uint8_t *m)
{
	uint16_t peer_call_id = get16(m + 12);
	struct pptp_call *call;

	TAILQ_FOREACH(call, &c->calls, conn_next) {
		if (call->peer_call_id == peer_call_id) {
			/* RFC 2637 2.13: the PAC answers with Call-Disconnect-Notify (result 4: request). */
			pptp_conn_send_cdn(c, call->call_id, 4, "call cleared by the client");
			call->cdn_sent = true;
			pptp_call_close(call, "Call-Clear-Request", false);
			return;
		}
	}
	pptp_log("%s: Call-Clear-Request for unknown call %u", inet_ntoa((struct in_addr){ c->peer }),
		 peer_call_id);
}

static void
handle_msg(struct pptp_conn *c, const uint8_t *m, uint16_t len)
{
	uint16_t type;
	uint8_t r[20] = { 0 };

	if (get16(m + 2) != PPTP_CTRL_MSG || get32(m + 4) != PPTP_MAGIC) {
		pptp_srv.bad_messages++;
		conn_kill(c, "bad magic cookie or message type");
		return;
	}
	type = get16(m + 8);
	if (type == 0 || type >= RTE_DIM(msg_len) || len < msg_len[type]) {
		pptp_srv.bad_messages++;
		pptp_log("%s: control message type %u length %u refused",
			 inet_ntoa((struct in_addr){ c->peer }), type, len);
		if (type == 0 || type >= RTE_DIM(msg_len))
			return;         /* unknown types are skipped (their length is known) */
		conn_kill(c, "truncated control message");
		return;
	}
	if (!c->established && type != SCCRQ && type != STOPCCRQ && type != ECHORQ) {
		pptp_srv.bad_messages++;
		pptp_log("%s: %s before Start-Control-Connection", inet_ntoa((struct in_addr){ c->peer }),
			 msg_name[type]);
		if (type != OCRQ)
			return;
	}
	switch (type) {
	case SCCRQ:
		on_sccrq(c, m);
		break;
	case STOPCCRQ:
		r[12] = 1;              /* OK */
		send_msg(c, STOPCCRP, r);
		close_calls_of(c, "Stop-Control-Connection", false);
		conn_kill(c, "Stop-Control-Connection-Request");
		break;
	case STOPCCRP:
		conn_kill(c, "Stop-Control-Connection-Reply");
		break;
	case ECHORQ:
		memcpy(r + 12, m + 12, 4);
		r[16] = 1;
		send_msg(c, ECHORP, r);
		break;
	case ECHORP:
		if (get32(m + 12) == c->echo_id)
			c->echo_sent_ms = 0;
		break;
	case OCRQ:
		on_ocrq(c, m);
		break;
	case CCRQ:
		on_ccrq(c, m);
		break;
	case SLI:               /* ACCMs: meaningless for our synchronous PPP over GRE */
	case WEN:
	case CDN:
		break;
	default:                /* incoming calls and the PAC's own messages */
		pptp_srv.bad_messages++;
		pptp_log("%s: %s not supported", inet_ntoa((struct in_addr){ c->peer }), msg_name[type]);
		break;
	}
}

static void
conn_read(struct pptp_conn *c)
{
	ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, MSG_DONTWAIT);

	if (n == 0) {
		conn_kill(c, "TCP connection closed");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_kill(c, "TCP connection lost");
		return;
	}
	c->rlen += (uint32_t)n;
	c->last_rx_ms = clock_monotonic_ms();
	while (c->rlen >= 2 && !c->dead) {
		uint16_t len = get16(c->rbuf);

		if (len < HDR_LEN || len > sizeof(c->rbuf)) {
			pptp_srv.bad_messages++;
			conn_kill(c, "control message length out of range");
			return;
		}
		if (c->rlen < len)
			break;
		handle_msg(c, c->rbuf, len);
		memmove(c->rbuf, c->rbuf + len, c->rlen - len);
		c->rlen -= len;
	}
}

/* Not through pptp_log: routine lines must not hide this one. Once a second at most. */
static void
fd_warning(const char *why)
{
	static uint64_t last_ms;
	uint64_t now = clock_monotonic_ms();

	if (last_ms != 0 && now - last_ms < 1000)
		return;
	last_ms = now;
	printf("pptp: %s with %u control connections: connections refused (raise the open files limit)\n", why,
	       pptp_srv.nb_conns);
	fflush(stdout);
}

static void
conn_accept(void)
{
	struct sockaddr_in sa;
	socklen_t sl;
	int fd;

	/* A burst of clients would otherwise wait one round each, and overflow the listen queue. */
	for (unsigned n = 0; n < ACCEPT_BURST; n++) {
		sl = sizeof(sa);
		fd = accept(pptp_srv.listen_fd, (struct sockaddr *)&sa, &sl);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			/*
			 * Out of descriptors (accept fails so before it looks at the queue):
			 * left queued, a connection would keep the listening socket readable
			 * (poll returns at once, forever) and its client would wait for a
			 * reply that never comes. The spare descriptor makes room to refuse it.
			 */
			int err = errno;

			if (spare_fd < 0)
				return;
			close(spare_fd);
			fd = accept(pptp_srv.listen_fd, NULL, NULL);
			if (fd >= 0) {
				close(fd);
				pptp_srv.conns_refused++;
				fd_warning(strerror(err));
			}
			spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			return;
		}
		if (fd < 0)
			return;
		if (fd_ceiling >= 0 && fd >= fd_ceiling) {
			/* Descriptors are taken lowest first: the table is nearly full. */
			close(fd);
			pptp_srv.conns_refused++;
			fd_warning("open files limit nearly reached");
			continue;
		}
		if (pptp_srv.nb_conns >= pptp_srv.conf->max_connections ||
		    pptp_conn_add(fd, sa.sin_addr.s_addr, ntohs(sa.sin_port)) == NULL) {
			pptp_srv.conns_refused++;
			close(fd);
		}
	}
}

struct pptp_conn *
pptp_conn_add(int fd, rte_be32_t peer, uint16_t peer_port)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct pptp_conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (c == NULL)
		return NULL;
	ev.data.ptr = c;
	if (epoll_ctl(pptp_srv.epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		free(c);
		return NULL;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	TAILQ_INIT(&c->calls);
	c->fd = fd;
	c->peer = peer;
	c->peer_port = peer_port;
	c->last_rx_ms = clock_monotonic_ms();
	TAILQ_INSERT_TAIL(&pptp_srv.conns, c, next);
	pptp_srv.nb_conns++;
	pptp_srv.conns_accepted++;
	return c;
}

/* After conns_reap freed its calls. */
static void
conn_free(struct pptp_conn *c)
{
	pptp_log("%s:%u: control connection closed: %s", inet_ntoa((struct in_addr){ c->peer }), c->peer_port,
		 c->why);
	epoll_ctl(pptp_srv.epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	TAILQ_REMOVE(&pptp_srv.conns, c, next);
	pptp_srv.nb_conns--;
	pptp_srv.conns_closed++;
	free(c);
}

static void
conns_timer(uint64_t now)
{
	struct pptp_conn *c;
	const uint64_t iv = (uint64_t)pptp_srv.conf->echo_interval_s * 1000;

	if (iv == 0)
		return;
	TAILQ_FOREACH(c, &pptp_srv.conns, next) {
		if (c->echo_sent_ms != 0 && now - c->echo_sent_ms > iv) {
			pptp_srv.echo_timeouts++;
			conn_kill(c, "no Echo-Reply");
		} else if (c->echo_sent_ms == 0 && now - c->last_rx_ms > iv) {
			uint8_t r[16] = { 0 };

			put32(r + 12, ++c->echo_id);
			c->echo_sent_ms = now;
			send_msg(c, ECHORQ, r);
		}
	}
}

/* Every control connection is a descriptor: the soft limit (often 1024) must not cap max_connections. */
static void
raise_fd_limit(unsigned max_connections)
{
	const rlim_t want = (rlim_t)max_connections + 256;     /* and the process's other files */
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	fd_ceiling = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT32_MAX ? -1 : (long)rl.rlim_cur - FD_RESERVE;
	if (rl.rlim_cur < want)
		printf("pptp: warning: open files limited to %llu, max_connections %u needs about %llu "
		       "(raise the hard limit: ulimit -Hn, LimitNOFILE=)\n", (unsigned long long)rl.rlim_cur,
		       max_connections, (unsigned long long)want);
}

int
pptp_server_init(const struct pptp_conf *conf, const struct session_host *host)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PPTP_PORT) };
	char name[RTE_RING_NAMESIZE];
	int one = 1;

	pptp_srv.conf = conf;
	pptp_srv.host = host;
	TAILQ_INIT(&pptp_srv.conns);
	TAILQ_INIT(&pptp_srv.calls_live);
	pptp_srv.next_call_id = 1;
	raise_fd_limit(conf->max_connections);
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pptp_gre_set_host(host);
	if (mschapv2_init() < 0)
		return -1;
	pptp_srv.pool_size = 1u << (32 - conf->pool.depth);
	pptp_srv.pool_used = calloc(pptp_srv.pool_size, 1);
	snprintf(name, sizeof(name), "pptp_ctl");
	/* Many lcores put frames, the control thread takes them. */
	pptp_ctl_ring = rte_ring_create(name, 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (pptp_srv.pool_used == NULL || pptp_ctl_ring == NULL) {
		fprintf(stderr, "pptp: out of memory\n");
		return -1;
	}
	if (pptp_ctl_wake < 0)
		pptp_ctl_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pptp_srv.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = host->local;
	setsockopt(pptp_srv.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (pptp_srv.listen_fd < 0 || bind(pptp_srv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(pptp_srv.listen_fd, 1024) < 0) {
		fprintf(stderr, "pptp: cannot listen on %s:%u: %s\n", inet_ntoa(sa.sin_addr), PPTP_PORT,
			strerror(errno));
		return -1;
	}
	pptp_srv.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (pptp_srv.epoll_fd < 0 ||
	    epoll_ctl(pptp_srv.epoll_fd, EPOLL_CTL_ADD, pptp_srv.listen_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_listen }) != 0 ||
	    (pptp_ctl_wake >= 0 && epoll_ctl(pptp_srv.epoll_fd, EPOLL_CTL_ADD, pptp_ctl_wake,
					     &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_wake }) != 0)) {
		fprintf(stderr, "pptp: epoll: %s\n", strerror(errno));
		return -1;
	}
	printf("pptp: listening on %s:%u (TAP %s)\n", inet_ntoa(sa.sin_addr), PPTP_PORT, conf->tap);
	return 0;
}

/* Dead connections' calls leave in one batch (one RCU grace period), then the connections. */
static void
conns_reap(void)
{
	struct pptp_conn *c, *tmp;

	TAILQ_FOREACH(c, &pptp_srv.conns, next)
		if (c->dead)
			close_calls_of(c, c->why, false);
	pptp_calls_reap();
	RTE_TAILQ_FOREACH_SAFE(c, &pptp_srv.conns, next, tmp)
		if (c->dead)
			conn_free(c);
}

/*
 * One round of the control thread: what epoll says is ready (so an idle
 * connection costs nothing here), PPP frames from the lcores, timers, and
 * the teardown of what died in the round.
 */
void
pptp_server_poll(int timeout_ms)
{
	struct epoll_event ev[EVENTS_BURST];
	struct pptp_conn *c;
	struct rte_mbuf *frames[64];
	bool accept_ready = false;
	unsigned k;
	uint64_t now;
	int n;

	n = epoll_wait(pptp_srv.epoll_fd, ev, RTE_DIM(ev), timeout_ms);
	/* Sockets and calls change only under the table lock (telemetry reads them). */
	pthread_mutex_lock(pptp_srv.host->lock);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr == &tag_wake) {
			uint64_t count;

			if (read(pptp_ctl_wake, &count, sizeof(count)) < 0) {
				/* EAGAIN: another round took it */
			}
		} else if (ev[i].data.ptr == &tag_listen) {
			accept_ready = true;
		} else {
			/* Connections are freed only at the end of the round: the pointer is good. */
			c = ev[i].data.ptr;
			if (!c->dead)
				conn_read(c);
		}
	}
	if (accept_ready)
		conn_accept();
	while ((k = rte_ring_sc_dequeue_burst(pptp_ctl_ring, (void **)frames, RTE_DIM(frames), NULL)) != 0)
		for (unsigned i = 0; i < k; i++)
			pptp_call_ppp_input(frames[i]);
	now = clock_monotonic_ms();
	pptp_calls_timer(now);
	conns_timer(now);
	conns_reap();
	pthread_mutex_unlock(pptp_srv.host->lock);
}

void
pptp_server_fini(void)
{
	struct pptp_conn *c;
	struct rte_mbuf *m;

	if (pptp_srv.conf == NULL)
		return;
	pthread_mutex_lock(pptp_srv.host->lock);
	TAILQ_FOREACH(c, &pptp_srv.conns, next) {
		uint8_t r[16] = { 0 };

		r[12] = 1;              /* reason: general request to clear */
		send_msg(c, STOPCCRQ, r);
		conn_kill(c, "dpvpn stopping");
	}
	conns_reap();
	pthread_mutex_unlock(pptp_srv.host->lock);
	if (pptp_srv.listen_fd >= 0)
		close(pptp_srv.listen_fd);
	pptp_srv.listen_fd = -1;
	if (pptp_srv.epoll_fd >= 0)
		close(pptp_srv.epoll_fd);
	pptp_srv.epoll_fd = -1;
	if (spare_fd >= 0)
		close(spare_fd);
	spare_fd = -1;
	while (pptp_ctl_ring != NULL && rte_ring_dequeue(pptp_ctl_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(pptp_ctl_ring);
	pptp_ctl_ring = NULL;
	/* pptp_ctl_wake stays open: a worker may still write it, and a closed number could be reused. */
	free(pptp_srv.pool_used);
	pptp_srv.pool_used = NULL;
	pptp_srv.conf = NULL;
}
