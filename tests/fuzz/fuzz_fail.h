/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPVPN_FUZZ_FAIL_H
#define DPVPN_FUZZ_FAIL_H

#include <stdio.h>
#include <stdlib.h>

/* An invariant the harness checks failed: say where, then abort (libFuzzer keeps the input). */
#define FUZZ_FAIL() (fprintf(stderr, "%s:%d: invariant broken\n", __FILE__, __LINE__), abort())

#endif
