# SPDX-License-Identifier: BSD-3-Clause
"""Machine description and hugepage setup shared by the benchmarks."""
import os
import platform
import subprocess


def describe():
    def cmd(c):
        try:
            return subprocess.run(c, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    cpu = ""
    for line in cmd(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "dpdk": cmd(["pkg-config", "--modversion", "libdpdk"]),
        "gcc": cmd(["gcc", "-dumpfullversion"]),
        "hugepages_2M": hugepages_available(),
    }


def hugepages_available():
    try:
        with open("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") as f:
            return int(f.read())
    except OSError:
        return 0


def reserve_hugepages(pages=512):
    """Reserves 2 MiB hugepages and mounts hugetlbfs; returns True when DPDK can use them."""
    try:
        if hugepages_available() < pages:
            with open("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "w") as f:
                f.write(str(pages))
        with open("/proc/mounts") as f:
            mounted = any(line.split()[2] == "hugetlbfs" for line in f)
        if not mounted:
            os.makedirs("/dev/hugepages", exist_ok=True)
            subprocess.run(["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"], check=True,
                           capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return hugepages_available() >= 256
