#!/usr/bin/env python3
"""benchlib.py - parsing and reporting for tests/bench/bench.sh.

  benchlib.py iperf FILE           iperf3 -J output -> "bps bytes lost_percent retransmits"
                                   (receiver side; "- - - -" if the run failed)
  benchlib.py ping FILE            ping output -> "mean p99 min max received sent" (ms)
  benchlib.py report RESULTS MD    RESULTS: lines "system metric value"; META lines
                                   "meta key value..." -> prints the aligned table on
                                   stdout and writes the markdown report to MD
"""

import json
import math
import re
import sys


def cmd_iperf(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            j = json.load(f)
    except (OSError, ValueError):
        print("- - - -")
        return 0
    end = j.get("end") or {}
    if j.get("error") or not end:
        print("- - - -")
        return 0
    recv = end.get("sum_received") or end.get("sum") or {}
    sent = end.get("sum_sent") or {}
    bps = recv.get("bits_per_second")
    nbytes = recv.get("bytes")
    lost = recv.get("lost_percent", "-")
    retr = sent.get("retransmits", "-")
    if bps is None or nbytes is None:
        print("- - - -")
        return 0
    print("%.0f %d %s %s" % (bps, nbytes, lost, retr))
    return 0


def cmd_ping(path):
    times = []
    sent = recv = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.search(r"time=([\d.]+) ms", line)
            if m:
                times.append(float(m.group(1)))
            m = re.search(r"(\d+) packets transmitted, (\d+) received", line)
            if m:
                sent, recv = int(m.group(1)), int(m.group(2))
    if not times:
        print("- - - - %d %d" % (recv, sent))
        return 0
    times.sort()
    mean = sum(times) / len(times)
    p99 = times[max(0, math.ceil(0.99 * len(times)) - 1)]  # nearest rank
    print("%.4f %.4f %.4f %.4f %d %d" % (mean, p99, times[0], times[-1], recv, sent))
    return 0


# metric key, label, unit scale, format, better ("hi"/"lo")
ROWS = [
    ("tcp1_bps", "TCP, 1 stream (Gbit/s)", 1e-9, "%.2f", "hi"),
    ("tcp4_bps", "TCP, 4 streams (Gbit/s)", 1e-9, "%.2f", "hi"),
    ("udp_bps", "UDP full rate, received (Gbit/s)", 1e-9, "%.2f", "hi"),
    ("udp_loss", "UDP full rate, loss (%)", 1, "%.1f", "lo"),
    ("ping_mean", "ping RTT mean (ms)", 1, "%.3f", "lo"),
    ("ping_p99", "ping RTT p99 (ms)", 1, "%.3f", "lo"),
    ("cpu1_gb", "daemon CPU s/GB, TCP 1 stream", 1, "%.2f", "lo"),
    ("cpu4_gb", "daemon CPU s/GB, TCP 4 streams", 1, "%.2f", "lo"),
    ("rss_a", "daemon peak RSS, side A (MiB)", 1 / 1024.0, "%.1f", "lo"),
    ("rss_b", "daemon peak RSS, side B (MiB)", 1 / 1024.0, "%.1f", "lo"),
]
SYSTEMS = ["underlay", "zt", "tinc"]


def num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def cmd_report(results, md):
    vals = {}
    meta = []
    with open(results, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) < 3:
                continue
            if parts[0] == "meta":
                meta.append((parts[1], parts[2]))
            else:
                vals[(parts[0], parts[1])] = parts[2]
    header = ["metric"] + SYSTEMS + ["zt/tinc", "zt/underlay"]
    table = []
    for key, label, scale, fmt, _better in ROWS:
        row = [label]
        xs = {}
        for s in SYSTEMS:
            x = num(vals.get((s, key)))
            xs[s] = x
            row.append(fmt % (x * scale) if x is not None else "-")
        for other in ("tinc", "underlay"):
            a, b = xs["zt"], xs[other]
            row.append("%.2f" % (a / b) if a is not None and b not in (None, 0) else "-")
        table.append(row)
    widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]

    def line(r):
        return "  ".join(r[0].ljust(widths[0]) if i == 0 else r[i].rjust(widths[i]) for i in range(len(r)))

    out = [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in table]
    print("\n".join(out))
    with open(md, "w", encoding="utf-8") as f:
        f.write("# zt benchmark: zt vs tinc vs the plain underlay\n\n")
        for k, v in meta:
            f.write("- **%s**: %s\n" % (k.replace("_", " "), v))
        f.write("\n| " + " | ".join(header) + " |\n")
        f.write("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|\n")
        for r in table:
            f.write("| " + " | ".join(r) + " |\n")
        f.write("\nRatios are zt divided by the other column: above 1 is better for zt on "
                "throughput, below 1 is better for zt on loss, latency, CPU and memory. "
                "Numbers are measured once and reported, not asserted.\n")
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "iperf":
        return cmd_iperf(argv[2])
    if len(argv) >= 3 and argv[1] == "ping":
        return cmd_ping(argv[2])
    if len(argv) >= 4 and argv[1] == "report":
        return cmd_report(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
