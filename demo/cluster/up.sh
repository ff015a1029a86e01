#!/usr/bin/env bash
# Starts the local demo cluster (`make demo-cluster`): a Docker network that stands for a
# Kubernetes cluster, two workloads and the traffic-manager. Idempotent: what already runs with
# the same image and settings is kept; what differs or stopped is recreated.
#
#   network tp-demo      a user-defined bridge on the first /24 of 10.213.0.0/20 that overlaps
#                        no other Docker network and no route of this host
#   container echo       tp-echo, `echo-server --name echo --port 8080 --port 9090
#                        --tcp-address 127.0.0.1` (HTTP + UDP echo; TCP on loopback only, the
#                        pod address is its agent's), names echo, echo.default,
#                        echo.default.svc.cluster.local, env ECHO_MESSAGE=hello-from-echo,
#                        volume tp-demo-echo-data at /srv/echo-data (holds message.txt)
#   container echo-agent tp-traffic-agent in echo's network namespace (--network container:echo):
#                        listens on echo's address on 8080 and 9090 and forwards to echo on
#                        127.0.0.1 (or to an engagement's handler), registers echo with the
#                        traffic-manager (env from ~/.config/telepresence-docker/demo-agent/
#                        echo.env, written from echo's `docker inspect`), and serves the volume
#                        over SFTP on echo's address:8022 (mounted at
#                        /tel_app_exports/echo/srv/echo-data)
#   container greeter    the same on 8080 with the name greeter (greeter, greeter.default, ...)
#   container tp-traffic-manager
#                        tp-traffic-manager on port 8081, published on one port of the address
#                        of Docker's default bridge on this host (e.g. 172.17.0.1:18081), the way
#                        `kubectl port-forward` would give it: the host and the daemon container
#                        (on the default bridge) reach it there, nothing outside this host can.
#                        The port is kept across runs, so a restarted manager is found again.
#                        The daemons' shared secret is made once and kept in
#                        ~/.config/telepresence-docker/demo-secret (0600); the traffic-agents
#                        have their own, demo-agent-secret beside it, which daemons never see
#
# Then it writes the default context, the file `telepresence connect --docker` reads when no
# --context is given: ~/.config/telepresence-docker/contexts/default.json ($XDG_CONFIG_HOME
# instead of ~/.config when set), one JSON object:
#   {
#     "name": "default",                       the context's name (the file's base name)
#     "manager": "172.17.0.1:PORT",            where the traffic-manager answers (host and daemon)
#     "secret_file": "/root/.config/telepresence-docker/demo-secret",  the shared secret
#     "cluster_network": "tp-demo",            the Docker network standing for the cluster
#     "cluster_subnets": ["10.213.0.0/24", "fd00:213::/64"]   the cluster's subnets (as the
#                                              manager reports them; IPv4 first)
#   }
#
# The network is dual stack, as more and more clusters are, where this host's kernel has IPv6:
# every container gets an IPv6 address of fd00:213::/64 as well, and the manager reports both
# subnets (an existing network without it is recreated). TP_DEMO_IPV6=PREFIX takes another
# prefix; TP_DEMO_IPV6= (empty) keeps the cluster IPv4 only.
#
# usage: demo/cluster/up.sh BUILD_DIR     (demo/cluster/down.sh removes it all again)
set -euo pipefail

build_dir=${1:?usage: demo/cluster/up.sh BUILD_DIR}
if [[ -v TP_DEMO_IPV6 ]]; then
  ipv6_subnet=$TP_DEMO_IPV6
elif [[ -e /proc/sys/net/ipv6/conf/all/disable_ipv6 ]]; then
  ipv6_subnet=fd00:213::/64
else
  ipv6_subnet=
fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=demo/cluster/common.sh
source "$here/common.sh"
# shellcheck source=scripts/lib/docker-bridge.sh
source "$repo/scripts/lib/docker-bridge.sh"
# shellcheck source=scripts/lib/wait.sh
source "$repo/scripts/lib/wait.sh"

say() { echo "demo-cluster: $*"; }
die() {
  echo "demo-cluster: $*" >&2
  exit 1
}

# --- subnets -------------------------------------------------------------------------------

ipv4_to_number() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# subnets_overlap CIDR CIDR: the two IPv4 ranges share an address (a bare address is a /32).
subnets_overlap() {
  local first=$1 second=$2
  [[ $first == */* ]] || first+=/32
  [[ $second == */* ]] || second+=/32
  local first_length=${first#*/} second_length=${second#*/}
  local length=$((first_length < second_length ? first_length : second_length))
  local mask=$(((0xffffffff << (32 - length)) & 0xffffffff))
  local first_address second_address
  first_address=$(ipv4_to_number "${first%/*}")
  second_address=$(ipv4_to_number "${second%/*}")
  (((first_address & mask) == (second_address & mask)))
}

# The IPv4 subnets already in use: every Docker network's and every route's destination.
used_subnets() {
  local networks
  mapfile -t networks < <(docker network ls -q)
  if ((${#networks[@]})); then
    docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{"\n"}}{{end}}' "${networks[@]}"
  fi
  if command -v ip >/dev/null; then ip -4 route show table all | awk '{ print $1 }'; fi
}

pick_free_subnet() {
  local used candidate subnet n
  mapfile -t used < <(used_subnets | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(/[0-9]+)?$' | sort -u)
  for n in {0..15}; do
    candidate=10.213.$n.0/24
    for subnet in "${used[@]}"; do
      subnets_overlap "$candidate" "$subnet" && continue 2
    done
    echo "$candidate"
    return
  done
  die "every candidate subnet 10.213.0-15.0/24 clashes with a Docker network or route of this host"
}

# --- network -------------------------------------------------------------------------------

# The network's IPv4 subnet; fails when it has none.
network_subnet() {
  local subnets
  subnets=$(network_subnets "$demo_network" | grep -E '^[0-9.]+/[0-9]+$') || return 1
  echo "${subnets%%$'\n'*}"
}

# The network's IPv6 subnet, "" when it has none.
network_ipv6_subnet() {
  local subnets
  subnets=$(network_subnets "$demo_network" | grep ':') || return 0
  echo "${subnets%%$'\n'*}"
}

network_is_healthy() {
  [[ $(docker network inspect -f '{{.Driver}}' "$demo_network" 2>/dev/null) == bridge ]] &&
    network_subnet >/dev/null || return 1
  [[ -z "$ipv6_subnet" || "$(network_ipv6_subnet)" == "$ipv6_subnet" ]]
}

remove_demo_containers() {
  local name
  for name in "$demo_agent" "${demo_workloads[@]}" "$demo_manager"; do
    if container_is_ours "$name"; then docker rm -f "$name" >/dev/null; fi
  done
}

# Sets subnet to the network's subnet, creating the network when needed.
ensure_network() {
  if docker network inspect "$demo_network" >/dev/null 2>&1; then
    network_is_ours "$demo_network" ||
      die "a network named $demo_network exists that this script did not create; remove it first"
    if network_is_healthy; then
      subnet=$(network_subnet)
      say "network $demo_network ($subnet) exists"
      return
    fi
    say "network $demo_network is not a bridge with the subnets asked for; recreating it"
    remove_demo_containers
    docker network rm "$demo_network" >/dev/null
  fi
  subnet=$(pick_free_subnet)
  local ipv6=()
  [[ -z "$ipv6_subnet" ]] || ipv6=(--ipv6 --subnet "$ipv6_subnet")
  docker network create --driver bridge --subnet "$subnet" "${ipv6[@]}" --label "$demo_label" \
    "$demo_network" >/dev/null
  say "created network $demo_network ($subnet${ipv6_subnet:+ $ipv6_subnet})"
}

# --- secret --------------------------------------------------------------------------------

# make_secret FILE: 32 random bytes in hex, readable by its owner only, unless FILE has one.
make_secret() {
  [[ -s "$1" ]] && return
  mkdir -p "$(dirname "$1")"
  local temporary=$1.tmp.$$
  (
    umask 077
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$temporary"
    echo >>"$temporary"
  )
  mv "$temporary" "$1"
  say "made a new secret in $1"
}

# Daemons and traffic-agents hold different secrets: a developer's daemon cannot pose as a
# workload's agent.
ensure_secret() {
  make_secret "$demo_secret_file"
  make_secret "$demo_agent_secret_file"
}

# --- containers ----------------------------------------------------------------------------

# ensure_container NAME IMAGE DOCKER_RUN_OPTION... -- COMMAND_ARG...
# Runs IMAGE as NAME on the demo network (unless the options give a --network) unless NAME
# already runs with the same image, network and arguments (their hash is the label
# tp.demo.spec).
ensure_container() {
  local name=$1 image=$2
  shift 2
  local options=() arguments=()
  while (($#)) && [[ $1 != -- ]]; do
    options+=("$1")
    shift
  done
  (($#)) && shift
  arguments=("$@")
  local spec
  spec=$(printf '%s\n' "$(docker image inspect -f '{{.Id}}' "$image")" \
    "$(docker network inspect -f '{{.Id}}' "$demo_network")" "${options[@]}" -- \
    "${arguments[@]}" | sha256sum | cut -c1-16)
  if docker container inspect "$name" >/dev/null 2>&1; then
    container_is_ours "$name" ||
      die "a container named $name exists that this script did not create; remove it first"
    local state
    state=$(docker container inspect -f '{{.State.Running}} {{index .Config.Labels "tp.demo.spec"}}' "$name")
    if [[ $state == "true $spec" ]]; then
      say "$name is running"
      return
    fi
    docker rm -f "$name" >/dev/null
  fi
  local network=(--network "$demo_network")
  if [[ " ${options[*]} " == *" --network "* ]]; then network=(); fi  # e.g. container:echo
  docker run -d --pull never --name "$name" "${network[@]}" --label "$demo_label" \
    --label "tp.demo.spec=$spec" "${options[@]}" "$image" "${arguments[@]}" >/dev/null
  say "started $name"
}

# network_aliases NAME: the Kubernetes-style names of a service in namespace default.
network_aliases() {
  local alias
  for alias in "$1" "$1.default" "$1.default.svc.cluster.local"; do
    printf -- '--network-alias\n%s\n' "$alias"
  done
}

start_workload() {
  local name=$1
  shift
  local aliases
  mapfile -t aliases < <(network_aliases "$name")
  ensure_container "$name" tp-echo:latest "${aliases[@]}" "$@" -- --name "$name" --port 8080
}

# --- echo's volume and its agent ------------------------------------------------------------

# The volume tp-demo-echo-data with message.txt (written once; a user's edit is kept).
ensure_echo_volume() {
  if docker volume inspect "$demo_echo_volume" >/dev/null 2>&1; then
    volume_is_ours "$demo_echo_volume" ||
      die "a volume named $demo_echo_volume exists that this script did not create; remove it first"
  else
    docker volume create --label "$demo_label" "$demo_echo_volume" >/dev/null
    say "created volume $demo_echo_volume"
  fi
  docker run --rm --pull never --label "$demo_label" -v "$demo_echo_volume:/data" \
    tp-busybox:latest sh -c \
    '[ -f /data/message.txt ] || echo "message from the echo workload'"'"'s volume" >/data/message.txt'
}

start_echo() {
  local aliases
  mapfile -t aliases < <(network_aliases echo)
  ensure_container echo tp-echo:latest "${aliases[@]}" --env ECHO_MESSAGE=hello-from-echo \
    -v "$demo_echo_volume:/srv/echo-data" -- \
    --name echo --port 8080 --port 9090 --tcp-address 127.0.0.1
}

# echo's environment as `docker inspect` shows it, KEY=VALUE lines, written atomically.
write_agent_env_file() {
  mkdir -p "$(dirname "$demo_agent_env_file")"
  local temporary=$demo_agent_env_file.tmp.$$
  docker container inspect -f '{{range .Config.Env}}{{println .}}{{end}}' echo |
    grep . >"$temporary"
  mv "$temporary" "$demo_agent_env_file"
}

# The agent shares echo's network namespace, so it is recreated with echo (label
# tp.demo.workload), and with a new secret or environment (labels tp.demo.secret, tp.demo.env).
# The manager is reached by its name (Docker's DNS on tp-demo answers in echo's namespace).
start_agent() {
  write_agent_env_file
  ensure_container "$demo_agent" tp-traffic-agent:latest --network container:echo \
    --label "tp.demo.workload=$(docker container inspect -f '{{.Id}}' echo)" \
    --label "tp.demo.secret=$(stat -c %i.%Y "$demo_agent_secret_file")" \
    --label "tp.demo.env=$(sha256sum <"$demo_agent_env_file" | cut -c1-16)" \
    -v "$demo_agent_secret_file:/run/secrets/tp/secret:ro" \
    -v "$demo_agent_env_file:/tel_app_env/echo.env:ro" \
    -v "$demo_echo_volume:/tel_app_exports/echo/srv/echo-data" -- \
    --manager "$demo_manager:$demo_manager_port" --secret-file /run/secrets/tp/secret \
    --workload echo --container echo --port 8080 --port 9090 \
    --app-env-file /tel_app_env/echo.env --mount /srv/echo-data
}

# --- the manager's published address --------------------------------------------------------

# The manager's current host port when it is published on GATEWAY, else nothing.
current_manager_port() {
  { docker port "$demo_manager" "$demo_manager_port/tcp" 2>/dev/null || true; } |
    awk -F: -v gateway="$1" '$1 == gateway { print $2; exit }'
}

port_is_free() { [[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# Sets gateway and manager_port: the running manager's port when there is one, else the first
# free port from 18081.
choose_manager_address() {
  gateway=$(docker_bridge_gateway) ||
    die "Docker's default bridge network has no IPv4 subnet; the daemon container could not reach the manager"
  manager_port=$(current_manager_port "$gateway")
  if [[ -n "$manager_port" ]]; then return; fi
  local port
  for port in $(seq 18081 18180); do
    if port_is_free "$port"; then
      manager_port=$port
      return
    fi
  done
  die "no free port in 18081-18180 on $gateway for the traffic-manager"
}

# The label tp.demo.secret (the secret file's inode and time) makes a new secret restart it.
# No --subnets: like a manager in Kubernetes it reports the subnets it sees (its interfaces, here
# tp-demo's) and announces changes, e.g. after `docker network connect NET tp-traffic-manager`.
start_manager() {
  choose_manager_address
  ensure_container "$demo_manager" tp-traffic-manager:latest \
    -p "$gateway:$manager_port:$demo_manager_port" \
    --label "tp.demo.secret=$(stat -c %i.%Y "$demo_secret_file" "$demo_agent_secret_file" | paste -sd,)" \
    -v "$demo_secret_file:/run/secrets/tp-manager-secret:ro" \
    -v "$demo_agent_secret_file:/run/secrets/tp-agent-secret:ro" -- \
    --listen "0.0.0.0:$demo_manager_port" --secret-file /run/secrets/tp-manager-secret \
    --agent-secret-file /run/secrets/tp-agent-secret \
    --dns-search default.svc.cluster.local,svc.cluster.local,cluster.local \
    --cluster-domain cluster.local
}

# --- readiness -----------------------------------------------------------------------------

# (busybox-static 1.35 wget crashes with -T: timeout(1) bounds it instead.)
workload_answers() {
  docker exec "$1" timeout 3 wget -qO- "http://127.0.0.1:8080/" 2>/dev/null | grep -q "echo from $1"
}
manager_listens() { docker logs "$demo_manager" 2>&1 | grep -q '^listening on'; }
agent_registered() { docker logs "$demo_agent" 2>&1 | grep -q 'registered with the traffic-manager'; }
# The agent answers on echo's pod address for PORT with echo's answer.
echo_answers_through_agent() {
  local address
  address=$(container_ip echo)
  docker exec echo timeout 3 wget -qO- "http://$address:$1/" 2>/dev/null | grep -q "echo from echo"
}
host_port_connects() { (: <"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for SECONDS WHAT CONTAINER COMMAND...: polls COMMAND until it succeeds; after SECONDS it
# dies, showing CONTAINER's last log lines.
wait_for() {
  local seconds=$1 what=$2 container=$3
  shift 3
  wait_until "$seconds" "$what" "$@" ||
    die "$what is not ready after $seconds s; its last log lines:
$(docker logs --tail 20 "$container" 2>&1 || true)"
}

wait_until_ready() {
  local name
  for name in "${demo_workloads[@]}"; do
    wait_for 20 "workload $name" "$name" workload_answers "$name"
  done
  wait_for 20 "the traffic-manager" "$demo_manager" manager_listens
  wait_for 10 "the traffic-manager's port $gateway:$manager_port" "$demo_manager" \
    host_port_connects "$gateway" "$manager_port"
  wait_for 20 "the traffic-agent of echo (registration)" "$demo_agent" agent_registered
  wait_for 10 "echo through its agent on port 8080" "$demo_agent" echo_answers_through_agent 8080
  wait_for 10 "echo through its agent on port 9090" "$demo_agent" echo_answers_through_agent 9090
}

# --- context -------------------------------------------------------------------------------

write_context() {
  mkdir -p "$(dirname "$demo_context_file")"
  local temporary=$demo_context_file.tmp.$$
  local subnets="\"$subnet\"" subnet6
  subnet6=$(network_ipv6_subnet)
  [[ -z "$subnet6" ]] || subnets+=",\"$subnet6\""
  printf '{"name":"default","manager":"%s:%s","secret_file":"%s","cluster_network":"%s","cluster_subnets":[%s]}\n' \
    "$gateway" "$manager_port" "$demo_secret_file" "$demo_network" "$subnets" >"$temporary"
  mv "$temporary" "$demo_context_file"
}

print_summary() {
  echo
  echo "The demo cluster is up:"
  printf '  %-20s %s\n' "network $demo_network" "$subnet"
  local name
  for name in "${demo_workloads[@]}"; do
    printf '  %-20s %s  (%s, %s.default, %s.default.svc.cluster.local)\n' \
      "$name" "$(container_ip "$name"):8080" "$name" "$name" "$name"
  done
  printf '  %-20s %s  (ports 8080, 9090; SFTP 8022)\n' "$demo_agent" "$(container_ip echo)"
  printf '  %-20s %s  (published on %s:%s)\n' "$demo_manager" \
    "$(container_ip "$demo_manager"):$demo_manager_port" "$gateway" "$manager_port"
  printf '  %-20s %s\n' "context default" "$demo_context_file"
  echo "Try: docker run --rm --network $demo_network tp-busybox wget -qO- http://echo.default:8080/"
  echo "Remove it with: make demo-cluster-down"
}

# Dies before anything starts when a container of a demo name exists that is not the demo's.
require_names_free() {
  local name
  for name in "${demo_workloads[@]}" "$demo_agent" "$demo_manager"; do
    if docker container inspect "$name" >/dev/null 2>&1 && ! container_is_ours "$name"; then
      die "a container named $name exists that this script did not create; remove it first"
    fi
  done
}

main() {
  require_names_free
  "$repo/scripts/build-images.sh" "$build_dir" tp-busybox tp-echo tp-traffic-manager \
    tp-traffic-agent
  ensure_network
  ensure_secret
  ensure_echo_volume
  start_echo
  start_workload greeter
  start_manager
  start_agent
  wait_until_ready
  write_context
  print_summary
}

subnet=''
gateway=''
manager_port=''
main
