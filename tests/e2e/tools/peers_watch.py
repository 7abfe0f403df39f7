#!/usr/bin/env python3
"""peers_watch.py - sample `zt-cli -j peers` of several lab nodes at a fixed
rate, for a bounded time, and judge their paths (issue 12's path tests).

  peers_watch.py --zt-cli BIN --every S --for S --overlay CIDR --roots EP[,EP]
                 NS:HOME[:PEER] ...

Each tick runs zt-cli in every node's namespace at once (ip netns exec NS
BIN -H HOME -j peers). Per node and tick it prints one line
  sample T_MS NS link=LINK bad=N [what...]
where LINK is the link to PEER (if given; NONE when not listed) and bad counts
paths inside the overlay CIDR (to any peer) or at a root's endpoint for a leaf
peer. Ends with
  summary samples=N failed_reads=F links=LINK:N,... bad_samples=B first_bad_ms=T
"""
import argparse
import ipaddress
import json
import subprocess
import sys
import time


def judge(peers, net, roots, want):
    link, bad = None, []
    for p in peers:
        if want and p.get("address") == want:
            link = p.get("link")
        for q in p.get("paths") or []:
            ep = q.get("address") or ""
            try:
                inside = ipaddress.ip_address(ep.rsplit("/", 1)[0]) in net
            except ValueError:
                inside = False
            if inside:
                bad.append("%s:%s-in-overlay" % (p["address"], ep))
            elif ep in roots and p.get("role") != "ROOT":
                bad.append("%s:%s-is-a-root" % (p["address"], ep))
    return (link or "NONE") if want else "-", bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zt-cli", required=True)
    ap.add_argument("--every", type=float, default=0.5)
    ap.add_argument("--for", dest="duration", type=float, default=15)
    ap.add_argument("--overlay", required=True)
    ap.add_argument("--roots", default="")
    ap.add_argument("nodes", nargs="+")
    a = ap.parse_args()
    net = ipaddress.ip_network(a.overlay)
    roots = set(x for x in a.roots.split(",") if x)
    specs = [n.split(":") + [""] * (3 - len(n.split(":"))) for n in a.nodes]
    t0 = time.monotonic()
    samples = failed = bad_samples = 0
    links = {}
    first_bad = None
    tick = 0
    while time.monotonic() - t0 < a.duration:
        procs = [subprocess.Popen(["ip", "netns", "exec", ns, a.zt_cli, "-H", home, "-j", "peers"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) for ns, home, _ in specs]
        t_ms = int((time.monotonic() - t0) * 1000)
        for (ns, home, want), pr in zip(specs, procs):
            try:
                out, _ = pr.communicate(timeout=5)
                peers = json.loads(out)
            except Exception:  # a slow or failed read is counted, not judged
                pr.kill()
                failed += 1
                continue
            link, bad = judge(peers, net, roots, want)
            samples += 1
            links[link] = links.get(link, 0) + 1
            if bad:
                bad_samples += 1
                if first_bad is None:
                    first_bad = t_ms
            print("sample %d %s link=%s bad=%d %s" % (t_ms, ns, link, len(bad), " ".join(sorted(set(bad)))), flush=True)
        tick += 1
        nxt = t0 + tick * a.every
        now = time.monotonic()
        if nxt > now:
            time.sleep(nxt - now)
    print("summary samples=%d failed_reads=%d links=%s bad_samples=%d first_bad_ms=%s" % (
        samples, failed, ",".join("%s:%d" % kv for kv in sorted(links.items())) or "-", bad_samples,
        "-" if first_bad is None else first_bad), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
