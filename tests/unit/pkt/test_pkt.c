/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/pkt without EAL: address parsing, IPv4 checks, TTL patching, ARP and ICMP in place. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pkt.h"

static void
test_parse(void)
{
	struct pkt_prefix p;
	struct rte_ether_addr mac;
	rte_be32_t a, host;
	char buf[INET_ADDRSTRLEN];

	CHECK(pkt_parse_ipv4("192.0.2.1", &a) == 0 && a == RTE_BE32(0xc0000201));
	CHECK(pkt_parse_ipv4("192.0.2", &a) < 0);
	CHECK(pkt_parse_ipv4("192.0.2.256", &a) < 0);
	CHECK(pkt_parse_ipv4("", &a) < 0);
	CHECK(pkt_parse_ipv4("1.2.3.4x", &a) < 0);
	CHECK(pkt_parse_prefix("10.1.0.0/16", &p, false, NULL) == 0 && p.depth == 16 &&
	      p.addr == RTE_BE32(0x0a010000));
	CHECK(pkt_parse_prefix("10.1.0.1/16", &p, false, NULL) < 0); /* host bits */
	CHECK(pkt_parse_prefix("10.1.0.1/16", &p, true, &host) == 0 && host == RTE_BE32(0x0a010001) &&
	      p.addr == RTE_BE32(0x0a010000));
	CHECK(pkt_parse_prefix("10.1.0.1", &p, false, NULL) == 0 && p.depth == 32);
	CHECK(pkt_parse_prefix("10.1.0.0/33", &p, false, NULL) < 0);
	CHECK(pkt_parse_prefix("10.1.0.0/", &p, false, NULL) < 0);
	CHECK(pkt_parse_prefix("10.1.0.0/1x", &p, false, NULL) < 0);
	CHECK(pkt_parse_prefix("0.0.0.0/0", &p, false, NULL) == 0 && p.depth == 0);
	CHECK(pkt_prefix_contains(&p, RTE_BE32(0x01020304)));
	pkt_parse_prefix("10.1.0.0/16", &p, false, NULL);
	CHECK(pkt_prefix_contains(&p, RTE_BE32(0x0a01ff01)));
	CHECK(!pkt_prefix_contains(&p, RTE_BE32(0x0a020001)));
	CHECK(pkt_parse_mac("02:00:00:00:00:0a", &mac) == 0 && mac.addr_bytes[5] == 10);
	CHECK(pkt_parse_mac("02:00:00:00:00", &mac) < 0);
	CHECK(pkt_parse_mac("02:00:00:00:00:0a:0b", &mac) < 0);
	CHECK(strcmp(pkt_format_ipv4(RTE_BE32(0xc0000201), buf, sizeof(buf)), "192.0.2.1") == 0);
}

static void
make_ip(struct rte_ipv4_hdr *ip, uint16_t total)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(total);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = RTE_BE32(0x0a000001);
	ip->dst_addr = RTE_BE32(0x0a000002);
	pkt_ipv4_set_checksum(ip);
}

static void
test_ipv4_check(void)
{
	uint8_t buf[128];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;

	make_ip(ip, 60);
	CHECK_EQ(pkt_ipv4_check(ip, 60, true), DROP_MAX);
	CHECK_EQ(pkt_ipv4_check(ip, 19, true), DROP_IP_TRUNCATED);
	CHECK_EQ(pkt_ipv4_check(ip, 59, true), DROP_IP_TRUNCATED); /* total > available */
	ip->hdr_checksum ^= 1;
	CHECK_EQ(pkt_ipv4_check(ip, 60, true), DROP_IP_BAD_CHECKSUM);
	CHECK_EQ(pkt_ipv4_check(ip, 60, false), DROP_MAX);
	make_ip(ip, 60);
	ip->version_ihl = 0x65;
	CHECK_EQ(pkt_ipv4_check(ip, 60, true), DROP_IP_BAD_VERSION);
	ip->version_ihl = 0x44;
	CHECK_EQ(pkt_ipv4_check(ip, 60, true), DROP_IP_BAD_HEADER_LEN);
	make_ip(ip, 10); /* total below header */
	CHECK_EQ(pkt_ipv4_check(ip, 60, true), DROP_IP_TRUNCATED);
	/* Options: IHL 6 with a valid checksum over 24 bytes. */
	make_ip(ip, 60);
	ip->version_ihl = 0x46;
	memset(buf + 20, 1, 4);
	pkt_ipv4_set_checksum(ip);
	CHECK_EQ(pkt_ipv4_check(ip, 60, true), DROP_MAX);
	CHECK_EQ(pkt_ipv4_hdr_len(ip), 24);
	CHECK_EQ(pkt_ipv4_check(ip, 22, true), DROP_IP_TRUNCATED);
	/* Fragments: MF or an offset. */
	make_ip(ip, 60);
	CHECK(!pkt_ipv4_is_fragment(ip));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	CHECK(!pkt_ipv4_is_fragment(ip));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	CHECK(pkt_ipv4_is_fragment(ip));
	ip->fragment_offset = rte_cpu_to_be_16(5);
	CHECK(pkt_ipv4_is_fragment(ip));
	CHECK(pkt_ipv4_is_martian_source(RTE_BE32(0x7f000001)));
	CHECK(pkt_ipv4_is_martian_source(RTE_BE32(0xe0000001)));
	CHECK(pkt_ipv4_is_martian_source(RTE_BE32(0x00000000)));
	CHECK(!pkt_ipv4_is_martian_source(RTE_BE32(0xc0000201)));
}

/* The incremental TTL patch must equal a full recomputation for any header. */
static void
test_ttl_dec(void)
{
	uint8_t buf[20];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	unsigned bad = 0;

	srand(1);
	for (int i = 0; i < 100000; i++) {
		for (unsigned j = 0; j < sizeof(buf); j++)
			buf[j] = (uint8_t)rand();
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->time_to_live = (uint8_t)(2 + rand() % 254);
		pkt_ipv4_set_checksum(ip);
		pkt_ipv4_ttl_dec(ip);
		if (rte_raw_cksum(ip, 20) != 0xffff)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

/* The encap fast path's header writer must produce the bytes of a fill + full checksum. */
static void
test_write_hdr(void)
{
	struct rte_ipv4_hdr a, b;
	unsigned bad = 0;

	srand(2);
	for (int i = 0; i < 100000; i++) {
		uint8_t tos = (uint8_t)rand(), ttl = (uint8_t)rand(), proto = (uint8_t)rand();
		uint16_t len = (uint16_t)rand(), id = (uint16_t)rand();
		rte_be32_t src = (rte_be32_t)rand() ^ ((rte_be32_t)rand() << 16);
		rte_be32_t dst = (rte_be32_t)rand() ^ ((rte_be32_t)rand() << 16);

		memset(&a, 0xa5, sizeof(a));
		pkt_ipv4_write_hdr(&a, tos, len, id, ttl, proto, src, dst);
		memset(&b, 0, sizeof(b));
		b.version_ihl = RTE_IPV4_VHL_DEF;
		b.type_of_service = tos;
		b.total_length = rte_cpu_to_be_16(len);
		b.packet_id = rte_cpu_to_be_16(id);
		b.time_to_live = ttl;
		b.next_proto_id = proto;
		b.src_addr = src;
		b.dst_addr = dst;
		pkt_ipv4_set_checksum(&b);
		if (memcmp(&a, &b, sizeof(a)) != 0 || rte_raw_cksum(&a, sizeof(a)) != 0xffff)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

static void
test_arp(void)
{
	uint8_t buf[64];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_ether_addr ours = { { 2, 0, 0, 0, 0, 1 } };

	pkt_arp_write_request(buf, &ours, RTE_BE32(0x0a000001), RTE_BE32(0x0a000002));
	CHECK_EQ(pkt_arp_check(arp, 28), DROP_MAX);
	CHECK_EQ(pkt_arp_check(arp, 27), DROP_ARP_MALFORMED);
	CHECK(rte_is_broadcast_ether_addr(&eth->dst_addr));
	CHECK(arp->arp_data.arp_tip == RTE_BE32(0x0a000002));
	/* As if 10.0.0.2 asked for 10.0.0.9 (us, mac ours2). */
	struct rte_ether_addr peer = { { 2, 0, 0, 0, 0, 2 } }, ours2 = { { 2, 0, 0, 0, 0, 9 } };
	pkt_arp_write_request(buf, &peer, RTE_BE32(0x0a000002), RTE_BE32(0x0a000009));
	pkt_arp_to_reply(eth, &ours2);
	CHECK(arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY));
	CHECK(arp->arp_data.arp_sip == RTE_BE32(0x0a000009));
	CHECK(arp->arp_data.arp_tip == RTE_BE32(0x0a000002));
	CHECK(rte_is_same_ether_addr(&arp->arp_data.arp_sha, &ours2));
	CHECK(rte_is_same_ether_addr(&arp->arp_data.arp_tha, &peer));
	CHECK(rte_is_same_ether_addr(&eth->dst_addr, &peer));
	CHECK(rte_is_same_ether_addr(&eth->src_addr, &ours2));
	arp->arp_hardware = RTE_BE16(6);
	CHECK_EQ(pkt_arp_check(arp, 28), DROP_ARP_MALFORMED);
}

static void
test_icmp_echo(void)
{
	uint8_t buf[128];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	uint16_t sum;

	make_ip(ip, 20 + 8 + 11);
	ip->next_proto_id = IPPROTO_ICMP;
	pkt_ipv4_set_checksum(ip);
	memset(icmp, 0, 8 + 11);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_ident = RTE_BE16(77);
	memcpy(icmp + 1, "hello world", 11); /* odd length */
	sum = rte_raw_cksum(icmp, 19);
	icmp->icmp_cksum = (uint16_t)~sum;
	CHECK_EQ(pkt_icmp_echo_to_reply(ip, 39), DROP_MAX);
	CHECK_EQ(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	CHECK_EQ(rte_raw_cksum(icmp, 19), 0xffff);
	CHECK_EQ(rte_raw_cksum(ip, 20), 0xffff);
	CHECK(ip->src_addr == RTE_BE32(0x0a000002) && ip->dst_addr == RTE_BE32(0x0a000001));
	CHECK(icmp->icmp_ident == RTE_BE16(77));
	/* A reply is not answered; a corrupted request is malformed. */
	CHECK_EQ(pkt_icmp_echo_to_reply(ip, 39), DROP_ICMP_UNHANDLED);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	CHECK_EQ(pkt_icmp_echo_to_reply(ip, 39), DROP_ICMP_MALFORMED);
	CHECK_EQ(pkt_icmp_echo_to_reply(ip, 25), DROP_ICMP_MALFORMED);
}

int
main(void)
{
	test_parse();
	test_ipv4_check();
	test_ttl_dec();
	test_write_hdr();
	test_arp();
	test_icmp_echo();
	return check_summary("pkt");
}
