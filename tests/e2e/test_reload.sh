#!/usr/bin/env bash
# SIGHUP reload: a broken file keeps the running policy; a good one takes.
. "$(dirname "$0")/lib.sh"

S=$T/etc/sudoers.d
mkdir -p "$S" "$T/bin"
cp /bin/bash "$T/bin/tool"
echo original > "$S/existing"

write_conf() {
	{
		conf_base
		cat <<EOC
$1
EOC
	} > "$CONF"
}

write_conf ""
start_daemon
refuse "tool denied before reload" "$S/existing" "$T/bin/tool" -c "echo x > '$S/existing'"

write_conf "[writer tool]
exe = $T/bin/tool
auid = not-a-number"
kill -HUP "$DPID"
logged "broken reload refused and says why" 1 event.action=reload event.outcome=failure \
	message="~$CONF:11:"
refuse "old policy still enforced after a broken reload" "$S/existing" "$T/bin/tool" -c "echo x > '$S/existing'"
same_content "file unchanged" "$S/existing" original
check "daemon still running" kill -0 "$DPID"

write_conf "[writer tool]
exe = $T/bin/tool"
kill -HUP "$DPID"
logged "good reload taken" 1 event.action=reload event.outcome=success message="~generation 2"
check "new rule applies after reload" timeout 10 "$T/bin/tool" -c "echo new > '$S/existing'"
same_content "allowed write landed" "$S/existing" new
refuse "others still denied after reload" "$S/existing" bash -c "echo x > '$S/existing'"
finish
