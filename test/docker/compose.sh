#!/usr/bin/env bash
# End-to-end test of `telepresence compose` on the local demo cluster, with a two-service compose
# file in a folder of its own (the project is named after it): `local-echo` (tp-echo) replaces
# the cluster's echo workload through x-tele, `caller` (tp-busybox, no x-tele) calls echo by
# name. "Inside the cluster" is the greeter workload (`docker exec greeter wget ...`).
#   Bad input first: not connected, an unknown x-tele key, an unknown workload: each a clear
#   sentence, and nothing is left.
#   up -d: echo's traffic (both ports) reaches local-echo; caller reaches echo by its cluster
#   name (through exec, passed through with the same files) and local-echo by its service name;
#   local-echo has the workload's env and a telemount volume with the workload's files; ps
#   passes through; a second up is refused while the project is up.
#   down: echo answers itself again; no engagement, container, volume, network or file of the
#   project is left.
#   up in the foreground: engages while docker-compose runs; a SIGINT to the CLI stops the
#   containers, docker-compose ends, and the engagement with it; down leaves nothing.
#   quit with the project up takes it down first: nothing of it is left. (The mount policy
#   remoteReadOnly gives a read-only volume.)
# A demo cluster that was up before the test is left up; one the test started is removed.
#
# usage: test/docker/compose.sh BUILD_DIR
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

telepresence=$TP_BUILD_DIR/bin/telepresence

command -v docker-compose >/dev/null || die "docker-compose is not installed (scripts/install-deps.sh)"
require_plugins telemount:latest teleroute:latest
use_demo_cluster
require_busybox_image
start_disconnected

work=$(mktemp -d)
defer rm -rf "$work"
project=$TP_PREFIX
project_dir=$work/$project
mkdir -p "$project_dir"
state_dir=${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/compose/$project

# compose ARGS...: `telepresence compose ARGS...` in the project's folder (its default file).
compose() { (cd "$project_dir" && "$telepresence" compose "$@"); }
project_containers() { docker ps -aq --filter "label=com.docker.compose.project=$project"; }
project_volumes() { docker volume ls -q --filter "label=telepresence.compose.project=$project"; }
project_networks() { docker network ls -q --filter "label=com.docker.compose.project=$project"; }
remove_project() {
  compose down -t 1 >/dev/null 2>&1
  project_containers | xargs -r docker rm -f >/dev/null
  project_volumes | xargs -r docker volume rm -f >/dev/null
  project_networks | xargs -r docker network rm >/dev/null
  rm -rf "$state_dir"
}
defer remove_project
# echo_not_engaged: list shows no engagement of echo (or there is no daemon to have one).
echo_not_engaged() {
  local workloads
  workloads=$("$telepresence" list 2>&1) || return 0
  grep -qE '^echo .* -$' <<<"$workloads"
}
# nothing_left: no container, volume, network or state of the project, and echo is not engaged.
nothing_left() {
  [[ -z $(project_containers) && -z $(project_volumes) && -z $(project_networks) ]] &&
    [[ ! -e $state_dir ]] && echo_not_engaged
}
# from_cluster PORT PATH: greeter's request to echo:PORT/PATH, at most 5 s.
from_cluster() { docker exec greeter timeout 5 wget -qO- "http://echo.default:$1/$2"; }
service_container() {
  docker ps -q --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=$1"
}

# write_compose_file WORKLOAD [MOUNT_POLICY]
write_compose_file() {
  cat >"$project_dir/docker-compose.yml" <<EOF
services:
  local-echo:
    image: tp-echo:latest
    command: ["--name", "compose", "--port", "8080", "--port", "9090"]
    x-tele:
      type: replace
      name: $1
      mounts: [{path: /srv/echo-data, policy: ${2:-remote}}]
  caller:
    image: tp-busybox:latest
    command: ["sleep", "3600"]
    stop_grace_period: 1s
EOF
}

heading "bad input"
write_compose_file echo
check_fails "up without a connection says to connect first" "telepresence connect --docker" \
  compose up -d
check "and leaves nothing" nothing_left
check_output "connect --docker" "Connected to" "$telepresence" connect --docker
cat >"$project_dir/docker-compose.yml" <<EOF
services:
  local-echo:
    image: tp-echo:latest
    x-tele: {type: replace, workload: echo}
EOF
check_fails "an unknown x-tele key is named" \
  "service local-echo: x-tele: unknown key workload (the keys are type, name, ports, mounts)" \
  compose up -d
write_compose_file nosuchworkload
check_fails "an unknown workload is named, with the cluster's" \
  "the service local-echo engages the workload nosuchworkload, which the cluster does not have" \
  compose up -d
check "and nothing is left" nothing_left

heading "up -d"
write_compose_file echo
check_output "the workload answers itself before" "echo from echo" from_cluster 8080 before
check_output "compose up -d engages echo for local-echo" "Engaged: the service local-echo" \
  compose up -d
check_output "echo's traffic reaches the compose service" "echo from compose" \
  wait_until_text 30 "echo from compose" from_cluster 8080 replaced
check_output "on every port" "echo from compose" from_cluster 9090 replaced
check_output "caller reaches echo by its cluster name (exec passes through)" "echo from compose" \
  compose exec -T caller wget -qO- http://echo.default:8080/from-caller
check_output "and by its short name" "echo from compose" \
  compose exec -T caller wget -qO- http://echo:8080/short
check_output "caller reaches local-echo by its service name" "echo from compose" \
  compose exec -T caller wget -qO- http://local-echo:8080/neighbour
local_echo=$(service_container local-echo)
check_output "local-echo has the workload's environment" "ECHO_MESSAGE=hello-from-echo" \
  docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$local_echo"
volume=$(project_volumes | head -1)
check_output "and a telemount volume at the workload's mount path" "$volume /srv/echo-data true" \
  docker inspect -f '{{range .Mounts}}{{.Name}} {{.Destination}} {{.RW}}{{end}}' "$local_echo"
check_output "which holds the workload's files" "message" \
  docker run --rm --pull never -v "$volume:/data:ro" tp-busybox:latest ls /data
check_output "list shows the engagement" "replace" "$telepresence" list
check_output "ps passes through with the same files" "${project}_caller_1" compose ps
check_fails "a second up is refused while the project is up" "run telepresence compose down first" \
  compose up -d

heading "down"
check_output "compose down -t 1 ends it" "Ended the engagement" compose down -t 1
check_output "the workload answers itself again" "echo from echo" \
  wait_until_text 20 "echo from echo" from_cluster 8080 after
check "no engagement, container, volume, network or file of the project is left" \
  wait_until 20 "nothing of the project to be left" nothing_left

heading "up in the foreground"
stop_foreground_up() { if [[ -n ${up_pid:-} ]]; then kill -INT "$up_pid" 2>/dev/null || true; fi; }
defer stop_foreground_up
# (A background job of a script starts with SIGINT ignored; the CLI gets it back, as from a
# terminal.)
(cd "$project_dir" && exec env --default-signal=INT "$telepresence" compose up) \
  >"$work/up.log" 2>&1 &
up_pid=$!
check_output "echo's traffic reaches the compose service while compose up runs" \
  "echo from compose" wait_until_text 60 "echo from compose" from_cluster 8080 foreground
kill -INT "$up_pid"
if wait_until 60 "the CLI to end" pid_ended "$up_pid"; then
  wait "$up_pid"
  pass "a SIGINT to the CLI stops the containers, and the CLI ends (exit status $?)"
  up_pid=
else
  fail "the CLI still ran 60 s after SIGINT; its output: $(cat "$work/up.log")"
fi
check_output "the engagement ended with docker-compose" "and the engagements with it" \
  cat "$work/up.log"
check_output "the workload answers itself again" "echo from echo" \
  wait_until_text 20 "echo from echo" from_cluster 8080 after-foreground
check_output "compose down removes the stopped containers" "Removing" compose down
check "and nothing of the project is left" wait_until 20 "nothing of the project to be left" \
  nothing_left

heading "quit with the project up (and a read-only mount)"
write_compose_file echo remoteReadOnly
check_output "compose up -d again" "Engaged: the service local-echo" compose up -d
check_output "the mount policy remoteReadOnly gives a read-only volume" "/srv/echo-data false" \
  docker inspect -f '{{range .Mounts}}{{.Destination}} {{.RW}}{{end}}' \
  "$(service_container local-echo)"
check_output "quit takes the project down first" "Taking down the compose project $project" \
  "$telepresence" quit
check "nothing of the project is left" wait_until 20 "nothing of the project to be left" \
  nothing_left
