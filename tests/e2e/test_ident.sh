#!/usr/bin/env bash
# Identity you can trust (issue 11, DESIGN 12). Each forgery of a writer's
# identity is done for real, against a writer rule or the transaction it
# must not satisfy, and must end denied with an alert line that says what
# was claimed and what was found; each control must stay allowed:
#   - exe swapped without exec (PR_SET_MM_MAP exe_fd, the image moved to
#     anonymous memory first): to an allowed writer, the same with the
#     claimed exe mapped too, and to the transaction tool with a child
#     writing;
#   - a login uid set by a process whose loginuid was unset, and one
#     rewritten by root from another session; a cached session writer that
#     rewrites its own (same) login uid;
#   - LD_PRELOAD and LD_AUDIT into an allowed writer, with the environment
#     scrubbed afterwards, and LD_LIBRARY_PATH alone;
#   - an allowed writer traced by strace, from its start and attached to it
#     while it is cached;
#   - a deleted temporary copy of the transaction tool, re-executed (bootc's
#     SELinux re-exec), recognised by content: allowed as a transaction;
#   - a modified binary at the path of a `sha256` rule, and of a
#     transaction tool whose digest is configured.
# The allowed writers are copies in the test's directory (outside the
# trusted prefix /usr), which verification accepts because every
# executable mapping they have is their own image or a file under /usr.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session.sh"

X=$FG_BUILD/tests/fg_exeswap
M=$FG_BUILD/tests/fg_morph
PRE=$FG_BUILD/tests/fg_preload.so
for h in "$X" "$M" "$PRE"; do [ -e "$h" ] || { echo "missing helper $h (build the tests first)"; exit 1; }; done
command -v strace >/dev/null || { echo "strace is needed (the README's set-up installs it)"; exit 1; }

S=$T/etc/sudoers.d
B=$T/bin
mkdir -p "$S" "$B" "$T/tmp" "$T/empty"
chmod 0755 "$T"
cp /bin/true "$B/cm-tool"
cp /bin/bash "$B/cm-sh"
cp "$M" "$B/cm-morph"
cp /bin/bash "$B/admin-sh"
cp /bin/bash "$B/pinned"
# The transaction tool: a program of its own (a copy of bash with bytes
# after its image, which change its digest and not what it runs).
cp /bin/bash "$B/bootc"
echo fanguard-test-bootc >> "$B/bootc"
PIN=$(sha256sum "$B/pinned" | cut -d' ' -f1)
TXSUM=$(sha256sum "$B/bootc" | cut -d' ' -f1)

BG=()
own_cleanup() {
	local p
	for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	cleanup
	session_cleanup
}
trap own_cleanup EXIT

conf() {
	conf_base
	cat <<EOC

[writer cm]
exe = $B/cm-tool $B/cm-sh $B/cm-morph

[writer admin]
exe = $B/admin-sh
auid = 1000

[writer pinned]
exe = $B/pinned
sha256 = $PIN

[transaction]
exe = $B/bootc
# the subtrees are temp dirs: today's passthrough (test_scope.sh tests the default)
scope = all
EOC
}
conf > "$CONF"
start_daemon

# alerted DESC PATH REASON [filters...]: a deny line for PATH that is an
# alert with that reason.
alerted() {
	local d=$1 path=$2 reason=$3
	shift 3
	logged "$d" 1 event.kind=alert fanguard.decision=deny file.path="$path" \
		fanguard.reason="$reason" "$@"
}

# ---- controls: the allowed writers are allowed, and say how they were known
check "control: the cm writer is allowed" timeout 10 "$B/cm-sh" -c "echo ok > '$S/cm-ok'"
logged "control: identified by its verified path" 1 file.path="$S/cm-ok" fanguard.decision=allow \
	fanguard.rule=cm fanguard.identity.method=path
check "control: the pinned writer with its own content is allowed" \
	timeout 10 "$B/pinned" -c "echo ok > '$S/pinned-ok'"
logged "control: identified by sha256" 1 file.path="$S/pinned-ok" fanguard.rule=pinned \
	fanguard.identity.method=sha256 fanguard.identity.sha256="$PIN"
check "control: the admin in a login session of 1000 is allowed" \
	in_session 1000 timeout 10 "$B/admin-sh" -c "echo admin > '$S/admin-ok'"
logged "control: the allow names auid 1000" 1 file.path="$S/admin-ok" fanguard.rule=admin \
	user.audit.id=1000 fanguard.decision=allow
check "control: the transaction tool's child is a transaction" \
	timeout 10 "$B/bootc" -c "sh -c 'echo tx > $S/tx-ok'; true"
logged "control: logged as a transaction" 1 file.path="$S/tx-ok" fanguard.reason=transaction

# ---- 1. exe without exec
refuse "exe swapped to the cm writer (PR_SET_MM_MAP) is not the cm writer" "$S/swap" \
	"$X" "$B/cm-tool" "$S/swap"
alerted "the swap is an exe-unverified alert naming claimed and mapped image" "$S/swap" \
	exe-unverified process.executable="$B/cm-tool" fanguard.identity.claimed="$B/cm-tool" \
	fanguard.identity.problem=exe-unmapped fanguard.identity.found="(anonymous)"
refuse "the same with the claimed exe mapped too" "$S/swap-mapped" \
	"$X" --map-new "$B/cm-tool" "$S/swap-mapped"
alerted "that is a code-untrusted alert (anonymous code)" "$S/swap-mapped" code-untrusted \
	fanguard.identity.problem=anonymous-code process.executable="$B/cm-tool"
refuse "a child of a process swapped to the transaction tool is no transaction" "$S/swap-tx" \
	"$X" --child "$B/bootc" "$S/swap-tx"
alerted "its alert names the forged ancestor" "$S/swap-tx" exe-unverified \
	fanguard.identity.claimed="$B/bootc" fanguard.identity.problem=exe-unmapped

# fanguard explain verifies a real process as the daemon does.
"$X" --sleep 3 "$B/cm-tool" /dev/null >/dev/null 2>&1 &
XP=$!
BG+=("$XP")
for _ in $(seq 50); do [ "$(readlink "/proc/$XP/exe")" = "$B/cm-tool" ] && break; sleep 0.05; done
timeout 10 "$FANGUARD" explain --config "$CONF" --path "$S/x" --pid "$XP" >"$T/explain.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "exe-unverified (exe-unmapped)" "$T/explain.out" &&
	pass "explain denies the swapped process and says why" ||
	fail "explain denies the swapped process and says why (exit $rc: $(tr '\n' ' ' <"$T/explain.out"))"
wait "$XP" 2>/dev/null

# ---- 2. login uid without a login
refuse "an unset loginuid set to 1000 by the writer itself" "$S/auid-set" \
	"$B/admin-sh" -c "echo 1000 > /proc/self/loginuid && echo x > '$S/auid-set'"
alerted "that is an auid-unverified alert" "$S/auid-set" auid-unverified user.audit.id=1000 \
	fanguard.identity.problem=no-login-session
refuse "a loginuid rewritten to 1000 by root in a session of 1001" "$S/auid-rw" \
	"${IN_SESSION[@]}" 1001 "$B/admin-sh" -c "echo 1000 > /proc/self/loginuid && echo x > '$S/auid-rw'"
alerted "that is an auid-unverified alert too" "$S/auid-rw" auid-unverified user.audit.id=1000
refuse "a cgroup made by hand and named like logind's scope" "$S/auid-mkdir" \
	"${IN_MKDIR_SESSION[@]}" 1000 "$B/admin-sh" -c "echo x > '$S/auid-mkdir'"
alerted "that is an auid-unverified alert, naming the cgroup" "$S/auid-mkdir" auid-unverified \
	fanguard.identity.found="~/user-1000.slice/session-"
# The same process: allowed twice (the second from the cache), then it writes
# its loginuid again. The value is the same, the audit session is new, and
# no logind scope is named after it: the cache must notice.
out=$T/auid-cache.out
in_session 1000 timeout 10 "$B/admin-sh" -c "echo a > '$S/auid-cache' && echo b > '$S/auid-cache' &&
	echo 1000 > /proc/self/loginuid && echo c > '$S/auid-cache'" 2>"$out"
same_content "a session writer that rewrites its loginuid is refused on its next write" \
	"$S/auid-cache" b
grep -q "Operation not permitted" "$out" && pass "that write got EPERM" || fail "that write got EPERM ($(cat "$out"))"
alerted "and is an alert" "$S/auid-cache" auid-unverified

# ---- 3. code inside an allowed exe
refuse "LD_PRELOAD into the allowed writer" "$S/preload" \
	env LD_PRELOAD="$PRE" "$B/cm-sh" -c "echo x > '$S/preload'"
alerted "that is a code-untrusted alert naming the library" "$S/preload" code-untrusted \
	fanguard.identity.found="~fg_preload.so"
refuse "LD_PRELOAD with the variable scrubbed from the environment" "$S/preload-scrub" \
	env LD_PRELOAD="$PRE" FG_PRELOAD_SCRUB=1 "$B/cm-sh" -c "echo x > '$S/preload-scrub'"
alerted "the library's mapping still tells" "$S/preload-scrub" code-untrusted \
	fanguard.identity.problem=foreign-code
refuse "LD_AUDIT into the allowed writer" "$S/audit" \
	env LD_AUDIT="$PRE" "$B/cm-sh" -c "echo x > '$S/audit'"
alerted "that is a code-untrusted alert" "$S/audit" code-untrusted
refuse "LD_LIBRARY_PATH alone (nothing loaded from it)" "$S/libpath" \
	env LD_LIBRARY_PATH="$T/empty" "$B/cm-sh" -c "echo x > '$S/libpath'"
alerted "that is a preload alert" "$S/libpath" code-untrusted fanguard.identity.problem=preload \
	fanguard.identity.found="LD_LIBRARY_PATH=$T/empty"
refuse "an allowed writer traced by strace" "$S/traced" \
	strace -f -o /dev/null "$B/cm-sh" -c "echo x > '$S/traced'"
alerted "that is a traced alert" "$S/traced" code-untrusted fanguard.identity.problem=traced

# paused_writer NAME FILE: cm-morph writes FILE twice (allowed, then
# cached), then waits on a fifo before its third write; sets fifo, out, MP.
paused_writer() {
	fifo=$T/fifo.$1 out=$T/$1.out
	mkfifo "$fifo"
	timeout 30 "$B/cm-morph" write:"$2" write:"$2" wait:"$fifo" write:"$2" >"$out" 2>&1 &
	MP=$!
	BG+=("$MP")
	for _ in $(seq 100); do grep -q "wait $fifo" "$out" && break; sleep 0.1; done
}

# resume_writer FILE DESC: lets the paused writer make its third write,
# which must be the only one refused.
resume_writer() {
	local e
	timeout 10 bash -c 'printf x > "$1"' _ "$fifo"
	wait "$MP"
	e=$(sed -n "s|^write $1 pid=[0-9]* errno=\([0-9]*\)\$|\1|p" "$out" | paste -sd' ')
	[ "$e" = "0 0 1" ] && pass "$2 (errnos $e)" || fail "$2 (errnos '$e', want '0 0 1')"
}

# sighup_taken DESC: SIGHUP, and a new successful reload line.
sighup_taken() {
	local before
	before=$(count_log event.action=reload event.outcome=success)
	kill -HUP "$DPID"
	wait_log $((before + 1)) event.action=reload event.outcome=success || fail "$1"
}

# A cached allowed writer, then a tracer attaches: the next write is decided
# afresh (the connector's ptrace event drops the entry) and refused.
paused_writer trace "$S/trace-late"
P=$(sed -n "s/^wait .* pid=\([0-9]*\)$/\1/p" "$out")
strace -p "$P" -o /dev/null &
SP=$!
BG+=("$SP")
for _ in $(seq 100); do [ "$(awk '/^TracerPid/ {print $2}' /proc/"$P"/status 2>/dev/null)" = "$SP" ] && break; sleep 0.05; done
resume_writer "$S/trace-late" "a cached writer is refused once a tracer attached"
kill "$SP" 2>/dev/null
wait "$SP" 2>/dev/null
alerted "that is a traced alert" "$S/trace-late" code-untrusted fanguard.identity.problem=traced

# ---- 4. bootc's temporary copy, re-executed and deleted: a transaction
COPY=$T/tmp/bootc-reexec.$$
cp "$B/bootc" "$COPY"
check "a deleted temp copy of the transaction tool is a transaction" \
	env _BOOTC_ORIG_EXE="$B/bootc" timeout 10 "$COPY" -c "rm -f '$COPY'; sh -c 'echo tx > $S/tx-copy'; true"
same_content "its child's write landed" "$S/tx-copy" tx
logged "recognised by content" 1 file.path="$S/tx-copy" fanguard.reason=transaction \
	fanguard.identity.method=sha256
OTHER=$T/tmp/other-tool.$$
cp /bin/bash "$OTHER"
echo another-program >> "$OTHER"
refuse "a temp copy of another program is not" "$S/tx-other" \
	timeout 10 "$OTHER" -c "rm -f '$OTHER'; sh -c 'echo tx > $S/tx-other'; exit \$?"
eq_alert=$(count_log file.path="$S/tx-other" event.kind=alert)
[ "$eq_alert" = 0 ] && pass "and claimed nothing (no alert)" || fail "and claimed nothing (no alert): $eq_alert"

# A cached writer verified under one policy is verified again under the
# next: a reload that trusts no prefix at all leaves its libc untrusted.
paused_writer reload "$S/reloaded"
{
	conf
	echo
	echo "[fanguard]"
	echo "trusted_prefix = /nonexistent"
} > "$CONF"
sighup_taken "the reload was taken"
resume_writer "$S/reloaded" "a cached writer is verified again after a reload"
alerted "its libraries are outside the new trusted prefix" "$S/reloaded" code-untrusted \
	fanguard.identity.problem=foreign-code
conf > "$CONF"
sighup_taken "the reload back was taken"

# ---- 5. content at a trusted path
cp /bin/bash "$T/pinned.new"
echo modified >> "$T/pinned.new"
mv "$T/pinned.new" "$B/pinned"
refuse "a modified binary at the pinned writer's path" "$S/pinned-mod" \
	"$B/pinned" -c "echo x > '$S/pinned-mod'"
alerted "that is a digest-mismatch alert" "$S/pinned-mod" digest-mismatch \
	process.executable="$B/pinned" fanguard.identity.problem=digest-mismatch

# The transaction tool with its digest configured, then replaced in place.
[ -n "${FG_IDENT_DEBUG:-}" ] && cp "$LOG" /tmp/idx/ident1.log
stop_daemon
{
	conf
	echo "sha256 = $TXSUM"
} > "$CONF"
start_daemon
check "control: the configured transaction tool is a transaction" \
	timeout 10 "$B/bootc" -c "sh -c 'echo tx > $S/tx-pinned'; true"
cp /bin/bash "$T/bootc.new"
echo replaced >> "$T/bootc.new"
mv "$T/bootc.new" "$B/bootc"
refuse "a replaced transaction tool is not trusted by its path" "$S/tx-replaced" \
	timeout 10 "$B/bootc" -c "sh -c 'echo tx > $S/tx-replaced'; exit \$?"
alerted "that is a digest-mismatch alert" "$S/tx-replaced" digest-mismatch \
	fanguard.identity.claimed="$B/bootc"

[ -n "${FG_IDENT_DEBUG:-}" ] && cp "$LOG" /tmp/idx/ident.log
if grep -Eq 'runtime error|AddressSanitizer|LeakSanitizer' "$T/daemon.stderr"; then
	fail "no sanitizer finding in the daemon"
	cat "$T/daemon.stderr"
fi
finish
