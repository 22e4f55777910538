#!/usr/bin/env bash
# Configures (once) and builds dpvpn into BUILD_DIR (default: build/ at the repository root).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    meson setup "$BUILD_DIR" "$ROOT" "$@"
fi
ninja -C "$BUILD_DIR"
