#!/usr/bin/env bash
# The writer cache never changes a decision: a writer's identity is reused
# between its opens only while it is still true. Each scenario first shows
# the cache at work (several writes by one unchanged process, hits counted
# by `fanguard status`), then changes the process in one way and checks
# that the very next write gets the decision its new identity deserves: an
# exec of the writer; an exec and the exit of its allowed ancestor, and a
# write made while that exec is finishing (held by a tracer, and raced); a
# comm change; a uid change; a loginuid change; a cgroup move. Last, with
# the cache off (--no-cache), the exec scenarios must decide the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session.sh"

M=$FG_BUILD/tests/fg_morph
S=$T/etc/sudoers.d
[ -x "$M" ] || { echo "missing helper $M (build the tests first)"; exit 1; }
mkdir -p "$S"
# Every target exists before the daemon runs: a refused O_CREAT of a new
# file leaves an empty one the daemon then removes, which would only add
# noise here. The uid scenario's may be written by 65534.
for n in exec exec-nocache exec-nonet anc-exec anc-exit held held-nocache race race-nocache \
	comm uid auid cg; do
	echo original >"$S/$n"
done
chmod 0755 "$T" "$T/etc" "$S"
chmod 0666 "$S/uid"
for n in good bad anc-good anc-bad anc-child comm-w uid-w auid-w cg-w; do cp "$M" "$T/$n"; done
EPERM=1

# The cgroup v2 hierarchy: /sys/fs/cgroup itself, or (a hybrid host) the
# cgroup2 mount found in mountinfo. The test's cgroup goes right under its
# root, where the rule below expects it.
CG_MNT=
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
	CG_MNT=/sys/fs/cgroup
else
	# Fields: ... 4 root, 5 mount point, ..., "-", fstype, ...
	CG_MNT=$(awk '{ for (i = 7; i < NF && $i != "-"; i++);
		if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo)
fi
# A cgroup condition names a unit's cgroup exactly, and holds only when the
# cgroup is one systemd made (trusted.invocation_id) for a unit with a unit
# file: the test plays systemd for a unit every systemd host ships, below a
# slice of its own so that no real unit's cgroup is touched.
CG_UNIT=systemd-tmpfiles-clean.service
CG_SLICE=fg-e2e-cache-$$.slice
CG_NAME=$CG_SLICE/$CG_UNIT
CG_DIR=

{
	conf_base
	cat <<EOC

[writer good]
exe = $T/good

[writer anc]
ancestor = $T/anc-good

[writer comm]
exe = $T/comm-w
comm = goodname

[writer root]
exe = $T/uid-w
uid = 0

[writer login]
exe = $T/auid-w
auid = 4242

[writer cg]
exe = $T/cg-w
cgroup = /$CG_NAME
EOC
} > "$CONF"

# Helpers run in the background under timeout(1), which leads its own
# process group: killing that group takes a helper and all it forked, even
# an orphan. The test's cgroup goes only once they are all gone.
BG=()
own_cleanup() {
	local p
	for p in "${BG[@]}"; do kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
	for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
	if [ -n "$CG_DIR" ]; then
		for _ in $(seq 50); do rmdir "$CG_DIR" 2>/dev/null || [ ! -d "$CG_DIR" ] && break; sleep 0.1; done
		rmdir "${CG_DIR%/*}" 2>/dev/null
		[ -d "$CG_DIR" ] && echo "FAIL - could not remove $CG_DIR"
	fi
	cleanup
	session_cleanup
}
trap own_cleanup EXIT

# morph OUT CMD...: starts a helper in the background, its output in OUT;
# its pid (timeout's) in $MPID.
morph() {
	local out=$1
	shift
	: >"$out"
	timeout 30 "$@" >>"$out" 2>&1 &
	MPID=$!
	BG+=("$MPID")
}

# reap PID: waits up to 10 s for a helper to end, kills what is left of its
# group, and sets $rc to its exit status.
reap() {
	local p=$1 q keep=()
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL -- "-$p" 2>/dev/null
	kill -KILL "$p" 2>/dev/null
	wait "$p"
	rc=$?
	for q in "${BG[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
	BG=("${keep[@]}")
}

# await OUT TEXT [N]: up to 10 s until OUT holds N (1) lines with TEXT;
# gives up early once the helper ($MPID) has ended.
await() {
	local n=${3:-1} gone=
	for _ in $(seq 200); do
		[ "$(grep -c -F -- "$2" "$1" 2>/dev/null)" -ge "$n" ] && return 0
		[ -n "$gone" ] && break
		kill -0 "$MPID" 2>/dev/null || gone=1
		sleep 0.05
	done
	echo "# no '$2' in $1${gone:+ (the helper has ended)}:"
	sed 's/^/#   /' "$1"
	return 1
}

# poke FIFO: one byte for the helper blocked in wait:FIFO.
poke() { timeout 10 bash -c 'printf x > "$1"' _ "$1"; }

# errnos OUT PATH: the errno of each write of PATH, in order ("0 0 1").
errnos() { sed -n "s|^write $2 pid=[0-9]* errno=\([0-9]*\)\$|\1|p" "$1" | paste -sd' '; }
# wpid OUT TEXT: the pid= of the first line starting TEXT.
wpid() { grep -m1 -F -- "$2" "$1" | sed -n 's/.* pid=\([0-9]*\).*/\1/p'; }

# cache KEY: a writer_cache field from `fanguard status --json`.
cache() {
	timeout 10 "$FANGUARD" status --json --socket "$SOCK" 2>/dev/null |
		python3 -c 'import json, sys
v = json.load(sys.stdin)["writer_cache"][sys.argv[1]]
print(str(v).lower())' "$1"
}

# In the sanitizer build a finding goes to the daemon's stderr.
sanitizer_clean() {
	if grep -Eq 'runtime error|AddressSanitizer|LeakSanitizer' "$T/daemon.stderr"; then
		fail "no sanitizer finding in the daemon ($1)"
		cat "$T/daemon.stderr"
	else pass "no sanitizer finding in the daemon ($1)"; fi
}

ne() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]; }
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi; }
ge() { if [ "${2:-x}" -ge "$3" ] 2>/dev/null; then pass "$1"; else fail "$1 (got '$2', want >= $3)"; fi; }

# used DESC BEFORE N: the cache hit at least N times since it counted BEFORE.
used() {
	local now
	now=$(cache hits)
	ge "$1 (hits $2 -> $now)" "$((${now:-0} - $2))" "$3"
}

# ---- 1. exec of the writer itself. $T/good writes 4 times (allowed, and
# from the second on from the cache), then execs $T/bad in the same pid,
# whose write must be refused and logged as $T/bad. scenario_* TAG CACHED:
# with CACHED=no (the daemon runs --no-cache) the decisions must be the
# same and the cache idle.
scenario_exec() {
	local tag=$1 cached=$2 f=$S/$1 fifo=$T/fifo.$1 out=$T/$1.out h0 h1 m1 P
	mkfifo "$fifo"
	h0=$(cache hits)
	morph "$out" "$T/good" write:"$f" write:"$f" write:"$f" wait:"$fifo" write:"$f" exec:"$T/bad" write:"$f"
	await "$out" "wait $fifo"
	h1=$(cache hits) m1=$(cache misses)
	if [ "$cached" = yes ]; then
		used "[$tag] the cache answered the repeated writes of \$T/good" "$h0" 2
	else
		eq "[$tag] no cache hit with --no-cache" "$h1" "$h0"
	fi
	poke "$fifo"
	reap "$MPID"
	P=$(wpid "$out" "write $f")
	eq "[$tag] helper ran all its steps" "$rc" 0
	eq "[$tag] 4 writes by \$T/good allowed, the write after exec \$T/bad refused (EPERM)" \
		"$(errnos "$out" "$f")" "0 0 0 0 $EPERM"
	same_content "[$tag] the refused write changed nothing" "$f" "fg_morph pid=$P"
	logged "[$tag] 4 allows logged as \$T/good" 4 event.action=open-write file.path="$f" \
		process.pid="$P" process.executable="$T/good" fanguard.decision=allow fanguard.rule=good
	logged "[$tag] the same pid's deny logged as \$T/bad" 1 event.action=open-write \
		file.path="$f" process.pid="$P" process.executable="$T/bad" fanguard.decision=deny
	eq "[$tag] no allow ever logged as \$T/bad" \
		"$(count_log file.path="$f" process.executable="$T/bad" fanguard.decision=allow)" 0
	if [ "$cached" = yes ]; then
		used "[$tag] the 4th write, just before the exec, was a hit" "$h1" 1
		ge "[$tag] the write after the exec was a miss (misses $m1 -> $(cache misses))" \
			"$(($(cache misses) - m1))" 1
	else
		eq "[$tag] still no cache hit" "$(cache hits)" "$h0"
	fi
}

start_daemon
eq "writer cache enabled" "$(cache enabled)" true
scenario_exec exec yes

# ---- 2. exec of the ancestor. A child of $T/anc-good (itself
# $T/anc-child, which no rule names) writes; its parent then execs
# $T/anc-bad in the same pid, still the child's parent: the child's next
# write must be refused.
f=$S/anc-exec fc=$T/fifo.anc-c fp=$T/fifo.anc-p fq=$T/fifo.anc-q out=$T/anc-exec.out
mkfifo "$fc" "$fp" "$fq"
h0=$(cache hits)
morph "$out" "$T/anc-good" spawn:6 exec:"$T/anc-child" write:"$f" write:"$f" write:"$f" \
	wait:"$fc" write:"$f" wait:"$fp" exec:"$T/anc-bad" wait:"$fq" reap
if await "$out" "wait $fc" && await "$out" "wait $fp"; then
	par=$(wpid "$out" "wait $fp") kid=$(wpid "$out" "write $f")
	used "the cache answered the child's repeated writes" "$h0" 2
	poke "$fp"
	await "$out" "wait $fq"
	eq "the parent's pid now runs \$T/anc-bad" "$(readlink "/proc/$par/exe")" "$T/anc-bad"
	poke "$fc"
	await "$out" "write $f" 4
	poke "$fq"
fi
reap "$MPID"
eq "ancestor exec: helpers ran all their steps" "$rc" 0
eq "3 writes under \$T/anc-good allowed, the one after its exec refused" \
	"$(errnos "$out" "$f")" "0 0 0 $EPERM"
logged "allows name the rule and the parent \$T/anc-good" 3 file.path="$f" process.pid="$kid" \
	fanguard.decision=allow fanguard.rule=anc process.parent.pid="$par" \
	process.parent.executable="$T/anc-good"
logged "deny names the same parent pid, now \$T/anc-bad" 1 file.path="$f" process.pid="$kid" \
	fanguard.decision=deny process.parent.pid="$par" process.parent.executable="$T/anc-bad"

# ---- 2b. exit of the ancestor: the child, orphaned, is no longer under
# $T/anc-good and must be refused.
f=$S/anc-exit fc=$T/fifo.exit-c fp=$T/fifo.exit-p out=$T/anc-exit.out
mkfifo "$fc" "$fp"
h0=$(cache hits)
morph "$out" "$T/anc-good" spawn:6 exec:"$T/anc-child" write:"$f" write:"$f" write:"$f" \
	wait:"$fc" write:"$f" wait:"$fp"
if await "$out" "wait $fc" && await "$out" "wait $fp"; then
	par=$(wpid "$out" "wait $fp") kid=$(wpid "$out" "write $f")
	used "the cache answered the child's repeated writes" "$h0" 2
	poke "$fp"
	for _ in $(seq 100); do
		ppid=$(awk '{ print $4 }' "/proc/$kid/stat" 2>/dev/null)
		[ "$ppid" != "$par" ] && break
		sleep 0.05
	done
	check "the child was reparented (ppid $par -> $ppid)" ne "$ppid" "$par"
	poke "$fc"
	await "$out" "write $f" 4
fi
reap "$MPID"
eq "3 writes under \$T/anc-good allowed, the orphan's write refused" \
	"$(errnos "$out" "$f")" "0 0 0 $EPERM"
logged "the orphan's deny names its new parent" 1 file.path="$f" process.pid="$kid" \
	fanguard.decision=deny fanguard.reason=no-rule process.parent.pid="$ppid"
eq "only the 3 writes before the exit allowed" \
	"$(count_log file.path="$f" process.pid="$kid" fanguard.decision=allow)" 3

# ---- 2c. exec of the ancestor, held at its very end. The child traces its
# parent (PTRACE_O_TRACEEXEC), so the parent stops once its exec has put
# $T/anc-bad in place and before the exec returns; /proc/PARENT/exe already
# reads $T/anc-bad, which is what a resolution from /proc sees. The child
# writes then: refused, as without the cache (run again with --no-cache).
# scenario_gap TAG CACHED KIND: KIND "held" stops the parent in its exec
# with a tracer (2c), "race" lets it run and has the child spin (2d).
scenario_gap() {
	local tag=$1 cached=$2 kind=$3 f=$S/$1 out=$T/$1.out
	local fc=$T/fifo.$1-c fp=$T/fifo.$1-p fq=$T/fifo.$1-q h0 par= kid= what
	mkfifo "$fc" "$fp" "$fq"
	h0=$(cache hits)
	if [ "$kind" = held ]; then
		what="the one during the parent's exec"
		morph "$out" "$T/anc-good" spawn:9 exec:"$T/anc-child" write:"$f" write:"$f" \
			write:"$f" trace-parent wait:"$fc" parent-exec write:"$f" untrace \
			wait:"$fp" exec:"$T/anc-bad" wait:"$fq" reap
	else
		what="the one after /proc showed \$T/anc-bad"
		morph "$out" "$T/anc-good" spawn:7 exec:"$T/anc-child" write:"$f" write:"$f" \
			write:"$f" wait:"$fc" parent-is:"$T/anc-bad" write:"$f" \
			wait:"$fp" bigenv:80000 exec:"$T/anc-bad" wait:"$fq" reap
	fi
	if await "$out" "wait $fc" && await "$out" "wait $fp"; then
		par=$(wpid "$out" "wait $fp") kid=$(wpid "$out" "write $f")
		if [ "$cached" = yes ]; then
			used "[$tag] the cache answered the child's repeated writes" "$h0" 2
		else
			eq "[$tag] no cache hit with --no-cache" "$(cache hits)" "$h0"
		fi
		poke "$fc"
		poke "$fp"
		await "$out" "write $f" 4
		await "$out" "wait $fq"
		poke "$fq"
	fi
	reap "$MPID"
	eq "[$tag] $kind exec: helpers ran all their steps" "$rc" 0
	[ "$kind" = held ] && check "[$tag] the child saw its parent stopped in exec as \$T/anc-bad" \
		grep -qxF "parent-exec pid=$par exe=$T/anc-bad" "$out"
	eq "[$tag] 3 writes under \$T/anc-good allowed, $what refused" \
		"$(errnos "$out" "$f")" "0 0 0 $EPERM"
	logged "[$tag] that deny names the parent as \$T/anc-bad" 1 file.path="$f" \
		process.pid="$kid" fanguard.decision=deny process.parent.pid="$par" \
		process.parent.executable="$T/anc-bad"
}
scenario_gap held yes held

# ---- 2d. the same without a tracer: the child spins on its parent's
# /proc/PID/exe and writes the moment it reads $T/anc-bad, while the exec
# is still laying out a large environment on the new stack. Nothing holds
# the exec; a decision from /proc is a deny every time.
scenario_gap race yes race

# ---- 3. comm: allowed as goodname, refused as badname, allowed again.
f=$S/comm fifo=$T/fifo.comm out=$T/comm.out
mkfifo "$fifo"
h0=$(cache hits)
morph "$out" "$T/comm-w" comm:goodname write:"$f" write:"$f" write:"$f" wait:"$fifo" \
	comm:badname write:"$f" comm:goodname write:"$f" write:"$f"
await "$out" "wait $fifo" && used "the cache answered the repeated writes as goodname" "$h0" 2
poke "$fifo"
reap "$MPID"
P=$(wpid "$out" "write $f")
eq "comm: helper ran all its steps" "$rc" 0
eq "goodname allowed x3, badname refused, goodname allowed x2" \
	"$(errnos "$out" "$f")" "0 0 0 $EPERM 0 0"
logged "the deny names comm badname" 1 file.path="$f" process.pid="$P" process.name=badname \
	fanguard.decision=deny
logged "the allows name comm goodname" 5 file.path="$f" process.pid="$P" process.name=goodname \
	fanguard.decision=allow fanguard.rule=comm
eq "no allow as badname" "$(count_log file.path="$f" process.name=badname fanguard.decision=allow)" 0

# ---- 4. uid: rule uid = 0. After setresuid(65534) the kernel's own check
# passes (the file is 0666 under traversable directories) and it is
# fanguard that refuses: EPERM, and a deny line with uid 65534.
f=$S/uid fifo=$T/fifo.uid out=$T/uid.out
check "65534 may write $f as far as the kernel's permissions go" \
	setpriv --reuid=65534 --regid=65534 --clear-groups test -w "$f"
mkfifo "$fifo"
h0=$(cache hits)
morph "$out" "$T/uid-w" write:"$f" write:"$f" write:"$f" wait:"$fifo" uid:65534 write:"$f"
await "$out" "wait $fifo" && used "the cache answered the repeated writes as root" "$h0" 2
poke "$fifo"
reap "$MPID"
P=$(wpid "$out" "write $f")
eq "uid: helper ran all its steps" "$rc" 0
eq "uid 0 allowed x3, uid 65534 refused with EPERM (not EACCES)" \
	"$(errnos "$out" "$f")" "0 0 0 $EPERM"
logged "the deny names uid 65534" 1 file.path="$f" process.pid="$P" user.id=65534 \
	fanguard.decision=deny fanguard.reason=no-rule
eq "no allow as uid 65534" "$(count_log file.path="$f" user.id=65534 fanguard.decision=allow)" 0

# ---- 5. loginuid: rule auid = 4242. No event reports a loginuid change;
# the cache must re-read it. The helper starts from 4241 (set, so the test
# does not depend on the session it runs in), is refused, becomes 4242 in a
# login session of 4242 (session.sh) and is allowed, becomes 4241 again and
# is refused.
f=$S/auid fifo=$T/fifo.auid out=$T/auid.out
mkfifo "$fifo"
h0=$(cache hits)
morph "$out" "$T/auid-w" loginuid:4241 write:"$f" write:"$f" write:"$f" wait:"$fifo" \
	loginuid:4242 session:"$SESSION_ROOT" write:"$f" write:"$f" loginuid:4241 write:"$f"
if await "$out" "wait $fifo"; then
	used "the cache answered the repeated writes as auid 4241" "$h0" 2
	poke "$fifo"
fi
reap "$MPID"
P=$(wpid "$out" "write $f")
if grep -q loginuid "$out"; then
	fail "root cannot set its loginuid here, so the loginuid scenario cannot run: $(grep loginuid "$out")"
fi
eq "loginuid: helper ran all its steps" "$rc" 0
eq "auid 4241 refused x3, auid 4242 allowed x2, auid 4241 refused" \
	"$(errnos "$out" "$f")" "$EPERM $EPERM $EPERM 0 0 $EPERM"
logged "the allows name auid 4242" 2 file.path="$f" process.pid="$P" user.audit.id=4242 \
	fanguard.decision=allow fanguard.rule=login
logged "the denies name auid 4241" 4 file.path="$f" process.pid="$P" user.audit.id=4241 \
	fanguard.decision=deny
eq "no allow as auid 4241" "$(count_log file.path="$f" user.audit.id=4241 fanguard.decision=allow)" 0

# ---- 6. cgroup: rule cgroup = /fg-e2e-cache-PID.slice/$CG_UNIT. Moved in while it waits,
# the writer is allowed; moved back, refused. No event reports a move; the
# cache must re-read it.
f=$S/cg fa=$T/fifo.cg-a fb=$T/fifo.cg-b out=$T/cg.out
if [ -z "$CG_MNT" ]; then
	fail "no cgroup v2 hierarchy (/sys/fs/cgroup is not one and /proc/self/mountinfo" \
		"lists no cgroup2 mount of its root): the cgroup scenario cannot run"
elif [ ! -e "/usr/lib/systemd/system/$CG_UNIT" ] && [ ! -e "/lib/systemd/system/$CG_UNIT" ]; then
	fail "no unit file for $CG_UNIT: the cgroup scenario cannot run"
elif ! { mkdir -p "$CG_MNT/$CG_NAME" && CG_DIR=$CG_MNT/$CG_NAME && python3 -c 'import os, sys
os.setxattr(sys.argv[1], "trusted.invocation_id", os.urandom(16).hex().encode())' "$CG_DIR"; }; then
	fail "cannot create the test cgroup $CG_MNT/$CG_NAME: the cgroup scenario cannot run"
else
	CG_DIR=$CG_MNT/$CG_NAME
	echo "# cgroup v2 at $CG_MNT; test cgroup $CG_DIR"
	mkfifo "$fa" "$fb"
	h0=$(cache hits)
	morph "$out" "$T/cg-w" write:"$f" write:"$f" write:"$f" wait:"$fa" write:"$f" write:"$f" \
		wait:"$fb" write:"$f"
	if await "$out" "wait $fa"; then
		P=$(wpid "$out" "wait $fa")
		orig=$(sed -n 's/^0:://p' "/proc/$P/cgroup")
		used "the cache answered the repeated writes outside the cgroup" "$h0" 2
		echo "$P" >"$CG_DIR/cgroup.procs"
		eq "the writer is in the test cgroup" "$(sed -n 's/^0:://p' "/proc/$P/cgroup")" "/$CG_NAME"
		poke "$fa"
		if await "$out" "wait $fb"; then
			echo "$P" >"$CG_MNT${orig%/}/cgroup.procs"
			eq "the writer is back in $orig" "$(sed -n 's/^0:://p' "/proc/$P/cgroup")" "$orig"
			poke "$fb"
		fi
	fi
	reap "$MPID"
	eq "cgroup: helper ran all its steps" "$rc" 0
	eq "outside refused x3, inside allowed x2, back outside refused" \
		"$(errnos "$out" "$f")" "$EPERM $EPERM $EPERM 0 0 $EPERM"
	logged "the allows name the test cgroup" 2 file.path="$f" process.pid="$P" \
		fanguard.cgroup="/$CG_NAME" fanguard.decision=allow fanguard.rule=cg
	eq "no allow outside the test cgroup" \
		"$(count_log file.path="$f" fanguard.decision=allow fanguard.cgroup="$orig")" 0
	check "the test cgroup is removed" rmdir "$CG_DIR" "${CG_DIR%/*}"
	[ -d "$CG_DIR" ] || CG_DIR=
fi

# ---- 7. status, then the cache off.
eq "writer_cache.enabled after the scenarios" "$(cache enabled)" true
ge "writer_cache.hits after the scenarios" "$(cache hits)" 1
ge "writer_cache.invalidated after the scenarios" "$(cache invalidated)" 1
ge "writer_cache.process_events after the scenarios" "$(cache process_events)" 1
if kill -0 "$DPID" 2>/dev/null; then pass "daemon alive after the cached scenarios"; else
	fail "daemon alive after the cached scenarios"
	tail -n 20 "$T/daemon.stderr"
fi
sanitizer_clean "cached scenarios"

stop_daemon
start_daemon --no-cache
eq "--no-cache: writer_cache.enabled" "$(cache enabled)" false
eq "--no-cache: the reason given" "$(cache off_reason)" "disabled by --no-cache"
scenario_exec exec-nocache no
scenario_gap held-nocache no held
scenario_gap race-nocache no race
if kill -0 "$DPID" 2>/dev/null; then pass "daemon alive at the end"; else
	fail "daemon alive at the end"
	tail -n 20 "$T/daemon.stderr"
fi
sanitizer_clean "--no-cache"

# ---- 8. without process events (in a network namespace of its own the
# connector socket opens but no event ever arrives: the connector lives in
# the initial one) the start-up self-test notices, the cache stays off,
# says why in status and in one log line, and the daemon guards as with
# --no-cache.
stop_daemon
cat >"$T/nonet" <<EOW
#!/bin/sh
exec unshare --net "$FANGUARDD" "\$@"
EOW
chmod +x "$T/nonet"
REAL_FANGUARDD=$FANGUARDD
FANGUARDD=$T/nonet
start_daemon
FANGUARDD=$REAL_FANGUARDD
eq "no connector: writer_cache.enabled" "$(cache enabled)" false
eq "no connector: the reason given" "$(cache off_reason)" \
	"process events connector self-test failed"
logged "no connector: one writer-cache failure line" 1 event.action=writer-cache \
	event.outcome=failure
scenario_exec exec-nonet no
sanitizer_clean "no connector"
finish
