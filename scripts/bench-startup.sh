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
# shellcheck source-path=SCRIPTDIR/..
source scripts/lib/machine.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/realname-bench-startup.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== build"
go build -o "$WORK/realname" ./cmd/realname
go build -o "$WORK/startup" ./scripts/startup
echo "binary: $(du -h "$WORK/realname" | cut -f1)"

wait_quiet
STEAL0=$(cpu_stat)
echo "== measure: $RUNS starts per case, load $(load_avg), CPU busy before ${QUIET_BUSY}%"
"$WORK/startup" --bin "$WORK/realname" --runs "$RUNS"
echo "load after: $(load_avg); CPU steal (hypervisor) during the runs: $(steal_since "$STEAL0")"
