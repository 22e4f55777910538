/* SPDX-License-Identifier: BSD-3-Clause */
#include "tunnel.h"

void
tunnel_tx_build(struct tunnel *t, const struct rte_ether_addr *dst_mac,
		const struct rte_ether_addr *src_mac, uint64_t valid_until, uint32_t cache_gen)
{
	struct tunnel_tx *tx = &t->tx;
	const uint16_t drv_off = TUNNEL_TX_IP_OFF + sizeof(struct rte_ipv4_hdr);
	uint16_t drv_len, seq_off = 0;
	uint32_t *seq = NULL;

	if (tx->unsupported)
		return;
	drv_len = t->nb_paths == 1 && t->ops->tx_header != NULL
			  ? t->ops->tx_header(t, tx->hdr + drv_off, TUNNEL_TX_HDR_MAX - drv_off, &seq, &seq_off)
			  : 0;
	if (drv_len == 0 || drv_off + drv_len < 32) {
		tx->unsupported = true;
		return;
	}
	pkt_eth_set((struct rte_ether_hdr *)tx->hdr, dst_mac, src_mac, RTE_ETHER_TYPE_IPV4);
	/* Length and id are filled per packet; the checksum comes from ip_sum then. */
	pkt_ipv4_write_hdr((struct rte_ipv4_hdr *)(tx->hdr + TUNNEL_TX_IP_OFF), 0, 0, 0, t->ttl,
			   t->ops->ip_proto, t->local, t->peer);
	tx->ip_sum = pkt_ipv4_fold16(pkt_ipv4_sum_fixed(0, t->ttl, t->ops->ip_proto, t->local, t->peer));
	tx->seq = seq;
	tx->seq_off = seq == NULL ? 0 : (uint16_t)(drv_off + seq_off);
	tx->len = (uint16_t)(drv_off + drv_len);
	tx->cache_gen = cache_gen;
	tx->valid_until = valid_until;
}
