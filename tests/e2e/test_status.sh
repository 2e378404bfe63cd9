#!/usr/bin/env bash
# The status socket and the CLI against a live daemon: exact counters and
# denials after known writes, the text form, exit codes (enforcing, audit,
# degraded, refused, not running), idle clients that must not delay a
# permission answer, explain agreeing with the daemon, reload over the
# socket, and check-config.
. "$(dirname "$0")/lib.sh"

S=$T/etc/sudoers.d
chmod 0755 "$T" # nobody must reach the socket for the peer check to be tested
mkdir -p "$S" "$T/bin"
cp /bin/bash "$T/bin/tool"
for f in a b c r; do echo original > "$S/$f"; done

write_conf() {
	{
		conf_base
		cat <<EOC

[writer tool]
exe = $T/bin/tool

[writer never]
exe = /nonexistent/never
$1
EOC
	} > "$CONF"
}

# jq-like field access: status_json EXPR (d is the document)
status_json() {
	"$FANGUARD" status --json --socket "$SOCK" > "$T/st.json"
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/st.json"
}
# In the sanitizer build a finding goes to the daemon's stderr.
sanitizer_clean() {
	if grep -Eq 'runtime error|AddressSanitizer|LeakSanitizer' "$T/daemon.stderr"; then
		fail "no sanitizer finding in the daemon ($1)"; cat "$T/daemon.stderr"
	else pass "no sanitizer finding in the daemon ($1)"; fi
}
# eq DESC GOT WANT
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi; }

write_conf ""
start_daemon

# --- exact counts: 3 denied writes, 2 allowed writes, 4 reads ---
for f in a b c; do refuse "denied write to $f" "$S/$f" bash -c "echo evil > '$S/$f'"; done
for f in w1 w2; do check "allowed write $f" timeout 10 "$T/bin/tool" -c "echo ok > '$S/$f'"; done
for _ in 1 2 3 4; do cat "$S/r" > /dev/null; done

"$FANGUARD" status --json --socket "$SOCK" > /dev/null
eq "status exits 0 when enforcing" "$?" 0
eq "denied count" "$(status_json 'd["counters"]["denied"]')" 3
eq "allowed-by-rule count" "$(status_json 'd["counters"]["write_allowed_rule"]')" 2
eq "read count (the self-test probe is not counted)" "$(status_json 'd["counters"]["read_allowed"]')" 4
eq "nothing would-deny, nothing by transaction" \
	"$(status_json 'd["counters"]["would_deny"], d["counters"]["write_allowed_tx"]')" "0 0"
eq "per-rule hits" "$(status_json '[(r["name"], r["hits"]) for r in d["rules"]]')" \
	"[('tool', 2), ('never', 0)]"
eq "recent denials, newest first" \
	"$(status_json '[r["path"] for r in d["recent_denials"]]')" "['$S/c', '$S/b', '$S/a']"
eq "denial shows exe, decision and unset auid" \
	"$(status_json 'd["recent_denials"][0]["exe"], d["recent_denials"][0]["decision"], d["recent_denials"][0]["auid"]')" \
	"/usr/bin/bash deny unset"
eq "subtree marked and present" \
	"$(status_json 'd["subtrees"][0]["name"], d["subtrees"][0]["exists"], d["subtrees"][0]["marks"] > 0')" \
	"sudoers True True"
eq "daemon pid, generation, self-test" \
	"$(status_json 'd["daemon"]["pid"], d["config"]["generation"], d["health"]["selftest"], d["status"]')" \
	"$DPID 1 passed enforcing"
check "self-test directory removed" bash -c "! ls -d '$T'/selftest.* 2>/dev/null"

"$FANGUARD" status --socket "$SOCK" > "$T/st.txt"
eq "text status exits 0" "$?" 0
check "text shows ENFORCING" grep -q ENFORCING "$T/st.txt"
check "text shows the denied count" grep -Eq '^  write-opens denied +3$' "$T/st.txt"
check "text shows the read count" grep -Eq '^  read-opens allowed +4$' "$T/st.txt"
check "text shows the rule hits" grep -Eq '^  tool +2$' "$T/st.txt"
check "text shows a denied path" grep -q "file $S/c" "$T/st.txt"
eq "text fits 80 columns" "$(awk 'length > 80' "$T/st.txt" | wc -l)" 0

t0=$(date +%s%N)
timeout 2 bash -c "echo evil > '$S/a'" 2>/dev/null
t1=$(date +%s%N)
echo "# baseline: denied write (bash start included) with no status client: $(( (t1 - t0) / 1000 )) us"

# --- idle clients: 9 connections (one over the cap) that send nothing ---
python3 - "$SOCK" > "$T/idle.out" <<'EOF' &
import socket, sys, time
socks = []
for _ in range(9):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    socks.append(s)
print("connected", flush=True)
time.sleep(3.5)
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        closed += s.recv(1) == b""
    except BlockingIOError:
        pass
print("closed", closed, flush=True)
EOF
IDLE=$!
for _ in $(seq 50); do grep -q connected "$T/idle.out" 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s%N)
timeout 2 bash -c "echo evil > '$S/a'" 2>/dev/null
rc=$?
t1=$(date +%s%N)
echo "# denied write with 9 idle status clients connected: $(( (t1 - t0) / 1000 )) us"
eq "denied write answered at once while idle clients are connected" "$rc" 1
wait "$IDLE"
eq "idle clients dropped after the 2 s deadline" "$(grep closed "$T/idle.out")" "closed 9"
eq "status answers again after the idle clients" "$(status_json 'd["counters"]["denied"]')" 5

# --- an over-long request is dropped without an answer ---
eq "a 300-byte request gets no answer" "$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b"status json" + b" " * 289)
try: print("closed" if s.recv(100) == b"" else "answered")
except ConnectionResetError: print("closed")  # closed with our bytes unread
' "$SOCK")" closed
check "daemon alive after the over-long request" kill -0 "$DPID"
eq "and still answers" "$(status_json 'd["status"]')" enforcing

# --- non-root clients ---
runuser -u nobody -- "$FANGUARD" status --socket "$SOCK" > /dev/null 2>&1
eq "nobody is refused by the socket's mode (exit 4)" "$?" 4
chmod 0666 "$SOCK"
runuser -u nobody -- "$FANGUARD" status --socket "$SOCK" > /dev/null 2> "$T/nobody.err"
eq "nobody is refused by the peer check (exit 4)" "$?" 4
check "peer-check refusal says so" grep -q "refused this user" "$T/nobody.err"
chmod 0600 "$SOCK"

# --- explain agrees with the daemon ---
"$FANGUARD" explain --config "$CONF" --path "$S/a" --exe /usr/bin/bash > "$T/ex.txt"
eq "explain --exe bash: deny (exit 1)" "$?" 1
check "explain names the failing condition" grep -Eq '^  tool +exe$' "$T/ex.txt"
"$FANGUARD" explain --config "$CONF" --path "$S/a" --exe "$T/bin/tool" > "$T/ex.txt"
eq "explain --exe tool: allow (exit 0)" "$?" 0
check "explain names the rule" grep -q "writer rule tool" "$T/ex.txt"
# Each waits on a child sleep: it stays a live process running that exe.
"$T/bin/tool" -c 'sleep 30; true' > /dev/null 2>&1 &
LIVE_TOOL=$!
bash -c 'sleep 30; true' > /dev/null 2>&1 &
LIVE_BASH=$!
sleep 0.2
eq "explain --pid of a live tool: allow" \
	"$("$FANGUARD" explain --json --config "$CONF" --path "$S/a" --pid "$LIVE_TOOL" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["decision"], d["rule"])')" "allow tool"
"$FANGUARD" explain --config "$CONF" --path "$S/a" --pid "$LIVE_BASH" > /dev/null
eq "explain --pid of a live bash: deny (exit 1)" "$?" 1
pkill -KILL -P "$LIVE_TOOL"; pkill -KILL -P "$LIVE_BASH" # their sleeps, by parent pid
kill "$LIVE_TOOL" "$LIVE_BASH" 2>/dev/null; wait "$LIVE_TOOL" "$LIVE_BASH" 2>/dev/null
"$FANGUARD" explain --config "$CONF" --path "$T/outside" --exe /usr/bin/bash > "$T/ex.txt"
eq "explain outside every subtree: exit 0" "$?" 0
check "explain says it is not protected" grep -q "not in any protected subtree" "$T/ex.txt"
"$FANGUARD" explain --config "$CONF" --path "$S/a" > /dev/null 2>&1
eq "explain without a writer is a usage error" "$?" 2

# --- reload over the socket ---
write_conf "auid = not-a-number"
"$FANGUARD" reload --socket "$SOCK" > /dev/null 2> "$T/reload.err"
eq "broken reload refused (exit 1)" "$?" 1
check "refusal names file:line" grep -q "reload refused: $CONF:15:" "$T/reload.err"
eq "old generation kept" "$(status_json 'd["config"]["generation"]')" 1
refuse "old policy still enforced" "$S/a" bash -c "echo evil > '$S/a'"
write_conf ""
eq "good reload taken" "$("$FANGUARD" reload --socket "$SOCK")" "reloaded generation 2"
eq "new generation reported" "$(status_json 'd["config"]["generation"]')" 2
eq "reload via --config finds the socket" "$("$FANGUARD" reload --config "$CONF")" \
	"reloaded generation 3"
kill -HUP "$DPID"
logged "SIGHUP still reloads" 1 event.action=reload event.outcome=success message="~generation 4"

sanitizer_clean "status, reload, idle and over-long clients"

# --- not running ---
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; DPID=
"$FANGUARD" status --socket "$SOCK" > /dev/null 2> "$T/dead.err"
eq "status after SIGKILL exits 3" "$?" 3
check "and says writes are not guarded" grep -q "NOT being guarded" "$T/dead.err"
"$FANGUARD" reload --socket "$SOCK" > /dev/null 2>&1
eq "reload after SIGKILL exits 3" "$?" 3
"$FANGUARD" status --socket "$T/no-such.sock" > /dev/null 2>&1
eq "status on an absent socket exits 3" "$?" 3
stop_daemon

# --- audit mode and a missing subtree: exit 1 ---
start_daemon --mode audit
"$FANGUARD" status --socket "$SOCK" > "$T/st.txt"
eq "audit daemon: status exits 1" "$?" 1
check "audit shown in text" grep -q AUDIT "$T/st.txt"
eq "audit daemon: json word" "$(status_json 'd["status"]')" audit
stop_daemon
sanitizer_clean "audit daemon, stopped"
write_conf "[subtree later]
path = $T/etc/not-yet.d"
start_daemon
"$FANGUARD" status --socket "$SOCK" > "$T/st.txt"
eq "missing subtree: status exits 1" "$?" 1
check "missing subtree shown" grep -Eq '^later .*MISSING$' "$T/st.txt"
eq "missing subtree: json" "$(status_json 'd["status"], d["subtrees"][1]["exists"]')" "degraded False"
stop_daemon
check "socket removed at exit" test ! -e "$SOCK"

# --- check-config ---
"$FANGUARD" check-config "$FG_SRC/etc/fanguard.conf" > "$T/cc.txt"
eq "check-config on the shipped config exits 0" "$?" 0
check "summary lists subtrees" grep -Eq '^  sudoers +priv_esc_persist +enforce +/etc/sudoers.d$' "$T/cc.txt"
check "summary lists writers with conditions" grep -Eq '^    cgroup +/system.slice/systemd-tmpfiles-setup.service$' "$T/cc.txt"
check "summary lists transaction exes" grep -q '^transaction exes: /usr/bin/bootc' "$T/cc.txt"
write_conf "uid = root"
"$FANGUARD" check-config "$CONF" > /dev/null 2> "$T/cc.err"
eq "check-config on a broken file exits 78" "$?" 78
check "error has file:line" grep -q "^$CONF:15:" "$T/cc.err"
"$FANGUARD" bogus > /dev/null 2>&1
eq "unknown command exits 2" "$?" 2
finish
