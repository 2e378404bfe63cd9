#!/usr/bin/env bash
# Fetches upstream inih for the portability build (issue 18) and prints the
# directory with its ini.c and ini.h. The source is Debian's source package
# of libinih from trixie (r59): its .orig tarball is upstream's release as
# published, and only that tarball is unpacked, so none of Debian's patches
# (which add ini_allow_multiline and the other runtime knobs) is in it.
#
# apt works on a private state under DIR (its own deb-src list and package
# lists), so the machine's apt configuration is neither needed nor changed.
# apt checks the downloaded files against the signed Sources index.
#
# usage: tests/upstream-inih.sh DIR
set -euo pipefail
dir=$(realpath -m "$1")
suite=trixie
min_release=58

unpacked() { find "$dir" -maxdepth 2 -path "$dir/inih-r*/ini.c" -printf '%h\n' 2>/dev/null | sort | tail -1; }

if [ -z "$(unpacked)" ]; then
	mkdir -p "$dir/lists/partial" "$dir/download"
	# The mirror this machine's own apt uses, for the same archive.
	uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
	cat > "$dir/src.sources" <<-EOF
		Types: deb-src
		URIs: ${uri:-http://deb.debian.org/debian}
		Suites: $suite
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	# apt downloads as _apt where it can write.
	if id _apt >/dev/null 2>&1; then chown -R _apt "$dir/lists" "$dir/download"; fi
	apt=(-q -o "Dir::Etc::SourceList=$dir/src.sources" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$dir/lists")
	apt-get "${apt[@]}" update >&2
	(cd "$dir/download" && apt-get "${apt[@]}" source --download-only "libinih/$suite" >&2)
	orig=$(find "$dir/download" -name 'libinih_*.orig.tar.*' | head -1)
	[ -n "$orig" ] || { echo "upstream-inih: no orig tarball in $dir/download" >&2; exit 1; }
	echo "upstream-inih: unpacking ${orig##*/} only, sha256 $(sha256sum <"$orig" | cut -d' ' -f1)" >&2
	tar -xf "$orig" -C "$dir"
fi
src=$(unpacked)
[ -n "$src" ] || { echo "upstream-inih: nothing unpacked in $dir" >&2; exit 1; }
release=${src##*/inih-r}
if [ "$release" -lt "$min_release" ]; then
	echo "upstream-inih: $src is r$release, older than r$min_release" >&2
	exit 1
fi
# Upstream's own header: Debian's patches would declare the runtime knobs.
if grep -q 'ini_allow_multiline' "$src/ini.h" "$src/ini.c"; then
	echo "upstream-inih: $src carries Debian's runtime-options patch" >&2
	exit 1
fi
grep -q '^#define INI_ALLOW_MULTILINE 1' "$src/ini.h" || {
	echo "upstream-inih: $src/ini.h does not default to multi-line values" >&2
	exit 1
}
echo "$src"
