#!/usr/bin/env bash
# End-to-end test: telemount volumes survive restarts of the managed plugin, both a crash
# (SIGKILL of the plugin process; dockerd restarts it) and `docker plugin disable -f` + `enable`.
# After each, `docker volume ls` still lists the volume and a new container reads and writes it.
#
# usage: test/docker/telemount_restart.sh BUILD_DIR   (after `make plugins`)
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

require_plugin
require_busybox_image
make_export_folder data
data=$TP_EXPORT_ROOT/data
echo "survivor $TP_PREFIX" >"$data/file"
start_sftp_export server
vol=$TP_PREFIX-data
# Leave the plugin enabled whatever happens below.
defer ensure_plugin_enabled

create_volume "$vol" host=127.0.0.1 "port=$SFTP_PORT" "container=$TP_PREFIX" dir=data ||
  die "docker volume create of $vol failed"
check_output "the volume works before any restart" "survivor $TP_PREFIX" \
  docker run --rm -v "$vol:/data" tp-busybox:latest cat /data/file

endpoint_key=127.0.0.1_${SFTP_PORT}_rw
# plugin_namespace_mounts: the FUSE devices at the endpoint's folder in the plugin's namespace.
plugin_namespace_mounts() {
  awk -v dir="/mnt/volumes/$endpoint_key" '$5 == dir && $0 ~ / - fuse/ { print $3 }' \
    "/proc/$(plugin_pid)/mountinfo" | sort -u
}
one_endpoint_mount() { [[ $(plugin_namespace_mounts | wc -l) == 1 ]]; }

# check_volume_usable WHEN: the volume is listed and a new container reads and writes it.
check_volume_usable() {
  local when=$1
  if wait_until 30 "docker volume ls to list $vol" volume_listed "$vol"; then
    pass "docker volume ls lists the volume $when"
  else
    fail "docker volume ls lost the volume $when: $(docker volume ls 2>&1)"
  fi
  check_output "a new container reads the volume $when" "survivor $TP_PREFIX" \
    docker run --rm -v "$vol:/data" tp-busybox:latest cat /data/file
  check "a new container writes the volume $when" docker run --rm -v "$vol:/data" \
    tp-busybox:latest sh -c "echo '$when' >/data/after-restart"
  check_output "the write $when reached the server" "$when" cat "$data/after-restart"
  # The plugin's own mount namespace: it detached the dead mount and serves from one live one.
  if wait_until 10 "one FUSE mount for the endpoint" one_endpoint_mount; then
    pass "one shared mount for the endpoint $when"
  else
    fail "one shared mount for the endpoint $when: $(plugin_namespace_mounts | wc -l)"
  fi
  # On the host, a copy of the dead mount can stay listed under the propagated mount (when the
  # host's /var/lib/docker is a shared bind of itself) until the endpoint is unmounted; the
  # "shared mount is gone" check below sees that it goes then.
  local host_count
  host_count=$(plugin_mount_devices "$endpoint_key" | wc -l)
  ((host_count == 1)) ||
    echo "NOTE: $host_count FUSE mounts listed on the host for the endpoint $when (a dead copy)"
}

heading "the plugin process is killed"
old_pid=$(plugin_pid)
[[ -n "$old_pid" ]] || die "cannot find the plugin process"
kill -9 "$old_pid"
restarted() {
  local pid
  pid=$(plugin_pid)
  [[ -n "$pid" && "$pid" != "$old_pid" ]]
}
if wait_until 30 "dockerd to restart the plugin" restarted; then
  pass "dockerd restarted the plugin (pid $old_pid -> $(plugin_pid))"
else
  die "dockerd did not restart the plugin within 30 s"
fi
check_volume_usable "after a crash"

heading "the plugin is disabled and enabled"
check "docker plugin disable -f" docker plugin disable -f "$TP_PLUGIN"
check "docker plugin enable" docker plugin enable "$TP_PLUGIN"
check_volume_usable "after disable and enable"

heading "remove after the restarts"
check "docker volume rm" docker volume rm "$vol"
check_equal "the shared mount is gone" 0 \
  "$(plugin_mount_devices "127.0.0.1_${SFTP_PORT}_rw" | wc -l)"
