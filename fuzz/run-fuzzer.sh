#!/usr/bin/env bash
# Runs one libFuzzer harness for a bounded time without touching the
# checkout: new inputs go to WORK/corpus, crash inputs to WORK/crashes.
# Usage: run-fuzzer.sh FUZZER SEEDS WORK SECONDS [DICT]
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3 secs=$4 dict=${5:-}

rm -rf "$work/corpus"
mkdir -p "$work/corpus" "$work/crashes"
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
	-artifact_prefix="$work/crashes/")
[ -n "$dict" ] && [ -f "$dict" ] && args+=(-dict="$dict")
# The scratch corpus comes first: libFuzzer writes only into the first one.
exec "$fuzzer" "${args[@]}" "$work/corpus" "$seeds"
