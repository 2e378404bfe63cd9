#!/usr/bin/env bash
# Runs every test twice: in the normal build (build/) and in an
# AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/), then
# the portability and packaging builds and the fuzzers. Every build here
# treats warnings as errors (FG_WERROR).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -B build -DFG_WERROR=ON >/dev/null
cmake --build build -j2
ctest --test-dir build --output-on-failure
cmake -B build-asan -DFG_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DFG_WERROR=ON >/dev/null
cmake --build build-asan -j2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure
# Portability and packaging (issue 18), about a minute. FG_PORTABILITY=0
# skips it.
#  - The config tests against upstream inih (r58 or later; Debian's source
#    package's orig tarball, without Debian's patches) in place of Debian's.
#  - A build with Fedora's compiler flags, and its unit tests, and the
#    checks of the built binaries' hardening and of the install tree.
#  - The RPM spec: it parses, and rpmbuild builds, checks and packs it.
if [ "${FG_PORTABILITY:-1}" != 0 ]; then
	inih=$(tests/upstream-inih.sh build-upstream-inih/inih)
	cmake -B build-upstream-inih -DFG_INIH_SOURCE="$inih" -DFG_WERROR=ON >/dev/null
	cmake --build build-upstream-inih -j2 --target test_config
	ctest --test-dir build-upstream-inih -R '^unit\.test_config$' --output-on-failure
	fedora_cflags="-O2 -flto=auto -ffat-lto-objects -fexceptions -g -grecord-gcc-switches -pipe"
	fedora_cflags+=" -Wall -Werror=format-security -Wp,-D_FORTIFY_SOURCE=3 -Wp,-D_GLIBCXX_ASSERTIONS"
	fedora_cflags+=" -fstack-protector-strong -fstack-clash-protection -fcf-protection"
	cmake -B build-fedora -DCMAKE_C_FLAGS="$fedora_cflags" -DFG_WERROR=ON >/dev/null
	cmake --build build-fedora -j2
	ctest --test-dir build-fedora -R '^(unit|build)\.' --output-on-failure
	tests/rpm.sh build-rpm
fi
# libFuzzer harnesses (clang, ASan+UBSan), each for a bounded time over the
# checked-in seeds; new inputs and crashes stay in build-fuzz/fuzz/.
# FG_FUZZ_SECONDS=0 skips the stage.
if [ "${FG_FUZZ_SECONDS:-60}" != 0 ]; then
	CC=clang cmake -B build-fuzz -DFG_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug -DFG_WERROR=ON \
		-DFG_FUZZ_SECONDS="${FG_FUZZ_SECONDS:-60}" >/dev/null
	cmake --build build-fuzz -j2 --target fuzz_config fuzz_proc fuzz_json fuzz_bootc fuzz_sigpolicy
	ctest --test-dir build-fuzz -L fuzz --output-on-failure
fi
