# Sourced first (before lib.sh) by the real-layout tests, test_realhost.sh
# and test_operator.sh: the script is re-run in a mount namespace and a
# cgroup namespace of its own (realhost_ns.sh then rebuilds the host's
# layout there on tmpfs mounts). This outer shell waits for it, then
# removes what the namespace had to make on the real filesystem (listed in
# FG_REALHOST_MADE: empty mount points, directories or empty files) and the
# test's cgroup, and exits with the test's status.
# Re-run in a mount namespace and a cgroup namespace of its own, before
# lib.sh makes anything: mounts made there stay there, and its cgroups live
# below one cgroup of the test's own, which this outer shell removes when
# the namespaces are gone.
if [ -z "${FG_REALHOST_OUTER_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "FAIL - test_realhost needs root"; exit 1; }
	FG_REALHOST_OUTER_NS=$(readlink /proc/self/ns/mnt) || exit 1
	FG_REALHOST_OUTER_CGNS=$(readlink /proc/self/ns/cgroup) || exit 1
	# The cgroup v2 hierarchy: /sys/fs/cgroup, or a hybrid host's cgroup2.
	if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then cg=/sys/fs/cgroup; else
		cg=$(awk '{ for (i = 7; i < NF && $i != "-"; i++);
			if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo)
	fi
	[ -n "$cg" ] || { echo "FAIL - no cgroup v2 hierarchy: the unit-cgroup checks cannot run"; exit 1; }
	FG_REALHOST_CG=$cg/fg-realhost.$$
	mkdir "$FG_REALHOST_CG" || { echo "FAIL - cannot make the test's cgroup $FG_REALHOST_CG"; exit 1; }
	# Empty mount points the namespace had to make on the real filesystem.
	FG_REALHOST_MADE=$(mktemp /tmp/fg-realhost-made.XXXXXX) || exit 1
	export FG_REALHOST_OUTER_NS FG_REALHOST_OUTER_CGNS FG_REALHOST_CG FG_REALHOST_MADE
	bash -c 'echo $$ >"$FG_REALHOST_CG/cgroup.procs" &&
		exec unshare -m -C --propagation private bash "$0" "$@"' "$0" "$@"
	rc=$?
	# Newest first: a file made inside a directory made before it. Not
	# while another real-layout test runs (its cgroup is there): removing a
	# directory another namespace has a tmpfs on detaches that tmpfs, and
	# its daemon's marks would then land on the host's files. An empty
	# mount point left behind is harmless (a later run finds it there).
	others=$(find "$cg" -maxdepth 1 -name 'fg-realhost.*' ! -path "$FG_REALHOST_CG" -print -quit 2>/dev/null)
	[ -z "$others" ] || { echo "# another real-layout test runs ($others): mount points left: $(tr '\n' ' ' <"$FG_REALHOST_MADE")"; : >"$FG_REALHOST_MADE"; }
	while read -r d; do
		if [ -d "$d" ]; then rmdir "$d"; elif [ -f "$d" ] && [ ! -s "$d" ]; then rm -f -- "$d"; fi ||
			{ echo "FAIL - cannot remove the mount point $d"; rc=1; }
	done < <(tac "$FG_REALHOST_MADE")
	rm -f "$FG_REALHOST_MADE"
	# Whatever the namespace left (it removes its own cgroups): leaves first.
	for _ in $(seq 50); do
		find "$FG_REALHOST_CG" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$FG_REALHOST_CG" ] || break
		sleep 0.1
	done
	[ ! -d "$FG_REALHOST_CG" ] || { echo "FAIL - the test's cgroup $FG_REALHOST_CG is left"; rc=1; }
	exit "$rc"
fi
