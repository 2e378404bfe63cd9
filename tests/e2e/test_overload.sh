#!/usr/bin/env bash
# A backlog of permission events larger than fanguardd answers one by one
# in a pass: on_overload (default deny-writes) answers the rest without
# resolving anyone, reads are still allowed, and it is counted and logged.
. "$(dirname "$0")/lib.sh"

S=$T/etc/sudoers.d
mkdir -p "$S"
echo original > "$S/target"
{
	conf_base
	cat <<EOC

[writer flood]
exe = $FG_BUILD/tests/fg_flood
EOC
} > "$CONF"
start_daemon

# Stop the daemon so every open queues, then let it find them all at once.
kill -STOP "$DPID"
check "daemon stopped" wait_stopped "$DPID"
timeout 60 "$FG_BUILD/tests/fg_flood" 2500 100 "$S/target" > "$T/flood.out" &
FLOOD=$!
sleep 2
kill -CONT "$DPID"
if wait "$FLOOD"; then pass "every opener was answered"; else fail "flood hung or failed"; fi
cat "$T/flood.out"
check "reads were allowed under overload" grep -q "reads_ok=100 " "$T/flood.out"
check "no opener saw an unexpected error" grep -q "other=0" "$T/flood.out"
eperm=$(sed -n 's/.*writes_eperm=\([0-9]*\).*/\1/p' "$T/flood.out")
check "writes beyond the backlog bound were denied by on_overload" test "${eperm:-0}" -gt 0
logged "overload logged with a count" 1 event.action=overload message="~answered by on_overload"
same_content "the file is unchanged" "$S/target" original
check "daemon still answering" timeout 10 cat "$S/target"
finish
