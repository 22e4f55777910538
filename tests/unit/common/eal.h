/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL for unit tests: no hugepages, no PCI, no shared files, one private prefix. */
#ifndef DPVPN_TEST_EAL_H
#define DPVPN_TEST_EAL_H

#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

static inline int
test_eal_init(const char *lcores)
{
	char prefix[64];
	char *argv[] = { "test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--log-level=4", "-l", (char *)lcores, "--file-prefix", prefix, NULL };

	snprintf(prefix, sizeof(prefix), "dpvpn-test-%d", (int)getpid());
	return rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
}

#endif
