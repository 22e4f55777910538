#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Crypto benchmark: each figure beside its ceiling from the same run.

  /usr/bin/python3 perf/crypto/run.py [--build DIR] [--repeat N] [--quick]

ARC4 against `openssl speed -evp rc4`, MPPE against an OpenSSL per-packet
re-key sender (in bench_crypto), AES against dpdk-test-crypto-perf with the
intel-ipsec-mb PMDs. Every number is the median of --repeat runs (ours and
the ceiling alike), because this machine is shared. Writes
perf/crypto/results/crypto.json and crypto.png.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def sh(cmd, timeout=300):
    r = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd}: exit {r.returncode}: {r.stderr[-500:]}")
    return r.stdout


def cpu_busy(interval=0.3):
    """Fraction of all CPUs busy over interval (from /proc/stat)."""
    def snap():
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return f[3] + f[4], sum(f)   # idle + iowait, total
    i0, t0 = snap()
    time.sleep(interval)
    i1, t1 = snap()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


CONTENDED = []


def wait_quiet(max_wait=90.0, busy_max=0.15):
    """The machine is shared: before each measurement wait (up to max_wait s)
    until other processes leave the CPUs idle, so a burst of someone else's
    benchmark does not land on one side of a ratio only."""
    t_end = time.time() + max_wait
    while time.time() < t_end:
        if cpu_busy() < busy_max:
            return True
        time.sleep(1.0)
    CONTENDED.append(time.strftime("%H:%M:%S"))
    return False


def median_of(n, fn):
    vals = []
    for _ in range(n):
        wait_quiet()
        vals.append(fn())
    return statistics.median(vals)


def machine():
    lscpu = sh("lscpu")
    model = re.search(r"Model name:\s*(.+)", lscpu)
    hdr = open("/usr/include/intel-ipsec-mb.h").read()
    imb = re.search(r'#define IMB_VERSION_STR "([^"]+)"', hdr)
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cpus": os.cpu_count(),
        "flags_of_note": [f for f in ("aes", "vaes", "vpclmulqdq", "avx2", "avx512f", "sha_ni")
                          if re.search(rf"\b{f}\b", lscpu)],
        "kernel": platform.release(),
        "openssl": sh("openssl version").strip(),
        "dpdk": sh("pkg-config --modversion libdpdk").strip(),
        "intel_ipsec_mb": imb.group(1) if imb else None,
        "compiler": sh("cc --version").splitlines()[0],
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def bench(build, *args):
    out = sh([os.path.join(build, "perf/crypto/bench_crypto")] + [str(a) for a in args])
    return json.loads(out.strip().splitlines()[-1])


def openssl_rc4(size, seconds):
    out = sh(f"openssl speed -provider legacy -provider default -evp rc4 -seconds {seconds} "
             f"-bytes {size} 2>/dev/null")
    m = re.search(r"^RC4\s+([\d.]+)k", out, re.M)
    return float(m.group(1)) * 1000.0


def crypto_perf(kind, key_sz, size, ops):
    common = ["dpdk-test-crypto-perf", "-l", "0,1", "--no-huge", "-m", "1024", "--no-pci",
              "--file-prefix", f"cperf{os.getpid()}", "--log-level", "error"]
    if kind == "gcm":
        args = ["--vdev", "crypto_aesni_gcm0", "--", "--devtype", "crypto_aesni_gcm",
                "--optype", "aead", "--aead-algo", "aes-gcm", "--aead-key-sz", str(key_sz),
                "--aead-iv-sz", "12", "--aead-op", "encrypt", "--digest-sz", "16",
                "--aead-aad-sz", "16"]
    else:
        args = ["--vdev", "crypto_aesni_mb0", "--", "--devtype", "crypto_aesni_mb",
                "--optype", "cipher-then-auth", "--cipher-algo", "aes-cbc",
                "--cipher-key-sz", str(key_sz), "--cipher-iv-sz", "16", "--cipher-op", "encrypt",
                "--auth-algo", "sha1-hmac", "--auth-key-sz", "20", "--auth-op", "generate",
                "--digest-sz", "20"]
    args += ["--ptest", "throughput", "--buffer-sz", str(size), "--total-ops", str(ops),
             "--burst-sz", "32", "--silent", "--csv-friendly"]
    out = sh(common + args)
    for line in out.splitlines():
        f = line.split(",")
        if len(f) >= 10 and f[0].strip().isdigit():
            return float(f[8]) * 1e9 / 8.0   # Gbps -> bytes/s
    raise RuntimeError("no result line from dpdk-test-crypto-perf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-crypto"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer sizes, shorter ceilings")
    a = ap.parse_args()
    rep = a.repeat
    secs = 1 if a.quick else 2
    rows = []

    def row(group, name, ours, ceiling, unit, target=None, ceiling_name="", **extra):
        ratio = ours / ceiling if ceiling else None
        r = {"group": group, "name": name, "value": ours, "ceiling": ceiling,
             "ceiling_name": ceiling_name, "unit": unit, "ratio": ratio, "target": target,
             "met": (ratio >= target) if (target and ratio) else None, **extra}
        rows.append(r)
        scale = 1e6 if unit == "pkts/s" else 1e9
        su = "Mpps" if unit == "pkts/s" else "GB/s"
        mark = "" if target is None else ("  target %.1fx %s" % (target, "MET" if r["met"] else "MISSED"))
        var = f"  [{extra['variant']}]" if extra.get("variant") else ""
        print(f"{group:5} {name:34} {ours / scale:8.3f} {su:5} | {ceiling_name:26} "
              f"{ceiling / scale:8.3f} {su:5} | {ratio:5.2f}x{mark}{var}", flush=True)

    info = machine()
    # the machine is shared: record how busy it was, ceilings that use a second
    # lcore (dpdk-test-crypto-perf -l 0,1) suffer most from other pollers
    info["loadavg_start"] = os.getloadavg()
    print(f"# {info['cpu']}, kernel {info['kernel']}, {info['openssl']}, DPDK {info['dpdk']}, "
          f"intel-ipsec-mb {info['intel_ipsec_mb']}")

    # ARC4: one stream and N streams beside openssl speed at the same size
    sizes = [64, 512, 1400]
    for size in sizes:
        ossl = median_of(rep, lambda: openssl_rc4(size, secs))
        one = median_of(rep, lambda: bench(a.build, "arc4", 1, size, "x1")["bytes_per_s"])
        row("arc4", f"1 stream x1 {size}B", one, ossl, "B/s", 0.9 if size == 1400 else None,
            "openssl speed -evp rc4")
        for n in (1, 2, 4, 8, 16):
            runs = []
            for _ in range(rep):
                wait_quiet()
                runs.append(bench(a.build, "arc4", n, size))
            v = statistics.median(r["bytes_per_s"] for r in runs)
            # the variant arc4_select(NULL) picked in each run (it times them at start)
            picked = sorted({r["variant"] for r in runs})
            row("arc4", f"{n} streams (auto) {size}B", v, ossl, "B/s",
                2.0 if (n == 8 and size == 1400) else None, "openssl speed -evp rc4",
                variant="/".join(picked))
        if size == 1400:
            # every lane count at the target's shape: what the selection chooses from
            for var in ("x1", "x2", "x3", "x4", "x5"):
                v = median_of(rep, lambda: bench(a.build, "arc4", 8, size, var)["bytes_per_s"])
                row("arc4", f"8 streams {var} {size}B", v, ossl, "B/s", None,
                    "openssl speed -evp rc4", variant=var)

    # MPPE at 1400 B: 32 sessions, one packet each per burst
    base = median_of(rep, lambda: bench(a.build, "mppe-openssl", 1400)["pkts_per_s"])
    for mode in ("stateless", "stateful"):
        runs = []
        for _ in range(rep):
            wait_quiet()
            runs.append(bench(a.build, "mppe", mode, 1400, 32))
        v = statistics.median(r["pkts_per_s"] for r in runs)
        row("mppe", f"{mode} 1400B 32 sessions", v, base, "pkts/s",
            3.0 if mode == "stateless" else None, "OpenSSL re-key per packet",
            variant=f"arc4 {runs[0]['arc4']}, sha1 {runs[0].get('sha1', '?')}")

    # AES beside dpdk-test-crypto-perf with the ipsec_mb PMDs
    ops = 300000 if a.quick else 3000000
    for algo, kind, key, sizes_ in (("aes128-gcm", "gcm", 16, (64, 1420)),
                                    ("aes256-gcm", "gcm", 32, (64, 1420)),
                                    ("aes128-cbc-hmac-sha1", "cbc", 16, (64, 1424))):
        for size in sizes_:
            ceil = median_of(rep, lambda: crypto_perf(kind, key, size, ops))
            v = median_of(rep, lambda: bench(a.build, "aead", algo, size)["bytes_per_s"])
            row("aes", f"{algo} {size}B", v, ceil, "B/s", 0.9,
                f"crypto-perf {'aesni_gcm' if kind == 'gcm' else 'aesni_mb'}")

    info["loadavg_end"] = os.getloadavg()
    # measurements that started although the CPUs were still busy after 90 s of waiting
    info["contended_starts"] = CONTENDED
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    out = {"machine": info, "repeat": rep, "command": " ".join([sys.argv[0]] + sys.argv[1:]),
           "rows": rows}
    with open(os.path.join(HERE, "results", "crypto.json"), "w") as f:
        json.dump(out, f, indent=1)
    chart(rows, info, os.path.join(HERE, "results", "crypto.png"))
    print("wrote perf/crypto/results/crypto.json and crypto.png")


def chart(rows, info, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(13, 6))
    names = [f"{r['group']}: {r['name']}" for r in rows]
    ratios = [r["ratio"] for r in rows]
    colors = ["tab:green" if r["met"] else ("tab:red" if r["met"] is False else "tab:blue")
              for r in rows]
    ax.bar(range(len(rows)), ratios, color=colors)
    for k, r in enumerate(rows):
        if r["target"]:
            ax.plot([k - 0.4, k + 0.4], [r["target"]] * 2, color="black")
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(names, rotation=75, ha="right", fontsize=7)
    ax.set_ylabel("ratio to ceiling from the same run")
    ax.set_title(f"dpvpn crypto vs ceilings (black: target) - {info['cpu']}, {info['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
