/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for drivers/openvpn's TLS mode. The first input byte
 * picks what the rest is:
 *   0: a control packet: parsed; when accepted, written back byte for byte
 *      the same (one canonical layout), and the payload lies inside it;
 *   1: a script for the reliability layer (received ids, acks, queued
 *      messages, clock steps): messages come out in id order, each once, no
 *      more than the window is in flight, acks name received ids;
 *   2: a client's key-method 2 message: parsed to a length within the input,
 *      0 (more needed) or -1; every parsed string is NUL-terminated; the
 *      server's message written for the parsed options is well-formed;
 *   3: peer-info text: the cipher chosen is one of ours and listed by it;
 *   4: a UDP datagram for a TLS session (classify, decap): never accepted,
 *      since nobody forges the AEAD tag, and refused for what its length
 *      and key id call for;
 *   5: a payload sent by a client session through encap and received by
 *      the server's decap: the same bytes come back under the next
 *      packet-id for each of the three ciphers, and a flipped bit chosen
 *      by the input is refused.
 * Any crash, sanitizer report, broken invariant or leaked mbuf fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "control_packet.h"
#include "data_channel.h"
#include "fuzz_eal.h"
#include "key_method.h"
#include "openvpn.h"
#include "reliable.h"
#include "session.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *pool;
static const enum aead_algo algos[3] = { AEAD_AES256_GCM, AEAD_AES128_GCM, AEAD_CHACHA20_POLY1305 };
/* Per cipher: the server's session and a client's (the same key material, the other direction). */
static struct tunnel *server[3], *client[3];
static struct ovpn_reliable rel;

static struct tunnel *
session(enum aead_algo a, bool is_server)
{
	static uint8_t material[256];
	struct tunnel *t = calloc(1, sizeof(*t) + sizeof(struct ovpn_session));
	struct ovpn_session *s = (struct ovpn_session *)(t + 1);

	for (unsigned i = 0; i < sizeof(material); i++)
		material[i] = (uint8_t)(i * 13 + 7);
	t->peer = RTE_BE32(0xc0000202);
	t->local = RTE_BE32(0xc0000201);
	ovpn_session_init(t, s, 7, RTE_BE16(1194), RTE_BE16(40000), ovpn_dkey_new(a, 0, 1, material, is_server));
	if (s->keys[0] == NULL)
		abort();
	return t;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pool = fuzz_eal_init("fuzz_ovtls", 255);
	for (int i = 0; i < 3; i++) {
		server[i] = session(algos[i], true);
		client[i] = session(algos[i], false);
	}
	ovpn_tls_set_port(RTE_BE16(1194), true);
	return 0;
}

static void
control_packet(const uint8_t *d, size_t n)
{
	struct ovpn_ctl_pkt p, q;
	uint8_t out[2048];
	uint32_t len;

	if (ovpn_ctl_parse(d, (uint32_t)n, &p) != OVPN_CTL_OK)
		return;
	if (p.payload < d || p.payload + p.payload_len != d + n || p.nb_acks > OVPN_ACKS_MAX)
		abort();
	len = ovpn_ctl_write(out, sizeof(out), &p);
	if (len != n || memcmp(out, d, n) != 0)
		abort();
	if (ovpn_ctl_parse(out, len, &q) != OVPN_CTL_OK || q.msg_id != p.msg_id || q.nb_acks != p.nb_acks)
		abort();
}

static void
reliable_script(const uint8_t *d, size_t n)
{
	uint8_t buf[OVPN_CTL_PAYLOAD_MAX], op;
	uint16_t len;
	uint32_t next_taken = 0, acks[OVPN_REL_ACKS], arrived[2048];
	unsigned nb_arrived = 0;
	uint64_t now = 0;

	ovpn_rel_init(&rel);
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint8_t v = d[i + 1];

		switch (d[i] % 5) {
		case 0: { /* a message arrives, ids near the next expected one */
			uint32_t id = next_taken + (uint32_t)(v % 24) - 4;

			if (nb_arrived < RTE_DIM(arrived))
				arrived[nb_arrived++] = id;
			if (ovpn_rel_input(&rel, id, OVPN_P_CONTROL_V1, &v, 1) > 1)
				abort();
			break;
		}
		case 1: /* take what is in order */
			while (ovpn_rel_take(&rel, &op, buf, &len)) {
				if (len != 1 || rel.next_in_id != next_taken + 1)
					abort();
				next_taken++;
			}
			break;
		case 2: /* queue one of ours */
			if (ovpn_rel_queue(&rel, OVPN_P_CONTROL_V1, &v, 1, now) >= 0 && ovpn_rel_room(&rel) > OVPN_REL_OUT)
				abort();
			break;
		case 3: /* the peer acks one, then time passes and what is due goes out */
			ovpn_rel_acked(&rel, rel.next_out_id - 1 - v % 8);
			now += v * 37u;
			while (ovpn_rel_due(&rel, now) != NULL)
				;
			break;
		default: { /* our acks leave: each names an id that arrived */
			unsigned k = ovpn_rel_take_acks(&rel, acks, v % 9);

			for (unsigned j = 0; j < k; j++) {
				unsigned a = 0;

				while (a < nb_arrived && arrived[a] != acks[j])
					a++;
				if (a == nb_arrived)
					abort();
			}
		}
		}
		/* In flight: never more than the window, and ids within it of the oldest. */
		if (ovpn_rel_room(&rel) > OVPN_REL_OUT)
			abort();
	}
}

static void
key_method(const uint8_t *d, size_t n)
{
	static struct ovpn_km2_client c;
	static uint8_t out[4096];
	uint8_t r[32] = { 0 };
	int rc = ovpn_km2_client_parse(d, (uint32_t)n, &c);

	if (rc < -1 || rc > (int)n)
		abort();
	if (rc <= 0)
		return;
	if (strnlen(c.options, sizeof(c.options)) == sizeof(c.options) ||
	    strnlen(c.peer_info, sizeof(c.peer_info)) == sizeof(c.peer_info) ||
	    strnlen(c.username, sizeof(c.username)) == sizeof(c.username))
		abort();
	if (ovpn_km2_server_write(out, sizeof(out), r, r, c.options) != 5 + 64 + 2 + (c.options[0] ? strlen(c.options) + 1 : 0) + 6)
		abort();
}

static void
peer_info(const uint8_t *d, size_t n)
{
	char text[512], list[512];
	enum aead_algo ours[3] = { AEAD_AES128_GCM, AEAD_CHACHA20_POLY1305, AEAD_AES256_GCM };
	int a;

	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	memcpy(text, d, n);
	text[n] = '\0';
	a = ovpn_cipher_choose(ours, 3, text);
	if (a < 0)
		return;
	if (a != AEAD_AES128_GCM && a != AEAD_CHACHA20_POLY1305 && a != AEAD_AES256_GCM)
		abort();
	/* Chosen from IV_CIPHERS when present (else IV_NCP's GCM pair): the name is in that list. */
	if (ovpn_peer_info_get(text, "IV_CIPHERS", list, sizeof(list)) &&
	    strcasestr(list, ovpn_cipher_name((enum aead_algo)a)) == NULL)
		abort();
}

/* Outer IPv4 + UDP around payload, as the outside port hands it to classify (l4 at 20). */
static struct rte_mbuf *
datagram(const uint8_t *payload, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	if (m == NULL)
		abort();
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(28 + n));
	if (p == NULL)
		abort();
	memset(p, 0, 28);
	ip = (struct rte_ipv4_hdr *)p;
	udp = (struct rte_udp_hdr *)(p + 20);
	ip->version_ihl = 0x45;
	ip->src_addr = RTE_BE32(0xc0000202);
	ip->dst_addr = RTE_BE32(0xc0000201);
	udp->src_port = RTE_BE16(40000);
	udp->dst_port = RTE_BE16(1194);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + n));
	memcpy(p + 28, payload, n);
	return m;
}

static void
forged(const uint8_t *d, size_t n)
{
	struct rte_mbuf *m;
	struct tunnel_rx rx;
	struct tunnel_key k;
	enum drop_reason r, want;
	int c;

	if (n < 1 || n > 1500)
		return;
	m = datagram(d + 1, n - 1);
	c = openvpn_tls_ops.classify(m, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), 20, &k);
	if (n - 1 >= 4 && ovpn_op_of(d[1]) == OVPN_P_DATA_V2) {
		if (c != DROP_MAX || k.proto_key != ((uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4]))
			abort();
	} else if (c == DROP_MAX) {
		abort();
	}
	memset(&rx, 0, sizeof(rx));
	r = openvpn_tls_ops.decap(server[d[0] % 3], m, 20, &rx);
	want = n - 1 <= OVPN_AEAD_HDR ? DROP_OVPN_MALFORMED
	       : ovpn_key_id_of(d[1]) != 0 ? DROP_OVPN_BAD_KEY_ID : DROP_OVPN_BAD_HMAC;
	if (r != want)
		abort();
	rte_pktmbuf_free(m);
}

static void
round_trip(const uint8_t *d, size_t n)
{
	const int i = n > 0 ? d[0] % 3 : 0;
	struct ovpn_session *cs = client[i]->priv, *ss = server[i]->priv;
	struct rte_mbuf *m;
	struct tunnel_rx rx;
	uint32_t pid, bit, len;
	uint8_t *p;

	/* At least one payload byte: an empty one is no packet (decap calls 24 bytes malformed). */
	if (n < 4 || n > 1400)
		return;
	bit = (uint32_t)d[1] << 8 | d[2];
	d += 3;
	n -= 3;
	m = rte_pktmbuf_alloc(pool);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
	if (n != 0)
		memcpy(p, d, n);
	if (openvpn_tls_ops.encap(client[i], m) != DROP_MAX)
		abort();
	pid = cs->keys[0]->tx_pid;
	len = rte_pktmbuf_pkt_len(m);
	/* As it leaves: UDP header, then 0x48, peer-id 7, the packet-id, tag, ciphertext as long as the input. */
	p = rte_pktmbuf_mtod(m, uint8_t *);
	if (len != 8 + OVPN_AEAD_HDR + n || p[8] != 0x48 || p[11] != 7 || ovpn_get_be32(p + 12) != pid)
		abort();
	/* Received by the server: a datagram with an outer IPv4 header. */
	{
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, 20);

		memset(ip, 0, 20);
		ip->version_ihl = 0x45;
	}
	if (bit < 8 * (OVPN_AEAD_HDR + n) && bit >= 8 * 4) {
		/* A flipped bit past the peer-id (which would name another session): refused. */
		rte_pktmbuf_mtod(m, uint8_t *)[28 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(&rx, 0, sizeof(rx));
		if (openvpn_tls_ops.decap(server[i], m, 20, &rx) == DROP_MAX)
			abort();
		rte_pktmbuf_free(m);
		return;
	}
	memset(&rx, 0, sizeof(rx));
	if (openvpn_tls_ops.decap(server[i], m, 20, &rx) != DROP_MAX)
		abort();
	if (!rx.has_seq || rx.seq != pid || rte_pktmbuf_pkt_len(m) != n || memcmp(rte_pktmbuf_mtod(m, uint8_t *), d, n) != 0)
		abort();
	if ((rx.late_drop == TUNNEL_RX_CONSUMED) != ovpn_is_ping(d, (uint32_t)n))
		abort();
	if (!ovpn_is_ping(d, (uint32_t)n) && (rx.late_drop == 1 + DROP_INNER_NOT_IPV4) != (d[0] >> 4 != 4))
		abort();
	(void)ss;
	rte_pktmbuf_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0:
		control_packet(data + 1, size - 1);
		break;
	case 1:
		reliable_script(data + 1, size - 1);
		break;
	case 2:
		key_method(data + 1, size - 1);
		break;
	case 3:
		peer_info(data + 1, size - 1);
		break;
	case 4:
		forged(data + 1, size - 1);
		break;
	default:
		round_trip(data + 1, size - 1);
		break;
	}
	if (rte_mempool_in_use_count(pool) != 0)
		abort();
	return 0;
}
