#!/usr/bin/env bash
# Benchmark of an engagement against the local demo cluster, in one run:
#   * HTTP request latency (median and p99 of time_total, a new connection per request) and
#     download throughput, from a curl container inside the cluster (on tp-demo) to the echo
#     service: answered by the workload itself (through its traffic-agent), then by a local
#     handler container that replaces it (agent -> manager -> tunnel -> daemon -> handler);
#   * the time from `telepresence replace ... --docker-run` to the handler container running,
#     and to the first request it answers.
# Each throughput figure is the median of RUNS runs (default 3). The demo cluster is started if it
# is not up (and removed again at the end); the connection is made for the run and closed after.
#
# usage: bench/engage.sh BUILD_DIR [RUNS]
set -euo pipefail

build_dir=$(cd "${1:?usage: bench/engage.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
telepresence=$build_dir/bin/telepresence
download_mib=256
requests=200
handler=intercept-echo-8080

say() { echo "bench-engage: $*" >&2; }

# shellcheck source=scripts/lib/defer.sh
source "$repo/scripts/lib/defer.sh"
trap run_deferred EXIT

for plugin in telemount:latest teleroute:latest; do
  [[ $(docker plugin inspect -f '{{.Enabled}}' "$plugin" 2>/dev/null) == true ]] ||
    { echo "bench-engage: $plugin is not enabled (run: make plugins)" >&2; exit 1; }
done
# shellcheck source=demo/cluster/common.sh
source "$repo/demo/cluster/common.sh"
demo_cluster_start "$build_dir"
"$telepresence" quit >/dev/null 2>&1 || true
"$telepresence" connect --docker >/dev/null
defer "$telepresence" quit

calc() { awk "BEGIN { print $1 }"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
p99() { sort -g | awk '{ v[NR] = $1 } END { i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; print v[i] }'; }
now() { date +%s.%N; }

cluster_curl() { docker run --rm --pull never --network tp-demo tp-curl:latest curl "$@"; }
# request_times: time_total in ms of $requests requests, each on a new connection.
request_times() {
  local arguments=() i
  for ((i = 0; i < requests; i++)); do
    arguments+=(-o /dev/null -H 'Connection: close' "http://echo.default:8080/r$i")
  done
  cluster_curl -sS -w '%{time_total}\n' "${arguments[@]}" | awk '{ print $1 * 1000 }'
}
throughput() {
  cluster_curl -sS -o /dev/null -w '%{speed_download}\n' \
    "http://echo.default:8080/bytes/$((download_mib << 20))"
}
answered_by() { docker exec greeter timeout 3 wget -qO- http://echo.default:8080/ 2>/dev/null | grep -q "echo from $1"; }
# shellcheck source=scripts/lib/wait.sh
source "$repo/scripts/lib/wait.sh"
WAIT_POLL=0.02  # the times measured are set-up times: poll often

say "the workload itself: $requests requests, $runs downloads of $download_mib MiB"
workload_times=$(request_times)
workload_rates=()
for ((run = 0; run < runs; run++)); do workload_rates+=("$(throughput)"); done

say "replacing echo with a local handler"
log=$(mktemp)
defer rm -f "$log"
started=$(now)
"$telepresence" replace echo --docker-run -- --pull never tp-echo:latest \
  --name handler --port 8080 --port 9090 >"$log" 2>&1 &
engage_pid=$!
stop_engagement() {
  kill -INT "$engage_pid"
  wait "$engage_pid"
}
defer stop_engagement
container_running() { [[ $(docker container inspect -f '{{.State.Running}}' "$handler" 2>/dev/null) == true ]]; }
wait_until 60 "the handler container to run" container_running || { cat "$log" >&2; exit 1; }
running_after=$(calc "$(now) - $started")
wait_until 60 "the handler to answer" answered_by handler || { cat "$log" >&2; exit 1; }
answering_after=$(calc "$(now) - $started")

say "the handler: $requests requests, $runs downloads of $download_mib MiB"
handler_times=$(request_times)
handler_rates=()
for ((run = 0; run < runs; run++)); do handler_rates+=("$(throughput)"); done

workload_median=$(median <<<"$workload_times")
handler_median=$(median <<<"$handler_times")
workload_p99=$(p99 <<<"$workload_times")
handler_p99=$(p99 <<<"$handler_times")
workload_rate=$(printf '%s\n' "${workload_rates[@]}" | median)
handler_rate=$(printf '%s\n' "${handler_rates[@]}" | median)

echo
echo "Engagement benchmark (requests from inside the cluster to echo.default:8080)"
printf '%-44s %12s %12s %12s\n' "measure" "workload" "handler" "ratio"
printf '%-44s %12.3f %12.3f %12.2f\n' "request latency, new connection, median ms" \
  "$workload_median" "$handler_median" "$(calc "$handler_median / $workload_median")"
printf '%-44s %12.3f %12.3f %12.2f\n' "request latency, new connection, p99 ms" \
  "$workload_p99" "$handler_p99" "$(calc "$handler_p99 / $workload_p99")"
printf '%-44s %12.0f %12.0f %12.2f\n' "download $download_mib MiB, MB/s" \
  "$(calc "$workload_rate / 1000000")" "$(calc "$handler_rate / 1000000")" \
  "$(calc "$handler_rate / $workload_rate")"
printf '%-44s %12s %12.3f %12s   (target < 2)\n' "replace --docker-run to handler running, s" "" \
  "$running_after" ""
printf '%-44s %12s %12.3f\n' "replace --docker-run to first answer, s" "" "$answering_after"
