#!/usr/bin/env bash
# fanguard deployments, the real binary, over a sequence of bootc status
# documents (tests/data/bootc/seq-*.json) with one state file: baseline,
# staged, reboot into it, rollback queued, rolled back, a downgrade, an
# unapproved image, /usr made writable. Each finding fires once, with the
# exit status it calls for, on stdout (--json) and in the configured log
# sink, and not again on an unchanged status. Then the ways it must fail:
# status unreadable or malformed (69), a bad config, approved list or state
# (78), a state it cannot save (73); and bootc run for real from PATH.
# No daemon: nothing here is guarded.
. "$(dirname "$0")/lib.sh"

D=$FG_SRC/tests/data
STATE=$T/state/deployments.json
A=sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1
B=sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2
printf '# approved by the deploy pipeline\n%s CHG-1000\n%s CHG-1001\n' "$A" "$B" >"$T/approved"
cp "$D/policy/secure.json" "$T/policy.json"
cat >"$CONF" <<EOF
[fanguard]
log = file:$LOG

[deployments]
images = quay.io/example/os:*
approved = $T/approved
min_timestamp = 2025-12-01
signature_policy = $T/policy.json
EOF

# The findings on stdout, one "action slot reason kind[ ticket]" a line;
# every line must be one JSON object, and the run's deployment-status last.
findings() {
	python3 - "$1" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
evs = [json.loads(l) for l in lines]
assert all(isinstance(e, dict) for e in evs)
assert evs and evs[-1]["event"]["action"] == "deployment-status", "no deployment-status last"
for e in evs[:-1]:
    d = e["fanguard"]["deployment"]
    print(e["event"]["action"], d.get("slot", "host"), e["fanguard"]["reason"],
          e["event"]["kind"] + (" " + d["ticket"] if d.get("ticket") else ""))
EOF
}

# step NAME FIXTURE RC EXPECTED: one run; its exit status and its findings.
step() {
	local name=$1 fixture=$2 want_rc=$3 want=$4 rc got
	timeout -k 2 30 "$FANGUARD" deployments --config "$CONF" --status "$D/bootc/$fixture" \
		--state "$STATE" --json >"$T/out.json" 2>"$T/err"
	rc=$?
	got=$(findings "$T/out.json" 2>&1)
	if [ "$rc" != "$want_rc" ]; then
		fail "$name: exit $rc, want $want_rc ($(head -c 300 "$T/err"))"
	elif [ "$got" != "$want" ]; then
		fail "$name: findings"$'\n'"got:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
	else
		pass "$name"
	fi
	echo "$name:"; sed 's/^/    /' <<<"${got:-(none)}"
}

step "baseline: nothing alarming" seq-01-baseline.json 0 ""
check "the first run recorded the baseline" \
	grep -q '"message":"booted deployment recorded; 0 finding(s) new (0 alert(s)), 0 still holding; baseline recorded"' "$T/out.json"
check "the state file is there, mode 0640" test "$(stat -c %a "$STATE")" = 640
step "staged, approved: info with its ticket" seq-02-staged.json 0 \
	"deployment-staged staged approved event CHG-1001"
step "staged again: nothing new" seq-02-staged.json 0 ""
step "rebooted into it: booted-changed, approved" seq-03-rebooted.json 0 \
	"booted-changed booted approved event CHG-1001"
step "rollback queued: alert" seq-04-rollback-queued.json 1 \
	"rollback-queued rollback queued alert"
step "rollback still queued: nothing new" seq-04-rollback-queued.json 0 ""
step "rolled back: booted-changed and a downgrade" seq-05-rolled-back.json 1 \
	"booted-changed booted approved event CHG-1000
downgrade booted older-than-booted alert"
step "an old image staged: downgrade and unapproved" seq-06-downgrade-staged.json 1 \
	"deployment-staged staged not-approved alert
downgrade staged older-than-min-timestamp alert
downgrade staged older-than-booted alert
image-unapproved staged not-approved alert"
step "switched to an unapproved, unsigned image" seq-07-unapproved.json 1 \
	"deployment-staged staged not-approved alert
image-switched spec not-in-images alert
image-unapproved spec not-in-images alert
image-unapproved staged not-in-images alert
image-unapproved staged not-approved alert
signature-not-enforced spec insecure alert"
step "usroverlay: /usr writable" seq-08-usroverlay.json 1 \
	"image-switched spec in-images event
usr-overlay host transient alert"
step "usroverlay again: nothing new" seq-08-usroverlay.json 0 ""

# The same findings reached the configured sink, each once.
check "the sink has 3 downgrades" test "$(count_log event.action=downgrade)" = 3
check "the sink has 1 rollback-queued" test "$(count_log event.action=rollback-queued)" = 1
check "the sink has 1 usr-overlay, an alert at syslog alert" \
	test "$(count_log event.action=usr-overlay event.kind=alert log.level=alert)" = 1
check "the sink names the digest, ECS container.image.hash.all" \
	test "$(count_log event.action=booted-changed container.image.hash.all="['$A']")" = 1
check "the sink has a deployment-status per run (11)" \
	test "$(count_log event.action=deployment-status)" = 11
check "no temporary state file is left" test -z "$(ls -A "$T/state" | grep -v '^deployments.json$')"

# policy.json weakened: the spec image would be accepted unsigned.
cp "$D/policy/insecure-default.json" "$T/policy.json"
step "policy.json accepts anything: signature-not-enforced" seq-08-usroverlay.json 1 \
	"signature-not-enforced spec policy-accepts-unsigned alert"
check "the finding names the policy entry that decides" \
	grep -q 'decides quay.io/example/os:stable by default: insecureAcceptAnything' "$T/out.json"

# stdin, and the human report.
timeout 30 "$FANGUARD" deployments --config "$CONF" --status - --state "$T/s2.json" \
	<"$D/bootc/seq-07-unapproved.json" >"$T/human" 2>"$T/err"
rc=$?
check "--status - reads stdin (exit 1 on alerts)" test "$rc" = 1
check "the human report lists the new alerts" grep -q '^NEW ALERT   image-switched\|^NEW ALERT   image-unapproved' "$T/human"
check "the human report shows the slots" grep -q '^staged    quay.io/evil/os:latest sha256:c3c3' "$T/human"

# Status unreadable or malformed: 69, with the reason, and logged as such.
expect_rc() {
	local desc=$1 want=$2 needle=$3 rc; shift 3
	timeout -k 2 30 "$@" >"$T/o" 2>"$T/e"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$desc: exit $rc, want $want ($(head -c 300 "$T/e"))"
	elif ! grep -qF -- "$needle" "$T/e"; then
		fail "$desc: stderr does not say '$needle': $(head -c 300 "$T/e")"
	else
		pass "$desc"
	fi
}
before=$(count_log event.action=deployment-status event.outcome=failure)
expect_rc "a missing status file: 69" 69 "No such file" \
	"$FANGUARD" deployments --config "$CONF" --status "$T/none.json" --state "$T/s3.json"
printf '{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","status":{"booted":{"image":{"image":{"image":"x","transport":"registry"}}}}}' >"$T/bad.json"
expect_rc "a malformed status names the field: 69" 69 "status.booted.image.imageDigest: missing" \
	"$FANGUARD" deployments --config "$CONF" --status "$T/bad.json" --state "$T/s3.json"
printf 'not json' >"$T/notjson"
expect_rc "not JSON on stdin: 69" 69 "not valid JSON" \
	"$FANGUARD" deployments --config "$CONF" --status - --state "$T/s3.json" <"$T/notjson"
check "an unreadable status is logged as a failed deployment-status" \
	test "$(count_log event.action=deployment-status event.outcome=failure log.level=error)" = $((before + 3))
check "and leaves no state behind" test ! -e "$T/s3.json"

# bootc itself, from PATH: a stand-in that prints a fixture, then fails.
cp "$D/policy/secure.json" "$T/policy.json"
mkdir "$T/bin"
printf '#!/bin/sh\n[ "$*" = "status --format=json" ] || exit 9\nexec cat %q\n' \
	"$D/bootc/seq-02-staged.json" >"$T/bin/bootc"
chmod +x "$T/bin/bootc"
PATH=$T/bin:$PATH timeout 30 "$FANGUARD" deployments --config "$CONF" --state "$T/s4.json" --json >"$T/o4" 2>"$T/e4"
rc=$?
check "bootc status --format=json is run when no --status is given" test "$rc" = 0
check "its status was read (the staged deployment is reported)" \
	grep -q '"action":"deployment-staged"' "$T/o4"
printf '#!/bin/sh\necho broken >&2\nexit 3\n' >"$T/bin/bootc"
expect_rc "bootc failing: 69" 69 "bootc status failed (exit status 3)" \
	env PATH="$T/bin:$PATH" "$FANGUARD" deployments --config "$CONF" --state "$T/s4.json"
rm "$T/bin/bootc"
expect_rc "no bootc at all: 69" 69 "cannot run bootc" \
	env PATH="$T/bin" "$FANGUARD" deployments --config "$CONF" --state "$T/s4.json"

# Config errors: 78.
printf '[deployments]\nmin_timestamp = last tuesday\n' >"$T/bad.conf"
expect_rc "a bad min_timestamp: 78 at file:line" 78 "$T/bad.conf:2: min_timestamp: 'last tuesday'" \
	"$FANGUARD" deployments --config "$T/bad.conf" --status "$D/bootc/seq-01-baseline.json" --state "$T/s5.json"
printf '[deployments]\napproved = %s/no-such-file\n' "$T" >"$T/bad2.conf"
expect_rc "a missing approved file: 78" 78 "no-such-file: cannot open" \
	"$FANGUARD" deployments --config "$T/bad2.conf" --status "$D/bootc/seq-01-baseline.json" --state "$T/s5.json"
printf 'sha256:ok\nwhat is this\n' >"$T/approved2"
printf '[deployments]\napproved = %s/approved2\n' "$T" >"$T/bad3.conf"
expect_rc "a bad approved line: 78 at file:line" 78 "approved2:2: 'what' is not a digest" \
	"$FANGUARD" deployments --config "$T/bad3.conf" --status "$D/bootc/seq-01-baseline.json" --state "$T/s5.json"
echo '{"version": 99}' >"$T/s6.json"
expect_rc "a state that is not ours: 78, never a new baseline" 78 "not a state file fanguard wrote" \
	"$FANGUARD" deployments --config "$CONF" --status "$D/bootc/seq-01-baseline.json" --state "$T/s6.json"
check "the foreign state is left as it was" grep -q '"version": 99' "$T/s6.json"
expect_rc "a state that cannot be saved: 73" 73 "cannot save the state" \
	"$FANGUARD" deployments --config "$CONF" --status "$D/bootc/seq-01-baseline.json" --state /proc/fanguard-state.json
expect_rc "a stray argument: usage, 2" 2 "usage: fanguard deployments" \
	"$FANGUARD" deployments --config "$CONF" extra

finish
