/* SPDX-License-Identifier: BSD-3-Clause */
#include "pkt_tcp_mss.h"

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_MSS_LEN = 4 };

/*
 * RFC 1624 eqn. 3 for one 16-bit field at byte offset off from the start of
 * what the checksum covers: a field at an odd offset adds to the sum with its
 * bytes swapped.
 */
static void
csum_replace16(uint8_t *csum, uint32_t off, uint16_t old_v, uint16_t new_v)
{
	uint32_t s = (uint16_t)~(csum[0] << 8 | csum[1]);

	if (off & 1) {
		old_v = (uint16_t)(old_v << 8 | old_v >> 8);
		new_v = (uint16_t)(new_v << 8 | new_v >> 8);
	}
	s += (uint16_t)~old_v;
	s += new_v;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (uint16_t)~s;
	csum[0] = (uint8_t)(s >> 8);
	csum[1] = (uint8_t)s;
}

bool
pkt_tcp_mss_clamp(struct rte_ipv4_hdr *ip, uint32_t len, uint16_t mss)
{
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4, doff;
	uint8_t *tcp = (uint8_t *)ip + ihl;

	if (!pkt_ipv4_is_tcp_syn(ip, len))
		return false;
	doff = (uint32_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || ihl + doff > len)
		return false;
	for (uint32_t i = 20; i < doff;) {
		uint16_t old_mss;

		if (tcp[i] == OPT_EOL)
			break;
		if (tcp[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= doff || tcp[i + 1] < 2 || i + tcp[i + 1] > doff)
			break;
		if (tcp[i] != OPT_MSS || tcp[i + 1] != OPT_MSS_LEN) {
			i += tcp[i + 1];
			continue;
		}
		old_mss = (uint16_t)(tcp[i + 2] << 8 | tcp[i + 3]);
		if (old_mss <= mss)
			return false;
		tcp[i + 2] = (uint8_t)(mss >> 8);
		tcp[i + 3] = (uint8_t)mss;
		csum_replace16(tcp + 16, i + 2, old_mss, mss);
		return true;
	}
	return false;
}
