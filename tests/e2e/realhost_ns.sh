# Sourced by test_realhost.sh, after lib.sh, inside its private mount
# namespace: the host's real layout rebuilt on tmpfs mounts that only this
# namespace sees, so that fanguardd can mark the real paths (/etc/sudoers.d,
# /var/spool/cron, ...) without one mark landing on the machine's own files.
#
#   rh_layout       the mounts, the seeded content, the installed policy;
#                   then findmnt proves each guarded path is on one of our
#                   fresh tmpfs mounts. Any doubt ends the test as a failure.
#   rh_check_marks  every mark the running daemon holds is on one of them.
#
# The one change to the machine's real filesystem: an empty
# /usr/lib/fanguard is created when it is missing, as the mount point for
# the tmpfs that holds the image's policy (/usr is not copied: too big).

RH_SRC=fg-realhost # the source name of every tmpfs mounted here
RH_DEVS=()         # their MAJ:MIN, for rh_check_marks
RH_TARGETS=()      # their mount points
GUARDED_DIRS=()    # the shipped policy's directory subtrees, plus /etc/fanguard
GUARDED_FILES=()   # its single-file subtrees (policy.json)
RH_STATUS_DIR=     # the status socket's directory, from the shipped policy

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
# when its name has an extension other than .d (policy.json).
rh_is_file() {
	local base=${1##*/}
	[ -f "$1" ] && return 0
	[ ! -e "$1" ] && [[ $base == *.* ]] && [[ $base != *.d ]]
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
	# directory (rh_target) must be at least two levels deep too.
	for path in "${GUARDED_DIRS[@]}" "${GUARDED_FILES[@]}"; do
		case $(rh_target "$path") in
		/etc/?* | /var/?* | /usr/?* | /opt/?* | /srv/?*) ;;
		*) die "guarded path $path: no tmpfs of this test can cover it" ;;
		esac
	done
}

# Where the tmpfs for a guarded path goes: the directory itself, or a
# single file's parent.
rh_target() {
	if [[ " ${GUARDED_FILES[*]} " == *" $1 "* ]]; then echo "${1%/*}"; else echo "$1"; fi
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
	install -m 0644 "$FG_SRC/etc/fanguard.conf" /usr/lib/fanguard/fanguard.conf ||
		die "install the shipped policy"
}

# rh_on_ours DESC PATH TARGET: PATH is on a tmpfs of this test mounted at
# TARGET exactly.
rh_on_ours() {
	local got want="$RH_SRC tmpfs $3"
	got=$(findmnt -n -o SOURCE,FSTYPE,TARGET --target "$2" | tr -s ' ')
	[ "$got" = "$want" ] || die "$1: $2 is on '$got', not on a fresh tmpfs at $3"
	got=$(findmnt -n -o FSTYPE --mountpoint "$3")
	[ "$got" = tmpfs ] || die "$1: findmnt --mountpoint $3 says '$got'"
}

rh_layout() {
	local p t done_targets=" "
	rh_check_namespace
	rh_parse_policy
	# Private copies of /etc and /var/spool (the guarded directories' parents,
	# which get notification marks), a fresh /run (as at boot).
	rh_mount /etc
	rh_mount /var/spool
	rh_mount /run empty
	[ -d /usr/lib/fanguard ] || mkdir /usr/lib/fanguard || die "mkdir /usr/lib/fanguard"
	# Parents before children: /etc/containers before registries.conf.d.
	while read -r t; do
		[[ $done_targets == *" $t "* ]] && continue
		rh_mount "$t"
		done_targets+="$t "
	done < <(for p in "${GUARDED_DIRS[@]}" "${GUARDED_FILES[@]}"; do rh_target "$p"; done |
		awk '{ print length($0), $0 }' | sort -n | cut -d' ' -f2-)
	for t in "$RH_STATUS_DIR" /usr/lib/fanguard /etc/fg-storm; do rh_mount "$t" empty; done
	rh_seed
	for p in "${GUARDED_DIRS[@]}" "${GUARDED_FILES[@]}"; do
		rh_on_ours "guarded" "$p" "$(rh_target "$p")"
	done
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
