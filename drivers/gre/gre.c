/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "gre.h"

bool
gre_checksum_ok(const struct rte_mbuf *m, uint16_t l4_off)
{
	uint16_t sum;

	return rte_raw_cksum_mbuf(m, l4_off, rte_pktmbuf_pkt_len(m) - l4_off, &sum) == 0 &&
	       sum == 0xffff;
}

static int
parse_key(const struct tunnel_conf *c, const char *name, bool *has, rte_be32_t *key)
{
	uint64_t v;

	if (c->get(c, name) == NULL)
		return 0;
	if (tunnel_conf_uint(c, name, 0, 0, UINT32_MAX, &v) < 0)
		return -1;
	*has = true;
	*key = rte_cpu_to_be_32((uint32_t)v);
	return 0;
}

static int
gre_configure(struct tunnel *t, const struct tunnel_conf *c)
{
	struct gre_tunnel *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return c->error(c, "protocol", "out of memory");
	t->priv = g;
	/* "key" sets both directions, like ip-link's key; ikey/okey override one. */
	if (parse_key(c, "key", &g->has_ikey, &g->ikey) < 0)
		return -1;
	g->has_okey = g->has_ikey;
	g->okey = g->ikey;
	if (parse_key(c, "ikey", &g->has_ikey, &g->ikey) < 0 ||
	    parse_key(c, "okey", &g->has_okey, &g->okey) < 0)
		return -1;
	if (tunnel_conf_bool(c, "sequence", false, &g->seq) < 0 ||
	    tunnel_conf_bool(c, "checksum", false, &g->csum) < 0)
		return -1;
	t->overhead = gre_hdr_len(g->csum, g->has_okey, g->seq);
	t->sequenced = g->seq;
	return 0;
}

static void
gre_key(const struct tunnel *t, struct tunnel_key *k)
{
	const struct gre_tunnel *g = t->priv;

	k->peer = t->peer;
	k->local = t->local;
	k->ip_proto = IPPROTO_GRE;
	k->variant = g->has_ikey;
	k->proto_key = g->has_ikey ? g->ikey : 0;
}

static int
gre_classify(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t l4_off,
	     struct tunnel_key *k)
{
	struct tunnel_key_words kw;
	struct gre_info gi;
	int rc;

	if (rte_pktmbuf_data_len(m) < l4_off)
		return DROP_GRE_TRUNCATED;
	rc = gre_parse(rte_pktmbuf_mtod_offset(m, const uint8_t *, l4_off),
		       rte_pktmbuf_data_len(m) - l4_off, &gi);
	if (rc != DROP_MAX)
		return rc;
	kw = gre_rx_key(ip->src_addr, ip->dst_addr, &gi);
	memcpy(k, &kw, sizeof(*k));
	return DROP_MAX;
}

static enum drop_reason
gre_decap(struct tunnel *t, struct rte_mbuf *m, uint16_t l4_off, struct tunnel_rx *rx)
{
	struct gre_info gi;

	/* classify validated the header on the receiving lcore; parse again for the fields. */
	if (gre_parse(rte_pktmbuf_mtod_offset(m, const uint8_t *, l4_off),
		      rte_pktmbuf_data_len(m) - l4_off, &gi) != DROP_MAX)
		return DROP_GRE_TRUNCATED;
	return gre_decap_parsed(t, m, l4_off, &gi, rx);
}

/* Writes g's header but the checksum value and sequence number; returns the sequence's offset. */
static uint16_t
gre_write_fixed(const struct gre_tunnel *g, uint8_t *p)
{
	uint16_t flags = (g->csum ? GRE_F_CSUM : 0) | (g->has_okey ? GRE_F_KEY : 0) |
			 (g->seq ? GRE_F_SEQ : 0);
	uint8_t *opt;

	p[0] = (uint8_t)(flags >> 8);
	p[1] = (uint8_t)flags;
	p[2] = RTE_ETHER_TYPE_IPV4 >> 8;
	p[3] = RTE_ETHER_TYPE_IPV4 & 0xff;
	opt = p + 4;
	if (g->csum) {
		memset(opt, 0, 4);
		opt += 4;
	}
	if (g->has_okey) {
		memcpy(opt, &g->okey, 4);
		opt += 4;
	}
	return (uint16_t)(opt - p);
}

static enum drop_reason
gre_encap(struct tunnel *t, struct rte_mbuf *m)
{
	struct gre_tunnel *g = t->priv;
	uint16_t len = gre_hdr_len(g->csum, g->has_okey, g->seq);
	uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, len);
	uint16_t seq_off;

	if (p == NULL)
		return DROP_NO_MBUF;
	seq_off = gre_write_fixed(g, p);
	if (g->seq) {
		rte_be32_t s = rte_cpu_to_be_32(g->tx_seq++);

		memcpy(p + seq_off, &s, 4);
	}
	if (g->csum) {
		uint16_t sum = 0;

		if (rte_raw_cksum_mbuf(m, 0, rte_pktmbuf_pkt_len(m), &sum) != 0)
			return DROP_GRE_TRUNCATED;
		sum = (uint16_t)~sum;
		memcpy(p + 4, &sum, 2);
	}
	return DROP_MAX;
}

static uint16_t
gre_tx_header(struct tunnel *t, uint8_t *hdr, uint16_t room, uint32_t **seq, uint16_t *seq_off)
{
	struct gre_tunnel *g = t->priv;
	uint16_t len = gre_hdr_len(g->csum, g->has_okey, g->seq);

	/* The checksum covers each packet's payload: no fixed header then. */
	if (g->csum || len > room)
		return 0;
	*seq_off = gre_write_fixed(g, hdr);
	if (g->seq)
		*seq = &g->tx_seq;
	return len;
}

static void
gre_telemetry(const struct tunnel *t, struct rte_tel_data *d)
{
	const struct gre_tunnel *g = t->priv;

	if (g->has_ikey)
		rte_tel_data_add_dict_u64(d, "ikey", rte_be_to_cpu_32(g->ikey));
	if (g->has_okey)
		rte_tel_data_add_dict_u64(d, "okey", rte_be_to_cpu_32(g->okey));
	rte_tel_data_add_dict_string(d, "sequence", g->seq ? "yes" : "no");
	rte_tel_data_add_dict_string(d, "checksum", g->csum ? "yes" : "no");
	if (g->seq)
		rte_tel_data_add_dict_u64(d, "tx_seq", __atomic_load_n(&g->tx_seq, __ATOMIC_RELAXED));
}

static void
gre_destroy(struct tunnel *t)
{
	free(t->priv);
	t->priv = NULL;
}

const struct tunnel_ops gre_ops = {
	.name = "gre",
	.ip_proto = IPPROTO_GRE,
	.overhead = 16, /* 4 + checksum + key + sequence */
	.configure = gre_configure,
	.key = gre_key,
	.classify = gre_classify,
	.decap = gre_decap,
	.encap = gre_encap,
	.tx_header = gre_tx_header,
	.telemetry = gre_telemetry,
	.destroy = gre_destroy,
};
