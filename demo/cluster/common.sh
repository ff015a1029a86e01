# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Names shared by demo/cluster/up.sh and down.sh. The demo cluster's names are fixed so that
# docs, tests and users can rely on them. Everything the scripts create carries the label
# tp.demo=true; they never touch a container or network of these names that lacks it.

demo_network=tp-demo
demo_manager=tp-traffic-manager
demo_manager_port=8081  # inside the manager's container; published on the default bridge gateway
demo_workloads=(echo greeter)
demo_agent=echo-agent                # the traffic-agent sidecar of echo (--network container:echo)
demo_echo_volume=tp-demo-echo-data   # echo's volume, at /srv/echo-data (the agent exports it)
demo_label=tp.demo=true
demo_config_dir=${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker
demo_secret_file=$demo_config_dir/demo-secret              # the daemons' (the context's)
demo_agent_secret_file=$demo_config_dir/demo-agent-secret  # the traffic-agents' own
demo_context_file=$demo_config_dir/contexts/default.json
demo_agent_env_file=$demo_config_dir/demo-agent/echo.env  # echo's environment, for the agent

# container_is_ours NAME / network_is_ours NAME: it exists and carries the label tp.demo=true.
container_is_ours() {
  [[ $(docker container inspect -f '{{index .Config.Labels "tp.demo"}}' "$1" 2>/dev/null) == true ]]
}
network_is_ours() {
  [[ $(docker network inspect -f '{{index .Labels "tp.demo"}}' "$1" 2>/dev/null) == true ]]
}
volume_is_ours() {
  [[ $(docker volume inspect -f '{{index .Labels "tp.demo"}}' "$1" 2>/dev/null) == true ]]
}

# container_ip CONTAINER [NETWORK]: the container's IPv4 address on NETWORK (the demo cluster's
# network by default). The one place of Docker's `--format` template for it.
container_ip() {
  docker container inspect \
    -f "{{with index .NetworkSettings.Networks \"${2:-$demo_network}\"}}{{.IPAddress}}{{end}}" "$1"
}

# container_ip6 CONTAINER [NETWORK]: its IPv6 address there; "" on an IPv4-only network.
container_ip6() {
  docker container inspect -f \
    "{{with index .NetworkSettings.Networks \"${2:-$demo_network}\"}}{{.GlobalIPv6Address}}{{end}}" \
    "$1"
}

# network_subnets NETWORK: its IPAM subnets, one per line (IPv4 and IPv6, as Docker lists them).
# The one place of Docker's `--format` template for them.
network_subnets() {
  docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{"\n"}}{{end}}' "$1" | grep .
}

# demo_cluster_start BUILD_DIR: the demo cluster is up (demo/cluster/up.sh, quiet) and the
# images are built. A cluster that was up before is left up at exit; one started here is removed
# at exit (needs scripts/lib/defer.sh sourced and run_deferred in the script's EXIT trap). Returns
# 1 when either fails (up.sh's own message is on stderr).
demo_cluster_start() {
  local repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  if docker network inspect "$demo_network" >/dev/null 2>&1; then
    echo "the demo cluster was up already: it is left up" >&2
  else
    defer "$repo/demo/cluster/down.sh"
  fi
  "$repo/demo/cluster/up.sh" "$1" >/dev/null && "$repo/scripts/build-images.sh" "$1" >/dev/null
}
