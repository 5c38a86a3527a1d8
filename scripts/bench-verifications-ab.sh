#!/usr/bin/env bash
# bench-verifications-ab.sh — complete verifications per second of the
# working tree against an earlier commit, run back to back: builds
# BenchmarkCompleteVerification (internal/app/bench_test.go) at BASE (in a
# temporary git worktree) and in this tree, then alternates the two, RUNS
# times per database, and prints every run, the medians and their ratio.
#
# Alternating matters on a shared virtual machine: its speed drifts by a
# third within an hour, so two series measured one after the other compare
# the hour as much as the code.
#
#   scripts/bench-verifications-ab.sh                 # against the commit before the trail
#   BASE=HEAD~3 DBS=sqlite scripts/bench-verifications-ab.sh
#
# Environment (defaults):
#   BASE=1779d56          the commit to compare with (the last before the trail)
#   RUNS=5                runs of each build per database
#   VERIFICATIONS=1000    verifications per run (-benchtime=1000x)
#   DBS="sqlite postgres" databases
#   REALNAME_BENCH_WORKERS=16
#   REALNAME_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable
# Takes about 3 minutes with the defaults.
set -euo pipefail

BASE=${BASE:-1779d56}
RUNS=${RUNS:-5}
VERIFICATIONS=${VERIFICATIONS:-1000}
DBS=${DBS:-sqlite postgres}
export REALNAME_BENCH_WORKERS=${REALNAME_BENCH_WORKERS:-16}
export REALNAME_TEST_POSTGRES_URL=${REALNAME_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}

cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/lib/machine.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/realname-bench-ab.XXXXXX")
cleanup() {
	git worktree remove --force "$WORK/base" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

echo "== build: base $(git rev-parse --short "$BASE") and this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ", with changes"))"
git worktree add --detach --quiet "$WORK/base" "$BASE"
(cd "$WORK/base" && go test -c -o "$WORK/base.test" ./internal/app/)
go test -c -o "$WORK/head.test" ./internal/app/

echo "== machine: $(nproc) cores, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), load $(load_avg)"
STEAL0=$(cpu_stat)
: >"$WORK/results"
for db in $DBS; do
	for ((i = 1; i <= RUNS; i++)); do
		for build in base head; do
			wait_quiet
			out=$(cd internal/app && "$WORK/$build.test" -test.run='^$' -test.bench="CompleteVerification/$db\$" \
				-test.benchtime="${VERIFICATIONS}x" 2>&1) || { echo "$out" >&2; exit 1; }
			rate=$(grep -oE '[0-9.]+ verifications/s' <<<"$out" | cut -d' ' -f1)
			[[ -n $rate ]] || { echo "$out" | tail -5 >&2; echo "bench-verifications-ab: no result" >&2; exit 1; }
			echo "  $db run $i $build: $rate verifications/s (CPU busy before: ${QUIET_BUSY}%)"
			echo "$db $build $rate" >>"$WORK/results"
		done
	done
done
echo "== load after: $(load_avg); CPU steal (hypervisor) during the runs: $(steal_since "$STEAL0")"

echo
echo "== medians of $RUNS runs"
awk "$MEDIAN_AWK"'
	{ v[$1, $2] = v[$1, $2] " " $3; if (!seen[$1]++) dbs[++n] = $1 }
	END {
		printf "%-9s %14s %14s %7s\n", "database", "base /s", "head /s", "ratio"
		for (k = 1; k <= n; k++) {
			b = median(v[dbs[k], "base"]); h = median(v[dbs[k], "head"])
			printf "%-9s %14.1f %14.1f %7.2f\n", dbs[k], b, h, h / b
		}
	}' "$WORK/results"
