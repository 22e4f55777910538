/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The OpenVPN TLS server's control thread (server.h): one UDP socket, the
 * clients by address and port, and per client up to two key states (the
 * current one and a renegotiation), each with its reliability layer
 * (reliable.c) and its TLS session over memory BIOs. A client is:
 *
 *   hard reset (ours answers it) -> TLS handshake with certificates ->
 *   key-method 2 both ways -> PUSH_REQUEST -> tunnel + keys, PUSH_REPLY
 *
 * and later soft resets run the handshake and key exchange again under the
 * next key id, whose keys join the tunnel while the old ones still work.
 * The whole round runs under the tunnel table's lock: telemetry reads the
 * clients under it too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <rte_malloc.h>
#include <rte_telemetry.h>
#include <rte_udp.h>

#include "clock.h"
#include "control_packet.h"
#include "data_channel.h"
#include "key_method.h"
#include "log_limit.h"
#include "reliable.h"
#include "openvpn_server.h"
#include "session.h"

#define HASH_BUCKETS 4096
#define RX_PER_ROUND 256
#define TLS_CHUNK 1100                  /* TLS bytes per control packet: below any path MTU */
#define PLAIN_MAX 4096                  /* TLS plaintext waiting for a whole message */
#define SESSION_ID_BASE 2000000u        /* tunnel ids of OpenVPN clients, apart from PPTP's */

enum ks_state {
	KS_FREE,
	KS_HANDSHAKE,                   /* TLS handshake running */
	KS_KEY_EXCHANGE,                /* TLS up, waiting for the client's key-method 2 message */
	KS_ACTIVE,                      /* key-method 2 done */
};

struct ovpn_ks {
	enum ks_state state;
	uint8_t key_id;
	SSL *ssl;
	BIO *rbio, *wbio;               /* TLS records in from the client, out to it */
	struct ovpn_reliable rel;
	uint64_t started_ms;
	uint32_t plain_len;
	uint8_t plain[PLAIN_MAX];
	struct ovpn_km2_client km2;
	uint8_t srv_random[2 * OVPN_KM2_RANDOM]; /* ours in key-method 2: random1 | random2 */
};

struct ovpn_client {
	TAILQ_ENTRY(ovpn_client) next;
	struct ovpn_client *hnext;
	struct sockaddr_in sa;
	uint8_t sid[OVPN_SID_LEN], remote_sid[OVPN_SID_LEN];
	struct ovpn_ks ks[2];
	uint8_t cur;                    /* ks index of the newest key state */
	uint32_t peer_id;
	char cn[64];
	int algo;                       /* negotiated data cipher, -1 before PUSH_REPLY */
	bool ekm;                       /* keys from the TLS exporter, else the TLS 1.0 PRF (pre-2.5 clients) */
	uint32_t key_gen;               /* key sets made so far */
	bool pushed;
	bool dead;
	bool close_after_flush;         /* a refused handshake: send the TLS alert, then go */
	rte_be32_t vaddr;
	struct tunnel *t;
	struct ovpn_session *s;
	uint64_t created_ms, last_rx_tsc_seen, last_heard_ms;
	char why[96];
};

struct ovpn_server {
	const struct ovpn_server_conf *conf;
	const struct session_host *host;
	SSL_CTX *ctx;
	int fd, epfd;
	FILE *key_log;                  /* [openvpn_server] key_log, or NULL */
	TAILQ_HEAD(, ovpn_client) clients;
	unsigned nb_clients;
	struct ovpn_client *hash[HASH_BUCKETS];
	struct ovpn_client **by_peer_id;
	uint8_t *pool_used;
	uint32_t pool_size;
	uint32_t next_session_id;
	struct log_limit log;
	/* counters */
	uint64_t packets_rx, packets_tx, bad_packets, unknown_client, wrong_session, handshakes_started,
		 tls_failures, clients_up, clients_closed, refused_full, refused_cipher, renegotiations,
		 timeouts, retransmits, exits;
};

static struct ovpn_server srv = { .fd = -1, .epfd = -1 };

static void ovpn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
ovpn_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_limited_v(&srv.log, "openvpn", fmt, ap);
	va_end(ap);
}

static const char *
client_name(const struct ovpn_client *c)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%s:%u%s%s", inet_ntoa(c->sa.sin_addr), ntohs(c->sa.sin_port),
		 c->cn[0] ? " " : "", c->cn);
	return buf;
}

/* ---- clients by address ---- */

static unsigned
bucket(const struct sockaddr_in *sa)
{
	uint32_t h = sa->sin_addr.s_addr * 2654435761u ^ sa->sin_port * 40503u;

	return (h ^ h >> 16) % HASH_BUCKETS;
}

static struct ovpn_client *
client_find(const struct sockaddr_in *sa)
{
	for (struct ovpn_client *c = srv.hash[bucket(sa)]; c != NULL; c = c->hnext)
		if (c->sa.sin_addr.s_addr == sa->sin_addr.s_addr && c->sa.sin_port == sa->sin_port)
			return c;
	return NULL;
}

/* ---- addresses ---- */

/* The pool's first host is the server's (route-gateway); clients get the ones after it. */
static rte_be32_t
pool_alloc(void)
{
	const uint32_t base = rte_be_to_cpu_32(srv.conf->pool.addr);

	for (uint32_t i = 2; i + 1 < srv.pool_size; i++)
		if (!srv.pool_used[i]) {
			srv.pool_used[i] = 1;
			return rte_cpu_to_be_32(base + i);
		}
	return 0;
}

static void
pool_free(rte_be32_t a)
{
	if (a != 0 && pkt_prefix_contains(&srv.conf->pool, a))
		srv.pool_used[rte_be_to_cpu_32(a) - rte_be_to_cpu_32(srv.conf->pool.addr)] = 0;
}

static rte_be32_t
server_vaddr(void)
{
	return rte_cpu_to_be_32(rte_be_to_cpu_32(srv.conf->pool.addr) + 1);
}

/* ---- key states ---- */

static void
ks_free(struct ovpn_ks *ks)
{
	if (ks->ssl != NULL)
		SSL_free(ks->ssl); /* frees both BIOs */
	OPENSSL_cleanse(ks, sizeof(*ks));
	ks->state = KS_FREE;
}

static int
ks_start(struct ovpn_ks *ks, uint8_t key_id, uint8_t reset_opcode)
{
	ks_free(ks);
	ks->ssl = SSL_new(srv.ctx);
	ks->rbio = BIO_new(BIO_s_mem());
	ks->wbio = BIO_new(BIO_s_mem());
	if (ks->ssl == NULL || ks->rbio == NULL || ks->wbio == NULL) {
		BIO_free(ks->rbio);
		BIO_free(ks->wbio);
		ks->rbio = ks->wbio = NULL;
		ks_free(ks);
		return -1;
	}
	SSL_set_bio(ks->ssl, ks->rbio, ks->wbio);
	SSL_set_accept_state(ks->ssl);
	ovpn_rel_init(&ks->rel);
	ks->key_id = key_id;
	ks->state = KS_HANDSHAKE;
	ks->started_ms = clock_monotonic_ms();
	srv.handshakes_started++;
	/* Our own reset opens our message ids (id 0, empty), as the client's opened its. */
	return ovpn_rel_queue(&ks->rel, reset_opcode, NULL, 0, ks->started_ms) < 0 ? -1 : 0;
}

static struct ovpn_ks *
ks_by_id(struct ovpn_client *c, uint8_t key_id)
{
	for (int i = 0; i < 2; i++)
		if (c->ks[i].state != KS_FREE && c->ks[i].key_id == key_id)
			return &c->ks[i];
	return NULL;
}

/* ---- sending ---- */

static void
send_packet(struct ovpn_client *c, const uint8_t *buf, uint32_t len)
{
	if (sendto(srv.fd, buf, len, 0, (const struct sockaddr *)&c->sa, sizeof(c->sa)) == (ssize_t)len)
		srv.packets_tx++;
}

/* Control messages due now (with acks riding along), then acks left over in P_ACK_V1. */
static void
ks_flush(struct ovpn_client *c, struct ovpn_ks *ks)
{
	uint8_t buf[1600], chunk[TLS_CHUNK];
	uint64_t now = clock_monotonic_ms();
	struct ovpn_rel_out *o;
	struct ovpn_ctl_pkt p;
	uint64_t before = ks->rel.retransmits;

	/* TLS output into numbered messages, as far as the window lets. */
	while (ovpn_rel_room(&ks->rel) > 0 && BIO_ctrl_pending(ks->wbio) > 0) {
		int n = BIO_read(ks->wbio, chunk, sizeof(chunk));

		if (n <= 0 || ovpn_rel_queue(&ks->rel, OVPN_P_CONTROL_V1, chunk, (uint32_t)n, now) < 0)
			break;
	}
	while ((o = ovpn_rel_due(&ks->rel, now)) != NULL) {
		uint32_t len;

		memset(&p, 0, sizeof(p));
		p.opcode = o->opcode;
		p.key_id = ks->key_id;
		memcpy(p.sid, c->sid, OVPN_SID_LEN);
		p.nb_acks = (uint8_t)ovpn_rel_take_acks(&ks->rel, p.acks, 4);
		memcpy(p.remote_sid, c->remote_sid, OVPN_SID_LEN);
		p.has_msg_id = true;
		p.msg_id = o->msg_id;
		p.payload = o->data;
		p.payload_len = o->len;
		len = ovpn_ctl_write(buf, sizeof(buf), &p);
		if (len != 0)
			send_packet(c, buf, len);
	}
	while (ks->rel.nb_acks > 0) {
		uint32_t len;

		memset(&p, 0, sizeof(p));
		p.opcode = OVPN_P_ACK_V1;
		p.key_id = ks->key_id;
		memcpy(p.sid, c->sid, OVPN_SID_LEN);
		p.nb_acks = (uint8_t)ovpn_rel_take_acks(&ks->rel, p.acks, 4);
		memcpy(p.remote_sid, c->remote_sid, OVPN_SID_LEN);
		len = ovpn_ctl_write(buf, sizeof(buf), &p);
		if (len != 0)
			send_packet(c, buf, len);
	}
	srv.retransmits += ks->rel.retransmits - before;
}

static void
client_close(struct ovpn_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
client_close(struct ovpn_client *c, const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return;
	c->dead = true;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* A text message into the TLS channel (the NUL is part of it). */
static void
ks_send_text(struct ovpn_ks *ks, const char *msg)
{
	SSL_write(ks->ssl, msg, (int)strlen(msg) + 1);
}

/* ---- keys and the data path ---- */

/*
 * key_log: one line per data key, like SSLKEYLOGFILE: whoever reads the file
 * can decrypt the session (debugging captures, feeding benchmarks). Off by default.
 */
static void
key_log(const struct ovpn_client *c, uint8_t key_id, const uint8_t material[OVPN_KEY_MATERIAL])
{
	char a[INET_ADDRSTRLEN];

	pkt_format_ipv4(c->vaddr, a, sizeof(a));
	fprintf(srv.key_log, "peer_id=%u key_id=%u cipher=%s client=%s:%u address=%s cn=%s material=", c->peer_id,
		key_id, ovpn_cipher_name((enum aead_algo)c->algo), inet_ntoa(c->sa.sin_addr), ntohs(c->sa.sin_port),
		a, c->cn);
	for (unsigned i = 0; i < OVPN_KEY_MATERIAL; i++)
		fprintf(srv.key_log, "%02x", material[i]);
	fprintf(srv.key_log, "\n");
	fflush(srv.key_log);
}

static struct ovpn_dkey *
derive_keys(struct ovpn_client *c, struct ovpn_ks *ks)
{
	uint8_t material[OVPN_KEY_MATERIAL];
	struct ovpn_dkey *k = NULL;

	int ok = c->ekm ? SSL_export_keying_material(ks->ssl, material, sizeof(material), OVPN_EKM_LABEL,
						    strlen(OVPN_EKM_LABEL), NULL, 0, 0) == 1
			: ovpn_prf_keys(&ks->km2, ks->srv_random, ks->srv_random + OVPN_KM2_RANDOM, c->remote_sid,
					c->sid, material) == 0;

	if (ok)
		k = ovpn_dkey_new((enum aead_algo)c->algo, ks->key_id, ++c->key_gen, material, true);
	if (k != NULL && srv.key_log != NULL)
		key_log(c, ks->key_id, material);
	OPENSSL_cleanse(material, sizeof(material));
	return k;
}

/*
 * A renegotiation's keys into the tunnel, in the slot the owner does not
 * send with; the set there goes after a grace period. The owner moves to
 * the new keys when the client uses them.
 */
static void
install_keys(struct ovpn_client *c, struct ovpn_dkey *k)
{
	struct ovpn_session *s = c->s;
	uint8_t slot = __atomic_load_n(&s->tx_slot, __ATOMIC_ACQUIRE) ^ 1;
	struct ovpn_dkey *old = s->keys[slot];

	__atomic_store_n(&s->keys[slot], k, __ATOMIC_RELEASE);
	__atomic_store_n(&s->key_started_ms, clock_monotonic_ms(), __ATOMIC_RELAXED);
	if (old != NULL) {
		srv.host->sync();
		ovpn_dkey_free(old);
	}
}

static struct tunnel *
session_new(struct ovpn_client *c, struct ovpn_dkey *k)
{
	struct tunnel *t = rte_zmalloc("ovpn_session", sizeof(*t) + sizeof(struct ovpn_session),
				       RTE_CACHE_LINE_SIZE);
	struct ovpn_session *s;

	if (t == NULL)
		return NULL;
	s = (struct ovpn_session *)(t + 1);
	ovpn_session_init(t, s, c->peer_id, rte_cpu_to_be_16(srv.conf->port), c->sa.sin_port, k);
	t->id = SESSION_ID_BASE + srv.next_session_id++;
	t->local = srv.host->local;
	t->peer = c->sa.sin_addr.s_addr;
	tunnel_from_template(t, &srv.conf->template);
	t->mtu = srv.conf->mtu;
	t->overhead = openvpn_tls_ops.overhead;
	snprintf(t->name, sizeof(t->name), "ovpn-%u", c->peer_id);
	s->keepalive_ticks = clock_ms_to_ticks((uint64_t)srv.conf->keepalive_s * 1000);
	s->last_rx_tsc = clock_now();
	snprintf(s->common_name, sizeof(s->common_name), "%s", c->cn);
	snprintf(s->cipher, sizeof(s->cipher), "%s", ovpn_cipher_name((enum aead_algo)c->algo));
	s->key_derivation = c->ekm ? "tls-ekm" : "prf";
	s->vaddr = c->vaddr;
	s->key_started_ms = clock_monotonic_ms();
	if (srv.conf->fragment != 0) {
		/* Every packet then carries a fragment header; the MTU keeps what we send whole within N. */
		s->frag = ovpn_frag_new();
		if (s->frag == NULL) {
			rte_free(t);
			return NULL;
		}
		s->fragment = srv.conf->fragment;
		t->overhead = (uint16_t)(t->overhead + OVPN_FRAG_HDR_LEN);
		t->mtu = (uint16_t)RTE_MIN(t->mtu, srv.conf->fragment - OVPN_AEAD_HDR - OVPN_FRAG_HDR_LEN);
	}
	return t;
}

static void
append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
append(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

static void
ipv4_str(rte_be32_t a, char *buf)
{
	pkt_format_ipv4(a, buf, INET_ADDRSTRLEN);
}

static rte_be32_t
mask_of(uint8_t depth)
{
	return rte_cpu_to_be_32(depth == 0 ? 0 : ~0u << (32 - depth));
}

/* The first PUSH_REQUEST: cipher, address, tunnel and keys, then PUSH_REPLY. */
static void
push_reply(struct ovpn_client *c, struct ovpn_ks *ks)
{
	const struct ovpn_server_conf *conf = srv.conf;
	char reply[1024], a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN], v[16];
	struct ovpn_dkey *k;
	uint32_t proto;
	struct tunnel *t;
	int rc;

	c->algo = ovpn_cipher_choose(conf->ciphers, conf->nb_ciphers, ks->km2.peer_info);
	if (c->algo < 0) {
		srv.refused_cipher++;
		ks_send_text(ks, "AUTH_FAILED,no common data cipher (IV_CIPHERS)");
		client_close(c, "no common data cipher");
		return;
	}
	proto = ovpn_peer_info_get(ks->km2.peer_info, "IV_PROTO", v, sizeof(v)) ? (uint32_t)atoi(v) : 0;
	if (!(proto & OVPN_IV_PROTO_DATA_V2)) {
		srv.refused_cipher++;
		ks_send_text(ks, "AUTH_FAILED,client lacks DATA_V2 (peer-id): openvpn 2.4 or later needed");
		client_close(c, "client without DATA_V2");
		return;
	}
	c->ekm = conf->tls_ekm && (proto & OVPN_IV_PROTO_TLS_KEY_EXPORT);
	c->vaddr = pool_alloc();
	k = c->vaddr != 0 ? derive_keys(c, ks) : NULL;
	t = k != NULL ? session_new(c, k) : NULL;
	if (t == NULL) {
		ovpn_dkey_free(k);
		ks_send_text(ks, "AUTH_FAILED,server out of addresses or memory");
		client_close(c, c->vaddr == 0 ? "address pool exhausted" : "out of memory");
		return;
	}
	rc = srv.host->session_add(t);
	if (rc < 0) {
		t->ops->destroy(t);
		rte_free(t);
		ks_send_text(ks, "AUTH_FAILED,server cannot add the session");
		client_close(c, "session_add failed (%d)", rc);
		return;
	}
	c->t = t;
	c->s = t->priv;
	rc = srv.host->route_add(t, c->vaddr);
	if (rc < 0) {
		ks_send_text(ks, "AUTH_FAILED,server cannot route the address");
		client_close(c, "route_add failed (%d)", rc);
		return; /* the tunnel is in the table: the reaper takes it out */
	}
	ipv4_str(server_vaddr(), a);
	snprintf(reply, sizeof(reply), "PUSH_REPLY,route-gateway %s,topology subnet,ping %u,ping-restart %u", a,
		 conf->keepalive_s, conf->ping_restart_s);
	ipv4_str(c->vaddr, a);
	ipv4_str(mask_of(conf->pool.depth), m);
	append(reply, sizeof(reply), ",ifconfig %s %s", a, m);
	for (unsigned i = 0; i < conf->nb_push_routes; i++) {
		ipv4_str(conf->push_routes[i].addr, a);
		ipv4_str(mask_of(conf->push_routes[i].depth), m);
		append(reply, sizeof(reply), ",route %s %s", a, m);
	}
	for (unsigned i = 0; i < 2 && conf->dns[i] != 0; i++) {
		ipv4_str(conf->dns[i], a);
		append(reply, sizeof(reply), ",dhcp-option DNS %s", a);
	}
	append(reply, sizeof(reply), ",peer-id %u,cipher %s", c->peer_id, ovpn_cipher_name((enum aead_algo)c->algo));
	/* As openvpn's own server: protocol-flags only to clients that know it (2.6 sets CC_EXIT_NOTIFY). */
	if (proto & OVPN_IV_PROTO_CC_EXIT_NOTIFY)
		append(reply, sizeof(reply), ",protocol-flags cc-exit%s", c->ekm ? " tls-ekm" : "");
	else if (c->ekm)
		append(reply, sizeof(reply), ",key-derivation tls-ekm");
	append(reply, sizeof(reply), ",tun-mtu %u", conf->mtu);
	ks_send_text(ks, reply);
	c->pushed = true;
	srv.clients_up++;
	ipv4_str(c->vaddr, a);
	ovpn_log("%s: up, address %s, peer-id %u, cipher %s, keys from %s, session %u", client_name(c), a,
		 c->peer_id, ovpn_cipher_name((enum aead_algo)c->algo), c->ekm ? "tls-ekm" : "prf", t->id);
}

/* The client's key-method 2 message arrived: answer with ours; a renegotiation's keys go in now. */
static void
key_exchange(struct ovpn_client *c, struct ovpn_ks *ks)
{
	uint8_t msg[4 + 1 + 2 * OVPN_KM2_RANDOM + 2 + OVPN_OPTIONS_MAX + 6];
	char options[OVPN_OPTIONS_MAX];
	char *role = strstr(ks->km2.options, ",tls-client");
	struct ovpn_dkey *k;
	uint32_t len;

	/* Our options string is the one the client expects from its server (only ever compared for warnings). */
	if (role != NULL && strlen(ks->km2.options) + 1 < sizeof(options)) {
		snprintf(options, sizeof(options), "%.*s,tls-server%s", (int)(role - ks->km2.options), ks->km2.options,
			 role + strlen(",tls-client"));
	} else {
		snprintf(options, sizeof(options), "V4,dev-type tun,tls-server");
	}
	if (RAND_bytes(ks->srv_random, sizeof(ks->srv_random)) != 1) {
		client_close(c, "no random bytes");
		return;
	}
	len = ovpn_km2_server_write(msg, sizeof(msg), ks->srv_random, ks->srv_random + OVPN_KM2_RANDOM, options);
	if (len == 0 || SSL_write(ks->ssl, msg, (int)len) != (int)len) {
		client_close(c, "cannot write the key exchange");
		return;
	}
	ks->state = KS_ACTIVE;
	if (!c->pushed) {
		char proto[16];

		/* A 2.6 client (IV_PROTO REQUEST_PUSH) waits for the push instead of asking at once. */
		if (ovpn_peer_info_get(ks->km2.peer_info, "IV_PROTO", proto, sizeof(proto)) &&
		    ((uint32_t)atoi(proto) & OVPN_IV_PROTO_REQUEST_PUSH))
			push_reply(c, ks);
		return;
	}
	k = derive_keys(c, ks);
	if (k == NULL) {
		client_close(c, "renegotiation: key derivation failed");
		return;
	}
	install_keys(c, k);
	__atomic_store_n(&c->s->renegotiations, c->s->renegotiations + 1, __ATOMIC_RELAXED);
	srv.renegotiations++;
	ovpn_log("%s: new keys, key id %u", client_name(c), ks->key_id);
}

static void
text_message(struct ovpn_client *c, struct ovpn_ks *ks, const char *msg)
{
	if (strcmp(msg, "PUSH_REQUEST") == 0) {
		if (!c->pushed && ks == &c->ks[c->cur])
			push_reply(c, ks);
		return;
	}
	if (strcmp(msg, "EXIT") == 0) {
		srv.exits++;
		client_close(c, "client exited");
		return;
	}
	ovpn_log("%s: control message ignored: '%.40s'", client_name(c), msg);
}

static bool
tls_verified(struct ovpn_client *c, struct ovpn_ks *ks)
{
	X509 *cert = SSL_get1_peer_certificate(ks->ssl);
	long v = SSL_get_verify_result(ks->ssl);
	char cn[sizeof(c->cn)] = "";

	if (cert == NULL || v != X509_V_OK) {
		X509_free(cert);
		client_close(c, "certificate refused: %s", cert == NULL ? "none" : X509_verify_cert_error_string(v));
		return false;
	}
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	X509_free(cert);
	if (c->cn[0] != '\0' && strcmp(c->cn, cn) != 0) {
		client_close(c, "renegotiation with another certificate (%s)", cn);
		return false;
	}
	snprintf(c->cn, sizeof(c->cn), "%s", cn);
	return true;
}

/* TLS records arrived for ks: handshake, then the key exchange, then text messages. */
static void
ks_progress(struct ovpn_client *c, struct ovpn_ks *ks)
{
	uint32_t off = 0;
	int n;

	if (ks->state == KS_HANDSHAKE) {
		int rc = SSL_do_handshake(ks->ssl);

		if (rc != 1) {
			int e = SSL_get_error(ks->ssl, rc);
			unsigned long err;

			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return;
			err = ERR_peek_error();
			srv.tls_failures++;
			/* The alert OpenSSL wrote goes out first, like openvpn's own refusal. */
			c->close_after_flush = true;
			snprintf(c->why, sizeof(c->why), "TLS handshake failed: %s%s%s",
				 err != 0 && ERR_reason_error_string(err) ? ERR_reason_error_string(err) : "?",
				 SSL_get_verify_result(ks->ssl) != X509_V_OK ? ": " : "",
				 SSL_get_verify_result(ks->ssl) != X509_V_OK
				 ? X509_verify_cert_error_string(SSL_get_verify_result(ks->ssl)) : "");
			ERR_clear_error();
			return;
		}
		if (!tls_verified(c, ks))
			return;
		ks->state = KS_KEY_EXCHANGE;
	}
	while (ks->plain_len < sizeof(ks->plain) &&
	       (n = SSL_read(ks->ssl, ks->plain + ks->plain_len, (int)(sizeof(ks->plain) - ks->plain_len))) > 0)
		ks->plain_len += (uint32_t)n;
	ERR_clear_error();
	if (ks->state == KS_KEY_EXCHANGE) {
		int rc = ovpn_km2_client_parse(ks->plain, ks->plain_len, &ks->km2);

		if (rc < 0 || (rc == 0 && ks->plain_len == sizeof(ks->plain))) {
			client_close(c, "malformed key-method 2 message");
			return;
		}
		if (rc == 0)
			return;
		off = (uint32_t)rc;
		key_exchange(c, ks);
		if (c->dead)
			return;
	}
	/* Text messages, each ending in NUL. */
	for (;;) {
		uint8_t *end = memchr(ks->plain + off, '\0', ks->plain_len - off);

		if (end == NULL)
			break;
		text_message(c, ks, (const char *)ks->plain + off);
		off = (uint32_t)(end - ks->plain) + 1;
		if (c->dead)
			return;
	}
	if (off == 0 && ks->plain_len == sizeof(ks->plain)) {
		client_close(c, "control message too long");
		return;
	}
	memmove(ks->plain, ks->plain + off, ks->plain_len - off);
	ks->plain_len -= off;
}

/* ---- receiving ---- */

static struct ovpn_client *
client_new(const struct sockaddr_in *sa, const struct ovpn_ctl_pkt *p)
{
	struct ovpn_client *c;
	uint32_t id;

	if (srv.nb_clients >= srv.conf->max_clients) {
		srv.refused_full++;
		ovpn_log("%s:%u: refused, %u clients already", inet_ntoa(sa->sin_addr), ntohs(sa->sin_port),
			 srv.nb_clients);
		return NULL;
	}
	for (id = 0; id < srv.conf->max_clients && srv.by_peer_id[id] != NULL; id++)
		;
	c = calloc(1, sizeof(*c));
	if (c == NULL || id == srv.conf->max_clients)
		goto fail;
	c->sa = *sa;
	c->peer_id = id;
	c->algo = -1;
	c->created_ms = c->last_heard_ms = clock_monotonic_ms();
	memcpy(c->remote_sid, p->sid, OVPN_SID_LEN);
	if (RAND_bytes(c->sid, OVPN_SID_LEN) != 1 ||
	    ks_start(&c->ks[0], 0, OVPN_P_CONTROL_HARD_RESET_SERVER_V2) < 0)
		goto fail;
	srv.by_peer_id[id] = c;
	c->hnext = srv.hash[bucket(sa)];
	srv.hash[bucket(sa)] = c;
	TAILQ_INSERT_TAIL(&srv.clients, c, next);
	srv.nb_clients++;
	return c;
fail:
	if (c != NULL)
		ks_free(&c->ks[0]);
	free(c);
	return NULL;
}

static void
client_free(struct ovpn_client *c)
{
	struct ovpn_client **pp = &srv.hash[bucket(&c->sa)];

	ovpn_log("%s: closed: %s", client_name(c), c->why);
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	TAILQ_REMOVE(&srv.clients, c, next);
	srv.nb_clients--;
	srv.clients_closed++;
	srv.by_peer_id[c->peer_id] = NULL;
	pool_free(c->vaddr);
	for (int i = 0; i < 2; i++)
		ks_free(&c->ks[i]);
	if (c->t != NULL) {
		c->t->ops->destroy(c->t);
		rte_free(c->t);
	}
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* Dead clients leave together: one table removal (one grace period) for the batch. */
static void
clients_reap(void)
{
	struct ovpn_client *c, *tmp, *dead[256];
	struct tunnel *ts[256];
	unsigned n, nt;

	do {
		n = nt = 0;
		TAILQ_FOREACH(c, &srv.clients, next)
			if (c->dead && n < RTE_DIM(dead)) {
				dead[n++] = c;
				if (c->t != NULL)
					ts[nt++] = c->t;
			}
		if (nt != 0)
			srv.host->sessions_remove(ts, nt);
		for (unsigned i = 0; i < n; i++)
			client_free(dead[i]);
	} while (n == RTE_DIM(dead));
	(void)tmp;
}

static void
datagram(const struct sockaddr_in *sa, const uint8_t *buf, uint32_t len)
{
	struct ovpn_client *c = client_find(sa);
	struct ovpn_ctl_pkt p;
	struct ovpn_ks *ks;
	enum ovpn_ctl_error e = ovpn_ctl_parse(buf, len, &p);
	uint8_t op, data[OVPN_CTL_PAYLOAD_MAX];
	uint16_t dlen;

	srv.packets_rx++;
	if (e != OVPN_CTL_OK) {
		srv.bad_packets++;
		ovpn_log("%s:%u: bad control packet: %s", inet_ntoa(sa->sin_addr), ntohs(sa->sin_port),
			 ovpn_ctl_strerror(e));
		return;
	}
	if (p.opcode == OVPN_P_CONTROL_HARD_RESET_CLIENT_V2) {
		/* The same client restarted (new session id): the old one goes first. */
		if (c != NULL && memcmp(c->remote_sid, p.sid, OVPN_SID_LEN) != 0 && !c->dead) {
			client_close(c, "client restarted");
			clients_reap();
			c = NULL;
		}
		if (c == NULL) {
			if (p.msg_id != 0 || p.key_id != 0) {
				srv.bad_packets++;
				return;
			}
			c = client_new(sa, &p);
			if (c == NULL)
				return;
		}
	}
	if (c == NULL || c->dead || c->close_after_flush) {
		/* (A refused handshake's client only waits for its alert to go out.) */
		srv.unknown_client++;
		return;
	}
	if (memcmp(c->remote_sid, p.sid, OVPN_SID_LEN) != 0 ||
	    (p.nb_acks != 0 && memcmp(p.remote_sid, c->sid, OVPN_SID_LEN) != 0)) {
		srv.wrong_session++;
		return;
	}
	c->last_heard_ms = clock_monotonic_ms();
	ks = ks_by_id(c, p.key_id);
	if (ks == NULL && p.opcode == OVPN_P_CONTROL_SOFT_RESET_V1 && c->pushed && p.msg_id == 0) {
		/* A renegotiation: the other slot (the previous key's control state) starts over. */
		uint8_t slot = c->cur ^ 1;

		if (ks_start(&c->ks[slot], p.key_id, OVPN_P_CONTROL_SOFT_RESET_V1) < 0) {
			client_close(c, "out of memory for a renegotiation");
			return;
		}
		c->cur = slot;
		ks = &c->ks[slot];
	}
	if (ks == NULL) {
		srv.bad_packets++;
		return;
	}
	for (unsigned i = 0; i < p.nb_acks; i++)
		ovpn_rel_acked(&ks->rel, p.acks[i]);
	if (!p.has_msg_id)
		return;
	ovpn_rel_input(&ks->rel, p.msg_id, p.opcode, p.payload, p.payload_len);
	while (ovpn_rel_take(&ks->rel, &op, data, &dlen)) {
		if (op != OVPN_P_CONTROL_V1)
			continue; /* the reset that opened this key state */
		if (dlen != 0 && BIO_write(ks->rbio, data, dlen) != dlen) {
			client_close(c, "TLS input buffer");
			return;
		}
		ks_progress(c, ks);
		if (c->dead || c->close_after_flush)
			return;
	}
}

/* ---- timers ---- */

static void
client_timers(struct ovpn_client *c, uint64_t now)
{
	const struct ovpn_server_conf *conf = srv.conf;

	for (int i = 0; i < 2; i++) {
		struct ovpn_ks *ks = &c->ks[i];

		if (ks->state != KS_FREE && ks->state != KS_ACTIVE &&
		    now - ks->started_ms > (uint64_t)conf->hand_window_s * 1000) {
			srv.timeouts++;
			client_close(c, "key exchange not done within %u s (hand_window)", conf->hand_window_s);
			return;
		}
	}
	if (c->s != NULL) {
		/* The data path notes the time of every authentic packet; silence means the client is gone. */
		uint64_t seen = __atomic_load_n(&c->s->last_rx_tsc, __ATOMIC_RELAXED);

		if (seen != c->last_rx_tsc_seen) {
			c->last_rx_tsc_seen = seen;
			c->last_heard_ms = now;
		}
	}
	if (now - c->last_heard_ms > (uint64_t)conf->ping_restart_s * 1000) {
		srv.timeouts++;
		client_close(c, "silent for %u s (ping_restart)", conf->ping_restart_s);
	}
}

/* ---- the thread's entry points ---- */

static int
ctx_init(const struct ovpn_server_conf *conf)
{
	X509_STORE *store;

	srv.ctx = SSL_CTX_new(TLS_server_method());
	if (srv.ctx == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(srv.ctx, TLS1_2_VERSION);
	/* Each key state is a full handshake, as openvpn does: no session resumption. */
	SSL_CTX_set_session_cache_mode(srv.ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(srv.ctx, SSL_OP_NO_TICKET);
	if (SSL_CTX_use_certificate_chain_file(srv.ctx, conf->cert) != 1) {
		fprintf(stderr, "dpvpn: [openvpn_server] cert: cannot use '%s'\n", conf->cert);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(srv.ctx, conf->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(srv.ctx) != 1) {
		fprintf(stderr, "dpvpn: [openvpn_server] key: cannot use '%s' with the certificate\n", conf->key);
		return -1;
	}
	if (SSL_CTX_load_verify_locations(srv.ctx, conf->ca, NULL) != 1) {
		fprintf(stderr, "dpvpn: [openvpn_server] ca: cannot use '%s'\n", conf->ca);
		return -1;
	}
	SSL_CTX_set_verify(srv.ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (conf->crl[0] != '\0') {
		store = SSL_CTX_get_cert_store(srv.ctx);
		if (X509_STORE_load_file(store, conf->crl) != 1) {
			fprintf(stderr, "dpvpn: [openvpn_server] crl: cannot use '%s'\n", conf->crl);
			return -1;
		}
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	ERR_clear_error();
	return 0;
}

int
ovpn_server_init(const struct ovpn_server_conf *conf, const struct session_host *host)
{
	/* Bound to the outside address: replies leave from the address clients sent to. */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(conf->port),
				  .sin_addr.s_addr = host->local };
	struct epoll_event ev = { .events = EPOLLIN };

	srv.conf = conf;
	srv.host = host;
	TAILQ_INIT(&srv.clients);
	if (ctx_init(conf) < 0)
		return -1;
	srv.pool_size = 1u << (32 - conf->pool.depth);
	srv.pool_used = calloc(srv.pool_size, 1);
	srv.by_peer_id = calloc(conf->max_clients, sizeof(*srv.by_peer_id));
	if (srv.pool_used == NULL || srv.by_peer_id == NULL)
		return -1;
	srv.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "dpvpn: [openvpn_server] port: cannot bind UDP %u: %s\n", conf->port,
			strerror(errno));
		return -1;
	}
	if (conf->key_log[0] != '\0') {
		int kfd = open(conf->key_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		srv.key_log = kfd >= 0 ? fdopen(kfd, "a") : NULL;
		if (srv.key_log == NULL) {
			fprintf(stderr, "dpvpn: [openvpn_server] key_log: cannot open '%s': %s\n", conf->key_log,
				strerror(errno));
			return -1;
		}
		ovpn_log("WARNING: data keys are written to %s (key_log)", conf->key_log);
	}
	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = srv.fd;
	if (srv.epfd < 0 || epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.fd, &ev) < 0)
		return -1;
	ovpn_log("server on UDP %u, pool %s/%u, %u clients at most", conf->port,
		 inet_ntoa((struct in_addr){ conf->pool.addr }), conf->pool.depth, conf->max_clients);
	return 0;
}

void
ovpn_server_poll(int timeout_ms)
{
	struct epoll_event ev;
	uint8_t buf[2048];
	struct ovpn_client *c;
	uint64_t now;

	if (srv.fd < 0)
		return;
	(void)epoll_wait(srv.epfd, &ev, 1, timeout_ms);
	pthread_mutex_lock(srv.host->lock);
	for (unsigned i = 0; i < RX_PER_ROUND; i++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		ssize_t n = recvfrom(srv.fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa, &sl);

		if (n < 0)
			break;
		datagram(&sa, buf, (uint32_t)n);
	}
	now = clock_monotonic_ms();
	TAILQ_FOREACH(c, &srv.clients, next) {
		if (!c->dead)
			client_timers(c, now);
		if (c->dead)
			continue;
		for (int i = 0; i < 2; i++)
			if (c->ks[i].state != KS_FREE)
				ks_flush(c, &c->ks[i]);
		if (c->close_after_flush)
			c->dead = true; /* why was set with the flag */
	}
	clients_reap();
	pthread_mutex_unlock(srv.host->lock);
}

void
ovpn_server_fini(void)
{
	struct ovpn_client *c;

	if (srv.host != NULL && srv.fd >= 0) {
		pthread_mutex_lock(srv.host->lock);
		TAILQ_FOREACH(c, &srv.clients, next)
			client_close(c, "server stopping");
		clients_reap();
		pthread_mutex_unlock(srv.host->lock);
	}
	if (srv.fd >= 0)
		close(srv.fd);
	if (srv.epfd >= 0)
		close(srv.epfd);
	srv.fd = srv.epfd = -1;
	SSL_CTX_free(srv.ctx);
	srv.ctx = NULL;
	if (srv.key_log != NULL)
		fclose(srv.key_log);
	srv.key_log = NULL;
	free(srv.pool_used);
	free(srv.by_peer_id);
	srv.pool_used = NULL;
	srv.by_peer_id = NULL;
}

/* ---- telemetry (the caller holds the table lock) ---- */

void
ovpn_server_telemetry(struct rte_tel_data *d)
{
	if (srv.host == NULL)
		return;
	rte_tel_data_add_dict_u64(d, "port", srv.conf->port);
	rte_tel_data_add_dict_u64(d, "clients", srv.nb_clients);
	rte_tel_data_add_dict_u64(d, "max_clients", srv.conf->max_clients);
	rte_tel_data_add_dict_u64(d, "packets_rx", srv.packets_rx);
	rte_tel_data_add_dict_u64(d, "packets_tx", srv.packets_tx);
	rte_tel_data_add_dict_u64(d, "bad_packets", srv.bad_packets);
	rte_tel_data_add_dict_u64(d, "unknown_client", srv.unknown_client);
	rte_tel_data_add_dict_u64(d, "wrong_session_id", srv.wrong_session);
	rte_tel_data_add_dict_u64(d, "handshakes", srv.handshakes_started);
	rte_tel_data_add_dict_u64(d, "tls_failures", srv.tls_failures);
	rte_tel_data_add_dict_u64(d, "clients_up", srv.clients_up);
	rte_tel_data_add_dict_u64(d, "clients_closed", srv.clients_closed);
	rte_tel_data_add_dict_u64(d, "refused_full", srv.refused_full);
	rte_tel_data_add_dict_u64(d, "refused_cipher", srv.refused_cipher);
	rte_tel_data_add_dict_u64(d, "renegotiations", srv.renegotiations);
	rte_tel_data_add_dict_u64(d, "timeouts", srv.timeouts);
	rte_tel_data_add_dict_u64(d, "retransmits", srv.retransmits);
	rte_tel_data_add_dict_u64(d, "exits", srv.exits);
}

void
ovpn_server_sessions(struct rte_tel_data *d)
{
	struct ovpn_client *c;
	char a[INET_ADDRSTRLEN];

	unsigned n = 0;

	if (srv.host == NULL)
		return;
	rte_tel_data_add_dict_u64(d, "openvpn_count", srv.nb_clients);
	TAILQ_FOREACH(c, &srv.clients, next) {
		struct rte_tel_data *e;
		char key[32];

		/* A bounded reply, like PPTP's: the 64 oldest; /dpvpn/session,ID for any. */
		if (n++ >= 64 || (e = rte_tel_data_alloc()) == NULL)
			break;
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_string(e, "protocol", "openvpn");
		rte_tel_data_add_dict_string(e, "common_name", c->cn);
		rte_tel_data_add_dict_string(e, "peer", inet_ntoa(c->sa.sin_addr));
		rte_tel_data_add_dict_u64(e, "peer_port", ntohs(c->sa.sin_port));
		ipv4_str(c->vaddr, a);
		rte_tel_data_add_dict_string(e, "address", a);
		rte_tel_data_add_dict_string(e, "cipher", c->algo >= 0 ? ovpn_cipher_name((enum aead_algo)c->algo) : "-");
		rte_tel_data_add_dict_string(e, "key_derivation", c->algo < 0 ? "-" : c->ekm ? "tls-ekm" : "prf");
		rte_tel_data_add_dict_u64(e, "peer_id", c->peer_id);
		rte_tel_data_add_dict_u64(e, "tunnel", c->t != NULL ? c->t->id : 0);
		rte_tel_data_add_dict_u64(e, "key_id", c->ks[c->cur].key_id);
		rte_tel_data_add_dict_string(e, "state", c->pushed ? "up" : "negotiating");
		rte_tel_data_add_dict_u64(e, "age_s", (clock_monotonic_ms() - c->created_ms) / 1000);
		snprintf(key, sizeof(key), "ovpn_%u", c->peer_id); /* telemetry names take no '-' */
		if (rte_tel_data_add_dict_container(d, key, e, 0) != 0)
			rte_tel_data_free(e);
	}
}
