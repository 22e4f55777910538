/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's INI configuration (read with rte_cfgfile). Every error names
 * the file, the line, the section and the key. docs/configuration.md lists
 * every key.
 */
#ifndef DPVPN_CONFIG_H
#define DPVPN_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "pkt.h"
#include "openvpn_server.h"
#include "pptp.h"
#include "qos.h"
#include "tunnel.h"

#define CONFIG_MAX_STATIC_NEIGH 32

struct port_conf {
	char device[64];        /* ethdev name: PCI address or vdev name */
	char devargs[512];      /* probed as "device,devargs" when the port does not exist yet */
	bool has_mac;
	struct rte_ether_addr mac;  /* overrides the device's MAC when has_mac */
	rte_be32_t addr;        /* our address on the port */
	struct pkt_prefix subnet;
	rte_be32_t gateway;     /* 0 = none */
	uint16_t mtu;
	uint16_t rx_desc;
	uint16_t tx_desc;
	unsigned nb_static;
	struct {
		rte_be32_t ip;
		struct rte_ether_addr mac;
	} static_neigh[CONFIG_MAX_STATIC_NEIGH];
};

struct dpvpn_config {
	char file[PATH_MAX];
	uint32_t mbufs;
	uint32_t mbuf_cache;
	uint32_t max_tunnels;
	uint32_t max_routes;
	uint32_t handoff_ring;
	uint32_t idle_sleep_us;
	uint32_t neigh_timeout_s;
	uint32_t neigh_entries;
	bool verify_checksums;
	uint32_t reorder_window;        /* default window of sequenced tunnels, packets */
	uint32_t reorder_hold_ms;       /* default hold time of a gap */
	uint32_t reorder_blocks;        /* per worker: tunnels reordering at once (memory cap) */
	bool reorder_adaptive;          /* default: hold from measured delay variation */
	struct qos_conf qos;            /* default shaper and fq_codel settings of tunnels */
	uint32_t qos_max_queues;        /* fq_codel queues allocated at once, all tunnels */
	uint8_t dscp;                   /* default outer DSCP, or PKT_DSCP_INHERIT */
	struct port_conf outside;
	struct port_conf inside;
	unsigned nb_tunnels;
	struct tunnel **tunnels;  /* allocated; drivers configured */
	struct pptp_conf pptp;    /* [pptp]: sessions are tunnels made at run time */
	struct ovpn_server_conf ovpn; /* [openvpn_server]: TLS clients, also tunnels made at run time */
};

/* Servers whose clients become tunnels at run time (a control thread, the exception TAP). */
static inline bool
config_has_servers(const struct dpvpn_config *c)
{
	return c->pptp.enable || c->ovpn.enable;
}

/* Known tunnel drivers, by "protocol" name; NULL-terminated. */
extern const struct tunnel_ops *const config_drivers[];

/*
 * Loads path. Returns 0, or -1 after printing "FILE:LINE: ..." to stderr.
 * Tunnels are allocated with their driver state; config_free releases them.
 */
int config_load(const char *path, struct dpvpn_config *cfg);
void config_free(struct dpvpn_config *cfg);

#endif
