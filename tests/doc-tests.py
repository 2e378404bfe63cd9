#!/usr/bin/env python3
"""SECURITY.md names the test behind each claim: every name must be a
registered ctest test, and every row of the tables that state what
fanguard does (prevented, detected, fail modes) must name one.

And fanguard.conf(5) documents every key of every section that the
loader knows (src/confparse.c's key tables), once, in that section.

usage: doc-tests.py SECURITY.md BUILD_DIR
       doc-tests.py --conf src/confparse.c man/fanguard.conf.5"""
import re
import subprocess
import sys

NAME = re.compile(r"\b(?:unit|e2e|build)\.[a-z][a-z0-9_]*\b")
MUST_NAME = ("## Prevented", "## Only detected", "## Fail modes")


def registered(build):
    out = subprocess.run(["ctest", "--test-dir", build, "-N"], check=True,
                         capture_output=True, text=True).stdout
    return set(re.findall(r"Test\s+#\d+: (\S+)", out))


def loader_keys(src):
    """{section: [key, ...]} from the keydef tables."""
    text = open(src, encoding="utf-8").read()
    out = {}
    for m in re.finditer(r"static const struct keydef (\w+)_keys\[\] = \{(.*?)\n\};", text, re.S):
        out[m.group(1)] = re.findall(r'(?:KEY|CHOICE|NUM)\("([a-z0-9_]+)"|\{"([a-z0-9_]+)", V_',
                                     m.group(2))
        out[m.group(1)] = [a or b for a, b in out[m.group(1)]]
    return out


def man_keys(man):
    """{section: [key, ...]}: the first word of each .TP entry per .SS [...]."""
    out, section, after_tp = {}, None, False
    for line in open(man, encoding="utf-8"):
        m = re.match(r"^\.SS \[(\w+)", line)
        if m:
            section = m.group(1)
            out.setdefault(section, [])
        elif line.startswith(".SH"):
            section = None
        elif after_tp and section:
            m = re.match(r'^\.B[IR]?\s+"?([a-z0-9_]+)', line)
            if m:
                out[section].append(m.group(1))
        after_tp = line.startswith(".TP")
    return out


def conf(src, man):
    want, have, bad = loader_keys(src), man_keys(man), 0
    for section, keys in want.items():
        for key in keys:
            n = have.get(section, []).count(key)
            if n != 1:
                print(f"{man}: [{section}] {key} is documented {n} times, not once")
                bad += 1
    print(f"{sum(map(len, want.values()))} keys in {len(want)} sections checked, {bad} problems")
    return 1 if bad else 0


def main():
    if sys.argv[1] == "--conf":
        return conf(sys.argv[2], sys.argv[3])
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
