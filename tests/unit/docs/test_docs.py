#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Docs match the code: every configuration key the parser or a driver reads is in
docs/configuration.md, every telemetry command and drop reason is in docs/telemetry.md."""
import glob
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def main():
    failed = passed = 0
    conf_doc, tel_doc = read("docs/configuration.md"), read("docs/telemetry.md")
    sources = [read(os.path.relpath(p, ROOT)) for p in
               glob.glob(os.path.join(ROOT, "app/dpvpn/*.c")) + glob.glob(os.path.join(ROOT, "drivers/*/*.c"))]
    keys = set()
    for src in sources:
        keys |= set(re.findall(r'(?:sec_get|get_u32|get_u16|get_ipv4|tunnel_conf_uint|tunnel_conf_bool|'
                               r'parse_key|for_each_item|c->get)\([^"]*"([a-z_]+)"', src))
    stats = read("lib/stats/stats.h")
    reasons = set(re.findall(r'X\([A-Z_]+, "([a-z_]+)"', stats))
    commands = set(re.findall(r'"(/dpvpn/[a-z]+)"', read("app/dpvpn/telemetry.c")))
    checks = [(k, f"`{k}`" in conf_doc, "configuration key missing from docs/configuration.md") for k in keys]
    checks += [(r, f"`{r}`" in tel_doc, "drop reason missing from docs/telemetry.md") for r in reasons]
    checks += [(c, f"`{c}" in tel_doc, "telemetry command missing from docs/telemetry.md") for c in commands]
    for name, ok, what in checks:
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"{what}: {name}")
    if len(keys) < 20 or len(reasons) < 30 or len(commands) < 6:
        print(f"extraction found too little ({len(keys)} keys, {len(reasons)} reasons, {len(commands)} commands)")
        failed += 1
    print(f"docs: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
