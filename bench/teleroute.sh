#!/usr/bin/env bash
# Benchmark of the Teleroute network against the local demo cluster, in one run:
#   * TCP throughput: a download from the echo service by curl in a `telepresence docker-run`
#     container (Teleroute network -> daemon -> tunnel) against the same download by a curl
#     container placed directly on the cluster network tp-demo;
#   * connection set-up: time to the first byte on a new connection (curl's time_starttransfer),
#     both ways; the overhead is the difference of the medians;
#   * `docker run --rm IMAGE true` on the Teleroute network against Docker's default bridge, and
#     `telepresence docker-run` itself;
#   * the resident memory of the teleroute and telemount plugins (VmRSS, its anonymous and file
#     parts, and VmHWM: the peak).
# Each figure is the median of RUNS runs (default 3). The demo cluster is started if it is not up
# (and removed again at the end); the connection is made for the run and closed after.
#
# usage: bench/teleroute.sh BUILD_DIR [RUNS]
set -euo pipefail

build_dir=$(cd "${1:?usage: bench/teleroute.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
telepresence=$build_dir/bin/telepresence
network=tp-default
download_mib=512
requests=60
starts=10

say() { echo "bench-teleroute: $*" >&2; }

# shellcheck source=scripts/lib/defer.sh
source "$repo/scripts/lib/defer.sh"
trap run_deferred EXIT

[[ $(docker plugin inspect -f '{{.Enabled}}' teleroute:latest 2>/dev/null) == true ]] ||
  { echo "bench-teleroute: teleroute:latest is not enabled (run: make plugins)" >&2; exit 1; }
# shellcheck source=demo/cluster/common.sh
source "$repo/demo/cluster/common.sh"
demo_cluster_start "$build_dir"
echo_ip=$(container_ip echo)
"$telepresence" quit >/dev/null 2>&1 || true
"$telepresence" connect --docker >/dev/null
defer "$telepresence" quit

calc() { awk "BEGIN { print $1 }"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
seconds_of() {
  local started ended
  started=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  ended=$(date +%s.%N)
  calc "$ended - $started"
}

teleroute_curl() { "$telepresence" docker-run --rm --pull never tp-curl:latest curl "$@"; }
direct_curl() { docker run --rm --pull never --network tp-demo tp-curl:latest curl "$@"; }

throughput() {
  "$1" -sS -o /dev/null -w '%{speed_download}\n' "http://$echo_ip:8080/bytes/$((download_mib << 20))"
}
first_byte_median() {
  local arguments=() i
  for ((i = 0; i < requests; i++)); do
    arguments+=(-o /dev/null -H 'Connection: close' "http://$echo_ip:8080/r$i")
  done
  "$1" -sS -w '%{time_starttransfer}\n' "${arguments[@]}" | awk '{ print $1 * 1000 }' | median
}

say "throughput, $download_mib MiB per run, $runs runs each way"
teleroute_rates=() direct_rates=() teleroute_first=() direct_first=()
for ((run = 0; run < runs; run++)); do
  direct_rates+=("$(throughput direct_curl)")
  teleroute_rates+=("$(throughput teleroute_curl)")
done
say "time to first byte, $requests new connections per run, $runs runs each way"
for ((run = 0; run < runs; run++)); do
  direct_first+=("$(first_byte_median direct_curl)")
  teleroute_first+=("$(first_byte_median teleroute_curl)")
done

say "container start, $starts runs each"
bridge_starts=() teleroute_starts=() docker_run_starts=()
for ((run = 0; run < starts; run++)); do
  bridge_starts+=("$(seconds_of docker run --rm --pull never --network bridge tp-busybox:latest true)")
  teleroute_starts+=("$(seconds_of docker run --rm --pull never --network "$network" tp-busybox:latest true)")
  docker_run_starts+=("$(seconds_of "$telepresence" docker-run --rm --pull never tp-busybox:latest true)")
done

# plugin_kib PLUGIN FIELD: a field of /proc/PID/status of the plugin's process, in KiB (0 when
# the plugin is not running).
plugin_kib() {
  local pid
  pid=$(pgrep -f "^/$1 plugin" | head -1)
  if [[ -z $pid ]]; then
    echo 0
    return
  fi
  awk -v field="$2:" '$1 == field { print $2 }' "/proc/$pid/status"
}

direct_rate=$(printf '%s\n' "${direct_rates[@]}" | median)
teleroute_rate=$(printf '%s\n' "${teleroute_rates[@]}" | median)
direct_ms=$(printf '%s\n' "${direct_first[@]}" | median)
teleroute_ms=$(printf '%s\n' "${teleroute_first[@]}" | median)
bridge_start=$(printf '%s\n' "${bridge_starts[@]}" | median)
teleroute_start=$(printf '%s\n' "${teleroute_starts[@]}" | median)
docker_run_start=$(printf '%s\n' "${docker_run_starts[@]}" | median)

echo
echo "Teleroute benchmark (median of $runs runs; echo service at $echo_ip)"
printf '%-44s %12s %12s %12s\n' "measure" "direct" "teleroute" "ratio"
printf '%-44s %12.0f %12.0f %12.2f   (target >= 0.50)\n' "TCP download $download_mib MiB, MB/s" \
  "$(calc "$direct_rate / 1000000")" "$(calc "$teleroute_rate / 1000000")" \
  "$(calc "$teleroute_rate / $direct_rate")"
printf '%-44s %12.3f %12.3f %12s   (overhead %.3f ms, target <= 2)\n' \
  "time to first byte, new connection, ms" "$direct_ms" "$teleroute_ms" "" \
  "$(calc "$teleroute_ms - $direct_ms")"
printf '%-44s %12.3f %12.3f %12.2f   (bridge column: Docker default bridge; median of %d)\n' \
  "docker run --rm busybox true, s" "$bridge_start" "$teleroute_start" \
  "$(calc "$teleroute_start / $bridge_start")" "$starts"
printf '%-44s %12s %12.3f %12s\n' "telepresence docker-run --rm busybox true, s" "" \
  "$docker_run_start" ""
for plugin in teleroute telemount; do
  printf '%-44s %12s %9.1f MiB %12s   (anon %.1f, files %.1f, peak %.1f MiB; target 10)\n' \
    "RSS of the $plugin plugin" "" "$(calc "$(plugin_kib "$plugin" VmRSS) / 1024")" "" \
    "$(calc "$(plugin_kib "$plugin" RssAnon) / 1024")" \
    "$(calc "$(plugin_kib "$plugin" RssFile) / 1024")" \
    "$(calc "$(plugin_kib "$plugin" VmHWM) / 1024")"
done
