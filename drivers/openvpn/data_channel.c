/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The OpenVPN data channel on the owner lcore: check the HMAC and decrypt
 * received packets in place, encrypt and MAC packets to send. Layout and
 * rules in data_channel.h.
 */
#include <stdlib.h>

#include <openssl/rand.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>
#include <rte_udp.h>

#include "clock.h"
#include "data_channel.h"
#include "openvpn.h"

/*
 * Per lcore: the crypto engine (an intel-ipsec-mb manager is not thread-safe)
 * and a pool of random bytes for CBC IVs, which must be unpredictable:
 * refilled from OpenSSL's DRBG 4 KiB at a time instead of per packet.
 * Threads that are no EAL lcore (tests, configuration) share the last slot.
 */
#define RANDOM_POOL 4096
struct ovpn_lcore {
	struct aead_engine *engine;
	uint32_t random_used;
	uint8_t random[RANDOM_POOL];
};

static struct ovpn_lcore *lcores[RTE_MAX_LCORE + 1];

static struct ovpn_lcore *
this_lcore(void)
{
	unsigned id = rte_lcore_id();
	struct ovpn_lcore **slot = &lcores[id < RTE_MAX_LCORE ? id : RTE_MAX_LCORE];

	if (unlikely(*slot == NULL)) {
		struct ovpn_lcore *l = calloc(1, sizeof(*l));

		if (l == NULL)
			return NULL;
		l->engine = aead_engine_create(NULL);
		if (l->engine == NULL) {
			free(l);
			return NULL;
		}
		l->random_used = RANDOM_POOL;
		*slot = l;
	}
	return *slot;
}

struct aead_engine *
ovpn_engine(void)
{
	struct ovpn_lcore *l = this_lcore();

	return l != NULL ? l->engine : NULL;
}

static int
random_iv(struct ovpn_lcore *l, uint8_t *iv)
{
	if (unlikely(l->random_used + OVPN_BLOCK > RANDOM_POOL)) {
		if (RAND_bytes(l->random, RANDOM_POOL) != 1)
			return -1;
		l->random_used = 0;
	}
	memcpy(iv, l->random + l->random_used, OVPN_BLOCK);
	/* Used bytes are not kept around. */
	memset(l->random + l->random_used, 0, OVPN_BLOCK);
	l->random_used += OVPN_BLOCK;
	return 0;
}

/* Checks the lengths and fills op for the decryption of m; DROP_MAX or why m is dropped. */
static enum drop_reason
decap_prepare(const struct ovpn_tunnel *o, struct rte_mbuf *m, uint16_t l4_off, struct aead_op *op,
	      rte_be16_t *sport)
{
	uint8_t *payload;
	uint32_t len, ct_len;
	enum drop_reason r = ovpn_udp_payload(m, l4_off, &payload, &len, sport);

	if (r != DROP_MAX)
		return r;
	if (!ovpn_length_ok(len, o->hmac_len))
		return DROP_OVPN_MALFORMED;
	ct_len = len - o->hmac_len - OVPN_BLOCK;
	*op = (struct aead_op){
		.key = o->dec,
		.buf = payload,
		.cipher_off = o->hmac_len + OVPN_BLOCK,
		.cipher_len = ct_len,
		.auth_off = o->hmac_len,
		.auth_len = OVPN_BLOCK + ct_len,
		.iv = payload + o->hmac_len,
		.tag = payload,
	};
	return DROP_MAX;
}

static enum drop_reason
status_reason(int status)
{
	return status == AEAD_ERR_AUTH ? DROP_OVPN_BAD_HMAC : DROP_CRYPTO_ERROR;
}

/*
 * A fragment: filed for reassembly. Its packet-id is used up in the window
 * either way; the fragment that completes a datagram carries the datagram on,
 * copied into m (a fragment is never longer than the datagram).
 */
static void
defragment(struct ovpn_frag *f, struct rte_mbuf *m, uint32_t hdr, const uint8_t *data, uint32_t len,
	   struct tunnel_rx *rx)
{
	const uint8_t *whole;
	uint32_t whole_len;

	switch (ovpn_frag_input(f, hdr, data, len, clock_now(), &whole, &whole_len)) {
	case OVPN_FRAG_HELD:
		rx->late_drop = TUNNEL_RX_CONSUMED;
		return;
	case OVPN_FRAG_BAD:
		rx->late_drop = 1 + DROP_OVPN_FRAGMENT;
		return;
	case OVPN_FRAG_DONE:
		break;
	}
	if (whole_len > (uint32_t)m->buf_len - RTE_PKTMBUF_HEADROOM) {
		rx->late_drop = 1 + DROP_TOO_BIG;
		return;
	}
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = (uint16_t)whole_len;
	m->pkt_len = whole_len;
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), whole, whole_len);
	if (whole_len == 0 || rte_pktmbuf_mtod(m, const uint8_t *)[0] >> 4 != 4)
		rx->late_drop = 1 + DROP_INNER_NOT_IPV4;
}

struct ovpn_frag *
ovpn_frag_new(void)
{
	struct ovpn_frag *f = calloc(1, sizeof(*f));

	if (f != NULL)
		f->ttl_ticks = clock_ms_to_ticks(OVPN_FRAG_TTL_MS);
	return f;
}

void
ovpn_frag_telemetry(const struct ovpn_frag *f, uint16_t fragment, struct rte_tel_data *d)
{
	rte_tel_data_add_dict_u64(d, "fragment", fragment);
	if (f == NULL)
		return;
	rte_tel_data_add_dict_u64(d, "fragments_rx", __atomic_load_n(&f->fragments, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "reassembled", __atomic_load_n(&f->reassembled, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "fragments_given_up", __atomic_load_n(&f->given_up, __ATOMIC_RELAXED));
}

bool
ovpn_frag_receive(struct ovpn_frag *f, struct rte_mbuf *m, uint8_t **inner, uint32_t *inner_len,
		  struct tunnel_rx *rx)
{
	uint32_t hdr;

	if (*inner_len < OVPN_FRAG_HDR_LEN) {
		/* Authentic but too short: its packet-id is still used up. */
		rx->late_drop = 1 + DROP_OVPN_FRAGMENT;
		return false;
	}
	hdr = ovpn_get_be32(*inner);
	*inner += OVPN_FRAG_HDR_LEN;
	*inner_len -= OVPN_FRAG_HDR_LEN;
	if ((hdr & 3) == OVPN_FRAG_WHOLE)
		return true;
	defragment(f, m, hdr, *inner, *inner_len, rx);
	return false;
}

/* After a good HMAC and decryption: padding, packet-id, keepalives, and the strip. */
static enum drop_reason
decap_complete(struct ovpn_tunnel *o, struct rte_mbuf *m, const struct aead_op *op,
	       struct tunnel_rx *rx)
{
	uint8_t *plain = op->buf + op->cipher_off, *inner;
	uint32_t ct_len = op->cipher_len, pad, inner_len;

	pad = ovpn_pad_check(plain, ct_len);
	if (pad == 0 || ct_len - pad < OVPN_PID_LONG_LEN)
		return DROP_OVPN_BAD_PADDING;
	switch (ovpn_time_check(o->rx_time, ovpn_get_be32(plain + 4))) {
	case OVPN_TIME_OLDER:
		return DROP_OVPN_REPLAY;
	case OVPN_TIME_NEWER:
		/* Authenticated, so the peer really (re)started: its numbering begins again. */
		rx->restart = o->rx_time != 0;
		if (o->rx_time != 0)
			__atomic_store_n(&o->peer_restarts, o->peer_restarts + 1, __ATOMIC_RELAXED);
		o->rx_time = ovpn_get_be32(plain + 4);
		break;
	case OVPN_TIME_SAME:
		break;
	}
	rx->seq = ovpn_get_be32(plain);
	rx->has_seq = true;
	inner = plain + OVPN_PID_LONG_LEN;
	inner_len = ct_len - pad - OVPN_PID_LONG_LEN;
	if (o->fragment != 0 && !ovpn_frag_receive(o->frag, m, &inner, &inner_len, rx))
		return DROP_MAX;
	/* Keepalives and non-IPv4 payloads still pass the window: their packet-ids are used up. */
	if (ovpn_is_ping(inner, inner_len)) {
		__atomic_store_n(&o->pings_rx, o->pings_rx + 1, __ATOMIC_RELAXED);
		rx->late_drop = TUNNEL_RX_CONSUMED;
	} else if (inner_len == 0 || inner[0] >> 4 != 4) {
		rx->late_drop = 1 + DROP_INNER_NOT_IPV4;
	}
	rte_pktmbuf_adj(m, (uint16_t)(inner - rte_pktmbuf_mtod(m, uint8_t *)));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - inner_len));
	return DROP_MAX;
}

enum drop_reason
ovpn_decap(struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off, struct tunnel_rx *rx)
{
	struct tunnel *ts[1] = { t };
	struct rte_mbuf *ms[1] = { m };
	enum drop_reason r;

	ovpn_decap_burst(ts, ms, &l4_off, rx, &r, 1);
	return r;
}

void
ovpn_decap_burst(struct tunnel *const *t, struct rte_mbuf *const *m, const uint16_t *l4_off,
		 struct tunnel_rx *rx, enum drop_reason *r, uint16_t n)
{
	struct ovpn_lcore *l = this_lcore();
	struct aead_op ops[OVPN_BURST_MAX];
	uint16_t idx[OVPN_BURST_MAX], nb = 0;
	rte_be16_t sport[OVPN_BURST_MAX];

	for (uint16_t i = 0; i < n; i++) {
		r[i] = l != NULL ? decap_prepare(t[i]->priv, m[i], l4_off[i], &ops[nb], &sport[nb])
				 : DROP_CRYPTO_ERROR;
		if (r[i] == DROP_MAX)
			idx[nb++] = i;
	}
	/* One call for the whole burst: the engine fills its lanes across packets. */
	if (nb != 0)
		aead_decrypt_burst(l->engine, ops, nb);
	for (uint16_t j = 0; j < nb; j++) {
		uint16_t i = idx[j];
		struct ovpn_tunnel *o = t[i]->priv;

		r[i] = ops[j].status != AEAD_OK ? status_reason(ops[j].status)
						: decap_complete(o, m[i], &ops[j], &rx[i]);
		/* peer_port = any: answer where the client's authentic packets come from (NAT). */
		if (o->float_port && r[i] == DROP_MAX && sport[j] != 0 && sport[j] != o->peer_port)
			__atomic_store_n(&o->peer_port, sport[j], __ATOMIC_RELAXED);
	}
}

/* Pads, numbers and frames m and fills op for its encryption; DROP_MAX or why m is dropped. */
static enum drop_reason
encap_prepare(struct ovpn_tunnel *o, struct ovpn_lcore *l, struct rte_mbuf *m, struct aead_op *op)
{
	const uint32_t inner_len = rte_pktmbuf_pkt_len(m);
	const uint32_t frag_len = o->fragment != 0 ? OVPN_FRAG_HDR_LEN : 0;
	const uint32_t plain_len = OVPN_PID_LONG_LEN + frag_len + inner_len, pad = ovpn_pad_len(plain_len);
	const uint16_t front = (uint16_t)(sizeof(struct rte_udp_hdr) + o->hmac_len + OVPN_BLOCK +
					  OVPN_PID_LONG_LEN + frag_len);
	uint8_t *tail, *payload, *plain;
	struct rte_udp_hdr *udp;

	if (unlikely(o->peer_port == 0))
		return DROP_OVPN_PEER_UNKNOWN;
	/* IPv4 fragments from dpvpn's fragmenter are chains: the cipher wants one buffer. */
	if (!rte_pktmbuf_is_contiguous(m) && rte_pktmbuf_linearize(m) != 0)
		return DROP_TOO_BIG;
	tail = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)pad);
	udp = (struct rte_udp_hdr *)rte_pktmbuf_prepend(m, front);
	if (tail == NULL || udp == NULL)
		return DROP_NO_MBUF;
	memset(tail, (int)pad, pad);
	payload = (uint8_t *)(udp + 1);
	plain = payload + o->hmac_len + OVPN_BLOCK;
	if (unlikely(++o->tx_pid == 0)) {
		/* 2^32 packets: a new time starts a new numbering, as openvpn does. */
		o->tx_time++;
		o->tx_pid = 1;
	}
	ovpn_put_be32(plain, o->tx_pid);
	ovpn_put_be32(plain + 4, o->tx_time);
	if (frag_len != 0)
		ovpn_put_be32(plain + OVPN_PID_LONG_LEN, OVPN_FRAG_WHOLE); /* we never fragment */
	if (random_iv(l, payload + o->hmac_len) < 0)
		return DROP_CRYPTO_ERROR;
	udp->src_port = o->port;
	udp->dst_port = o->peer_port;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)rte_pktmbuf_pkt_len(m));
	udp->dgram_cksum = 0; /* optional over IPv4; the HMAC protects the payload */
	*op = (struct aead_op){
		.key = o->enc,
		.buf = payload,
		.cipher_off = o->hmac_len + OVPN_BLOCK,
		.cipher_len = plain_len + pad,
		.auth_off = o->hmac_len,
		.auth_len = OVPN_BLOCK + plain_len + pad,
		.iv = payload + o->hmac_len,
		.tag = payload,
	};
	return DROP_MAX;
}

enum drop_reason
ovpn_encap(struct tunnel *t, struct rte_mbuf *m)
{
	struct tunnel *ts[1] = { t };
	struct rte_mbuf *ms[1] = { m };
	enum drop_reason r;

	ovpn_encap_burst(ts, ms, &r, 1);
	return r;
}

void
ovpn_encap_burst(struct tunnel *const *t, struct rte_mbuf *const *m, enum drop_reason *r, uint16_t n)
{
	struct ovpn_lcore *l = this_lcore();
	struct aead_op ops[OVPN_BURST_MAX];
	uint16_t idx[OVPN_BURST_MAX], nb = 0;

	for (uint16_t i = 0; i < n; i++) {
		r[i] = l != NULL ? encap_prepare(t[i]->priv, l, m[i], &ops[nb]) : DROP_CRYPTO_ERROR;
		if (r[i] == DROP_MAX)
			idx[nb++] = i;
	}
	if (nb != 0)
		aead_encrypt_burst(l->engine, ops, nb);
	for (uint16_t j = 0; j < nb; j++)
		if (ops[j].status != AEAD_OK)
			r[idx[j]] = DROP_CRYPTO_ERROR;
}
