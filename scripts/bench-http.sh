#!/usr/bin/env bash
# bench-http.sh — throughput and latency of the hot path over loopback:
# POST /api/v1/auth/verify and GET /api/v1/auth/status/{user_id} for a
# verified user, against a baseline server (scripts/baseline: net/http
# answering a constant JSON body of the same size) measured in the same run.
#
# It builds realname, the baseline and scripts/loadgen, starts realname
# twice on fresh data directories (access log on, written to a file; access
# log off), verifies one user on each through the API and the sandbox, then
# measures in two phases, each ROUNDS rounds over baseline, verify and
# status, alternating:
#
#  1. saturation: wrk (closed loop, CONNS connections sending as fast as
#     the server answers); prints the median req/s, the median p99 and the
#     ratio to the baseline. At saturation the p99 is mostly queueing.
#  2. fixed rate (RATE_PHASE=1): scripts/loadgen offers RATE req/s, open
#     loop, like wrk2, and counts each request's latency from the time it
#     was due, so a server stall counts for every request held up behind
#     it (coordinated omission corrected); prints the median achieved
#     req/s, p50, p99 and p99.9 of that latency, the p99 service time (from
#     the actual send, uncorrected), the server's CPU per request and the
#     generator's largest send lag (if it is large, the generator itself,
#     not the server, was late). This is the latency of a target like
#     "20,000 req/s with p99 < 5 ms".
#
# The load generators and the servers share this machine's cores: every
# figure includes the load generator's own CPU use. Everything started here
# is stopped on exit. With the defaults it runs for about 10 minutes:
# ROUNDS × 5 × DURATION for wrk, plus ROUNDS × 5 × (DURATION + RATE_WARMUP)
# for the loadgen, plus ~30 s; rounds re-run for steal add at most
# MAX_RETRIES × (5 × (DURATION + RATE_WARMUP) + 15 s) per phase, and waiting
# for the machine to be idle at most QUIET_WAIT=90 s per run.
#
# Environment (defaults):
#   ROUNDS=5 DURATION=10s CONNS=16 THREADS=2   wrk settings (ROUNDS and
#                                               DURATION for both phases)
#   RATE_PHASE=1 RATE=20000 RATE_CONNS=CONNS RATE_WARMUP=1s
#            fixed-rate phase: 0 skips it; offered req/s, loadgen connections,
#            warm-up at the same rate before each measured DURATION
#   ACCESS_LOG=both                             on | off | both
#   PORT_BASE=18180                             ports PORT_BASE..PORT_BASE+2
#   PIN=0    1: servers on CPU 1 (GOMAXPROCS=1), wrk and loadgen on CPU 0
#            (wrk -t1), no sharing
#   MAX_STEAL=5 MAX_RETRIES=2   a round during which the hypervisor stole more
#            than MAX_STEAL % of the CPU time is discarded and run again (at
#            most MAX_RETRIES times per phase); discarded rounds are printed
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
ACCESS_LOG=${ACCESS_LOG:-both}
PORT_BASE=${PORT_BASE:-18180}
PIN=${PIN:-0}
MAX_STEAL=${MAX_STEAL:-5}
MAX_RETRIES=${MAX_RETRIES:-2}
RATE_PHASE=${RATE_PHASE:-1}
RATE=${RATE:-20000}
RATE_CONNS=${RATE_CONNS:-$CONNS}
RATE_WARMUP=${RATE_WARMUP:-1s}

cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/lib/machine.sh
for tool in go wrk curl awk; do
	command -v "$tool" >/dev/null || { echo "bench-http: $tool is missing (apt-get install -y wrk curl)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/realname-bench-http.XXXXXX")
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SRV_PREFIX=()
WRK_PREFIX=()
if [[ $PIN == 1 ]]; then
	command -v taskset >/dev/null || { echo "bench-http: PIN=1 needs taskset" >&2; exit 1; }
	SRV_PREFIX=(taskset -c 1 env GOMAXPROCS=1)
	WRK_PREFIX=(taskset -c 0)
	THREADS=1
fi

echo "== build"
go build -o "$WORK/realname" ./cmd/realname
go build -o "$WORK/baseline" ./scripts/baseline
if [[ $RATE_PHASE == 1 ]]; then
	go build -o "$WORK/loadgen" ./scripts/loadgen
fi

free_port() {
	if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; then
		echo "bench-http: port $1 is in use (set PORT_BASE)" >&2
		exit 1
	fi
}

wait_ready() { # url
	for _ in $(seq 1 500); do
		if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true) == 200 ]]; then
			return 0
		fi
		sleep 0.02
	done
	echo "bench-http: $1 never answered 200" >&2
	exit 1
}

# start_realname NAME PORT ACCESS_LOG: starts realname, verifies user u1 and
# writes NAME-verify.lua and NAME-status.lua with its dev API key.
start_realname() {
	local name=$1 port=$2 log=$3 base key answer verify_url status
	base="http://127.0.0.1:$port"
	free_port "$port"
	mkdir -p "$WORK/$name-data"
	# All load comes from one address with one key: the per-IP and per-key
	# limits and the daily provider budget are raised so far that they never
	# refuse (they are still checked).
	REALNAME_RATE_IP=1000000000 REALNAME_RATE_API_KEY=1000000000 REALNAME_PROVIDER_DAILY_BUDGET=1000000000 \
		REALNAME_ACCESS_LOG=$log "${SRV_PREFIX[@]}" "$WORK/realname" serve --data "$WORK/$name-data" --addr "127.0.0.1:$port" \
		>"$WORK/$name.stdout" 2>>"$WORK/$name.log" &
	PIDS+=($!)
	echo $! >"$WORK/$name.pid"
	wait_ready "$base/ready"
	for _ in $(seq 1 100); do
		key=$(sed -n 's/^development API key: //p' "$WORK/$name.stdout")
		[[ -n $key ]] && break
		sleep 0.02
	done
	[[ -n $key ]] || { echo "bench-http: no API key in the banner of $name" >&2; exit 1; }
	answer=$(curl -s -X POST "$base/api/v1/auth/init" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
		-d '{"user_id":"u1","real_name":"张三","id_card_number":"11010519491231002X","consent":{"notice_version":"2026-11-01","accepted_at":"'"$(date -u +%FT%TZ)"'","scopes":["id_number","face"]}}')
	verify_url=$(sed -n 's/.*"verify_url":"\([^"]*\)".*/\1/p' <<<"$answer")
	[[ -n $verify_url ]] || { echo "bench-http: init failed on $name: $answer" >&2; exit 1; }
	curl -s -o /dev/null -X POST -d outcome=pass "$verify_url/complete"
	for _ in $(seq 1 250); do
		status=$(curl -s -H "Authorization: Bearer $key" "$base/api/v1/auth/status/u1")
		[[ $status == *'"status":"success"'* ]] && break
		sleep 0.02
	done
	[[ $status == *'"is_valid":true'* ]] || { echo "bench-http: u1 not verified on $name: $status" >&2; exit 1; }
	answer=$(curl -s -X POST "$base/api/v1/auth/verify" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{"user_id":"u1"}')
	[[ $answer == *'"passed":true'* ]] || { echo "bench-http: verify of u1 on $name: $answer" >&2; exit 1; }
	echo "$name: u1 verified; /verify answers $(printf "%s\n" "$answer" | wc -c) bytes, /status $(printf "%s\n" "$status" | wc -c) bytes"
	cat >"$WORK/$name-verify.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"user_id":"u1"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
EOF
	cat >"$WORK/$name-status.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $key"
EOF
	echo "$base" >"$WORK/$name.url"
	echo "$key" >"$WORK/$name.key"
}

echo "== start"
free_port "$PORT_BASE"
"${SRV_PREFIX[@]}" "$WORK/baseline" --addr "127.0.0.1:$PORT_BASE" 2>"$WORK/baseline.log" &
PIDS+=($!)
echo $! >"$WORK/baseline.pid"
wait_ready "http://127.0.0.1:$PORT_BASE/"
echo "baseline: answers $(curl -s "http://127.0.0.1:$PORT_BASE/" | wc -c) bytes"

TARGETS=(baseline)
case $ACCESS_LOG in
on | both) start_realname log-on $((PORT_BASE + 1)) true; TARGETS+=(verify@log-on status@log-on) ;;
esac
case $ACCESS_LOG in
off | both) start_realname log-off $((PORT_BASE + 2)) false; TARGETS+=(verify@log-off status@log-off) ;;
esac
[[ ${#TARGETS[@]} -gt 1 ]] || { echo "bench-http: ACCESS_LOG must be on, off or both" >&2; exit 1; }

# run_wrk TARGET DURATION: prints "req/s p99-ms server-CPU-µs-per-request".
run_wrk() {
	local target=$1 dur=$2 out url args=() server pid t0 t1
	case $target in
	baseline) url="http://127.0.0.1:$PORT_BASE/"; server=baseline ;;
	verify@*) server=${target#*@}; url="$(cat "$WORK/$server.url")/api/v1/auth/verify"; args=(-s "$WORK/$server-verify.lua") ;;
	status@*) server=${target#*@}; url="$(cat "$WORK/$server.url")/api/v1/auth/status/u1"; args=(-s "$WORK/$server-status.lua") ;;
	esac
	pid=$(cat "$WORK/$server.pid")
	t0=$(cpu_ticks "$pid")
	out=$("${WRK_PREFIX[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$dur" --latency "${args[@]}" "$url")
	t1=$(cpu_ticks "$pid")
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "bench-http: $target answered errors:" >&2
		echo "$out" >&2
		exit 1
	fi
	awk -v ticks=$((t1 - t0)) -v hz="$TICK" '
		/^ *[0-9]+ requests in/ { n = $1 }
		/Requests\/sec/ { rps = $2 }
		$1 == "99%" {
			v = $2
			if (v ~ /us$/) { sub(/us$/, "", v); p99 = v / 1000 }
			else if (v ~ /ms$/) { sub(/ms$/, "", v); p99 = v }
			else if (v ~ /s$/) { sub(/s$/, "", v); p99 = v * 1000 }
		}
		END { printf "%s %s %.1f\n", rps, p99, ticks / hz * 1e6 / n }' <<<"$out"
	trim_access_log "$target"
}

# trim_access_log TARGET: keeps the access log from filling the disk:
# remembers how many lines the run wrote and its last line, then empties it
# (the server appends).
trim_access_log() {
	if [[ $1 == *@log-on ]]; then
		wc -l <"$WORK/log-on.log" >"$WORK/log-on.lines"
		tail -n 1 "$WORK/log-on.log" >"$WORK/log-on.last"
		: >"$WORK/log-on.log"
	fi
	return 0
}

# run_rate TARGET DURATION: prints "req/s p50-ms p99-ms p99.9-ms
# service-p99-ms server-CPU-µs-per-request max-send-lag-ms behind-ms" from
# a loadgen run at RATE req/s (after RATE_WARMUP at the same rate); behind:
# how long before the end the oldest request not yet sent then was due.
run_rate() {
	local target=$1 dur=$2 out url args=() server pid t0 t1 key rc=0
	case $target in
	baseline) url="http://127.0.0.1:$PORT_BASE/"; server=baseline ;;
	verify@*)
		server=${target#*@}; key=$(cat "$WORK/$server.key"); url="$(cat "$WORK/$server.url")/api/v1/auth/verify"
		args=(-method POST -body '{"user_id":"u1"}' -header 'Content-Type: application/json' -header "Authorization: Bearer $key") ;;
	status@*)
		server=${target#*@}; key=$(cat "$WORK/$server.key"); url="$(cat "$WORK/$server.url")/api/v1/auth/status/u1"
		args=(-header "Authorization: Bearer $key") ;;
	esac
	pid=$(cat "$WORK/$server.pid")
	t0=$(cpu_ticks "$pid")
	out=$("${WRK_PREFIX[@]}" "$WORK/loadgen" -url "$url" -rate "$RATE" -conns "$RATE_CONNS" -duration "$dur" \
		-warmup "$RATE_WARMUP" "${args[@]}" 2>&1) || rc=$?
	t1=$(cpu_ticks "$pid")
	if ((rc != 0)) || ! grep -q '^RESULT ' <<<"$out"; then
		echo "bench-http: loadgen against $target failed (exit status $rc: 2 means errors or non-2xx answers):" >&2
		echo "$out" >&2
		exit 1
	fi
	awk -v ticks=$((t1 - t0)) -v hz="$TICK" '/^RESULT / {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s %s %s %s %s %.1f %s %s\n", v["rps"], v["p50_ms"], v["p99_ms"], v["p999_ms"], v["svc_p99_ms"],
			ticks / hz * 1e6 / (v["completed"] + v["warmup_completed"]), v["lag_max_ms"], v["behind_ms"]
	}' <<<"$out"
	trim_access_log "$target"
}

# summary_wrk TARGET "RESULT": one target's part of a round's line.
summary_wrk() {
	local rps p99 cpu
	read -r rps p99 cpu <<<"$2"
	printf ' %s %.0f/s p99 %.2fms %.0fµs;' "$1" "$rps" "$p99" "$cpu"
}
summary_rate() {
	local rps p99 svc cpu lag behind
	read -r rps _ p99 _ svc cpu lag behind <<<"$2"
	printf ' %s %.0f/s p99 %.2fms svc %.2fms %.0fµs lag %.2fms%s;' "$1" "$rps" "$p99" "$svc" "$cpu" "$lag" \
		"$(awk -v b="$behind" 'BEGIN { if (b >= 1) printf " (%.1fms behind at the end)", b }')"
}

# measure PHASE: ROUNDS rounds of run_PHASE over every target, alternating,
# each after wait_quiet; a round during which the hypervisor stole more than
# MAX_STEAL % of the CPU is discarded and run again (at most MAX_RETRIES
# times per phase). Appends "ROUND TARGET FIGURES…" lines to
# $WORK/PHASE.results and prints one line per round.
measure() {
	local phase=$1 results="$WORK/$1.results" r=0 retries=0 round0 line t res steal
	: >"$results"
	while ((r < ROUNDS)); do
		wait_quiet
		round0=$(cpu_stat)
		line="round $((r + 1)):"
		: >"$results.round"
		for t in "${TARGETS[@]}"; do
			res=$("run_$phase" "$t" "$DURATION")
			echo "$((r + 1)) $t $res" >>"$results.round"
			line+=$("summary_$phase" "$t" "$res")
		done
		steal=$(steal_since "$round0")
		if awk -v s="${steal%\%}" -v m="$MAX_STEAL" 'BEGIN { exit !(s > m) }' && ((retries < MAX_RETRIES)); then
			retries=$((retries + 1))
			echo "$line steal $steal > $MAX_STEAL%: discarded, measuring again in 15 s"
			sleep 15
			continue
		fi
		cat "$results.round" >>"$results"
		echo "$line steal $steal; CPU busy before the round ${QUIET_BUSY}%"
		r=$((r + 1))
	done
}

echo "== warm-up"
for t in "${TARGETS[@]}"; do run_wrk "$t" 2s >/dev/null; done
if [[ -f "$WORK/log-on.lines" ]]; then
	if [[ $(cat "$WORK/log-on.lines") -lt 1000 ]] || ! grep -q '"msg":"request"' "$WORK/log-on.last"; then
		echo "bench-http: the access log of log-on is not being written" >&2
		exit 1
	fi
	echo "access log (log-on): $(cat "$WORK/log-on.lines") lines in the last 2 s warm-up, e.g. $(cat "$WORK/log-on.last")"
fi

echo "== measure: $ROUNDS rounds × ${#TARGETS[@]} targets × $DURATION, wrk -t$THREADS -c$CONNS$([[ $PIN == 1 ]] && echo ', pinned')"
echo "load before: $(load_avg)"
STEAL0=$(cpu_stat)
measure wrk
echo "load after: $(load_avg); CPU steal (hypervisor) during the measurement: $(steal_since "$STEAL0")"

echo
echo "== results (median of $ROUNDS rounds)"
echo "ratio: median req/s ÷ baseline median req/s; paired: median of the per-round ratios;"
echo "server CPU: the server process's user+system CPU time per request (wrk's own CPU not included)"
awk -v targets="${TARGETS[*]}" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ rps[$2, $1] = $3; p99[$2, $1] = $4; cpu[$2, $1] = $5; rounds[$1] = 1 }
	END {
		nt = split(targets, T, " ")
		n = 0; for (r in rounds) n++
		printf "%-16s %10s %9s %7s %7s %14s\n", "target", "req/s", "p99 ms", "ratio", "paired", "server CPU µs"
		for (k = 1; k <= nt; k++) {
			t = T[k]
			for (r = 1; r <= n; r++) { a[r] = rps[t, r]; b[r] = p99[t, r]; c[r] = rps[t, r] / rps["baseline", r]; d[r] = cpu[t, r] }
			m = median(a, n); p = median(b, n); pr = median(c, n); cu = median(d, n)
			if (t == "baseline") base = m
			printf "%-16s %10.0f %9.2f %7.2f %7.2f %14.1f\n", t, m, p, m / base, pr, cu
		}
	}' "$WORK/wrk.results"

[[ $RATE_PHASE == 1 ]] || exit 0
echo
echo "== measure at a fixed rate: $ROUNDS rounds × ${#TARGETS[@]} targets × $DURATION (after $RATE_WARMUP warm-up), loadgen -rate $RATE -conns $RATE_CONNS$([[ $PIN == 1 ]] && echo ', pinned')"
echo "load before: $(load_avg)"
STEAL0=$(cpu_stat)
measure rate
echo "load after: $(load_avg); CPU steal (hypervisor) during the measurement: $(steal_since "$STEAL0")"

echo
echo "== results at a fixed rate: $RATE req/s offered, open loop (median of $ROUNDS rounds)"
echo "req/s: answers per second, below the offered rate if the server (or the generator) did not keep up;"
echo "p50, p99, p99.9: latency from the time each request was due (coordinated omission corrected);"
echo "svc p99: from the actual send (what wrk reports); server CPU: as above (the loadgen's own CPU not included);"
echo "max lag: the generator's own largest delay in sending a request (large: the generator, not the server, was late)"
awk -v targets="${TARGETS[*]}" "$MEDIAN_AWK"'
	{ for (i = 3; i <= NF; i++) v[$2, i] = v[$2, i] " " $i }
	END {
		nt = split(targets, T, " ")
		printf "%-16s %10s %8s %8s %9s %11s %14s %11s\n", "target", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "svc p99 ms", "server CPU µs", "max lag ms"
		for (k = 1; k <= nt; k++) {
			t = T[k]
			printf "%-16s %10.0f %8.2f %8.2f %9.2f %11.2f %14.1f %11.2f\n", t, median(v[t, 3]), median(v[t, 4]), median(v[t, 5]),
				median(v[t, 6]), median(v[t, 7]), median(v[t, 8]), median(v[t, 9])
		}
	}' "$WORK/rate.results"
