# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-test-crypto-perf with the crypto_aesni_mb PMD: the external crypto ceiling of the benchmarks."""
import os
import subprocess


def ops_per_s(algo_args, size, burst, ops, prefix):
    """Ops/s of one throughput test: algo_args chooses the operation (--optype ... and its keys),
    size-byte buffers, bursts of `burst`; None when it printed no result line."""
    cmd = ["dpdk-test-crypto-perf", "-l", "0,1", "--no-huge", "-m", "1024", "--no-pci",
           "--file-prefix", f"{prefix}{os.getpid()}", "--log-level", "error",
           "--vdev", "crypto_aesni_mb0", "--", "--devtype", "crypto_aesni_mb"] + list(algo_args) + [
           "--ptest", "throughput", "--buffer-sz", str(size), "--total-ops", str(ops),
           "--burst-sz", str(burst), "--silent", "--csv-friendly"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300).stdout
    for line in out.splitlines():
        f = line.split(",")
        if len(f) >= 10 and f[0].strip().isdigit():
            return float(f[7]) * 1e6   # MOps/s -> ops/s
    ops_per_s.last_output = out
    return None
