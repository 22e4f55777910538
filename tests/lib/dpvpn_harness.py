# SPDX-License-Identifier: BSD-3-Clause
"""Start, watch and stop a dpvpn daemon from tests, demos and benchmarks.

Every wait is bounded; the daemon is killed if it does not stop on SIGTERM.
"""
import importlib.machinery
import importlib.util
import os
import re
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_dpvpnctl():
    path = os.path.join(ROOT, "app", "dpvpnctl", "dpvpnctl")
    loader = importlib.machinery.SourceFileLoader("dpvpnctl", path)
    spec = importlib.util.spec_from_loader("dpvpnctl", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


dpvpnctl = _load_dpvpnctl()


def find_binary(build_dir=None):
    """The dpvpn binary: $DPVPN_BIN, else BUILD/app/dpvpn/dpvpn."""
    if os.environ.get("DPVPN_BIN"):
        return os.environ["DPVPN_BIN"]
    build_dir = build_dir or os.environ.get("DPVPN_BUILD", os.path.join(ROOT, "build"))
    return os.path.join(build_dir, "app", "dpvpn", "dpvpn")


class Daemon:
    def __init__(self, config_path, lcores="0", memory_mb=512, extra_eal=(), log_path=None, huge=False):
        self.prefix = f"dpvpn-{os.getpid()}-{int(time.time() * 1000) % 100000}"
        self.config_path = config_path
        self.log_path = log_path or config_path + ".log"
        # "0-2" style lists use -l; mappings like "0@0,1@1,2@0" (more lcores than CPUs) use --lcores.
        eal = ["--lcores" if "@" in lcores else "-l", lcores, "--file-prefix", self.prefix, "--no-pci",
               "--log-level=4"]
        if not huge:
            eal += ["--no-huge", "-m", str(memory_mb)]
        self.cmd = [find_binary()] + eal + list(extra_eal) + ["--", "-f", config_path]
        self.proc = None
        self.tel = None
        self.output = ""
        self.returncode = None

    def start(self, timeout=20):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dpvpn exited with {self.proc.returncode}:\n{self.read_log()}")
            if "dpvpn: running" in self.read_log():
                try:
                    self.tel = dpvpnctl.Telemetry(self.prefix)
                    return self
                except OSError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dpvpn did not start within {timeout}s:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def query(self, cmd):
        return self.tel.query(cmd)

    def wait_for(self, predicate, timeout=20, interval=0.1, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            if self.proc.poll() is not None:
                raise RuntimeError(f"dpvpn died while waiting for {what}:\n{self.read_log()}")
            time.sleep(interval)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}")

    def thread_states(self):
        """Each thread's name and where the kernel has it waiting (wchan), for failure reports:
        a worker found in a kernel wait instead of its poll loop is stuck."""
        out = {}
        if self.proc is None or self.proc.poll() is not None:
            return out
        task = f"/proc/{self.proc.pid}/task"
        for tid in sorted(os.listdir(task)):
            try:
                with open(f"{task}/{tid}/comm") as c, open(f"{task}/{tid}/wchan") as w:
                    out[f"{c.read().strip()}/{tid}"] = w.read().strip() or "running"
            except OSError:
                pass
        return out

    def rx_total(self):
        return sum(w["rx_outside"] + w["rx_inside"] for w in self.query("/dpvpn/lcores").values())

    def stop(self, timeout=15):
        if self.tel is not None:
            self.tel.close()
            self.tel = None
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.returncode = self.proc.returncode
        self.log.close()
        self.output = self.read_log()
        self.proc = None
        return self.returncode

    def mbufs_in_use_after_shutdown(self):
        m = re.search(r"mbufs in use after shutdown: (\d+)", self.output)
        return int(m.group(1)) if m else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
