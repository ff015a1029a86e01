#!/usr/bin/env bash
# End-to-end test of the local demo cluster (demo/cluster/up.sh and down.sh): it comes up twice
# without change (idempotent), its services answer by their Kubernetes-style names on the
# tp-demo network, the echo service echoes UDP, the manager answers only on its port on the default bridge's address,
# a container outside tp-demo cannot reach the workloads, and down.sh leaves nothing behind.
# A demo cluster that was up before the test is brought back up at the end.
#
# usage: test/docker/demo_cluster.sh BUILD_DIR
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

up=$TP_REPO/demo/cluster/up.sh
down=$TP_REPO/demo/cluster/down.sh
config_dir=${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker
context_file=$config_dir/contexts/default.json
secret_file=$config_dir/demo-secret
client=$TP_PREFIX-client
demo_containers=(echo greeter tp-traffic-manager)

# demo_container_ids: "name id" per demo container, sorted (empty lines for absent ones).
demo_container_ids() {
  local name
  for name in "${demo_containers[@]}"; do
    echo "$name $(docker container inspect -f '{{.Id}}' "$name" 2>/dev/null)"
  done
}

# in_client COMMAND...: runs COMMAND in the throwaway busybox container on tp-demo.
in_client() { docker exec "$client" "$@"; }

# (busybox-static 1.35 wget crashes with -T: timeout(1) bounds it instead.)
http_get() { in_client timeout 5 wget -qO- "$1"; }

# get_from_new_container NETWORK URL: wget in a new container on NETWORK, at most 4 s. (In the
# container, sh is PID 1 and not wget: a PID 1 without handlers ignores timeout's SIGTERM.)
get_from_new_container() {
  docker run --rm --pull never --network "$1" tp-busybox:latest \
    sh -c 'timeout 4 wget -qO- "$1"; exit $?' sh "$2"
}

# udp_exchange HOST PORT MESSAGE: sends MESSAGE from this host and prints the reply datagram
# (dd reads it whole; bash's read would take it one byte per datagram).
udp_exchange() {
  (
    exec 3<>"/dev/udp/$1/$2" || exit 1
    printf '%s' "$3" >&3
    timeout 3 dd bs=65536 count=1 status=none <&3
  )
}

if docker network inspect tp-demo >/dev/null 2>&1; then
  echo "the demo cluster was up before the test: it is brought back up at the end"
  defer "$up" "$TP_BUILD_DIR"
else
  defer "$down"
fi

heading "up.sh starts the demo cluster, twice without change"
check_output "up.sh starts the demo cluster" "The demo cluster is up" "$up" "$TP_BUILD_DIR"
ids_first=$(demo_container_ids)
check_output "a second up.sh keeps the running containers" "echo is running" "$up" "$TP_BUILD_DIR"
check_equal "the containers are the same after the second up.sh" "$ids_first" "$(demo_container_ids)"
# Its IPv4 subnet, and its IPv6 one where it is dual stack (as up.sh makes it where the kernel
# has IPv6).
mapfile -t tp_demo_subnets < <(network_subnets tp-demo)
subnet=$(printf '%s\n' "${tp_demo_subnets[@]}" | grep -m1 -E '^[0-9.]+/')
subnet6=$(printf '%s\n' "${tp_demo_subnets[@]}" | grep -m1 ':')
[[ -n "$subnet" ]] || die "network tp-demo has no subnet"
echo "tp-demo subnets: $subnet ${subnet6:-(no IPv6)}"
if [[ -e /proc/sys/net/ipv6/conf/all/disable_ipv6 ]]; then
  check_equal "where the kernel has IPv6 the demo cluster is dual stack" "fd00:213::/64" "$subnet6"
fi
subnets_json="\"$subnet\"${subnet6:+,\"$subnet6\"}"

heading "the context file and the secret"
gateway=$(docker_bridge_gateway)
published=$(docker port tp-traffic-manager 8081/tcp)
manager_port=$(grep -m1 -oE "^$gateway:[0-9]+\$" <<<"$published")
manager_port=${manager_port##*:}
[[ -n "$manager_port" ]] || die "the manager's port is not published on $gateway: $published"
check_equal "the manager's port is published on the default bridge's address only" \
  "$gateway:$manager_port" "$published"
check_equal "the context file names the manager, secret, network and subnet" \
  "{\"name\":\"default\",\"manager\":\"$gateway:$manager_port\",\"secret_file\":\"$secret_file\",\"cluster_network\":\"tp-demo\",\"cluster_subnets\":[$subnets_json]}" \
  "$(cat "$context_file" 2>&1)"
check_equal "the secret file is readable by its owner only" 600 "$(stat -c %a "$secret_file" 2>&1)"

heading "services answer by name on tp-demo"
docker run -d --pull never --name "$client" --network tp-demo tp-busybox:latest sleep 300 \
  >/dev/null || die "cannot start the client container"
defer docker rm -f "$client"
for service in echo greeter; do
  for name in "$service" "$service.default" "$service.default.svc.cluster.local"; do
    check_output "http://$name:8080/ answers with its name" "echo from $service" \
      http_get "http://$name:8080/"
  done
done
check_output "the answer shows the method, path and headers" "method: GET" \
  http_get "http://echo:8080/some/path?x=1"
check_output "the answer shows the path" "path: /some/path?x=1" \
  http_get "http://echo:8080/some/path?x=1"
# shellcheck disable=SC2016  # expanded by the container's shell
check_output "echo's environment has ECHO_MESSAGE" "hello-from-echo" \
  docker exec echo sh -c 'echo "$ECHO_MESSAGE"'
echo_ip=$(container_ip echo)
check_output "echo answers by IP on tp-demo" "echo from echo" http_get "http://$echo_ip:8080/"
check_equal "echo echoes UDP with its name" "echo: ping-$TP_PREFIX" \
  "$(udp_exchange "$echo_ip" 8080 "ping-$TP_PREFIX" 2>&1)"

heading "the manager is reachable from the host only through its published port"
check "a TCP connect to $gateway:$manager_port succeeds" \
  bash -c ": </dev/tcp/$gateway/$manager_port"
check_output "the manager listens" "listening on 0.0.0.0:8081 subnets $subnet${subnet6:+,$subnet6}" \
  docker logs tp-traffic-manager

heading "only echo's own agent speaks for echo"
agent_secret_file=$config_dir/demo-agent-secret
check_equal "the agents' secret is readable by its owner only" 600 \
  "$(stat -c %a "$agent_secret_file" 2>&1)"
check "the agents' secret differs from the daemons'" \
  bash -c "! cmp -s $(printf '%q %q' "$secret_file" "$agent_secret_file")"
refusal_logged() { docker logs "$1" 2>&1 | grep -m1 -E 'refused|failed'; }
# impostor NAME SECRET_FILE: a traffic-agent for "echo" on tp-demo with that secret, which the
# manager must refuse; its log (after the first try) is printed. (It runs in check_output's
# subshell, so its container is removed by a defer made here, in the script's own shell.)
defer docker rm -f "$TP_PREFIX-with-daemon-secret" "$TP_PREFIX-with-agent-secret"
impostor() {
  docker run -d --pull never --name "$TP_PREFIX-$1" --network tp-demo -v "$2:/secret:ro" \
    tp-traffic-agent:latest --manager tp-traffic-manager:8081 --secret-file /secret \
    --workload echo --container echo --port 8080 >/dev/null || return 1
  wait_until_output 20 "the refusal in $TP_PREFIX-$1's log" refusal_logged "$TP_PREFIX-$1"
}
check_output "a daemon's secret does not let anyone pose as echo's agent" "wrong secret" \
  impostor with-daemon-secret "$secret_file"
check_output "a second agent cannot take echo over while its agent lives" "still connected" \
  impostor with-agent-secret "$agent_secret_file"
check_output "echo is still served by its own agent" "echo from echo" \
  docker exec echo timeout 3 wget -qO- "http://$echo_ip:8080/"

heading "isolation: a container outside tp-demo cannot reach the workloads"
check_output "a new container on tp-demo reaches echo by IP" "echo from echo" \
  get_from_new_container tp-demo "http://$echo_ip:8080/"
check_fails "a container on the default bridge cannot reach echo by IP" "" \
  get_from_new_container bridge "http://$echo_ip:8080/"

heading "down.sh removes everything but the secret"
check "down.sh succeeds (the client container is still attached)" "$down"
check_equal "no demo container is left" "" \
  "$(docker ps -a --format '{{.Names}}' | grep -xE 'echo|greeter|tp-traffic-manager')"
check_equal "network tp-demo is gone" "" "$(docker network ls --format '{{.Name}}' | grep -x tp-demo)"
check "the context file is gone" test ! -e "$context_file"
check "the secrets are kept" test -s "$secret_file" -a -s "$agent_secret_file"
check "a second down.sh succeeds" "$down"
