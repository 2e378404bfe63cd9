#!/usr/bin/env bash
# Runs: the allowed writes of one writer and its descendants that match the
# same rule carry one fanguard.run.id (its root's pid and start), and the
# root's exit brings a run-end summary; a run of one or two files with one
# under priv_esc_persist or ssh_persist is flagged. Transactions carry
# fanguard.transaction.id the same way.
. "$(dirname "$0")/lib.sh"

S=$T/etc/sudoers.d
C=$T/etc/cron.d
mkdir -p "$S" "$C" "$T/bin"
cp /bin/bash "$T/bin/allowed"
cp /bin/bash "$T/bin/txtool"
{
	conf_base
	cat <<EOC

[subtree cron]
path = $C
key = cron_persist

[writer admin]
exe = $T/bin/allowed

[transaction]
exe = $T/bin/txtool
# the subtrees are temp dirs: today's passthrough (test_scope.sh tests the default)
scope = all
EOC
} > "$CONF"
start_daemon
AW=$T/bin/allowed
run_of() { $LOGQ "$LOG" event.action=open-write file.path="$1" --print | python3 -c "
import json,sys
for l in sys.stdin:
    if l.startswith('{'): print(json.loads(l)['fanguard'].get('run', {}).get('id', 'NONE')); break"; }

# A run of two files: the inner writer is the outer one's child, same rule.
"$AW" -c "'$AW' -c \"echo a > '$S/a'\"; echo b > '$S/b'"
logged "both writes logged" 2 event.action=open-write fanguard.decision=allow fanguard.rule=admin
RA=$(run_of "$S/a")
RB=$(run_of "$S/b")
check "the child's write carries a run id ($RA)" test -n "$RA" -a "$RA" != NONE
check "both writes carry the same run id (the outer writer's)" test "$RA" = "$RB"
logged "its end is summarised: 2 files, flagged lone_sensitive" 1 event.action=run-end \
	fanguard.run.id="$RA" fanguard.run.files=2 fanguard.run.lone_sensitive=True \
	fanguard.run.first_file="$S/a" fanguard.run.last_file="$S/b"

# A run of three files over two subtrees is not flagged.
"$AW" -c "echo 1 > '$C/j1'; echo 2 > '$C/j2'; echo 3 > '$S/c'"
# the logger is asynchronous: the line may not be written yet
wait_log 1 event.action=open-write file.path="$S/c" || fail "no open-write line for $S/c"
RC=$(run_of "$S/c")
check "another run, another id ($RC)" test -n "$RC" -a "$RC" != "$RA"
logged "3 files over two subtrees, not flagged" 1 event.action=run-end fanguard.run.id="$RC" \
	fanguard.run.files=3 fanguard.run.lone_sensitive=False
check "the summary counts files per subtree" python3 -c "
import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    r = e.get('fanguard', {}).get('run', {})
    if e['event']['action'] == 'run-end' and r.get('id') == sys.argv[2]:
        per = {p['subtree']: p['files'] for p in r['per_subtree']}
        sys.exit(0 if per == {'cron': 2, 'sudoers': 1} else 1)
sys.exit(1)" "$LOG" "$RC"

# A transaction's writes name the transaction's root.
# (two commands, so that bash forks the child instead of exec-ing it)
"$T/bin/txtool" -c "bash -c \"echo t > '$S/t'\"; true"
logged "a transaction's write carries fanguard.transaction.id" 1 event.action=open-write \
	file.path="$S/t" fanguard.reason=transaction fanguard.transaction.id="~-"

# The same for transactions: twenty tools that write one file and exit,
# each summarised with its one write.
before=$(count_log event.action=transaction-end fanguard.count=1)
for i in $(seq 20); do "$T/bin/txtool" -c "echo $i > '$S/tx$i'"; done
logged "20 one-write transactions: 20 summaries of one write" $((before + 20)) \
	event.action=transaction-end fanguard.count=1
check "no transaction ended without its write" test "$(count_log event.action=transaction-end \
	fanguard.count=0)" = 0
# A writer that exits the moment its open is answered: the answer comes
# before the write is counted in its run, so the summary must wait for the
# count (a summary of none, or none at all, would hide a lone sensitive
# write). Twenty such writers, each its own run of one (last: their open-write
# lines are a burst the logger folds into one).
for i in $(seq 20); do "$AW" -c "echo $i > '$S/one$i'"; done
logged "20 writers of one file each: 20 summaries of one file, each flagged" 20 \
	event.action=run-end fanguard.run.files=1 fanguard.run.lone_sensitive=True \
	fanguard.run.first_file="~$S/one"
check "no run of those ended empty or twice" test "$(count_log event.action=run-end \
	fanguard.run.first_file="~$S/one")" = 20
finish
