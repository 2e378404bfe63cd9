# Sourced by end-to-end tests after lib.sh: login sessions shaped as logind
# makes them, for writers whose `auid` rule needs one (DESIGN 12). There is
# no logind on the test machine, so a test does what logind would: the
# process sets its login uid (which gives it a new audit session id SID)
# and moves into .../user-AUID.slice/session-SID.scope. The tree lives in a
# cgroup of the test's own under the cgroup v2 mount, never in the host's
# user.slice, and session_cleanup removes it.

# The cgroup v2 hierarchy: /sys/fs/cgroup itself, or on a hybrid host the
# cgroup2 mount found in mountinfo.
session_cg2() {
	if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
		echo /sys/fs/cgroup
		return
	fi
	awk '{ for (i = 7; i < NF && $i != "-"; i++);
		if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo
}

SESSION_CG2=$(session_cg2)
SESSION_ROOT=${SESSION_CG2:+$SESSION_CG2/fg-e2e-session.$$}

# "${IN_SESSION[@]}" AUID CMD...: runs CMD (its pid kept) as the first
# process of a new login session of AUID; a command, so that timeout(1) and
# refuse can run it. The scope gets a trusted.invocation_id, as systemd
# gives every scope it starts for logind. "${IN_MKDIR_SESSION[@]}" does the
# same without it: a cgroup that root made with mkdir, named like logind's.
# Exit 97 when the session could not be made.
SESSION_SCRIPT='root=$1 invoked=$2 auid=$3
	[ -n "$root" ] || { echo "no cgroup v2 mount for sessions" >&2; exit 97; }
	echo "$auid" > /proc/self/loginuid || exit 97
	sid=$(cat /proc/self/sessionid)
	d=$root/user.slice/user-$auid.slice/session-$sid.scope
	mkdir -p "$d" || exit 97
	if [ "$invoked" = yes ]; then
		python3 -c "import os, sys
os.setxattr(sys.argv[1], \"trusted.invocation_id\", os.urandom(16).hex().encode())" "$d" || exit 97
	fi
	echo $$ > "$d/cgroup.procs" || exit 97
	shift 3
	exec "$@"'
IN_SESSION=(bash -c "$SESSION_SCRIPT" _ "$SESSION_ROOT" yes)
IN_MKDIR_SESSION=(bash -c "$SESSION_SCRIPT" _ "$SESSION_ROOT" no)

in_session() { "${IN_SESSION[@]}" "$@"; }

# Removes every session cgroup made (once their processes are gone).
session_cleanup() {
	local d
	[ -n "$SESSION_ROOT" ] && [ -d "$SESSION_ROOT" ] || return 0
	for _ in $(seq 50); do
		find "$SESSION_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$SESSION_ROOT" ] || return 0
		sleep 0.1
	done
	echo "FAIL - could not remove $SESSION_ROOT"
}
