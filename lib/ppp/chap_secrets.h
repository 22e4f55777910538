/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pppd's chap-secrets file: one secret per line,
 *     client  server  secret  [address ...]
 * whitespace-separated words, "double quotes" around words with spaces,
 * '#' starts a comment, '*' in client or server matches any name, and the
 * optional address ("*" or "-" for none) pins the client's IPCP address.
 */
#ifndef DPVPN_CHAP_SECRETS_H
#define DPVPN_CHAP_SECRETS_H

#include <stdint.h>

#define CHAP_NAME_MAX 64
#define CHAP_SECRET_MAX 128

struct chap_secret {
	char client[CHAP_NAME_MAX];
	char server[CHAP_NAME_MAX];
	char secret[CHAP_SECRET_MAX];
	uint32_t address;       /* network byte order; 0: from the pool */
	unsigned line;
};

struct chap_secrets {
	struct chap_secret *v;
	unsigned n;
	/*
	 * Lookup index, so a file with many users costs one chain walk per
	 * authentication: entries by hash of the client name, each chain in file
	 * order (indices + 1, 0 ends), and the "*" clients on a chain of their own.
	 */
	uint32_t *bucket, *next;
	uint32_t bucket_mask, wild;
};

/* Reads path; on error prints "PATH:LINE: message" to stderr and returns -1. */
int chap_secrets_load(const char *path, struct chap_secrets *out);
/* The same from text already in memory (name is used in messages). */
int chap_secrets_parse(const char *name, const char *text, struct chap_secrets *out);
void chap_secrets_free(struct chap_secrets *s);
/* The first entry for client user and server name (exact names before "*"), or NULL. */
const struct chap_secret *chap_secrets_find(const struct chap_secrets *s, const char *user,
					    const char *server);

#endif
