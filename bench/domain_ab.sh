#!/usr/bin/env bash
# bench/domain.sh for two stagekv builds, interleaved: before/after a change
# to the domain commands, measured side by side in the same minutes.
#
#   bench/domain_ab.sh OLD_BIN [NEW_BIN]
#
# Round 1 runs A (OLD_BIN) then B (NEW_BIN, default build/stagekv-server),
# round 2 B then A, and so on, each run a whole bench/domain.sh (its own
# fresh server). Prints the table of bench/domain_stats.py: per command the
# median requests/s of both with the per-round range of B/A, each one's
# ratio to SET, and the median server time per call with its ratio. The
# server time (INFO commandstats) is the steadier figure on a busy host.
#
# Environment (defaults in brackets); N, KEYSPACE, TIMEOUT go to domain.sh:
#   ROUNDS   rounds (runs per build)           [3]
#   OUT      keep the runs' tables in this dir [a temporary one]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
case "${1:-}" in
  -h|--help|"") sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; [ -n "${1:-}" ]; exit $? ;;
esac
A_BIN=$1
B_BIN=${2:-$REPO/build/stagekv-server}
ROUNDS=${ROUNDS:-3}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 2; }
for b in "$A_BIN" "$B_BIN"; do [ -x "$b" ] || { echo "no executable $b" >&2; exit 2; }; done
if [ -n "${OUT:-}" ]; then mkdir -p "$OUT"; DIR=$OUT; else DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT; fi

for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for side in $order; do
    bin=$A_BIN
    [ "$side" = B ] && bin=$B_BIN
    printf '[domain_ab %s] round %d/%d: %s (%s)\n' "$(date +%H:%M:%S)" "$r" "$ROUNDS" "$side" "$bin" >&2
    SERVER_BIN=$bin bash "$HERE/domain.sh" >"$DIR/$side.$r.md"
  done
done
python3 "$HERE/domain_stats.py" table "$DIR" "$A_BIN" "$B_BIN"
