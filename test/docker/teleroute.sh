#!/usr/bin/env bash
# End-to-end test of the Teleroute network and `telepresence docker-run` against the local demo
# cluster: connect --docker creates the network tp-default with the daemon on it; docker-run
# containers reach the services by short and full name and by cluster IP, two at once, one
# with a published port; they are not on the cluster network themselves; a subnet the cluster
# gains while a container runs reaches it; the plugin killed, or disabled and enabled, and the
# daemon restarted: running containers keep working and new ones join; malformed driver
# requests get {"Err": ...}; quit leaves nothing behind.
# A demo cluster that was up before the test is left up; one the test started is removed.
#
# usage: test/docker/teleroute.sh BUILD_DIR
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

telepresence=$TP_BUILD_DIR/bin/telepresence
daemon=tp-default-cn
network=tp-default
plugin=teleroute:latest

require_plugins "$plugin"
use_demo_cluster

echo_ip=$(container_ip echo)
greeter_ip=$(container_ip greeter)
[[ -n "$echo_ip" && -n "$greeter_ip" ]] || die "cannot read the demo cluster's addresses"

start_disconnected
state_before=$(host_state) # quit must bring the host back to exactly this

# Containers the test starts are named $TP_PREFIX-*; all are removed at exit.
remove_test_containers() { docker ps -aq --filter "name=$TP_PREFIX" | xargs -r docker rm -f; }
defer remove_test_containers

# fetch_in CONTAINER URL: wget inside a running container, at most 5 s.
fetch_in() { docker exec "$1" sh -c 'timeout 5 wget -qO- "$1"' sh "$2"; }
# docker_run_fetch URL...: a new docker-run container fetches each URL in turn.
docker_run_fetch() {
  # shellcheck disable=SC2016  # expanded by the shell in the container, not here
  timeout 60 "$telepresence" docker-run --rm --pull never tp-busybox:latest \
    sh -c 'for url; do timeout 5 wget -qO- "$url" || exit 1; done' sh "$@"
}
# start_sleeper NAME: a detached docker-run container that waits, to exec into.
start_sleeper() {
  timeout 60 "$telepresence" docker-run -d --name "$TP_PREFIX-$1" --pull never \
    tp-busybox:latest sleep 600 >/dev/null
}

heading "connect --docker creates the Teleroute network"
check_output "connect --docker connects" "Connected to" timeout 90 "$telepresence" connect --docker
check_equal "network $network uses the teleroute driver" "$plugin" \
  "$(docker network inspect -f '{{.Driver}}' "$network" 2>&1)"
daemon_ip=$(container_ip "$daemon" "$network" 2>/dev/null)
check "the daemon container is on it (address $daemon_ip)" test -n "$daemon_ip"
# (The IPv4 subnets: both networks may be dual stack.)
network_subnet=$(network_subnets "$network" | grep -E '^[0-9.]+/' | head -n1)
demo_subnet=$(network_subnets tp-demo | grep -E '^[0-9.]+/' | head -n1)
check "its subnet $network_subnet is not the cluster's ($demo_subnet)" \
  test "$network_subnet" != "$demo_subnet"
check_output "status shows it" "$network" "$telepresence" status

heading "docker-run containers reach the cluster by name and by IP"
for service in echo greeter; do
  check_output "$service by short, namespaced and full name" "echo from $service" \
    docker_run_fetch "http://$service:8080/" "http://$service.default:8080/" \
    "http://$service.default.svc.cluster.local:8080/"
done
check_output "echo and greeter by cluster IP" "echo from greeter" \
  docker_run_fetch "http://$echo_ip:8080/" "http://$greeter_ip:8080/"
check_output "the container's own exit code comes back" "exit 3" \
  bash -c "timeout 60 $(printf '%q' "$telepresence") docker-run --rm --pull never \
    tp-busybox:latest sh -c 'exit 3'; echo exit \$?"

heading "two containers at once, one with a published port"
check "a first container starts" start_sleeper one
check "a second container starts" start_sleeper two
fetch_in "$TP_PREFIX-one" "http://echo:8080/one" >"/tmp/$TP_PREFIX-one.out" 2>&1 &
first=$!
fetch_in "$TP_PREFIX-two" "http://greeter:8080/two" >"/tmp/$TP_PREFIX-two.out" 2>&1 &
second=$!
defer rm -f "/tmp/$TP_PREFIX-one.out" "/tmp/$TP_PREFIX-two.out"
wait "$first"
check_output "the first reaches echo" "echo from echo" cat "/tmp/$TP_PREFIX-one.out"
wait "$second"
check_output "the second, at the same time, reaches greeter" "echo from greeter" \
  cat "/tmp/$TP_PREFIX-two.out"
published_port=$(closed_port)
check "a docker-run echo server with -p 127.0.0.1:$published_port:8080 starts" \
  timeout 60 "$telepresence" docker-run -d --name "$TP_PREFIX-published" --pull never \
  -p "127.0.0.1:$published_port:8080" tp-echo:latest --name published --port 8080
check_output "its port answers on the host" "echo from published" \
  wait_until_output 20 "the published port to answer" curl -sS -m 2 "http://127.0.0.1:$published_port/"
check_output "and it reaches the cluster too" "echo from echo" \
  fetch_in "$TP_PREFIX-published" "http://echo:8080/"

heading "the handler containers are not on the cluster network"
check_equal "the container's only Docker network is $network" "$network" \
  "$(docker container inspect -f '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}' \
    "$TP_PREFIX-one" | xargs)"
check_output "its route to echo goes via the daemon" "via $daemon_ip" \
  docker exec "$TP_PREFIX-one" ip route get "$echo_ip"
check_fails "a container on a plain bridge network cannot reach echo directly" "" \
  docker run --rm --pull never --network bridge tp-busybox:latest \
  sh -c "timeout 4 wget -qO- http://$echo_ip:8080/; exit \$?"  # sh stays PID 1: SIGTERM kills wget

heading "a subnet the cluster gains reaches running containers"
extra_network=$TP_PREFIX-extra
docker network create --label "$TP_PREFIX" "$extra_network" >/dev/null ||
  die "cannot create network $extra_network"
defer docker network rm "$extra_network"
extra_subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$extra_network")
docker run -d --pull never --name "$TP_PREFIX-extra" --network "$extra_network" tp-echo:latest \
  --name extra --port 8080 >/dev/null || die "cannot start the extra workload"
extra_ip=$(container_ip "$TP_PREFIX-extra" "$extra_network")
docker network connect "$extra_network" tp-traffic-manager || die "cannot attach the manager"
defer docker network disconnect -f "$extra_network" tp-traffic-manager
route_gone() { ! docker exec "$TP_PREFIX-one" ip route | grep -q "^$1 "; }
container_has_route() { docker exec "$TP_PREFIX-one" ip route | grep -q "^$1 via $daemon_ip"; }
check "the running container gets a route to $extra_subnet within 30 s" \
  wait_until 30 "the route to $extra_subnet" container_has_route "$extra_subnet"
check_output "and reaches the new workload through it" "echo from extra" \
  wait_until_output 20 "the new workload to answer" fetch_in "$TP_PREFIX-one" "http://$extra_ip:8080/"
docker network disconnect -f "$extra_network" tp-traffic-manager
check "when the cluster loses the subnet, the route goes within 30 s" \
  wait_until 30 "the route to $extra_subnet to go" route_gone "$extra_subnet"
docker rm -f "$TP_PREFIX-extra" >/dev/null
docker network rm "$extra_network" >/dev/null  # before quit's comparison of the host's state

heading "the plugin restarted"
plugin_pid() { pgrep -f '^/teleroute plugin' | head -1; }
plugin_restarted() {
  local pid
  pid=$(plugin_pid)
  [[ -n $pid && $pid != "$old_pid" ]]
}
old_pid=$(plugin_pid)
check "the plugin process is found" test -n "$old_pid"
kill -9 "$old_pid" 2>/dev/null
check "dockerd restarts the killed plugin" \
  wait_until 30 "a new plugin process" plugin_restarted
check_output "a running container keeps working" "echo from echo" \
  fetch_in "$TP_PREFIX-one" "http://echo:8080/"
check_output "a new container joins" "echo from echo" \
  wait_until_output 20 "echo to answer" docker_run_fetch "http://echo:8080/"
check "docker plugin disable -f" docker plugin disable -f "$plugin"
defer docker plugin enable "$plugin"
check "docker plugin enable" docker plugin enable "$plugin"
check_output "a running container still works" "echo from greeter" \
  fetch_in "$TP_PREFIX-two" "http://greeter:8080/"
check_output "a new container joins" "echo from echo" \
  wait_until_output 20 "echo.default to answer" docker_run_fetch "http://echo.default:8080/"

heading "the daemon restarted"
check "docker restart $daemon" docker restart -t 5 "$daemon"
check_output "a running container recovers without a restart" "echo from echo" \
  wait_until_output 30 "echo to answer" fetch_in "$TP_PREFIX-one" "http://echo:8080/"
check_output "names resolve again too" "echo from greeter" \
  wait_until_output 30 "greeter to answer" fetch_in "$TP_PREFIX-two" "http://greeter.default:8080/"

heading "malformed network driver requests get {\"Err\": ...}"
plugin_id=$(docker plugin inspect -f '{{.Id}}' "$plugin")
socket=/run/docker/plugins/$plugin_id/teleroute.sock
# driver_call METHOD BODY: the plugin's answer to one request.
driver_call() {
  curl -sS -m 5 --unix-socket "$socket" -H 'Content-Type: application/json' \
    -d "$2" "http://plugin/NetworkDriver.$1"
}
check_output "CreateEndpoint with no fields" '"Err":' driver_call CreateEndpoint '{}'
check_output "Join with a number for the network id" '"Err":' \
  driver_call Join '{"NetworkID":7,"EndpointID":"x","SandboxKey":"/x"}'
check_output "Join of an unknown endpoint" '"Err":' \
  driver_call Join '{"NetworkID":"nope","EndpointID":"nope","SandboxKey":"/x"}'
check_output "DeleteNetwork of an unknown network" '"Err":' \
  driver_call DeleteNetwork '{"NetworkID":"nope"}'
check_output "a body that is not JSON" '"Err":' driver_call CreateNetwork '{"NetworkID":'
check_output "the plugin keeps serving" '"Scope":"local"' driver_call GetCapabilities '{}'
check_fails "docker network create without the daemon option says so" "option daemon is required" \
  docker network create -d "$plugin" --subnet 10.250.0.0/24 "$TP_PREFIX-bad"

heading "quit leaves nothing behind"
check_output "quit says it removed the network" "$network" "$telepresence" quit
check "network $network is gone" bash -c "! docker network inspect $network"
check "the sleepers were detached from it" bash -c \
  "! docker container inspect -f '{{json .NetworkSettings.Networks}}' $TP_PREFIX-one | grep -q $network"
docker ps -aq --filter name="$TP_PREFIX" | xargs -r docker rm -f >/dev/null
check_equal "containers, networks, volumes, links, routes, rules and nftables are as before" \
  "$state_before" "$(host_state)"
check_fails "docker-run refuses when not connected" "telepresence connect --docker" \
  "$telepresence" docker-run --rm tp-busybox:latest true
