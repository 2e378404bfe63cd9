#!/usr/bin/env bash
# Persistence techniques against a guarded subtree in enforce mode: each is
# either prevented, or detected and logged with the process that did it.
# SECURITY.md's bypass table states the same outcomes.
. "$(dirname "$0")/lib.sh"

S=$T/etc/sudoers.d
O=$T/outside
M=$T/mnt
OPEN=$FG_BUILD/tests/fg_open
mkdir -p "$S" "$O" "$T/bin" "$T/copy" "$M"
cp /bin/bash "$T/bin/allowed"
cp /bin/bash "$T/copy/allowed"
for f in redirect append trunc rdwr openat2 truncate chmod target moveout uring-direct uring-fifo; do echo original > "$S/$f"; done
echo original > "$O/evil"
mount -t tmpfs fg-e2e "$M"
mkdir -p "$M/etc/cron.d"
trap '[ -n "${CORE_PATTERN:-}" ] && echo "$CORE_PATTERN" > /proc/sys/kernel/core_pattern; stop_daemon; umount -l "$O/alias" 2>/dev/null; umount -l "$S" 2>/dev/null; umount -l "$M" 2>/dev/null; cleanup' EXIT

{
	conf_base
	cat <<EOC

[subtree cron]
path = $M/etc/cron.d
key = cron_persist
mark = inode

[subtree via-symlink]
path = $T/link/sub
key = misconfigured

[writer allowed]
exe = $T/bin/allowed
EOC
} > "$CONF"
mkdir -p "$T/real/sub"
ln -s "$T/real" "$T/link"
start_daemon

# A subtree configured through a symlink would never match an event's
# (resolved) path: it is refused loudly, and status says why.
"$FANGUARD" status --json --socket "$SOCK" > "$T/status.json"
check "status is degraded with a symlinked subtree path" test $? = 1
check "status names the reason" python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
st=[t for t in d['subtrees'] if t['name']=='via-symlink'][0]
sys.exit(0 if st['state']=='SYMLINK' else 1)" "$T/status.json"
logged "daemon-start says it is not guarded" 1 event.action=daemon-start message="~via-symlink=$T/link/sub(path goes through a symlink: NOT guarded)"

# Prevented: every way of opening for write.
refuse "redirect" "$S/redirect" bash -c "echo evil > '$S/redirect'"
refuse "append" "$S/append" bash -c "echo evil >> '$S/append'"
refuse "O_WRONLY|O_TRUNC" "$S/trunc" "$OPEN" trunc "$S/trunc"
refuse "O_RDWR" "$S/rdwr" "$OPEN" rdwr "$S/rdwr"
refuse "creat(2)" "$S/creat-new" "$OPEN" creat "$S/creat-new"
refuse "openat2 write" "$S/openat2" "$OPEN" openat2-w "$S/openat2"
check "openat2 read-only is decided as unknown intent (default: write)" test "$("$OPEN" openat2-r "$S/openat2" 2>/dev/null; echo $?)" = 1
# io_uring: the open runs in an io-wq worker, whose /proc/TID/syscall is a
# copy of its creator's registers when it was made. Made in io_uring_enter
# it shows that call; made while its creator sleeps in a read-only open
# (of a FIFO) it shows that open: neither is the worker's own.
URING=$FG_BUILD/tests/fg_uring
refuse "io_uring openat in a worker made in io_uring_enter" "$S/uring-direct" \
	"$URING" direct "$S/uring-direct" "$T/uring.fifo"
refuse "io_uring openat in a worker made during a read-only open" "$S/uring-fifo" \
	"$URING" fifo "$S/uring-fifo" "$T/uring.fifo"
same_content "  ... the file is as it was" "$S/uring-fifo" original
# A core dump: the kernel opens the core file (core_pattern) as the dying
# task, whose /proc/TID/syscall still shows the read-only open it was
# killed in. core_pattern is host-wide: set for this check only, restored
# at once (and by the trap).
mkfifo "$T/core.fifo"
CORE_PATTERN=$(cat /proc/sys/kernel/core_pattern)
echo "$S/core" > /proc/sys/kernel/core_pattern
(ulimit -c unlimited; exec python3 -c "import os; os.open('$T/core.fifo', os.O_RDONLY)") &
CP=$!
for _ in $(seq 50); do grep -q '^257 .* 0x80000 ' "/proc/$CP/syscall" 2>/dev/null && break; sleep 0.1; done
kill -SEGV "$CP"
wait "$CP" 2>/dev/null
echo "$CORE_PATTERN" > /proc/sys/kernel/core_pattern
# (the kernel creates the file before it is opened: it is left empty)
check "a core dump into a subtree, by a task killed in a read-only open, is refused" test ! -s "$S/core"
logged "  ... and logged as a denial" 1 event.action=open-write fanguard.decision=deny file.path="$S/core"
refuse "cp" "$S/cp-new" cp "$O/evil" "$S/cp-new"
refuse "install(1)" "$S/install-new" install -m 0440 "$O/evil" "$S/install-new"
refuse "sed -i" "~$S/sed" sed -i s/original/evil/ "$S/target"
refuse "exec of a copy of an allowed binary from elsewhere" "$S/target" "$T/copy/allowed" -c "echo evil > '$S/target'"
check "the allowed binary itself writes" timeout 10 "$T/bin/allowed" -c "echo fine > '$S/allowed-new'"
for f in redirect append trunc rdwr openat2 target; do
	same_content "$f left as it was" "$S/$f" original
done
for f in creat-new cp-new install-new; do
	check "no empty $f left behind" test ! -e "$S/$f"
done
logged "the denied create's empty file was removed and logged" 1 event.action=removed-empty
check "no sed temp file left behind" test -z "$(ls "$S" | grep '^sed')"

# Detected: operations that open nothing.
echo planted > "$O/mv-src"
python3 -c "import os,sys,time; os.rename(sys.argv[1], sys.argv[2]); time.sleep(1)" "$O/mv-src" "$S/mv-in" &
P1=$!
echo planted > "$O/ln-src"
python3 -c "import os,sys,time; os.link(sys.argv[1], sys.argv[2]); time.sleep(1)" "$O/ln-src" "$S/ln-in" &
P2=$!
python3 -c "import os,sys,time; os.symlink(sys.argv[1], sys.argv[2]); time.sleep(1)" "$O/evil" "$S/symlink-in" &
P3=$!
python3 -c "import os,sys,time; os.chmod(sys.argv[1], 0o666); time.sleep(1)" "$S/chmod" &
P4=$!
"$OPEN" truncate "$S/truncate" &
P5=$!
logged "mv from the same filesystem: rename-in" 1 event.action=rename-in file.path="$S/mv-in" process.name=python3
logged "hard link in: link-in" 1 event.action=link-in file.path="$S/ln-in" process.name=python3
logged "symlink placed: symlink-in" 1 event.action=symlink-in file.path="$S/symlink-in" process.name=python3
logged "chmod: attrib" 1 event.action=attrib file.path="$S/chmod" process.name=python3 fanguard.decision=detected
logged "truncate(2) by path: modify" 1 event.action=modify file.path="$S/truncate"
wait "$P1" "$P2" "$P3" "$P4" "$P5"
refuse "renamed-in file guarded from then on" "$S/mv-in" bash -c "echo x >> '$S/mv-in'"
refuse "linked-in file guarded through its outside name" "$O/ln-src" bash -c "echo x >> '$O/ln-src'"

# The same files reached through a bind mount of the subtree elsewhere.
mkdir -p "$O/alias"
mount --bind "$S" "$O/alias"
refuse "bind mount of a subtree elsewhere: write through the alias" "$O/alias/target" bash -c "echo evil > '$O/alias/target'"
same_content "alias write changed nothing" "$S/target" original
umount -l "$O/alias"
# A file moved out to a directory nobody watches keeps its mark: the
# kernel names only the old place, so the file stays guarded (SECURITY.md).
mv "$S/moveout" "$O/moved-out"
sleep 0.3
refuse "a file moved out stays guarded" "$O/moved-out" bash -c "echo mine > '$O/moved-out'"

# A subtree renamed away and recreated empty, then written into at once.
# The new directory is marked when its creation is read; a write that wins
# that race is reported. The old directory keeps our marks, so a write there
# is ours but in no subtree by path: decided as guarded (DESIGN 9).
mv "$M/etc/cron.d" "$M/etc/cron.d.old"
mkdir "$M/etc/cron.d"
sleep 0.3
refuse "recreated subtree guarded" "$M/etc/cron.d/job" bash -c "echo '* * * * * root evil' > '$M/etc/cron.d/job'"
check "no file landed in the recreated subtree" test ! -s "$M/etc/cron.d/job"
refuse "a write into the renamed-away subtree is decided as guarded" "$M/etc/cron.d.old/free" \
	bash -c "echo x > '$M/etc/cron.d.old/free'"
logged "and logged as unlocated" 1 event.action=open-write fanguard.reason=unlocated \
	file.path="$M/etc/cron.d.old/free"
# With inode marks the new directory is marked when its creation is read.
mv "$S" "$S.old"
mkdir "$S"
bash -c "echo evil > '$S/raced'" 2>/dev/null && RACED=1 || RACED=0
if [ "$RACED" = 1 ]; then
	logged "inode marks: a write that won the race is reported" 1 file.path="$S" event.action=subtree-appeared
else
	pass "inode marks: write into the recreated subtree denied"
fi
sleep 0.3
refuse "inode marks: recreated subtree guarded" "$S/later" bash -c "echo evil > '$S/later'"

# A bind mount over a subtree is seen when the mount table changes.
mkdir -p "$O/bind"
mount --bind "$O/bind" "$S"
logged "bind mount over a subtree: subtree-replaced" 1 event.action=subtree-replaced message="~$S"
sleep 0.3
refuse "bind-mounted directory guarded after it was seen" "$S/over-bind" bash -c "echo evil > '$S/over-bind'"
umount -l "$S"

finish
