#!/usr/bin/env bash
# Builds the managed Docker plugins telemount:latest and teleroute:latest (or the ones named)
# from BUILD_DIR/bin without `docker build`: each rootfs is the binary, the shared libraries ldd
# names and the dynamic loader. Then (re)installs and enables them. Idempotent: an existing
# plugin is disabled and removed first; only when dockerd refuses to disable it because volumes
# or networks use it are those (test leftovers) and the containers holding them removed.
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

say() { echo "build-plugins: $*"; }

# build_rootfs NAME: BUILD_DIR/plugins/NAME/{config.json,rootfs/}.
build_rootfs() {
  local name=$1
  local binary=$build_dir/bin/$name plugin_dir=$build_dir/plugins/$name
  local rootfs=$plugin_dir/rootfs
  [[ -x "$binary" ]] || { echo "build-plugins: $binary is missing; run make build" >&2; exit 1; }
  rm -rf "$plugin_dir"
  mkdir -p "$rootfs"
  copy_with_libraries "$binary" "$rootfs" "/$name"
  strip --strip-unneeded "$rootfs/$name"
  # libfuse falls back to fusermount3 when a direct mount(2) is refused.
  if [[ $name == telemount && -x /usr/bin/fusermount3 ]]; then
    copy_with_libraries /usr/bin/fusermount3 "$rootfs"
  fi
  mkdir -p "$rootfs"/{run/docker/plugins,tmp,dev,proc,sys,etc}
  case $name in
    telemount) mkdir -p "$rootfs"/{mnt/volumes,var/lib/telemount/state} ;;
    teleroute) mkdir -p "$rootfs"/{var/lib/teleroute,var/run/docker/netns} ;;
  esac
  chmod 1777 "$rootfs/tmp"
  # dockerd bind-mounts the host's /etc/hosts and /etc/resolv.conf over these for host networking.
  touch "$rootfs/etc/hosts" "$rootfs/etc/resolv.conf"
  printf 'hosts: files dns\npasswd: files\ngroup: files\n' >"$rootfs/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/:/%s\n' "$name" >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  cp "$repo/plugin-configs/$name/config.json" "$plugin_dir/config.json"
  say "rootfs of $name ready in $rootfs ($(du -sh "$rootfs" | cut -f1))"
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
