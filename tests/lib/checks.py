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
