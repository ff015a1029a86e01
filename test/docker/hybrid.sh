#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run through the check helpers and the EXIT trap
# The daemon on the host (issue 19, "hybrid"): `telepresence connect` without --docker runs
# telepresence-daemon as a process of "the host", and `intercept --docker-run` runs the handler
# on Docker's default bridge with the seeds' flags for that case (--dns-search tel2-search,
# -p LOCAL:CONTAINER, --env-file, --name, -v of the mounts). "The host" is the network namespace
# of an isolated engine with a mount namespace of its own, in which /etc/resolv.conf is the
# test's file (test/docker/lib/isolated_engine.sh): the machine's own routes, nftables and DNS
# are never touched. The demo cluster runs in that engine too (its images built from scratch).
#
# Checks: the host resolves and reaches the cluster's services by name; a container on the
# default bridge does too through tel2-search; an intercept's handler gets the workload's
# traffic through its published port, reads the workload's volume and resolves cluster names;
# containers on the bridge cannot reach the daemon's control API; `quit` leaves routes, rules,
# nftables, links and resolv.conf exactly as before; so does `quit` after the daemon was killed.
#
# usage: test/docker/hybrid.sh BUILD_DIR
set -uo pipefail

isolated_engine_resolv_conf=$'# the test host\'s own resolv.conf\nnameserver 192.0.2.53\nsearch example.test\n'
# shellcheck source=test/docker/lib/isolated_engine.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/isolated_engine.sh" hy "$@"
# From here on: inside the test's own engine, network and mount namespaces.
telepresence=$TP_BUILD_DIR/bin/telepresence
export TELEPRESENCE_DOCKER_RUN_DIR=/run/$TP_PREFIX-daemons
defer rm -rf "$TELEPRESENCE_DOCKER_RUN_DIR"

# What the host looks like, for the before/after comparison: host_state (links, routes of both
# families, rules, nftables tables, containers, networks, volumes) plus IPv6's rules (`ip rule`
# lists IPv4's only), the whole ruleset and the resolv.conf.
hybrid_host_state() {
  host_state
  echo "== IPv6 rules"
  ip -6 rule show
  echo "== ruleset"
  nft list ruleset 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+ ?//'
  echo "== resolv.conf"
  cat /etc/resolv.conf
}

heading "the host before connect"
check_output "/etc/resolv.conf is the test's own" "nameserver 192.0.2.53" cat /etc/resolv.conf
ipv6_subnet=fd00:213::/64
check_output "the demo cluster starts, dual stack (TP_DEMO_IPV6)" "The demo cluster is up" \
  env TP_DEMO_IPV6="$ipv6_subnet" "$TP_REPO/demo/cluster/up.sh" "$TP_BUILD_DIR"
((TP_FAILED == 0)) || die "without the demo cluster the rest cannot run"
docker0=$(docker_bridge_gateway)
# A new bridge's IPv6 addresses (and their local routes) come once duplicate address detection
# is done, a moment after the network is made.
no_tentative_addresses() { [[ -z $(ip -6 addr show tentative) ]]; }
wait_until 10 "the IPv6 addresses to settle" no_tentative_addresses ||
  fail "IPv6 addresses are still tentative after 10 s: $(ip -6 addr show tentative)"
before=$(hybrid_host_state)

heading "a port the daemon needs is taken: connect fails, says why, changes nothing"
defer "$telepresence" quit
busybox nc -l -p 53 </dev/null >/dev/null 2>&1 &
squatter=$!
defer bash -c "kill $squatter 2>/dev/null || true"
check_fails "connect says that its DNS server cannot listen" "cannot start the DNS server" \
  timeout 60 "$telepresence" connect
kill "$squatter"
check_equal "the host is as before" "$before" "$(hybrid_host_state)"
check_fails "no daemon state is left" "" test -e "$TELEPRESENCE_DOCKER_RUN_DIR/default"

heading "connect without --docker"
check_fails "a user that is not root is told why root is needed" "needs root" \
  setpriv --reuid 65534 --regid 65534 --clear-groups "$telepresence" connect
check_output "connect runs the daemon on this host" "Connected to $docker0:" \
  timeout 120 "$telepresence" connect
((TP_FAILED == 0)) || die "not connected: the rest cannot run"
check_output "status names the host daemon" "Daemon: this host (pid" "$telepresence" status
check_output "the host's resolv.conf names the daemon's DNS server" "nameserver $docker0" \
  cat /etc/resolv.conf
check_output "and keeps the host's own search domain after the cluster's" \
  "search default.svc.cluster.local svc.cluster.local cluster.local example.test" \
  cat /etc/resolv.conf
check_output "a second connect keeps the daemon" "Already connected" "$telepresence" connect
check_fails "connect --docker says the context is connected on the host" \
  "connected without --docker" "$telepresence" connect --docker

heading "the host and its containers reach the cluster by name"
check_output "curl on the host reaches echo by its short name" "echo from echo" \
  curl --silent --max-time 5 http://echo.default:8080/host
check_output "telepresence curl runs curl on the host" "echo from echo" \
  timeout 20 "$telepresence" curl --silent --max-time 5 http://echo:8080/
check_output "a container on the default bridge resolves echo through tel2-search and reaches it" \
  "echo from echo" timeout 30 "$telepresence" docker-run --rm --pull never tp-busybox:latest \
  wget -qO- http://echo:8080/docker-run
heading "IPv6: the host reaches a workload's IPv6 address through the tunnel"
greeter6=$(container_ip6 greeter)
manager6=$(container_ip6 tp-traffic-manager)
captured() { "$telepresence" status --output json | jq -r '.capture.subnets[]'; }
check_output "the daemon captures the cluster's IPv6 subnet" "$ipv6_subnet" captured
check_output "curl to greeter's IPv6 address answers, and greeter sees the traffic-manager" \
  "client: $manager6:" curl --silent --max-time 5 -g "http://[$greeter6]:8080/ipv6"
check_output "the cluster's names have AAAA records on the host" "$greeter6" \
  getent ahostsv6 greeter.default.svc.cluster.local

control_port=$(jq -r .control_port "$TELEPRESENCE_DOCKER_RUN_DIR/default/daemon.json")
# The capture port answers only what the capture sends it: a direct connection is dropped by the
# capture's guard chain, never relayed (here it would be relayed to this very port again, in a
# loop); the proxy does not even see it.
guard_dropped_tcp() {
  nft list chain ip telepresence guard | grep -E "tcp dport 15001 counter packets [1-9]"
}
proxy_saw_it() {
  grep -a "a direct connection to the capture port" "$TELEPRESENCE_DOCKER_RUN_DIR/default/daemon.log"
}
check_fails "a container that connects to the capture port itself gets no answer" "" \
  docker run --rm --pull never tp-busybox:latest sh -c "echo x | timeout 3 nc $docker0 15001"
check_output "the capture's guard dropped it" "drop" \
  wait_until_output 10 "the guard's counter" guard_dropped_tcp
check_fails "and the proxy never saw it" "" proxy_saw_it
check_fails "a container on the bridge cannot reach the daemon's control API" "" \
  docker run --rm --pull never tp-busybox:latest wget -T 3 -qO- \
  "http://$docker0:$control_port/status"

heading "intercept --docker-run with the daemon on the host"
work=$(mktemp -d)
defer rm -rf "$work"
# The handler reads the workload's volume and asks the cluster (echo's other port) by name.
handler_script='cat /srv/echo-data/message.txt >/tmp/volume 2>&1
wget -qO- http://echo.default:9090/from-handler >/tmp/cluster 2>&1
exec echo-server --name local-echo --port 8081'
env --default-signal=INT "$telepresence" intercept echo --port 8080:8081 --docker-run -- \
  --pull never --entrypoint sh tp-echo:latest -c "$handler_script" >"$work/intercept.log" 2>&1 &
intercept_pid=$!
defer kill -INT "$intercept_pid"
local_echo_answers() { echo_answers_greeter intercepted | grep 'echo from local-echo'; }
check_output "the workload's in-cluster traffic reaches the local container" \
  "echo from local-echo" wait_until_output 90 "the local container to answer" local_echo_answers
handler=intercept-echo-8080
check_equal "the handler runs with --dns-search tel2-search" '["tel2-search"]' \
  "$(docker inspect -f '{{json .HostConfig.DnsSearch}}' "$handler")"
check_equal "its port is published on the host's loopback only (-p 127.0.0.1:8080:8081)" \
  '127.0.0.1:8080' \
  "$(docker inspect -f '{{range (index .HostConfig.PortBindings "8081/tcp")}}{{.HostIp}}:{{.HostPort}}{{end}}' "$handler")"
check_equal "it is on Docker's default bridge" "default" \
  "$(docker inspect -f '{{.HostConfig.NetworkMode}}' "$handler")"
check_output "it has the workload's environment (--env-file)" "ECHO_MESSAGE=" \
  docker inspect -f '{{join .Config.Env "\n"}}' "$handler"
check_output "it reads the workload's volume (a telemount volume served on 127.0.0.1)" \
  "$(docker exec echo cat /srv/echo-data/message.txt)" docker exec "$handler" cat /tmp/volume
check_output "it reaches the cluster by name" "echo from echo" docker exec "$handler" cat /tmp/cluster
check_handler_stop_ends intercept "$intercept_pid" "$work/intercept.log"

heading "quit puts the host back"
check_output "quit disconnects" "Disconnected" "$telepresence" quit
check_equal "routes, rules, nftables, links and resolv.conf are as before connect" "$before" \
  "$(hybrid_host_state)"
check_fails "the daemon's state folder is gone" "" test -e "$TELEPRESENCE_DOCKER_RUN_DIR/default"

heading "a daemon that dies: quit puts back what it left"
check_output "connect again" "Connected to" timeout 120 "$telepresence" connect
pid=$(jq -r .pid "$TELEPRESENCE_DOCKER_RUN_DIR/default/daemon.json")
check "kill -9 the daemon" kill -9 "$pid"
wait_until 10 "the daemon to end" pid_ended "$pid" || fail "the daemon $pid does not end"
check_output "it left the resolv.conf rewritten" "nameserver $docker0" cat /etc/resolv.conf
check_output "status says not connected" "Not connected" "$telepresence" status
check_output "quit says what it puts back" "stopped without cleaning up" "$telepresence" quit
check_equal "and the host is as before connect" "$before" "$(hybrid_host_state)"
exit 0
