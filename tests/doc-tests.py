#!/usr/bin/env python3
"""SECURITY.md names the test behind each claim: every name must be a
registered ctest test, and every row of the tables that state what
fanguard does (prevented, detected, fail modes) must name one.

usage: doc-tests.py SECURITY.md BUILD_DIR"""
import re
import subprocess
import sys

NAME = re.compile(r"\b(?:unit|e2e|build)\.[a-z][a-z0-9_]*\b")
MUST_NAME = ("## Prevented", "## Only detected", "## Fail modes")


def registered(build):
    out = subprocess.run(["ctest", "--test-dir", build, "-N"], check=True,
                         capture_output=True, text=True).stdout
    return set(re.findall(r"Test\s+#\d+: (\S+)", out))


def main():
    doc, build = sys.argv[1], sys.argv[2]
    known = registered(build)
    if not known:
        print(f"no tests registered in {build}")
        return 1
    bad = 0
    section = ""
    for n, line in enumerate(open(doc, encoding="utf-8"), 1):
        if line.startswith("## "):
            section = line.strip()
        for name in NAME.findall(line):
            if name not in known:
                print(f"{doc}:{n}: names {name}, which is no registered test")
                bad += 1
        row = line.startswith("|") and not re.match(r"^\|\s*-", line)
        if row and section.startswith(MUST_NAME) and not NAME.search(line):
            # the header row of each table names no test
            if not re.match(r"^\|\s*(technique|situation)\s*\|", line):
                print(f"{doc}:{n}: a row that names no test")
                bad += 1
    print(f"{len(set(NAME.findall(open(doc, encoding='utf-8').read())))} test names checked, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
