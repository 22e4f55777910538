/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer harness for the configuration parser: any input is an error message or a config. */
#include <stdio.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct dpvpn_config cfg;
	FILE *f;

	/* Error messages are the expected outcome: the test runs with -close_fd_mask=2. */
	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/dpvpn-fuzz-config-%d.ini", (int)getpid());
	f = fopen(path, "w");
	if (f == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (config_load(path, &cfg) == 0)
		config_free(&cfg);
	return 0;
}
