/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pkt MSS clamping: random SYNs with option lists of every shape (the MSS
 * option at even and odd offsets), checked by recomputing the TCP checksum in
 * full (DPDK's rte_ipv4_udptcp_cksum, an independent computation); packets
 * that must stay untouched stay byte-identical.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>

#include "check.h"
#include "pkt_tcp_mss.h"

static uint32_t rnd_state = 12345;

static uint32_t
rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

/*
 * A SYN with a random option list holding one MSS option (or none), after
 * nops_before NOPs. Returns the packet length; *mss_off is the option's
 * offset from the TCP header (0: none).
 */
static uint32_t
make_syn(uint8_t *buf, uint16_t mss, bool with_mss, uint32_t *mss_off)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	uint8_t *tcp = buf + sizeof(*ip), *o = tcp + 20;
	uint32_t payload = rnd(40), opt_len, len;

	memset(buf, 0, 200);
	*mss_off = 0;
	/* Options in random order: NOPs, SACK-permitted, window scale, timestamps, MSS. */
	/* At most 40 bytes of options: 5 x 10 would not fit the data offset. */
	for (int k = 0; k < 5 && o - tcp <= 20 + 26; k++) {
		switch (rnd(5)) {
		case 0:
			*o++ = 1;
			break;
		case 1:
			*o++ = 4, *o++ = 2;
			break;
		case 2:
			*o++ = 3, *o++ = 3, *o++ = (uint8_t)rnd(14);
			break;
		case 3:
			*o++ = 8, *o++ = 10;
			for (int b = 0; b < 8; b++)
				*o++ = (uint8_t)rnd(256);
			break;
		default:
			if (with_mss && *mss_off == 0) {
				*mss_off = (uint32_t)(o - tcp);
				*o++ = 2, *o++ = 4, *o++ = (uint8_t)(mss >> 8), *o++ = (uint8_t)mss;
			}
		}
	}
	if (with_mss && *mss_off == 0) {
		*mss_off = (uint32_t)(o - tcp);
		*o++ = 2, *o++ = 4, *o++ = (uint8_t)(mss >> 8), *o++ = (uint8_t)mss;
	}
	while ((o - tcp) % 4)
		*o++ = 0; /* EOL padding */
	opt_len = (uint32_t)(o - tcp);
	for (uint32_t i = 0; i < payload; i++)
		*o++ = (uint8_t)rnd(256);
	len = (uint32_t)(o - buf);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(0x0a000000 | rnd(1 << 24));
	ip->dst_addr = rte_cpu_to_be_32(0x0a000000 | rnd(1 << 24));
	tcp[0] = (uint8_t)rnd(256), tcp[1] = (uint8_t)rnd(256), tcp[2] = 0x13, tcp[3] = 0x88;
	tcp[12] = (uint8_t)(opt_len / 4 << 4);
	tcp[13] = rnd(2) ? 0x02 : 0x12; /* SYN or SYN-ACK */
	tcp[14] = 0xfa;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	*(uint16_t *)(tcp + 16) = 0;
	*(uint16_t *)(tcp + 16) = rte_ipv4_udptcp_cksum(ip, tcp);
	return len;
}

/* The checksum as written equals a full recomputation (0 and 0xffff are the same sum). */
static bool
checksum_ok(struct rte_ipv4_hdr *ip, uint8_t *tcp)
{
	uint16_t got, want;

	memcpy(&got, tcp + 16, 2);
	memset(tcp + 16, 0, 2);
	want = rte_ipv4_udptcp_cksum(ip, tcp);
	memcpy(tcp + 16, &got, 2);
	return got == want || ((got == 0 || got == 0xffff) && (want == 0 || want == 0xffff));
}

int
main(void)
{
	uint8_t buf[200], copy[200];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	unsigned clamped = 0, odd = 0, untouched_ok = 0;

	CHECK_EQ(pkt_tcp_mss_for_mtu(1400), 1360);
	for (int n = 0; n < 100000; n++) {
		uint16_t mss = (uint16_t)(500 + rnd(1100)), limit = (uint16_t)(536 + rnd(1000));
		uint32_t off, len = make_syn(buf, mss, rnd(8) != 0, &off);
		uint8_t *tcp = buf + sizeof(*ip);
		bool changed;

		memcpy(copy, buf, len);
		changed = pkt_tcp_mss_clamp(ip, len, limit);
		if (off != 0 && mss > limit) {
			CHECK(changed);
			CHECK_EQ(tcp[off + 2] << 8 | tcp[off + 3], limit);
			CHECK(checksum_ok(ip, tcp));
			/* Only the MSS value and the checksum changed. */
			tcp[off + 2] = copy[sizeof(*ip) + off + 2], tcp[off + 3] = copy[sizeof(*ip) + off + 3];
			tcp[16] = copy[sizeof(*ip) + 16], tcp[17] = copy[sizeof(*ip) + 17];
			CHECK(memcmp(buf, copy, len) == 0);
			clamped++;
			odd += (off + 2) & 1;
		} else {
			CHECK(!changed);
			CHECK(memcmp(buf, copy, len) == 0);
			untouched_ok++;
		}
	}
	printf("  %u clamped (%u with the MSS value at an odd offset), %u left alone\n", clamped, odd,
	       untouched_ok);
	CHECK(clamped > 10000 && odd > 1000);

	/* Left alone: not a SYN, a later fragment, truncated, malformed option lengths. */
	{
		uint32_t off, len;

		do
			len = make_syn(buf, 1460, true, &off);
		while (off != 20);
		memcpy(copy, buf, len);
		buf[sizeof(*ip) + 13] = 0x10; /* ACK */
		CHECK(!pkt_tcp_mss_clamp(ip, len, 1000));
		buf[sizeof(*ip) + 13] = 0x02;
		ip->fragment_offset = RTE_BE16(10);
		CHECK(!pkt_tcp_mss_clamp(ip, len, 1000));
		ip->fragment_offset = 0;
		CHECK(!pkt_tcp_mss_clamp(ip, sizeof(*ip) + 19, 1000));
		buf[sizeof(*ip) + 21] = 0; /* option length 0 */
		CHECK(!pkt_tcp_mss_clamp(ip, len, 1000));
		buf[sizeof(*ip) + 21] = 60; /* past the options */
		CHECK(!pkt_tcp_mss_clamp(ip, len, 1000));
		buf[sizeof(*ip) + 21] = 4;
		CHECK(!pkt_tcp_mss_clamp(ip, (uint32_t)(sizeof(*ip) + 21), 1000)); /* options cut off */
		CHECK(pkt_tcp_mss_clamp(ip, len, 1000));
		CHECK(!pkt_tcp_mss_clamp(ip, len, 1000)); /* already at or below */
		ip->next_proto_id = IPPROTO_UDP;
		CHECK(!pkt_ipv4_is_tcp_syn(ip, len));
	}
	return check_summary("unit-pkt-tcp-mss");
}
