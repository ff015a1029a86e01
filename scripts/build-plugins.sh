#!/usr/bin/env bash
# Builds the managed Docker plugin telemount:latest from BUILD_DIR/bin/telemount without
# `docker build` (the rootfs is the binary, the shared libraries ldd names and the dynamic
# loader), then (re)installs and enables it. Idempotent: an existing telemount:latest is
# disabled and removed first; only when dockerd refuses to disable it because volumes use it are
# those volumes (test leftovers) and the containers holding them removed.
#
# usage: scripts/build-plugins.sh BUILD_DIR
set -euo pipefail

build_dir=${1:?usage: build-plugins.sh BUILD_DIR}
build_dir=$(cd "$build_dir" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
plugin=telemount:latest
binary=$build_dir/bin/telemount
plugin_dir=$build_dir/plugins/telemount
rootfs=$plugin_dir/rootfs

# shellcheck source=scripts/lib/rootfs.sh
source "$(dirname "$(readlink -f "$0")")/lib/rootfs.sh"

say() { echo "build-plugins: $*"; }


build_rootfs() {
  [[ -x "$binary" ]] || { echo "build-plugins: $binary is missing; run make build" >&2; exit 1; }
  rm -rf "$plugin_dir"
  mkdir -p "$rootfs"
  copy_with_libraries "$binary" "$rootfs" /telemount
  strip --strip-unneeded "$rootfs/telemount"
  # libfuse falls back to fusermount3 when a direct mount(2) is refused.
  if [[ -x /usr/bin/fusermount3 ]]; then copy_with_libraries /usr/bin/fusermount3 "$rootfs"; fi
  mkdir -p "$rootfs"/{run/docker/plugins,mnt/volumes,var/lib/telemount/state,tmp,dev,proc,sys,etc}
  chmod 1777 "$rootfs/tmp"
  # dockerd bind-mounts the host's /etc/hosts and /etc/resolv.conf over these for host networking.
  touch "$rootfs/etc/hosts" "$rootfs/etc/resolv.conf"
  printf 'hosts: files dns\npasswd: files\ngroup: files\n' >"$rootfs/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/:/telemount\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  cp "$repo/plugin-configs/telemount/config.json" "$plugin_dir/config.json"
  say "rootfs ready in $rootfs ($(du -sh "$rootfs" | cut -f1))"
}

# Removes the volumes of the telemount driver and the containers that use them.
remove_telemount_volumes() {
  local volume container
  for volume in $( (docker volume ls -q --filter driver=telemount
                    docker volume ls -q --filter driver="$plugin") | sort -u); do
    for container in $(docker ps -aq --filter volume="$volume"); do
      say "removing container $container (uses leftover volume $volume)"
      docker rm -f "$container" >/dev/null || true
    done
    say "removing leftover volume $volume"
    docker volume rm -f "$volume" >/dev/null || say "could not remove volume $volume"
  done
}

uninstall_plugin() {
  if ! docker plugin inspect "$plugin" >/dev/null 2>&1; then
    say "no $plugin installed yet"
    return
  fi
  if [[ $(docker plugin inspect -f '{{.Enabled}}' "$plugin") == true ]]; then
    local refusal
    if ! refusal=$(docker plugin disable "$plugin" 2>&1); then
      say "disable refused ($refusal)"
      remove_telemount_volumes
      docker plugin disable -f "$plugin" >/dev/null
    fi
    say "disabled $plugin"
  fi
  docker plugin rm -f "$plugin" >/dev/null
  say "removed old $plugin"
}

install_plugin() {
  docker plugin create "$plugin" "$plugin_dir" >/dev/null
  say "created $plugin from $plugin_dir"
  docker plugin enable "$plugin" >/dev/null
  say "enabled $plugin (id $(docker plugin inspect -f '{{.Id}}' "$plugin" | cut -c1-12))"
}

build_rootfs
uninstall_plugin
install_plugin
