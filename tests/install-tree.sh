#!/usr/bin/env bash
# Installs the build into a scratch DESTDIR and checks that the tree is
# whole: every fanguard program a unit starts, every manual a unit names,
# the image policy the installed daemon has compiled in, and every path
# under the install prefix (or /usr) that the units and manuals name.
# Paths that belong to the running host (/run, /var, the host policy in
# /etc/fanguard) are not shipped and not checked; /etc/fanguard/conf.d is.
#
# usage: tests/install-tree.sh BUILD_DIR PREFIX UNITDIR MANDIR
set -uo pipefail
build=$1 prefix=$2 unitdir=$3 mandir=$4
dest=$(mktemp -d /tmp/fg-install.XXXXXX) || exit 1
trap 'rm -rf "$dest"' EXIT
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

DESTDIR=$dest cmake --install "$build" >"$dest.log" 2>&1 || {
	cat "$dest.log"
	rm -f "$dest.log"
	exit 1
}
rm -f "$dest.log"

mapfile -t units < <(find "$dest$unitdir" -maxdepth 1 -type f \( -name '*.service' \
	-o -name '*.socket' -o -name '*.timer' -o -name '*.path' \) 2>/dev/null)
mapfile -t manuals < <(find "$dest$mandir" -type f -path '*/man[1-8]/*')
[ "${#units[@]}" -gt 0 ] || fail "no units in $unitdir"
daemon=
for unit in "${units[@]}"; do
	grep -q '@[A-Z_]*@' "$unit" && fail "${unit#"$dest"}: unsubstituted @VAR@"
	# Exec*=: the program is the first word, after systemd's prefixes.
	while read -r prog; do
		case ${prog##*/} in
		fanguard*) [ -x "$dest$prog" ] || fail "${unit#"$dest"} runs $prog: not in the tree" ;;
		*) [ -x "$prog" ] || fail "${unit#"$dest"} runs $prog: not on this host" ;;
		esac
		[ "${prog##*/}" = fanguardd ] && daemon=$dest$prog
	done < <(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$unit")
	for page in $(sed -n 's/^Documentation=//p' "$unit" | tr ' ' '\n'); do
		[[ $page =~ ^man:([a-z.]+)\(([1-8])\)$ ]] || continue
		[ -f "$dest$mandir/man${BASH_REMATCH[2]}/${BASH_REMATCH[1]}.${BASH_REMATCH[2]}" ] ||
			fail "${unit#"$dest"} names $page: not in $mandir"
	done
done

# The daemon's own default, read out of the installed binary.
if [ -z "$daemon" ] || [ ! -x "$daemon" ]; then
	fail "no unit starts fanguardd"
else
	image=$(strings -a "$daemon" | grep -E '^/.*/lib/fanguard/fanguard\.conf$' | sort -u)
	if [ -z "$image" ] || [ "$(wc -l <<<"$image")" != 1 ]; then
		fail "fanguardd's image policy: '$image'"
	fi
	[ -f "$dest$image" ] || fail "fanguardd reads $image: not in the tree"
fi

# The shutdown order (fanguardd(8), FILES): fanguardd stops after the
# ordinary services and after the finalize-staged /etc merge, and systemd
# itself accepts the unit.
unit=$dest$unitdir/fanguardd.service
if [ ! -f "$unit" ]; then
	fail "no fanguardd.service in $unitdir"
else
	before=" $(sed -n 's/^Before=//p' "$unit" | tr '\n' ' ') "
	for u in sysinit.target shutdown.target ostree-finalize-staged.service bootc-finalize-staged.service; do
		[[ $before == *" $u "* ]] || fail "fanguardd.service is not Before=$u (got:$before)"
	done
	grep -qx 'DefaultDependencies=no' "$unit" || fail "fanguardd.service keeps default dependencies"
	# verify resolves ExecStart= on this host: point it at the tree's copy.
	sed "s|^ExecStart=|ExecStart=$dest|" "$unit" >"$dest/fanguardd.service"
	if ! out=$(systemd-analyze verify --man=no "$dest/fanguardd.service" 2>&1); then
		fail "systemd-analyze verify fanguardd.service: $out"
	elif grep -v 'FileDescriptorStorePreserve' <<<"$out" | grep -q .; then
		fail "systemd-analyze verify fanguardd.service warns: $out"
	fi
fi

[ -d "$dest/etc/fanguard/conf.d" ] || fail "/etc/fanguard/conf.d: not in the tree"

# Paths the units and manuals name.
named=$(cat "${units[@]}" "${manuals[@]}" |
	grep -oE '/[A-Za-z0-9_./*-]*fanguard[A-Za-z0-9_./*-]*' | sed 's/[.]$//' | sort -u)
for p in $named; do
	case $p in
	"$prefix"/* | /usr/*) ;;
	/etc/fanguard | /etc/fanguard/conf.d) ;;
	*) continue ;;
	esac
	# a glob (conf.d/*.conf) names its directory
	[[ $p == *'*'* ]] && p=${p%/*}
	[ -e "$dest$p" ] || fail "named in a unit or manual: $p: not in the tree"
done

[ "$failed" = 0 ] && echo "ok: $(find "$dest" -type f | wc -l) files; units, manuals and $image consistent"
exit "$failed"
