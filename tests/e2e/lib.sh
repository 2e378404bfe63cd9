# Shared by the end-to-end tests: a temporary tree, a fanguardd on it with a
# watchdog, and assertions. Every daemon is killed by pid on exit.
set -u
FG_BUILD=${FG_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build" && pwd)}
FG_SRC=${FG_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FANGUARDD=$FG_BUILD/fanguardd
FANGUARD=$FG_BUILD/fanguard
LOGQ="python3 $FG_SRC/tests/e2e/logq.py"

T=$(mktemp -d /tmp/fg-e2e.XXXXXX)
LOG=$T/fanguard.log
CONF=$T/fanguard.conf
SOCK=$T/status.sock
DPID=
WDOG=
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
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_daemon [fanguardd args...]: starts it on $CONF and waits until it
# has logged daemon-start (all marks placed). A watchdog kills it after 100 s.
start_daemon() {
	local before
	before=$(count_log event.action=daemon-start)
	"$FANGUARDD" --config "$CONF" --foreground "$@" 2>"$T/daemon.stderr" &
	DPID=$!
	# Its own stdio, so a leftover sleep never holds the test runner's pipe.
	( sleep 100; kill -KILL "$DPID" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
	WDOG=$!
	for _ in $(seq 100); do
		[ "$(count_log event.action=daemon-start)" -gt "$before" ] && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	echo "fanguardd did not start:"; cat "$T/daemon.stderr"; exit 1
}

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

count_log() {
	[ -f "$LOG" ] || { echo 0; return; }
	$LOGQ "$LOG" "$@" || echo "LOGQ-FAILED"
}

# wait_log N filters...: waits up to 5 s for at least N matching lines.
wait_log() {
	local want=$1; shift
	for _ in $(seq 50); do
		[ "$(count_log "$@")" -ge "$want" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# check DESC CMD...: CMD must succeed.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# refuse DESC CMD...: CMD must fail (and must not hang).
refuse() { local d=$1; shift; if timeout 10 "$@" 2>/dev/null; then fail "$d"; else pass "$d"; fi; }
# same_content DESC FILE TEXT
same_content() { if [ "$(cat "$2" 2>/dev/null)" = "$3" ]; then pass "$1"; else fail "$1 (got '$(cat "$2" 2>/dev/null)')"; fi; }
# logged DESC N filters...: at least N lines match (waits for the async logger)
logged() { local d=$1; shift; if wait_log "$@"; then pass "$d"; else fail "$d (found $(count_log "${@:2}"))"; fi; }

finish() {
	stop_daemon
	if [ "$(count_log)" = "LOGQ-FAILED" ]; then fail "every log line is one JSON object"; fi
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

# refuse_write DESC FILE CMD...: CMD must fail with EPERM ("Operation not
# permitted" on its stderr, within 10 s) and a deny line must name FILE. A
# hang, a timeout or any other error is a failure.
refuse_write() {
	local d=$1 f=$2 rc; shift 2
	timeout 10 "$@" 2>"$T/refuse.err"
	rc=$?
	if [ "$rc" = 0 ]; then fail "$d (it succeeded)"; return; fi
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then fail "$d (timed out)"; return; fi
	if ! grep -q "Operation not permitted" "$T/refuse.err"; then
		fail "$d (not EPERM: $(head -c 200 "$T/refuse.err"))"; return
	fi
	if wait_log 1 event.action=open-write fanguard.decision=deny file.path="$f"; then
		pass "$d"
	else
		fail "$d (no deny line names $f)"
	fi
}
