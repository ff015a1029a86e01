#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run through the check helpers and the EXIT trap
# What a new user meets: README's path on a Docker engine that has just started for the first
# time. The test starts a second, isolated dockerd for itself and leaves the machine's own engine,
# its images, plugins, networks and volumes alone:
#   * its own network namespace (tp-fs-PID), where it creates its own docker0 and iptables rules,
#     and shows the first-start IPAM of the default bridge ([{"Subnet":"172.17.0.0/16"}], no
#     Gateway) that a warm engine hides;
#   * its own --data-root (/var/lib/tp-fs-PID), --exec-root and pid file (/run/tp-fs-PID: short,
#     for containerd's socket paths) and API socket; its own containerd (started by dockerd under
#     the exec root), so its containers, plugins and their sockets live apart from the other
#     engine's. Managed plugin sockets are under the exec root too; only the folder
#     /var/run/docker/netns that the Teleroute plugin mounts is shared (it is just a mount point:
#     this engine's sandboxes are under its own exec root and reached through dockerd's view).
# Inside that namespace, with DOCKER_HOST pointing at the new engine and a fresh config folder,
# it runs what the README tells a new user: the plugins installed from scratch, the images built
# from scratch, the demo cluster, `telepresence connect --docker`, `telepresence curl` by name, a
# `replace --docker-run` that answers a request from inside the cluster, `quit`. Then it stops
# the engine and removes its folders, mounts and namespace, also when a check fails.
#
# usage: test/docker/first_start.sh BUILD_DIR
set -uo pipefail

build_dir=$(cd "${1:?usage: first_start.sh BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/wait.sh
source "$repo/scripts/lib/wait.sh"

# --- inside the namespace: the new user's steps ------------------------------------------------
if [[ "${2:-}" == --inside ]]; then
  # shellcheck source=test/docker/lib.sh
  source "$repo/test/docker/lib.sh" "$build_dir"
  telepresence=$TP_BUILD_DIR/bin/telepresence

  heading "an engine on its first start"
  check_equal "the default bridge's IPAM has no Gateway yet (what a first start shows)" "" \
    "$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')"
  docker0=$(ip -4 -o addr show dev docker0 | awk '{ split($4, a, "/"); print a[1]; exit }')
  check_equal "the one gateway rule finds docker0's address anyway" "$docker0" \
    "$(docker_bridge_gateway)"
  check_equal "no images" "" "$(docker images -q)"
  check_equal "no plugins" "" "$(docker plugin ls -q)"

  heading "plugins, images and the demo cluster from scratch"
  check "scripts/build-plugins.sh installs teleroute and telemount" \
    "$TP_REPO/scripts/build-plugins.sh" "$TP_BUILD_DIR"
  check_output "the demo cluster starts (make demo-cluster)" "The demo cluster is up" \
    "$TP_REPO/demo/cluster/up.sh" "$TP_BUILD_DIR"
  check_output "the context names the bridge's gateway" "\"manager\":\"$docker0:" \
    cat "$XDG_CONFIG_HOME/telepresence-docker/contexts/default.json"
  ((TP_FAILED == 0)) || die "without plugins and the demo cluster the rest cannot run"

  heading "connect, curl, replace, quit"
  defer "$telepresence" quit
  check_output "connect --docker builds its images and connects" "Connected to $docker0:" \
    timeout 120 "$telepresence" connect --docker
  ((TP_FAILED == 0)) || die "not connected: the rest cannot run"
  check_output "curl reaches a service by name" "echo from echo" \
    timeout 20 "$telepresence" curl --silent --max-time 5 http://echo:8080/
  from_cluster() { docker exec greeter timeout 5 wget -qO- "http://echo.default:8080/$1"; }
  work=$(mktemp -d)
  defer rm -rf "$work"
  env --default-signal=INT "$telepresence" replace echo --docker-run -- --pull never \
    --entrypoint echo-server tp-echo:latest --name local-echo --port 8080 --port 9090 \
    >"$work/replace.log" 2>&1 &
  replace_pid=$!
  defer kill -INT "$replace_pid"
  local_echo_answers() { from_cluster replaced | grep 'echo from local-echo'; }
  check_output "the workload's in-cluster traffic reaches the local container" \
    "echo from local-echo" wait_until_output 60 "the local container to answer" local_echo_answers
  check "the handler stops" docker stop -t 2 intercept-echo-8080
  if wait_until 30 "replace to end" pid_ended "$replace_pid"; then
    pass "the replace command ends with its container"
  else
    fail "replace still runs 30 s after its container stopped: $(cat "$work/replace.log")"
  fi
  check_output "the workload answers itself again" "echo from echo" \
    wait_until_output 10 "echo to answer" from_cluster again
  check_output "quit disconnects" "Disconnected" "$telepresence" quit
  check_equal "no daemon container is left" "" \
    "$(docker ps -aq --filter name=tp-default-cn)"
  exit 0
fi

# --- outside: the engine's life ------------------------------------------------------------------
name=tp-fs-$$
runtime=/run/$name          # exec root, pid file, API socket
data=/var/lib/$name         # data root (overlay2 needs a real file system, not tmpfs)
socket=$runtime/docker.sock
log=/tmp/$name-dockerd.log
status=1

teardown() {
  if [[ -f "$runtime/dockerd.pid" ]]; then
    local pid
    pid=$(cat "$runtime/dockerd.pid")
    kill "$pid" 2>/dev/null
    wait_until 40 "the test engine to stop" pid_ended "$pid" || kill -9 "$pid" 2>/dev/null
  fi
  # What the engine left mounted (overlays, the namespace files, plugin mounts), deepest first.
  local mount
  while read -r mount; do
    umount -l "$mount" 2>/dev/null
  done < <(awk -v a="$runtime" -v b="$data" \
    'index($5, a) == 1 || index($5, b) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  ip netns delete "$name" 2>/dev/null
  rm -rf "$runtime" "$data"
  if ((status != 0)) && [[ -f "$log" ]]; then
    echo "--- the test engine's last log lines ($log):"
    tail -30 "$log"
  else
    rm -f "$log"
  fi
}
trap teardown EXIT
trap 'exit 130' INT TERM

for tool in nsenter dockerd ip; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing"; echo "0 passed, 1 failed"; exit 1; }
done
mkdir -p "$runtime" "$data" "$runtime/config"
ip netns add "$name" || { echo "FAIL: cannot create network namespace $name"; exit 1; }
ip -n "$name" link set lo up
started=$SECONDS
# (nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup mounts dockerd needs.)
setsid nsenter --net="/var/run/netns/$name" dockerd --data-root "$data" \
  --exec-root "$runtime/exec" --pidfile "$runtime/dockerd.pid" -H "unix://$socket" \
  >"$log" 2>&1 </dev/null &
if ! wait_until 60 "the test engine to answer on $socket" env DOCKER_HOST="unix://$socket" docker info
then
  echo "FAIL: the test engine did not answer on $socket within 60 s"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "the test engine answers on $socket after $((SECONDS - started)) s"

nsenter --net="/var/run/netns/$name" env DOCKER_HOST="unix://$socket" \
  XDG_CONFIG_HOME="$runtime/config" bash "${BASH_SOURCE[0]}" "$build_dir" --inside
status=$?
echo "first-start test: $((SECONDS - started)) s with the engine's start and its steps"
exit "$status"
