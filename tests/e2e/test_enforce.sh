#!/usr/bin/env bash
# Enforce mode against real writers: denied, allowed by exe, by auid, by
# ancestor, transaction passthrough, reads, new subdirectories, hard links,
# renames in, a single-file subtree, a subtree that appears late, and a
# write through an fd opened before the daemon started.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session.sh"

S=$T/etc/sudoers.d
C=$T/etc/containers
O=$T/outside
mkdir -p "$S" "$C" "$O" "$T/bin" "$T/other"
echo original > "$S/existing"
echo '{"default":[{"type":"reject"}]}' > "$C/policy.json"
echo pre > "$S/pre"
# a script in a guarded directory, as NetworkManager's dispatcher.d or cron's
# directories hold them, and an ELF program there
printf '#!/bin/sh\necho ran\n' > "$S/hook"
chmod 755 "$S/hook"
cp /bin/true "$S/prog"
for b in allowed-writer fake-bootc ansible-agent; do cp /bin/bash "$T/bin/$b"; done
# The transaction tool must be a program of its own: a copy of it anywhere
# would be the tool, known by its content. Bytes after an ELF image change
# its digest, not what it runs.
echo fanguard-test-transaction-tool >> "$T/bin/fake-bootc"
cp /bin/bash "$T/other/bootc"

{
	conf_base
	cat <<EOC

[subtree containers-policy]
path = $C/policy.json
key = supply_chain

[subtree late]
path = $T/etc/late.d
key = late_persist

[writer allowed-tool]
exe = $T/bin/allowed-writer
subtrees = sudoers late

[writer admin]
exe = /usr/bin/bash
auid = 1000

[writer config-agent]
exe = /usr/bin/bash
ancestor = $T/bin/ansible-agent
subtrees = sudoers
EOC
} > "$CONF"
# The subtrees are temp dirs: today's passthrough (scope = all);
# test_scope.sh tests the default scope.
printf '[transaction]\nexe = %s\nscope = all\n' "$T/bin/fake-bootc" >> "$CONF"

# An fd opened before the daemon starts: its write is only seen, not decided.
bash -c "exec 7>>'$S/pre'; while [ ! -e '$T/go' ]; do sleep 0.05; done; echo late >&7" &
PRE=$!
trap 'kill "$PRE" 2>/dev/null; cleanup; session_cleanup' EXIT
sleep 0.2
start_daemon

# execve opens what it runs read-only: running them is no write
check "a script in a guarded directory runs" test "$(timeout 10 "$S/hook")" = ran
check "a program in a guarded directory runs" timeout 10 "$S/prog"
check "...and neither is logged as a write" test "$(count_log event.action=open-write \
	file.path="$S/hook")$(count_log event.action=open-write file.path="$S/prog")" = 00
refuse "echo > denied" "$S/existing" bash -c "echo evil > '$S/existing'"
same_content "denied write left the file as it was" "$S/existing" original
logged "deny logged with writer and key" 1 event.action=open-write fanguard.decision=deny \
	fanguard.key=priv_esc_persist file.path="$S/existing" process.executable=/usr/bin/bash \
	fanguard.reason=no-rule user.audit.id=unset
refuse "append denied" "$S/existing" bash -c "echo evil >> '$S/existing'"
refuse "sed -i denied" "~$S/sed" sed -i s/original/evil/ "$S/existing"
same_content "sed -i changed nothing" "$S/existing" original
refuse "creat of a new file denied" "$S/newfile" bash -c "echo evil > '$S/newfile'"

check "read-only open allowed" grep -q original "$S/existing"
[ "$(count_log file.path="$S/existing" fanguard.decision=allow)" = 0 ] && pass "reads are not logged" || fail "reads are not logged"

check "allowed writer by exe" timeout 10 "$T/bin/allowed-writer" -c "echo good > '$S/by-exe'"
same_content "allowed writer's data landed whole" "$S/by-exe" good
logged "allow logged with rule" 1 fanguard.decision=allow fanguard.rule=allowed-tool file.path="$S/by-exe"

check "writer allowed by auid 1000 (in a login session)" in_session 1000 timeout 10 bash -c "echo admin > '$S/by-auid'"
same_content "auid writer's data landed" "$S/by-auid" admin
logged "auid shown" 1 fanguard.rule=admin user.audit.id=1000
refuse "same writer with auid 1001 denied" "$S/by-auid" bash -c "echo 1001 > /proc/self/loginuid && echo x > '$S/by-auid'"

check "writer allowed by ancestor" timeout 10 "$T/bin/ansible-agent" -c "bash -c \"echo agent > '$S/by-ancestor'\"; true"
same_content "ancestor writer's data landed" "$S/by-ancestor" agent
logged "ancestor rule logged" 1 fanguard.rule=config-agent file.path="$S/by-ancestor"

check "transaction passthrough for a process tree" timeout 10 "$T/bin/fake-bootc" -c "bash -c \"sh -c 'echo tx > $S/by-tx'; true\"; true"
same_content "transaction data landed" "$S/by-tx" tx
logged "transaction tagged" 1 fanguard.reason=transaction file.path="$S/by-tx"
logged "transaction summarised when its root exits" 1 event.action=transaction-end fanguard.count=1
refuse "a comm of bootc is not a transaction" "$S/by-comm" "$T/other/bootc" -c "echo x > '$S/by-comm'"
logged "comm bootc denied" 1 fanguard.decision=deny process.name=bootc

mkdir "$S/sub"
sleep 0.5
refuse "new subdirectory guarded" "$S/sub/f" bash -c "echo x > '$S/sub/f'"

ln "$S/existing" "$O/hardlink"
refuse "hard link from outside guarded" "$O/hardlink" bash -c "echo evil >> '$O/hardlink'"
same_content "hard-linked file unchanged" "$S/existing" original

echo planted > "$O/linkme"
# The writer stays alive a moment so that its identity can be read: a
# notification is read after the fact (see SECURITY.md).
python3 -c "import os,sys,time; os.link(sys.argv[1], sys.argv[2]); time.sleep(1)" "$O/linkme" "$S/linked-in" &
LINKER=$!
logged "link-in logged with the process" 1 event.action=link-in file.path="$S/linked-in" process.name=python3
refuse "file linked in is guarded from then on" "$O/linkme" bash -c "echo x >> '$O/linkme'"

echo planted > "$O/moveme"
python3 -c "import os,sys,time; os.rename(sys.argv[1], sys.argv[2]); time.sleep(1)" "$O/moveme" "$S/moved-in" &
MOVER=$!
logged "rename-in logged with the process" 1 event.action=rename-in file.path="$S/moved-in" process.name=python3 fanguard.decision=detected
refuse "file renamed in is guarded from then on" "$S/moved-in" bash -c "echo x >> '$S/moved-in'"

refuse "single-file subtree write denied" "$C/policy.json" bash -c "echo '{}' > '$C/policy.json'"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$C/policy.json.new"
mv "$C/policy.json.new" "$C/policy.json"
logged "replacing a single-file subtree by rename is logged" 1 event.action=rename-in file.path="$C/policy.json"
sleep 0.3
refuse "the replaced file is guarded" "$C/policy.json" bash -c "echo '{}' > '$C/policy.json'"

mkdir -p "$T/etc/late.d"
logged "subtree that appears late is noticed" 1 event.action=subtree-appeared fanguard.subtree=late
refuse "late subtree guarded" "$T/etc/late.d/f" bash -c "echo x > '$T/etc/late.d/f'"
check "late subtree allows its writer" timeout 10 "$T/bin/allowed-writer" -c "echo ok > '$T/etc/late.d/g'"

check "no log line for a plain new file" test "$(count_log event.action=unguarded-files)" = 0
wait "$LINKER" "$MOVER"
touch "$T/go"
wait "$PRE"
logged "write through an fd opened before start is detected" 1 event.action=modify file.path="$S/pre" fanguard.decision=detected

finish
