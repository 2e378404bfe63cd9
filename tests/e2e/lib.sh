# Shared by the end-to-end tests: a temporary tree, a fanguardd on it with a
# watchdog, and assertions. Every daemon is killed by pid on exit.
set -u
FG_BUILD=${FG_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build" && pwd)}
FG_SRC=${FG_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FANGUARDD=$FG_BUILD/fanguardd
FANGUARD=$FG_BUILD/fanguard
LOGQ="python3 $FG_SRC/tests/e2e/logq.py"

# Each test runs in a mount namespace of its own with its tree on a fresh
# tmpfs: fanguardd watches the directories above a subtree up to the root
# of its mount (DESIGN 10), and that root is then $T, never the host's
# /tmp or /. The namespace, and the mount with it, go when the test ends.
if [ -z "${FG_E2E_NS:-}" ]; then
	exec unshare -m --propagation private env FG_E2E_NS=1 bash "$0" "$@"
fi
T=$(mktemp -d /tmp/fg-e2e.XXXXXX)
mount -t tmpfs -o mode=0700 fg-e2e "$T" || { echo "FAIL - cannot mount a tmpfs on $T"; exit 1; }
LOG=$T/fanguard.log
CONF=$T/fanguard.conf
SOCK=$T/status.sock
DPID=
WDOG=
# The watchdog's limit for one daemon, in seconds.
DAEMON_TIMEOUT=${DAEMON_TIMEOUT:-100}
FAILS=0
PASSES=0

stop_daemon() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DPID" 2>/dev/null
	fi
	[ -n "$DPID" ] && wait "$DPID" 2>/dev/null
	DPID=
	if [ -n "$WDOG" ]; then
		pkill -P "$WDOG" 2>/dev/null
		kill "$WDOG" 2>/dev/null
		wait "$WDOG" 2>/dev/null
	fi
	WDOG=
}

cleanup() {
	stop_daemon
	umount -l "$T" 2>/dev/null
	rmdir "$T" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# kill_daemon: SIGKILL at once, for a daemon that no longer answers (a
# deadlocked event loop never reads its SIGTERM). The kernel lets what
# waited on it through when its groups close.
kill_daemon() {
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
	stop_daemon
}

# launch_daemon [fanguardd args...]: starts it on $CONF (with no --config
# when CONF is empty: the default search) and waits up to 10 s until it has
# logged daemon-start (all marks placed). A watchdog kills it after
# $DAEMON_TIMEOUT s. Returns 1 (daemon stopped) when it did not start.
launch_daemon() {
	local before cfg=()
	[ -n "$CONF" ] && cfg=(--config "$CONF")
	before=$(count_log event.action=daemon-start)
	"$FANGUARDD" "${cfg[@]}" --foreground "$@" 2>"$T/daemon.stderr" &
	DPID=$!
	# Its own stdio, so a leftover sleep never holds the test runner's pipe.
	( sleep "$DAEMON_TIMEOUT"; kill -KILL "$DPID" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
	WDOG=$!
	for _ in $(seq 100); do
		[ "$(count_log event.action=daemon-start)" -gt "$before" ] 2>/dev/null && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	echo "fanguardd did not start:"; cat "$T/daemon.stderr"
	kill_daemon
	return 1
}

# start_daemon [fanguardd args...]: launch_daemon, and the test ends if
# the daemon does not start.
start_daemon() { launch_daemon "$@" || exit 1; }

# conf_base: the [fanguard] section most tests start from and the sudoers
# subtree at $S (set by the test); the test appends its own sections.
conf_base() {
	cat <<EOC
[fanguard]
mode = enforce
log = file:$LOG
status_socket = $SOCK

[subtree sudoers]
path = $S
key = priv_esc_persist
EOC
}

# count_log filters...: matching lines in $LOG. Bounded: a log inside a
# guarded subtree cannot be read while the daemon hangs.
count_log() {
	[ -f "$LOG" ] || { echo 0; return; }
	timeout -k 1 10 $LOGQ "$LOG" "$@" || echo "LOGQ-FAILED"
}

# wait_log N filters...: waits up to FG_LOG_WAIT seconds (default 20) for
# at least N matching lines. A line that comes returns at once; the budget
# is spent only on a failure, so it is sized for an ASan build on a loaded
# 2-CPU host, where 5 s was seen to be too short.
wait_log() {
	local want=$1 end=$((${EPOCHREALTIME//[!0-9]/} + ${FG_LOG_WAIT:-20} * 1000000)); shift
	for (( ; ; )); do
		[ "$(count_log "$@")" -ge "$want" ] 2>/dev/null && return 0
		[ "${EPOCHREALTIME//[!0-9]/}" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# wait_stopped PID: until every thread of PID is in state T (stopped), up
# to 5 s. SIGSTOP reaches each thread when it next runs; a thread woken by
# an event in the same instant may answer it first, so a test that needs
# openers to queue waits for this before it starts them.
wait_stopped() {
	local t st all
	for _ in $(seq 100); do
		all=1
		for t in /proc/$1/task/*; do
			st=$(cat "$t/stat" 2>/dev/null) || continue
			st=${st##*) }
			[ "${st%% *}" = T ] || all=0
		done
		[ -d "/proc/$1" ] || return 1
		[ $all = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# check DESC CMD...: CMD must succeed.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# refuse DESC PATH CMD...: fanguard must refuse CMD's write of PATH. CMD
# has to fail within 10 s with EPERM ("Operation not permitted" on its
# stderr: bash, coreutils, sed, python3, fg_open and crontab all print it),
# and a new deny line must name PATH in file.path (a leading ~ matches a
# substring, for names the test cannot know, such as sed -i's temp file).
# Success, a timeout or hang (exit 124/137), another error, or EPERM that
# fanguard did not log (someone else refused it) are failures.
refuse() {
	local d=$1 path=$2 before rc; shift 2
	before=$(count_log fanguard.decision=deny file.path="$path")
	timeout -k 2 10 "$@" >/dev/null 2>"$T/refuse.err"
	rc=$?
	if [ "$rc" = 0 ]; then
		fail "$d (the write succeeded)"
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		fail "$d (no answer within 10 s: exit $rc)"
	elif ! grep -q "Operation not permitted" "$T/refuse.err"; then
		fail "$d (exit $rc, not EPERM: $(head -c 300 "$T/refuse.err" | tr '\n' ' '))"
	elif ! [ "$before" -ge 0 ] 2>/dev/null; then
		fail "$d (log unreadable: $before)"
	elif ! wait_log $((before + 1)) fanguard.decision=deny file.path="$path"; then
		fail "$d (EPERM, but no new deny line names $path)"
	else
		pass "$d"
	fi
}
# same_content DESC FILE TEXT (a bounded read: FILE may be guarded)
same_content() {
	local got
	got=$(timeout -k 1 10 cat "$2" 2>/dev/null)
	if [ "$got" = "$3" ]; then pass "$1"; else fail "$1 (got '$got')"; fi
}
# logged DESC N filters...: at least N lines match (waits for the async logger)
logged() { local d=$1; shift; if wait_log "$@"; then pass "$d"; else fail "$d (found $(count_log "${@:2}"))"; fi; }

finish() {
	stop_daemon
	if [ "$(count_log)" = "LOGQ-FAILED" ]; then fail "every log line is one JSON object"; fi
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}
