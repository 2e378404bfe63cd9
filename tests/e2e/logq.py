#!/usr/bin/env python3
"""Counts fanguard log lines matching filters; fails on any line that is not
one JSON object.

usage: logq.py LOG [path=value ...] [--print]
A path is dotted into nested objects (fanguard.decision=deny); a value of
'~text' matches a substring, '!' matches a missing field."""
import json
import sys


def get(obj, dotted):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def main():
    log, args = sys.argv[1], sys.argv[2:]
    show = "--print" in args
    filters = [a.split("=", 1) for a in args if a != "--print"]
    count = 0
    with open(log, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                ev = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                print(f"{log}:{n}: not a JSON line: {e}: {raw[:200]!r}", file=sys.stderr)
                sys.exit(2)
            if not isinstance(ev, dict):
                print(f"{log}:{n}: not an object", file=sys.stderr)
                sys.exit(2)
            ok = True
            for key, want in filters:
                got = get(ev, key)
                if want == "!":
                    ok = got is None
                elif want.startswith("~"):
                    ok = got is not None and want[1:] in str(got)
                else:
                    ok = got is not None and str(got) == want
                if not ok:
                    break
            if ok:
                count += 1
                if show:
                    print(raw.decode().rstrip())
    print(count)


main()
