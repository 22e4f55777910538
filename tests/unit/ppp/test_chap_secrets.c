/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ppp chap-secrets: pppd's file format (comments, quoted words,
 * '*' wildcards, the address column), the "NAME:LINE: message" errors,
 * and lookup precedence as pppd ranks it (exact client, then exact server).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chap_secrets.h"
#include "ppp_test.h"

/* stderr of one call, captured through a temporary file. */
static char err_text[4096];
static int saved_fd = -1;
static FILE *err_file;

static void
capture_begin(void)
{
	fflush(stderr);
	err_file = tmpfile();
	saved_fd = dup(2);
	CHECK(err_file != NULL && saved_fd >= 0);
	dup2(fileno(err_file), 2);
}

static const char *
capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	rewind(err_file);
	n = fread(err_text, 1, sizeof(err_text) - 1, err_file);
	err_text[n] = '\0';
	fclose(err_file);
	return err_text;
}

static uint32_t
ip(const char *s)
{
	struct in_addr a;

	CHECK_EQ(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void
test_parse(void)
{
	static const char text[] =
		"# Secrets for authentication using CHAP\n"
		"# client\tserver\tsecret\t\t\tIP addresses\n"
		"\n"
		"   \t\n"
		"alice\t*\talicepw\n"
		"\"bob smith\" dpvpn \"two words\"  10.1.2.3   # trailing comment\n"
		"carol * \"q\\\"uote\" -\n"
		"dave * davepw *\r\n"
		"  # an indented comment\n"
		"eve\t\tvpn2\tevepw 192.168.7.9 10.0.0.1\n"
		"frank * \"\"\n"
		"gina * hash#not-part";         /* no final newline; '#' ends a bare word as in pppd */
	struct chap_secrets s;

	CHECK_EQ(chap_secrets_parse("test", text, &s), 0);
	CHECK_EQ(s.n, 7);
	if (s.n != 7)
		return;
	CHECK_STR(s.v[0].client, "alice");
	CHECK_STR(s.v[0].server, "*");
	CHECK_STR(s.v[0].secret, "alicepw");
	CHECK_EQ(s.v[0].address, 0);
	CHECK_EQ(s.v[0].line, 5);

	CHECK_STR(s.v[1].client, "bob smith");
	CHECK_STR(s.v[1].server, "dpvpn");
	CHECK_STR(s.v[1].secret, "two words");
	CHECK_EQ(s.v[1].address, ip("10.1.2.3"));
	CHECK_EQ(s.v[1].line, 6);

	CHECK_STR(s.v[2].secret, "q\"uote");   /* backslash escapes inside quotes */
	CHECK_EQ(s.v[2].address, 0);           /* "-": no fixed address */

	CHECK_STR(s.v[3].client, "dave");
	CHECK_STR(s.v[3].secret, "davepw");    /* CR of a CRLF line is not part of a word */
	CHECK_EQ(s.v[3].address, 0);           /* "*": any, from the pool */

	CHECK_STR(s.v[4].server, "vpn2");
	CHECK_EQ(s.v[4].address, ip("192.168.7.9")); /* the first address is the one pinned */
	CHECK_EQ(s.v[4].line, 10);

	CHECK_STR(s.v[5].client, "frank");
	CHECK_STR(s.v[5].secret, "");          /* an empty quoted secret is a word */

	CHECK_STR(s.v[6].secret, "hash");
	CHECK_EQ(s.v[6].line, 12);
	chap_secrets_free(&s);
	CHECK(s.v == NULL && s.n == 0);

	/* Empty input and comments only: no entries, no error. */
	CHECK_EQ(chap_secrets_parse("empty", "", &s), 0);
	CHECK_EQ(s.n, 0);
	chap_secrets_free(&s);
	CHECK_EQ(chap_secrets_parse("comments", "# a\n#b\n\n", &s), 0);
	CHECK_EQ(s.n, 0);
	chap_secrets_free(&s);
}

/* One bad file: -1, no entries left behind, and the message on stderr. */
static void
check_error(const char *text, const char *want_prefix)
{
	struct chap_secrets s;
	int rc;
	const char *msg;

	memset(&s, 0x55, sizeof(s));
	capture_begin();
	rc = chap_secrets_parse("/etc/ppp/chap-secrets", text, &s);
	msg = capture_end();
	CHECK_EQ(rc, -1);
	CHECK(s.v == NULL && s.n == 0);
	if (strncmp(msg, want_prefix, strlen(want_prefix)) != 0) {
		check_failed++;
		fprintf(stderr, "%s:%d: error message \"%s\" does not start with \"%s\"\n", __FILE__, __LINE__,
			msg, want_prefix);
	} else {
		check_passed++;
	}
	chap_secrets_free(&s);
}

static void
test_errors(void)
{
	char big[2048], word[CHAP_NAME_MAX + 8];

	check_error("alice * \"unterminated\n", "/etc/ppp/chap-secrets:1: unterminated quote");
	/* Line numbers count comments and blank lines. */
	check_error("# c\n\nalice * pw\nbob dpvpn\n", "/etc/ppp/chap-secrets:4: expected");
	check_error("alice\n", "/etc/ppp/chap-secrets:1: expected");
	check_error("alice * pw 10.0.0.300\n", "/etc/ppp/chap-secrets:1: '10.0.0.300' is not an IPv4 address");
	check_error("ok * pw\nalice * pw host.example\n", "/etc/ppp/chap-secrets:2: 'host.example'");
	check_error("alice * pw \"10.0.0.1\n", "/etc/ppp/chap-secrets:1: unterminated quote");

	/* A client name that does not fit. */
	memset(word, 'n', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	snprintf(big, sizeof(big), "%s * pw\n", word);
	check_error(big, "/etc/ppp/chap-secrets:1: word too long");
	/* A line longer than the parser's buffer. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	check_error(big, "/etc/ppp/chap-secrets:1: line too long");

	/* The longest names that fit are kept whole. */
	{
		struct chap_secrets s;

		memset(word, 'n', CHAP_NAME_MAX - 1);
		word[CHAP_NAME_MAX - 1] = '\0';
		snprintf(big, sizeof(big), "%s * pw\n", word);
		CHECK_EQ(chap_secrets_parse("t", big, &s), 0);
		CHECK_EQ(s.n, 1);
		if (s.n == 1)
			CHECK_EQ(strlen(s.v[0].client), CHAP_NAME_MAX - 1);
		chap_secrets_free(&s);
	}
}

static void
test_load(void)
{
	char path[] = "/tmp/dpvpn-test-chap-XXXXXX";
	int fd = mkstemp(path);
	struct chap_secrets s;
	const char *msg;
	static const char text[] = "u1 * p1\nu2 * p2 10.0.0.2\n";

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, sizeof(text) - 1), (long)sizeof(text) - 1);
	close(fd);
	CHECK_EQ(chap_secrets_load(path, &s), 0);
	CHECK_EQ(s.n, 2);
	if (s.n == 2) {
		CHECK_STR(s.v[1].secret, "p2");
		CHECK_EQ(s.v[1].address, ip("10.0.0.2"));
	}
	chap_secrets_free(&s);

	/* Errors of a loaded file name the file. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "u1 * p1\nbad\n", 12), 12);
	close(fd);
	capture_begin();
	CHECK_EQ(chap_secrets_load(path, &s), -1);
	msg = capture_end();
	{
		char want[128];

		snprintf(want, sizeof(want), "%s:2: expected", path);
		CHECK(strncmp(msg, want, strlen(want)) == 0);
	}
	unlink(path);

	capture_begin();
	CHECK_EQ(chap_secrets_load(path, &s), -1);
	msg = capture_end();
	CHECK(strstr(msg, path) != NULL && strstr(msg, "cannot open") != NULL);
}

static const char *
secret_for(const struct chap_secrets *s, const char *user, const char *server)
{
	const struct chap_secret *e = chap_secrets_find(s, user, server);

	return e ? e->secret : NULL;
}

static void
test_find(void)
{
	struct chap_secrets s;

	/* Wildcards listed first must not shadow more exact lines further down. */
	static const char text[] =
		"*      *      any\n"
		"*      dpvpn  anyuser-here\n"
		"alice  *      alice-anywhere\n"
		"alice  dpvpn  alice-here\n"
		"alice  dpvpn  alice-here-dup\n"
		"bob    other  bob-other\n"
		"carol  *      carol-anywhere\n"
		"dave   *      dave-1\n"
		"dave   *      dave-2\n";

	CHECK_EQ(chap_secrets_parse("find", text, &s), 0);
	/* Exact client and server. The first of equals wins. */
	CHECK_STR(secret_for(&s, "alice", "dpvpn"), "alice-here");
	/* Exact client beats exact server (pppd: NONWILD_CLIENT > NONWILD_SERVER). */
	CHECK_STR(secret_for(&s, "alice", "elsewhere"), "alice-anywhere");
	CHECK_STR(secret_for(&s, "carol", "dpvpn"), "carol-anywhere");
	/* No client line: the wildcard client with our server name, then "* *". */
	CHECK_STR(secret_for(&s, "zed", "dpvpn"), "anyuser-here");
	CHECK_STR(secret_for(&s, "zed", "elsewhere"), "any");
	/* bob's line is for another server: the wildcards answer for this one. */
	CHECK_STR(secret_for(&s, "bob", "other"), "bob-other");
	CHECK_STR(secret_for(&s, "bob", "dpvpn"), "anyuser-here");
	CHECK_STR(secret_for(&s, "dave", "dpvpn"), "dave-1");
	/* Names are case sensitive. */
	CHECK_STR(secret_for(&s, "Alice", "dpvpn"), "anyuser-here");
	chap_secrets_free(&s);

	/* Without wildcards an unknown user has no secret. */
	CHECK_EQ(chap_secrets_parse("find2", "alice dpvpn pw\n", &s), 0);
	CHECK(chap_secrets_find(&s, "mallory", "dpvpn") == NULL);
	CHECK(chap_secrets_find(&s, "alice", "other") == NULL);
	CHECK(chap_secrets_find(&s, "alice", "dpvpn") != NULL);
	chap_secrets_free(&s);

	/* An empty table. */
	CHECK_EQ(chap_secrets_parse("find3", "", &s), 0);
	CHECK(chap_secrets_find(&s, "alice", "dpvpn") == NULL);
	chap_secrets_free(&s);
}

/*
 * Many users (the lookup is indexed by client name): each finds its own
 * line, whatever shares its hash chain; the "*" line answers the rest; a
 * later duplicate of a user never wins.
 */
static void
test_find_many(void)
{
	enum { USERS = 5000 };
	size_t cap = (size_t)USERS * 48 + 64, len = 0;
	char *text = malloc(cap), want[32], user[16];
	struct chap_secrets s;
	unsigned ok = 0;

	if (text == NULL)
		abort();
	len += (size_t)snprintf(text + len, cap - len, "* dpvpn anybody\n");
	for (unsigned i = 0; i < USERS; i++)
		len += (size_t)snprintf(text + len, cap - len, "u%05u dpvpn pw-%05u\n", i, i);
	len += (size_t)snprintf(text + len, cap - len, "u00007 dpvpn late-duplicate\n");
	CHECK_EQ(chap_secrets_parse("many", text, &s), 0);
	CHECK_EQ(s.n, USERS + 2);
	for (unsigned i = 0; i < USERS; i++) {
		const char *got;

		snprintf(user, sizeof(user), "u%05u", i);
		snprintf(want, sizeof(want), "pw-%05u", i);
		got = secret_for(&s, user, "dpvpn");
		ok += got != NULL && strcmp(got, want) == 0;
	}
	CHECK_EQ(ok, USERS);
	CHECK_STR(secret_for(&s, "u99999", "dpvpn"), "anybody");
	CHECK_STR(secret_for(&s, "u0000", "dpvpn"), "anybody");
	CHECK(chap_secrets_find(&s, "u00001", "other") == NULL);
	chap_secrets_free(&s);
	free(text);
}

int
main(void)
{
	test_parse();
	test_errors();
	test_load();
	test_find();
	test_find_many();
	return check_summary("unit-ppp-chap-secrets");
}
