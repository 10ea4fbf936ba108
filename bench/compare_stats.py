#!/usr/bin/env python3
"""Statistics for bench/compare.sh.

Two sub-commands, standard library only:

  compare_stats.py parse ROUND SERVER PIPELINE < redis-benchmark --csv output
      Prints one tab-separated line per test: ROUND SERVER PIPELINE TEST RPS.
      The test name is the first word of redis-benchmark's, lower-cased
      ("MSET (10 keys)" -> "mset").

  compare_stats.py table RAW_FILE LABEL_A LABEL_B [MARKDOWN_OUT]
      Reads the lines written by `parse` and prints, per test and pipeline
      depth, the median rps of A, the median rps of B, their ratio A/B, the
      range of the per-round ratios (A and B of the same round ran next to
      each other, so that range shows the noise), then the geometric mean of
      the ratios. With MARKDOWN_OUT, writes the same table there as Markdown.
"""
import csv
import math
import statistics
import sys


def parse(round_no, server, pipeline):
    reader = csv.reader(sys.stdin)
    for row in reader:
        if len(row) < 2 or row[0] == "test":
            continue
        try:
            rps = float(row[1])
        except ValueError:
            continue
        if "(needed" in row[0]:
            continue  # LRANGE's fill-up ("LPUSH (needed to benchmark LRANGE)") is no LPUSH row
        test = row[0].split()[0].lower()
        print(f"{round_no}\t{server}\t{pipeline}\t{test}\t{rps:.2f}")


TEST_ORDER = ["ping_inline", "ping_mbulk", "set", "get", "incr", "lpush", "rpush",
              "lpop", "rpop", "sadd", "hset", "spop", "zadd", "zpopmin", "lrange_100",
              "lrange_300", "lrange_500", "lrange_600", "mset"]


def load(path):
    # data[(test, pipeline)][server][round] = rps
    data = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5:
                continue
            rnd, server, pipeline, test, rps = parts
            data.setdefault((test, int(pipeline)), {}).setdefault(server, {})[int(rnd)] = float(rps)
    return data


def order_key(item):
    test, pipeline = item
    idx = TEST_ORDER.index(test) if test in TEST_ORDER else len(TEST_ORDER)
    return (pipeline, idx, test)


def table(path, label_a, label_b, md_out=None):
    data = load(path)
    rows = []
    for key in sorted(data, key=order_key):
        a, b = data[key].get(label_a, {}), data[key].get(label_b, {})
        if not a or not b:
            continue
        med_a = statistics.median(a.values())
        med_b = statistics.median(b.values())
        ratio = med_a / med_b if med_b > 0 else float("nan")
        paired = [a[r] / b[r] for r in a if r in b and b[r] > 0]
        rows.append({
            "test": key[0], "pipeline": key[1], "n": min(len(a), len(b)),
            "a": med_a, "b": med_b, "ratio": ratio,
            "lo": min(paired) if paired else float("nan"),
            "hi": max(paired) if paired else float("nan"),
        })
    good = [r["ratio"] for r in rows if r["ratio"] > 0 and math.isfinite(r["ratio"])]
    geo = math.exp(sum(math.log(x) for x in good) / len(good)) if good else float("nan")

    head = ["test", "pipeline", f"{label_a} rps", f"{label_b} rps",
            f"ratio {label_a}/{label_b}", "per-round ratio range", "runs"]
    body = [[r["test"].upper(), f"-P {r['pipeline']}", f"{r['a']:,.0f}", f"{r['b']:,.0f}",
             f"{r['ratio']:.3f}", f"{r['lo']:.2f}-{r['hi']:.2f}", str(r["n"])] for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h)
              for i, h in enumerate(head)]

    def line(cells):
        return "  ".join(c.rjust(w) if i >= 2 else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for row in body:
        print(line(row))
    print(f"geometric mean of the ratios ({len(good)} rows): {geo:.3f}")

    if md_out:
        with open(md_out, "w") as f:
            f.write("| " + " | ".join(head) + " |\n")
            f.write("|" + "|".join(["---", "---"] + ["---:"] * (len(head) - 2)) + "|\n")
            for row in body:
                f.write("| " + " | ".join(row) + " |\n")
            f.write(f"\nGeometric mean of the ratios ({len(good)} rows): **{geo:.3f}**\n")
    return 0 if rows else 1


def main(argv):
    if len(argv) >= 5 and argv[1] == "parse":
        parse(argv[2], argv[3], argv[4])
        return 0
    if len(argv) in (5, 6) and argv[1] == "table":
        return table(argv[2], argv[3], argv[4], argv[5] if len(argv) == 6 else None)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
