#!/usr/bin/env python3
"""Flame graph (SVG) from folded stacks, for bench/profile.sh.

Input: folded stacks, one per line, "frame;frame;...;frame COUNT", root
first, as `perf script report stackcollapse` prints them. Output: one
self-contained SVG (no script): a frame's width is its share of the
samples, callers below their callees, each box with a <title> (name,
samples, share) that a browser shows on hover. Colours say whose code a
frame is: stagekv (blue), RocksDB (orange), the kernel (red), libc and
the other libraries (grey), so the split is visible at a glance.

Debian packages no flame graph renderer (linux-perf's `flamegraph` script
needs d3-flame-graph, which Debian does not ship either), hence this file.

    perf script -i perf.data report stackcollapse > set.folded
    bench/flamegraph.py --title "SET -P 16" set.folded > set.svg
    bench/flamegraph.py --summary set.folded      # shares by owner, text

With --summary it prints, instead of the SVG, each thread's share of the
samples, the share whose innermost frame belongs to each owner, and the
frames with the most self and total samples.
"""
import argparse
import html
import sys
import zlib

WIDTH = 1200
ROW = 16
PAD_TOP = 40
PAD_BOTTOM = 10
FONT = 11
CHAR_W = 6.6  # average advance of an 11 px sans-serif glyph, to fit labels
MIN_PX = 0.8  # narrower frames are not drawn (their width still counts)


# glibc's internal names that do not start with "__" (malloc's, the
# sort's, the locks'): perf's folded stacks carry no library names
LIBC_PREFIXES = ("_int_", "tcache_", "lll_", "msort", "malloc_", "unlink_chunk", "sysmalloc", "cfree",
                 "_IO_", "_dl_", "__", "pthread_", "arena_", "start_thread", "clone", "_start")
# libstdc++, libuv and jansson (its internal hashtable, strbuffer, utf8)
OTHER_LIB_PREFIXES = ("[", "std::", "operator new", "operator delete", "uv_", "json", "hashtable_",
                      "strbuffer_", "utf8_")
LIBC_NAMES = {"memcpy", "memmove", "memcmp", "memset", "malloc", "free", "realloc", "calloc", "qsort",
              "qsort_r", "read", "write", "writev", "readv", "epoll_wait", "syscall"}


def owner(name):
    """Whose code a frame is, by its symbol."""
    n = name
    if n.endswith("_[k]") or n.startswith("[kernel") or n.startswith("entry_SYSCALL"):
        return "kernel"
    if "rocksdb" in n or n.startswith("LZ4"):
        return "rocksdb"
    if n.startswith(LIBC_PREFIXES + OTHER_LIB_PREFIXES) or n.endswith("@plt") or n in LIBC_NAMES:
        return "library"
    return "stagekv"


def whose(name, caller):
    """owner(), except that a frame perf could not name ([unknown]: a static
    or inlined function of a stripped library) is its caller's."""
    return caller if name == "[unknown]" else owner(name)


COLOURS = {
    "stagekv": (70, 130, 200),
    "rocksdb": (230, 140, 40),
    "kernel": (210, 70, 60),
    "library": (150, 150, 150),
}


def colour(name, who):
    r, g, b = COLOURS[who]
    h = zlib.crc32(name.encode()) & 0xFF  # stable jitter so neighbours differ
    d = (h % 40) - 20
    return "rgb(%d,%d,%d)" % tuple(max(0, min(255, c + d)) for c in (r, g, b))


class Node:
    __slots__ = ("name", "total", "self_", "kids")

    def __init__(self, name):
        self.name = name
        self.total = 0
        self.self_ = 0
        self.kids = {}


def parse(lines):
    root = Node("all")
    bad = 0
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            bad += 1
            continue
        if n <= 0 or not stack:
            bad += 1
            continue
        node = root
        node.total += n
        for frame in stack.split(";"):
            kid = node.kids.get(frame)
            if kid is None:
                kid = node.kids[frame] = Node(frame)
            kid.total += n
            node = kid
        node.self_ += n
    if bad:
        print("flamegraph.py: %d malformed lines skipped" % bad, file=sys.stderr)
    return root


def depth(node):
    d, stack = 0, [(node, 0)]
    while stack:
        n, k = stack.pop()
        d = max(d, k)
        stack.extend((c, k + 1) for c in n.kids.values())
    return d


def svg(root, title, out):
    total = root.total
    rows = depth(root) + 1
    height = PAD_TOP + rows * ROW + PAD_BOTTOM
    scale = (WIDTH - 20) / total
    w = out.write
    w('<?xml version="1.0" standalone="no"?>\n')
    w('<svg version="1.1" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg" '
      'font-family="Verdana, sans-serif" font-size="%d">\n' % (WIDTH, height, FONT))
    w('<rect x="0" y="0" width="100%" height="100%" fill="#fdfdf8"/>\n')
    w('<text x="%d" y="20" font-size="15" text-anchor="middle">%s</text>\n'
      % (WIDTH // 2, html.escape(title)))
    legend = "  ".join("%s: %s" % (k, v) for k, v in
                       (("blue", "stagekv"), ("orange", "RocksDB"), ("red", "kernel"),
                        ("grey", "libc, libuv, jansson, C++ runtime")))
    w('<text x="10" y="34" font-size="10" fill="#555">%s; %d samples; width = share of '
      'samples, callers below</text>\n' % (html.escape(legend), total))
    # iterative, x in samples; the root row at the bottom
    stack = [(root, 0, 0, "library")]
    while stack:
        node, x, level, up = stack.pop()
        who = whose(node.name, up)
        wpx = node.total * scale
        if wpx < MIN_PX:
            continue
        px = 10 + x * scale
        py = height - PAD_BOTTOM - (level + 1) * ROW
        pct = 100.0 * node.total / total
        label = "%s (%d samples, %.2f%%)" % (node.name, node.total, pct)
        fill = "rgb(220,220,210)" if node is root else colour(node.name, who)
        w('<g><title>%s</title><rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" '
          'rx="1"/>' % (html.escape(label), px, py, wpx, ROW - 1, fill))
        fit = int((wpx - 4) / CHAR_W)
        if fit >= 3:
            text = node.name if len(node.name) <= fit else node.name[:fit - 2] + ".."
            w('<text x="%.1f" y="%d">%s</text>' % (px + 2, py + ROW - 4, html.escape(text)))
        w('</g>\n')
        cx = x
        for kid in sorted(node.kids.values(), key=lambda k: k.name):
            stack.append((kid, cx, level + 1, who))
            cx += kid.total
    w('</svg>\n')


# frames every stack of a thread passes through: no news in a "total" list
PLUMBING = {"[unknown]", "_start", "__libc_start_main_impl", "__libc_start_call_main", "main",
            "server_run", "uv_run", "start_thread", "clone3", "__clone3", "clone", "__clone"}


def summary(root, top, out):
    total = root.total
    by_owner, self_of, total_of = {}, {}, {}
    stack = [(root, (), 0, "library")]
    while stack:
        node, seen, level, up = stack.pop()
        who = whose(node.name, up)
        if node is not root:
            if node.self_:
                by_owner[who] = by_owner.get(who, 0) + node.self_
                self_of[node.name] = self_of.get(node.name, 0) + node.self_
            # recursion counts once per stack; a thread (level 1) is not a frame
            if level > 1 and node.name not in seen and node.name not in PLUMBING:
                total_of[node.name] = total_of.get(node.name, 0) + node.total
                seen = seen + (node.name,)
        stack.extend((k, seen, level + 1, who) for k in node.kids.values())
    out.write("samples: %d\n" % total)
    out.write("threads: %s\n" % ", ".join(
        "%s %.1f%%" % (k.name, 100.0 * k.total / total)
        for k in sorted(root.kids.values(), key=lambda k: -k.total)))
    out.write("innermost frame's owner: %s\n" % ", ".join(
        "%s %.1f%%" % (o, 100.0 * n / total)
        for o, n in sorted(by_owner.items(), key=lambda kv: -kv[1])))
    out.write("self:\n")
    for name, n in sorted(self_of.items(), key=lambda kv: -kv[1])[:top]:
        out.write("  %5.1f%%  %s\n" % (100.0 * n / total, name))
    out.write("total (with callees):\n")
    for name, n in sorted(total_of.items(), key=lambda kv: -kv[1])[:top]:
        out.write("  %5.1f%%  %s\n" % (100.0 * n / total, name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folded", nargs="?", help="folded stacks (default: standard input)")
    ap.add_argument("--title", default="flame graph")
    ap.add_argument("--summary", action="store_true", help="text shares instead of the SVG")
    ap.add_argument("--top", type=int, default=12, help="frames listed by --summary")
    a = ap.parse_args()
    src = open(a.folded, encoding="utf-8", errors="replace") if a.folded else sys.stdin
    with src:
        root = parse(src)
    if root.total == 0:
        print("flamegraph.py: no samples in the input", file=sys.stderr)
        return 1
    if a.summary:
        summary(root, a.top, sys.stdout)
    else:
        svg(root, a.title, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
