#!/usr/bin/env bash
# The engagement demo (the last step of `make demo`): a local container replaces the demo
# cluster's echo workload. It prints the workload's environment and the file of its volume, and
# answers the requests other workloads of the cluster send to echo. When it stops, echo answers
# again and nothing is left.
#
# usage: demo/engage.sh BUILD_DIR
set -euo pipefail

build_dir=$(cd "${1:?usage: demo/engage.sh BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
telepresence=$build_dir/bin/telepresence
handler=intercept-echo-8080

# shellcheck source=demo/lib.sh
source "$repo/demo/lib.sh"
from_the_cluster() { docker exec greeter timeout 5 wget -qO- "http://echo.default:8080/$1"; }

engage_pid=''
finish() {
  local status=$?
  [[ -n $engage_pid ]] && kill -INT "$engage_pid" 2>/dev/null && wait "$engage_pid"
  "$telepresence" quit >/dev/null 2>&1 || true
  if ((status == 0)); then echo "engage demo finished"; else echo "engage demo FAILED (exit status $status)"; fi
}

"$repo/demo/cluster/up.sh" "$build_dir" >/dev/null
"$repo/scripts/build-images.sh" "$build_dir" >/dev/null
"$telepresence" quit >/dev/null 2>&1 || true  # a leftover of an interrupted run
trap finish EXIT

heading "inside the cluster, greeter asks echo: the workload answers"
echo "\$ docker exec greeter wget -qO- http://echo.default:8080/before"
from_the_cluster before

heading "telepresence replace: a local container takes echo's place (connecting first)"
# shellcheck disable=SC2016  # expanded by the shell in the container, not here
script='echo "the remote env: ECHO_MESSAGE=$ECHO_MESSAGE"
echo "the remote volume: /srv/echo-data/message.txt: $(cat /srv/echo-data/message.txt)"
exec echo-server --name local-echo --port 8080 --port 9090'
show "$telepresence" replace echo --docker --docker-run -- --pull never --entrypoint sh \
  tp-echo:latest -c "$script" &
engage_pid=$!
local_echo_answers() {
  docker exec greeter timeout 5 wget -qO- http://echo.default:8080/ | grep -q local-echo
}
wait_until 60 "the local container to answer" local_echo_answers ||
  { echo "the local container did not take echo's traffic within 60 s" >&2; exit 1; }
show "$telepresence" list

heading "inside the cluster, greeter asks echo again: the local container answers"
echo "\$ docker exec greeter wget -qO- http://echo.default:8080/during"
from_the_cluster during

heading "the local container stops: the engagement ends, echo answers again"
echo "\$ docker stop $handler"
docker stop -t 2 "$handler" >/dev/null
wait "$engage_pid" || true
engage_pid=''
echo "\$ docker exec greeter wget -qO- http://echo.default:8080/after"
from_the_cluster after
