#!/usr/bin/env python3
"""Checks fanguard's JSON lines against ECS's generated fields.csv.

usage: ecs_check.py FIELDS_CSV SRC_DIR LINES_FILE

Every line must be one JSON object of nested objects (no dotted keys). Every
leaf outside fanguard.* must be an ECS field with ECS's JSON type (arrays
only where ECS normalises to an array), or auditbeat's user.audit.id/name,
which ECS does not define. The categorisation fields take ECS's allowed
values, and ecs.version is the version of fields.csv.

The actions the sources can emit are read from SRC_DIR/*.c: a literal in an
event_base(), fg_guard_log_daemon() or notif_log() call, or in an
`.action = "..."` initialiser. Each must appear in LINES_FILE, so an action
added to the code without a fixture in tests/unit/test_ecs.c fails here.
"""
import csv
import glob
import json
import os
import re
import sys

# auditbeat's fields for the login uid, which ECS leaves to it.
EXTRA = {"user.audit.id": ("keyword", ""), "user.audit.name": ("keyword", "")}

# From ECS's "Categorization Fields" reference (not in fields.csv).
ALLOWED = {
    "event.kind": {"alert", "asset", "enrichment", "event", "metric", "state",
                   "pipeline_error", "signal"},
    "event.category": {"api", "authentication", "configuration", "database", "driver",
                       "email", "file", "host", "iam", "intrusion_detection", "library",
                       "malware", "network", "package", "process", "registry", "session",
                       "threat", "vulnerability", "web"},
    "event.type": {"access", "admin", "allowed", "change", "connection", "creation",
                   "deletion", "denied", "device", "end", "error", "group", "indicator",
                   "info", "installation", "protocol", "start", "user"},
    "event.outcome": {"failure", "success", "unknown"},
}

# The fields every line carries, whatever its action.
ALWAYS = ["@timestamp", "ecs.version", "event.kind", "event.category", "event.type",
          "event.action", "event.outcome", "event.severity", "event.module",
          "event.dataset", "event.id", "event.sequence", "log.level", "host.name",
          "host.id", "fanguard.instance"]

STRINGS = {"keyword", "constant_keyword", "wildcard", "match_only_text", "text", "ip",
           "version"}
INTEGERS = {"long", "integer", "short", "byte", "unsigned_long"}
NUMBERS = {"float", "double", "scaled_float", "half_float"}
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")

# Where the sources name an action.
EMITTERS = [
    re.compile(r'\bevent_base\s*\(\s*[^,()]+,\s*"([a-z][a-z-]*)"'),
    re.compile(r'\bfg_guard_log_daemon\s*\(\s*[^,()]+,\s*"([a-z][a-z-]*)"'),
    re.compile(r'\bnotif_log\s*\(\s*[^,()]+,\s*[^,()]+,\s*"([a-z][a-z-]*)"'),
    re.compile(r'\.action\s*=\s*"([a-z][a-z-]*)"'),
]


def load_fields(path):
    fields, versions = {}, set()
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            fields[row["Field"]] = (row["Type"], row["Normalization"])
            versions.add(row["ECS_Version"])
    if len(versions) != 1:
        sys.exit(f"{path}: expected one ECS version, found {versions}")
    fields.update(EXTRA)
    return fields, versions.pop()


def source_actions(src):
    found = {}
    for path in sorted(glob.glob(os.path.join(src, "**", "*.c"), recursive=True)):
        text = open(path, encoding="utf-8").read()
        for rx in EMITTERS:
            for m in rx.finditer(text):
                found.setdefault(m.group(1), os.path.basename(path))
    return found


def type_ok(ecs_type, v):
    if ecs_type in STRINGS:
        return isinstance(v, str)
    if ecs_type in INTEGERS:
        return isinstance(v, int) and not isinstance(v, bool)
    if ecs_type in NUMBERS:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if ecs_type == "boolean":
        return isinstance(v, bool)
    if ecs_type == "date":
        return isinstance(v, str) and DATE.match(v) is not None
    if ecs_type in ("object", "flattened"):
        return isinstance(v, dict)
    return False


class Checker:
    def __init__(self, fields, version):
        self.fields, self.version, self.errors = fields, version, []

    def err(self, n, msg):
        if len(self.errors) < 50:
            self.errors.append(f"line {n}: {msg}")

    def keys(self, n, obj, path):
        """No dotted or empty keys anywhere, fanguard.* included."""
        if isinstance(obj, dict):
            for k, v in obj.items():
                if not k or ("." in k and k != "@timestamp"):
                    self.err(n, f"dotted or empty key {path + k!r}")
                self.keys(n, v, path + k + ".")
        elif isinstance(obj, list):
            for v in obj:
                self.keys(n, v, path)

    def walk(self, n, obj, path):
        for k, v in obj.items():
            name = path + k
            if name == "fanguard":
                if not isinstance(v, dict):
                    self.err(n, "fanguard is not an object")
                continue
            known = self.fields.get(name)
            if known and known[0] not in ("object", "flattened", "nested"):
                self.leaf(n, name, v, known)
            elif isinstance(v, dict):
                self.walk(n, v, name + ".")
            elif known is None:
                self.err(n, f"{name} is not an ECS field")
            else:
                self.err(n, f"{name}: ECS {known[0]} holds {type(v).__name__}")

    def leaf(self, n, name, v, known):
        ecs_type, norm = known
        if "array" in norm:
            if not isinstance(v, list) or not v:
                self.err(n, f"{name}: ECS says array, got {v!r}")
                return
            values = v
        else:
            if isinstance(v, list):
                self.err(n, f"{name}: an array where ECS has one {ecs_type}")
                return
            values = [v]
        for x in values:
            if not type_ok(ecs_type, x):
                self.err(n, f"{name}: {x!r} is not ECS {ecs_type}")
            allowed = ALLOWED.get(name)
            if allowed and x not in allowed:
                self.err(n, f"{name}: {x!r} is not one of ECS's values")
        self.seen.add(name)

    def line(self, n, raw):
        try:
            ev = json.loads(raw)
        except ValueError as e:
            self.err(n, f"not JSON: {e}")
            return None
        if not isinstance(ev, dict):
            self.err(n, "not an object")
            return None
        self.seen = set()
        self.keys(n, ev, "")
        self.walk(n, ev, "")
        for f in ALWAYS:
            if get(ev, f) is None:
                self.err(n, f"{f} missing ({get(ev, 'event.action')})")
        if get(ev, "ecs.version") != self.version:
            self.err(n, f"ecs.version {get(ev, 'ecs.version')} is not {self.version}")
        key = get(ev, "fanguard.key")
        if key is not None and get(ev, "tags") != [key]:
            self.err(n, f"tags {get(ev, 'tags')} does not carry the key {key}")
        if get(ev, "fanguard.decision") == "detected" and get(ev, "event.kind") != "alert":
            self.err(n, "a detected change that is not event.kind alert")
        return ev


def get(obj, dotted):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def main():
    fields_csv, src, lines_file = sys.argv[1:4]
    fields, version = load_fields(fields_csv)
    c = Checker(fields, version)
    actions, n_lines = set(), 0
    with open(lines_file, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            ev = c.line(n, raw)
            n_lines += 1
            if ev:
                actions.add(get(ev, "event.action"))
    emitted = source_actions(src)
    # A pattern that stops matching after a refactor must not pass quietly.
    if len(emitted) < 15:
        c.errors.append(f"only {len(emitted)} actions found in {src}: {sorted(emitted)}")
    for a, where in sorted(emitted.items()):
        if a not in actions:
            c.errors.append(f"action {a!r} ({where}) has no fixture in the ECS test")
    for e in c.errors:
        print(e, file=sys.stderr)
    print(f"{n_lines} lines, {len(actions)} actions, {len(emitted)} in the sources, "
          f"ECS {version}: {'FAILED' if c.errors else 'ok'}")
    sys.exit(1 if c.errors else 0)


main()
