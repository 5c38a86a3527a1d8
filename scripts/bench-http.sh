#!/usr/bin/env bash
# bench-http.sh — throughput and p99 latency of the hot path over loopback:
# POST /api/v1/auth/verify and GET /api/v1/auth/status/{user_id} for a
# verified user, against a baseline server (scripts/baseline: net/http
# answering a constant JSON body of the same size) measured in the same run.
#
# It builds realname and the baseline, starts realname twice on fresh data
# directories (access log on, written to a file; access log off), verifies
# one user on each through the API and the sandbox, then runs wrk against
# baseline, verify and status, alternating, ROUNDS times, and prints the
# median req/s, the median p99 and the ratio to the baseline.
#
# wrk and the servers share this machine's cores: every figure includes
# the load generator's own CPU use. Everything started here is stopped on
# exit. Runs in about ROUNDS × 5 × DURATION plus ~20 s.
#
# Environment (defaults):
#   ROUNDS=5 DURATION=10s CONNS=32 THREADS=2   wrk settings
#   ACCESS_LOG=both                             on | off | both
#   PORT_BASE=18180                             ports PORT_BASE..PORT_BASE+2
#   PIN=0    1: servers on CPU 1 (GOMAXPROCS=1), wrk on CPU 0 (-t1), no sharing
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
ACCESS_LOG=${ACCESS_LOG:-both}
PORT_BASE=${PORT_BASE:-18180}
PIN=${PIN:-0}

cd "$(dirname "$0")/.."
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

free_port() {
	if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; then
		echo "bench-http: port $1 is in use (set PORT_BASE)" >&2
		exit 1
	fi
}

wait_ready() { # url
	local i
	for i in $(seq 1 500); do
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
	local name=$1 port=$2 log=$3 base key answer verify_url status i
	base="http://127.0.0.1:$port"
	free_port "$port"
	mkdir -p "$WORK/$name-data"
	REALNAME_ACCESS_LOG=$log "${SRV_PREFIX[@]}" "$WORK/realname" serve --data "$WORK/$name-data" --addr "127.0.0.1:$port" \
		>"$WORK/$name.stdout" 2>>"$WORK/$name.log" &
	PIDS+=($!)
	wait_ready "$base/ready"
	for i in $(seq 1 100); do
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
	for i in $(seq 1 250); do
		status=$(curl -s -H "Authorization: Bearer $key" "$base/api/v1/auth/status/u1")
		[[ $status == *'"status":"success"'* ]] && break
		sleep 0.02
	done
	[[ $status == *'"is_valid":true'* ]] || { echo "bench-http: u1 not verified on $name: $status" >&2; exit 1; }
	answer=$(curl -s -X POST "$base/api/v1/auth/verify" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{"user_id":"u1"}')
	[[ $answer == *'"passed":true'* ]] || { echo "bench-http: verify of u1 on $name: $answer" >&2; exit 1; }
	echo "$name: u1 verified; /verify answers ${#answer} bytes, /status ${#status} bytes"
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
}

echo "== start"
free_port "$PORT_BASE"
"${SRV_PREFIX[@]}" "$WORK/baseline" --addr "127.0.0.1:$PORT_BASE" 2>"$WORK/baseline.log" &
PIDS+=($!)
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

# run_wrk TARGET DURATION: prints "req/s p99-ms".
run_wrk() {
	local target=$1 dur=$2 out url args=()
	case $target in
	baseline) url="http://127.0.0.1:$PORT_BASE/" ;;
	verify@*) url="$(cat "$WORK/${target#*@}.url")/api/v1/auth/verify"; args=(-s "$WORK/${target#*@}-verify.lua") ;;
	status@*) url="$(cat "$WORK/${target#*@}.url")/api/v1/auth/status/u1"; args=(-s "$WORK/${target#*@}-status.lua") ;;
	esac
	out=$("${WRK_PREFIX[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$dur" --latency "${args[@]}" "$url")
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "bench-http: $target answered errors:" >&2
		echo "$out" >&2
		exit 1
	fi
	awk '
		/Requests\/sec/ { rps = $2 }
		$1 == "99%" {
			v = $2
			if (v ~ /us$/) { sub(/us$/, "", v); p99 = v / 1000 }
			else if (v ~ /ms$/) { sub(/ms$/, "", v); p99 = v }
			else if (v ~ /s$/) { sub(/s$/, "", v); p99 = v * 1000 }
		}
		END { printf "%s %s\n", rps, p99 }' <<<"$out"
	# Keep the access log from filling the disk; it was written (checked below).
	for f in "$WORK"/log-*.log; do
		[[ -f $f ]] && tail -n 1 "$f" >"$f.last" && : >"$f"
	done
	return 0
}

echo "== warm-up"
for t in "${TARGETS[@]}"; do run_wrk "$t" 2s >/dev/null; done
if [[ -f "$WORK/log-on.log.last" ]] && ! grep -q '"msg":"request"' "$WORK/log-on.log.last"; then
	echo "bench-http: the access log of log-on is not being written" >&2
	exit 1
fi

echo "== measure: $ROUNDS rounds × ${#TARGETS[@]} targets × $DURATION, wrk -t$THREADS -c$CONNS$([[ $PIN == 1 ]] && echo ', pinned')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
RESULTS="$WORK/results"
: >"$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
	line="round $r:"
	for t in "${TARGETS[@]}"; do
		res=$(run_wrk "$t" "$DURATION")
		read -r rps p99 <<<"$res"
		echo "$r $t $rps $p99" >>"$RESULTS"
		line+=$(printf ' %s %.0f/s p99 %.2fms;' "$t" "$rps" "$p99")
	done
	echo "$line"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== results (median of $ROUNDS; ratio = median req/s ÷ baseline median req/s; paired = median of per-round ratios)"
awk -v targets="${TARGETS[*]}" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ rps[$2, $1] = $3; p99[$2, $1] = $4; rounds[$1] = 1 }
	END {
		nt = split(targets, T, " ")
		n = 0; for (r in rounds) n++
		printf "%-16s %12s %12s %8s %8s\n", "target", "req/s", "p99 ms", "ratio", "paired"
		for (k = 1; k <= nt; k++) {
			t = T[k]
			for (r = 1; r <= n; r++) { a[r] = rps[t, r]; b[r] = p99[t, r]; c[r] = rps[t, r] / rps["baseline", r] }
			m = median(a, n); p = median(b, n); pr = median(c, n)
			if (t == "baseline") base = m
			printf "%-16s %12.0f %12.2f %8.2f %8.2f\n", t, m, p, m / base, pr
		}
	}' "$RESULTS"
