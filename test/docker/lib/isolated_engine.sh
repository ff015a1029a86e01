# shellcheck shell=bash
# A second, isolated dockerd for a test that must see an engine as a new user's machine has it
# (no images, no plugins, first-start defaults) or that removes plugins, leaving the machine's own
# engine, its images, plugins, networks and volumes alone:
#   * its own network namespace (tp-NAME-PID), where it creates its own docker0 and iptables
#     rules; its loopback is the test's own (a registry on 127.0.0.1 there is the test's);
#   * its own --data-root (/var/lib/tp-NAME-PID), --exec-root and pid file (/run/tp-NAME-PID:
#     short, for containerd's socket paths) and API socket; its own containerd (started by
#     dockerd under the exec root). Managed plugin sockets are under the exec root too; only the
#     folder /var/run/docker/netns that the Teleroute plugin mounts is shared (it is just a mount
#     point: this engine's sandboxes are under its own exec root).
#   * with isolated_engine_resolv_conf=TEXT set before sourcing: also a mount namespace of its
#     own (mounts of the machine propagate in, none go out), shared by the engine and the test,
#     in which /etc/resolv.conf is a file of the test's holding TEXT: what the engine gives its
#     containers and what the test changes there is never the machine's own.
#
# usage, at the top of a test script (after set -uo pipefail):
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/isolated_engine.sh" NAME "$@"
# Outside, this starts the engine, runs the script again inside the namespace (with DOCKER_HOST
# pointing at the new engine, a fresh XDG_CONFIG_HOME, TP_ENGINE_LOG naming the engine's log file,
# and "--inside" after BUILD_DIR), removes the engine, its folders, mounts and namespace (also
# when a check fails), and exits with the inside run's status. Inside, it sources
# test/docker/lib.sh and returns: the rest of the script is the test.

isolated_engine_script=$(readlink -f "${BASH_SOURCE[1]}")
build_dir=$(cd "${2:?usage: $(basename "$isolated_engine_script") BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=scripts/lib/wait.sh
source "$repo/scripts/lib/wait.sh"

# run_in_isolated_engine NAME SCRIPT BUILD_DIR: exits with the inside run's status.
run_in_isolated_engine() {
  local short=$1 script=$2 build_dir=$3
  engine_name=tp-$short-$$
  engine_runtime=/run/$engine_name  # exec root, pid file, API socket
  engine_data=/var/lib/$engine_name # data root (overlay2 needs a real file system, not tmpfs)
  engine_log=/tmp/$engine_name-dockerd.log
  engine_status=1
  trap isolated_engine_teardown EXIT
  trap 'exit 130' INT TERM

  local tool
  for tool in nsenter dockerd ip; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing"; echo "0 passed, 1 failed"; exit 1; }
  done
  mkdir -p "$engine_runtime" "$engine_data" "$engine_runtime/config"
  ip netns add "$engine_name" || { echo "FAIL: cannot create network namespace $engine_name"; exit 1; }
  ip -n "$engine_name" link set lo up
  local started=$SECONDS socket=$engine_runtime/docker.sock
  # (nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup mounts dockerd needs.)
  local in_namespaces=(nsenter --net="/var/run/netns/$engine_name")
  local engine=(dockerd --data-root "$engine_data" --exec-root "$engine_runtime/exec"
    --pidfile "$engine_runtime/dockerd.pid" -H "unix://$socket")
  if [[ -n "${isolated_engine_resolv_conf:-}" ]]; then
    printf '%s' "$isolated_engine_resolv_conf" >"$engine_runtime/resolv.conf"
    # shellcheck disable=SC2016  # expanded by the inner shell
    setsid "${in_namespaces[@]}" unshare --mount --propagation slave sh -c \
      'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$engine_runtime/resolv.conf" \
      "${engine[@]}" >"$engine_log" 2>&1 </dev/null &
  else
    setsid "${in_namespaces[@]}" "${engine[@]}" >"$engine_log" 2>&1 </dev/null &
  fi
  if ! wait_until 60 "the test engine to answer on $socket" env DOCKER_HOST="unix://$socket" \
    docker info; then
    echo "FAIL: the test engine did not answer on $socket within 60 s"
    echo "0 passed, 1 failed"
    exit 1
  fi
  echo "the test engine answers on $socket after $((SECONDS - started)) s"
  [[ -n "${isolated_engine_resolv_conf:-}" ]] &&
    in_namespaces+=(--mount="/proc/$(cat "$engine_runtime/dockerd.pid")/ns/mnt")
  "${in_namespaces[@]}" env DOCKER_HOST="unix://$socket" \
    XDG_CONFIG_HOME="$engine_runtime/config" TP_ENGINE_LOG="$engine_log" \
    bash "$script" "$build_dir" --inside
  engine_status=$?
  echo "$(basename "$script"): $((SECONDS - started)) s with the engine's start and its steps"
  exit "$engine_status"
}

isolated_engine_teardown() {
  if [[ -f "$engine_runtime/dockerd.pid" ]]; then
    local pid
    pid=$(cat "$engine_runtime/dockerd.pid")
    kill "$pid" 2>/dev/null
    wait_until 40 "the test engine to stop" pid_ended "$pid" || kill -9 "$pid" 2>/dev/null
  fi
  # What the engine left mounted (overlays, the namespace files, plugin mounts), deepest first.
  local mount
  while read -r mount; do
    umount -l "$mount" 2>/dev/null
  done < <(awk -v a="$engine_runtime" -v b="$engine_data" \
    'index($5, a) == 1 || index($5, b) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  ip netns delete "$engine_name" 2>/dev/null
  rm -rf "$engine_runtime" "$engine_data"
  if ((engine_status != 0)) && [[ -f "$engine_log" ]]; then
    echo "--- the test engine's last log lines ($engine_log):"
    tail -30 "$engine_log"
  else
    rm -f "$engine_log"
  fi
}

if [[ "${3:-}" == --inside ]]; then
  # shellcheck source=test/docker/lib.sh
  source "$repo/test/docker/lib.sh" "$build_dir"
  return 0
fi
run_in_isolated_engine "$1" "$isolated_engine_script" "$build_dir"
