#!/usr/bin/env bash
# Load (issue 4, item 7): 32 concurrent workers, half running as an
# allowed executable and half as a denied one, hammer one protected
# directory with read-only opens and O_TRUNC write-opens for a bounded time.
# Afterwards: every worker finished (all opens were answered), no open
# waited longer than the bound, every denied file is byte-for-byte what it
# was, every allowed file holds one whole payload, the daemon's memory did
# not grow, and it still decides.
#
# FG_LOAD_SECONDS (default 10) sets the length of the measured run.
. "$(dirname "$0")/lib.sh"

L=$FG_BUILD/tests/fg_load
S=$T/etc/cron.d
WORKERS=32
RUN_SECONDS=${FG_LOAD_SECONDS:-10}
WARM_SECONDS=2
# A hang detector, not a performance target: an answered open takes well
# under a millisecond, and a daemon that stops answering leaves the opener
# waiting for ever. The bound is generous because a shared 2-CPU runner
# with the sanitizer build has been seen to hold every process, the daemon
# included, off the CPU for over a second (fg_load's host_stall_ms shows it).
BOUND_MS=5000
# Growth allowed between the RSS after the warm-up and after the run. The
# hot path allocates nothing and every buffer exists after the warm-up, so
# what comes on top of it is a leak (a few pages of slack for the allocator).
RSS_SLACK_KB=1024

[ -x "$L" ] || { echo "missing helper $L (build the tests first)"; exit 1; }
mkdir -p "$S" "$T/bin"
cp "$L" "$T/bin/load-allowed"
cp "$L" "$T/bin/load-denied"
echo "read me" >"$S/shared"
# Denied workers have odd ids; their targets exist before the daemon starts
# (afterwards no one here may create them).
for ((i = 1; i < WORKERS; i += 2)); do
	printf 'original content of denied-%03d\n' "$i" >"$S/$(printf 'denied-%03d' "$i")"
done
(cd "$S" && sha256sum denied-*) >"$T/denied.sum"

cat >"$CONF" <<EOC
[fanguard]
mode = enforce
log = file:$LOG
status_socket = $SOCK

[subtree cron]
path = $S
key = cron_persist

[writer load]
exe = $T/bin/load-allowed
EOC

LOADPID=
trap '[ -n "$LOADPID" ] && kill -KILL -- "-$LOADPID" 2>/dev/null; cleanup' EXIT

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status"; }

# run_load SECONDS OUTFILE: one fg_load run in its own process group (so
# that a timeout takes every worker with it); returns its status.
run_load() {
	setsid timeout -s KILL $(($1 + 60)) "$L" run "$S" "$T/bin/load-allowed" \
		"$T/bin/load-denied" "$WORKERS" "$1" "$BOUND_MS" >"$2" 2>"$2.err" &
	LOADPID=$!
	wait "$LOADPID"
	local rc=$?
	LOADPID=
	cat "$2.err"
	return $rc
}

# num KEY FILE: KEY=value from fg_load's summary line.
num() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" "$2"; }

start_daemon

check "warm-up run (${WARM_SECONDS}s) passes" run_load "$WARM_SECONDS" "$T/warm.out"
# Let the logger drain what the warm-up queued before taking the baseline.
sleep 1
rss0=$(rss_kb)

run_load "$RUN_SECONDS" "$T/run.out"
rc=$?
cat "$T/run.out"
rss1=$(rss_kb)
check "every worker finished within the time limit" \
	test "$(num finished "$T/run.out")" = "$WORKERS"
check "load run reported no failure (exit $rc)" test "$rc" = 0
check "no open waited longer than ${BOUND_MS} ms (max $(num max_wait_ms "$T/run.out") ms)" \
	test "$(num slow "$T/run.out")" = 0
check "no unexplained error (refused read or allowed write, non-EPERM denial)" \
	test "$(num errors "$T/run.out")" = 0
check "no denied write went through" test "$(num breaches "$T/run.out")" = 0
check "the workers really wrote ($(num allowed_writes "$T/run.out") allowed, $(num denied_writes "$T/run.out") denied)" \
	test "$(num allowed_writes "$T/run.out")" -gt 0 -a "$(num denied_writes "$T/run.out")" -gt 0

check "every denied file is as it was" bash -c "cd '$S' && sha256sum --quiet -c '$T/denied.sum'"
whole=0
for ((i = 0; i < WORKERS; i += 2)); do
	"$L" verify "$S/$(printf 'allowed-%03d' "$i")" "$i" >/dev/null && whole=$((whole + 1))
done
check "every allowed file holds its last payload whole ($whole of $((WORKERS / 2)))" \
	test "$whole" = $((WORKERS / 2))

# A read-only open refused with EPERM means the daemon could not read the
# opener's intent in time and unknown_intent (write) refused a read. That is
# a daemon shortcoming under load, reported to the lead; it is shown here
# and does not fail the test until it is fixed.
echo "read-only opens refused: $(num read_eperm "$T/run.out")"

check "fanguardd is alive after the load" kill -0 "$DPID"
echo "fanguardd VmRSS: ${rss0} kB after warm-up, ${rss1} kB after the run"
check "fanguardd RSS did not grow (${rss0} -> ${rss1} kB, slack ${RSS_SLACK_KB} kB)" \
	test "$rss1" -le $((rss0 + RSS_SLACK_KB))
refuse "still deciding: a denied write" "$S/denied-001" bash -c "echo x > '$S/denied-001'"
check "still deciding: an allowed write (one allowed worker, 1 s)" timeout 30 \
	"$T/bin/load-allowed" run "$S" "$T/bin/load-allowed" "$T/bin/load-denied" 1 1 "$BOUND_MS"
logged "denials of the run are logged" 1 fanguard.decision=deny process.executable="$T/bin/load-denied"
echo "load: $(num opens_per_s "$T/run.out") opens/s over $(num seconds "$T/run.out") s," \
	"max wait $(num max_wait_ms "$T/run.out") ms (host stall $(num host_stall_ms "$T/run.out") ms)," \
	"log $(wc -l <"$LOG") lines"
finish
