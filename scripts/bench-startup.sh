#!/usr/bin/env bash
# bench-startup.sh — time from exec to the first HTTP 200 on GET /ready with
# the embedded defaults (SQLite in the data directory, sandbox provider):
# on a fresh data directory (first start: migrations, key generation, the
# development API key) and on an existing one. Median of RUNS starts each,
# polling every 2 ms (scripts/startup). Takes a few seconds.
#
# Environment: RUNS=15
set -euo pipefail
RUNS=${RUNS:-15}
cd "$(dirname "$0")/.."
WORK=$(mktemp -d "${TMPDIR:-/tmp}/realname-bench-startup.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== build"
go build -o "$WORK/realname" ./cmd/realname
go build -o "$WORK/startup" ./scripts/startup
echo "binary: $(du -h "$WORK/realname" | cut -f1)"

# wait_quiet: before measuring, wait until the machine is nearly idle: less
# than 15 % of the CPU busy over one second (other people's builds and tests
# share it). All waits of a run together last at most QUIET_WAIT seconds.
QUIET_WAIT=${QUIET_WAIT:-90}
busy_1s() {
	local a b
	a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f", 100 - (y[1] - x[1]) * 100 / (y[2] - x[2]) }'
}
wait_quiet() {
	local waited=0 busy
	busy=$(busy_1s)
	while ((busy >= 15 && QUIET_WAIT > 0)); do
		sleep 4
		waited=$((waited + 5))
		QUIET_WAIT=$((QUIET_WAIT - 5))
		busy=$(busy_1s)
	done
	if ((waited > 0)); then
		echo "  (waited ${waited} s for other work on the machine to finish; CPU now ${busy}% busy)"
	fi
	QUIET_BUSY=$busy
}
cpu_stat() { awk '/^cpu / { print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
wait_quiet
STEAL0=$(cpu_stat)
echo "== measure: $RUNS starts per case, load $(cut -d' ' -f1-3 /proc/loadavg), CPU busy before ${QUIET_BUSY}%"
"$WORK/startup" --bin "$WORK/realname" --runs "$RUNS"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); CPU steal (hypervisor) during the runs: $(awk -v a="$STEAL0" -v b="$(cpu_stat)" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.1f%%", (y[1] - x[1]) * 100 / (y[2] - x[2]) }')"
