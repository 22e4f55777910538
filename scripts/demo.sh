#!/usr/bin/env bash
# The dpvpn demo on virtual ports with a real client (as root, Debian 12):
# installs what is missing, builds, starts dpvpn with config/demo.ini, boots the kernel-peer VM
# whose Linux ip_gre tunnel is the client, sends ping and iperf3 through the tunnel to a
# namespace behind dpvpn, prints live telemetry, and stops everything cleanly.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" >/dev/null
exec /usr/bin/python3 "$ROOT/scripts/demo.py" "$@"
