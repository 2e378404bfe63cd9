#!/usr/bin/env bash
# Hold mode (issue 13, on_daemon_exit = hold): under fg_fdstore, a service
# manager with systemd's fd store, a kill -9 of fanguardd opens nothing.
# Openers wait for the successor, which answers the events the dead daemon
# had read (from the journal, or by a sweep when it died inside a read),
# takes the group over and serves. Also: two kills in a row, a kill during
# a reload, a clean restart that leaves no orphan, a stop that releases
# everything, release mode failing open at once, and status reporting the
# mode and the takeovers. The opener-visible pause across a kill is
# printed ("PAUSE ...").
#
# Safety: everything marked is under $T. Every supervisor runs with a hard
# timeout and kills its daemon when it dies itself (PR_SET_PDEATHSIG);
# cleanup kills each supervisor and daemon by pid, so nothing stays held.
. "$(dirname "$0")/lib.sh"

H=$FG_BUILD/tests
FDSTORE=$H/fg_fdstore
MIDREAD=$H/fg_midread
L=$H/fg_load
READERS=$H/fg_readers
for x in "$FDSTORE" "$MIDREAD" "$L" "$READERS"; do
	[ -x "$x" ] || { echo "missing helper $x (build the tests first)"; exit 1; }
done

S=$T/etc/sudoers.d
LD=$S/load
BIG=$S/many
SVDIR=$T/sv
SVPID=
BG=()
WORKERS=32
READER_THREADS=100
BOUND_MS=5000 # no opener may wait longer than this (a hang detector)
# fg_midread stops the daemon at every system call until it kills it,
# which on a busy 2-CPU runner stretches opens before the kill; an orphan
# nobody answers would still wait for ever (and fail "finished").
MIDREAD_BOUND_MS=10000
RESTART_MS=100 # the unit's RestartSec=
NOFILE=16384   # the unit's LimitNOFILE= (below this runner's hard limit)

mkdir -p "$S" "$LD" "$BIG" "$T/bin"
cp "$L" "$T/bin/load-allowed"
cp "$L" "$T/bin/load-denied"
echo "read me" >"$LD/shared"
echo original >"$S/existing"
for ((i = 1; i < WORKERS; i += 2)); do
	printf 'original content of denied-%03d\n' "$i" >"$LD/$(printf 'denied-%03d' "$i")"
done
(cd "$LD" && sha256sum denied-*) >"$T/denied.sum"
# Enough files that marking them takes a while: a reload is killed midway.
for i in $(seq 3000); do echo "$i" >"$BIG/f$i"; done

write_conf() {
	cat >"$CONF" <<EOC
[fanguard]
mode = enforce
log = file:$LOG
status_socket = $SOCK
on_daemon_exit = $1

[subtree sudoers]
path = $S
key = priv_esc_persist

[writer load]
exe = $T/bin/load-allowed
EOC
}

# ---- the supervisor ----

sv_events() { cat "$SVDIR/events" 2>/dev/null; }
n_sv() { sv_events | grep -c " $1\( \|$\)"; }
main_pid() { cat "$SVDIR/pid" 2>/dev/null; }

# wait_sv N EVENT [SECONDS]: until the supervisor logged EVENT N times.
wait_sv() {
	local end=$((${EPOCHREALTIME//[!0-9]/} + ${3:-10} * 1000000))
	while [ "$(n_sv "$2")" -lt "$1" ]; do
		[ "${EPOCHREALTIME//[!0-9]/}" -ge "$end" ] && return 1
		sleep 0.02
	done
}

last_start_pid() { sv_events | sed -n 's/.* start pid=\([0-9]*\).*/\1/p' | tail -1; }
# wait_successor OLD: until a main process other than OLD sent READY=1.
wait_successor() {
	local p end=$((${EPOCHREALTIME//[!0-9]/} + 15000000))
	for (( ; ; )); do
		p=$(last_start_pid)
		[ -n "$p" ] && [ "$p" != "$1" ] && sv_events | grep -q " ready pid=$p$" && return 0
		[ "${EPOCHREALTIME//[!0-9]/}" -ge "$end" ] && { echo "no successor of $1:"; sv_events | tail -5; return 1; }
		sleep 0.02
	done
}

# sv_start [fg_fdstore options]: fanguardd under a fresh supervisor, up
# to its first READY=1.
sv_start() {
	rm -rf "$SVDIR"
	mkdir -p "$SVDIR"
	"$FDSTORE" -d "$SVDIR" -t 100 -s "$RESTART_MS" -n "$NOFILE" -b 20 "$@" -- \
		"$FANGUARDD" --config "$CONF" --foreground 2>>"$T/daemon.stderr" &
	SVPID=$!
	wait_sv 1 ready 15 || { echo "fanguardd did not start:"; tail "$T/daemon.stderr"; sv_events; exit 1; }
}

# sv_stop: what systemctl stop does (SIGTERM; the store is dropped), and
# SIGKILL if that takes longer than 10 s. Returns the supervisor's status.
sv_stop() {
	local rc=0
	[ -n "$SVPID" ] || return 0
	kill -TERM "$SVPID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$SVPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$SVPID" 2>/dev/null
	wait "$SVPID" 2>/dev/null
	rc=$?
	SVPID=
	return $rc
}

bg_kill() {
	for p in "${BG[@]}"; do kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
	BG=()
}

hold_cleanup() {
	local p
	bg_kill
	p=$(main_pid)
	sv_stop
	[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	cleanup
}
trap hold_cleanup EXIT

# ---- the log ----

# last_msg ACTION: the message of the last line logged with that action.
last_msg() {
	timeout 10 $LOGQ "$LOG" event.action="$1" --print |
		python3 -c 'import json,sys
lines=[l for l in sys.stdin if l.startswith("{")]
print(json.loads(lines[-1])["message"] if lines else "")'
}
# takeovers_logged: how many takeover lines the log has.
takeovers_logged() { count_log event.action=takeover; }
# tk NAME [SINCE]: a number from the last takeover line, or its sum over
# the lines after the first SINCE ("none" when the line does not say).
tk() {
	timeout 10 $LOGQ "$LOG" event.action=takeover --print | python3 -c '
import json,re,sys
k=sys.argv[1]; since=int(sys.argv[2]) if len(sys.argv) > 2 else -1
msgs=[json.loads(l)["message"] for l in sys.stdin if l.startswith("{")]
msgs=msgs[since:] if since >= 0 else msgs[-1:]
pats={"orphans": r"(\d+) orphaned event", "allowed": r"\((\d+) read\(s\) allowed",
      "denied": r"allowed, (\d+) denied\)", "stale": r"(\d+) journaled number",
      "swept": r"SWEPT (\d+) fd", "hits": r"\): (\d+) orphan\(s\) of unknown",
      "takeover": r"\(takeover (\d+)\)", "dropped": r"(\d+) half-marked"}
found=[re.search(pats[k], m) for m in msgs]
found=[int(r.group(1)) for r in found if r]
print(sum(found) if found else "none")' "$@"
}
# overloaded_since ISO: permission events answered by on_overload (a
# write then is refused without a line of its own) in lines since ISO.
overloaded_since() {
	timeout 10 $LOGQ "$LOG" event.action=overload --print | python3 -c '
import json,re,sys
n=0
for l in sys.stdin:
    if l.startswith("{"):
        e=json.loads(l)
        r=re.match(r"(\d+) permission events", e["message"])
        n+=int(r.group(1)) if r and e["@timestamp"] >= sys.argv[1] else 0
print(n)' "$1"
}
# msg_has ACTION TEXT: the last line with that action says TEXT.
msg_has() { last_msg "$1" | grep -qF "$2"; }
status_json() {
	timeout 10 "$FANGUARD" status --json --socket "$SOCK" 2>/dev/null |
		python3 -c 'import json,sys; h=json.load(sys.stdin)["health"]
print(h.get("on_daemon_exit"), h.get("fd_store"), h.get("takeovers"))'
}

# ---- load ----

# load_start SECONDS [BOUND_MS]: 32 fg_load workers (half allowed) and 100 reader
# threads, each in its own process group.
load_start() {
	LOAD_T0=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
	setsid timeout -s KILL $(($1 + 60)) "$L" run "$LD" "$T/bin/load-allowed" \
		"$T/bin/load-denied" "$WORKERS" "$1" "${2:-$BOUND_MS}" >"$T/load.out" 2>"$T/load.err" &
	LOADPID=$!
	setsid timeout -s KILL $(($1 + 60)) "$READERS" "$READER_THREADS" "$LD/shared" "$1" \
		>"$T/readers.out" 2>&1 &
	READPID=$!
	BG=("$LOADPID" "$READPID")
}
load_wait() {
	wait "$LOADPID"
	wait "$READPID"
	BG=()
}
num() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" "$2"; }

# load_verdict WHAT DENIED [BOUND_MS]: the load and the readers got every answer, no
# denied write landed, and every allowed write refused is explained: by
# the DENIED orphans, or by on_overload (100 spinning readers on 2 CPUs
# make backlogs past FG_OVERLOAD_EVENTS, hold mode or not).
load_verdict() {
	local what=$1 over explained errors bound=${3:-$BOUND_MS}
	over=$(overloaded_since "$LOAD_T0")
	explained=$(($2 + over))
	check "$what: all $WORKERS writers finished (every open answered)" \
		test "$(num finished "$T/load.out")" = "$WORKERS"
	check "$what: no denied write landed" test "$(num breaches "$T/load.out")" = 0
	check "$what: denied files are unchanged" bash -c "cd '$LD' && sha256sum -c --quiet '$T/denied.sum'"
	check "$what: no open waited ${bound} ms or more" test "$(num slow "$T/load.out")" = 0
	[ "$(num slow "$T/load.out")" = 0 ] || grep -m3 "took" "$T/load.err"
	errors=$(num errors "$T/load.out")
	check "$what: allowed writes refused ($errors) are at most the orphans denied ($2) and on_overload's answers ($over)" \
		test "${errors:-x}" -le "$explained"
	[ "${errors:-0}" -gt 0 ] && head -3 "$T/load.err"
	check "$what: the $READER_THREADS readers finished without an error but EPERM" \
		grep -q "other=0" "$T/readers.out"
	echo "# $what: $(cat "$T/load.out") readers: $(cat "$T/readers.out")"
}
# midkill read|answer DESC: under load, fg_midread kills the daemon at that
# point of a batch of at least 4 events; sets batch to its size.
midkill() {
	local out p
	load_start 5 "$MIDREAD_BOUND_MS"
	sleep 1.5
	p=$(main_pid)
	out=$(timeout 20 "$MIDREAD" "$p" "$1" 4 10)
	check "$2 ($out)" test -n "$out"
	batch=${out#events=}
	wait_successor "$p"
	load_wait
}
readers_resume() {
	check "$1: reads resume (100 readers at once, all allowed)" \
		timeout 20 "$READERS" 100 "$LD/shared"
}

# ==== start ====
write_conf hold
sv_start
check "the journal and the group went to the store before READY" \
	bash -c "[ \"\$(sed -n '1,/ ready /p' '$SVDIR/events' | grep -c 'fdstore name=fanotify')\" = 2 ]"
check "status: mode hold, group held, no takeover yet" test "$(status_json)" = "hold held 0"
refuse "hold mode still decides" "$S/existing" bash -c "echo evil > '$S/existing'"

# ==== the gap: openers wait for the successor ====
P=$(main_pid)
kill -STOP "$P"
t_block=${EPOCHREALTIME//[!0-9]/}
( timeout 20 bash -c "echo evil > '$S/existing'" 2>/dev/null
  echo "$? ${EPOCHREALTIME//[!0-9]/}" >"$T/gapw" ) &
GW=$!
( timeout 20 cat "$S/existing" >/dev/null 2>&1
  echo "$? ${EPOCHREALTIME//[!0-9]/}" >"$T/gapr" ) &
GR=$!
sleep 0.3
t_kill=${EPOCHREALTIME//[!0-9]/}
kill -KILL "$P"
sleep 0.05
check "kill -9: a writer still waits (nothing was let through)" kill -0 "$GW"
check "kill -9: a reader still waits" kill -0 "$GR"
wait "$GW" "$GR"
read -r wrc wt <"$T/gapw"
read -r rrc rt <"$T/gapr"
check "the waiting writer is refused by the successor (EPERM, not let through)" test "$wrc" = 1
check "the waiting reader is let in by the successor" test "$rrc" = 0
same_content "the file is unchanged across the kill" "$S/existing" original
wait_successor "$P"
logged "the successor logged the takeover" 1 event.action=takeover event.outcome=success
logged "the successor's deny names the file" 2 fanguard.decision=deny file.path="$S/existing"
echo "PAUSE gap: opener blocked $(((t_kill - t_block) / 1000)) ms before the kill; from the kill" \
	"to the answer: writer $(((wt - t_kill) / 1000)) ms, reader $(((rt - t_kill) / 1000)) ms" \
	"(RestartSec=${RESTART_MS} ms included)"
check "status: one takeover" test "$(status_json)" = "hold held 1"

# ==== kill -9 under load, with read-but-unanswered events ====
midkill answer "kill -9 right before a batch of >= 4 events was answered"
orphans=$(tk orphans)
denied=$(tk denied)
check "the successor answered the $batch orphans of the batch from the journal ($orphans)" \
	test "${orphans:-0}" -ge "${batch:-999999}"
check "no sweep was needed" test "$(tk swept)" = none
check "the log says the orphans were answered from the journal" \
	msg_has takeover "orphaned event(s) answered from the journal"
load_verdict "kill -9 mid-batch" "$denied" "$MIDREAD_BOUND_MS"
echo "PAUSE load: longest open across the kill $(num max_wait_ms "$T/load.out") ms" \
	"(32 writers, 100 readers, 2 CPUs; host stalls up to $(num host_stall_ms "$T/load.out") ms)"
readers_resume "after the takeover"
refuse "the successor still decides" "$S/existing" bash -c "echo evil > '$S/existing'"

# ==== kill -9 inside a read: nothing journaled, the successor sweeps ====
midkill read "kill -9 at the exit of a read of >= 4 events"
check "the successor swept up to the fd limit ($(tk swept) numbers)" test "$(tk swept)" -ge $((NOFILE - 4096))
check "the sweep found exactly the $batch events of that read ($(tk hits))" test "$(tk hits)" = "$batch"
check "the log says why it swept, as a failure" msg_has takeover "SWEPT"
check "... because the daemon died inside a read" msg_has takeover "the daemon died during a read"
logged "... logged with outcome failure" 1 event.action=takeover event.outcome=failure
load_verdict "kill -9 inside a read" "$(($(tk denied) + $(tk hits)))" "$MIDREAD_BOUND_MS"
readers_resume "after the sweep"

# ==== two kills in a row: the second during the successor's start ====
before=$(status_json | cut -d' ' -f3)
seen=$(takeovers_logged)
load_start 5
sleep 1
P=$(main_pid)
kill -KILL "$P"
Q=
for _ in $(seq 2000); do Q=$(last_start_pid); [ "$Q" != "$P" ] && break; sleep 0.001; done
kill -KILL "$Q"
check "the second kill hit the successor before it was ready" bash -c "! grep -q ' ready pid=$Q$' '$SVDIR/events'"
wait_successor "$Q"
load_wait
load_verdict "two kills in a row" "$(tk denied "$seen")"
# The second daemon may have died before or after it took the group over.
after=$(status_json | cut -d' ' -f3)
check "status counts the takeovers ($before, then $after)" \
	test "$after" -ge $((before + 1)) -a "$after" -le $((before + 2))
readers_resume "after two kills"

# ==== kill -9 during a reload ====
load_start 5
sleep 1
n0=$(n_sv fdstore)
P=$(main_pid)
kill -HUP "$P"
wait_sv $((n0 + 1)) fdstore 10 # the new group is stored; its marks are being placed
kill -KILL "$P"
wait_successor "$P"
load_wait
check "the successor was handed both groups" bash -c "grep ' start ' '$SVDIR/events' | tail -1 | grep -q 'fds=3'"
check "it kept the complete one and dropped the half-marked spare" test "$(tk dropped)" = 1
load_verdict "kill -9 during a reload" "$(tk denied)"
refuse "decides after a kill during a reload (a file marked by the reload)" "$BIG/f2999" \
	bash -c "echo evil > '$BIG/f2999'"
check "the store holds the journal and one group" \
	bash -c "grep -E ' fdstore(remove)? ' '$SVDIR/events' | tail -1 | grep -q 'total=2'"

# ==== a restart (SIGTERM, store kept) answers everything first ====
load_start 5
sleep 1.5
P=$(main_pid)
kill -USR1 "$SVPID"
wait_successor "$P"
load_wait
check "the stopped daemon exited cleanly" bash -c "grep -q 'exit pid=$P status=exited:0' '$SVDIR/events'"
check "it left no orphan: the successor found none in the journal" test "$(tk orphans)" = 0
check "and needed no sweep" test "$(tk swept)" = none
load_verdict "restart under load" 0
check "the stop line says everything read was answered" \
	msg_has daemon-stop "every event it read was answered"

# ==== a stop drops the store: every opener goes on ====
P=$(main_pid)
kill -STOP "$P"
( timeout 20 cat "$S/existing" >/dev/null 2>&1; echo $? >"$T/stopr" ) &
SR=$!
sleep 0.2
kill -CONT "$P"
sv_stop
check "a stop: the supervisor exits 0" test $? = 0
wait "$SR"
check "a stop: the opener that waited got its answer" test "$(cat "$T/stopr")" = 0
check "a stop: the store was dropped" bash -c "tail -1 '$SVDIR/events' | grep -q 'release fds=2 why=stopped'"
check "a stop: no fanguardd is left" bash -c "! kill -0 $P 2>/dev/null"
check "a stop: nothing holds the subtree (a write goes through, as documented)" \
	timeout 5 bash -c "echo after-stop > '$S/existing'"

# ==== hold is refused where a held group could block its own restart ====
# (here: a subtree holding the fanguardd that runs; the same rule covers
# /etc/systemd and the dynamic loader's files, which no test may mark)
cp "$FANGUARDD" "$T/bin/fanguardd"
REAL_FANGUARDD=$FANGUARDD
FANGUARDD=$T/bin/fanguardd
write_conf hold
cat >>"$CONF" <<EOC

[subtree bin]
path = $T/bin
EOC
sv_start
check "a subtree covering fanguardd: nothing goes to the store" test "$(n_sv fdstore)" = 0
check "status says hold is NOT HELD, and why" \
	bash -c "timeout 10 '$FANGUARD' status --json --socket '$SOCK' | grep -q 'NOT HELD (subtree bin covers fanguardd itself'"
logged "the failure to hold is logged" 1 event.action=fd-store event.outcome=failure
sv_stop
write_conf hold
sv_start
cat >>"$CONF" <<EOC

[subtree bin]
path = $T/bin
EOC
kill -HUP "$(main_pid)"
logged "a reload that would cover fanguardd is refused while the group is held" 1 \
	event.action=reload event.outcome=failure message="~covers fanguardd itself"
check "and the group is still held" test "$(status_json | cut -d' ' -f1-2)" = "hold held"
sv_stop
FANGUARDD=$REAL_FANGUARDD

# ==== release mode fails open at once ====
echo original >"$S/existing"
write_conf release
sv_start -s 3000
check "release: nothing goes to the store" test "$(n_sv fdstore)" = 0
check "release: status says so" test "$(status_json)" = "release released 0"
P=$(main_pid)
kill -STOP "$P"
( timeout 20 bash -c "echo released > '$S/existing'" 2>/dev/null; echo "$? ${EPOCHREALTIME//[!0-9]/}" >"$T/relw" ) &
RW=$!
sleep 0.3
t_kill=${EPOCHREALTIME//[!0-9]/}
kill -KILL "$P"
wait "$RW"
read -r wrc wt <"$T/relw"
check "release: the waiting write went through when the daemon died" test "$wrc" = 0
check "release: at once ($(((wt - t_kill) / 1000)) ms), long before the restart (3 s)" \
	test $((wt - t_kill)) -lt 1000000
same_content "release: the write landed (fail open, as documented)" "$S/existing" released
wait_successor "$P"
check "release: the successor took nothing over" test "$(n_sv fdstore)" = 0
sv_stop

[ -n "${FG_HOLD_KEEP:-}" ] && cp "$LOG" "$FG_HOLD_KEEP"
finish
