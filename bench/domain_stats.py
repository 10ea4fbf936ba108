#!/usr/bin/env python3
"""Statistics for bench/domain_ab.sh.

  domain_stats.py table DIR LABEL_A LABEL_B

DIR holds A.<round>.md and B.<round>.md, the tables of bench/domain.sh
(| command | requests/s | ratio to SET | usec/call | ratio to SET |), one per
run. Prints per command the median requests/s of A and B, their ratio B/A
with the range of the per-round ratios (A and B of one round ran next to
each other), the median ratio to SET of each (the issue's measure), and the
median server time per call of each with its ratio B/A. Then the geometric
mean of the B/A time ratios over every command but SET. Standard library
only.
"""
import glob
import math
import os
import statistics
import sys


def load(directory, side):
    """{round: {command: (rps, ratio_to_set, usec)}} of one side's runs."""
    runs = {}
    for path in glob.glob(os.path.join(directory, side + ".*.md")):
        rnd = int(path.rsplit(".", 2)[-2])
        rows = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) < 5 or cells[0] == "command" or cells[0].startswith("---"):
                    continue
                rows[cells[0]] = (float(cells[1]), float(cells[2]), float(cells[3]))
        if rows:
            runs[rnd] = rows
    return runs


def table(directory, label_a, label_b):
    a, b = load(directory, "A"), load(directory, "B")
    rounds = sorted(set(a) & set(b))
    if not rounds:
        sys.exit("domain_stats.py: no round with both A and B tables in %s" % directory)
    order = list(a[rounds[0]])
    print("# %s (A) vs %s (B), %d interleaved rounds of bench/domain.sh; medians" % (label_a, label_b, len(rounds)))
    print("| command | A rps | B rps | B / A | per-round B / A | A of SET | B of SET | A µs/call | B µs/call | B / A |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    logs = []
    for cmd in order:
        ra = [a[r][cmd] for r in rounds if cmd in a[r]]
        rb = [b[r][cmd] for r in rounds if cmd in b[r]]
        if not ra or not rb:
            continue
        per = [b[r][cmd][0] / a[r][cmd][0] for r in rounds if cmd in a[r] and cmd in b[r] and a[r][cmd][0] > 0]
        rps_a, rps_b = (statistics.median(x[0] for x in v) for v in (ra, rb))
        set_a, set_b = (statistics.median(x[1] for x in v) for v in (ra, rb))
        us_a, us_b = (statistics.median(x[2] for x in v) for v in (ra, rb))
        us_ratio = us_b / us_a if us_a > 0 else float("nan")
        if not cmd.startswith("SET") and us_a > 0 and us_b > 0:
            logs.append(math.log(us_ratio))
        print("| %s | %.0f | %.0f | %.2f | %.2f-%.2f | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
            cmd, rps_a, rps_b, rps_b / rps_a, min(per), max(per), set_a, set_b, us_a, us_b, us_ratio))
    if logs:
        print("geometric mean of the B / A server time per call (%d commands, SET excluded): %.3f"
              % (len(logs), math.exp(sum(logs) / len(logs))))


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "table":
        sys.exit(__doc__)
    table(sys.argv[2], sys.argv[3], sys.argv[4])
