# SPDX-License-Identifier: BSD-3-Clause
"""A benchmark's helper process driven by lines: one command line in, one JSON line back
(perf/pptp_scale's loadgen.py, perf/pptp's pptp_peer). Every wait is bounded."""
import json
import queue
import subprocess
import threading


class LineProc:
    def __init__(self, cmd, log_path, name):
        self.name, self.err = name, open(log_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def reply(self, timeout):
        """The next JSON line (other output is skipped); TimeoutError or RuntimeError if none comes."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"{self.name} gave no answer within {timeout:.0f}s") from None
            if line is None:
                raise RuntimeError(f"{self.name} exited ({self.proc.poll()}); see {self.err.name}")
            if line.startswith("{"):
                return json.loads(line)

    def call(self, line, timeout=10):
        """One command line; its JSON answer."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.reply(timeout)

    def stop(self, quit_line):
        """Asks it to quit with quit_line, kills it if it does not."""
        if self.proc.poll() is None:
            try:
                self.call(quit_line, 15)
                self.proc.wait(10)
            except (OSError, TimeoutError, RuntimeError, ValueError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.err.close()
