# Sourced by test_realhost.sh, after lib.sh, inside its private mount
# namespace: the host's real layout rebuilt on tmpfs mounts that only this
# namespace sees, so that fanguardd can mark the real paths (/etc/sudoers.d,
# /var/spool/cron, ...) without one mark landing on the machine's own files.
#
#   rh_layout       the mounts, the seeded content, the installed policy;
#                   then findmnt proves each guarded path is on one of our
#                   fresh tmpfs mounts. Any doubt ends the test as a failure.
#   rh_check_marks  every mark the running daemon holds is on one of them.
#   rh_unit_cgroup  a unit's cgroup as systemd would make it (or as an
#                   attacker would), in the test's own cgroup namespace.
#
# The one change to the machine's real filesystem: an empty
# /usr/lib/fanguard is created when it is missing, as the mount point for
# the tmpfs that holds the image's policy (/usr is not copied: too big).
# The test's cgroups live below one cgroup of its own (test_realhost.sh
# makes it, and removes it when the namespace is gone).

RH_SRC=fg-realhost # the source name of every tmpfs mounted here
RH_DEVS=()         # their MAJ:MIN, for rh_check_marks
RH_TARGETS=()      # their mount points
GUARDED_DIRS=()    # the shipped policy's directory subtrees, plus /etc/fanguard
GUARDED_FILES=()   # its single-file subtrees (policy.json)
RH_STATUS_DIR=     # the status socket's directory, from the shipped policy
CGROOT=/sys/fs/cgroup # this namespace's own cgroup2 mount (rh_cgroups)
RH_CG_OURS=           # set once it is mounted
# The image's unit files the test stands in for: the installer service of
# its rule (rh_seed) and two of cloud-init's stages. Not cloud-final: the
# test plays a transient unit of that name (systemd-run --unit), which has
# no unit file.
RH_UNIT_FILES=(fg-realhost-install.service cloud-init.service cloud-init-local.service)

# die MESSAGE: a failure that leaves nothing to test; cleanup runs on exit.
die() {
	fail "$*"
	echo "$PASSES passed, $FAILS failed (aborted)"
	exit 1
}

# The namespace must be a new one, and every mount in it private: a mount
# made here must never propagate to the host.
rh_check_namespace() {
	local shared
	[ "$(readlink /proc/self/ns/mnt)" != "$FG_REALHOST_OUTER_NS" ] ||
		die "not in a mount namespace of its own"
	shared=$(findmnt -rn -o TARGET,PROPAGATION | awk '$2 != "private"')
	[ -z "$shared" ] || die "mounts that are not private in the namespace: $shared"
	pass "private mount namespace ($(readlink /proc/self/ns/mnt)), every mount private"
}

# A cgroup namespace of its own, rooted at the test's cgroup, and a cgroup2
# mount of it on /sys/fs/cgroup in this mount namespace: fanguardd reads
# /proc/PID/cgroup relative to that root and looks the unit cgroups up
# there, so a test cgroup named /system.slice/cloud-init.service is the
# test's own, never the host's.
rh_cgroups() {
	[ -n "${FG_REALHOST_OUTER_CGNS:-}" ] && [ "$(readlink /proc/self/ns/cgroup)" != "$FG_REALHOST_OUTER_CGNS" ] ||
		die "not in a cgroup namespace of its own"
	[ "$(sed -n 's/^0:://p' /proc/self/cgroup)" = / ] || die "the test is not at its cgroup namespace's root"
	mount -n -t cgroup2 "$RH_SRC" "$CGROOT" || die "mount a cgroup2 on $CGROOT"
	RH_CG_OURS=1
	[ "$(stat -f -c %T "$CGROOT")" = cgroup2fs ] || die "$CGROOT is not a cgroup2 mount"
	mkdir "$CGROOT/fg-probe.slice" && rmdir "$CGROOT/fg-probe.slice" || die "cgroup2 at $CGROOT is not writable"
	pass "cgroup namespace of its own, cgroup2 on $CGROOT (host side: ${FG_REALHOST_CG:-?})"
}

# rh_unit_cgroup NAME [systemd]: /system.slice/NAME made by hand (what any
# root process can do), or with "systemd" as the system manager makes it,
# with an invocation id in trusted.invocation_id. Prints its path.
rh_unit_cgroup() {
	local cg=$CGROOT/system.slice/$1
	mkdir -p "$cg" || die "mkdir $cg"
	if [ "${2:-}" = systemd ]; then
		python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.invocation_id", os.urandom(16).hex().encode())' "$cg" ||
			die "set trusted.invocation_id on $cg"
	fi
	echo "$cg"
}

# Every cgroup made here, leaves first, once the processes in it are gone.
rh_cgroups_cleanup() {
	# only ever this namespace's own mount: never the host's hierarchy
	[ "${RH_CG_OURS:-}" = 1 ] && [ "$(findmnt -n -o SOURCE --mountpoint "$CGROOT" | tail -n 1)" = "$RH_SRC" ] ||
		return 0
	for _ in $(seq 50); do
		find "$CGROOT" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
		[ -z "$(find "$CGROOT" -mindepth 1 -type d -print -quit)" ] && return 0
		sleep 0.1
	done
}

# rh_mkdir DIR: creates a missing mount point, but only inside one of our
# tmpfs mounts: the real filesystem is not written.
rh_mkdir() {
	local anc=$1
	while [ ! -e "$anc" ]; do anc=$(dirname "$anc"); done
	[ "$(findmnt -n -o SOURCE --target "$anc")" = "$RH_SRC" ] ||
		die "$1 does not exist and $anc is not on a tmpfs of this test: it cannot be covered"
	mkdir -p "$1" || die "mkdir $1"
}

# rh_mount DIR [empty]: a fresh tmpfs on DIR holding a copy of what DIR held
# (nothing with "empty", or when DIR did not exist). It is filled on a
# staging point and then moved, so DIR is never seen half made.
rh_mount() {
	local dir=$1 stage
	stage=$(mktemp -d "$T/stage.XXXXXX") || die "mktemp"
	mount -n -t tmpfs -o mode=0755 "$RH_SRC" "$stage" || die "mount a tmpfs for $dir"
	if [ -d "$dir" ]; then
		[ "${2:-}" = empty ] || cp -a "$dir/." "$stage/" || die "copy $dir into its tmpfs"
	else
		rh_mkdir "$dir"
	fi
	mount -n --move "$stage" "$dir" || die "move the tmpfs onto $dir"
	rmdir "$stage"
	RH_TARGETS+=("$dir")
	RH_DEVS+=("$(findmnt -n -o MAJ:MIN --mountpoint "$dir" | tr -d " ")")
}

# A subtree path names one file when the host has a file there, or, absent,
# when its name has an extension other than .d (policy.json, not .ssh), or
# is one of the shipped files without one that this host may lack.
rh_is_file() {
	local base=${1##*/}
	[ -f "$1" ] && return 0
	[ -e "$1" ] && return 1
	case $base in sudoers | sshd_config | crontab | environment) return 0 ;; esac
	[[ $base == ?*.* ]] && [[ $base != *.d ]]
}

# The subtrees, read by the daemon's own loader from the shipped file (so a
# subtree added there later is covered too), and the status socket's dir.
rh_parse_policy() {
	local out n path
	out=$("$FANGUARD" check-config "$FG_SRC/etc/fanguard.conf") ||
		die "check-config on the shipped etc/fanguard.conf"
	n=$(sed -n 's/^subtrees (\([0-9]*\)):$/\1/p' <<<"$out")
	RH_STATUS_DIR=$(sed -n 's/^mode [a-z]*, status socket \(.*\)$/\1/p' <<<"$out")
	RH_STATUS_DIR=${RH_STATUS_DIR%/*}
	while read -r path; do
		if rh_is_file "$path"; then GUARDED_FILES+=("$path"); else GUARDED_DIRS+=("$path"); fi
	done < <(awk '/^subtrees \(/ { on = 1; next } on && NF == 0 { exit } on { print $NF }' <<<"$out")
	# /etc/fanguard is guarded whatever the files say (DESIGN.md, 5).
	[[ " ${GUARDED_DIRS[*]} " == *" /etc/fanguard "* ]] || GUARDED_DIRS+=(/etc/fanguard)
	[ -n "$n" ] && [ $((${#GUARDED_DIRS[@]} + ${#GUARDED_FILES[@]})) -ge "$n" ] ||
		die "could not read the subtrees out of check-config: $out"
	[ -n "$RH_STATUS_DIR" ] || die "no status socket in check-config's summary"
	# A tmpfs goes below a top directory, never on one: a single file's
	# directory (rh_target) must be at least two levels deep too, or be
	# /etc itself, which rh_layout covers with a fresh copy before any
	# subtree (/etc/sudoers, /etc/ld.so.preload).
	for path in "${GUARDED_DIRS[@]}" "${GUARDED_FILES[@]}"; do
		case $(rh_target "$path") in
		/etc/?* | /var/?* | /usr/?* | /opt/?* | /srv/?* | /run/?*) ;;
		/etc) [[ " ${GUARDED_FILES[*]} " == *" $path "* ]] ||
			die "guarded path $path: /etc itself cannot be a subtree here" ;;
		*) die "guarded path $path: no tmpfs of this test can cover it" ;;
		esac
	done
}

# Where the tmpfs for a guarded path goes: the directory itself, or a
# single file's parent.
rh_target() {
	if [[ " ${GUARDED_FILES[*]} " == *" $1 "* ]]; then echo "${1%/*}"; else echo "$1"; fi
}

# Directories above subtrees that this host may lack, covered so that the
# subtree can be made (and its parent, which gets the daemon's notification
# mark, is one of ours). Never a bind of a real directory: a later rm -rf
# through a bind would delete the host's files.
#   copied:  small, and the test's tools may read it (rh_mount);
#   empty:   an empty tmpfs hides the host's (nothing the test runs reads
#            /var/lib);
#   made:    a mount point the test creates on the real filesystem when it
#            is missing (an empty directory), removed again by the outer
#            shell once the namespace is gone (FG_REALHOST_MADE).
RH_HOLD_COPY=(/usr/local/lib)
RH_HOLD_EMPTY=(/var/lib)
# /var/roothome: root's home on bootc (root-ssh guards its .ssh).
# /sysroot: the fake ostree deploy tree of the [deployments] defaults.
RH_HOLD_MADE=(/var/usrlocal /var/roothome /sysroot)

rh_holders() {
	local d
	for d in "${RH_HOLD_COPY[@]}"; do rh_mount "$d"; done
	for d in "${RH_HOLD_EMPTY[@]}"; do rh_mount "$d" empty; done
	for d in "${RH_HOLD_MADE[@]}"; do
		if [ ! -e "$d" ]; then
			mkdir "$d" || die "mkdir $d (an empty mount point)"
			echo "$d" >>"$FG_REALHOST_MADE"
		fi
		rh_mount "$d" empty
	done
}

# A guarded path's parent gets the daemon's notification mark: it must be
# on one of this test's mounts, or the mark would land on the host's files.
# A single file's parent is its tmpfs (rh_target); a directory's is above
# its tmpfs.
rh_parents_ours() {
	local p d
	for p in "${GUARDED_DIRS[@]}" "${GUARDED_FILES[@]}"; do
		d=$(dirname "$p")
		[ "$(findmnt -n -o SOURCE --target "$d")" = "$RH_SRC" ] ||
			die "$p: its parent $d is not on a tmpfs of this test (add a holder in realhost_ns.sh)"
	done
}

# Nothing under $T may be a mount point when lib.sh removes it: a bind of a
# real directory there would have rm -rf delete the host's files. Mounts
# are taken down, deepest first; if one stays, $T is left and it fails.
rh_safe_cleanup() {
	local m left
	while read -r m; do umount -l "$m" 2>/dev/null; done < <(findmnt -rn -o TARGET | grep "^$T/" | sort -r)
	left=$(findmnt -rn -o TARGET | grep "^$T/")
	if [ -n "$left" ]; then
		echo "FAIL - mounts left under $T, not removing it: $left"
		T=/nonexistent-fg-realhost
	fi
}

# seed PATH MODE TEXT: a file as a real host might have it.
seed() { printf '%s\n' "$3" >"$1" && chmod "$2" "$1" || die "seed $1"; }

rh_seed() {
	local d f
	seed /etc/sudoers.d/90-fg-realhost 0440 'Defaults:root timestamp_timeout=5'
	seed /etc/ssh/sshd_config.d/50-hardening.conf 0644 "PasswordAuthentication no
PermitRootLogin prohibit-password
X11Forwarding no"
	seed /etc/systemd/system/fg-realhost.service 0644 "[Unit]
Description=fanguard real-layout test unit

[Service]
ExecStart=/bin/true"
	seed /etc/containers/registries.conf.d/50-fg-realhost.conf 0644 \
		'unqualified-search-registries = ["registry.example"]'
	seed /etc/cron.d/fg-realhost 0644 '17 3 * * * root /bin/true'
	seed /etc/NetworkManager/dispatcher.d/50-fg-realhost 0755 '#!/bin/sh
exit 0'
	# Debian's spool: crontabs is root:crontab 1730 (crontab is setgid crontab).
	getent group crontab >/dev/null || die "no group crontab (is the cron package installed?)"
	install -d -o root -g crontab -m 1730 /var/spool/cron/crontabs || die "crontabs dir"
	for f in "${GUARDED_FILES[@]}"; do
		[ -e "$f" ] && continue
		case ${f##*/} in
		policy.json) seed "$f" 0644 '{"default": [{"type": "reject"}]}' ;;
		# every program in the namespace reads it: a word in it is a
		# library to preload, so no comment
		ld.so.preload) seed "$f" 0644 '' ;;
		*) seed "$f" 0644 "# seeded by test_realhost" ;;
		esac
	done
	# What the writer checks append to and sed -i: one file in each directory
	# (with a dot, which sudo's includedir and cron skip).
	for d in "${GUARDED_DIRS[@]}"; do seed "$d/fg-seed.txt" 0644 seed; done
	mkdir -p /etc/fanguard/conf.d /etc/fg-storm/enforce.d /etc/fg-storm/audit.d
	seed /etc/fg-storm/enforce.d/shared 0644 'read me'
	seed /etc/fg-storm/audit.d/shared 0644 'read me'
	# sshd -t insists on its privilege separation directory.
	mkdir -p /run/sshd && chmod 0755 /run/sshd
	# A tmpfiles.d snippet planted before fanguard ran (or by hand since):
	# what systemd-tmpfiles would act on at the next boot.
	seed /etc/tmpfiles.d/zz-planted.conf 0644 "f /etc/sudoers.d/zz-planted 0440 root root - evil ALL=(ALL) NOPASSWD: ALL
f /etc/fanguard/conf.d/99-planted.conf 0644 root root - [writer planted]\\nexe = /usr/bin/bash\\n"
	# The image's unit files (this namespace's copy of them).
	for f in "${RH_UNIT_FILES[@]}"; do
		seed "/usr/lib/systemd/system/$f" 0644 "[Service]
ExecStart=/bin/true"
	done
	rm -f /usr/lib/systemd/system/cloud-final.service
	# The image's policy: the shipped file, and for the test's drop-ins the
	# rule an image adds for its policy installer (a service here; issue
	# 14's fanguard policy install takes the same place).
	{ cat "$FG_SRC/etc/fanguard.conf" && cat <<'EOC'

# test_realhost: the image's rule for the test's policy installer
[writer realhost-installer]
exe = /usr/bin/tee
cgroup = /system.slice/fg-realhost-install.service
auid = unset
subtrees = fanguard-config
EOC
	} >/usr/lib/fanguard/fanguard.conf || die "install the shipped policy"
}

# rh_on_ours DESC PATH TARGET: PATH is on a tmpfs of this test mounted at
# TARGET exactly.
# A fake ostree sysroot on the /sysroot tmpfs (rh_holders), for the shipped
# [deployments] defaults: the booted deployment, whose etc is /etc (this
# namespace's /etc, bound: the same inodes, as on a
# host; of the submounts only sudoers.d's, since the test takes others
# down later and a copy of a mount would keep its mount point busy), and a
# staged one with a sudoers.d of its own.
RH_DEPLOY=/sysroot/ostree/deploy/fedora/deploy
rh_sysroot() {
	mkdir -p "$RH_DEPLOY/b00t.0/etc" "$RH_DEPLOY/57a9ed.1/etc/sudoers.d" || die "fake sysroot"
	seed "$RH_DEPLOY/57a9ed.1/etc/sudoers.d/90-staged" 0440 'Defaults:root timestamp_timeout=5'
	mount -n --bind /etc "$RH_DEPLOY/b00t.0/etc" &&
		mount -n --bind /etc/sudoers.d "$RH_DEPLOY/b00t.0/etc/sudoers.d" ||
		die "bind /etc as the booted deployment's etc"
	rh_on_ours "fake sysroot" "$RH_DEPLOY/57a9ed.1/etc/sudoers.d" /sysroot
	rh_on_ours "the booted deployment's etc" "$RH_DEPLOY/b00t.0/etc/sudoers.d" \
		"$RH_DEPLOY/b00t.0/etc/sudoers.d"
}

rh_on_ours() {
	local got want="$RH_SRC tmpfs $3"
	got=$(findmnt -n -o SOURCE,FSTYPE,TARGET --target "$2" | tr -s ' ')
	[ "$got" = "$want" ] || die "$1: $2 is on '$got', not on a fresh tmpfs at $3"
	got=$(findmnt -n -o FSTYPE --mountpoint "$3")
	[ "$got" = tmpfs ] || die "$1: findmnt --mountpoint $3 says '$got'"
}

rh_layout() {
	local p t done_targets=" /etc "
	rh_check_namespace
	rh_cgroups
	rh_parse_policy
	# Directories above subtrees this host may lack (rh_holders), then private
	# copies of /etc and /var/spool (the guarded directories' parents, which
	# get notification marks), a fresh /run (as at boot), and a copy of the
	# image's unit directory (the unit files of the cgroups the test plays).
	rh_holders
	rh_mount /etc
	rh_mount /var/spool
	rh_mount /run empty
	rh_mount /usr/lib/systemd/system
	[ -d /usr/lib/fanguard ] || mkdir /usr/lib/fanguard || die "mkdir /usr/lib/fanguard"
	# Parents before children: /etc/containers before registries.conf.d.
	# /etc is the fresh copy above (the single files directly in it).
	while read -r t; do
		[[ $done_targets == *" $t "* ]] && continue
		rh_mount "$t"
		done_targets+="$t "
	done < <(for p in "${GUARDED_DIRS[@]}" "${GUARDED_FILES[@]}"; do rh_target "$p"; done |
		awk '{ print length($0), $0 }' | sort -n | cut -d' ' -f2-)
	for t in "$RH_STATUS_DIR" /usr/lib/fanguard /etc/fg-storm; do rh_mount "$t" empty; done
	rh_seed
	rh_sysroot
	for p in "${GUARDED_DIRS[@]}" "${GUARDED_FILES[@]}"; do
		rh_on_ours "guarded" "$p" "$(rh_target "$p")"
	done
	rh_parents_ours
	rh_on_ours "status socket directory" "$RH_STATUS_DIR" "$RH_STATUS_DIR"
	rh_on_ours "image policy" /usr/lib/fanguard/fanguard.conf /usr/lib/fanguard
	rh_on_ours "storm subtrees" /etc/fg-storm/audit.d /etc/fg-storm
	pass "every guarded path is on a fresh tmpfs (findmnt): ${GUARDED_DIRS[*]} ${GUARDED_FILES[*]}"
}

# Every mark of the running daemon's fanotify groups, read from
# /proc/PID/fdinfo, is an inode mark on one of our tmpfs mounts: no mount
# or filesystem mark, nothing on the machine's own files. Otherwise the
# daemon is killed at once and the test ends.
rh_check_marks() {
	local out
	if out=$(python3 - "$DPID" "${RH_DEVS[@]}" <<'EOP' 2>&1
import os, re, sys
pid, ours = sys.argv[1], set(sys.argv[2:])
n, bad = 0, []
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        if "fanotify" not in os.readlink(f"/proc/{pid}/fd/{fd}"):
            continue
        lines = open(f"/proc/{pid}/fdinfo/{fd}").read().splitlines()
    except OSError:
        continue
    for line in lines:
        if not line.startswith("fanotify ") or line.startswith("fanotify flags:"):
            continue
        m = re.search(r"\bino:[0-9a-f]+ sdev:([0-9a-f]+)", line)
        if not m:
            bad.append("not an inode mark: " + line)
            continue
        sdev = int(m.group(1), 16)  # the kernel's dev_t: major << 20 | minor
        dev = f"{sdev >> 20}:{sdev & 0xfffff}"
        n += 1
        if dev not in ours:
            bad.append(f"mark on {dev}, not one of ours: {line}")
print(f"{n} marks")
for b in bad:
    print(b)
sys.exit(1 if bad or n == 0 else 0)
EOP
	); then
		pass "every mark of fanguardd $DPID is on a tmpfs of this test ($out)"
	else
		kill_daemon
		die "marks outside this test's tmpfs mounts, daemon killed: $out"
	fi
}

# ---- checks the real-layout tests share (pass and fail: lib.sh) ----
# eq DESC GOT WANT
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi; }
# listing DIR: its names, bounded (a hung daemon cannot hang the test).
listing() { timeout -k 1 5 ls -A "$1" 2>&1; }
# unchanged DESC DIR BEFORE: DIR lists as BEFORE again within 5 s (a denied
# create's empty file is removed by the daemon after the answer).
unchanged() {
	local now
	for _ in $(seq 50); do
		now=$(listing "$2")
		[ "$now" = "$3" ] && { pass "$1"; return; }
		sleep 0.1
	done
	fail "$1 (now: $(tr "\n" " " <<<"$now"), before: $(tr "\n" " " <<<"$3"))"
}
