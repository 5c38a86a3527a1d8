#!/usr/bin/env bash
# bench-verifications.sh — complete sandbox verifications per second (init →
# face check passed on the simulator's page → callback → stored result) on
# SQLite and on PostgreSQL: runs BenchmarkCompleteVerification
# (internal/app/bench_test.go) RUNS times per database and prints medians.
#
# The load generator (16 workers doing HTTP calls and polling query), the
# app, the simulator and PostgreSQL all share this machine's cores.
#
# Environment (defaults):
#   RUNS=5              runs per database (go test -count)
#   VERIFICATIONS=400   verifications per run (-benchtime=400x)
#   REALNAME_BENCH_WORKERS=16
#   REALNAME_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#                       PostgreSQL server (a fresh schema per run, dropped after);
#                       set it to "skip" to measure SQLite only
# Takes about 1–2 minutes with the defaults.
set -euo pipefail

RUNS=${RUNS:-5}
VERIFICATIONS=${VERIFICATIONS:-400}
export REALNAME_BENCH_WORKERS=${REALNAME_BENCH_WORKERS:-16}
PG=${REALNAME_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}

cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/lib/machine.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/realname-bench-verif.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== build"
go test -c -o "$WORK/app.test" ./internal/app/

# postgres_ticks: CPU time (clock ticks) of the local PostgreSQL server's
# processes, including the exited backends reaped by the postmaster; empty
# if there is no local server.
postgres_ticks() {
	local pids
	pids=$(pgrep -x postgres || true)
	[[ -n $pids ]] || return 0
	for p in $pids; do cat "/proc/$p/stat" 2>/dev/null || true; done |
		awk '{ t += $14 + $15 } $4 == 1 || $4 == 0 { t += $16 + $17 } END { print t }'
}

# pg_commits: transactions committed so far in the PostgreSQL database
# (empty without psql).
pg_commits() {
	command -v psql >/dev/null || return 0
	psql "$PG" -Atc "select xact_commit from pg_stat_database where datname = current_database()" 2>/dev/null || true
}

# run DB: runs the sub-benchmark, appends "DB metric value" lines to results.
run() {
	local db=$1 out t0 t1 n c0 c1
	wait_quiet
	echo "  CPU busy before: ${QUIET_BUSY}%"
	t0=$(postgres_ticks)
	c0=""
	[[ $db == postgres ]] && c0=$(pg_commits)
	out=$(cd internal/app && "$WORK/app.test" -test.run='^$' -test.bench="CompleteVerification/$db\$" \
		-test.benchtime="${VERIFICATIONS}x" -test.count="$RUNS" 2>&1) || { echo "$out" >&2; exit 1; }
	t1=$(postgres_ticks)
	grep -E '^Benchmark' <<<"$out" | sed "s/^/  /"
	if ! grep -q "^BenchmarkCompleteVerification/$db" <<<"$out"; then
		echo "$out" | tail -5 >&2
		echo "bench-verifications: no result for $db" >&2
		exit 1
	fi
	awk -v db="$db" '/^BenchmarkCompleteVerification/ {
		for (i = 3; i < NF; i++) if ($(i + 1) ~ /^[a-z]/) print db, $(i + 1), $i
	}' <<<"$out" >>"$WORK/results"
	if [[ $db == postgres && -n $t0 && -n $t1 ]]; then
		# Every run also does one N=1 round before its N=VERIFICATIONS round.
		n=$((RUNS * (VERIFICATIONS + 1)))
		awk -v d=$((t1 - t0)) -v hz="$TICK" -v n=$n \
			'BEGIN { printf "postgres pgserver-cpu-ms %.3f\n", d / hz * 1000 / n }' >>"$WORK/results"
		echo "  PostgreSQL server processes: $(tail -n 1 "$WORK/results" | awk '{ print $3 }') ms CPU per verification (average over the $RUNS runs)"
	fi
	if [[ $db == postgres && -n $c0 ]]; then
		c1=$(pg_commits)
		echo "  PostgreSQL transactions committed per verification: $(awk -v d=$((c1 - c0)) -v n=$((RUNS * (VERIFICATIONS + 1))) 'BEGIN { printf "%.1f", d / n }') (includes the schema set-up and the poller's reads)"
	fi
}

echo "== machine: $(nproc) cores, load $(load_avg)"
: >"$WORK/results"
STEAL0=$(cpu_stat)
echo "== sqlite: $RUNS runs × $VERIFICATIONS verifications, $REALNAME_BENCH_WORKERS workers"
run sqlite
if [[ $PG == skip ]]; then
	echo "== postgres: skipped"
else
	export REALNAME_TEST_POSTGRES_URL=$PG
	echo "== postgres ($PG): $RUNS runs × $VERIFICATIONS verifications, $REALNAME_BENCH_WORKERS workers"
	run postgres
fi
echo "== load after: $(load_avg); CPU steal (hypervisor) during the runs: $(steal_since "$STEAL0")"

echo
echo "== medians of $RUNS runs"
awk "$MEDIAN_AWK"'
	{ v[$1, $2] = v[$1, $2] " " $3 }
	END {
		printf "%-9s %16s %8s %8s %24s %22s\n", "database", "verifications/s", "p50 ms", "p99 ms", "test process cpu-ms/ver", "PostgreSQL cpu-ms/ver"
		split("sqlite postgres", D, " ")
		for (k = 1; k <= 2; k++) {
			db = D[k]
			if (!((db, "verifications/s") in v)) continue
			pg = ((db, "pgserver-cpu-ms") in v) ? sprintf("%.2f", v[db, "pgserver-cpu-ms"]) : "-"
			printf "%-9s %16.1f %8.1f %8.1f %24.2f %22s\n", db, median(v[db, "verifications/s"]), median(v[db, "p50-ms"]),
				median(v[db, "p99-ms"]), median(v[db, "cpu-ms/verification"]), pg
		}
	}' "$WORK/results"
