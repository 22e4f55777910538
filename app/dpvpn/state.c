/* SPDX-License-Identifier: BSD-3-Clause */
/* The daemon's one global state; kept apart from main() so tests can link the data path. */
#include "dpvpn.h"

struct dpvpn dp;
