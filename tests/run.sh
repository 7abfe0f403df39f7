#!/bin/sh
# tests/run.sh - run the arguments (Check binaries, or check scripts NAME.sh
# that count as one test each: tests/layering.sh), then every end-to-end
# script tests/e2e/test_*.sh (unless ZT_SKIP_E2E=1 or ZT_E2E_ONLY=name), and
# print one closing line "N passed, N failed". Exit non-zero on any failure.
passed=0
failed=0
failed_names=""
log_dir=${O:-build}/test-logs
mkdir -p "$log_dir"

for bin in "$@"; do
	name=$(basename "$bin")
	out="$log_dir/$name.log"
	echo "== $name"
	case "$bin" in *.sh)
		if bash "$bin" >"$out" 2>&1; then
			passed=$((passed + 1))
			grep -E '^(FAIL|PASS)|^layering' "$out" || true
			echo "   ok"
		else
			failed=$((failed + 1))
			failed_names="$failed_names $name"
			grep -E '^FAIL' "$out" | sed 's/^/   | /'
			echo "   FAILED, log: $out"
		fi
		continue
	esac
	if "$bin" >"$out" 2>&1; then rc=0; else rc=$?; fi
	# Echo Check's summary and any failure lines; the full log stays in $out.
	grep -E '^[0-9]+%: Checks|:[EF]:|^sim:|^figure:' "$out" || true
	summary=$(grep -E '^[0-9]+%: Checks' "$out" | tail -n 1)
	if [ -n "$summary" ]; then
		n=$(echo "$summary" | sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/')
		set -- $n "$@"
		t=$1 f=$2 e=$3
		shift 3
		passed=$((passed + t - f - e))
		failed=$((failed + f + e))
	fi
	if [ "$rc" != 0 ]; then
		[ -z "$summary" ] && failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "   FAILED (exit $rc), log: $out"
		tail -n 30 "$out" | sed 's/^/   | /'
	fi
done

if [ "${ZT_SKIP_E2E:-0}" != 1 ]; then
	for t in tests/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		if [ -n "${ZT_E2E_ONLY:-}" ] && [ "$name" != "$ZT_E2E_ONLY" ]; then continue; fi
		out="$log_dir/$name.log"
		echo "== $name"
		if timeout 600 bash "$t" >"$out" 2>&1; then
			passed=$((passed + 1))
			grep -E '^(figure|PASS):' "$out" || true
			echo "   ok"
		else
			failed=$((failed + 1))
			failed_names="$failed_names $name"
			echo "   FAILED, log: $out"
			tail -n 40 "$out" | sed 's/^/   | /'
		fi
	done
fi

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
