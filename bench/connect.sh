#!/usr/bin/env bash
# Benchmark of connect --docker against the local demo cluster, in one run:
#   * TCP throughput: a download from the echo service through the tunnel (curl in the daemon's
#     network namespace: `telepresence curl`) against the same download by a curl container placed
#     directly on the cluster network tp-demo;
#   * connection set-up: time to the first byte of an HTTP request on a new connection (curl's
#     time_starttransfer, one connection per request), through the tunnel and direct; the
#     overhead is the difference of the medians;
#   * the time `telepresence connect --docker` takes until ready, with the images present;
#   * the resident memory of the daemon and of the traffic-manager (VmRSS, and VmHWM: the peak);
#   * first, without Docker, tunnel-bench: the tunnel alone on loopback, and over a link of 10 ms
#     each way (a delaying proxy) against plain TCP through the same proxy (the link's ceiling):
#     download rate, and the time to the first byte of a new connection in round trips.
# Each figure is the median of RUNS runs (default 3). The demo cluster is started if it is not up
# (and removed again at the end); a connection that was up before is closed and made again.
#
# usage: bench/connect.sh BUILD_DIR [RUNS]
set -euo pipefail

build_dir=$(cd "${1:?usage: bench/connect.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
telepresence=$build_dir/bin/telepresence
daemon=tp-default-cn
download_mib=512
requests=60

say() { echo "bench-connect: $*" >&2; }

# shellcheck source=scripts/lib/defer.sh
source "$repo/scripts/lib/defer.sh"
trap run_deferred EXIT

say "tunnel-bench: the tunnel on loopback and over a link of 10 ms each way"
tunnel_report=$("$build_dir/bin/tunnel-bench" --delay-ms 10) ||
  tunnel_report="tunnel-bench FAILED (exit $?): the rest of the benchmark goes on"

# shellcheck source=demo/cluster/common.sh
source "$repo/demo/cluster/common.sh"
demo_cluster_start "$build_dir"
echo_ip=$(container_ip echo)

calc() { awk "BEGIN { print $1 }"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- connect time --------------------------------------------------------------------------
connect_seconds() {
  "$telepresence" quit >/dev/null 2>&1 || true
  local started ended
  started=$(date +%s.%N)
  "$telepresence" connect --docker >/dev/null 2>&1
  ended=$(date +%s.%N)
  calc "$ended - $started"
}
say "timing connect --docker ($runs runs)"
connect_times=()
for ((run = 0; run < runs; run++)); do connect_times+=("$(connect_seconds)"); done
defer "$telepresence" quit
connect_median=$(printf '%s\n' "${connect_times[@]}" | median)

# --- curl through the tunnel and direct ------------------------------------------------------
tunnel_curl() { "$telepresence" curl "$@"; }
direct_curl() { docker run --rm --pull never --network tp-demo tp-curl:latest curl "$@"; }

# throughput CURL: bytes per second of one download of $download_mib MiB.
throughput() {
  "$1" -sS -o /dev/null -w '%{speed_download}\n' "http://$echo_ip:8080/bytes/$((download_mib << 20))"
}

# first_byte_median CURL: the median time to first byte (ms) over $requests new connections.
first_byte_median() {
  local arguments=() i
  for ((i = 0; i < requests; i++)); do
    arguments+=(-o /dev/null -H 'Connection: close' "http://$echo_ip:8080/r$i")
  done
  "$1" -sS -w '%{time_starttransfer}\n' "${arguments[@]}" | awk '{ print $1 * 1000 }' | median
}

say "throughput, $download_mib MiB per run, $runs runs each way"
tunnel_rates=() direct_rates=() tunnel_first=() direct_first=()
for ((run = 0; run < runs; run++)); do
  direct_rates+=("$(throughput direct_curl)")
  tunnel_rates+=("$(throughput tunnel_curl)")
done
say "time to first byte, $requests new connections per run, $runs runs each way"
for ((run = 0; run < runs; run++)); do
  direct_first+=("$(first_byte_median direct_curl)")
  tunnel_first+=("$(first_byte_median tunnel_curl)")
done

# --- memory ----------------------------------------------------------------------------------
# memory_kib CONTAINER FIELD: VmRSS or VmHWM of the container's main process, in KiB.
memory_kib() {
  local pid
  pid=$(docker container inspect -f '{{.State.Pid}}' "$1")
  awk -v field="$2:" '$1 == field { print $2 }' "/proc/$pid/status"
}

direct_rate=$(printf '%s\n' "${direct_rates[@]}" | median)
tunnel_rate=$(printf '%s\n' "${tunnel_rates[@]}" | median)
direct_ms=$(printf '%s\n' "${direct_first[@]}" | median)
tunnel_ms=$(printf '%s\n' "${tunnel_first[@]}" | median)

echo
echo "connect --docker benchmark (median of $runs runs; echo service at $echo_ip)"
printf '%-44s %12s %12s %12s\n' "measure" "direct" "tunnel" "tunnel/direct"
printf '%-44s %12.0f %12.0f %12.2f   (target >= 0.50)\n' "TCP download $download_mib MiB, MB/s" \
  "$(calc "$direct_rate / 1000000")" "$(calc "$tunnel_rate / 1000000")" \
  "$(calc "$tunnel_rate / $direct_rate")"
printf '%-44s %12.3f %12.3f %12s   (overhead %.3f ms, target <= 2)\n' \
  "time to first byte, new connection, ms" "$direct_ms" "$tunnel_ms" "" \
  "$(calc "$tunnel_ms - $direct_ms")"
printf '%-44s %12s %12.2f %12s   (target < 2; runs: %s)\n' "connect --docker until ready, s" "" \
  "$connect_median" "" "${connect_times[*]}"
for container in "$daemon" tp-traffic-manager; do
  printf '%-44s %12s %9.1f MiB %12s   (peak %.1f MiB, target 20)\n' "RSS of $container" "" \
    "$(calc "$(memory_kib "$container" VmRSS) / 1024")" "" \
    "$(calc "$(memory_kib "$container" VmHWM) / 1024")"
done
echo
echo "tunnel-bench (the tunnel alone, this process as the daemon; one run)"
echo "$tunnel_report"
