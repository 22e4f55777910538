#!/usr/bin/env bash
# Reserves 2 MiB hugepages and mounts hugetlbfs when the kernel allows it. Prints the EAL memory
# options to use: nothing with hugepages, "--no-huge -m MB" without them.
set -uo pipefail
PAGES=${1:-512}
MB=${2:-1024}
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
free=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
if [[ -w $nr ]] && (($(cat "$free") < PAGES)); then
    echo "$PAGES" > "$nr" 2>/dev/null || true
fi
if ! grep -q hugetlbfs /proc/mounts; then
    mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
fi
if [[ -r $free ]] && (($(cat "$free") >= 256)) && grep -q hugetlbfs /proc/mounts; then
    echo ""
else
    echo "--no-huge -m $MB"
fi
