/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A delay line between two host interfaces, for jitter experiments outside
 * the kernel-peer VM (this host's kernel has no netem):
 *
 *     delayline IFACE_A IFACE_B DELAY_US JITTER_US
 *
 * Frames received on A leave on B after DELAY_US +- JITTER_US (uniform, each
 * frame drawn on its own, so a jitter larger than the gap between frames
 * reorders them, as netem without a rate does); frames received on B leave
 * on A at once. Raw AF_PACKET sockets, one thread, waits in ppoll until the
 * next frame is due. SIGTERM or SIGINT ends it with its counters on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 2048
#define QUEUE_MAX 16384

struct held {
	uint64_t due_ns;
	uint64_t order;         /* arrival order: equal due times leave first come first */
	uint16_t len;
	uint8_t data[FRAME_MAX];
};

/* A binary min-heap of frames by due time. */
static struct held *heap;
static unsigned heap_n;
static volatile sig_atomic_t done;
static uint64_t delayed, passed, dropped_full, reordered_out;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool
before(const struct held *a, const struct held *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->order < b->order);
}

static void
swap(unsigned i, unsigned j)
{
	struct held t = heap[i];

	heap[i] = heap[j];
	heap[j] = t;
}

static void
heap_push_last(void)
{
	for (unsigned i = heap_n - 1; i > 0 && before(&heap[i], &heap[(i - 1) / 2]); i = (i - 1) / 2)
		swap(i, (i - 1) / 2);
}

static void
heap_pop_first(void)
{
	unsigned i = 0;

	heap[0] = heap[--heap_n];
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;

		if (l < heap_n && before(&heap[l], &heap[m]))
			m = l;
		if (r < heap_n && before(&heap[r], &heap[m]))
			m = r;
		if (m == i)
			return;
		swap(i, m);
		i = m;
	}
}

static int
raw_socket(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, buf = 32 << 20, fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	/* Large socket buffers: a burst from the guest must wait in the kernel, not be dropped. */
	if (fd < 0 || sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0) {
		fprintf(stderr, "delayline: %s: %s\n", ifname, strerror(errno));
		exit(1);
	}
	return fd;
}

static void
on_signal(int sig)
{
	(void)sig;
	done = 1;
}

int
main(int argc, char **argv)
{
	uint64_t delay_ns, jitter_ns, order = 0, last_sent_order = 0;
	struct pollfd pfd[2];
	uint8_t buf[FRAME_MAX];

	if (argc != 5) {
		fprintf(stderr, "usage: delayline IFACE_A IFACE_B DELAY_US JITTER_US\n");
		return 2;
	}
	delay_ns = strtoull(argv[3], NULL, 10) * 1000;
	jitter_ns = strtoull(argv[4], NULL, 10) * 1000;
	if (jitter_ns > delay_ns) {
		fprintf(stderr, "delayline: jitter above the delay\n");
		return 2;
	}
	heap = malloc(sizeof(*heap) * QUEUE_MAX);
	if (heap == NULL)
		return 1;
	pfd[0] = (struct pollfd){ .fd = raw_socket(argv[1]), .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = raw_socket(argv[2]), .events = POLLIN };
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	srandom((unsigned)now_ns());
	printf("delayline: %s -> %s %s us +- %s us, %s -> %s at once\n", argv[1], argv[2], argv[3], argv[4],
	       argv[2], argv[1]);
	fflush(stdout);
	while (!done) {
		uint64_t now = now_ns();
		struct timespec wait = { .tv_sec = 1 };
		ssize_t n;

		/* Due frames out, in due-time order. */
		while (heap_n > 0 && heap[0].due_ns <= now) {
			reordered_out += heap[0].order < last_sent_order;
			last_sent_order = heap[0].order;
			if (send(pfd[1].fd, heap[0].data, heap[0].len, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
				fprintf(stderr, "delayline: send: %s\n", strerror(errno));
			heap_pop_first();
		}
		if (heap_n > 0) {
			uint64_t d = heap[0].due_ns - now;

			wait = (struct timespec){ .tv_sec = (time_t)(d / 1000000000u), .tv_nsec = (long)(d % 1000000000u) };
		}
		if (ppoll(pfd, 2, &wait, NULL) < 0 && errno != EINTR)
			break;
		/* A: each frame gets its own due time. */
		while (heap_n < QUEUE_MAX && (n = recv(pfd[0].fd, heap[heap_n].data, FRAME_MAX, 0)) > 0) {
			/* uniform in [delay - jitter, delay + jitter] */
			uint64_t span = 2 * jitter_ns + 1;
			uint64_t r = ((uint64_t)random() << 31 | (uint64_t)random()) % span;

			heap[heap_n].due_ns = now_ns() + delay_ns - jitter_ns + r;
			heap[heap_n].order = ++order;
			heap[heap_n].len = (uint16_t)n;
			heap_n++;
			heap_push_last();
			delayed++;
		}
		if (heap_n == QUEUE_MAX) {
			while (recv(pfd[0].fd, buf, sizeof(buf), 0) > 0)
				dropped_full++;
		}
		/* B: straight through. */
		while ((n = recv(pfd[1].fd, buf, sizeof(buf), 0)) > 0) {
			if (send(pfd[0].fd, buf, (size_t)n, 0) >= 0)
				passed++;
		}
	}
	{
		/* What the kernel dropped before we read it (socket buffer full), per side. */
		struct tpacket_stats st[2] = { 0 };
		socklen_t sl = sizeof(st[0]);

		getsockopt(pfd[0].fd, SOL_PACKET, PACKET_STATISTICS, &st[0], &sl);
		sl = sizeof(st[1]);
		getsockopt(pfd[1].fd, SOL_PACKET, PACKET_STATISTICS, &st[1], &sl);
		printf("delayline: delayed %llu (%llu left behind a later one), passed back %llu, dropped: "
		       "queue full %llu, kernel %u on A, %u on B\n", (unsigned long long)delayed,
		       (unsigned long long)reordered_out, (unsigned long long)passed,
		       (unsigned long long)dropped_full, st[0].tp_drops, st[1].tp_drops);
	}
	return 0;
}
