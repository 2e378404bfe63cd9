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
