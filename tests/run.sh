#!/usr/bin/env bash
# Runs every test twice: in the normal build (build/) and in an
# AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || { cmake -B build && cmake --build build -j2; }
cmake --build build -j2
ctest --test-dir build --output-on-failure
cmake -B build-asan -DFG_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure
# libFuzzer harnesses (clang, ASan+UBSan), each for a bounded time over the
# checked-in seeds; new inputs and crashes stay in build-fuzz/fuzz/.
# FG_FUZZ_SECONDS=0 skips the stage.
if [ "${FG_FUZZ_SECONDS:-60}" != 0 ]; then
	CC=clang cmake -B build-fuzz -DFG_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
		-DFG_FUZZ_SECONDS="${FG_FUZZ_SECONDS:-60}" >/dev/null
	cmake --build build-fuzz -j2 --target fuzz_config fuzz_proc fuzz_json
	ctest --test-dir build-fuzz -L fuzz --output-on-failure
fi
