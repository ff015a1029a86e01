#!/usr/bin/env bash
# End-to-end test of `telepresence connect --docker` against the local demo cluster: the daemon
# container connects, `telepresence curl` reaches the services by short, namespaced and full name
# and by cluster IP, UDP goes through, a container that is not ours cannot reach the cluster, the
# tunnel survives the manager being killed and brought back, quit leaves nothing behind, and bad
# input (unknown context, unreachable manager, wrong secret, loopback manager, garbage on the
# manager's port) gets a clear error.
# A demo cluster that was up before the test is left up; one the test started is removed.
#
# usage: test/docker/connect.sh BUILD_DIR
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

up=$TP_REPO/demo/cluster/up.sh
telepresence=$TP_BUILD_DIR/bin/telepresence
daemon=tp-default-cn

use_demo_cluster

echo_ip=$(container_ip echo)
greeter_ip=$(container_ip greeter)
gateway=$(docker_bridge_gateway)
manager_port=$(docker port tp-traffic-manager 8081/tcp | awk -F: -v gw="$gateway" '$1 == gw { print $2 }')
[[ -n "$echo_ip" && -n "$greeter_ip" && -n "$manager_port" ]] ||
  die "cannot read the demo cluster's addresses"


start_disconnected
state_before=$(host_state)  # quit must bring the host back to exactly this

# curl_cluster URL: telepresence curl, bounded; prints the body.
curl_cluster() { timeout 30 "$telepresence" curl -sS -m 8 "$1"; }

heading "connect --docker"
check_output "connect --docker connects to the demo cluster's manager" \
  "Connected to $gateway:$manager_port" timeout 60 "$telepresence" connect --docker
check_equal "the daemon container runs" true \
  "$(docker container inspect -f '{{.State.Running}}' "$daemon" 2>&1)"
check_equal "the daemon container is not privileged" false \
  "$(docker container inspect -f '{{.HostConfig.Privileged}}' "$daemon" 2>&1)"
check_output "the daemon container has NET_ADMIN and no other added capability" \
  "only NET_ADMIN" bash -c "docker container inspect -f '{{.HostConfig.CapAdd}}' $daemon |
    grep -qxE '\[(CAP_)?NET_ADMIN\]' && echo only NET_ADMIN"
check_equal "the control API is published on 127.0.0.1 only" 127.0.0.1 \
  "$(docker port "$daemon" 8787/tcp | cut -d: -f1 | sort -u)"
heading "the control API takes changes only from telepresence (its token)"
daemon_bridge_ip=$(container_ip "$daemon" bridge)
daemon_teleroute_ip=$(container_ip "$daemon" tp-default)
# curl_from_bridge ARGS...: curl in a container of ours on Docker's default bridge.
curl_from_bridge() { timeout 30 docker run --rm --pull never tp-curl:latest curl -sS -m 5 "$@"; }
check_output "POST /quit from a container on Docker's bridge is refused (401)" \
  "POST /quit needs the daemon's control token" \
  curl_from_bridge -X POST "http://$daemon_bridge_ip:8787/quit"
check_output "POST /engagements from there is refused too" \
  "POST /engagements needs the daemon's control token" \
  curl_from_bridge -X POST -H 'Content-Type: application/json' -d '{"workload":"echo"}' \
  "http://$daemon_bridge_ip:8787/engagements"
check_output "POST /quit from the Teleroute network is refused" \
  "POST /quit needs the daemon's control token" \
  timeout 30 "$telepresence" docker-run --rm --pull never tp-curl:latest curl -sS -m 5 -X POST \
  "http://$daemon_teleroute_ip:8787/quit"
check_output "GET /engagements (the workloads' environments) from there is refused" \
  "GET /engagements needs the daemon's control token" \
  curl_from_bridge "http://$daemon_bridge_ip:8787/engagements"
check_output "GET /workloads from the Teleroute network is refused" \
  "GET /workloads needs the daemon's control token" \
  timeout 30 "$telepresence" docker-run --rm --pull never tp-curl:latest curl -sS -m 5 \
  "http://$daemon_teleroute_ip:8787/workloads"
check_output "GET /status stays open (the Teleroute plugin reads it)" '"connected":true' \
  curl_from_bridge "http://$daemon_bridge_ip:8787/status"
check_output "the daemon still runs, connected" "Connected: yes" "$telepresence" status
check_output "a second connect says it is already connected" "Already connected" \
  timeout 30 "$telepresence" connect --docker
check_output "status says connected" "Connected: yes" "$telepresence" status
mapfile -t tp_demo_subnets < <(network_subnets tp-demo)
subnet=$(printf '%s\n' "${tp_demo_subnets[@]}" | grep -m1 -E '^[0-9.]+/')
subnet6=$(printf '%s\n' "${tp_demo_subnets[@]}" | grep -m1 ':')
check_output "status shows the capture of the cluster's subnets" \
  "Capture: TCP and UDP to $subnet${subnet6:+, $subnet6} on port" "$telepresence" status
check_output "status --output json says connected" '"connected":true' \
  "$telepresence" status --output json

heading "telepresence curl reaches the services by name and by IP"
for service in echo greeter; do
  for name in "$service" "$service.default" "$service.default.svc.cluster.local"; do
    check_output "curl http://$name:8080/ answers with its name" "echo from $service" \
      curl_cluster "http://$name:8080/"
  done
done
check_output "curl http://$echo_ip:8080/ (echo's cluster IP)" "echo from echo" \
  curl_cluster "http://$echo_ip:8080/"
check_output "curl http://$greeter_ip:8080/ (greeter's cluster IP)" "echo from greeter" \
  curl_cluster "http://$greeter_ip:8080/"
check_output "curl passes its flags: -d -H (a POST with a header)" "X-Probe: $TP_PREFIX" \
  timeout 30 "$telepresence" curl -sS -m 8 -d "x=1" -H "X-Probe: $TP_PREFIX" http://echo:8080/p
check_fails "curl's own error comes through for a closed port" "" \
  timeout 30 "$telepresence" curl -sS -m 8 "http://$echo_ip:9/"

megabytes=64
size=$(timeout 60 "$telepresence" curl -sS -m 50 -o /dev/null -w '%{size_download}' \
  "http://echo:8080/bytes/$((megabytes << 20))" 2>&1)
check_equal "a $megabytes MiB download arrives whole" "$((megabytes << 20))" "$size"

heading "UDP goes through the tunnel"
# udp_from_daemon_network IP PORT MESSAGE: udp-exchange in a container sharing the daemon's network.
udp_from_daemon_network() {
  docker run --rm --pull never --network "container:$daemon" --entrypoint /bin/udp-exchange \
    tp-echo:latest "$@"
}
check_output "a datagram to echo's cluster IP comes back from echo" "echo: ping-$TP_PREFIX" \
  udp_from_daemon_network "$echo_ip" 8080 "ping-$TP_PREFIX"
check_output "the reply comes from the address it was sent to" "reply from $echo_ip:8080" \
  udp_from_daemon_network "$echo_ip" 8080 "ping-$TP_PREFIX"

heading "only the tunnel reaches the cluster"
# get_from_new_container NETWORK URL: wget in a new busybox container, at most 4 s.
get_from_new_container() {
  docker run --rm --pull never --network "$1" tp-busybox:latest \
    sh -c 'timeout 4 wget -qO- "$1"; exit $?' sh "$2"
}
check_fails "a container of ours on the default bridge cannot reach echo directly" "" \
  get_from_new_container bridge "http://$echo_ip:8080/"
check_output "a container sharing the daemon's network reaches it" "echo from echo" \
  get_from_new_container "container:$daemon" "http://$echo_ip:8080/"

heading "the manager killed during traffic, then back"
# A download of 1 TiB runs for minutes; killing the manager must end it within seconds.
download_log=/tmp/$TP_PREFIX-download.log
defer rm -f "$download_log"
timeout 120 "$telepresence" curl -sS -o /dev/null "http://echo:8080/bytes/$((1 << 40))" \
  >"$download_log" 2>&1 &
download=$!
defer kill "$download"  # it has usually ended by then
curl_container_runs() { docker ps --filter ancestor=tp-curl:latest --format '{{.ID}}' | grep -q .; }
wait_until 20 "the download's curl container" curl_container_runs || die "the download's curl container does not start"
# The manager's side of the download: its connection to echo (at either of its addresses: curl
# picks IPv6 in a dual-stack cluster), seen in its network namespace.
echo_ip6=$(container_ip6 echo)
manager_connections_to() {
  nsenter -t "$(docker container inspect -f '{{.State.Pid}}' tp-traffic-manager)" -n \
    ss -Htn state established dst "$1" | grep -q .
}
manager_relays_to_echo() {
  manager_connections_to "$echo_ip:8080" ||
    { [[ -n "$echo_ip6" ]] && manager_connections_to "[$echo_ip6]:8080"; }
}
wait_until 20 "the manager's connection to echo" manager_relays_to_echo || die "the download does not reach echo through the manager"
docker kill tp-traffic-manager >/dev/null || die "cannot kill the manager"
defer "$up" "$TP_BUILD_DIR"
started=$SECONDS
wait "$download"
download_status=$?
elapsed=$((SECONDS - started))
check "the running download fails (curl exit $download_status: $(tr '\n' ' ' <"$download_log"))" \
  test "$download_status" -ne 0 -a "$download_status" -ne 124
check "... within 5 s of the manager's death (took $elapsed s)" test "$elapsed" -le 5
started=$SECONDS
check_fails "with the manager gone, a new curl by IP fails" "" \
  timeout 30 "$telepresence" curl -sS -m 20 "http://$echo_ip:8080/"
elapsed=$((SECONDS - started))
check "... and fails fast (took ${elapsed} s, at most 8 s with the container start)" \
  test "$elapsed" -le 8
check_output "status says not connected, with the reason" "Connected: no" "$telepresence" status
docker start tp-traffic-manager >/dev/null || die "cannot start the manager again"
connected() { "$telepresence" status | grep -q 'Connected: yes'; }
check "with the manager back, the daemon reconnects by itself within 20 s" \
  wait_until 20 "status to say connected" connected
check_output "curl works again without user action" "echo from echo" curl_cluster "http://echo:8080/"

heading "bad input gets a clear error"
# (cat ends with 0 on a close, 1 on a reset; timeout's 124 means the manager kept it open.)
check "the manager hangs up on garbage at once" \
  bash -c "exec 3<>/dev/tcp/$gateway/$manager_port; printf 'GET / HTTP/1.0\r\n\r\n' >&3
    timeout 5 cat <&3; test \$? -ne 124"
check_output "... and the manager keeps serving" "echo from echo" curl_cluster "http://echo:8080/"
check_fails "an unknown context names the contexts that exist" "default" \
  "$telepresence" connect --docker --context "no-such-$TP_PREFIX"
check_fails "a loopback manager address is refused with advice" "loopback" \
  "$telepresence" connect --docker --manager "127.0.0.1:$manager_port"
other_config=$(mktemp -d)
defer rm -rf "$other_config"
mkdir -p "$other_config/telepresence-docker/contexts"
echo wrong-secret >"$other_config/secret"
printf '{"name":"wrong","manager":"%s:%s","secret_file":"%s/secret","cluster_network":"tp-demo","cluster_subnets":[]}\n' \
  "$gateway" "$manager_port" "$other_config" >"$other_config/telepresence-docker/contexts/wrong.json"
started=$SECONDS
check_fails "a wrong secret fails with the manager's refusal" "refused" \
  env XDG_CONFIG_HOME="$other_config" timeout 60 "$telepresence" connect --docker --context wrong
check "... at once (took $((SECONDS - started)) s)" test $((SECONDS - started)) -le 10
check "... and leaves no daemon container" bash -c "! docker container inspect tp-wrong-cn"
closed_port=$(closed_port)
check_fails "an unreachable manager fails with the daemon's last error" "" \
  env XDG_CONFIG_HOME="$other_config" timeout 60 "$telepresence" connect --docker --context wrong \
  --manager "$gateway:$closed_port" --timeout 5
check "... and leaves no daemon container" bash -c "! docker container inspect tp-wrong-cn"
printf '\n  \n' >"$other_config/secret"  # not empty, yet no secret: the daemon stops at once
check_fails "a daemon that stops before it connects is quoted: its last words say why" \
  "its last words:"$'\n'"  telepresence-daemon: cannot read a secret from" \
  env XDG_CONFIG_HOME="$other_config" timeout 60 "$telepresence" connect --docker --context wrong
check "... and leaves no daemon container" bash -c "! docker container inspect tp-wrong-cn"

heading "quit leaves nothing behind"
check_output "quit stops the daemon" "" "$telepresence" quit
check "the daemon container is gone" bash -c "! docker container inspect $daemon"
check_equal "containers, networks, volumes, links, routes, rules and nftables are as before" \
  "$state_before" "$(host_state)"
check_output "status says not connected" "Not connected" "$telepresence" status
check_fails "curl says to connect first" "telepresence connect" \
  "$telepresence" curl -sS http://echo:8080/
check_output "a second quit is harmless" "" "$telepresence" quit
