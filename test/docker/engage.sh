#!/usr/bin/env bash
# End-to-end test of engagements with --docker-run against the local demo cluster, whose echo
# workload has a traffic-agent (echo-agent), ports 8080 and 9090, env ECHO_MESSAGE and a volume
# at /srv/echo-data. "Inside the cluster" is the greeter workload: requests to echo are made
# with `docker exec greeter wget ...`.
#   replace (connecting implicitly first), intercept of one port, wiretap, ingest: traffic goes
#   where the mode says; the handler sees the workload's env and the files of its volume, and
#   what it writes there appears in the workload; after the handler exits the workload answers
#   again and no engagement, container or volume is left.
#   --mount PATH:ro, and the workload's mount policies (a second traffic-agent with
#   --mount PATH:RemoteReadOnly, :Local and :Ignore): read-only, not mounted, not listed.
#   --docker-build (with --docker-build-opt), --docker-debug, the IMAGE rules.
#   Lifecycle: non-zero exit, Ctrl-C to the CLI, docker run failing on a bad flag.
#   The seeds' own examples verbatim (intercept --docker ... --port 8080 --docker-run --
#   IMAGE-NAME, replace --docker-run, replace --docker-build --docker-build-opt tag=mytag), and
#   --port LOCAL:CONTAINER with two different numbers.
#   Bad input: unknown workload, unknown port, conflicting flags.
# A demo cluster that was up before the test is left up; one the test started is removed.
#
# usage: test/docker/engage.sh BUILD_DIR
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

telepresence=$TP_BUILD_DIR/bin/telepresence

require_plugins telemount:latest teleroute:latest
use_demo_cluster

start_disconnected
remove_test_containers() {
  docker ps -aq --filter "name=$TP_PREFIX" --filter name=intercept- | xargs -r docker rm -f
}
defer remove_test_containers
remove_echo_volumes() {
  docker volume ls -q --filter driver=telemount:latest | { grep '^tp-echo' || true; } |
    xargs -r docker volume rm -f
}
defer remove_echo_volumes
interrupt_engagement() { [[ -n ${engage_pid:-} ]] && kill -INT "$engage_pid"; }
defer interrupt_engagement
state_before=$(host_state)
work=$(mktemp -d)
defer rm -rf "$work"

# from_cluster PORT PATH: greeter's request to echo:PORT/PATH, at most 5 s.
from_cluster() { docker exec greeter timeout 5 wget -qO- "http://echo.default:$1/$2"; }
# echo_volume_file NAME: a file of echo's volume, as the workload sees it.
echo_volume_file() { docker exec echo cat "/srv/echo-data/$1"; }
telemount_volumes() { docker volume ls -q --filter driver=telemount:latest; }
engagements() { "$telepresence" list 2>&1; }
# The handler: prints the remote env and volume, writes a file there, then serves as "handler".
# shellcheck disable=SC2016  # expanded by the shell in the container, not here
handler_script='echo "env ECHO_MESSAGE=$ECHO_MESSAGE"; cat /srv/echo-data/message.txt;
echo "written by $1" >"/srv/echo-data/from-$1.txt" && echo "wrote from-$1.txt";
exec echo-server --name "$1" --port 8080 --port 9090'

# engage_in_background LOG MODE ARGS...: runs `telepresence MODE ARGS...` in the background,
# its output in LOG; sets engage_pid.
engage_in_background() {
  local log=$1
  shift
  # (A background job of a script starts with SIGINT ignored; the CLI gets it back, as from a
  # terminal.)
  env --default-signal=INT "$telepresence" "$@" >"$log" 2>&1 &
  engage_pid=$!
  engage_log=$log
}
# or_engagement_output COMMAND...: runs COMMAND; when it fails, the background CLI's output so far
# follows COMMAND's, so that a failed check shows why the engagement did not take.
or_engagement_output() {
  "$@" && return
  echo "the engagement's output so far:"
  cat "$engage_log"
  return 1
}
# wait_for_exit PID SECONDS: waits for the background CLI (not in a subshell); sets
# engage_status.
wait_for_exit() {
  if ! wait_until "$2" "the CLI to end" pid_ended "$1"; then
    kill -9 "$1" 2>/dev/null
    engage_status=timeout
    return 1
  fi
  wait "$1"
  engage_status=$?
}
# check_cli_ends DESCRIPTION: the background CLI ends within 30 s.
check_cli_ends() {
  if wait_for_exit "$engage_pid" 30; then
    pass "$1 (exit status $engage_status)"
  else
    fail "$1: the CLI still ran after 30 s; its output: $(cat "$engage_log")"
  fi
}
# nothing_left NAME: no engagement (list shows "-" in NAME's row), handler container or
# telemount volume remains.
nothing_left() {
  engagements | grep -qE "^$1 .* -\$" &&
    [[ -z $(docker ps -aq --filter "name=intercept-$1") ]] &&
    [[ -z $(telemount_volumes) ]]
}

heading "replace, connecting implicitly"
check_output "the workload answers itself before" "echo from echo" from_cluster 8080 before
engage_in_background "$work/replace.log" replace echo --docker --docker-run -- --pull never \
  --entrypoint sh tp-echo:latest -c "$handler_script" sh replaced
check_output "the local container answers echo's traffic" "echo from replaced" \
  or_engagement_output wait_until_text 60 "echo from replaced" from_cluster 8080 replace
check_output "on every port" "echo from replaced" from_cluster 9090 replace
check_output "the handler saw the workload's env" "env ECHO_MESSAGE=hello-from-echo" \
  cat "$work/replace.log"
check_output "and the file of its volume" "message" cat "$work/replace.log"
check_output "a file it wrote appears in the workload's volume" "written by replaced" \
  wait_until_output 10 "the file in the workload" echo_volume_file from-replaced.txt
check_output "list shows the engagement" "replace" engagements
# The attacks on the workload's volumes. The daemon's SFTP forward answers only the host (where
# the telemount plugin connects from) and only after the engagement's token (the volume's
# token= option); the agent's SFTP server answers only the token it gave the manager.
forward_port=$(docker logs tp-default-cn 2>&1 | grep -oE 'SFTP forward on port [0-9]+' | tail -1)
forward_port=${forward_port##* }
daemon_ip=$(container_ip tp-default-cn bridge)
sftp_token=$(docker volume inspect -f '{{index .Options "token"}}' \
  "$(telemount_volumes | head -1)")
sftp_init='\000\000\000\005\001\000\000\000\003'
# sftp_init_from_bridge [TOKEN]: the byte count a container on Docker's bridge gets back.
sftp_init_from_bridge() {
  docker run --rm --pull never tp-busybox:latest sh -c \
    "(if [ -n '${1:-}' ]; then printf 'tp-sftp %s\\n' '${1:-}'; fi; printf '$sftp_init'; sleep 2) |
      timeout 5 nc $daemon_ip $forward_port | wc -c"
}
# sftp_init_from_host [TOKEN]: the byte count the host gets back (at most SFTP's VERSION).
sftp_init_from_host() {
  # (busybox nc stops at the end of its input: the sleep keeps it open for the answer.)
  { if [[ -n ${1:-} ]]; then printf 'tp-sftp %s\n' "$1"; fi; printf '%b' "$sftp_init"; sleep 2; } |
    timeout 5 busybox nc "$daemon_ip" "$forward_port" | head -c 9 | wc -c
}
# sftp_init_from_pod: the byte count a pod (greeter) gets from echo's agent without a token, at
# echo's IPv4 address, where the agent's SFTP server listens (a dual-stack name could pick IPv6,
# where nothing listens, and prove nothing).
sftp_init_from_pod() {
  docker exec greeter sh -c \
    "(printf '$sftp_init'; sleep 5) | timeout 7 nc $(container_ip echo) 8022 | wc -c"
}
check "the engagement's volume has a token" test "${#sftp_token}" -eq 32
check_equal "the host with the engagement's token gets SFTP's VERSION" 9 \
  "$(sftp_init_from_host "$sftp_token" 2>&1)"
check_equal "the host without the token gets nothing from the SFTP forward" 0 \
  "$(sftp_init_from_host 2>&1)"
check_equal "a container on the bridge gets nothing from the SFTP forward (port $forward_port)" \
  0 "$(sftp_init_from_bridge 2>&1)"
check_equal "not even with the token" 0 "$(sftp_init_from_bridge "$sftp_token" 2>&1)"
check "(a pod's nc reaches echo at all: echo:9090 answers it)" test "$(docker exec greeter sh -c \
  "(printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 2) | timeout 4 nc echo.default 9090 | wc -c")" -gt 0
check_equal "a pod gets nothing from the agent's SFTP server (echo:8022)" 0 \
  "$(sftp_init_from_pod 2>&1)"
check_output "the handler container has the default name" "intercept-echo-8080" \
  docker ps --format '{{.Names}}'
check "the handler is stopped" docker stop -t 2 intercept-echo-8080
check_cli_ends "the CLI ends with the container"
check_output "the workload answers again" "echo from echo" \
  wait_until_text 20 "echo from echo" from_cluster 8080 after
check "no engagement, container or volume is left" wait_until 20 "nothing to be left" nothing_left echo
docker exec echo rm -f /srv/echo-data/from-replaced.txt

heading "intercept one port"
engage_in_background "$work/intercept.log" intercept echo --port 8080 --docker-run -- \
  --pull never --entrypoint sh tp-echo:latest -c "$handler_script" sh intercepted
check_output "port 8080 goes to the local container" "echo from intercepted" \
  or_engagement_output wait_until_text 60 "echo from intercepted" from_cluster 8080 intercept
check_output "port 9090 still reaches the workload" "echo from echo" from_cluster 9090 intercept
check_output "the handler saw the env" "env ECHO_MESSAGE=hello-from-echo" cat "$work/intercept.log"
check "Ctrl-C to the CLI" kill -INT "$engage_pid"
check_cli_ends "the CLI ends"
check "the container, the engagement and the volume are gone" wait_until 20 "nothing to be left" nothing_left echo
check_output "the workload answers on 8080 again" "echo from echo" \
  wait_until_text 20 "echo from echo" from_cluster 8080 after
docker exec echo rm -f /srv/echo-data/from-intercepted.txt

heading "wiretap"
# shellcheck disable=SC2016  # expanded by the shell in the container, not here
engage_in_background "$work/wiretap.log" wiretap echo --port 8080 --docker-run -- --pull never \
  --entrypoint sh tp-echo:latest -c 'echo "env ECHO_MESSAGE=$ECHO_MESSAGE";
    cat /srv/echo-data/message.txt; while true; do nc -l -p 8080 </dev/null; done'
check "the handler starts" wait_until 60 "the handler's first words" grep -q "env ECHO_MESSAGE=hello-from-echo" \
  "$work/wiretap.log"
engaged_as() { "$telepresence" list | grep -q "$1"; }
check "the engagement is active" wait_until 30 "list to show it" engaged_as wiretap
check_output "the workload still answers" "echo from echo" from_cluster 8080 tapped-request
check_output "the handler got a copy of the request" "GET /tapped-request" \
  wait_until_output 20 "the copy in the handler's log" grep -a "GET /tapped-request" "$work/wiretap.log"
check "Ctrl-C" kill -INT "$engage_pid"
check_cli_ends "the CLI ends"
check "nothing is left" wait_until 20 "nothing to be left" nothing_left echo

heading "ingest: env and volumes, no traffic"
# shellcheck disable=SC2016  # expanded by the shell in the container, not here
check_output "the handler sees env and volume and writes a file" "wrote from-ingested.txt" \
  timeout 90 "$telepresence" ingest echo --docker-run -- --pull never --entrypoint sh \
  tp-echo:latest -c 'echo "env ECHO_MESSAGE=$ECHO_MESSAGE"; cat /srv/echo-data/message.txt;
    echo "written by ingested" >/srv/echo-data/from-ingested.txt && echo wrote from-ingested.txt'
check_output "the file is in the workload's volume" "written by ingested" \
  echo_volume_file from-ingested.txt
check_output "the workload kept answering its own traffic" "echo from echo" from_cluster 8080 x
check "nothing is left" wait_until 20 "nothing to be left" nothing_left echo
docker exec echo rm -f /srv/echo-data/from-ingested.txt
check_output "--env-file writes the remote env for the user" "ECHO_MESSAGE=hello-from-echo" \
  bash -c "timeout 90 $(printf '%q' "$telepresence") ingest echo --env-file $work/echo.env \
    --mount false --docker-run -- --pull never tp-busybox:latest true && cat $work/echo.env"
check_output "--docker-mount puts the volumes under another folder" "message" \
  timeout 90 "$telepresence" ingest echo --docker-mount /remote --docker-run -- --pull never \
  tp-busybox:latest cat /remote/srv/echo-data/message.txt
# shellcheck disable=SC2016  # expanded by the shell in the container, not here
check_output "--mount PATH:ro reads the volume and refuses writes" "read, write refused: ro" \
  timeout 90 "$telepresence" ingest echo --mount /srv/echo-data:ro --docker-run -- --pull never \
  tp-busybox:latest sh -c 'cat /srv/echo-data/message.txt >/dev/null &&
    ! touch /srv/echo-data/ro-probe 2>/tmp/error && grep -q "Read-only file system" /tmp/error &&
    echo "read, write refused: ro"'
check "and nothing was written to the workload's volume" \
  docker exec echo test ! -e /srv/echo-data/ro-probe

heading "the workload's mount policies"
# A second traffic-agent in echo's namespace stands for a workload whose label gives its mounts
# policies (whoever starts the agent turns the label into --mount PATH:POLICY): the volume
# read-only, one mount Local, one ignored. Its own ports, so echo's agent is undisturbed.
policy_agent=$TP_PREFIX-policy-agent
policy_agent_gone() {
  docker rm -f "$policy_agent" >/dev/null 2>&1 || true
  wait_until 20 "the manager to forget policy-echo" bash -c \
    "! $(printf '%q' "$telepresence") list | grep -q policy-echo"
}
defer policy_agent_gone
docker run -d --name "$policy_agent" --network container:echo \
  -v "$demo_agent_secret_file:/run/secrets/tp/secret:ro" \
  -v "$demo_echo_volume:/tel_app_exports/echo/srv/echo-data:ro" \
  tp-traffic-agent:latest --manager "$demo_manager:$demo_manager_port" \
  --secret-file /run/secrets/tp/secret --workload policy-echo --container echo --port 18080 \
  --sftp-port 8023 --mount /srv/echo-data:RemoteReadOnly --mount /srv/elsewhere:Local \
  --mount /srv/hidden:Ignore >/dev/null
check "the workload with policies registers" wait_until 30 "policy-echo in the list" bash -c \
  "$(printf '%q' "$telepresence") list | grep -q policy-echo"
check_output "list shows its policies and not the ignored mount" \
  '"mount_policies":{"/srv/echo-data":"RemoteReadOnly","/srv/elsewhere":"Local"}' \
  "$telepresence" list --output json
check_output "and no /srv/hidden" "no hidden mount" \
  bash -c "$(printf '%q' "$telepresence") list --output json | grep -q /srv/hidden || echo no hidden mount"
# shellcheck disable=SC2016  # expanded by the shell in the container, not here
check_output "RemoteReadOnly is read-only in the handler, Local is not mounted" \
  "read, write refused, nothing at the Local mount" \
  timeout 90 "$telepresence" ingest policy-echo --docker-run -- --pull never \
  tp-busybox:latest sh -c 'cat /srv/echo-data/message.txt >/dev/null &&
    ! touch /srv/echo-data/policy-probe 2>/tmp/error &&
    grep -q "Read-only file system" /tmp/error && [ ! -e /srv/elsewhere ] &&
    echo "read, write refused, nothing at the Local mount"'
check "and nothing was written to the workload's volume" \
  docker exec echo test ! -e /srv/echo-data/policy-probe
check_fails "--mount of a Local mount is refused with the policy" \
  "says its mount /srv/elsewhere is Local: it is never mounted from the cluster" \
  timeout 90 "$telepresence" ingest policy-echo --mount /srv/elsewhere --docker-run -- \
  --pull never tp-busybox:latest true
check "the agent goes, and the manager forgets its workload" policy_agent_gone

heading "--docker-build and --docker-debug"
mkdir -p "$work/context"
# shellcheck disable=SC2016  # expanded by the shell in the container, not here
printf 'FROM tp-busybox:latest\nARG GREETING=none\nRUN echo "greeting $GREETING" >/greeting\n' \
  >"$work/context/Dockerfile"
check_output "--docker-build builds and runs the image, with --docker-build-opt" "greeting hi" \
  timeout 120 "$telepresence" ingest echo --mount false --docker-build "$work/context" \
  --docker-build-opt build-arg=GREETING=hi -- IMAGE cat /greeting
check_output "--docker-debug runs it unconfined, with ptrace" "Seccomp:	0" \
  timeout 120 "$telepresence" ingest echo --mount false --docker-debug "$work/context" -- \
  IMAGE grep Seccomp: /proc/self/status
check_fails "--docker-build wants the image to be IMAGE" "IMAGE" \
  "$telepresence" ingest echo --docker-build "$work/context" -- tp-busybox:latest true
check "nothing is left" wait_until 20 "nothing to be left" nothing_left echo

heading "lifecycle"
check_output "a container that exits 7: the CLI exits 7" "exit 7" bash -c \
  "timeout 90 $(printf '%q' "$telepresence") replace echo --docker-run -- --pull never \
    tp-busybox:latest sh -c 'exit 7'; echo exit \$?"
check "nothing is left" wait_until 20 "nothing to be left" nothing_left echo
check_fails "docker run failing on a bad flag fails the command" "" \
  timeout 90 "$telepresence" replace echo --docker-run -- --no-such-flag tp-busybox:latest true
check "nothing is left" wait_until 20 "nothing to be left" nothing_left echo
check_output "the workload answers" "echo from echo" from_cluster 8080 lifecycle

heading "the seeds' examples, verbatim (echo for frontend-v1, a local image for frontend-v2)"
# IMAGE-NAME: an image built here whose own entrypoint serves echo's ports as "frontend-v2".
frontend_v2=$TP_PREFIX-frontend-v2:latest
mkdir -p "$work/frontend-v2"
printf 'FROM tp-echo:latest\nENTRYPOINT ["/bin/echo-server", "--name", "frontend-v2", "--port", "8080", "--port", "9090"]\n' \
  >"$work/frontend-v2/Dockerfile"
defer docker rmi -f "$frontend_v2"
check "IMAGE-NAME is built locally" docker build -q -t "$frontend_v2" "$work/frontend-v2"
# seed_example DESCRIPTION HANDLER ARGS...: runs `telepresence ARGS...` in the background; echo's
# in-cluster traffic reaches it; stopping the container HANDLER ends it, and nothing is left.
seed_example() {
  local description=$1 handler=$2
  shift 2
  engage_in_background "$work/seed.log" "$@"
  check_output "$description: echo's traffic reaches the local image" "echo from frontend-v2" \
    or_engagement_output wait_until_text 60 "echo from frontend-v2" from_cluster 8080 seed
  check "$description: its container stops" docker stop -t 2 "$handler"
  check_cli_ends "$description: the command ends with it"
  check "$description: nothing is left" wait_until 20 "nothing to be left" nothing_left echo
}
seed_example "intercept --docker echo --port 8080 --docker-run -- IMAGE-NAME" \
  intercept-echo-8080 intercept --docker echo --port 8080 --docker-run -- "$frontend_v2"
seed_example "replace echo --docker-run -- IMAGE-NAME" intercept-echo-8080 \
  replace echo --docker-run -- "$frontend_v2"
# --docker-build-opt tag=mytag: the seeds' own tag, unless this engine has an image of that name.
tag=mytag
if docker image inspect "$tag" >/dev/null 2>&1; then
  tag=$TP_PREFIX-mytag
  echo "NOTE: an image mytag exists on this engine already; the example tags $tag instead"
fi
defer docker rmi -f "$tag"
seed_example "replace echo --docker-build DIR --docker-build-opt tag=$tag -- IMAGE" \
  intercept-echo-8080 replace echo --docker-build "$work/frontend-v2" \
  --docker-build-opt "tag=$tag" -- IMAGE
check_equal "the built image carries the tag $tag" \
  "$(docker image inspect -f '{{.Id}}' "$frontend_v2")" \
  "$(docker image inspect -f '{{.Id}}' "$tag:latest" 2>&1)"

heading "--port LOCAL:CONTAINER: the workload's port LOCAL reaches the handler's port CONTAINER"
engage_in_background "$work/port.log" intercept echo --port 8080:8081 --docker-run -- \
  --pull never tp-echo:latest --name on-8081 --port 8081
check_output "in-cluster requests to echo:8080 reach the handler listening on 8081" \
  "echo from on-8081" \
  or_engagement_output wait_until_text 60 "echo from on-8081" from_cluster 8080 moved
check_output "echo's other port still reaches the workload" "echo from echo" \
  from_cluster 9090 moved
check "Ctrl-C" kill -INT "$engage_pid"
check_cli_ends "the CLI ends"
check "nothing is left" wait_until 20 "nothing to be left" nothing_left echo

heading "bad input"
check_fails "unknown workload" "telepresence list" \
  "$telepresence" replace nope --docker-run -- tp-busybox:latest true
check_fails "unknown port (the error names the workload's ports)" "8080, 9090" \
  "$telepresence" intercept echo --port 7070 --docker-run -- tp-busybox:latest true
check_fails "--docker-run with --docker-build" "docker-build" \
  "$telepresence" replace echo --docker-run --docker-build "$work/context" -- IMAGE true
check_fails "--docker-mount with --mount=false" "docker-mount" \
  "$telepresence" replace echo --mount=false --docker-mount /x --docker-run -- tp-busybox true
check_fails "no --docker-run" "docker-run" "$telepresence" replace echo -- tp-busybox:latest true
check "nothing is left" wait_until 20 "nothing to be left" nothing_left echo

heading "quit leaves nothing behind"
check "quit" "$telepresence" quit
check_equal "containers, networks, volumes, links, routes, rules and nftables are as before" \
  "$state_before" "$(host_state)"
