#!/usr/bin/env bash
# The signature policy judged by its content in the running daemon
# (DESIGN 14): at start, after a write-close or a rename by an *allowed*
# writer, and at reload. A weakened policy.json is an alert within one
# second, naming the writer and its rule, with the scopes that changed; an
# unparseable one is an error naming the field; a refused write changes
# nothing. The policy file is a single-file subtree in a temp dir.
. "$(dirname "$0")/lib.sh"

S=$T/sudoers.d
C=$T/containers
P=$C/policy.json
D=$FG_SRC/tests/data/policy
mkdir -p "$S" "$C" "$T/src"
cp "$D/secure.json" "$P"
for f in insecure-default repo-weakened malformed-type secure; do cp "$D/$f.json" "$T/src/"; done
{
	conf_base
	cat <<EOF

[subtree containers-policy]
path = $P
key = supply_chain

[writer config-agent]
# the configuration agent: allowed, and still able to push a bad policy
exe = /usr/bin/cp /usr/bin/mv
subtrees = containers-policy

[deployments]
images = quay.io/example/os:*
signature_policy = $P

[fanguard]
heartbeat_interval = 1s
EOF
} >"$CONF"

sp() { count_log event.action=signature-policy "$@"; }

start_daemon
logged "at start: enforced, a notice" 1 event.action=signature-policy \
	fanguard.sigpolicy.trigger=start fanguard.sigpolicy.verdict=enforced log.level=notice
logged "the start verdict lists the host image's scope" 1 event.action=signature-policy \
	fanguard.sigpolicy.trigger=start 'fanguard.sigpolicy.scopes=~quay.io/example/os:*'

# An allowed writer weakens it: the alert must be there within one second.
before=$(sp fanguard.sigpolicy.verdict=weakened)
t0=${EPOCHREALTIME//[!0-9]/}
cp "$T/src/insecure-default.json" "$P"
ok=
while [ $((${EPOCHREALTIME//[!0-9]/} - t0)) -lt 1000000 ]; do
	[ "$(sp fanguard.sigpolicy.verdict=weakened)" -gt "$before" ] 2>/dev/null && { ok=1; break; }
	sleep 0.02
done
ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
check "weakened by an allowed writer: the alert within 1 s (${ms} ms)" test -n "$ok"
logged "the alert is event.kind alert, decision detected, syslog alert" 1 \
	event.action=signature-policy fanguard.sigpolicy.verdict=weakened event.kind=alert \
	fanguard.decision=detected log.level=alert fanguard.sigpolicy.trigger=write
logged "it names the writer and its rule" 1 event.action=signature-policy \
	fanguard.sigpolicy.verdict=weakened process.executable=/usr/bin/cp fanguard.rule=config-agent
status_verdict() {
	timeout 10 "$FANGUARD" status --socket "$SOCK" --json 2>/dev/null | python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "signature_policy":
                return v
            r = find(v)
            if r:
                return r
print(find(json.load(sys.stdin)))'
}
check "fanguard status --json shows the verdict: weakened" test "$(status_verdict)" = weakened
logged "a heartbeat carries the verdict" 1 event.action=heartbeat fanguard.heartbeat.sigpolicy=weakened
check "fanguard status shows it in text" \
	bash -c "timeout 10 '$FANGUARD' status --socket '$SOCK' | grep -q 'signature policy (policy.json) *weakened'"
logged "it names the scopes that changed" 1 event.action=signature-policy \
	'fanguard.sigpolicy.changed=~default: reject -> insecureAcceptAnything' \
	'fanguard.sigpolicy.changed=~quay.io/example/os:*: sigstoreSigned -> insecureAcceptAnything'
logged "and the write itself was allowed by the rule" 1 event.action=open-write \
	fanguard.decision=allow fanguard.rule=config-agent file.path="$P"

# Back to a signed policy through a rename (what ansible and editors do).
cp "$T/src/secure.json" "$C/policy.json.new"
mv "$C/policy.json.new" "$P"
logged "renamed back: enforced, trigger rename" 1 event.action=signature-policy \
	fanguard.sigpolicy.trigger=rename fanguard.sigpolicy.verdict=enforced \
	'fanguard.sigpolicy.changed=~default: insecureAcceptAnything -> reject'

# Only the host's repository loosened: a per-transport, per-scope weakening.
cp "$T/src/repo-weakened.json" "$P"
logged "the host repository's own scope loosened: weakened" 1 event.action=signature-policy \
	fanguard.sigpolicy.verdict=weakened \
	'fanguard.sigpolicy.changed=~quay.io/example/os:*: sigstoreSigned -> insecureAcceptAnything'
logged "the deciding entry is named" 1 event.action=signature-policy \
	fanguard.sigpolicy.verdict=weakened \
	'fanguard.sigpolicy.scopes=~transports.docker["quay.io/example/os"]'

# Malformed: unparseable, an error that names the field.
cp "$T/src/malformed-type.json" "$P"
logged "malformed: unparseable at error, naming the field" 1 event.action=signature-policy \
	fanguard.sigpolicy.verdict=unparseable log.level=error event.outcome=failure \
	'fanguard.sigpolicy.error=~transports.docker["quay.io/example/os"][0].type'

# A writer the policy does not allow is refused: nothing to judge again.
n=$(sp)
refuse "an unlisted writer cannot touch policy.json" "$P" bash -c "echo '{}' > '$P'"
sleep 0.3
check "a refused write is not judged again" test "$(sp)" = "$n"

# Reload judges it again.
timeout 10 "$FANGUARD" reload --socket "$SOCK" >/dev/null
logged "reload: judged again" 1 event.action=signature-policy fanguard.sigpolicy.trigger=reload \
	fanguard.sigpolicy.verdict=unparseable

check "fanguard status: unparseable now" test "$(status_verdict)" = unparseable

# One event per change: start, 4 writes/renames, reload.
check "one signature-policy event per change (6)" test "$(sp)" = 6

finish
