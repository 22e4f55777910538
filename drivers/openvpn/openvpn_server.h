/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The OpenVPN server in TLS mode ([openvpn_server]): the control thread's
 * side. Clients' control packets reach a kernel UDP socket through the
 * exception path (TAP); each client gets a TLS session with certificates,
 * the key-method 2 exchange, an address from the pool in PUSH_REPLY, a
 * peer-id and a tunnel whose data path is session_data.c on some lcore.
 * Client-initiated renegotiations install new keys in that tunnel while
 * the old ones keep working.
 */
#ifndef DPVPN_OVPN_SERVER_H
#define DPVPN_OVPN_SERVER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "aead.h"
#include "pkt.h"
#include "tunnel.h"

#define OVPN_MAX_PUSH_ROUTES 16

struct ovpn_server_conf {
	bool enable;
	uint16_t port;
	char tap[16];
	char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], crl[PATH_MAX]; /* crl: "" when none */
	char key_log[PATH_MAX];         /* "": off; else every data key is appended there (debugging, benchmarks) */
	struct pkt_prefix pool;         /* clients' addresses; the first is the server's (route-gateway) */
	enum aead_algo ciphers[3];      /* data_ciphers, in our order of preference */
	unsigned nb_ciphers;
	uint32_t keepalive_s;           /* ping every N s (pushed as ping) */
	uint32_t ping_restart_s;        /* a client silent this long is dropped (pushed as ping-restart) */
	uint32_t hand_window_s;         /* a key exchange must finish within this */
	bool tls_ekm;                   /* data keys from the TLS exporter when the client offers it */
	uint32_t max_clients;
	uint16_t mtu;                   /* tun-mtu: the largest inner packet to a client */
	uint16_t fragment;              /* --fragment N of every client: 0 off */
	struct pkt_prefix push_routes[OVPN_MAX_PUSH_ROUTES];
	unsigned nb_push_routes;
	rte_be32_t dns[2];
	struct tunnel template;         /* reorder, mss_clamp, qos, ttl for every client */
};


int ovpn_server_conf_parse(struct ovpn_server_conf *c, const struct tunnel_conf *tc);

/* Control thread. init binds the UDP socket (call it in the TAP's namespace). */
int ovpn_server_init(const struct ovpn_server_conf *c, const struct session_host *host);
/* One round: datagrams, retransmissions, timeouts. Waits up to timeout_ms for a datagram. */
void ovpn_server_poll(int timeout_ms);
void ovpn_server_fini(void);

/* Telemetry, any thread holding the tunnel table's lock: the server's counters and its clients. */
struct rte_tel_data;
void ovpn_server_telemetry(struct rte_tel_data *d);
void ovpn_server_sessions(struct rte_tel_data *d);

#endif
