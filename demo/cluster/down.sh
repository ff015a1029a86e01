#!/usr/bin/env bash
# Removes the local demo cluster (`make demo-cluster-down`): the containers echo, echo-agent,
# greeter and tp-traffic-manager (and any other container labelled tp.demo=true), the network
# tp-demo, the volume tp-demo-echo-data, the agent's env file and the default context file.
# Keeps the shared secret, so a new demo cluster reuses it.
# Idempotent: whatever is already gone is skipped. Containers of those names that the demo did
# not create are left alone; other containers still on tp-demo are disconnected from it.
#
# usage: demo/cluster/down.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=demo/cluster/common.sh
source "$here/common.sh"

say() { echo "demo-cluster: $*"; }

remove_containers() {
  local labelled name
  mapfile -t labelled < <(docker ps -aq --filter "label=$demo_label")
  if ((${#labelled[@]})); then docker rm -f "${labelled[@]}" >/dev/null; fi
  for name in "${demo_workloads[@]}" "$demo_agent" "$demo_manager"; do
    if docker container inspect "$name" >/dev/null 2>&1; then
      say "left container $name alone: the demo cluster did not create it"
    fi
  done
}

remove_network() {
  docker network inspect "$demo_network" >/dev/null 2>&1 || return 0
  if ! network_is_ours "$demo_network"; then
    say "left network $demo_network alone: the demo cluster did not create it"
    return 0
  fi
  local attached container
  mapfile -t attached < <(docker network inspect -f '{{range $id, $c := .Containers}}{{$id}}{{"\n"}}{{end}}' \
    "$demo_network" | grep .)
  for container in "${attached[@]}"; do
    docker network disconnect -f "$demo_network" "$container" >/dev/null 2>&1 || true
  done
  docker network rm "$demo_network" >/dev/null
}

remove_volume() {
  docker volume inspect "$demo_echo_volume" >/dev/null 2>&1 || return 0
  if ! volume_is_ours "$demo_echo_volume"; then
    say "left volume $demo_echo_volume alone: the demo cluster did not create it"
    return 0
  fi
  docker volume rm "$demo_echo_volume" >/dev/null
}

if docker info >/dev/null 2>&1; then
  remove_containers
  remove_network
  remove_volume
else
  say "Docker does not answer; only the context file is removed"
fi
rm -f "$demo_context_file" "$demo_agent_env_file"
say "the demo cluster is down (the secret stays in $demo_secret_file)"
