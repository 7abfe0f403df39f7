#!/bin/bash
# tests/layering_selftest.sh - a test of tests/layering.py itself: on a copy of
# the tree, a forbidden include, a wide call circle (a fabricated nm listing)
# and an unreadable "May use:" line must each fail the check, naming the file
# or symbols; a narrow circle and an allow-listed callback must not.
# Prints PASS or FAIL per case and exits non-zero on any FAIL.
cd "$(dirname "$0")/.." || exit 1
top=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

tar -C "$top" --exclude=./build --exclude=./.git -cf - . | tar -C "$tmp" -xf -
check() { python3 "$top/tests/layering.py" --root "$tmp" --nm "$tmp/nm.txt" >"$tmp/out" 2>&1; }
expect() { # expect WHAT RC PATTERN: the last run exited RC and printed PATTERN
	local what=$1 rc=$2 pattern=$3
	if [ "$got" = "$rc" ] && grep -qF -- "$pattern" "$tmp/out"; then
		echo "PASS: $what"
	else
		echo "FAIL: $what (exit $got, want $rc, and a line with: $pattern)"
		sed 's/^/   | /' "$tmp/out"
		failed=1
	fi
}
refute() { # refute WHAT PATTERN: the last run did not print PATTERN
	if grep -qF -- "$2" "$tmp/out"; then
		echo "FAIL: $1 (printed: $2)"; failed=1
	else
		echo "PASS: $1"
	fi
}

# An nm -A listing with no circle: the baseline names nothing injected below.
printf 'src/x.o:0000000000000000 T zt_x\nsrc/y.o:                 U zt_x\n' >"$tmp/nm.txt"
check; got=$?
refute "clean copy: no include of node.h from rules/" 'rules/verify.c:1: #include "node.h"'
refute "clean copy: no include of service/ztd.h from src/" 'src/replay.c:1: #include "service/ztd.h"'

# Forbidden includes: rules/ may use only src/base/; the core never the daemon.
sed -i '1i #include "node.h"' "$tmp/rules/verify.c"
sed -i '1i #include "service/ztd.h"' "$tmp/src/replay.c"
check; got=$?
expect "rules/ including node.h fails" 1 'rules/verify.c:1: #include "node.h" is src/node.h, in src/'
expect "src/ including service/ztd.h fails" 1 'src/replay.c:1: #include "service/ztd.h" is src/service/ztd.h, in src/service/'
cp "$top/rules/verify.c" "$tmp/rules/verify.c"
cp "$top/src/replay.c" "$tmp/src/replay.c"

# A wide circle (two functions each way), a narrow one (one function back),
# and a wide one made narrow by an allow-listed callback.
cat >"$tmp/nm.txt" <<'NM'
src/a.o:0000000000000000 T zt_a_one
src/a.o:0000000000000010 T zt_a_two
src/a.o:                 U zt_b_one
src/a.o:                 U zt_b_two
src/b.o:0000000000000000 T zt_b_one
src/b.o:0000000000000010 T zt_b_two
src/b.o:                 U zt_a_one
src/b.o:                 U zt_a_two
src/c.o:0000000000000000 T zt_c_one
src/c.o:0000000000000010 T zt_c_two
src/c.o:                 U zt_d_cb
src/d.o:0000000000000000 T zt_d_cb
src/d.o:                 U zt_c_one
src/d.o:                 U zt_c_two
src/e.o:0000000000000000 T zt_e_one
src/e.o:0000000000000010 T zt_e_two
src/e.o:                 U zt_f_cb
src/e.o:                 U zt_f_unref
src/f.o:0000000000000000 T zt_f_cb
src/f.o:0000000000000010 T zt_f_unref
src/f.o:                 U zt_e_one
src/f.o:                 U zt_e_two
NM
echo "call src/e.c src/f.c zt_f_cb  # selftest: a deliberate callback" >>"$tmp/tests/layering.allow"
check; got=$?
expect "a two-wide circle fails, naming files and symbols" 1 \
	'wide call circle src/a.c <-> src/b.c, 2 and 2 functions: src/a.c -> src/b.c: zt_b_one, zt_b_two; src/b.c -> src/a.c: zt_a_one, zt_a_two'
expect "a one-wide circle is reported as fine" 1 'narrow circle (one function wide, fine): src/c.c -> src/d.c: zt_d_cb'
refute "a one-wide circle does not fail" 'wide call circle src/c.c'
refute "an allow-listed callback narrows its circle" 'wide call circle src/e.c'
expect "the allow-listed callback is named" 1 '(allow-listed: zt_f_cb)'
cp "$top/tests/layering.allow" "$tmp/tests/layering.allow"

# A "May use:" line the script cannot read is a failure, not a silent pass.
sed -i 's|^May use: src/base/; libc, Linux.|May use: the OS|' "$tmp/osdep/README.md"
printf 'src/x.o:0000000000000000 T zt_x\n' >"$tmp/nm.txt"
check; got=$?
expect "an unreadable May use line fails" 1 "osdep/README.md"
expect "the room is then reported without a line" 1 "no 'May use:' line for osdep/"

if [ "$failed" = 0 ]; then echo "layering selftest: PASS"; else echo "layering selftest: FAIL"; fi
exit "$failed"
