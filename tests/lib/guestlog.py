# SPDX-License-Identifier: BSD-3-Clause
"""Reading what a guest script printed on the VM console between DPVPN-* markers."""
import json
import re
import shutil
import subprocess


class ConsoleTail:
    """Follows a console file while the guest writes it: new_lines() gives the complete lines
    written since the last call (a partial last line waits for its end)."""

    def __init__(self, path):
        self.path, self.pos, self.buf = path, 0, ""

    def new_lines(self):
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            chunk = f.read()
        self.pos += len(chunk)
        self.buf += chunk.decode(errors="replace")
        *lines, self.buf = self.buf.split("\n")
        return lines


def section(log, begin, end):
    """The text between a begin marker line and an end marker, or None."""
    m = re.search(re.escape(begin) + r"\r?\n(.*?)" + re.escape(end), log, re.S)
    return m.group(1) if m else None


def iperf_json(log, name):
    """The parsed iperf3 -J output between DPVPN-JSON-BEGIN/END name, or None."""
    text = section(log, f"DPVPN-JSON-BEGIN {name}", f"DPVPN-JSON-END {name}")
    if text is None or "{" not in text:
        return None
    text = text[text.find("{"):text.rfind("}") + 1]
    try:
        return json.loads(text)
    except ValueError as e:
        print(f"iperf3 output of {name} unusable: {e}: {text[-300:]!r}")
        return None


def iperf_result(log, name):
    """(goodput bit/s at the receiver, sender retransmits) of one iperf3 -J run, or None."""
    data = iperf_json(log, name)
    try:
        end = data["end"]
        return {"bps": end["sum_received"]["bits_per_second"],
                "retransmits": end["sum_sent"].get("retransmits")}
    except (TypeError, KeyError) as e:
        if data is not None:
            print(f"iperf3 output of {name} incomplete: {e}")
        return None


def ping_times(log, name):
    """Round-trip times (ms) of the replies between DPVPN-PING-BEGIN/END name, in order."""
    text = section(log, f"DPVPN-PING-BEGIN {name}", f"DPVPN-PING-END {name}") or ""
    return [float(x) for x in re.findall(r"time=([\d.]+) ?ms", text)]


def telemetry_py(prefix, cmd):
    """Reads a command with DPDK's stock dpdk-telemetry.py, not our client."""
    out = subprocess.run(["/usr/bin/python3", shutil.which("dpdk-telemetry.py") or "/usr/bin/dpdk-telemetry.py",
                          "-f", prefix], input=cmd + "\n", capture_output=True, text=True, timeout=20).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{") and cmd.split(",")[0] in line:
            return json.loads(line)[cmd.split(",")[0]]
    raise RuntimeError(f"dpdk-telemetry.py gave no answer to {cmd}: {out!r}")
