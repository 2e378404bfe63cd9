#!/usr/bin/env bash
# Checks the built executables for the hardening the build asks for
# (cmake/hardening.cmake), the way checksec would: PIE, full RELRO (a
# GNU_RELRO segment and BIND_NOW), a non-executable stack, the stack
# protector, and _FORTIFY_SOURCE's checked functions when it is expected.
# -fstack-clash-protection leaves no mark in the ELF file to test for.
#
# usage: tests/hardening.sh EXPECT_FORTIFY(ON|OFF) EXECUTABLE...
set -uo pipefail
expect_fortify=$1
shift
failed=0

fail() {
	echo "FAIL: $1: $2"
	failed=1
}

for exe in "$@"; do
	name=${exe##*/}
	header=$(readelf -hW "$exe") || { fail "$name" "readelf -h failed"; continue; }
	segments=$(readelf -lW "$exe")
	dynamic=$(readelf -dW "$exe")
	symbols=$(readelf --dyn-syms -W "$exe")

	grep -Eq 'Type: +DYN ' <<<"$header" || fail "$name" "not PIE: $(grep 'Type:' <<<"$header")"
	grep -q 'GNU_RELRO' <<<"$segments" || fail "$name" "no GNU_RELRO segment"
	grep -Eq '\(FLAGS\) +.*BIND_NOW|\(FLAGS_1\) +Flags:.* NOW' <<<"$dynamic" ||
		fail "$name" "no BIND_NOW (partial RELRO only)"
	grep -E 'GNU_STACK' <<<"$segments" | grep -Eq ' RW +0x' ||
		fail "$name" "stack not RW only: $(grep GNU_STACK <<<"$segments")"
	grep -q ' __stack_chk_fail' <<<"$symbols" || fail "$name" "no __stack_chk_fail: no stack protector"
	chk=$(grep -Ec ' __[a-z_]+_chk(@|$)' <<<"$symbols")
	if [ "$expect_fortify" = ON ] && [ "$chk" -eq 0 ]; then
		fail "$name" "no __*_chk functions: _FORTIFY_SOURCE is not in effect"
	fi
	[ "$failed" = 1 ] || echo "ok: $name: PIE, full RELRO, NX stack, stack protector, $chk fortified calls"
done
exit "$failed"
