#!/usr/bin/env bash
# The connect --docker demo (`make demo`): starts the local demo cluster (demo/cluster/up.sh),
# connects to it with the daemon in a container, reaches its services with `telepresence curl`
# by short name, namespaced name, full name and cluster IP, shows that a plain container cannot
# reach them but one started with `telepresence docker-run` (on the Teleroute network) can, and
# quits, leaving the demo cluster up for the user to try more.
#
# usage: demo/connect.sh BUILD_DIR
set -euo pipefail

build_dir=$(cd "${1:?usage: demo/connect.sh BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
telepresence=$build_dir/bin/telepresence

# shellcheck source=demo/lib.sh
source "$repo/demo/lib.sh"
# shellcheck source=demo/cluster/common.sh
source "$repo/demo/cluster/common.sh"

finish() {
  local status=$?
  "$telepresence" quit >/dev/null 2>&1 || true
  if ((status == 0)); then echo "connect demo finished"; else echo "connect demo FAILED (exit status $status)"; fi
}

heading "start the local demo cluster (network tp-demo: echo, greeter, the traffic-manager)"
"$repo/demo/cluster/up.sh" "$build_dir"
"$repo/scripts/build-images.sh" "$build_dir" >/dev/null
trap finish EXIT

heading "connect: the daemon runs in container tp-default-cn"
"$telepresence" quit >/dev/null 2>&1 || true  # a leftover of an interrupted run
show "$telepresence" connect --docker
show "$telepresence" status

heading "reach the cluster's services by name, through the tunnel"
show "$telepresence" curl -sS http://echo:8080/hello
show "$telepresence" curl -sS http://greeter.default:8080/
show "$telepresence" curl -sS -d greeting=hi http://echo.default.svc.cluster.local:8080/form
echo_ip=$(container_ip echo)
show "$telepresence" curl -sS "http://$echo_ip:8080/by-ip"

heading "without the tunnel, a container on the laptop cannot reach the cluster"
if show docker run --rm --pull never tp-busybox:latest sh -c "timeout 3 wget -qO- http://$echo_ip:8080/; exit \$?"; then
  echo "unexpected: a plain container reached the cluster" >&2
  exit 1
fi
echo "(as expected: no route from Docker's default bridge into tp-demo)"

heading "docker-run: any container of yours on the Teleroute network tp-default reaches the cluster"
show "$telepresence" docker-run --rm --pull never tp-busybox:latest \
  sh -c 'wget -qO- http://echo:8080/from-docker-run && wget -qO- http://greeter.default:8080/'

heading "quit: the daemon container and the Teleroute network go away"
show "$telepresence" quit
show "$telepresence" status
echo "The demo cluster is still up: try $telepresence connect --docker, or make demo-cluster-down."
