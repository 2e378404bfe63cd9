#!/usr/bin/env bash
# Kernel audit records of decisions (audit_records): with FAN_ENABLE_AUDIT
# and FAN_AUDIT answers, the kernel writes an AUDIT_FANOTIFY record next to
# the opener's, carrying the number of the [writer] rule that decided. A
# real auditd (Debian's) runs with its own config and log in the test's
# directory and is stopped by pid.
. "$(dirname "$0")/lib.sh"

S=$T/etc/sudoers.d
AD=$T/audit
mkdir -p "$S" "$AD" "$T/bin"
chmod 0700 "$AD"
cp /bin/bash "$T/bin/allowed"
echo original > "$S/target"
WAS_ENABLED=$(auditctl -s 2>/dev/null | awk '$1 == "enabled" {print $2}')
cat > "$AD/auditd.conf" <<EOC
local_events = yes
write_logs = yes
log_file = $AD/audit.log
log_format = RAW
flush = INCREMENTAL_ASYNC
freq = 1
max_log_file_action = IGNORE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
EOC
: > "$AD/audit.rules"
auditd -n -c "$AD" > "$AD/auditd.out" 2>&1 &
APID=$!
trap 'kill "$APID" 2>/dev/null; wait "$APID" 2>/dev/null; auditctl -e "${WAS_ENABLED:-0}" >/dev/null 2>&1; cleanup' EXIT
for _ in $(seq 50); do [ -s "$AD/audit.log" ] && break; sleep 0.1; done
check "auditd is up with the test's config" test -s "$AD/audit.log"
auditctl -R "$AD/audit.rules" >/dev/null 2>&1
auditctl -e 1 >/dev/null

{
	cat <<EOC
[fanguard]
mode = enforce
log = file:$LOG
status_socket = $SOCK
audit_records = yes

[subtree sudoers]
path = $S
key = priv_esc_persist

[writer other]
exe = /nonexistent/tool

[writer allowed]
exe = $T/bin/allowed
EOC
} > "$CONF"
start_daemon
timeout 10 "$FANGUARD" status --socket "$SOCK" > "$T/status.txt"
check "status says kernel audit records are on" grep -q "kernel audit records *on" "$T/status.txt"
refuse "an unlisted writer is denied" "$S/target" bash -c "echo evil > '$S/target'"
check "the allowed writer (rule 2) writes" timeout 10 "$T/bin/allowed" -c "echo fine > '$S/target'"
# ausearch needs the records on disk; auditd flushes often (freq = 1).
found() { timeout 10 ausearch -if "$AD/audit.log" -m FANOTIFY --raw 2>/dev/null | grep -c "$1"; }
for _ in $(seq 50); do [ "$(found 'resp=1 .*fan_info=2 ')" -ge 1 ] && break; sleep 0.1; done
check "the denial has a FANOTIFY record with no rule (resp=2 fan_info=0)" \
	test "$(found 'resp=2 fan_type=1 fan_info=0 ')" -ge 1
check "the allowed write has one naming rule 2 (resp=1 fan_info=2)" \
	test "$(found 'resp=1 fan_type=1 fan_info=2 ')" -ge 1
check "each sits next to the opener's SYSCALL record" \
	test "$(timeout 10 ausearch -if "$AD/audit.log" -m FANOTIFY -i 2>/dev/null | grep -c 'type=SYSCALL')" -ge 2
timeout 10 "$FANGUARD" explain --config "$CONF" --path "$S/target" --exe "$T/bin/allowed" --json > "$T/explain.json"
check "explain shows the same rule number" python3 -c "
import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))['audit_rule_number'] == 2 else 1)" "$T/explain.json"
stop_daemon

# The default (deny): allowed writes leave no record, denials do.
sed -i '/^audit_records = yes$/d' "$CONF"
before_allow=$(found 'resp=1 ')
before_deny=$(found 'resp=2 ')
start_daemon
refuse "denied again" "$S/target" bash -c "echo evil > '$S/target'"
check "the allowed writer writes again" timeout 10 "$T/bin/allowed" -c "echo fine2 > '$S/target'"
for _ in $(seq 50); do [ "$(found 'resp=2 ')" -gt "$before_deny" ] && break; sleep 0.1; done
check "audit_records = deny: the denial is recorded" test "$(found 'resp=2 ')" -gt "$before_deny"
sleep 0.5
check "audit_records = deny: the allowed write is not" test "$(found 'resp=1 ')" = "$before_allow"
finish
