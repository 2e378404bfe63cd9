#!/usr/bin/env bash
# fanguardd with its own log file and status socket inside a protected
# subtree; then killed with -9 while writers are blocked on it: no writer
# hangs, `fanguard status` says the host is unguarded, a restart guards again.
. "$(dirname "$0")/lib.sh"

S=$T/etc/sudoers.d
mkdir -p "$S"
echo original > "$S/existing"
INLOG=$S/fanguard.log
cat > "$CONF" <<EOC
[fanguard]
mode = enforce
log = file:$INLOG
status_socket = $S/status.sock

[subtree sudoers]
path = $S
key = priv_esc_persist
EOC
LOG=$INLOG
start_daemon
# Least privilege, on the real daemon (SECURITY.md, harden.c): the seccomp
# filter is loaded, no_new_privs is set, only CAP_SYS_ADMIN,
# CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE remain, and no set can grow back.
check "seccomp filter loaded (Seccomp: 2)" grep -qP '^Seccomp:\t2$' "/proc/$DPID/status"
check "no_new_privs set" grep -qP '^NoNewPrivs:\t1$' "/proc/$DPID/status"
# audit_records (default deny) keeps CAP_AUDIT_WRITE for the groups reloads make
check "CapEff is exactly sys_admin, dac_read_search, sys_ptrace, audit_write" grep -qP '^CapEff:\t0000000020280004$' "/proc/$DPID/status"
check "bounding set empty" grep -qP '^CapBnd:\t0000000000000000$' "/proc/$DPID/status"
for task in /proc/$DPID/task/*; do
	grep -qP '^Seccomp:\t2$' "$task/status" || fail "thread ${task##*/} without the filter"
done
refuse "denied while the daemon logs into the subtree it guards" "$S/existing" bash -c "echo evil > '$S/existing'"
logged "its own log file inside the subtree keeps working" 1 fanguard.decision=deny file.path="$S/existing"
status_quiet() { timeout 10 "$FANGUARD" status --socket "$S/status.sock" >/dev/null 2>&1; }
check "status answers from a socket inside the subtree" status_quiet

# Writers block while the daemon is stopped; then it dies.
kill -STOP "$DPID"
WRITERS=()
for i in 1 2 3 4 5; do
	timeout 30 bash -c "echo late$i > '$S/blocked$i'" 2>/dev/null &
	WRITERS+=($!)
done
sleep 1
blocked=0
for w in "${WRITERS[@]}"; do kill -0 "$w" 2>/dev/null && blocked=$((blocked + 1)); done
check "writers are blocked on the stopped daemon" test "$blocked" = 5
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
hung=0
for w in "${WRITERS[@]}"; do
	wait "$w"
	[ $? = 124 ] && hung=$((hung + 1))
done
check "no writer hangs after the daemon is killed" test "$hung" = 0
# The kernel lets pending opens through when the listener dies: fail open,
# as SECURITY.md states; the status command must make that impossible to miss.
"$FANGUARD" status --socket "$S/status.sock" > "$T/status.out" 2>&1
rc=$?
check "status exits 3 when the daemon is dead" test "$rc" = 3
check "status says the subtrees are not guarded" grep -q "NOT being guarded" "$T/status.out"
check "a write goes through while nothing guards" timeout 10 bash -c "echo unguarded > '$S/existing'"

start_daemon
refuse "a restart guards again" "$S/existing" bash -c "echo evil > '$S/existing'"
same_content "file unchanged after the restart" "$S/existing" unguarded
finish
