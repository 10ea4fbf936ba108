#!/usr/bin/env bash
# Runs every libFuzzer target for a fixed time and fails on any crash, leak
# or sanitizer report (docs/fuzzing.md).
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# Configures a clang build in build-fuzz/ (STAGEKV_FUZZ=ON: the targets and
# the library sources they reach built with ASan, UBSan and fuzzer
# coverage; tests/fuzz/CMakeLists.txt), runs each target one at a time (one process,
# -workers=1 -jobs=1) on a scratch copy of its corpus for the given seconds
# (default 20), and prints the executions per target and in total. A crash
# input is left in build-fuzz/artifacts/<target>/; to keep it as a
# regression, copy it to tests/fuzz/regressions/<target>/.
# Environment: FUZZ_BUILD (build dir), FUZZ_MAX_LEN (-max_len, default 4096),
# FUZZ_ARGS (extra libFuzzer flags), FUZZ_KEEP=1 (keep and grow the scratch
# corpus in build-fuzz/work/<target> from one run to the next).
set -euo pipefail

secs=${1:-20}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
max_len=${FUZZ_MAX_LEN:-4096}
all_targets=(resp_parser resp_writer json util encoding config acl_rules import)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

command -v clang >/dev/null || { echo "fuzz.sh: clang is required" >&2; exit 1; }

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTAGEKV_FUZZ=ON -DSTAGEKV_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

total=0
failed=0
for t in "${targets[@]}"; do
  work=$build/work/$t
  art=$build/artifacts/$t
  [ "${FUZZ_KEEP:-0}" = 1 ] || rm -rf "$work"
  mkdir -p "$work" "$art"
  # a scratch corpus: the seeds and regressions, grown by this run only
  cp "$root/tests/fuzz/corpus/$t/"* "$work/" 2>/dev/null || true
  cp "$root/tests/fuzz/regressions/$t/"* "$work/" 2>/dev/null || true
  extra=()
  [ "$t" = config ] && extra+=(-close_fd_mask=2) # its error messages go to stderr
  log=$build/fuzz-$t.log
  rc=0
  # (from $build: libFuzzer's -jobs writes its fuzz-N.log to the working directory)
  (cd "$build" && "$build/tests/fuzz/fuzz_$t" "$work" -max_total_time="$secs" -max_len="$max_len" \
    -workers=1 -jobs=1 -print_final_stats=1 -artifact_prefix="$art/" -timeout=10 \
    -rss_limit_mb=2048 "${extra[@]}" ${FUZZ_ARGS:-}) >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log"; then
    failed=$((failed + 1))
    printf '%-12s FAILED (exit %s) after %s execs: see %s\n' "$t" "$rc" "$execs" "$log"
    grep -E 'ERROR:|runtime error:|invariant failed|SUMMARY:|Test unit written' "$log" | head -5 | sed 's/^/    /'
  else
    printf '%-12s %12s execs %8s exec/s\n' "$t" "$execs" "${rate:-?}"
  fi
done
printf '%-12s %12s execs in %d targets, %d failed\n' total "$total" "${#targets[@]}" "$failed"
[ "$failed" -eq 0 ]
