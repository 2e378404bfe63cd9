#!/usr/bin/env bash
# The real pipeline (issue 12, item 9): fanguardd with `log = syslog` ->
# /dev/log -> Debian's rsyslogd running docs/rsyslog-fanguard.conf (imuxsock
# with a 200-per-5-s rate limit, mmjsonparse, JSON out to a file). Denials,
# a 300-deep writer, hostile file names and a 20,000-denial flood: every
# event must arrive, parseable, numbered without a gap; the flood folded
# into `repeated` lines; a later unrelated denial still delivered; and the
# rate limiter shown to be live, so that none of this passes by accident.
#
# It runs in its own mount namespace, where /dev is an overlay whose upper
# layer is a tmpfs of the test's: rsyslogd's /dev/log exists only there.
if [ -z "${FG_SIEM_NS:-}" ]; then
	exec timeout 110 unshare -m --propagation private env FG_SIEM_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

RSYSLOGD=/usr/sbin/rsyslogd
W=$FG_BUILD/tests/fg_writer
S=$T/etc/sudoers.d
RS=$T/rs
RPID=
[ -x "$RSYSLOGD" ] || { echo "missing $RSYSLOGD (apt-get install -y rsyslog)"; exit 1; }
[ -x "$W" ] || { echo "missing helper $W (build the tests first)"; exit 1; }
mkdir -p "$S" "$RS" "$T/devup" "$T/bin"
cp /bin/bash "$T/bin/other-shell"
eq() { [ "$1" = "$2" ]; }

siem_cleanup() {
	stop_daemon
	if [ -n "$RPID" ]; then
		kill -TERM "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	# Only this namespace sees these mounts; $T cannot go while they stand.
	umount /dev 2>/dev/null
	umount "$T/devup" 2>/dev/null
	cleanup
}
trap siem_cleanup EXIT

# /dev for this namespace only: the host's nodes below, our socket above.
# A /dev/log the host has (journald's, a symlink) is hidden by a whiteout.
host_devlog=$(stat -c '%F %N %i' /dev/log 2>&1)
mount -t tmpfs fg-siem "$T/devup" && mkdir "$T/devup/u" "$T/devup/w" &&
	mount -t overlay fg-siem -o "lowerdir=/dev,upperdir=$T/devup/u,workdir=$T/devup/w" /dev ||
	{ echo "cannot overlay /dev in the private namespace"; exit 1; }
findmnt -n -o FSTYPE /dev | grep -qx overlay || { echo "/dev is not our overlay"; exit 1; }
rm -f /dev/log
[ ! -e /dev/log ] && [ ! -L /dev/log ] || { echo "cannot replace /dev/log in the overlay"; exit 1; }

sed "s|/var/log/fanguard|$RS|g" "$FG_SRC/docs/rsyslog-fanguard.conf" >"$T/rsyslog.conf"
"$RSYSLOGD" -N1 -f "$T/rsyslog.conf" >"$T/rsyslog.check" 2>&1 ||
	{ echo "rsyslogd rejects the shipped config:"; cat "$T/rsyslog.check"; exit 1; }
"$RSYSLOGD" -n -f "$T/rsyslog.conf" -i "$T/rsyslogd.pid" 2>"$T/rsyslogd.stderr" &
RPID=$!
for _ in $(seq 100); do [ -S /dev/log ] && break; sleep 0.05; done
[ -S /dev/log ] || { echo "rsyslogd did not open /dev/log"; cat "$T/rsyslogd.stderr"; exit 1; }

# What the daemon sends arrives here, re-serialised by rsyslog.
LOG=$RS/events.json
RAW=$RS/events.raw
for i in $(seq 0 99); do echo original >"$S/flood-$i"; done
echo original >"$S/denied"
cat >"$CONF" <<EOC
[fanguard]
mode = enforce
log = syslog
status_socket = $SOCK
heartbeat_interval = 2
repeat_window = 3

[subtree sudoers]
path = $S
key = priv_esc_persist
EOC
start_daemon

# ---- plain denials
for i in 1 2 3; do refuse "denial $i refused" "$S/denied" /usr/bin/bash -c "echo evil > '$S/denied'"; done
logged "the denials arrive through rsyslog" 3 event.action=open-write fanguard.decision=deny \
	file.path="$S/denied" event.type='~denied' tags='~priv_esc_persist'

# ---- a writer 300 processes deep
timeout 60 "$W" chain 300 /usr/bin/bash -c "echo deep > '$S/deep'" 2>/dev/null
check "the 300-deep writer is refused" test $? -ne 0
logged "its line arrives" 1 fanguard.decision=deny file.path="$S/deep"
deep=$(python3 - "$LOG" "$S/deep" <<'EOP'
import json, sys
for raw in open(sys.argv[1]):
    ev = json.loads(raw)
    if ev.get("file", {}).get("path") != sys.argv[2] or ev["event"]["action"] != "open-write":
        continue
    f, why = ev["fanguard"], []
    if len(f.get("ancestry", [])) + f.get("ancestry_truncated", 0) < 300:
        why.append("fewer than 300 ancestors counted")
    if f.get("truncated") is not True:
        why.append("not marked truncated")
    if f["ancestry"][-1]["pid"] != 1 or f["ancestry"][0]["pid"] != ev["process"]["parent"]["pid"]:
        why.append("nearest or farthest ancestor missing")
    print(" and ".join(why) or "ok")
EOP
)
check "it counts every ancestor, lists the nearest and pid 1, says it shortened ($deep)" \
	eq "$deep" ok

# ---- hostile names: quotes, backslashes, control bytes, invalid UTF-8,
# NAME_MAX long. Each O_CREAT is denied; each line must carry the exact
# bytes (fanguard.hex) and parse.
python3 - "$S" >"$T/hostile.out" <<'EOP'
import os, sys
d = os.fsencode(sys.argv[1])
names = [b'q"uote', b'back\\slash', b'ctl\x01\x1b[31m\x7f', b'bad\xff\xfeutf8',
         b'nl\nin\rname', b'c1\xc2\x85', b'x' * 255,
         (b'"\\\x01\xff' * 64)[:255]]
for n in names:
    try:
        os.close(os.open(d + b'/' + n, os.O_WRONLY | os.O_CREAT, 0o644))
        print("CREATED", n.hex())
    except PermissionError:
        print("denied", (d + b'/' + n).hex())
EOP
check "every hostile name was refused" eq "$(grep -c '^denied' "$T/hostile.out")" 8
hostile_missing() {
	python3 - "$LOG" "$T/hostile.out" <<'EOP'
import json, os, sys
want = {bytes.fromhex(l.split()[1]) for l in open(sys.argv[2]) if l.startswith("denied")}
for raw in open(sys.argv[1]):
    ev = json.loads(raw)
    if ev["event"]["action"] != "open-write":
        continue
    f = ev["fanguard"]
    got = bytes.fromhex(f["hex"]["file_path"]) if "file_path" in f.get("hex", {}) \
        else ev["file"]["path"].encode()
    want.discard(got)
print(len(want))
EOP
}
for _ in $(seq 50); do hostile=$(hostile_missing); [ "$hostile" = 0 ] && break; sleep 0.1; done
check "each hostile name arrives with its exact bytes ($hostile missing)" eq "$hostile" 0

# ---- a 20,000-denial flood by one writer, over 100 files
python3 - "$S" >"$T/flood.out" <<'EOP'
import os, sys, time
t0, denied = time.monotonic(), 0
for i in range(20000):
    try:
        os.close(os.open(f"{sys.argv[1]}/flood-{i % 100}", os.O_WRONLY))
    except PermissionError:
        denied += 1
print(denied, round(time.monotonic() - t0, 2))
EOP
read -r flooded flood_s <"$T/flood.out"
check "20,000 flood writes refused (in ${flood_s}s)" eq "$flooded" 20000

# ---- then another writer: delivered although the flood just happened
refuse "an unrelated denial after the flood" "$S/denied" "$T/bin/other-shell" -c "echo x > '$S/denied'"
logged "the unrelated denial arrives" 1 fanguard.decision=deny file.path="$S/denied" \
	process.executable="$T/bin/other-shell"

# Each window of the flood closes repeat_window (3 s) after it opened, on
# the logger's own timer.
logged "the flood is folded into repeated lines" 1 event.action=repeated \
	fanguard.repeated.action=open-write file.path='~flood-'
stop_daemon
wait_log 1 event.action=daemon-stop || fail "daemon-stop never arrived"

# ---- every line: parseable, numbered without a gap, within max_line
summary=$(python3 - "$LOG" "$RAW" "$flood_s" <<'EOP'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
raw = open(sys.argv[2], "rb").read().split(b"\n")[:-1]
for r in raw:
    json.loads(r)
seqs = sorted(l["event"]["sequence"] for l in lines)
gaps = sorted(set(range(1, seqs[-1] + 1)) - set(seqs))
flood = [l for l in lines if "flood-" in l.get("file", {}).get("path", "")]
full = [l for l in flood if l["event"]["action"] == "open-write"]
rep = [l for l in flood if l["event"]["action"] == "repeated"]
folded = sum(l["fanguard"]["repeated"]["count"] for l in rep)
hb = [l for l in lines if l["event"]["action"] == "heartbeat"]
# At most repeat_threshold full lines and one repeated line per window.
windows = float(sys.argv[3]) / 3 + 2
# The daemon's own view rides on each heartbeat: generation, marks, counters.
hbfull = sum(1 for l in hb if l["fanguard"].get("heartbeat", {}).get("generation") == 1
             and l["fanguard"]["heartbeat"].get("marks", 0) > 0
             and l["fanguard"].get("mode") == "enforce")
print(len(lines), len(raw), len(gaps), max(len(r) for r in raw), len(full), len(rep), folded,
      len(hb), sum(1 for l in hb if l["event"]["kind"] == "state"),
      int(len(full) <= 20 * windows and len(rep) <= windows), hbfull)
EOP
)
read -r n nraw gaps longest full rep folded hb hbstate bounded hbfull <<<"$summary"
echo "# $n lines, longest $longest bytes; flood: $full full + $rep repeated for $folded more; $hb heartbeats"
check "rsyslog parsed every line it got ($n) and kept the raw ones ($nraw)" eq "$n" "$nraw"
check "no line is missing: sequence numbers have no gap ($gaps)" eq "$gaps" 0
check "no line passed max_line (longest $longest + newline <= 7500)" test "$longest" -lt 7500
check "nothing failed to parse" test ! -s "$RS/unparsed.log"
check "the flood: 20,000 denials in $((full + rep)) lines" eq "$((full + folded))" 20000
check "at most 20 full lines and one repeated line per window" eq "$bounded" 1
check "heartbeats arrive as state events ($hb)" eval "[ $hb -ge 2 ] && [ $hb -eq $hbstate ]"
check "each heartbeat carries the daemon's mode, generation and marks ($hbfull of $hb)" eq "$hbfull" "$hb"
check "rsyslog's rate limiter dropped nothing of fanguardd's" eval \
	"! grep -q 'drop messages' '$RS/rsyslogd.log'"

# ---- the limiter is live: 400 lines from one process are cut
python3 -c '
import syslog
syslog.openlog("fanguardd", syslog.LOG_PID, syslog.LOG_DAEMON)
for i in range(400):
    syslog.syslog(syslog.LOG_WARNING, "{\"burst\": %d}" % i)
'
for _ in $(seq 50); do grep -q 'drop messages' "$RS/rsyslogd.log" 2>/dev/null && break; sleep 0.1; done
check "control: 400 unfolded lines in a burst hit the rate limit" \
	grep -q 'begin to drop messages due to rate-limiting' "$RS/rsyslogd.log"
check "control: fewer than 400 of them arrived" \
	test "$(grep -c '"burst"' "$LOG")" -lt 400

kill -TERM "$RPID" 2>/dev/null
wait "$RPID" 2>/dev/null
RPID=
umount /dev
check "the host's /dev/log is as it was" eq "$(stat -c '%F %N %i' /dev/log 2>&1)" "$host_devlog"
finish
