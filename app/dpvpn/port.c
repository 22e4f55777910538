/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethdev setup: find or probe the configured device, one queue pair per worker. */
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "clock.h"
#include "dpvpn.h"

static int
find_or_probe(const struct port_conf *pc, uint16_t *port_id)
{
	char spec[sizeof(pc->device) + sizeof(pc->devargs) + 2];

	if (rte_eth_dev_get_port_by_name(pc->device, port_id) == 0)
		return 0;
	/* Not given on the EAL command line: probe it from the configuration. */
	snprintf(spec, sizeof(spec), "%s%s%s", pc->device, pc->devargs[0] ? "," : "", pc->devargs);
	if (rte_dev_probe(spec) < 0)
		return -1;
	return rte_eth_dev_get_port_by_name(pc->device, port_id);
}

static int
port_setup(enum port_role role, const struct port_conf *pc)
{
	struct dp_port *p = &dp.ports[role];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int rc;

	p->role_name = role == PORT_OUTSIDE ? "outside" : "inside";
	if (find_or_probe(pc, &p->port_id) < 0) {
		fprintf(stderr, "%s: [%s] device: no ethdev '%s' and probing '%s%s%s' failed\n",
			dp.cfg.file, p->role_name, pc->device, pc->device, pc->devargs[0] ? "," : "",
			pc->devargs);
		return -1;
	}
	rte_eth_dev_get_name_by_port(p->port_id, p->name);
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0)
		return rc;
	if (info.max_tx_queues < dp.nb_workers) {
		fprintf(stderr, "%s: [%s] device '%s' has %u TX queues; %u workers need one each\n",
			dp.cfg.file, p->role_name, pc->device, info.max_tx_queues, dp.nb_workers);
		return -1;
	}
	p->nb_rxq = (uint16_t)RTE_MIN(dp.nb_workers, info.max_rx_queues);
	p->nb_txq = (uint16_t)dp.nb_workers;

	memset(&conf, 0, sizeof(conf));
	if (p->nb_rxq > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP) != 0) {
		/* Outer addresses spread tunnels over queues; owners take the rest via handoff. */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		p->csum_offload = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	rc = rte_eth_dev_configure(p->port_id, p->nb_rxq, p->nb_txq, &conf);
	p->configured = rc == 0;
	if (rc != 0) {
		fprintf(stderr, "%s: [%s] configuring '%s' failed: %s\n", dp.cfg.file, p->role_name,
			pc->device, rte_strerror(-rc));
		return rc;
	}
	uint16_t rxd = pc->rx_desc, txd = pc->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	int socket = rte_eth_dev_socket_id(p->port_id);
	for (uint16_t q = 0; q < p->nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, rxd, socket, NULL, dp.pool);
		if (rc != 0)
			goto fail;
	}
	for (uint16_t q = 0; q < p->nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(p->port_id, q, txd, socket, NULL);
		if (rc != 0)
			goto fail;
	}
	if (pc->has_mac) {
		rc = rte_eth_dev_default_mac_addr_set(p->port_id, (struct rte_ether_addr *)&pc->mac);
		if (rc != 0) {
			fprintf(stderr, "%s: [%s] mac: device '%s' cannot change its MAC address: %s\n",
				dp.cfg.file, p->role_name, pc->device, rte_strerror(-rc));
			return rc;
		}
	}
	/* vdevs often cannot change MTU; the configured one still bounds what we send. */
	rte_eth_dev_set_mtu(p->port_id, pc->mtu);
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0)
		goto fail;
	rte_eth_macaddr_get(p->port_id, &p->mac);
	p->mtu = pc->mtu;
	p->addr = pc->addr;
	p->subnet = pc->subnet;
	p->gateway = pc->gateway;
	if (neigh_init(&p->neigh, dp.cfg.neigh_entries,
		       (uint64_t)dp.cfg.neigh_timeout_s * clock_hz(), clock_hz()) < 0)
		return -1;
	for (unsigned i = 0; i < pc->nb_static; i++)
		neigh_update(&p->neigh, pc->static_neigh[i].ip, &pc->static_neigh[i].mac, clock_now(),
			     true);
	return 0;
fail:
	fprintf(stderr, "%s: [%s] setting up '%s' failed: %s\n", dp.cfg.file, p->role_name,
		pc->device, rte_strerror(-rc));
	return rc;
}

int
ports_init(void)
{
	if (port_setup(PORT_OUTSIDE, &dp.cfg.outside) < 0 ||
	    port_setup(PORT_INSIDE, &dp.cfg.inside) < 0)
		return -1;
	if (dp.ports[PORT_OUTSIDE].port_id == dp.ports[PORT_INSIDE].port_id) {
		fprintf(stderr, "%s: [inside] device: same ethdev as [outside]\n", dp.cfg.file);
		return -1;
	}
	return 0;
}

void
ports_stop(void)
{
	for (int r = 0; r < PORT_MAX; r++) {
		struct dp_port *p = &dp.ports[r];

		if (!p->configured)
			continue;
		rte_eth_dev_stop(p->port_id);
		rte_eth_dev_close(p->port_id);
		neigh_fini(&p->neigh);
		p->configured = false;
	}
}
