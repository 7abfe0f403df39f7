#!/usr/bin/env python3
"""
tests/layering.py - holds every folder to the "May use:" line of its README
(the layout table of ARCHITECTURE.md). Run through tests/layering.sh.

1. Includes: every #include "..." of every .c/.h in the rooms is resolved the
   way the compiler does (the including file's folder, then -Isrc, then -I.);
   a file of a room the including room may not use fails the check.
2. Calls: from `nm` on the objects (defined T symbols against undefined U
   ones), every pair of .c files that call each other; a pair with more than
   one function called in each direction is a wide circle and fails
   (STYLE.md: a circle is fine when it is one function wide).
Exceptions live in tests/layering.allow, one commented line each.

Usage: layering.py [--root DIR] [--objdir DIR | --nm FILE]
  --root   the tree to check (default: .)
  --objdir where the objects are (default: ROOT/build/san); skipped if absent
  --nm     read an `nm -A` listing from FILE instead of running nm
"""
import argparse
import os
import re
import subprocess
import sys

# Rooms, deepest first wins: src/base/ is not src/. Each has a README with
# exactly one "May use:" line; src/README.md holds three, one per section.
ROOMS = ["src/base/", "src/service/", "src/cli/", "src/", "rules/", "osdep/",
         "tap/", "controller/", "ext/", "tests/"]
READMES = ["src/README.md", "src/base/README.md", "rules/README.md",
           "osdep/README.md", "tap/README.md", "controller/README.md",
           "ext/README.md", "tests/README.md"]
# Folders whose sources are checked (tests/ may use everything: only that its
# includes resolve is checked there).
SCANNED = ROOMS


def room_of(path):
    """The deepest room holding path (relative, '/'-separated), or None."""
    best = None
    for r in ROOMS:
        if path.startswith(r) and (best is None or len(r) > len(best)):
            best = r
    return best


class Check:
    def __init__(self):
        self.failures = []

    def fail(self, msg):
        self.failures.append(msg)
        print("FAIL: " + msg)


# ---- "May use:" lines ----

MAY_USE = re.compile(r"^May use:\s*(.*)$")
HEADING_FOLDER = re.compile(r"^#+ .*`([a-z_/]+/)`")


def parse_may_use(text):
    """'src/base/, rules/; OpenSSL ...' -> ['src/base/', 'rules/'] or None."""
    folders = text.split(";", 1)[0].strip().rstrip(".")
    if folders == "none":
        return []
    out = []
    for tok in folders.split(","):
        tok = tok.strip().strip("`")
        if not tok.endswith("/") or tok not in ROOMS:
            return None
        out.append(tok)
    return out


def read_may_use(root, chk):
    allowed = {}
    for readme in READMES:
        home = os.path.dirname(readme) + "/"
        room = home
        try:
            lines = open(os.path.join(root, readme), encoding="utf-8").read().splitlines()
        except OSError:
            chk.fail(f"{readme}: missing")
            continue
        for n, line in enumerate(lines, 1):
            h = HEADING_FOLDER.match(line)
            if line.startswith("#"):
                # A section heading naming a subfolder (`src/service/`) makes
                # the May use lines below it that subfolder's.
                room = h.group(1) if h and h.group(1).startswith(home) else home
                continue
            m = MAY_USE.match(line)
            if not m:
                continue
            folders = parse_may_use(m.group(1))
            if folders is None:
                chk.fail(f"{readme}:{n}: cannot read the May use line (want 'May use: a/, b/; libraries'): {line}")
            elif room in allowed:
                chk.fail(f"{readme}:{n}: a second May use line for {room}")
            else:
                allowed[room] = set(folders)
    for r in ROOMS:
        if r not in allowed:
            chk.fail(f"no 'May use:' line for {r}")
    return allowed


# ---- allow-list ----

def read_allow(path, chk):
    """include ROOM_OR_FILE TARGET  /  call CALLER_FILE CALLEE_FILE SYMBOL."""
    inc, call = set(), set()
    if not os.path.exists(path):
        return inc, call
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        if line[0] == "include" and len(line) == 3:
            inc.add((line[1], line[2]))
        elif line[0] == "call" and len(line) == 4:
            call.add((line[1], line[2], line[3]))
        else:
            chk.fail(f"{path}:{n}: cannot read this allow-list line")
    return inc, call


# ---- includes ----

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources(root):
    for top in sorted(set(r.split("/")[0] for r in SCANNED)):
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs.sort()
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")


def resolve(root, src, name):
    for base in (os.path.dirname(src), "src", "."):
        cand = os.path.normpath(os.path.join(base, name)).replace(os.sep, "/")
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def check_includes(root, allowed, allow_inc, chk):
    count = 0
    for src in sources(root):
        room = room_of(src)
        if room is None or room not in allowed:
            continue
        for n, line in enumerate(open(os.path.join(root, src), encoding="utf-8", errors="replace"), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            count += 1
            target = resolve(root, src, m.group(1))
            if target is None:
                chk.fail(f'{src}:{n}: #include "{m.group(1)}" names no file (searched {os.path.dirname(src)}/, src/, .)')
                continue
            troom = room_of(target)
            if troom == room or troom in allowed[room] or room == "tests/":
                continue
            if (room, target) in allow_inc or (src, target) in allow_inc:
                print(f"allowed: {src}:{n}: {room} -> {target} (tests/layering.allow)")
                continue
            chk.fail(f'{src}:{n}: #include "{m.group(1)}" is {target}, in {troom}; '
                     f'{room} may use only {", ".join(sorted(allowed[room])) or "nothing of ours"}')
    print(f"includes: {count} checked")


# ---- call circles ----

def nm_listing(root, objdir):
    objs = []
    for d, dirs, files in os.walk(objdir):
        # Test objects come and go (make deletes them as intermediates) and
        # tests/ may use everything: only the product's rooms are judged.
        if os.path.relpath(d, objdir) == ".":
            dirs[:] = [x for x in dirs if x != "tests"]
        dirs.sort()
        objs += [os.path.join(d, f) for f in sorted(files) if f.endswith(".o")]
    if not objs:
        return None
    return subprocess.run(["nm", "-A"] + objs, check=True, capture_output=True, text=True).stdout


def source_of(obj, objdir):
    """build/san/src/node.o -> src/node.c (a fake listing names src/node.o)."""
    rel = os.path.relpath(obj, objdir) if objdir else obj
    return re.sub(r"\.o$", ".c", rel.replace(os.sep, "/"))


def parse_nm(text, objdir):
    """nm -A lines 'file.o:addr T sym' / 'file.o:   U sym' -> defs, uses."""
    defs, uses = {}, {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        obj, rest = line.split(":", 1)
        f = rest.split()
        if len(f) < 2:
            continue
        typ, sym = f[-2], f[-1]
        src = source_of(obj, objdir)
        if typ == "T":
            defs.setdefault(sym, set()).add(src)
        elif typ == "U":
            uses.setdefault(src, set()).add(sym)
    return defs, uses


def check_calls(defs, uses, allow_call, chk):
    calls = {}  # (caller, callee) -> functions
    for caller, syms in uses.items():
        for sym in syms:
            where = defs.get(sym, set())
            if len(where) != 1:   # libc, sanitizers, or main/test names defined twice
                continue
            callee = next(iter(where))
            if callee != caller:
                calls.setdefault((caller, callee), set()).add(sym)
    pairs = sorted((a, b) for (a, b) in calls if a < b and (b, a) in calls)
    wide = 0
    for a, b in pairs:
        ab = {s for s in calls[(a, b)] if (a, b, s) not in allow_call}
        ba = {s for s in calls[(b, a)] if (b, a, s) not in allow_call}
        listed = [s for s in calls[(a, b)] | calls[(b, a)] if (a, b, s) in allow_call or (b, a, s) in allow_call]
        desc = (f"{a} -> {b}: {', '.join(sorted(calls[(a, b)]))}; "
                f"{b} -> {a}: {', '.join(sorted(calls[(b, a)]))}")
        note = f" (allow-listed: {', '.join(sorted(listed))})" if listed else ""
        if len(ab) > 1 and len(ba) > 1:
            wide += 1
            chk.fail(f"wide call circle {a} <-> {b}, {len(ab)} and {len(ba)} functions{note}: {desc}")
        else:
            print(f"narrow circle (one function wide, fine){note}: {desc}")
    print(f"calls: {len(calls)} file-to-file edges, {len(pairs)} circles of two files, {wide} wide")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=".")
    ap.add_argument("--objdir")
    ap.add_argument("--nm")
    a = ap.parse_args()
    root = a.root
    chk = Check()
    allowed = read_may_use(root, chk)
    for r in ROOMS:
        if r in allowed:
            print(f"room {r} may use: {', '.join(sorted(allowed[r])) or 'nothing of ours'}")
    allow_inc, allow_call = read_allow(os.path.join(root, "tests/layering.allow"), chk)
    check_includes(root, allowed, allow_inc, chk)

    objdir = a.objdir or os.path.join(root, "build/san")
    if a.nm:
        text = open(a.nm, encoding="utf-8").read()
    elif os.path.isdir(objdir):
        text = nm_listing(root, objdir)
    else:
        text = None
    if text is None:
        print(f"calls: no objects in {objdir} (run make san first): call circles not checked")
    else:
        defs, uses = parse_nm(text, None if a.nm else objdir)
        check_calls(defs, uses, allow_call, chk)

    if chk.failures:
        print(f"layering: FAIL ({len(chk.failures)} problems)")
        return 1
    print("layering: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
