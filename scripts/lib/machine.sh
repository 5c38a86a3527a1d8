# shellcheck shell=bash disable=SC2034
# scripts/lib/machine.sh — helpers shared by the benchmark scripts
# (bench-http.sh, bench-verifications.sh, bench-verifications-ab.sh,
# bench-startup.sh, bench-compare.sh, bench-trail.sh)
# to read the state of this machine, which they share with other people's
# builds and tests, from /proc. Sourced, not run: it defines functions and
# variables only.
#
#   wait_quiet            wait (up to QUIET_WAIT s per run) for the machine to be idle
#   cpu_stat, steal_since share of the CPU time the hypervisor took over a period
#   cpu_ticks PID, TICK   a process's CPU time, in clock ticks, ticks per second
#   load_avg              1, 5 and 15 minute load averages
#   MEDIAN_AWK            awk function median("v1 v2 …") to prepend to awk programs
# (SC2034 is off: the variables set here are read by the scripts.)

# busy_1s: percentage of the CPU time that was not idle (idle or iowait)
# over one second, all CPUs together.
busy_1s() {
	local a b
	a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f", 100 - (y[1] - x[1]) * 100 / (y[2] - x[2]) }'
}

# wait_quiet: before measuring, wait until the machine is nearly idle: less
# than 15 % of the CPU busy over one second (other people's builds and tests
# share it). All waits of a run together last at most QUIET_WAIT seconds.
# Sets QUIET_BUSY to the last reading.
QUIET_WAIT=${QUIET_WAIT:-90}
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

# cpu_stat: "steal total" jiffies of all CPUs (for the steal share of a period).
cpu_stat() { awk '/^cpu / { print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
# steal_since "STEAL TOTAL": the share of CPU time the hypervisor took since then.
steal_since() { awk -v a="$1" -v b="$(cpu_stat)" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.1f%%", (y[1] - x[1]) * 100 / (y[2] - x[2]) }'; }

# cpu_ticks PID: user+system CPU time of a process, in clock ticks (TICK a second).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# load_avg: the load averages over 1, 5 and 15 minutes.
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

# MEDIAN_AWK: median(list) of a space-separated list of numbers, for awk
# programs: awk "$MEDIAN_AWK"' { … median(v) … }'.
MEDIAN_AWK='
	function median(list,   a, n, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}'
