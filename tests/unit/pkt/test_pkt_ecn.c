/* SPDX-License-Identifier: BSD-3-Clause */
/* RFC 6040 encapsulation and decapsulation, exhaustively; TOS rewrites keep the checksum right. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pkt.h"
#include "pkt_ecn.h"

enum { NE = PKT_ECN_NOT_ECT, E0 = PKT_ECN_ECT0, E1 = PKT_ECN_ECT1, CE = PKT_ECN_CE, DROP = -1 };

/* RFC 6040 figure 4, typed from the RFC: rows inner, columns outer (Not-ECT, ECT(0), ECT(1), CE). */
static const struct {
	int out;
	bool odd;
} rfc6040[4][4] = {
	[NE] = { [NE] = { NE, false }, [E0] = { NE, true }, [E1] = { NE, true }, [CE] = { DROP, true } },
	[E0] = { [NE] = { E0, false }, [E0] = { E0, false }, [E1] = { E1, false }, [CE] = { CE, false } },
	[E1] = { [NE] = { E1, false }, [E0] = { E1, true }, [E1] = { E1, false }, [CE] = { CE, false } },
	[CE] = { [NE] = { CE, false }, [E0] = { CE, false }, [E1] = { CE, true }, [CE] = { CE, false } },
};

static void
test_decap_table(void)
{
	for (int inner = 0; inner < 4; inner++)
		for (int outer = 0; outer < 4; outer++)
			for (int dscp = 0; dscp < 64; dscp += 21) {
				uint8_t in_tos = (uint8_t)(dscp << 2 | inner), ecn = 0xee;
				bool odd = !rfc6040[inner][outer].odd;
				enum pkt_ecn_decap_result r =
					pkt_ecn_decap((uint8_t)(0xb8 | outer), in_tos, &ecn, &odd);
				int got = r == PKT_ECN_DECAP_DROP ? DROP : r == PKT_ECN_DECAP_SET ? ecn : inner;

				if (got != rfc6040[inner][outer].out || odd != rfc6040[inner][outer].odd)
					fprintf(stderr, "inner %d outer %d: got %d odd %d\n", inner, outer, got, odd);
				CHECK_EQ(got, rfc6040[inner][outer].out);
				CHECK_EQ(odd, rfc6040[inner][outer].odd);
				/* SET only when the field really changes. */
				if (r == PKT_ECN_DECAP_SET)
					CHECK(ecn != inner);
			}
}

static void
test_encap(void)
{
	for (int tos = 0; tos < 256; tos++) {
		uint8_t inherit = pkt_ecn_encap_tos((uint8_t)tos, PKT_DSCP_INHERIT);
		uint8_t fixed = pkt_ecn_encap_tos((uint8_t)tos, 46);

		CHECK_EQ(inherit, tos); /* uniform model: the whole byte */
		CHECK_EQ(fixed & PKT_ECN_MASK, tos & PKT_ECN_MASK); /* normal mode copies ECN */
		CHECK_EQ(fixed >> 2, 46);
	}
}

static void
test_set_tos_checksum(void)
{
	unsigned bad = 0, marked = 0;

	srand(6040);
	for (int i = 0; i < 100000; i++) {
		struct rte_ipv4_hdr ip;
		uint8_t tos = (uint8_t)rand();

		pkt_ipv4_write_hdr(&ip, (uint8_t)rand(), (uint16_t)(20 + rand() % 1480), (uint16_t)rand(),
				   (uint8_t)(1 + rand() % 255), (uint8_t)rand(), (rte_be32_t)rand(), (rte_be32_t)rand());
		pkt_ipv4_set_tos(&ip, tos);
		bad += ip.type_of_service != tos || !pkt_ipv4_sum20_ok(&ip);
		if (pkt_ipv4_set_ce(&ip)) {
			marked++;
			bad += (ip.type_of_service & PKT_ECN_MASK) != PKT_ECN_CE || !pkt_ipv4_sum20_ok(&ip);
		} else {
			bad += (tos & PKT_ECN_MASK) != PKT_ECN_NOT_ECT || ip.type_of_service != tos;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(marked > 70000 && marked < 80000);
}

int
main(void)
{
	test_decap_table();
	test_encap();
	test_set_tos_checksum();
	return check_summary("pkt_ecn");
}
