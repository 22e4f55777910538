/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The OpenVPN driver's ops table: configuration (the static key file, the
 * cipher and HMAC, UDP ports, key direction, keepalive), the key outside
 * packets are found by, keepalives and telemetry. The data channel itself is
 * in data_channel.c.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <rte_ip.h>
#include <rte_telemetry.h>
#include <rte_udp.h>

#include "clock.h"
#include "data_channel.h"
#include "openvpn.h"

/* cipher and auth names as openvpn spells them (case does not matter). */
static const struct {
	const char *cipher, *auth;
	enum aead_algo algo;
} algos[] = {
	{ "AES-256-CBC", "SHA256", AEAD_AES256_CBC_HMAC_SHA256 },
	{ "AES-128-CBC", "SHA256", AEAD_AES128_CBC_HMAC_SHA256 },
	{ "AES-256-CBC", "SHA1", AEAD_AES256_CBC_HMAC_SHA1 },
	{ "AES-128-CBC", "SHA1", AEAD_AES128_CBC_HMAC_SHA1 },
};

/* openvpn's --cipher and --auth names of an algorithm, for telemetry. */
static void
algo_names(enum aead_algo a, const char **cipher, const char **auth)
{
	*cipher = *auth = "?";
	for (unsigned i = 0; i < RTE_DIM(algos); i++)
		if (algos[i].algo == a) {
			*cipher = algos[i].cipher;
			*auth = algos[i].auth;
		}
}

static int
parse_algo(struct ovpn_tunnel *o, const struct tunnel_conf *c)
{
	const char *cipher = c->get(c, "cipher"), *auth = c->get(c, "auth");

	if (cipher == NULL)
		cipher = "AES-256-CBC";
	if (auth == NULL)
		auth = "SHA256";
	if (strcasecmp(cipher, "AES-256-CBC") != 0 && strcasecmp(cipher, "AES-128-CBC") != 0)
		return c->error(c, "cipher", "'%s' is not supported (AES-256-CBC or AES-128-CBC)",
				cipher);
	for (unsigned i = 0; i < RTE_DIM(algos); i++)
		if (strcasecmp(cipher, algos[i].cipher) == 0 && strcasecmp(auth, algos[i].auth) == 0) {
			o->algo = algos[i].algo;
			o->hmac_len = (uint16_t)aead_tag_len(o->algo);
			return 0;
		}
	return c->error(c, "auth", "'%s' is not supported (SHA256 or SHA1)", auth);
}

static int
parse_direction(struct ovpn_tunnel *o, const struct tunnel_conf *c)
{
	const char *v = c->get(c, "key_direction");

	if (v == NULL || strcmp(v, "none") == 0)
		o->key_dir = OVPN_KEY_DIR_BIDIRECTIONAL;
	else if (strcmp(v, "0") == 0)
		o->key_dir = OVPN_KEY_DIR_NORMAL;
	else if (strcmp(v, "1") == 0)
		o->key_dir = OVPN_KEY_DIR_INVERSE;
	else
		return c->error(c, "key_direction", "'%s' is not 0, 1 or none", v);
	return 0;
}

/* Reads the key file (relative paths start at the configuration file's folder). */
static int
load_key(struct ovpn_tunnel *o, const struct tunnel_conf *c, uint8_t key[OVPN_STATIC_KEY_LEN])
{
	const char *v = c->get(c, "secret");
	char path[sizeof(o->secret)], dir[sizeof(o->secret) - 8], text[8192], err[160];
	FILE *f;
	size_t n;
	int rc;

	if (v == NULL)
		return c->error(c, "secret", "missing: the static key file (openvpn --genkey secret FILE)");
	if (v[0] != '/' && c->file != NULL) {
		snprintf(dir, sizeof(dir), "%s", c->file);
		snprintf(path, sizeof(path), "%s/%s", dirname(dir), v);
	} else {
		snprintf(path, sizeof(path), "%s", v);
	}
	snprintf(o->secret, sizeof(o->secret), "%s", path);
	f = fopen(path, "r");
	if (f == NULL)
		return c->error(c, "secret", "%s: %s", path, strerror(errno));
	n = fread(text, 1, sizeof(text), f);
	rc = ferror(f) ? -1 : 0;
	fclose(f);
	if (rc < 0 || n == sizeof(text))
		return c->error(c, "secret", "%s: %s", path, rc < 0 ? "read error" : "too large for a key file");
	rc = ovpn_static_key_parse(text, n, key, err, sizeof(err));
	memset(text, 0, sizeof(text));
	if (rc < 0)
		return c->error(c, "secret", "%s:%s", path, err + strlen("line "));
	return 0;
}

static int
set_keys(struct ovpn_tunnel *o, const struct tunnel_conf *c, const uint8_t key[OVPN_STATIC_KEY_LEN])
{
	struct aead_engine *e = ovpn_engine();
	struct ovpn_key_pair enc = ovpn_static_key_select(key, o->key_dir, 1);
	struct ovpn_key_pair dec = ovpn_static_key_select(key, o->key_dir, 0);

	o->enc = aead_key_alloc();
	o->dec = aead_key_alloc();
	if (e == NULL || o->enc == NULL || o->dec == NULL)
		return c->error(c, "secret", "cannot set up the crypto engine");
	if (aead_key_init(e, o->enc, o->algo, enc.cipher, enc.hmac, o->hmac_len) < 0 ||
	    aead_key_init(e, o->dec, o->algo, dec.cipher, dec.hmac, o->hmac_len) < 0)
		return c->error(c, "secret", "key expansion failed");
	return 0;
}

/*
 * fragment = N, as openvpn's --fragment N on the client: every packet carries
 * a fragment header, fragments are reassembled, and the tunnel MTU keeps what
 * we send whole within N bytes of UDP payload.
 */
static int
set_fragment(struct tunnel *t, struct ovpn_tunnel *o, const struct tunnel_conf *c, uint32_t n)
{
	/* HMAC and IV, then whole blocks holding packet-id, time, header, packet and >= 1 pad byte. */
	int32_t room = (int32_t)((n - o->hmac_len - OVPN_BLOCK) & ~(uint32_t)(OVPN_BLOCK - 1));
	int32_t mtu = room - OVPN_PID_LONG_LEN - OVPN_FRAG_HDR_LEN - 1;

	if (n <= (uint32_t)o->hmac_len + OVPN_BLOCK || mtu < 68)
		return c->error(c, "fragment", "%u leaves no room for a 68-byte packet", n);
	o->frag = ovpn_frag_new();
	if (o->frag == NULL)
		return c->error(c, "fragment", "out of memory");
	o->fragment = (uint16_t)n;
	t->overhead = (uint16_t)(t->overhead + OVPN_FRAG_HDR_LEN);
	t->mtu = (uint16_t)mtu;
	return 0;
}

/* peer_port = any (0): the client's port is learnt from its authenticated packets (NAT). */
static int
parse_peer_port(const struct tunnel_conf *c, uint64_t *port)
{
	const char *v = c->get(c, "peer_port");

	if (v != NULL && strcmp(v, "any") == 0) {
		*port = 0;
		return 0;
	}
	return tunnel_conf_uint(c, "peer_port", OVPN_DEFAULT_PORT, 1, 65535, port);
}

static int
ovpn_configure(struct tunnel *t, const struct tunnel_conf *c)
{
	struct ovpn_tunnel *o = calloc(1, sizeof(*o));
	uint8_t key[OVPN_STATIC_KEY_LEN];
	uint64_t port, peer_port, keepalive, fragment;
	int rc;

	if (o == NULL)
		return c->error(c, "protocol", "out of memory");
	t->priv = o;
	if (parse_algo(o, c) < 0 || parse_direction(o, c) < 0 ||
	    tunnel_conf_uint(c, "port", OVPN_DEFAULT_PORT, 1, 65535, &port) < 0 ||
	    parse_peer_port(c, &peer_port) < 0 ||
	    tunnel_conf_uint(c, "keepalive", 10, 0, 3600, &keepalive) < 0 ||
	    tunnel_conf_uint(c, "fragment", 0, 0, 65535, &fragment) < 0)
		return -1;
	o->port = rte_cpu_to_be_16((uint16_t)port);
	o->peer_port = rte_cpu_to_be_16((uint16_t)peer_port);
	o->float_port = peer_port == 0;
	o->keepalive_ticks = clock_ms_to_ticks(keepalive * 1000);
	if (load_key(o, c, key) < 0)
		return -1;
	rc = set_keys(o, c, key);
	memset(key, 0, sizeof(key));
	if (rc < 0)
		return -1;
	/* The peer tells a restart of ours by a later time: never reuse one. */
	o->tx_time = (uint32_t)time(NULL);
	/* UDP header, HMAC, IV, packet-id and time, and up to a block of padding. */
	t->overhead = (uint16_t)(sizeof(struct rte_udp_hdr) + o->hmac_len + OVPN_BLOCK +
				 OVPN_PID_LONG_LEN + OVPN_BLOCK);
	t->sequenced = true;
	return fragment != 0 ? set_fragment(t, o, c, (uint32_t)fragment) : 0;
}

static void
ovpn_key(const struct tunnel *t, struct tunnel_key *k)
{
	const struct ovpn_tunnel *o = t->priv;

	k->peer = t->peer;
	k->local = t->local;
	k->ip_proto = IPPROTO_UDP;
	/* With peer_port = any, the wildcard key (classify_wildcard): the client's port as 0. */
	k->proto_key = (uint32_t)o->port << 16 | (o->float_port ? 0 : o->peer_port);
}

static int
ovpn_classify(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t l4_off,
	      struct tunnel_key *k)
{
	const struct rte_udp_hdr *udp;

	if (rte_pktmbuf_data_len(m) < l4_off + sizeof(*udp))
		return DROP_UDP_TRUNCATED;
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, l4_off);
	k->peer = ip->src_addr;
	k->local = ip->dst_addr;
	k->ip_proto = IPPROTO_UDP;
	k->proto_key = (uint32_t)udp->dst_port << 16 | udp->src_port;
	return DROP_MAX;
}

static bool
ovpn_classify_wildcard(struct tunnel_key *k)
{
	/* proto_key is our port << 16 | the client's: a tunnel with peer_port = any has 0 there. */
	if ((k->proto_key & 0xffff) == 0)
		return false;
	k->proto_key &= 0xffff0000u;
	return true;
}

static uint16_t
ovpn_keepalive(struct tunnel *t, uint64_t now, uint8_t *payload, uint16_t room)
{
	struct ovpn_tunnel *o = t->priv;

	/* Housekeeping also gives up fragments waiting too long for the rest of their datagram. */
	if (o->frag != NULL)
		ovpn_frag_expire(o->frag, now);
	if (o->keepalive_ticks == 0 || room < OVPN_PING_LEN || o->peer_port == 0)
		return 0;
	if (!ovpn_keepalive_due(&o->ka, o->tx_pid, now, o->keepalive_ticks))
		return 0;
	__atomic_store_n(&o->pings_tx, o->pings_tx + 1, __ATOMIC_RELAXED);
	memcpy(payload, ovpn_ping_payload, OVPN_PING_LEN);
	return OVPN_PING_LEN;
}

static void
ovpn_telemetry(const struct tunnel *t, struct rte_tel_data *d)
{
	const struct ovpn_tunnel *o = t->priv;
	const char *cipher, *auth;

	algo_names(o->algo, &cipher, &auth);
	rte_tel_data_add_dict_string(d, "mode", "static-key");
	rte_tel_data_add_dict_string(d, "cipher", cipher);
	rte_tel_data_add_dict_string(d, "auth", auth);
	rte_tel_data_add_dict_string(d, "key_direction", o->key_dir == OVPN_KEY_DIR_BIDIRECTIONAL ? "none"
							 : o->key_dir == OVPN_KEY_DIR_NORMAL ? "0" : "1");
	rte_tel_data_add_dict_u64(d, "port", rte_be_to_cpu_16(o->port));
	rte_tel_data_add_dict_u64(d, "peer_port", rte_be_to_cpu_16(__atomic_load_n(&o->peer_port, __ATOMIC_RELAXED)));
	rte_tel_data_add_dict_string(d, "peer_port_mode", o->float_port ? "any" : "fixed");
	rte_tel_data_add_dict_u64(d, "tx_packet_id", __atomic_load_n(&o->tx_pid, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "peer_time", __atomic_load_n(&o->rx_time, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "peer_restarts", __atomic_load_n(&o->peer_restarts, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "keepalives_rx", __atomic_load_n(&o->pings_rx, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "keepalives_tx", __atomic_load_n(&o->pings_tx, __ATOMIC_RELAXED));
	ovpn_frag_telemetry(o->frag, o->fragment, d);
}

static void
ovpn_destroy(struct tunnel *t)
{
	struct ovpn_tunnel *o = t->priv;

	aead_key_free(o->enc);
	aead_key_free(o->dec);
	free(o->frag);
	free(o);
	t->priv = NULL;
}

const struct tunnel_ops openvpn_ops = {
	.name = "openvpn",
	.ip_proto = IPPROTO_UDP,
	.overhead = 8 + 32 + 16 + 8 + 16,
	.configure = ovpn_configure,
	.key = ovpn_key,
	.classify = ovpn_classify,
	.classify_wildcard = ovpn_classify_wildcard,
	.decap = ovpn_decap,
	.encap = ovpn_encap,
	.decap_burst = ovpn_decap_burst,
	.encap_burst = ovpn_encap_burst,
	.burst_max = OVPN_BURST_MAX,
	.keepalive = ovpn_keepalive,
	.telemetry = ovpn_telemetry,
	.destroy = ovpn_destroy,
};
