# SPDX-License-Identifier: BSD-3-Clause
"""Assertions for the Python test scripts: record, print failures, close with 'N passed, N failed'."""


class Checks:
    def __init__(self, name, verbose=False):
        self.name, self.verbose = name, verbose
        self.passed = self.failed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
        if self.verbose or not cond:
            print(("ok   " if cond else "FAIL ") + what, flush=True)
        return cond

    def summary(self):
        """Prints the closing line; returns the process exit code."""
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0

    def restart(self, name):
        """Forgets the counts, for a second attempt that is judged on its own."""
        self.name, self.passed, self.failed = name, 0, 0


def one_more_boot(check, run_once, why):
    """Runs run_once() -> (exit code, failed for a reason outside dpvpn); in the second case it
    runs once more, reported, with fresh counts. Returns the exit code of the last run."""
    rc, outside = run_once()
    if rc != 0 and outside:
        print("RETRY:", why, flush=True)
        check.restart(check.name + " (second boot)")
        rc, _ = run_once()
    return rc
