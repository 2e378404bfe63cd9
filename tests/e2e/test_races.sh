#!/usr/bin/env bash
# Writers with awkward process shapes (issue 4, item 3): a thread opening
# while the main thread sits in read(2), a writer that execs, a writer in
# another pid namespace, a 200-deep process chain, writers that die while
# their open is held, and writers that exit right after the open. Each must
# get the decision its identity deserves, logged under its real ids, and
# the daemon must survive all of them.
. "$(dirname "$0")/lib.sh"

W=$FG_BUILD/tests/fg_writer
S=$T/etc/sudoers.d
mkdir -p "$S" "$T/bin"
[ -x "$W" ] || { echo "missing helper $W (build the tests first)"; exit 1; }
cp "$W" "$T/bin/thread-writer"
cp "$W" "$T/bin/chain-top"
cp "$W" "$T/bin/short-writer"
cp /bin/bash "$T/bin/allowed-shell"
for f in thr-denied exec-target stop-target ns-denied chain-denied short-denied; do
	echo original > "$S/$f"
done

{
	# Lines as long as they come, so the 200-deep chain is listed whole.
	conf_base | sed 's/^\[fanguard\]$/[fanguard]\nmax_line = 65536/'
	cat <<EOC

[writer threaded]
exe = $T/bin/thread-writer

[writer shell]
exe = $T/bin/allowed-shell

[writer short]
exe = $T/bin/short-writer

[writer deep-chain]
exe = /usr/bin/bash
ancestor = $T/bin/chain-top
EOC
} > "$CONF"

# Background processes of this script, killed on any exit before lib.sh's
# cleanup stops the daemon (a stopped daemon is continued first, or its
# SIGTERM would wait behind SIGSTOP).
BG=()
own_cleanup() {
	[ -n "$DPID" ] && kill -CONT "$DPID" 2>/dev/null
	# timeout(1) leads its own process group: that takes a whole chain.
	for p in "${BG[@]}"; do kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
	cleanup
}
trap own_cleanup EXIT

# logval KEY filters...: KEY (dotted) of the last line matching the filters;
# "len(KEY)" gives a list's length. Prints nothing when no line matches.
logval() {
	python3 - "$LOG" "$@" <<'EOP'
import json, sys
log, key, filters = sys.argv[1], sys.argv[2], [a.split("=", 1) for a in sys.argv[3:]]
def get(o, dotted):
    for part in dotted.split("."):
        if not isinstance(o, dict) or part not in o:
            return None
        o = o[part]
    return o
want_len = key.startswith("len(")
key = key[4:-1] if want_len else key
hit = None
for raw in open(log, "rb"):
    ev = json.loads(raw)
    if all(str(get(ev, k)) == v for k, v in filters):
        hit = get(ev, key)
if hit is not None:
    print(len(hit) if want_len else hit)
EOP
}

# field NAME LINE: the value of NAME=... in a helper's "pid=P tid=T errno=E" line.
field() { sed -n "s/.*\b$1=\([0-9-]*\).*/\1/p" <<<"$2"; }

# wait_blocked PID: until a thread of PID is inside an open-family syscall
# (the daemon being stopped, the kernel holds it there). Up to 5 s.
wait_blocked() {
	local nr _ t
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 1
		for t in /proc/"$1"/task/*; do
			read -r nr _ <"$t/syscall" 2>/dev/null || continue
			case $nr in 2 | 56 | 257 | 437) return 0 ;; esac
		done
		sleep 0.05
	done
	return 1
}


eq() { [ "$1" = "$2" ]; }
ne() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]; }

start_daemon

# ---- a thread opens while the main thread is blocked in read(2)
out=$(timeout 10 "$W" thread "$S/thr-denied" evil)
rc=$?
check "threaded writer (not allowed) refused with EPERM" eq "$rc" 1
pid=$(field pid "$out") tid=$(field tid "$out")
check "the opener is a second thread (tid $tid, pid $pid)" ne "$tid" "$pid"
same_content "threaded denied write changed nothing" "$S/thr-denied" original
logged "deny names the opening thread and its process" 1 fanguard.decision=deny \
	file.path="$S/thr-denied" process.pid="$pid" process.thread.id="$tid" \
	process.executable="$W" fanguard.open.syscall=openat
# Had the daemon read the main thread's /proc/TID/syscall it would have found
# read(2) and logged the unknown_intent message; the opener's own syscall says openat.
check "intent read from the opening thread, not the main thread" eq \
	"$(count_log file.path="$S/thr-denied" message='!')" 1

out=$(timeout 10 "$T/bin/thread-writer" thread "$S/thr-allowed" good)
rc=$?
check "threaded writer allowed by exe rule" eq "$rc" 0
pid=$(field pid "$out") tid=$(field tid "$out")
same_content "threaded allowed data landed" "$S/thr-allowed" good
logged "allow names the thread and the rule" 1 fanguard.decision=allow fanguard.rule=threaded \
	file.path="$S/thr-allowed" process.pid="$pid" process.thread.id="$tid"

# ---- the decision follows exec
timeout 10 "$T/bin/allowed-shell" -c "echo \$\$ > '$T/exec-pid'; echo first > '$S/exec-target';
	exec /usr/bin/bash -c 'echo second > \"$S/exec-target\"'" 2>/dev/null
rc=$?
P=$(cat "$T/exec-pid")
check "allowed writer that execs bash: the post-exec write fails" ne "$rc" 0
same_content "only the pre-exec write landed" "$S/exec-target" first
logged "pre-exec open allowed as the allowed exe" 1 fanguard.decision=allow process.pid="$P" \
	process.executable="$T/bin/allowed-shell" file.path="$S/exec-target"
logged "post-exec open of the same pid denied as bash" 1 fanguard.decision=deny \
	process.pid="$P" process.executable=/usr/bin/bash file.path="$S/exec-target"
timeout 10 /usr/bin/bash -c "echo \$\$ > '$T/exec-pid'; { echo x > '$S/exec-target'; } 2>/dev/null;
	exec '$T/bin/allowed-shell' -c 'echo after-exec > \"$S/exec-target\"'"
rc=$?
P=$(cat "$T/exec-pid")
check "denied writer that execs the allowed binary is then allowed" eq "$rc" 0
same_content "post-exec write landed" "$S/exec-target" after-exec
logged "same pid: deny before exec, allow after" 1 fanguard.decision=deny process.pid="$P" \
	process.executable=/usr/bin/bash file.path="$S/exec-target"

# ---- another pid namespace: the log must carry the pid the host sees.
# /proc here is the host's, so /proc/self/stat read by the shell itself (a
# builtin redirection) shows its host pid while $$ shows the namespace's.
timeout 10 unshare -p -f /usr/bin/bash -c "read -r hp _ < /proc/self/stat; echo \"\$hp \$\$\" > '$T/ns1';
	echo evil > '$S/ns-denied'" 2>/dev/null
rc=$?
read -r hp nsp <"$T/ns1"
check "writer in a pid namespace refused" ne "$rc" 0
check "namespace pid ($nsp) differs from host pid ($hp)" ne "$hp" "$nsp"
same_content "namespace writer changed nothing" "$S/ns-denied" original
logged "deny logged with the host pid" 1 fanguard.decision=deny file.path="$S/ns-denied" \
	process.pid="$hp" process.executable=/usr/bin/bash
check "no line carries the in-namespace pid" eq \
	"$(count_log file.path="$S/ns-denied" process.pid="$nsp")" 0

timeout 10 unshare -p -f "$T/bin/allowed-shell" -c "read -r hp _ < /proc/self/stat;
	echo \"\$hp \$\$\" > '$T/ns2'; echo good > '$S/ns-allowed'"
rc=$?
read -r hp nsp <"$T/ns2"
check "allowed copy inside a pid namespace allowed" eq "$rc" 0
same_content "namespace allowed data landed" "$S/ns-allowed" good
logged "allow logged with the host pid" 1 fanguard.decision=allow fanguard.rule=shell \
	file.path="$S/ns-allowed" process.pid="$hp"

out=$(timeout 10 unshare -p -f "$T/bin/thread-writer" thread "$S/ns-thread" good)
rc=$?
check "allowed threaded writer inside a pid namespace allowed" eq "$rc" 0
nspid=$(field pid "$out") nstid=$(field tid "$out")
wait_log 1 file.path="$S/ns-thread" fanguard.decision=allow
lpid=$(logval process.pid event.action=open-write file.path="$S/ns-thread")
ltid=$(logval process.thread.id event.action=open-write file.path="$S/ns-thread")
check "its log ids ($lpid/$ltid) are host ids, not the namespace's ($nspid/$nstid)" \
	eval "[ '$nspid' = 1 ] && ne '$lpid' '$nspid' && ne '$ltid' '$nstid' && ne '$ltid' '$lpid'"

# ---- a 200-deep chain of processes. The chain under another top runs at
# the same time: forking 200 sanitizer-built processes takes seconds.
DEPTH=200
timeout 60 "$W" chain $DEPTH /usr/bin/bash -c "echo deep > '$S/chain-denied'" 2>/dev/null &
DENIED_CHAIN=$!
BG+=("$DENIED_CHAIN")
timeout 60 "$T/bin/chain-top" chain $DEPTH /usr/bin/bash -c \
	"echo \$\$ > '$T/leaf'; echo deep > '$S/chain-allowed'"
rc=$?
leaf=$(cat "$T/leaf")
check "leaf of a $DEPTH-deep chain under the ancestor is allowed" eq "$rc" 0
same_content "deep chain data landed" "$S/chain-allowed" deep
logged "deep allow logged with the leaf's pid and the rule" 1 fanguard.decision=allow \
	fanguard.rule=deep-chain process.pid="$leaf" file.path="$S/chain-allowed"
n=$(logval 'len(fanguard.ancestry)' event.action=open-write file.path="$S/chain-allowed")
check "the ancestry lists the whole chain ($n entries >= $DEPTH)" test "${n:-0}" -ge $DEPTH
check "and is neither incomplete nor shortened" eq "$(logval fanguard.ancestry_incomplete \
	event.action=open-write file.path="$S/chain-allowed")$(logval fanguard.truncated \
	event.action=open-write file.path="$S/chain-allowed")" ""
wait "$DENIED_CHAIN"
rc=$?
BG=()
check "the same chain under another top is refused" ne "$rc" 0
same_content "deep denied write changed nothing" "$S/chain-denied" original
logged "deep deny logged" 1 fanguard.decision=deny fanguard.reason=no-rule \
	file.path="$S/chain-denied"

# ---- writers that die while their open is held. The daemon is stopped, so
# the kernel holds each open; two are killed there, two live on. After
# SIGCONT the daemon must answer the survivors correctly and keep going.
kill -STOP "$DPID"
check "daemon stopped" wait_stopped "$DPID"
/usr/bin/bash -c "echo evil > '$S/stop-target'" 2>/dev/null &
K1=$!
"$W" thread "$S/stop-target" evil >/dev/null &
K2=$!
/usr/bin/bash -c "echo evil > '$S/stop-target'" 2>/dev/null &
L1=$!
"$T/bin/short-writer" open "$S/stop-allowed" good >/dev/null &
L2=$!
BG+=("$K1" "$K2" "$L1" "$L2")
blocked=0
for p in $K1 $K2 $L1 $L2; do wait_blocked "$p" && blocked=$((blocked + 1)); done
check "writers are held in open while the daemon is stopped ($blocked of 4)" eq "$blocked" 4
# bash reports each killed job on its stderr: expected, so silenced here.
exec 3>&2 2>/dev/null
kill -KILL "$K1" "$K2"
for _ in $(seq 50); do kill -0 "$K1" || kill -0 "$K2" || break; sleep 0.1; done
check "writers killed while held are gone (the wait is killable)" \
	eval "! kill -0 $K1 && ! kill -0 $K2"
wait "$K1" "$K2"
exec 2>&3 3>&-
kill -CONT "$DPID"
wait "$L1"
rc1=$?
wait "$L2"
rc2=$?
BG=()
check "daemon survived writers dying in its queue" kill -0 "$DPID"
check "held denied writer refused after SIGCONT" ne "$rc1" 0
check "held allowed writer allowed after SIGCONT" eq "$rc2" 0
same_content "held denied write changed nothing" "$S/stop-target" original
same_content "held allowed write landed" "$S/stop-allowed" good
logged "held denied writer logged with its pid" 1 fanguard.decision=deny process.pid="$L1" \
	file.path="$S/stop-target"
logged "held allowed writer logged with its pid" 1 fanguard.decision=allow process.pid="$L2" \
	fanguard.rule=short
# The killed writers' events were withdrawn by the kernel or, if the daemon
# had taken them, their resolution failed: never an allow.
check "killed writers never allowed" eq \
	"$(count_log process.pid="$K1" fanguard.decision=allow)$(count_log process.pid="$K2" fanguard.decision=allow)" 00
refuse "still deciding: a denied write after the kills" "$S/stop-target" /usr/bin/bash -c "echo x > '$S/stop-target'"
check "still deciding: an allowed write after the kills" timeout 10 "$T/bin/allowed-shell" -c \
	"echo again > '$S/stop-allowed'"
same_content "allowed write after the kills landed" "$S/stop-allowed" again

# ---- short-lived writers: exit the moment their open returns
bad=0
for i in $(seq 10); do
	out=$(timeout 10 "$W" open "$S/short-denied" "evil$i")
	d_rc=$? d_pid=$(field pid "$out")
	out=$(timeout 10 "$T/bin/short-writer" open "$S/short-allowed" "good$i")
	a_rc=$? a_pid=$(field pid "$out")
	[ "$d_rc" = 1 ] && [ "$a_rc" = 0 ] || bad=$((bad + 1))
	echo "$d_pid $a_pid" >>"$T/short-pids"
done
check "10 short-lived writers each denied, 10 each allowed" eq "$bad" 0
same_content "short denied writers changed nothing" "$S/short-denied" original
same_content "last short allowed write landed" "$S/short-allowed" good10
wait_log 10 file.path="$S/short-allowed" fanguard.decision=allow
# One pass over the log (count_log per pid would start python 20 times).
named=$(python3 - "$LOG" "$T/short-pids" "$W" "$T/bin/short-writer" "$S" <<'EOP'
import json, sys
log, pids, wexe, aexe, sub = sys.argv[1:]
want = {}
for line in open(pids):
    d, a = line.split()
    want[(int(d), "deny", wexe, sub + "/short-denied")] = 0
    want[(int(a), "allow", aexe, sub + "/short-allowed")] = 0
for raw in open(log, "rb"):
    ev = json.loads(raw)
    if ev.get("event", {}).get("action") != "open-write":
        continue
    p = ev.get("process", {})
    k = (p.get("pid"), ev["fanguard"]["decision"], p.get("executable"), ev["file"]["path"])
    if k in want:
        want[k] += 1
print(sum(1 for v in want.values() if v == 1))
EOP
)
check "every short-lived writer's line names it ($named of 20)" eq "$named" 20

if kill -0 "$DPID" 2>/dev/null; then
	pass "daemon alive at the end"
else
	fail "daemon alive at the end"
	wait "$DPID"
	echo "fanguardd exited with status $?; its stderr:"
	tail -n 20 "$T/daemon.stderr"
fi
finish
