#!/usr/bin/env bash
# The event path under the conditions that used to hang or open it: a config
# and a log inside a guarded subtree, reloads, read storms, files that cannot
# be placed by path, mounts below a subtree, a single-file subtree replaced,
# a writer whose /proc status is longer than a page, a failed re-mark.
# Runs in its own mount namespace: every mount it makes is private.
if [ -z "${FG_IN_NS:-}" ]; then
	FG_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

S=$T/etc/sudoers.d
A=$T/etc/audited
F=$T/etc/fanguard
C=$T/etc/containers
O=$T/outside
READERS=$FG_BUILD/tests/fg_readers
mkdir -p "$S" "$A" "$F" "$C" "$O/alias" "$O/nsalias" "$T/bin"
cp /bin/bash "$T/bin/allowed"
echo original > "$S/target"
echo original > "$S/README"
echo original > "$A/target"
echo '{"default":[{"type":"reject"}]}' > "$C/policy.json"
echo other > "$C/registries.conf"
echo evil > "$O/evil"
CONF=$F/fanguard.conf
LOG=$F/fanguard.log
cat > "$CONF" <<EOC
[fanguard]
mode = enforce
log = file:$LOG
status_socket = $SOCK

[subtree sudoers]
path = $S
key = priv_esc_persist

[subtree audited]
path = $A
key = audited
mode = audit

[subtree fanguard-config]
path = $F
key = fanguard_config

[subtree containers-policy]
path = $C/policy.json
key = supply_chain

[subtree late]
path = $T/late
key = late

[writer allowed]
exe = $T/bin/allowed
EOC
start_daemon
check "the daemon's own log inside a guarded subtree is written" test -s "$LOG"

# Reload reads the config from inside a guarded subtree: the loader's opens
# are answered by the answering thread, not waited on.
# The config is guarded too: it is changed by the allowed writer.
AW=$T/bin/allowed
cp "$CONF" "$T/good.conf"
"$AW" -c "printf '\n[writer second]\nexe = /usr/bin/tee\n' >> '$CONF'"
check "reload with the config inside a guarded subtree answers" \
	timeout 10 "$FANGUARD" reload --socket "$SOCK"
check "the reloaded rule is in force" timeout 10 bash -c "echo ok | tee '$S/by-tee' >/dev/null"
kill -HUP "$DPID"
logged "SIGHUP reload succeeds" 2 event.action=reload event.outcome=success
"$AW" -c "cat '$CONF' > '$T/good.conf'; echo '[writer broken' >> '$CONF'"
refuse "a write the old policy denies is still denied after a refused reload" \
	"$S/target" bash -c "echo evil > '$S/target'"
check "a broken config is refused" test "$(timeout 10 "$FANGUARD" reload --socket "$SOCK" >/dev/null 2>&1; echo $?)" != 0
check "the old policy is kept" timeout 10 bash -c "echo ok | tee '$S/by-tee2' >/dev/null"
timeout 10 "$FANGUARD" status --socket "$SOCK" >/dev/null
check "status answers after a refused reload (degraded: one subtree is missing)" test $? = 1
"$AW" -c "cat '$T/good.conf' > '$CONF'"

# Read storms: every reader sleeps on one wait queue and every answer wakes
# them all; no read may be refused for looking busy.
check "3,000 concurrent readers of an enforce subtree: none refused" \
	timeout 60 "$READERS" 3000 "$S/README"
check "3,000 concurrent readers of an audit subtree: none refused" \
	timeout 60 "$READERS" 3000 "$A/target"
timeout 60 "$READERS" 3000 "$S/README" > "$T/storm.out" &
SP=$!
sleep 0.2
kill -HUP "$DPID"
wait "$SP"
check "3,000 readers across a reload: none refused ($(cat "$T/storm.out"))" grep -q "eperm=0 other=0" "$T/storm.out"
logged "that reload succeeded" 3 event.action=reload event.outcome=success

# Notifications are served while the permission group is kept busy.
timeout 60 "$READERS" 300 "$S/README" 8 > "$T/storm2.out" &
SP=$!
sleep 1
T0=$(date +%s%N)
mv "$O/evil" "$S/planted"
logged "a rename-in is logged during a read storm" 1 event.action=rename-in file.path="$S/planted"
T1=$(date +%s%N)
check "...while the storm was still running ($(( (T1 - T0) / 1000000 )) ms)" kill -0 "$SP"
wait "$SP"
check "...and no read of the storm was refused ($(cat "$T/storm2.out"))" grep -q "eperm=0 other=0" "$T/storm2.out"

# Locate or fail closed: files our marks deliver that no subtree path names.
mount --bind "$S" "$O/alias"
refuse "a new file through a bind alias of a subtree is denied" \
	"$O/alias/via-alias" bash -c "echo evil > '$O/alias/via-alias'"
umount -l "$O/alias"
check "...and nothing landed" test ! -s "$S/via-alias"
unshare -m --propagation private bash -c "mount --bind '$S' '$O/nsalias' && echo evil > '$O/nsalias/from-ns'" 2>"$T/ns.err"
check "a new file from another mount namespace is denied" grep -q "Operation not permitted" "$T/ns.err"
# Placed by inode when the notification thread marked the new file first,
# else decided as guarded though no subtree path names it.
logged "...and a deny line names it" 1 event.action=open-write fanguard.decision=deny \
	file.path="$O/nsalias/from-ns"
check "...and nothing landed" test ! -s "$S/from-ns"
# A marked directory moved below a chain longer than PATH_MAX: its path
# cannot be read back.
mkdir "$S/deep"
sleep 0.2
DENIES=$(count_log event.action=open-write fanguard.decision=deny)
python3 - "$S" > "$T/deep.out" 2>&1 <<'EOP'
import os, sys
root = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fd = root
for i in range(20):
    name = "d%02d" % i + "x" * 240
    os.mkdir(name, dir_fd=fd)
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
os.rename("deep", "deep", src_dir_fd=root, dst_dir_fd=fd)
try:
    os.close(os.open("new", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=os.open("deep", os.O_RDONLY, dir_fd=fd)))
    print("WRITTEN")
except PermissionError:
    print("EPERM")
EOP
check "a new file beyond PATH_MAX in a marked directory is denied ($(cat "$T/deep.out"))" grep -qx EPERM "$T/deep.out"
# Unlocated, or placed by inode when the notification thread's fd-relative
# walk of the new directories marked the file first: denied either way.
logged "...and logged as a denial" $((DENIES + 1)) event.action=open-write fanguard.decision=deny

# A single-file subtree deleted and recreated: the create is decided.
check "a file beside the single-file subtree is not decided" timeout 10 bash -c "echo ok > '$C/registries.conf'"
rm "$C/policy.json"
refuse "policy.json recreated after a delete is denied" \
	"$C/policy.json" bash -c "echo '{}' > '$C/policy.json'"

# A mount below a subtree root hides a marked file behind an unmarked one.
mount --bind "$O/alias" "$S/README" 2>/dev/null || mount --bind "$T/bin/allowed" "$S/README"
logged "a mount below a subtree is reported by name" 1 event.action=mount-below file.path="$S/README"
umount -l "$S/README"

# A writer in a thousand groups: /proc/PID/status is longer than a page.
check "an allowed writer with a long /proc status is allowed" \
	timeout 10 setpriv --groups "$(seq -s, 1000 2200)" "$T/bin/allowed" -c "echo ok > '$S/groups'"

# A subtree that appears as a symlink cannot be marked: that is logged.
ln -s "$O" "$T/late"
logged "a failed re-mark is logged as a failure" 1 event.action=remark-failed event.outcome=failure message="~$T/late"

finish
