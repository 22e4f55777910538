/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

int
pkt_parse_ipv4(const char *s, rte_be32_t *out)
{
	struct in_addr a;

	/* inet_pton accepts only the strict dotted quad (no "10.1", no octal). */
	if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = a.s_addr;
	return 0;
}

int
pkt_parse_prefix(const char *s, struct pkt_prefix *out, bool keep_host, rte_be32_t *host)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	long depth = 32;
	rte_be32_t a;

	if (slash != NULL) {
		char *end;
		size_t n = (size_t)(slash - s);

		if (n >= sizeof(buf) || slash[1] == '\0')
			return -1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		depth = strtol(slash + 1, &end, 10);
		if (*end != '\0' || depth < 0 || depth > 32)
			return -1;
		s = buf;
	}
	if (pkt_parse_ipv4(s, &a) < 0)
		return -1;
	if (!keep_host && (a & ~pkt_prefix_mask((uint8_t)depth)) != 0)
		return -1;
	if (host != NULL)
		*host = a;
	out->addr = a & pkt_prefix_mask((uint8_t)depth);
	out->depth = (uint8_t)depth;
	return 0;
}

int
pkt_parse_mac(const char *s, struct rte_ether_addr *out)
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		out->addr_bytes[i] = (uint8_t)b[i];
	return 0;
}

char *
pkt_format_ipv4(rte_be32_t a, char *buf, size_t len)
{
	struct in_addr in = { .s_addr = a };

	if (inet_ntop(AF_INET, &in, buf, (socklen_t)len) == NULL && len > 0)
		buf[0] = '\0';
	return buf;
}
