/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path (DESIGN.md): TCP to our outside address (PPTP control
 * on 1723) needs a full TCP stack, so it goes to the kernel through a TAP
 * (net_tap) and the kernel's replies come back out of the outside port.
 * OpenVPN control packets (UDP to the TLS server's port) take the same way
 * to the control thread's UDP socket.
 * The TAP lives in a namespace of its own ("dpvpn-<tap>") with the outside
 * address as a /32, ARP off and a default route back into the TAP; the
 * control thread's listening socket is made there. Worker 0 moves the
 * packets; other workers punt to a ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "clock.h"
#include "dpvpn.h"

#define EXC_RING 1024
#define EXC_POLL_US 50          /* TAP reads are system calls: not every loop */

struct exception_path {
	uint16_t port_id;
	bool started;
	bool netns_added;
	char netns[32];
	struct rte_ring *to_kernel;
	struct rte_ether_addr tap_mac;
	char ifname[16];
	char addr[INET_ADDRSTRLEN];
	uint64_t to_kernel_pkts, from_kernel_pkts, dropped;
};

static struct exception_path exc;

static int
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
run(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "dpvpn: exception path: '%s' failed (%d)\n", cmd, rc);
	return rc == 0 ? 0 : -1;
}

static int
read_kernel_mac(const char *ifname, struct rte_ether_addr *mac)
{
	char path[128];
	unsigned b[6];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fscanf(f, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
	fclose(f);
	if (n != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)b[i];
	return 0;
}

int
exception_init(void)
{
	struct rte_eth_conf conf = { 0 };
	char spec[64];
	/* One TAP for both servers: [pptp]'s name when PPTP is on. */
	const char *tap = dp.cfg.pptp.enable ? dp.cfg.pptp.tap : dp.cfg.ovpn.tap;
	const char *section = dp.cfg.pptp.enable ? "pptp" : "openvpn_server";
	int rc;

	if (!config_has_servers(&dp.cfg))
		return 0;
	snprintf(exc.ifname, sizeof(exc.ifname), "%s", tap);
	snprintf(spec, sizeof(spec), "net_tap_dpvpn,iface=%s", tap);
	if (rte_dev_probe(spec) < 0 || rte_eth_dev_get_port_by_name("net_tap_dpvpn", &exc.port_id) != 0) {
		fprintf(stderr, "%s: [%s] tap: cannot create the TAP '%s' (net_tap)\n", dp.cfg.file, section, tap);
		return -1;
	}
	rc = rte_eth_dev_configure(exc.port_id, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(exc.port_id, 0, 512, (unsigned)rte_socket_id(), NULL, dp.pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(exc.port_id, 0, 512, (unsigned)rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(exc.port_id);
	if (rc != 0) {
		fprintf(stderr, "dpvpn: TAP '%s': %s\n", tap, rte_strerror(-rc));
		return -1;
	}
	exc.started = true;
	/* Frames we write must carry the kernel interface's MAC, else its TCP ignores them. */
	if (read_kernel_mac(tap, &exc.tap_mac) < 0) {
		fprintf(stderr, "dpvpn: TAP '%s': cannot read its MAC address\n", tap);
		return -1;
	}
	exc.to_kernel = rte_ring_create("exc_to_kernel", EXC_RING, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (exc.to_kernel == NULL)
		return -1;
	pkt_format_ipv4(dp.ports[PORT_OUTSIDE].addr, exc.addr, sizeof(exc.addr));
	/*
	 * The TAP moves into a namespace of its own: the kernel there owns only our
	 * outside address and routes everything back into the TAP, so the host's
	 * addresses and routes never meet the clients' (a client may even use an
	 * address the host has).
	 */
	snprintf(exc.netns, sizeof(exc.netns), "dpvpn-%s", tap);
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", exc.netns);
		rc = system(cmd); /* a killed run's leftover; fails when there was none */
	}
	if (run("ip netns add %s", exc.netns) < 0)
		return -1;
	exc.netns_added = true;
	if (run("ip link set dev %s netns %s", tap, exc.netns) < 0 ||
	    run("ip -n %s link set dev %s arp off up", exc.netns, tap) < 0 ||
	    run("ip -n %s addr add %s/32 dev %s", exc.netns, exc.addr, tap) < 0 ||
	    run("ip -n %s route add default dev %s", exc.netns, tap) < 0 ||
	    run("ip netns exec %s sh -c 'echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter; "
		"echo 0 > /proc/sys/net/ipv4/conf/%s/rp_filter; echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6'",
		exc.netns, tap) < 0)
		return -1;
	dp.exc = &exc;
	return 0;
}

int
exception_netns_enter(int *saved)
{
	char path[96];
	int fd;

	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/var/run/netns/%s", exc.netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*saved < 0 || fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "dpvpn: cannot enter network namespace %s: %s\n", exc.netns, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void
exception_netns_leave(int saved)
{
	if (saved >= 0) {
		if (setns(saved, CLONE_NEWNET) < 0)
			fprintf(stderr, "dpvpn: cannot return to the original network namespace\n");
		close(saved);
	}
}

void
exception_fini(void)
{
	struct rte_mbuf *m;

	if (exc.started) {
		rte_eth_dev_stop(exc.port_id);
		rte_eth_dev_close(exc.port_id);  /* the kernel interface goes with it */
		exc.started = false;
	}
	if (exc.netns_added && run("ip netns del %s", exc.netns) == 0)
		exc.netns_added = false;
	while (exc.to_kernel != NULL && rte_ring_dequeue(exc.to_kernel, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(exc.to_kernel);
	exc.to_kernel = NULL;
	dp.exc = NULL;
}

void
exception_punt(struct worker *w, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	uint32_t l4 = sizeof(struct rte_ether_hdr) + pkt_ipv4_hdr_len(ip);

	/*
	 * Virtual ports (veth, a VM's tap) hand over TCP with the checksum left
	 * to offload; the kernel behind the TAP would refuse it. Ethernet's FCS
	 * already guarded the bytes, so the sum is recomputed here.
	 */
	if (ip->next_proto_id == IPPROTO_TCP && m->nb_segs == 1 &&
	    rte_pktmbuf_data_len(m) >= l4 + sizeof(struct rte_tcp_hdr) &&
	    rte_pktmbuf_data_len(m) >= sizeof(struct rte_ether_hdr) + rte_be_to_cpu_16(ip->total_length)) {
		struct rte_tcp_hdr *tcp = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, l4);

		tcp->cksum = 0;
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	}
	/* UDP (OpenVPN control) likewise, unless the sender left it out (0: none, allowed in IPv4). */
	if (ip->next_proto_id == IPPROTO_UDP && m->nb_segs == 1 &&
	    rte_pktmbuf_data_len(m) >= l4 + sizeof(struct rte_udp_hdr) &&
	    rte_pktmbuf_data_len(m) >= sizeof(struct rte_ether_hdr) + rte_be_to_cpu_16(ip->total_length)) {
		struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, l4);

		if (udp->dgram_cksum != 0) {
			udp->dgram_cksum = 0;
			udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
		}
	}
	if (rte_ring_mp_enqueue(exc.to_kernel, m) != 0) {
		worker_drop(w, m, DROP_HANDOFF_FULL);
		return;
	}
}

unsigned
exception_poll(struct worker *w)
{
	struct rte_mbuf *pkts[BURST];
	unsigned n, sent, moved = 0;

	if (w->now < w->next_exception_poll)
		return 0;
	w->next_exception_poll = w->now + clock_us_to_ticks(EXC_POLL_US);
	n = rte_ring_sc_dequeue_burst(exc.to_kernel, (void **)pkts, BURST, NULL);
	if (n != 0) {
		for (unsigned i = 0; i < n; i++)
			rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *)->dst_addr = exc.tap_mac;
		sent = rte_eth_tx_burst(exc.port_id, 0, pkts, (uint16_t)n);
		exc.to_kernel_pkts += sent;
		for (unsigned i = sent; i < n; i++)
			worker_drop(w, pkts[i], DROP_TX_FULL);
		moved += n;
	}
	n = rte_eth_rx_burst(exc.port_id, 0, pkts, BURST);
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		struct rte_ipv4_hdr *ip;
		rte_be32_t nh;

		/* Only the kernel's IPv4 from our address leaves; anything else it sends is dropped. */
		if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*ip) ||
		    eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
			worker_drop(w, m, DROP_ETH_UNSUPPORTED);
			continue;
		}
		rte_pktmbuf_adj(m, sizeof(*eth));
		ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		if (ip->src_addr != dp.ports[PORT_OUTSIDE].addr) {
			worker_drop(w, m, DROP_IP_BAD_SOURCE);
			continue;
		}
		nh = port_next_hop(PORT_OUTSIDE, ip->dst_addr);
		if (nh == 0) {
			worker_drop(w, m, DROP_NO_ROUTE);
			continue;
		}
		exc.from_kernel_pkts++;
		xmit_ipv4(w, PORT_OUTSIDE, nh, m, NULL);
	}
	return moved + n;
}
