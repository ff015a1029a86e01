#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run through the check helpers and the EXIT trap
# What a new user meets: README's path on a Docker engine that has just started for the first
# time, in an isolated engine of its own (test/docker/lib/isolated_engine.sh), which shows the
# first-start IPAM of the default bridge ([{"Subnet":"172.17.0.0/16"}], no Gateway) that a warm
# engine hides. With DOCKER_HOST pointing at the new engine and a fresh config folder, it runs
# what the README tells a new user: the plugins come from a registry (Debian's docker-registry on
# the namespace's 127.0.0.1, which `make plugins-push` filled) when `telepresence connect
# --docker --plugin-registry` finds them missing, the images are built from scratch, then the
# demo cluster (dual stack, as more and more clusters are), `telepresence curl` by name, IPv6
# through the Teleroute network, a `replace --docker-run` that answers a request from inside the
# cluster, `quit`.
#
# usage: test/docker/first_start.sh BUILD_DIR
set -uo pipefail

# shellcheck source=test/docker/lib/isolated_engine.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/isolated_engine.sh" fs "$@"
# From here on: inside the test's own engine.
telepresence=$TP_BUILD_DIR/bin/telepresence

heading "an engine on its first start"
check_equal "the default bridge's IPAM has no Gateway yet (what a first start shows)" "" \
  "$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')"
docker0=$(ip -4 -o addr show dev docker0 | awk '{ split($4, a, "/"); print a[1]; exit }')
check_equal "the one gateway rule finds docker0's address anyway" "$docker0" \
  "$(docker_bridge_gateway)"
check_equal "no images" "" "$(docker images -q)"
check_equal "no plugins" "" "$(docker plugin ls -q)"

heading "the plugins in a registry, the images and the demo cluster from scratch"
start_registry || die "the registry does not start"
check "make plugins-push puts both plugins in the registry" \
  make -C "$TP_REPO" --no-print-directory plugins-push REGISTRY="$TP_REGISTRY" \
  BUILD="$TP_BUILD_DIR"
check_equal "and leaves none installed" "" "$(docker plugin ls -q)"
ipv6_subnet=fd00:213::/64
check_output "the demo cluster starts (make demo-cluster), dual stack" "The demo cluster is up" \
  env TP_DEMO_IPV6="$ipv6_subnet" "$TP_REPO/demo/cluster/up.sh" "$TP_BUILD_DIR"
check_output "the context names the bridge's gateway" "\"manager\":\"$docker0:" \
  cat "$XDG_CONFIG_HOME/telepresence-docker/contexts/default.json"
((TP_FAILED == 0)) || die "without plugins and the demo cluster the rest cannot run"

heading "connect, curl, replace, quit"
defer "$telepresence" quit
check_output "connect --docker installs the plugins from the registry and connects" \
  "Connected to $docker0:" \
  timeout 120 "$telepresence" connect --docker --plugin-registry "$TP_REGISTRY"
((TP_FAILED == 0)) || die "not connected: the rest cannot run"
check_output "the plugins are the registry's, of this telepresence's version" \
  "$TP_REGISTRY/telemount:$(cat "$TP_REPO/VERSION")" docker plugin ls --format '{{.PluginReference}}'
check_equal "both are ready" "ok ok" \
  "$("$telepresence" plugins status --output json | jq -r '[.plugins[].state] | join(" ")')"
check_output "curl reaches a service by name" "echo from echo" \
  timeout 20 "$telepresence" curl --silent --max-time 5 http://echo:8080/

heading "IPv6: containers on the Teleroute network reach the cluster's IPv6 addresses"
check_equal "the Teleroute network is dual stack" "true 10.200.0.0/24 fd74:656c:6570::/112" \
  "$(docker network inspect tp-default -f '{{.EnableIPv6}}{{range .IPAM.Config}} {{.Subnet}}{{end}}')"
greeter6=$(container_ip6 greeter)
manager6=$(container_ip6 tp-traffic-manager)
check_output "docker-run: curl to greeter's IPv6 address answers, through the traffic-manager" \
  "client: $manager6:" timeout 30 "$telepresence" docker-run --rm --pull never tp-curl:latest \
  curl -sS -m 5 -g "http://[$greeter6]:8080/ipv6"
# -p of a container on the dual-stack network: the host reaches it over IPv6 too.
defer docker rm -f "$TP_PREFIX-published"
timeout 30 "$telepresence" docker-run -d --pull never --name "$TP_PREFIX-published" \
  -p 18090:8080 tp-echo:latest --name published --port 8080 >/dev/null
check_output "a port it publishes (-p 18090:8080) answers on the host's [::1]" \
  "echo from published" wait_until_output 20 "the published port" \
  curl -sS -m 3 -g "http://[::1]:18090/ipv6"
# A neighbour on the network is an attacker: over IPv6 the daemon serves it no control API, and its
# capture port drops a direct connection (the capture's guard) instead of relaying it.
daemon6=fd74:656c:6570::2
check_fails "a container on the network cannot reach the daemon's control API over IPv6" "" \
  timeout 30 "$telepresence" docker-run --rm --pull never tp-curl:latest \
  curl -sS -m 3 -g "http://[$daemon6]:8787/status"
check_fails "its direct connection to the capture port over IPv6 gets no answer" "(28)" \
  timeout 30 "$telepresence" docker-run --rm --pull never tp-curl:latest \
  curl -sS -m 3 -g "http://[$daemon6]:15001/"
check_fails "and is not relayed: the proxy never saw it" "" \
  sh -c 'docker logs tp-default-cn 2>&1 | grep -a "a direct connection to the capture port"'
check_output "telepresence curl, from the daemon itself, too" "client: $manager6:" \
  timeout 20 "$telepresence" curl -sS -m 5 -g "http://[$greeter6]:8080/ipv6"
check_output "an AAAA answer for a service name" "$greeter6" \
  timeout 30 "$telepresence" docker-run --rm --pull never tp-busybox:latest \
  nslookup -type=aaaa greeter.default.svc.cluster.local
work=$(mktemp -d)
defer rm -rf "$work"
env --default-signal=INT "$telepresence" replace echo --docker-run -- --pull never \
  --entrypoint echo-server tp-echo:latest --name local-echo --port 8080 --port 9090 \
  >"$work/replace.log" 2>&1 &
replace_pid=$!
defer kill -INT "$replace_pid"
local_echo_answers() { echo_answers_greeter replaced | grep 'echo from local-echo'; }
check_output "the workload's in-cluster traffic reaches the local container" \
  "echo from local-echo" wait_until_output 60 "the local container to answer" local_echo_answers
check_handler_stop_ends replace "$replace_pid" "$work/replace.log"
check_output "quit disconnects" "Disconnected" "$telepresence" quit
check_equal "no daemon container is left" "" \
  "$(docker ps -aq --filter name=tp-default-cn)"
exit 0
