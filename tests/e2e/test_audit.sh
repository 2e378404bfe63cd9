#!/usr/bin/env bash
# Audit mode (config and --mode flag) and a per-subtree mode override: the
# same writes go through and each is logged as would-deny.
. "$(dirname "$0")/lib.sh"

S=$T/etc/sudoers.d
H=$T/etc/hardened
mkdir -p "$S" "$H"
echo original > "$S/existing"
echo original > "$H/existing"

cat > "$CONF" <<EOC
[fanguard]
mode = audit
log = file:$LOG
status_socket = $SOCK

[subtree sudoers]
path = $S
key = priv_esc_persist

[subtree hardened]
path = $H
key = hardened
mode = enforce

[writer nobody-real]
exe = /nonexistent/tool
EOC

start_daemon
check "audit mode lets a write through" timeout 10 bash -c "echo changed > '$S/existing'"
same_content "the write landed" "$S/existing" changed
logged "logged as would-deny" 1 event.action=open-write fanguard.decision=would-deny \
	fanguard.mode=audit file.path="$S/existing" event.outcome=success
check "sed -i goes through in audit mode" timeout 10 sed -i s/changed/sed/ "$S/existing"
logged "sed's temp file logged as would-deny" 1 fanguard.decision=would-deny file.path="~$S/sed"
refuse "a subtree with mode = enforce still denies" "$H/existing" bash -c "echo x > '$H/existing'"
same_content "enforced subtree unchanged" "$H/existing" original
logged "enforced subtree logs deny" 1 fanguard.decision=deny fanguard.mode=enforce fanguard.subtree=hardened
stop_daemon

sed -i 's/^mode = audit$/mode = enforce/' "$CONF"
start_daemon --mode audit
check "--mode audit overrides the file" timeout 10 bash -c "echo flag > '$S/existing'"
logged "--mode audit logs would-deny" 1 fanguard.decision=would-deny file.path="$S/existing" fanguard.mode=audit
stop_daemon
start_daemon
refuse "without the flag the file's enforce applies" "$S/existing" bash -c "echo x > '$S/existing'"
same_content "file unchanged in enforce mode" "$S/existing" flag
finish
