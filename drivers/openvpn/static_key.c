/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "static_key.h"

#define BEGIN_LINE "-----BEGIN OpenVPN Static key V1-----"
#define END_LINE "-----END OpenVPN Static key V1-----"

static int __attribute__((format(printf, 5, 6)))
fail(uint8_t *key, char *err, size_t err_len, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	memset(key, 0, OVPN_STATIC_KEY_LEN);
	n = snprintf(err, err_len, "line %u: ", line);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < err_len)
		vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The line without leading and trailing blanks (and the CR of CRLF files). */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

static int
is_line(const char *p, size_t n, const char *what)
{
	return n == strlen(what) && memcmp(p, what, n) == 0;
}

int
ovpn_static_key_parse(const char *text, size_t len, uint8_t key[OVPN_STATIC_KEY_LEN],
		      char *err, size_t err_len)
{
	enum { BEFORE, INSIDE, AFTER } state = BEFORE;
	unsigned line = 0, begin_line = 0;
	size_t nibbles = 0;
	const char *p = text, *end = text + len;

	memset(key, 0, OVPN_STATIC_KEY_LEN);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s = p;
		size_t n = (size_t)((eol != NULL ? eol : end) - p);

		p = eol != NULL ? eol + 1 : end;
		line++;
		trim(&s, &n);
		if (state == BEFORE) {
			/* Comments and blank lines come first (genkey writes a # header). */
			if (is_line(s, n, BEGIN_LINE)) {
				state = INSIDE;
				begin_line = line;
			} else if (n > 0 && s[0] != '#') {
				return fail(key, err, err_len, line, "expected '%s'", BEGIN_LINE);
			}
			continue;
		}
		if (state == AFTER) {
			if (n > 0 && s[0] != '#')
				return fail(key, err, err_len, line, "text after '%s'", END_LINE);
			continue;
		}
		if (is_line(s, n, END_LINE)) {
			if (nibbles != 2 * OVPN_STATIC_KEY_LEN)
				return fail(key, err, err_len, line, "key has %zu bytes, a static key has %d",
					    nibbles / 2, OVPN_STATIC_KEY_LEN);
			state = AFTER;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			int v = hex_value(s[i]);

			if (isspace((unsigned char)s[i]))
				continue;
			if (v < 0)
				return fail(key, err, err_len, line, "'%c' is not a hex digit", s[i]);
			if (nibbles == 2 * OVPN_STATIC_KEY_LEN)
				return fail(key, err, err_len, line, "more than %d key bytes",
					    OVPN_STATIC_KEY_LEN);
			key[nibbles / 2] |= (uint8_t)(nibbles % 2 ? v : v << 4);
			nibbles++;
		}
	}
	if (state == BEFORE)
		return fail(key, err, err_len, line, "no '%s' line", BEGIN_LINE);
	if (state == INSIDE)
		return fail(key, err, err_len, begin_line, "'%s' without '%s'", BEGIN_LINE, END_LINE);
	return 0;
}

struct ovpn_key_pair
ovpn_static_key_select(const uint8_t key[OVPN_STATIC_KEY_LEN], enum ovpn_key_direction dir,
		       int encrypt)
{
	/* Direction 0 sends with key 0 and receives with key 1; direction 1 the reverse. */
	unsigned idx = dir == OVPN_KEY_DIR_BIDIRECTIONAL ? 0
		       : (dir == OVPN_KEY_DIR_NORMAL) == (encrypt != 0) ? 0 : 1;
	const uint8_t *k = key + idx * 2 * OVPN_KEY_PART_LEN;

	return (struct ovpn_key_pair){ .cipher = k, .hmac = k + OVPN_KEY_PART_LEN };
}
