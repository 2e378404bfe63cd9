#!/usr/bin/env bash
# Deployment twins (issue 16) on a fake sysroot: every deployment's etc is
# guarded like the running one; only the transaction (and a rule that says
# deployments = yes) writes there; the booted deployment, whose etc is the
# running etc, is guarded once; a deployment made while the daemon runs is
# guarded before its writes are answered, and a removed one drops out.
. "$(dirname "$0")/lib.sh"

SR=$T/sysroot
D=$SR/ostree/deploy/os/deploy
CF=$SR/state/deploy
BOOTED=$D/aaaa.0
STAGED=$D/bbbb.0
COMPOSE=$CF/cccc
S=$T/etc/sudoers.d
mkdir -p "$BOOTED/etc/sudoers.d" "$STAGED/etc/sudoers.d" "$COMPOSE/etc/sudoers.d" "$T/etc" \
	"$T/bin"
echo staged > "$STAGED/etc/sudoers.d/existing"
# The booted deployment's etc is the running etc, as on the host: the same
# directory under two paths (this test's private mount namespace).
mount --bind "$BOOTED/etc" "$T/etc" || { echo "FAIL - bind mount"; exit 1; }
touch "$D/bbbb.0.origin" # ostree's origin files sit next to the roots
for b in allowed-writer deployer fake-bootc; do cp /bin/bash "$T/bin/$b"; done
echo fanguard-test-transaction-tool >> "$T/bin/fake-bootc"

{
	conf_base
	cat <<EOC

[deployments]
roots = $SR/ostree/deploy/*/deploy/* $CF/*
etc = $T/etc

[writer admin]
exe = $T/bin/allowed-writer
subtrees = sudoers

[writer deployer]
exe = $T/bin/deployer
subtrees = sudoers
deployments = yes

[transaction]
exe = $T/bin/fake-bootc
EOC
} > "$CONF"

status_json() {
	"$FANGUARD" status --json --socket "$SOCK" > "$T/st.json" 2>/dev/null
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/st.json"
}
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi; }
deps() { status_json "' '.join(sorted(x['id'] + ':' + str(x['booted']) + ':' + str(x['twins']) for x in d['deployments']))"; }

start_daemon

eq "status lists the three deployments, the booted one without twins" "$(deps)" \
	"aaaa.0:True:0 bbbb.0:False:1 cccc:False:1"
eq "no deployment counts as a degradation" "$(status_json 'd["status"]')" enforcing

# --- an unlisted writer, and a rule without deployments = yes ---
for root in "$STAGED" "$COMPOSE"; do
	refuse "unlisted writer denied in ${root#"$SR"}/etc" "$root/etc/sudoers.d/zzz" \
		bash -c "echo evil > '$root/etc/sudoers.d/zzz'"
	refuse "a rule without deployments = yes does not reach ${root#"$SR"}/etc" \
		"$root/etc/sudoers.d/adm" "$T/bin/allowed-writer" -c "echo a > '$root/etc/sudoers.d/adm'"
done
same_content "the staged etc is as it was" "$STAGED/etc/sudoers.d/existing" staged
check "the same rule still writes the running etc" \
	timeout 10 "$T/bin/allowed-writer" -c "echo a > '$S/adm'"
check "a rule with deployments = yes writes a deployment's etc" \
	timeout 10 "$T/bin/deployer" -c "echo d > '$STAGED/etc/sudoers.d/dep'"
logged "it is logged as allowed by that rule" 1 fanguard.decision=allow fanguard.rule=deployer \
	file.path="$STAGED/etc/sudoers.d/dep"

# explain agrees with the daemon about a twin
"$FANGUARD" explain --config "$CONF" --path "$STAGED/etc/sudoers.d/x" --exe /usr/bin/bash \
	>"$T/ex.txt" 2>&1
eq "explain: an unlisted writer in a twin is denied (exit 1)" "$?" 1
check "explain names the twin's subtree" grep -q "sudoers" "$T/ex.txt"
"$FANGUARD" explain --config "$CONF" --path "$STAGED/etc/sudoers.d/x" --exe "$T/bin/deployer" \
	>"$T/ex.txt" 2>&1
eq "explain: the deployments = yes rule allows there (exit 0)" "$?" 0

# --- the deployment's fields ---
logged "a twin's line names the ostree deployment" 1 fanguard.decision=deny \
	file.path="$STAGED/etc/sudoers.d/zzz" fanguard.subtree=sudoers fanguard.key=priv_esc_persist \
	fanguard.deployment.id=bbbb.0 fanguard.deployment.stateroot=os fanguard.deployment.booted=False
logged "a composefs deployment has an id and no stateroot" 1 fanguard.decision=deny \
	file.path="$COMPOSE/etc/sudoers.d/zzz" fanguard.deployment.id=cccc \
	fanguard.deployment.stateroot='!' fanguard.deployment.booted=False

# --- the transaction and its grandchild ---
check "the transaction's grandchild writes both deployments' etc" timeout 10 "$T/bin/fake-bootc" -c \
	"bash -c \"sh -c 'echo tx > $STAGED/etc/sudoers.d/tx; echo tx > $COMPOSE/etc/sudoers.d/tx'; true\"; true"
same_content "the transaction's file landed" "$COMPOSE/etc/sudoers.d/tx" tx
logged "allowed as the transaction" 2 fanguard.reason=transaction file.path="~/etc/sudoers.d/tx" \
	fanguard.deployment.booted=False
logged "summarised when it ends" 1 event.action=transaction-end fanguard.count=2

# --- the booted deployment: one subtree, one line per write ---
refuse "the running etc is guarded" "$S/booted" bash -c "echo evil > '$S/booted'"
refuse "the booted deployment's own path is the same subtree" "$BOOTED/etc/sudoers.d/other" \
	bash -c "echo evil > '$BOOTED/etc/sudoers.d/other'"
sleep 0.3
eq "one deny line for the write into the running etc" \
	"$(count_log event.action=open-write fanguard.decision=deny file.path="~sudoers.d/booted")" 1
eq "one deny line for the write by the deployment's path" \
	"$(count_log event.action=open-write fanguard.decision=deny file.path="~sudoers.d/other")" 1
logged "the running etc's line names the booted deployment" 1 file.path="$S/booted" \
	fanguard.deployment.id=aaaa.0 fanguard.deployment.booted=True

# --- a deployment made while running: guarded before its writes are answered ---
N=20
silent=0 denied=0 found=0
for i in $(seq $N); do
	r=$D/eeee.$i
	# the whole tree and the write at once, as a tool would
	if timeout 10 bash -c "mkdir -p '$r/etc/sudoers.d' && echo evil > '$r/etc/sudoers.d/f'" \
		2>"$T/new.err"; then
		if wait_log 1 file.path="$r/etc/sudoers.d/f" fanguard.decision=detected; then
			found=$((found + 1))
		else
			silent=$((silent + 1))
		fi
	elif grep -q "Operation not permitted" "$T/new.err"; then
		denied=$((denied + 1))
	fi
done
echo "# new deployments: $denied of $N first writes denied, $found detected (written before the mark), $silent silent"
eq "no first write into a new deployment went unseen" "$((denied + found)):$silent" "$N:0"
refuse "the new deployment is guarded" "$D/eeee.1/etc/sudoers.d/g" \
	bash -c "echo evil > '$D/eeee.1/etc/sudoers.d/g'"
logged "its line names it" 1 fanguard.decision=deny file.path="$D/eeee.1/etc/sudoers.d/g" \
	fanguard.deployment.id=eeee.1 fanguard.deployment.stateroot=os

# the third deployment, made by the upgrade itself
check "the transaction makes a deployment and writes its etc" timeout 10 "$T/bin/fake-bootc" -c \
	"bash -c \"mkdir -p $D/dddd.0/etc/sudoers.d && echo merged > $D/dddd.0/etc/sudoers.d/m\"; true"
same_content "the merge landed" "$D/dddd.0/etc/sudoers.d/m" merged
sleep 0.3
refuse "then an unlisted writer is denied there" "$D/dddd.0/etc/sudoers.d/zzz" \
	bash -c "echo evil > '$D/dddd.0/etc/sudoers.d/zzz'"
eq "status has the new deployments" "$(status_json "len(d['deployments'])")" $((3 + N + 1))

# --- a removed deployment drops its marks ---
m0=$(status_json "[x['marks'] for x in d['deployments'] if x['id'] == 'bbbb.0'][0]")
check "the staged deployment carries marks" test "$m0" -gt 0
total0=$(status_json "d['health']['marks']")
rm -rf "$STAGED"
logged "its removal is logged" 1 event.action=deployments-changed message="~1 gone"
sleep 0.2
eq "status no longer lists it" "$(status_json "sum(x['id'] == 'bbbb.0' for x in d['deployments'])")" 0
eq "nor its twin" "$(status_json "sum('bbbb.0' in s['path'] for s in d['subtrees'])")" 0
total1=$(status_json "d['health']['marks']")
check "its marks are no longer counted ($total0 -> $total1)" test "$total1" -lt "$total0"
eq "still enforcing after the removal" "$(status_json 'd["status"]')" enforcing
[ "$(status_json 'd["status"]')" = enforcing ] ||
	status_json "[(s['path'], s['state']) for s in d['subtrees'] if s['state'] != 'guarded'], d['health']['mark_errors']"
# a deployment made again at a path that was removed is guarded again
mkdir -p "$STAGED/etc/sudoers.d"
sleep 0.3
refuse "a deployment made again at a removed path is guarded" "$STAGED/etc/sudoers.d/again" \
	bash -c "echo evil > '$STAGED/etc/sudoers.d/again'"

# --- more deployment roots than one scan keeps (FG_TWINS_FOUND: 32) ---
# A root is a mkdir away for root: decoys under the ostree glob fill the
# scan, and a deployment made after them (here a composefs one, whose glob
# comes second) is past the room. Each deployment's etc is then guarded,
# or the daemon says loudly that some are not: never a write there that no
# line names while status says enforcing.
live=$(status_json "len(d['deployments'])")
K=$((40 - live))
for i in $(seq $K); do mkdir -p "$D/ffff.$i/etc/sudoers.d"; done
sleep 0.3
mkdir -p "$CF/gggg/etc/sudoers.d"
sleep 0.5
silent=0
for f in "$CF/gggg/etc/sudoers.d/evil" $(for i in $(seq $K); do echo "$D/ffff.$i/etc/sudoers.d/evil"; done); do
	timeout 10 bash -c "echo evil > '$f'" 2>/dev/null || continue
	FG_LOG_WAIT=2 wait_log 1 file.path="$f" || { silent=$((silent + 1)); echo "# silent: $f"; }
done
echo "# $((live + K + 1)) roots: $silent deployments' etc written with no line naming the file"
loud=$(count_log event.action=deployments-changed event.outcome=failure message="~NOT guarded")
word=$(status_json 'd["status"]')
if [ "$silent" -gt 0 ]; then
	check "those left unguarded are logged as NOT guarded (found $loud)" test "$loud" -gt 0
	eq "status is degraded while roots are left unguarded" "$word" degraded
else
	pass "every deployment past the room is guarded"
fi
rm -rf "$CF/gggg"
for i in $(seq $K); do rm -rf "$D/ffff.$i"; done
sleep 0.5
eq "the extra roots gone, status is enforcing again" "$(status_json 'd["status"]')" enforcing

stop_daemon
# in the sanitizer build a finding goes to the daemon's stderr
if grep -Eq 'runtime error|AddressSanitizer|LeakSanitizer' "$T/daemon.stderr"; then
	fail "no sanitizer finding in the daemon"; cat "$T/daemon.stderr"
else pass "no sanitizer finding in the daemon"; fi
finish
