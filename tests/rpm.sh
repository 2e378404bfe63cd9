#!/usr/bin/env bash
# The RPM spec (issue 18), with Debian's rpm: it parses; with stand-ins for
# the Fedora macros it uses (tests/rpm/macros.fedora-stand-in) it expands
# completely, and rpmbuild builds it from the working tree with Fedora's
# compiler flags, runs its %check, and packs exactly the installed tree.
# The package is then read back: its file list (less the build-id links
# rpm adds), that nothing is %config,
# its systemd scriptlets, and the hardening of the packed binaries.
# --nodeps: the BuildRequires name Fedora packages, which Debian's rpm
# database does not know; Debian's -dev packages provide the same.
#
# usage: tests/rpm.sh WORKDIR
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(realpath -m "$1")
spec=packaging/fanguard.spec
macros=tests/rpm/macros.fedora-stand-in
rpmargs=(--load "$macros" --define "_topdir $work")

fail() {
	echo "FAIL: $*"
	exit 1
}

rpmspec -P "$spec" >/dev/null || fail "rpmspec -P $spec"
expanded=$(rpmspec "${rpmargs[@]}" -P "$spec")
left=$(grep -nE '%(cmake|ctest|systemd_|\{?_unitdir|\{?optflags)' <<<"$expanded" | grep -v '^[0-9]*:#') &&
	fail "macros left unexpanded: $left"

version=$(rpmspec "${rpmargs[@]}" -q --srpm --qf '%{version}' "$spec")
cmake_version=$(sed -n 's/^project(fanguard VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ "$version" = "$cmake_version" ] || fail "spec Version $version, CMakeLists.txt $cmake_version"

# Source0 from the working tree as it is (tracked and new files, not what
# .gitignore leaves out, not what was deleted), laid out as git archive would.
rm -rf "$work"
mkdir -p "$work/SOURCES"
git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
	[ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - --transform "s|^|fanguard-$version/|" -czf "$work/SOURCES/fanguard-$version.tar.gz"

if ! rpmbuild "${rpmargs[@]}" -bb --nodeps "$spec" >"$work/rpmbuild.log" 2>&1; then
	tail -60 "$work/rpmbuild.log"
	fail "rpmbuild -bb (log: $work/rpmbuild.log)"
fi
grep -E '^[0-9]+% tests passed' "$work/rpmbuild.log" || fail "%check ran no tests"
pkg=$(find "$work/RPMS" -name "fanguard-$version-*.rpm")
[ -n "$pkg" ] || fail "no package in $work/RPMS"

want="/etc/fanguard
/etc/fanguard/conf.d
/usr/bin/fanguard
/usr/lib/fanguard
/usr/lib/fanguard/conf.d
/usr/lib/fanguard/fanguard.conf
/usr/lib/systemd/system/fanguard-deployments.service
/usr/lib/systemd/system/fanguard-deployments.timer
/usr/lib/systemd/system/fanguardd.service
/usr/sbin/fanguardd
/usr/share/doc/fanguard
/usr/share/doc/fanguard/README.md
/usr/share/doc/fanguard/SECURITY.md
/usr/share/doc/fanguard/events.md
/usr/share/doc/fanguard/internals.md
/usr/share/doc/fanguard/rsyslog-fanguard.conf
/usr/share/man/man5/fanguard.conf.5.gz
/usr/share/man/man8/fanguard.8.gz
/usr/share/man/man8/fanguardd.8.gz"
got=$(rpm -qlp "$pkg" | grep -v '^/usr/lib/.build-id' | sort)
want=$(echo "$want" | sort)
[ "$got" = "$want" ] || fail "file list differs: $(diff <(echo "$want") <(echo "$got"))"
[ -z "$(rpm -qcp "$pkg")" ] || fail "%config files: $(rpm -qcp "$pkg")"
scripts=$(rpm -qp --scripts "$pkg")
for s in systemd_post systemd_preun systemd_postun_with_restart; do
	grep -q "$s: .*fanguardd.service" <<<"$scripts" || fail "no $s scriptlet"
done

mkdir "$work/root"
rpm2archive - <"$pkg" | tar -xz -C "$work/root"
grep -qx 'ExecStart=/usr/sbin/fanguardd --foreground' \
	"$work/root/usr/lib/systemd/system/fanguardd.service" || fail "the unit's ExecStart"
bash tests/hardening.sh ON "$work/root/usr/sbin/fanguardd" "$work/root/usr/bin/fanguard"
echo "ok: ${pkg##*/}: $(wc -l <<<"$got") paths, nothing %config, scriptlets, hardened"
