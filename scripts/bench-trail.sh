#!/usr/bin/env bash
# bench-trail.sh — the trail's SQL store (internal/storage/sql/trail*.go) on
# SQLite and on PostgreSQL: sustained appends per second with many
# concurrent appenders and their latency (BenchmarkTrailAppend), and the
# time to build an inclusion proof in a log of 100,000 entries
# (BenchmarkTrailInclusionProof). Runs each RUNS times per database and
# prints medians.
#
# SQLite is a file in TMPDIR with the store's pragmas (WAL; the trail's
# sequencer commits with synchronous=FULL, an fsync per batch, so that an
# acknowledged append is durable); PostgreSQL
# runs with its server's settings (shown). The appenders, the sequencer and
# PostgreSQL share this machine's cores; "cpu µs/append" is the benchmark
# process's CPU time per append (PostgreSQL's server not included), the
# figure that other work on the machine changes least.
#
# Environment (defaults):
#   RUNS=5              runs per benchmark and database (go test -count)
#   APPENDS=50000       appends per run of BenchmarkTrailAppend (-benchtime=Nx)
#   PROOFS=2000         proofs per run of BenchmarkTrailInclusionProof
#   REALNAME_BENCH_APPENDERS=64      concurrent appenders, one event per Append
#   REALNAME_BENCH_TRAIL_PROCESSES=1 pools (processes) the appenders are spread over,
#                       a trail.Log each, sharing the database
#   REALNAME_BENCH_TRAIL_SIZE=100000 entries of the log the proofs are built in
#   REALNAME_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#                       PostgreSQL server (a fresh schema per run, dropped after);
#                       set it to "skip" to measure SQLite only
# Takes about 2–4 minutes with the defaults.
set -euo pipefail

RUNS=${RUNS:-5}
APPENDS=${APPENDS:-50000}
PROOFS=${PROOFS:-2000}
export REALNAME_BENCH_APPENDERS=${REALNAME_BENCH_APPENDERS:-64}
export REALNAME_BENCH_TRAIL_SIZE=${REALNAME_BENCH_TRAIL_SIZE:-100000}
export REALNAME_BENCH_TRAIL_PROCESSES=${REALNAME_BENCH_TRAIL_PROCESSES:-1}
PG=${REALNAME_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}

cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/lib/machine.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/realname-bench-trail.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== build"
go test -c -o "$WORK/sql.test" ./internal/storage/sql/

# run BENCH DB N: runs BenchmarkBENCH/DB RUNS times with -benchtime=Nx and
# appends "DB BENCH metric value" lines to results.
run() {
	local bench=$1 db=$2 n=$3 out
	wait_quiet
	echo "  $bench: CPU busy before: ${QUIET_BUSY}%, load $(load_avg)"
	out=$(cd internal/storage/sql && TMPDIR=$WORK "$WORK/sql.test" -test.run='^$' \
		-test.bench="^Benchmark$bench/$db\$" -test.benchtime="${n}x" -test.count="$RUNS" 2>&1) ||
		{ echo "$out" >&2; exit 1; }
	grep -E '^Benchmark' <<<"$out" | sed "s/^/    /"
	if ! grep -q "^Benchmark$bench/$db" <<<"$out"; then
		echo "$out" | tail -5 >&2
		echo "bench-trail: no result for $bench on $db" >&2
		exit 1
	fi
	awk -v db="$db" -v b="$bench" '/^Benchmark/ {
		for (i = 3; i < NF; i++) if ($(i + 1) ~ /^[a-z]/) print db, b, $(i + 1), $i
	}' <<<"$out" >>"$WORK/results"
}

echo "== machine: $(nproc) cores, load $(load_avg); TMPDIR on $(df -T "$WORK" | awk 'NR == 2 { print $2 }')"
: >"$WORK/results"
STEAL0=$(cpu_stat)
DBS=sqlite
if [[ $PG == skip ]]; then
	echo "== postgres: skipped"
else
	export REALNAME_TEST_POSTGRES_URL=$PG
	DBS="sqlite postgres"
	if command -v psql >/dev/null; then
		echo "== postgres ($PG): $(psql "$PG" -Atc "select 'synchronous_commit=' || current_setting('synchronous_commit') || ' fsync=' || current_setting('fsync') || ' ' || split_part(version(), ' ', 2)" 2>/dev/null || echo '?')"
	fi
fi
for db in $DBS; do
	echo "== $db: $RUNS runs × $APPENDS appends by $REALNAME_BENCH_APPENDERS appenders in $REALNAME_BENCH_TRAIL_PROCESSES process(es); $RUNS runs × $PROOFS proofs in a log of $REALNAME_BENCH_TRAIL_SIZE"
	run TrailAppend "$db" "$APPENDS"
	run TrailInclusionProof "$db" "$PROOFS"
done
echo "== load after: $(load_avg); CPU steal (hypervisor) during the runs: $(steal_since "$STEAL0")"

echo
echo "== medians of $RUNS runs"
awk "$MEDIAN_AWK"'
	{ v[$1, $2, $3] = v[$1, $2, $3] " " $4 }
	END {
		printf "%-9s %10s %8s %8s %12s %16s %16s %14s\n", "database", "appends/s", "p50 ms", "p99 ms", "≤300 ms (%)", "cpu µs/append", "proof median µs", "proof p99 µs"
		split("sqlite postgres", D, " ")
		for (k = 1; k <= 2; k++) {
			db = D[k]
			if (!((db, "TrailAppend", "appends/s") in v)) continue
			printf "%-9s %10.0f %8.2f %8.2f %12.2f %16.1f %16.1f %14.1f\n", db,
				median(v[db, "TrailAppend", "appends/s"]), median(v[db, "TrailAppend", "p50-ms"]),
				median(v[db, "TrailAppend", "p99-ms"]), median(v[db, "TrailAppend", "within-300ms-%"]),
				median(v[db, "TrailAppend", "cpu-µs/append"]),
				median(v[db, "TrailInclusionProof", "median-µs"]), median(v[db, "TrailInclusionProof", "p99-µs"])
		}
	}' "$WORK/results"
