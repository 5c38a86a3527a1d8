#!/usr/bin/env bash
# bench-compare.sh — before/after of a change to some files: builds a copy of
# the working tree in which FILES are taken from REV ("before"), then runs
# the hot-path micro-benchmark (BenchmarkHotPath, internal/httpapi) on both,
# alternating, ROUNDS times, and prints the medians. With E2E=1 it also
# runs scripts/bench-http.sh in both trees (about 2 × 10 minutes with its
# defaults, 2 × 5 without its fixed-rate phase: RATE_PHASE=0) and prints
# its result tables.
#
#   scripts/bench-compare.sh                      # the hot-path changes of the performance pass
#   REV=HEAD FILES="internal/httpapi/render.go" scripts/bench-compare.sh
#
# Environment (defaults):
#   REV=d82b946   FILES="internal/httpapi/middleware.go internal/httpapi/render.go
#                        internal/httpapi/credentials.go internal/httpapi/metrics.go internal/cache/memory.go"
#   ROUNDS=5  E2E=0  (bench-http.sh settings pass through: CONNS, DURATION,
#                     RATE, RATE_PHASE…)
set -euo pipefail
REV=${REV:-d82b946}
FILES=${FILES:-internal/httpapi/middleware.go internal/httpapi/render.go internal/httpapi/credentials.go internal/httpapi/metrics.go internal/cache/memory.go}
ROUNDS=${ROUNDS:-5}
E2E=${E2E:-0}

cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/lib/machine.sh
ROOT=$(pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/realname-bench-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== before: working tree with $FILES from $REV"
mkdir "$WORK/before"
tar --exclude=./realname-data --exclude=./.git -cf - . | tar -xf - -C "$WORK/before"
for f in $FILES; do
	git show "$REV:$f" >"$WORK/before/$f"
done
# Tests of those packages may use what the old files lack: outside
# internal/httpapi (handled below), the before tree takes the packages'
# test files from REV too.
for dir in $(for f in $FILES; do dirname "$f"; done | sort -u); do
	[[ $dir == internal/httpapi ]] && continue
	rm -f "$WORK/before/$dir"/*_test.go
	for t in $(git ls-tree --name-only "$REV" "$dir/" | grep '_test\.go$' || true); do
		git show "$REV:$t" >"$WORK/before/$t"
	done
done
# The before tree keeps only the benchmark part of bench_test.go (the
# encoder's tests there need the new render.go).
awk '/^\/\/ TestAppendJSONMatchesEncodingJSON/ { exit } { print }' internal/httpapi/bench_test.go >"$WORK/before/internal/httpapi/bench_test.go"
for imp in encoding/json math reflect strconv; do
	if ! grep -q "\b${imp##*/}\." <(sed '/^import (/,/^)/d' "$WORK/before/internal/httpapi/bench_test.go"); then
		sed -i "/^\t\"${imp//\//\\/}\"\$/d" "$WORK/before/internal/httpapi/bench_test.go"
	fi
done

echo "== build"
(cd "$WORK/before" && go test -c -o "$WORK/before.test" ./internal/httpapi/ && go test -c -o "$WORK/before-cache.test" ./internal/cache/)
go test -c -o "$WORK/after.test" ./internal/httpapi/
go test -c -o "$WORK/after-cache.test" ./internal/cache/

echo "== BenchmarkHotPath, BenchmarkAPIKeyCheck, BenchmarkMemoryGet: $ROUNDS rounds, alternating; load $(load_avg)"
: >"$WORK/micro"
for _ in $(seq 1 "$ROUNDS"); do
	for side in before after; do
		(cd internal/httpapi && "$WORK/$side.test" -test.run='^$' -test.bench='HotPath|APIKeyCheck' -test.benchmem) |
			awk -v side=$side '/^Benchmark/ { print side, $1, $3, $5, $7 }' >>"$WORK/micro"
		(cd internal/cache && "$WORK/$side-cache.test" -test.run='^$' -test.bench='MemoryGet' -test.benchmem) |
			awk -v side=$side '/^Benchmark/ { print side, $1, $3, $5, $7 }' >>"$WORK/micro"
	done
done
awk "$MEDIAN_AWK"'
	{ ns[$1, $2] = ns[$1, $2] " " $3; bytes[$1, $2] = $4; allocs[$1, $2] = $5; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
	END {
		printf "%-44s %12s %12s %8s %16s %16s\n", "benchmark (median ns/op)", "before", "after", "change", "B/op", "allocs/op"
		for (i = 1; i <= n; i++) {
			k = order[i]; b = median(ns["before", k]); a = median(ns["after", k])
			printf "%-44s %12.0f %12.0f %+7.0f%% %7s → %-6s %7s → %-6s\n", k, b, a, (a - b) * 100 / b, bytes["before", k], bytes["after", k], allocs["before", k], allocs["after", k]
		}
	}' "$WORK/micro"

if [[ $E2E == 1 ]]; then
	cp scripts/bench-http.sh "$WORK/before/scripts/"
	cp -r scripts/baseline scripts/loadgen scripts/lib "$WORK/before/scripts/"
	# The result tables: from each "== results" line to the next empty line.
	echo
	echo "== bench-http.sh, before"
	"$WORK/before/scripts/bench-http.sh" | sed -n '/^== results/,/^$/p'
	echo
	echo "== bench-http.sh, after"
	"$ROOT/scripts/bench-http.sh" | sed -n '/^== results/,/^$/p'
fi
