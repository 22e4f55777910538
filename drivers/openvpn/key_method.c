/* SPDX-License-Identifier: BSD-3-Clause */
/* OpenVPN key-method 2 messages, peer-info and cipher negotiation (key_method.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "data_channel.h"
#include "key_method.h"

/* A string field at *off: copied (NUL-terminated) into out; 1 done, 0 short, -1 malformed. */
static int
read_string(const uint8_t *buf, uint32_t len, uint32_t *off, char *out, uint32_t size)
{
	uint32_t n;

	if (*off + 2 > len)
		return 0;
	n = (uint32_t)buf[*off] << 8 | buf[*off + 1];
	if (*off + 2 + n > len)
		return 0;
	if (n == 0) {
		out[0] = '\0';
	} else {
		/* The length counts a final NUL, and nothing else may hold one. */
		if (n > size || buf[*off + 2 + n - 1] != '\0' || memchr(buf + *off + 2, '\0', n - 1) != NULL)
			return -1;
		memcpy(out, buf + *off + 2, n);
	}
	*off += 2 + n;
	return 1;
}

static uint32_t
write_string(uint8_t *out, uint32_t room, const char *s)
{
	uint32_t n = s[0] != '\0' ? (uint32_t)strlen(s) + 1 : 0;

	if (2 + n > room)
		return 0;
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	memcpy(out + 2, s, n);
	return 2 + n;
}

int
ovpn_km2_client_parse(const uint8_t *buf, uint32_t len, struct ovpn_km2_client *c)
{
	const uint32_t fixed = 4 + 1 + OVPN_KM2_PRE_MASTER + 2 * OVPN_KM2_RANDOM;
	char password[256];
	uint32_t off = fixed;
	int rc;

	memset(c, 0, sizeof(*c));
	if (len >= 5 && (ovpn_get_be32(buf) != 0 || buf[4] != 2))
		return -1; /* key-method 1, or not a key exchange at all */
	if (len < fixed)
		return 0;
	memcpy(c->pre_master, buf + 5, OVPN_KM2_PRE_MASTER);
	memcpy(c->random1, buf + 5 + OVPN_KM2_PRE_MASTER, OVPN_KM2_RANDOM);
	memcpy(c->random2, buf + 5 + OVPN_KM2_PRE_MASTER + OVPN_KM2_RANDOM, OVPN_KM2_RANDOM);
	rc = read_string(buf, len, &off, c->options, sizeof(c->options));
	if (rc <= 0)
		return rc;
	/* Username, password and peer-info are optional at the end: a 2.x client sends them together. */
	if (off == len)
		return (int)off;
	rc = read_string(buf, len, &off, c->username, sizeof(c->username));
	if (rc > 0)
		rc = read_string(buf, len, &off, password, sizeof(password));
	memset(password, 0, sizeof(password)); /* no auth-user-pass here: never kept */
	if (rc > 0 && off < len)
		rc = read_string(buf, len, &off, c->peer_info, sizeof(c->peer_info));
	return rc <= 0 ? rc : (int)off;
}

uint32_t
ovpn_km2_server_write(uint8_t *out, uint32_t room, const uint8_t random1[OVPN_KM2_RANDOM],
		      const uint8_t random2[OVPN_KM2_RANDOM], const char *options)
{
	uint32_t off = 5 + 2 * OVPN_KM2_RANDOM, n;

	if (room < off)
		return 0;
	ovpn_put_be32(out, 0);
	out[4] = 2;
	memcpy(out + 5, random1, OVPN_KM2_RANDOM);
	memcpy(out + 5 + OVPN_KM2_RANDOM, random2, OVPN_KM2_RANDOM);
	n = write_string(out + off, room - off, options);
	if (n == 0)
		return 0;
	off += n;
	/* Username, password and peer-info: empty from a server, as openvpn's own. */
	for (int i = 0; i < 3; i++) {
		n = write_string(out + off, room - off, "");
		if (n == 0)
			return 0;
		off += n;
	}
	return off;
}

/* TLS 1.0's PRF (P_MD5 xor P_SHA1 over split halves of the secret), through OpenSSL's KDF. */
static int
tls1_prf(const uint8_t *secret, size_t secret_len, const uint8_t *seed, size_t seed_len, uint8_t *out,
	 size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"MD5-SHA1", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)(uintptr_t)secret, secret_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)(uintptr_t)seed, seed_len),
		OSSL_PARAM_construct_end(),
	};
	int rc = ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1 ? 0 : -1;

	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
ovpn_prf_keys(const struct ovpn_km2_client *c, const uint8_t srv_random1[OVPN_KM2_RANDOM],
	      const uint8_t srv_random2[OVPN_KM2_RANDOM], const uint8_t client_sid[8], const uint8_t server_sid[8],
	      uint8_t out[OVPN_KEY_MATERIAL])
{
	static const char master_label[] = "OpenVPN master secret", key_label[] = "OpenVPN key expansion";
	uint8_t seed[sizeof(key_label) - 1 + 2 * OVPN_KM2_RANDOM + 16], master[48];
	size_t n;
	int rc;

	/* The label is the seed's start (TLS 1.0: PRF(secret, label, seed) hashes label | seed). */
	n = sizeof(master_label) - 1;
	memcpy(seed, master_label, n);
	memcpy(seed + n, c->random1, OVPN_KM2_RANDOM);
	memcpy(seed + n + OVPN_KM2_RANDOM, srv_random1, OVPN_KM2_RANDOM);
	rc = tls1_prf(c->pre_master, sizeof(c->pre_master), seed, n + 2 * OVPN_KM2_RANDOM, master, sizeof(master));
	n = sizeof(key_label) - 1;
	memcpy(seed, key_label, n);
	memcpy(seed + n, c->random2, OVPN_KM2_RANDOM);
	memcpy(seed + n + OVPN_KM2_RANDOM, srv_random2, OVPN_KM2_RANDOM);
	memcpy(seed + n + 2 * OVPN_KM2_RANDOM, client_sid, 8);
	memcpy(seed + n + 2 * OVPN_KM2_RANDOM + 8, server_sid, 8);
	if (rc == 0)
		rc = tls1_prf(master, sizeof(master), seed, sizeof(seed), out, OVPN_KEY_MATERIAL);
	OPENSSL_cleanse(master, sizeof(master));
	return rc;
}

bool
ovpn_peer_info_get(const char *peer_info, const char *name, char *out, unsigned size)
{
	size_t nl = strlen(name);

	for (const char *p = peer_info; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '\n');
		size_t ll = end != NULL ? (size_t)(end - p) : strlen(p);

		if (ll > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = ll - nl - 1;

			if (vl >= size)
				vl = size - 1;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return true;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

static const struct {
	const char *name;
	enum aead_algo algo;
} ciphers[] = {
	{ "AES-256-GCM", AEAD_AES256_GCM },
	{ "AES-128-GCM", AEAD_AES128_GCM },
	{ "CHACHA20-POLY1305", AEAD_CHACHA20_POLY1305 },
};

const char *
ovpn_cipher_name(enum aead_algo a)
{
	for (unsigned i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (ciphers[i].algo == a)
			return ciphers[i].name;
	return NULL;
}

int
ovpn_cipher_parse(const char *name)
{
	for (unsigned i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (strcasecmp(ciphers[i].name, name) == 0)
			return (int)ciphers[i].algo;
	return -1;
}

/* Is name in the colon-separated list? */
static bool
list_has(const char *list, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ':');
		size_t ll = end != NULL ? (size_t)(end - p) : strlen(p);

		if (ll == nl && strncasecmp(p, name, nl) == 0)
			return true;
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

int
ovpn_cipher_choose(const enum aead_algo *ours, unsigned n, const char *peer_info)
{
	char list[512], ncp[8];

	if (!ovpn_peer_info_get(peer_info, "IV_CIPHERS", list, sizeof(list))) {
		if (!ovpn_peer_info_get(peer_info, "IV_NCP", ncp, sizeof(ncp)) || atoi(ncp) < 2)
			return -1;
		snprintf(list, sizeof(list), "AES-256-GCM:AES-128-GCM");
	}
	for (unsigned i = 0; i < n; i++)
		if (list_has(list, ovpn_cipher_name(ours[i])))
			return (int)ours[i];
	return -1;
}
