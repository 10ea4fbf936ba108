#!/usr/bin/env bash
# Soak: mixed Redis and domain traffic for a while (default 10 minutes),
# sampling the server's RSS; fails when a request fails or the RSS leaves
# ±10 % of its level at the end of the warm-up (the first 20 %).
#   bench/soak.sh [seconds] [report-file]
# The driver is the e2e test tests/e2e/domain/test_soak.c (CI runs it for
# 24 s); this runs it longer on the normal build.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
report=${2:-$here/build/soak-report.txt}
make -C "$here" build >/dev/null
echo "soak: ${secs} s, report in $report"
STAGEKV_SOAK_SECONDS=$secs STAGEKV_SOAK_REPORT=$report \
    "$here/build/e2e_test_soak" --verbose --jobs 1
