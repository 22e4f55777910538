/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chap_secrets.h"

/* Next word of a line into out (size cap): quoted or bare. Returns the rest, or NULL at the end. */
static const char *
next_word(const char *p, char *out, size_t cap, int *err)
{
	size_t n = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return NULL;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0') {
				*err = 1;       /* unterminated quote */
				return NULL;
			}
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (n + 1 >= cap) {
				*err = 2;
				return NULL;
			}
			out[n++] = *p;
		}
		p++;
	} else {
		for (; *p != '\0' && *p != ' ' && *p != '\t' && *p != '#'; p++) {
			if (n + 1 >= cap) {
				*err = 2;
				return NULL;
			}
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return p;
}

/* FNV-1a: client names are short and the table is built once. */
static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static bool
is_wild(const char *name)
{
	return strcmp(name, "*") == 0;
}

/* Builds the lookup index of s (after parsing); -1 when out of memory. */
static int
index_build(struct chap_secrets *s)
{
	uint32_t nb = 16;

	while (nb < 2 * s->n)
		nb *= 2;
	s->bucket = calloc(nb, sizeof(*s->bucket));
	s->next = calloc(s->n ? s->n : 1, sizeof(*s->next));
	if (s->bucket == NULL || s->next == NULL)
		return -1;
	s->bucket_mask = nb - 1;
	s->wild = 0;
	/* Pushing from the last entry to the first leaves every chain in file order. */
	for (uint32_t i = s->n; i-- > 0;) {
		uint32_t *head = is_wild(s->v[i].client) ? &s->wild : &s->bucket[name_hash(s->v[i].client) & s->bucket_mask];

		s->next[i] = *head;
		*head = i + 1;
	}
	return 0;
}

int
chap_secrets_parse(const char *name, const char *text, struct chap_secrets *out)
{
	static const char *const what[] = { "", "unterminated quote", "word too long" };
	unsigned line = 0, cap = 0;
	const char *p = text;

	memset(out, 0, sizeof(*out));
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char buf[1024], addr[64];
		struct chap_secret e;
		const char *q;
		int err = 0;

		line++;
		if (len >= sizeof(buf)) {
			fprintf(stderr, "%s:%u: line too long\n", name, line);
			goto fail;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (len > 0 && buf[len - 1] == '\r')
			buf[len - 1] = '\0';
		p = eol ? eol + 1 : p + len;
		memset(&e, 0, sizeof(e));
		e.line = line;
		q = next_word(buf, e.client, sizeof(e.client), &err);
		if (q == NULL && !err)
			continue;       /* blank or comment */
		if (q != NULL)
			q = next_word(q, e.server, sizeof(e.server), &err);
		if (q != NULL)
			q = next_word(q, e.secret, sizeof(e.secret), &err);
		if (err) {
			fprintf(stderr, "%s:%u: %s\n", name, line, what[err]);
			goto fail;
		}
		if (q == NULL) {
			fprintf(stderr, "%s:%u: expected: client server secret [address]\n", name, line);
			goto fail;
		}
		q = next_word(q, addr, sizeof(addr), &err);
		if (err) {
			fprintf(stderr, "%s:%u: %s\n", name, line, what[err]);
			goto fail;
		}
		if (q != NULL && strcmp(addr, "*") != 0 && strcmp(addr, "-") != 0) {
			struct in_addr a;

			if (inet_pton(AF_INET, addr, &a) != 1) {
				fprintf(stderr, "%s:%u: '%s' is not an IPv4 address\n", name, line, addr);
				goto fail;
			}
			e.address = a.s_addr;
		}
		if (out->n == cap) {
			struct chap_secret *v = realloc(out->v, sizeof(*v) * (cap ? cap * 2 : 16));

			if (v == NULL) {
				fprintf(stderr, "%s: out of memory\n", name);
				goto fail;
			}
			out->v = v;
			cap = cap ? cap * 2 : 16;
		}
		out->v[out->n++] = e;
	}
	if (index_build(out) == 0)
		return 0;
	fprintf(stderr, "%s: out of memory\n", name);
fail:
	chap_secrets_free(out);
	return -1;
}

int
chap_secrets_load(const char *path, struct chap_secrets *out)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;
	int rc;

	if (f == NULL) {
		fprintf(stderr, "%s:0: cannot open: %m\n", path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	if (text == NULL || fread(text, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s:0: cannot read\n", path);
		free(text);
		fclose(f);
		return -1;
	}
	text[n] = '\0';
	fclose(f);
	rc = chap_secrets_parse(path, text, out);
	free(text);
	return rc;
}

void
chap_secrets_free(struct chap_secrets *s)
{
	if (s->v != NULL)
		memset(s->v, 0, sizeof(*s->v) * s->n); /* secrets do not linger in freed memory */
	free(s->v);
	free(s->bucket);
	free(s->next);
	memset(s, 0, sizeof(*s));
}

const struct chap_secret *
chap_secrets_find(const struct chap_secrets *s, const char *user, const char *server)
{
	const struct chap_secret *best = NULL;
	int best_rank = -1;
	/* The user's own entries, then the "*" ones: each chain in file order. */
	uint32_t chains[2] = { s->bucket != NULL ? s->bucket[name_hash(user) & s->bucket_mask] : 0, s->wild };

	/* pppd's ranking: an exact client beats an exact server beats "* *"; the first of equals wins. */
	for (unsigned c = 0; c < 2; c++) {
		for (uint32_t i = chains[c]; i != 0; i = s->next[i - 1]) {
			const struct chap_secret *e = &s->v[i - 1];
			bool server_wild = is_wild(e->server);
			int rank;

			if ((c == 0 && strcmp(e->client, user) != 0) || (!server_wild && strcmp(e->server, server) != 0))
				continue;
			rank = (c == 0 ? 2 : 0) | (server_wild ? 0 : 1);
			if (rank > best_rank) {
				best = e;
				best_rank = rank;
			}
		}
		if (best_rank >= 2)
			break;          /* an exact client: no "*" entry can beat it */
	}
	return best;
}
