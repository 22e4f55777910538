/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters shared between one writer (the lcore that owns them) and readers
 * (telemetry). Writers use a relaxed load+store, readers a relaxed load: no
 * locked instructions on the data path, no torn reads.
 *
 * Every dropped packet is counted under exactly one named reason.
 */
#ifndef DPVPN_STATS_H
#define DPVPN_STATS_H

#include <stdint.h>

/* X(enum suffix, telemetry name, meaning) */
#define DPVPN_DROP_REASONS(X)                                                          \
	X(ETH_TRUNCATED, "eth_truncated", "frame shorter than an Ethernet header")     \
	X(ETH_NOT_FOR_US, "eth_not_for_us", "unicast frame for another MAC address")   \
	X(ETH_UNSUPPORTED, "eth_unsupported", "ethertype other than IPv4 or ARP")      \
	X(ARP_MALFORMED, "arp_malformed", "ARP not Ethernet/IPv4 or truncated")        \
	X(ARP_NOT_FOR_US, "arp_not_for_us", "ARP request for another host")            \
	X(IP_TRUNCATED, "ip_truncated", "shorter than its IPv4 header or total length") \
	X(IP_BAD_VERSION, "ip_bad_version", "IP version is not 4")                     \
	X(IP_BAD_HEADER_LEN, "ip_bad_header_len", "IHL below 5")                       \
	X(IP_BAD_CHECKSUM, "ip_bad_checksum", "IPv4 header checksum wrong")            \
	X(IP_OPTIONS, "ip_options", "outer IPv4 header carries options")               \
	X(IP_FRAGMENT, "ip_fragment", "outer IPv4 fragment (not reassembled)")         \
	X(IP_NOT_FOR_US, "ip_not_for_us", "outer destination is not our address")      \
	X(IP_BAD_SOURCE, "ip_bad_source", "source is multicast, broadcast or ours")    \
	X(IP_TTL_EXPIRED, "ip_ttl_expired", "TTL would reach 0 when forwarded")        \
	X(IP_UNKNOWN_PROTOCOL, "ip_unknown_protocol", "IP protocol not served here")   \
	X(ICMP_MALFORMED, "icmp_malformed", "ICMP truncated or bad checksum")          \
	X(ICMP_UNHANDLED, "icmp_unhandled", "ICMP to us that is not an echo request")  \
	X(GRE_TRUNCATED, "gre_truncated", "shorter than its GRE header")               \
	X(GRE_BAD_VERSION, "gre_bad_version", "GRE version not served by any driver")  \
	X(GRE_BAD_FLAGS, "gre_bad_flags", "GRE routing or reserved bits set")          \
	X(GRE_BAD_CHECKSUM, "gre_bad_checksum", "GRE checksum wrong")                  \
	X(GRE_UNKNOWN_PROTO, "gre_unknown_proto", "GRE payload is not IPv4")           \
	X(UDP_TRUNCATED, "udp_truncated", "shorter than its UDP header or UDP length")  \
	X(OVPN_MALFORMED, "ovpn_malformed", "OpenVPN packet too short or not whole cipher blocks") \
	X(OVPN_BAD_HMAC, "ovpn_bad_hmac", "OpenVPN HMAC wrong: other key, cipher or auth, or forged") \
	X(OVPN_BAD_PADDING, "ovpn_bad_padding", "OpenVPN CBC padding invalid after a good HMAC") \
	X(OVPN_REPLAY, "ovpn_replay", "OpenVPN packet-id time of an earlier session of the peer") \
	X(OVPN_FRAGMENT, "ovpn_fragment", "OpenVPN fragment header or size invalid") \
	X(OVPN_PEER_UNKNOWN, "ovpn_peer_unknown", "OpenVPN peer_port any: no packet from the client yet") \
	X(OVPN_BAD_OPCODE, "ovpn_bad_opcode", "OpenVPN opcode not served on the TLS server's port (P_DATA_V1, V1/V3 resets)") \
	X(OVPN_BAD_KEY_ID, "ovpn_bad_key_id", "OpenVPN data packet names a key id with no key (before the key exchange, or a key long replaced)") \
	X(OVPN_CONTROL, "ovpn_control", "OpenVPN control packet with no control thread to take it") \
	X(INNER_NOT_IPV4, "inner_not_ipv4", "tunnel payload is not IPv4 (IPv6, OpenVPN OCC)") \
	X(CRYPTO_ERROR, "crypto_error", "the crypto engine refused the packet")        \
	X(PPTP_MALFORMED, "pptp_malformed", "GRE v1 (PPTP) header invalid or payload length beyond the packet") \
	X(PPTP_NOT_OPEN, "pptp_not_open", "PPTP session not open yet (IPCP) or closing") \
	X(PPTP_UNENCRYPTED, "pptp_unencrypted", "PPP frame in the clear where MPPE is in use") \
	X(PPP_MALFORMED, "ppp_malformed", "PPP frame too short or its protocol field invalid") \
	X(PPP_CONTROL_FULL, "ppp_control_full", "control thread's PPP queue full") \
	X(MPPE_BAD, "mppe_bad", "MPPE header invalid: not encrypted, compressed, or not flushed when it must be") \
	X(MPPE_LATE, "mppe_late", "MPPE coherency count not ahead of the last: late or duplicate") \
	X(MPPE_LOST, "mppe_lost", "stateful MPPE lost sync: discarded until the peer re-keys") \
	X(NO_TUNNEL, "no_tunnel", "no tunnel for this peer, local address and key")   \
	X(SEQ_MISSING, "seq_missing", "tunnel requires sequence numbers, none sent")   \
	X(CHECKSUM_MISSING, "checksum_missing", "tunnel requires GRE checksums")       \
	X(INNER_MALFORMED, "inner_malformed", "inner IPv4 header invalid")             \
	X(INNER_SPOOFED, "inner_spoofed", "inner source not routed to this tunnel")    \
	X(NO_ROUTE, "no_route", "no tunnel or next hop for the destination")           \
	X(TOO_BIG, "too_big", "larger than the path MTU with DF set")                  \
	X(NEIGH_UNRESOLVED, "neigh_unresolved", "next hop MAC not resolved yet")       \
	X(NEIGH_TABLE_FULL, "neigh_table_full", "neighbour table full")                \
	X(HANDOFF_FULL, "handoff_full", "owner lcore's handoff ring full")             \
	X(TX_FULL, "tx_full", "transmit queue full")                                   \
	X(ECN_CE_NOT_ECT, "ecn_ce_not_ect", "outer CE over a Not-ECT inner packet (RFC 6040)") \
	X(QOS_AQM, "qos_aqm", "CoDel dropped it: its flow queued above target too long") \
	X(QOS_OVERLIMIT, "qos_overlimit", "tunnel queue at its packet or memory limit") \
	X(QOS_NO_QUEUE, "qos_no_queue", "shaper busy and no queue left (qos_max_queues)") \
	X(NO_MBUF, "no_mbuf", "mbuf pool empty when a reply was needed")

enum drop_reason {
#define DPVPN_DROP_ENUM(e, n, d) DROP_##e,
	DPVPN_DROP_REASONS(DPVPN_DROP_ENUM)
#undef DPVPN_DROP_ENUM
	DROP_MAX
};

/* Telemetry name of a reason ("ip_bad_checksum"); "unknown" when out of range. */
const char *stats_drop_name(enum drop_reason r);
/* One-line meaning of a reason, for docs and CLI. */
const char *stats_drop_meaning(enum drop_reason r);

static inline void
stats_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline void
stats_inc(uint64_t *c)
{
	stats_add(c, 1);
}

static inline uint64_t
stats_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif
