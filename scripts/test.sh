#!/usr/bin/env bash
# Runs every test suite of dpvpn on a fresh Debian 12 machine (as root):
# installs dependencies, builds, runs unit, pcap, interop (kernel-peer VM, namespaces) and
# bounded libFuzzer runs, then prints "N passed, N failed".
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
"$ROOT/scripts/install-deps.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
FUZZ_DIR=${FUZZ_DIR:-$ROOT/build-fuzz}
BUILD_DIR=$BUILD_DIR "$ROOT/scripts/build.sh"
# The fuzz harnesses need clang's libFuzzer and sanitizers: a separate build.
if [[ ! -f $FUZZ_DIR/build.ninja ]]; then
    CC=clang meson setup "$FUZZ_DIR" "$ROOT" -Dfuzz=true -Db_lto=false >/dev/null
fi
ninja -C "$FUZZ_DIR" >/dev/null

status=0
meson test -C "$BUILD_DIR" --print-errorlogs --suite unit --suite pcap --suite interop "$@" || status=1
meson test -C "$FUZZ_DIR" --print-errorlogs --suite fuzz || status=1

# One closing line for CI, counted from both runs' machine-readable logs.
/usr/bin/python3 - "$BUILD_DIR" "$FUZZ_DIR" <<'PY'
import json, sys
passed = failed = skipped = 0
for d in sys.argv[1:]:
    try:
        lines = open(f"{d}/meson-logs/testlog.json").read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r == "OK":
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
