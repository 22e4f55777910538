/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PPTP data path (RFC 2637 4.1): enhanced GRE (version 1) carrying PPP.
 *
 * Receive: decap checks the GRE v1 header, takes the ack, and hands the
 * sequence number to the reorder window; after the window, rx_post reads
 * the PPP protocol, decrypts MPPE (in sequence order, which stateful MPPE
 * needs) and passes IPv4 on, control frames to the control thread.
 * Send: IPv4 becomes PPP (MPPE-encrypted when negotiated) in GRE v1 with
 * our sequence number and, when there is news, an ack.
 */
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "clock.h"
#include "pptp_impl.h"

#define GRE_K 0x20
#define GRE_S 0x10
#define GRE_A 0x80
#define GRE_V1 0x01

struct rte_ring *pptp_ctl_ring;
int pptp_ctl_wake = -1;
static const struct session_host *host;

void
pptp_gre_set_host(const struct session_host *h)
{
	host = h;
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
pptp_gre_parse(const uint8_t *p, uint32_t len, struct pptp_gre *g)
{
	uint16_t hl = 8;

	if (len < 2)
		return DROP_GRE_TRUNCATED;
	if ((p[1] & 0x07) != GRE_V1)
		return -1;
	/* K set; C, R, s, Recur and the version's flag bits clear (RFC 2637 4.1). */
	if ((p[0] & ~GRE_S) != GRE_K || (p[1] & 0x78) != 0)
		return DROP_PPTP_MALFORMED;
	g->has_seq = (p[0] & GRE_S) != 0;
	g->has_ack = (p[1] & GRE_A) != 0;
	hl = (uint16_t)(8 + (g->has_seq ? 4 : 0) + (g->has_ack ? 4 : 0));
	if (len < hl)
		return DROP_GRE_TRUNCATED;
	if (rd16(p + 2) != PPTP_GRE_PROTO)
		return DROP_PPTP_MALFORMED;
	g->payload_len = rd16(p + 4);
	g->call_id = rd16(p + 6);
	g->seq = g->has_seq ? rd32(p + 8) : 0;
	g->ack = g->has_ack ? rd32(p + 8 + (g->has_seq ? 4 : 0)) : 0;
	g->hdr_len = hl;
	/* A payload needs a sequence number; it must fit what arrived. */
	if (g->payload_len > len - hl || (g->payload_len != 0 && !g->has_seq))
		return DROP_PPTP_MALFORMED;
	return DROP_MAX;
}

uint16_t
pptp_gre_write(uint8_t *p, uint16_t call_id, uint16_t payload_len, const uint32_t *seq, const uint32_t *ack)
{
	uint16_t n = 8;

	p[0] = (uint8_t)(GRE_K | (seq ? GRE_S : 0));
	p[1] = (uint8_t)((ack ? GRE_A : 0) | GRE_V1);
	wr16(p + 2, PPTP_GRE_PROTO);
	wr16(p + 4, payload_len);
	wr16(p + 6, call_id);
	if (seq) {
		wr32(p + n, *seq);
		n += 4;
	}
	if (ack) {
		wr32(p + n, *ack);
		n += 4;
	}
	return n;
}

static int
pptp_configure(struct tunnel *t, const struct tunnel_conf *c)
{
	(void)t;
	return c->error(c, "protocol", "PPTP calls come from clients: configure them in [pptp], not as a tunnel");
}

static void
pptp_key(const struct tunnel *t, struct tunnel_key *k)
{
	const struct pptp_session *s = t->priv;

	k->peer = t->peer;
	k->local = t->local;
	k->proto_key = s->call_id;
	k->ip_proto = IPPROTO_GRE;
	k->variant = PPTP_KEY_VARIANT;
}

static int
pptp_classify(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t l4_off, struct tunnel_key *k)
{
	struct pptp_gre g;
	int rc = pptp_gre_parse(rte_pktmbuf_mtod_offset(m, const uint8_t *, l4_off),
				rte_pktmbuf_data_len(m) - l4_off, &g);

	if (rc != DROP_MAX)
		return rc;
	k->peer = ip->src_addr;
	k->local = ip->dst_addr;
	k->proto_key = g.call_id;
	k->ip_proto = IPPROTO_GRE;
	k->variant = PPTP_KEY_VARIANT;
	return DROP_MAX;
}

static enum drop_reason
pptp_decap(struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off, struct tunnel_rx *rx)
{
	struct pptp_session *s = t->priv;
	struct pptp_gre g;
	int rc = pptp_gre_parse(rte_pktmbuf_mtod_offset(m, const uint8_t *, l4_off),
				rte_pktmbuf_data_len(m) - l4_off, &g);

	if (rc != DROP_MAX)
		return rc < 0 ? DROP_PPTP_MALFORMED : (enum drop_reason)rc;
	if (g.has_ack) {
		s->acks_rx++;
		/* Only news counts: a late packet carries an older ack, and none may ack what we never sent. */
		if ((int32_t)(g.ack + 1 - s->unacked) > 0 && (int32_t)(s->tx_seq - (g.ack + 1)) >= 0) {
			s->peer_ack = g.ack;
			s->unacked = g.ack + 1;
			s->window_closed_at = 0;
		}
	}
	if (!g.has_seq) {
		/* An ack alone: nothing to deliver, no number to use up. */
		rx->late_drop = TUNNEL_RX_CONSUMED;
		return DROP_MAX;
	}
	rx->has_seq = true;
	rx->seq = g.seq;
	if (!s->rx_any || (int32_t)(g.seq - s->rx_seq) > 0)
		s->rx_seq = g.seq;
	s->rx_any = true;
	rte_pktmbuf_adj(m, (uint16_t)(l4_off + g.hdr_len));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - g.payload_len));
	return DROP_MAX;
}

/* The PPP protocol at p (after an optional FF 03): 0 when malformed; *hl = bytes up to the information. */
static inline uint16_t
ppp_proto(const uint8_t *p, uint32_t len, uint16_t *hl, uint16_t *proto_off)
{
	uint16_t off = 0;

	if (len >= 2 && p[0] == 0xff && p[1] == 0x03)
		off = 2;
	*proto_off = off;
	if (len > off && (p[off] & 1)) {
		*hl = (uint16_t)(off + 1);      /* Protocol-Field-Compression */
		return p[off];
	}
	if (len < off + 2u || (p[off + 1] & 1) == 0)
		return 0;
	*hl = (uint16_t)(off + 2);
	return rd16(p + off);
}

/* A control frame (m starts at the PPP protocol) for the control thread. */
static enum drop_reason
to_control(struct pptp_session *s, struct rte_mbuf *m, uint16_t skip)
{
	rte_pktmbuf_adj(m, skip);
	m->hash.usr = s->call_id;
	if (pptp_ctl_ring == NULL || rte_ring_mp_enqueue(pptp_ctl_ring, m) != 0)
		return DROP_PPP_CONTROL_FULL;
	/* One wake-up per batch: a PPP round trip then costs no poll timeout (was up to 10 ms). */
	if (pptp_ctl_wake >= 0 && rte_ring_count(pptp_ctl_ring) == 1) {
		const uint64_t one = 1;

		if (write(pptp_ctl_wake, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is already non-zero, the thread wakes anyway. */
		}
	}
	s->ctrl_rx++;
	return TUNNEL_RX_TAKEN;
}

/* A CCP Reset-Request (code 14) or Reset-Ack (15) with id, through the owner's control path. */
static void
send_ccp_reset(struct tunnel *t, uint8_t code, uint8_t id)
{
	const uint8_t frame[] = { 0xff, 0x03, 0x80, 0xfd, code, id, 0x00, 0x04 };
	struct rte_mbuf *m;
	uint8_t *p;

	if (host == NULL || (m = rte_pktmbuf_alloc(host->pool)) == NULL)
		return;
	p = (uint8_t *)rte_pktmbuf_append(m, sizeof(frame));
	memcpy(p, frame, sizeof(frame));
	host->send_frame(t, m);
}

/* Stateful MPPE lost a packet: ask the peer to re-key (RFC 3078 8). */
static void
send_reset_request(struct tunnel *t, struct pptp_session *s)
{
	send_ccp_reset(t, PPP_RESET_REQ, (uint8_t)s->resets_tx);
	s->resets_tx++;
	s->last_reset_tsc = clock_now();
}

/* Whether a control frame (FF 03 80 FD ...) is a CCP Reset-Ack. */
static bool
is_reset_ack(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	return rte_pktmbuf_data_len(m) >= 5 && p[0] == 0xff && p[1] == 0x03 && p[2] == 0x80 &&
	       p[3] == 0xfd && p[4] == PPP_RESET_ACK;
}

static enum drop_reason
mppe_verdict(int status)
{
	switch (status) {
	case MPPE_ERR_REPLAY:
		return DROP_MPPE_LATE;
	case MPPE_ERR_LOST:
	case MPPE_ERR_DISCARD:
		return DROP_MPPE_LOST;
	default:
		return DROP_MPPE_BAD;
	}
}

/* After MPPE decryption (m at the MPPE header): the inner PPP frame. */
static enum drop_reason
after_decrypt(struct pptp_session *s, struct rte_mbuf *m)
{
	const uint8_t *p;
	uint16_t hl, proto;

	rte_pktmbuf_adj(m, MPPE_HDR_LEN);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	/* Inside MPPE there is no address/control field; the protocol may be compressed. */
	if (rte_pktmbuf_data_len(m) >= 1 && (p[0] & 1)) {
		proto = p[0];
		hl = 1;
	} else if (rte_pktmbuf_data_len(m) >= 2 && (p[1] & 1)) {
		proto = rd16(p);
		hl = 2;
	} else {
		return DROP_PPP_MALFORMED;
	}
	if (proto == PPP_IP) {
		if (!__atomic_load_n(&s->ip_up, __ATOMIC_ACQUIRE))
			return DROP_PPTP_NOT_OPEN;
		rte_pktmbuf_adj(m, hl);
		return DROP_MAX;
	}
	/* Linux encrypts every protocol but LCP and CCP: IPCP may come this way. */
	return to_control(s, m, 0);
}

/*
 * After the windows: packets of one or more sessions, each session's in
 * sequence order. MPPE runs once for the lot, so with many sessions the ARC4
 * streams and stateless re-keys interleave (mppe_decrypt_burst keeps each
 * session's order).
 */
static void
pptp_rx_post_burst(struct tunnel *const *t, struct rte_mbuf **m, enum drop_reason *r, uint16_t n)
{
	struct mppe_op ops[64];
	uint16_t idx[64], nops = 0;

	while (n > RTE_DIM(ops)) {
		pptp_rx_post_burst(t, m, r, RTE_DIM(ops));
		t += RTE_DIM(ops);
		m += RTE_DIM(ops);
		r += RTE_DIM(ops);
		n -= RTE_DIM(ops);
	}
	for (uint16_t i = 0; i < n; i++) {
		struct pptp_session *s = t[i]->priv;
		const bool mppe_on = __atomic_load_n(&s->mppe_on, __ATOMIC_ACQUIRE);
		uint8_t *p = rte_pktmbuf_mtod(m[i], uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m[i]);
		uint16_t hl = 0, off = 0, proto = ppp_proto(p, len, &hl, &off);

		switch (proto) {
		case PPP_COMP:
			if (!mppe_on) {
				r[i] = DROP_PPTP_NOT_OPEN;
				break;
			}
			if (m[i]->nb_segs != 1 || len < hl + MPPE_HDR_LEN + 1u) {
				r[i] = DROP_MPPE_BAD;
				break;
			}
			rte_pktmbuf_adj(m[i], hl);
			ops[nops] = (struct mppe_op){ .st = &s->mppe_rx, .pkt = p + hl, .len = len - hl };
			idx[nops++] = i;
			r[i] = DROP_MAX;
			break;
		case PPP_IP:
			if (mppe_on || s->mppe_required)
				r[i] = DROP_PPTP_UNENCRYPTED;
			else if (!__atomic_load_n(&s->ip_up, __ATOMIC_ACQUIRE))
				r[i] = DROP_PPTP_NOT_OPEN;
			else {
				rte_pktmbuf_adj(m[i], hl);
				r[i] = DROP_MAX;
			}
			break;
		case 0:
			r[i] = DROP_PPP_MALFORMED;
			break;
		case PPP_CCP:
			if (len > hl + 1u && p[hl] == PPP_RESET_REQ && mppe_on) {
				/*
				 * The peer lost our packets. Linux stops decrypting after an
				 * error until a Reset-Ack arrives (ppp_generic), so we answer
				 * with one, and the packet after it is flushed (re-keyed): see
				 * pptp_encap_ctrl.
				 */
				send_ccp_reset(t[i], PPP_RESET_ACK, p[hl + 1]);
				s->resets_rx++;
				rte_pktmbuf_free(m[i]);
				r[i] = TUNNEL_RX_TAKEN;
				break;
			}
			/* fall through */
		default:
			r[i] = to_control(s, m[i], off);
			break;
		}
	}
	if (nops == 0)
		return;
	mppe_decrypt_burst(ops, nops);
	for (uint16_t k = 0; k < nops; k++) {
		const uint16_t i = idx[k];
		struct pptp_session *s = t[i]->priv;

		if (ops[k].status == MPPE_OK) {
			r[i] = after_decrypt(s, m[i]);
			continue;
		}
		r[i] = mppe_verdict(ops[k].status);
		if (ops[k].status == MPPE_ERR_LOST)
			send_reset_request(t[i], s);
	}
}

/* One session's packets (the unsequenced path and tests). */
static void
pptp_rx_post(struct tunnel *t, struct rte_mbuf **m, enum drop_reason *r, uint16_t n)
{
	struct tunnel *ts[64];

	for (uint16_t done = 0; done < n;) {
		const uint16_t k = (uint16_t)RTE_MIN(n - done, (int)RTE_DIM(ts));

		for (uint16_t i = 0; i < k; i++)
			ts[i] = t;
		pptp_rx_post_burst(ts, m + done, r + done, k);
		done += k;
	}
}

/* The GRE header in front of a PPP frame of plen bytes (0: an ack alone). */
static enum drop_reason
gre_prepend(struct pptp_session *s, struct rte_mbuf *m, uint16_t plen)
{
	uint32_t seq = s->tx_seq, ack = s->rx_seq;
	const bool with_ack = s->rx_any && (plen == 0 || s->ack_sent != s->rx_seq);
	/*
	 * Written straight into the packet: a header built byte by byte on the
	 * stack and then copied is read back as words right after the byte
	 * stores, a store-forwarding stall per packet (perf/pptp's profile).
	 */
	uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(8 + (plen ? 4 : 0) + (with_ack ? 4 : 0)));

	if (p == NULL)
		return DROP_NO_MBUF;
	pptp_gre_write(p, s->peer_call_id, plen, plen ? &seq : NULL, with_ack ? &ack : NULL);
	if (plen) {
		s->tx_seq++;
		/*
		 * With peer_window = enforce, tx_open held data back, so only PPP
		 * control frames (never held) can pass the window.
		 */
		if (s->peer_window && seq - s->unacked >= s->peer_window)
			s->beyond_peer_window++;
	}
	if (with_ack)
		s->ack_sent = ack;
	return DROP_MAX;
}

static const uint8_t ppp_ip_hdr[PPTP_PPP_HDR] = { 0xff, 0x03, 0x00, 0x21 };
static const uint8_t ppp_comp_hdr[PPTP_PPP_HDR] = { 0xff, 0x03, 0x00, 0xfd };

/* Before encryption: FF 03 00 FD | MPPE header (written by mppe) | 00 21 | IPv4. */
static enum drop_reason
mppe_frame(struct rte_mbuf *m, struct mppe_op *op, struct pptp_session *s)
{
	uint8_t *p;

	/* ARC4 runs over one buffer; fragments from dpvpn's fragmenter are chains. */
	if (!rte_pktmbuf_is_contiguous(m) && rte_pktmbuf_linearize(m) != 0)
		return DROP_TOO_BIG;
	p = (uint8_t *)rte_pktmbuf_prepend(m, PPTP_PPP_HDR + MPPE_HDR_LEN + 2);
	if (p == NULL)
		return DROP_NO_MBUF;
	memcpy(p, ppp_comp_hdr, PPTP_PPP_HDR);
	p[PPTP_PPP_HDR + MPPE_HDR_LEN] = 0x00;
	p[PPTP_PPP_HDR + MPPE_HDR_LEN + 1] = 0x21;
	*op = (struct mppe_op){ .st = &s->mppe_tx, .pkt = p + PPTP_PPP_HDR,
				.len = rte_pktmbuf_data_len(m) - PPTP_PPP_HDR };
	return DROP_MAX;
}

static void
pptp_encap_burst(struct tunnel *const *t, struct rte_mbuf *const *m, enum drop_reason *r, uint16_t n)
{
	struct mppe_op ops[64];
	uint16_t idx[64], nops = 0;

	/* Longer bursts go in slices: a full ops array must never send the rest in the clear. */
	while (n > RTE_DIM(ops)) {
		pptp_encap_burst(t, m, r, RTE_DIM(ops));
		t += RTE_DIM(ops);
		m += RTE_DIM(ops);
		r += RTE_DIM(ops);
		n -= RTE_DIM(ops);
	}
	for (uint16_t i = 0; i < n; i++) {
		struct pptp_session *s = t[i]->priv;

		if (s->tx_granted)
			s->tx_granted--;        /* tx_open let it go; now it is numbered or dropped */
		if (!__atomic_load_n(&s->ip_up, __ATOMIC_ACQUIRE) || __atomic_load_n(&s->closing, __ATOMIC_RELAXED)) {
			r[i] = DROP_PPTP_NOT_OPEN;
			continue;
		}
		if (__atomic_load_n(&s->mppe_on, __ATOMIC_ACQUIRE)) {
			r[i] = mppe_frame(m[i], &ops[nops], s);
			if (r[i] == DROP_MAX)
				idx[nops++] = i;
			continue;
		}
		if (s->mppe_required) {
			r[i] = DROP_PPTP_NOT_OPEN;
			continue;
		}
		uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m[i], PPTP_PPP_HDR);

		if (p == NULL) {
			r[i] = DROP_NO_MBUF;
			continue;
		}
		memcpy(p, ppp_ip_hdr, PPTP_PPP_HDR);
		r[i] = gre_prepend(s, m[i], (uint16_t)rte_pktmbuf_pkt_len(m[i]));
	}
	if (nops == 0)
		return;
	/* Sessions' packets interleave; each session's stay in order (mppe_encrypt_burst). */
	mppe_encrypt_burst(ops, nops);
	for (uint16_t k = 0; k < nops; k++) {
		uint16_t i = idx[k];

		r[i] = ops[k].status == MPPE_OK
			       ? gre_prepend(t[i]->priv, m[i], (uint16_t)rte_pktmbuf_pkt_len(m[i]))
			       : DROP_CRYPTO_ERROR;
	}
}

static enum drop_reason
pptp_encap(struct tunnel *t, struct rte_mbuf *m)
{
	enum drop_reason r;

	pptp_encap_burst(&t, &m, &r, 1);
	return r;
}

static enum drop_reason
pptp_encap_ctrl(struct tunnel *t, struct rte_mbuf *m)
{
	struct pptp_session *s = t->priv;
	uint16_t plen = (uint16_t)rte_pktmbuf_pkt_len(m);

	if (plen == 0)
		s->acks_only_tx++;
	else
		s->ctrl_tx++;
	/* Re-key as the Reset-Ack leaves, so the client sees the Ack before the flushed packet. */
	if (plen != 0 && __atomic_load_n(&s->mppe_on, __ATOMIC_ACQUIRE) && is_reset_ack(m))
		mppe_tx_reset(&s->mppe_tx);
	return gre_prepend(s, m, plen);
}

/*
 * RFC 2637 4.2: no more than the client's window unacknowledged. A client
 * that never acks (Linux's pptp module acks only on its own data packets)
 * would stall the session, so a window that stays full window_timeout
 * counts as acknowledged, as FreeBSD's ng_pptpgre does on its ack timeout.
 * Packets let go wait in the worker's encap stage before they get their
 * numbers: tx_granted counts them, so one burst cannot overrun the window.
 */
static bool
pptp_tx_open(struct tunnel *t, uint64_t now)
{
	struct pptp_session *s = t->priv;

	if (!s->window_enforce || s->peer_window == 0)
		return true;
	if (s->tx_seq + s->tx_granted - s->unacked < s->peer_window) {
		s->tx_granted++;
		return true;
	}
	if (s->window_closed_at == 0) {
		s->window_closed_at = now;
		s->peer_window_waits++;
		return false;
	}
	if (now - s->window_closed_at < s->window_timeout)
		return false;
	s->unacked = s->tx_seq;
	s->window_closed_at = 0;
	s->peer_window_timeouts++;
	s->tx_granted++;
	return true;
}

static uint16_t
pptp_keepalive(struct tunnel *t, uint64_t now, uint8_t *payload __rte_unused, uint16_t room)
{
	struct pptp_session *s = t->priv;

	/* Housekeeping runs with the encap stage empty: a grant left was for a packet dropped on the way. */
	s->tx_granted = 0;
	/* Stateful MPPE still waiting for a flushed packet: ask again every second. */
	if (s->mppe_rx.flush && now - s->last_reset_tsc > clock_ms_to_ticks(1000) && room >= 8) {
		send_reset_request(t, s);
		return 0;
	}
	/* Received data we have not acked in a packet of ours: an ack alone (RFC 2637 4.4). */
	if (s->rx_any && s->ack_sent != s->rx_seq)
		return TUNNEL_KEEPALIVE_EMPTY;
	return 0;
}

const struct tunnel_ops pptp_ops = {
	.name = "pptp",
	.ip_proto = IPPROTO_GRE,
	.overhead = PPTP_OVERHEAD,
	.configure = pptp_configure,
	.key = pptp_key,
	.classify = pptp_classify,
	.decap = pptp_decap,
	.encap = pptp_encap,
	.encap_burst = pptp_encap_burst,
	.burst_max = 32,
	.rx_post = pptp_rx_post,
	.rx_post_burst = pptp_rx_post_burst,
	.encap_ctrl = pptp_encap_ctrl,
	.keepalive = pptp_keepalive,
	.tx_open = pptp_tx_open,
	.telemetry = pptp_tunnel_telemetry,
};
