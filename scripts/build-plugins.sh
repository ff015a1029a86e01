#!/usr/bin/env bash
# Builds the managed Docker plugins telemount:latest and teleroute:latest (or the ones named)
# from BUILD_DIR/bin without `docker build` (scripts/lib/plugin_dir.sh), then (re)installs and
# enables them. Idempotent: an existing plugin is disabled and removed first; only when dockerd
# refuses to disable it because volumes or networks use it are those (test leftovers) and the
# containers holding them removed.
#
# usage: scripts/build-plugins.sh BUILD_DIR [telemount|teleroute]...
set -euo pipefail

build_dir=${1:?usage: build-plugins.sh BUILD_DIR [telemount|teleroute]...}
build_dir=$(cd "$build_dir" && pwd)
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
plugins=("$@")
[[ ${#plugins[@]} -gt 0 ]] || plugins=(telemount teleroute)

# shellcheck source=scripts/lib/rootfs.sh
source "$(dirname "$(readlink -f "$0")")/lib/rootfs.sh"
# shellcheck source=scripts/lib/plugin_dir.sh
source "$(dirname "$(readlink -f "$0")")/lib/plugin_dir.sh"

say() { echo "build-plugins: $*"; }

# build_rootfs NAME: BUILD_DIR/plugins/NAME/{config.json,rootfs/}.
build_rootfs() {
  local name=$1 plugin_dir=$build_dir/plugins/$1
  build_plugin_dir "$name" "$build_dir" "$repo" "$plugin_dir"
  say "rootfs of $name $(plugin_version "$repo") ready in $plugin_dir/rootfs" \
    "($(du -sh "$plugin_dir/rootfs" | cut -f1))"
}

remove_containers() {
  local container
  for container in "$@"; do
    say "removing container $container (uses a leftover of the plugin)"
    docker rm -f "$container" >/dev/null || true
  done
}

# Removes what keeps PLUGIN from being disabled: its volumes or networks, and their containers.
remove_plugin_users() {
  local name=$1 plugin=$2 item
  case $name in
    telemount)
      for item in $( (docker volume ls -q --filter driver="$name"
                      docker volume ls -q --filter driver="$plugin") | sort -u); do
        mapfile -t containers < <(docker ps -aq --filter volume="$item")
        remove_containers "${containers[@]}"
        say "removing leftover volume $item"
        docker volume rm -f "$item" >/dev/null || say "could not remove volume $item"
      done ;;
    teleroute)
      for item in $( (docker network ls -q --filter driver="$name"
                      docker network ls -q --filter driver="$plugin") | sort -u); do
        mapfile -t containers < <(docker ps -aq --filter network="$item")
        remove_containers "${containers[@]}"
        say "removing leftover network $item"
        docker network rm "$item" >/dev/null || say "could not remove network $item"
      done ;;
  esac
}

uninstall_plugin() {
  local name=$1 plugin=$1:latest
  if ! docker plugin inspect "$plugin" >/dev/null 2>&1; then
    say "no $plugin installed yet"
    return
  fi
  if [[ $(docker plugin inspect -f '{{.Enabled}}' "$plugin") == true ]]; then
    local refusal
    if ! refusal=$(docker plugin disable "$plugin" 2>&1); then
      say "disable refused ($refusal)"
      remove_plugin_users "$name" "$plugin"
      docker plugin disable -f "$plugin" >/dev/null
    fi
    say "disabled $plugin"
  fi
  docker plugin rm -f "$plugin" >/dev/null
  say "removed old $plugin"
}

install_plugin() {
  local name=$1 plugin=$1:latest
  # A bind-mount source must exist on the host (dockerd makes this one once it runs a container).
  if [[ $name == teleroute && ! -d /var/run/docker/netns ]]; then
    mkdir -p /var/run/docker/netns 2>/dev/null ||
      say "/var/run/docker/netns is missing and cannot be made here; enabling may fail"
  fi
  docker plugin create "$plugin" "$build_dir/plugins/$name" >/dev/null
  say "created $plugin from $build_dir/plugins/$name"
  docker plugin enable "$plugin" >/dev/null
  say "enabled $plugin (id $(docker plugin inspect -f '{{.Id}}' "$plugin" | cut -c1-12))"
}

for name in "${plugins[@]}"; do
  case $name in
    telemount | teleroute) ;;
    *) echo "build-plugins: unknown plugin '$name' (telemount or teleroute)" >&2; exit 2 ;;
  esac
done
for name in "${plugins[@]}"; do
  build_rootfs "$name"
  uninstall_plugin "$name"
  install_plugin "$name"
done
