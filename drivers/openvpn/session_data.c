/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data path of TLS-mode OpenVPN clients (layout and key rules in
 * session.h): P_DATA_V2 packets found by peer-id, AEAD (AES-GCM,
 * ChaCha20-Poly1305) in bursts on the owner lcore, keepalives. Control
 * packets to the server's port go to the exception path: the control thread
 * (server.c) reads them from a kernel UDP socket.
 */
#include <stdlib.h>

#include <arpa/inet.h>

#include <rte_ip.h>
#include <rte_telemetry.h>
#include <rte_udp.h>

#include "clock.h"
#include "control_packet.h"
#include "data_channel.h"
#include "openvpn.h"
#include "session.h"

static rte_be16_t server_port;          /* network order; 0: no TLS server */
static bool server_punt;                /* control packets go to the exception path */

void
ovpn_tls_set_port(rte_be16_t port, bool punt)
{
	server_port = port;
	server_punt = punt;
}

void
ovpn_tls_key_make(rte_be32_t peer, rte_be32_t local, uint32_t peer_id, struct tunnel_key *k)
{
	memset(k, 0, sizeof(*k));
	k->peer = peer;
	k->local = local;
	k->ip_proto = IPPROTO_UDP;
	k->variant = OVPN_TLS_KEY_VARIANT;
	k->proto_key = peer_id;
}

struct ovpn_dkey *
ovpn_dkey_new(enum aead_algo algo, uint8_t key_id, uint32_t gen, const uint8_t material[256], bool server)
{
	struct aead_engine *e = ovpn_engine();
	struct ovpn_dkey *k = calloc(1, sizeof(*k));
	/* struct key2: two keys of a 64-byte cipher part and a 64-byte HMAC part; the client sends with
	 * the first, the server with the second. AEAD's implicit IV is the start of the HMAC part. */
	const uint8_t *client = material, *srv = material + 128;
	const uint8_t *out = server ? srv : client, *in = server ? client : srv;

	if (k == NULL || e == NULL)
		goto fail;
	k->algo = algo;
	k->key_id = key_id;
	k->gen = gen;
	k->enc = aead_key_alloc();
	k->dec = aead_key_alloc();
	if (k->enc == NULL || k->dec == NULL || aead_key_init(e, k->enc, algo, out, NULL, 0) < 0 ||
	    aead_key_init(e, k->dec, algo, in, NULL, 0) < 0)
		goto fail;
	memcpy(k->enc_iv, out + 64, OVPN_IMPLICIT_IV);
	memcpy(k->dec_iv, in + 64, OVPN_IMPLICIT_IV);
	return k;
fail:
	ovpn_dkey_free(k);
	return NULL;
}

void
ovpn_session_init(struct tunnel *t, struct ovpn_session *s, uint32_t peer_id, rte_be16_t port,
		  rte_be16_t peer_port, struct ovpn_dkey *k)
{
	t->ops = &openvpn_tls_ops;
	t->priv = s;
	s->peer_id = peer_id;
	s->port = port;
	s->peer_port = peer_port;
	s->keys[0] = k;
	s->tx_slot = 0;
	s->window_key = -1; /* no packet numbered yet */
}

void
ovpn_dkey_free(struct ovpn_dkey *k)
{
	if (k == NULL)
		return;
	aead_key_free(k->enc);
	aead_key_free(k->dec);
	memset(k, 0, sizeof(*k));
	free(k);
}

static int
tls_configure(struct tunnel *t, const struct tunnel_conf *c)
{
	(void)t;
	return c->error(c, "protocol", "TLS clients connect at run time: configure them in [openvpn_server]");
}

static void
tls_key(const struct tunnel *t, struct tunnel_key *k)
{
	const struct ovpn_session *s = t->priv;

	ovpn_tls_key_make(t->peer, t->local, s->peer_id, k);
}

static int
tls_classify(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t l4_off, struct tunnel_key *k)
{
	const struct rte_udp_hdr *udp;
	const uint8_t *p;
	uint8_t op;

	if (server_port == 0)
		return -1;
	if (rte_pktmbuf_data_len(m) < l4_off + sizeof(*udp))
		return DROP_UDP_TRUNCATED;
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, l4_off);
	if (udp->dst_port != server_port)
		return -1; /* a static-key tunnel's port */
	if (rte_pktmbuf_data_len(m) < l4_off + sizeof(*udp) + 4)
		return DROP_OVPN_MALFORMED;
	p = (const uint8_t *)(udp + 1);
	op = ovpn_op_of(p[0]);
	if (op == OVPN_P_DATA_V2) {
		ovpn_tls_key_make(ip->src_addr, ip->dst_addr, (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3], k);
		return DROP_MAX;
	}
	if (ovpn_opcode_is_control(op) && server_punt)
		return TUNNEL_CLASSIFY_PUNT;
	/* P_DATA_V1 (no peer-id: we always push one), resets we do not serve, garbage. */
	return DROP_OVPN_BAD_OPCODE;
}

/* The published key with this key_id and its slot, or NULL. */
static inline struct ovpn_dkey *
key_by_id(const struct ovpn_session *s, uint8_t key_id, uint8_t *slot)
{
	for (uint8_t i = 0; i < 2; i++) {
		struct ovpn_dkey *k = __atomic_load_n(&s->keys[i], __ATOMIC_ACQUIRE);

		if (k != NULL && k->key_id == key_id) {
			*slot = i;
			return k;
		}
	}
	return NULL;
}

static inline struct ovpn_dkey *
key_tx(const struct ovpn_session *s)
{
	return __atomic_load_n(&s->keys[s->tx_slot], __ATOMIC_ACQUIRE);
}

struct decap_ctx {
	struct ovpn_dkey *key;
	uint8_t slot;
	uint8_t iv[12];
};

static enum drop_reason
decap_prepare(struct ovpn_session *s, struct rte_mbuf *m, uint16_t l4_off, struct aead_op *op,
	      struct decap_ctx *ctx)
{
	uint8_t *payload;
	uint32_t len;
	rte_be16_t sport;
	enum drop_reason r = ovpn_udp_payload(m, l4_off, &payload, &len, &sport);

	if (r != DROP_MAX)
		return r;
	if (len <= OVPN_AEAD_HDR)
		return DROP_OVPN_MALFORMED;
	ctx->key = key_by_id(s, ovpn_key_id_of(payload[0]), &ctx->slot);
	if (ctx->key == NULL)
		return DROP_OVPN_BAD_KEY_ID;
	memcpy(ctx->iv, payload + 4, 4);
	memcpy(ctx->iv + 4, ctx->key->dec_iv, OVPN_IMPLICIT_IV);
	*op = (struct aead_op){
		.key = ctx->key->dec,
		.buf = payload,
		.cipher_off = OVPN_AEAD_HDR,
		.cipher_len = len - OVPN_AEAD_HDR,
		.iv = ctx->iv,
		.aad = payload,
		.aad_len = OVPN_AEAD_AD,
		.tag = payload + OVPN_AEAD_AD,
	};
	return DROP_MAX;
}

/* Packets of a key the window no longer numbers: a 64-packet sliding replay check. */
static bool
replay_ok(struct ovpn_dkey *k, uint32_t pid)
{
	uint32_t behind = k->replay_top - pid;

	if (pid > k->replay_top) {
		uint32_t shift = pid - k->replay_top;

		k->replay_bits = shift >= 64 ? 1 : k->replay_bits << shift | 1;
		k->replay_top = pid;
		return true;
	}
	if (behind >= 64 || (k->replay_bits >> behind & 1))
		return false;
	k->replay_bits |= 1ull << behind;
	return true;
}

/*
 * Which numbering pid belongs to: the window's key, a newer key (the client
 * switched: we switch sending and restart the window), or the older one.
 */
static enum drop_reason
key_sequence(struct ovpn_session *s, struct ovpn_dkey *k, uint8_t slot, uint32_t pid, struct tunnel_rx *rx)
{
	struct ovpn_dkey *tx = key_tx(s);

	if (k->key_id != s->window_key) {
		if (s->window_key >= 0 && tx != NULL && k->gen <= tx->gen) {
			/* The older key, after the switch. */
			if (!replay_ok(k, pid))
				return DROP_OVPN_REPLAY;
			__atomic_store_n(&s->old_key_rx, s->old_key_rx + 1, __ATOMIC_RELAXED);
			return DROP_MAX;
		}
		if (s->window_key >= 0 && tx != NULL && tx != k) {
			tx->replay_bits = ~0ull; /* all up to its top seen: late copies are refused */
		}
		rx->restart = s->window_key >= 0;
		s->window_key = k->key_id;
		__atomic_store_n(&s->tx_slot, slot, __ATOMIC_RELEASE);
	}
	if (pid > k->replay_top)
		k->replay_top = pid;
	rx->seq = pid;
	rx->has_seq = true;
	return DROP_MAX;
}

static enum drop_reason
decap_complete(struct ovpn_session *s, struct rte_mbuf *m, const struct aead_op *op, const struct decap_ctx *ctx,
	       struct tunnel_rx *rx, uint64_t now)
{
	uint8_t *inner = op->buf + op->cipher_off;
	uint32_t inner_len = op->cipher_len, pid = ovpn_get_be32(op->buf + 4);
	enum drop_reason r;

	if (pid == 0)
		return DROP_OVPN_REPLAY; /* numbering starts at 1 */
	r = key_sequence(s, ctx->key, ctx->slot, pid, rx);
	if (r != DROP_MAX)
		return r;
	__atomic_store_n(&s->last_rx_tsc, now, __ATOMIC_RELAXED);
	if (s->fragment != 0 && !ovpn_frag_receive(s->frag, m, &inner, &inner_len, rx))
		return DROP_MAX;
	if (ovpn_is_ping(inner, inner_len)) {
		__atomic_store_n(&s->pings_rx, s->pings_rx + 1, __ATOMIC_RELAXED);
		rx->late_drop = TUNNEL_RX_CONSUMED;
	} else if (inner[0] >> 4 != 4) {
		rx->late_drop = 1 + DROP_INNER_NOT_IPV4;
	}
	rte_pktmbuf_adj(m, (uint16_t)(inner - rte_pktmbuf_mtod(m, uint8_t *)));
	return DROP_MAX;
}

static void
tls_decap_burst(struct tunnel *const *t, struct rte_mbuf *const *m, const uint16_t *l4_off,
		struct tunnel_rx *rx, enum drop_reason *r, uint16_t n)
{
	struct aead_engine *e = ovpn_engine();
	struct aead_op ops[OVPN_BURST_MAX];
	struct decap_ctx ctx[OVPN_BURST_MAX];
	uint16_t idx[OVPN_BURST_MAX], nb = 0;

	for (uint16_t i = 0; i < n; i++) {
		r[i] = e != NULL ? decap_prepare(t[i]->priv, m[i], l4_off[i], &ops[nb], &ctx[nb])
				 : DROP_CRYPTO_ERROR;
		if (r[i] == DROP_MAX)
			idx[nb++] = i;
	}
	uint64_t now = 0;

	if (nb != 0) {
		aead_decrypt_burst(e, ops, nb);
		now = clock_now(); /* once a burst: a TSC read costs as much as a small packet's GCM here */
	}
	for (uint16_t j = 0; j < nb; j++) {
		uint16_t i = idx[j];

		r[i] = ops[j].status == AEAD_OK ? decap_complete(t[i]->priv, m[i], &ops[j], &ctx[j], &rx[i], now)
		       : ops[j].status == AEAD_ERR_AUTH ? DROP_OVPN_BAD_HMAC : DROP_CRYPTO_ERROR;
	}
}

static enum drop_reason
tls_decap(struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off, struct tunnel_rx *rx)
{
	struct tunnel *ts[1] = { t };
	struct rte_mbuf *ms[1] = { m };
	enum drop_reason r;

	tls_decap_burst(ts, ms, &l4_off, rx, &r, 1);
	return r;
}

struct encap_ctx {
	uint8_t iv[12];
};

static enum drop_reason
encap_prepare(struct ovpn_session *s, struct rte_mbuf *m, struct aead_op *op, struct encap_ctx *ctx)
{
	struct ovpn_dkey *k = key_tx(s);
	const uint32_t inner_len = rte_pktmbuf_pkt_len(m);
	struct rte_udp_hdr *udp;
	uint8_t *p;

	if (unlikely(k == NULL))
		return DROP_OVPN_BAD_KEY_ID;
	if (unlikely(k->tx_pid == UINT32_MAX))
		return DROP_OVPN_REPLAY; /* the client renegotiates long before; never reuse a nonce */
	if (!rte_pktmbuf_is_contiguous(m) && rte_pktmbuf_linearize(m) != 0)
		return DROP_TOO_BIG;
	const uint32_t frag_len = s->fragment != 0 ? OVPN_FRAG_HDR_LEN : 0;

	udp = (struct rte_udp_hdr *)rte_pktmbuf_prepend(m, (uint16_t)(sizeof(*udp) + OVPN_AEAD_HDR + frag_len));
	if (udp == NULL)
		return DROP_NO_MBUF;
	p = (uint8_t *)(udp + 1);
	if (frag_len != 0)
		ovpn_put_be32(p + OVPN_AEAD_HDR, OVPN_FRAG_WHOLE); /* we never fragment: the MTU keeps us whole */
	p[0] = (uint8_t)(OVPN_P_DATA_V2 << 3 | k->key_id);
	p[1] = (uint8_t)(s->peer_id >> 16);
	p[2] = (uint8_t)(s->peer_id >> 8);
	p[3] = (uint8_t)s->peer_id;
	ovpn_put_be32(p + 4, ++k->tx_pid);
	memcpy(ctx->iv, p + 4, 4);
	memcpy(ctx->iv + 4, k->enc_iv, OVPN_IMPLICIT_IV);
	udp->src_port = s->port;
	udp->dst_port = s->peer_port;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)rte_pktmbuf_pkt_len(m));
	udp->dgram_cksum = 0;
	*op = (struct aead_op){
		.key = k->enc,
		.buf = p,
		.cipher_off = OVPN_AEAD_HDR,
		.cipher_len = frag_len + inner_len,
		.iv = ctx->iv,
		.aad = p,
		.aad_len = OVPN_AEAD_AD,
		.tag = p + OVPN_AEAD_AD,
	};
	return DROP_MAX;
}

static void
tls_encap_burst(struct tunnel *const *t, struct rte_mbuf *const *m, enum drop_reason *r, uint16_t n)
{
	struct aead_engine *e = ovpn_engine();
	struct aead_op ops[OVPN_BURST_MAX];
	struct encap_ctx ctx[OVPN_BURST_MAX];
	uint16_t idx[OVPN_BURST_MAX], nb = 0;

	for (uint16_t i = 0; i < n; i++) {
		r[i] = e != NULL ? encap_prepare(t[i]->priv, m[i], &ops[nb], &ctx[nb]) : DROP_CRYPTO_ERROR;
		if (r[i] == DROP_MAX)
			idx[nb++] = i;
	}
	if (nb != 0)
		aead_encrypt_burst(e, ops, nb);
	for (uint16_t j = 0; j < nb; j++)
		if (ops[j].status != AEAD_OK)
			r[idx[j]] = DROP_CRYPTO_ERROR;
}

static enum drop_reason
tls_encap(struct tunnel *t, struct rte_mbuf *m)
{
	struct tunnel *ts[1] = { t };
	struct rte_mbuf *ms[1] = { m };
	enum drop_reason r;

	tls_encap_burst(ts, ms, &r, 1);
	return r;
}

static uint16_t
tls_keepalive(struct tunnel *t, uint64_t now, uint8_t *payload, uint16_t room)
{
	struct ovpn_session *s = t->priv;
	struct ovpn_dkey *k = key_tx(s);

	/* Housekeeping also gives up fragments waiting too long for the rest of their datagram. */
	if (s->frag != NULL)
		ovpn_frag_expire(s->frag, now);
	if (s->keepalive_ticks == 0 || room < OVPN_PING_LEN || k == NULL)
		return 0;
	if (!ovpn_keepalive_due(&s->ka, (uint64_t)k->key_id << 32 | k->tx_pid, now, s->keepalive_ticks))
		return 0;
	__atomic_store_n(&s->pings_tx, s->pings_tx + 1, __ATOMIC_RELAXED);
	memcpy(payload, ovpn_ping_payload, OVPN_PING_LEN);
	return OVPN_PING_LEN;
}

static void
tls_telemetry(const struct tunnel *t, struct rte_tel_data *d)
{
	const struct ovpn_session *s = t->priv;

	uint64_t now_ms = clock_monotonic_ms();
	char a[INET_ADDRSTRLEN];
	rte_tel_data_add_dict_string(d, "mode", "tls");
	rte_tel_data_add_dict_string(d, "common_name", s->common_name);
	rte_tel_data_add_dict_string(d, "cipher", s->cipher);
	rte_tel_data_add_dict_string(d, "key_derivation", s->key_derivation != NULL ? s->key_derivation : "-");
	pkt_format_ipv4(s->vaddr, a, sizeof(a));
	rte_tel_data_add_dict_string(d, "address", a);
	rte_tel_data_add_dict_u64(d, "key_age_s", (now_ms - __atomic_load_n(&s->key_started_ms, __ATOMIC_RELAXED)) / 1000);
	rte_tel_data_add_dict_u64(d, "renegotiations", __atomic_load_n(&s->renegotiations, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "peer_id", s->peer_id);
	rte_tel_data_add_dict_u64(d, "peer_port", rte_be_to_cpu_16(s->peer_port));
	rte_tel_data_add_dict_u64(d, "keepalives_rx", __atomic_load_n(&s->pings_rx, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "keepalives_tx", __atomic_load_n(&s->pings_tx, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "previous_key_rx", __atomic_load_n(&s->old_key_rx, __ATOMIC_RELAXED));
	ovpn_frag_telemetry(s->frag, s->fragment, d);
}

static void
tls_destroy(struct tunnel *t)
{
	struct ovpn_session *s = t->priv;

	/* The session lives in the tunnel's own allocation (server.c): only the keys are freed here. */
	if (s == NULL)
		return;
	ovpn_dkey_free(s->keys[0]);
	ovpn_dkey_free(s->keys[1]);
	free(s->frag);
	s->keys[0] = s->keys[1] = NULL;
	s->frag = NULL;
	t->priv = NULL;
}

const struct tunnel_ops openvpn_tls_ops = {
	.name = "openvpn-tls",
	.ip_proto = IPPROTO_UDP,
	.overhead = sizeof(struct rte_udp_hdr) + OVPN_AEAD_HDR,
	.configure = tls_configure,
	.key = tls_key,
	.classify = tls_classify,
	.decap = tls_decap,
	.encap = tls_encap,
	.decap_burst = tls_decap_burst,
	.encap_burst = tls_encap_burst,
	.burst_max = OVPN_BURST_MAX,
	.keepalive = tls_keepalive,
	.telemetry = tls_telemetry,
	.destroy = tls_destroy,
};
