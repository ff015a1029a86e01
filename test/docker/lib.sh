# shellcheck shell=bash
# Assertions and fixtures for the Docker end-to-end tests; source it from a test script.
#
# Every run gets unique names (TP_PREFIX=tp-test-<pid>). Whatever a test creates is registered
# with `defer` and undone in reverse order on exit, also on failure or Ctrl-C. Checks print
# "PASS: ..." or "FAIL: ..." and the run ends with "N passed, N failed" (exit 1 on a failure).
# Waits poll a condition up to a deadline instead of sleeping a fixed time (scripts/lib/wait.sh).
#
# usage in a test:  source "$(dirname "$0")/lib.sh" "$BUILD_DIR"

set -uo pipefail

TP_BUILD_DIR=$(cd "${1:?usage: TEST BUILD_DIR}" && pwd)
TP_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TP_PREFIX="tp-test-$$"
TP_PLUGIN=telemount:latest
TP_PASSED=0
TP_FAILED=0
# shellcheck source=scripts/lib/docker-bridge.sh
source "$TP_REPO/scripts/lib/docker-bridge.sh"
# shellcheck source=scripts/lib/defer.sh
source "$TP_REPO/scripts/lib/defer.sh"
# shellcheck source=scripts/lib/wait.sh
source "$TP_REPO/scripts/lib/wait.sh"
# shellcheck source=demo/cluster/common.sh
source "$TP_REPO/demo/cluster/common.sh"

tp_on_exit() {
  local status=$?
  run_deferred
  if ((status != 0 && TP_FAILED == 0)); then
    echo "FAIL: the test script stopped early (exit status $status)"
    TP_FAILED=$((TP_FAILED + 1))
  fi
  echo "$TP_PASSED passed, $TP_FAILED failed"
  ((TP_FAILED == 0)) || exit 1
  exit 0
}
trap tp_on_exit EXIT
trap 'exit 130' INT TERM

pass() { TP_PASSED=$((TP_PASSED + 1)); echo "PASS: $*"; }
fail() { TP_FAILED=$((TP_FAILED + 1)); echo "FAIL: $*"; }
# A failure the rest of the test cannot go on without.
die() { fail "$*"; exit 1; }
heading() { echo; echo "== $*"; }

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
  local description=$1
  shift
  local output
  if output=$("$@" 2>&1); then
    pass "$description"
  else
    fail "$description: \`$*\` failed: $output"
  fi
}

# check_output DESCRIPTION EXPECTED COMMAND...: COMMAND succeeds and its output contains EXPECTED.
check_output() {
  local description=$1 expected=$2
  shift 2
  local output
  if ! output=$("$@" 2>&1); then
    fail "$description: \`$*\` failed: $output"
  elif [[ "$output" != *"$expected"* ]]; then
    fail "$description: expected \"$expected\" in output of \`$*\`, got: $output"
  else
    pass "$description"
  fi
}

# check_fails DESCRIPTION EXPECTED COMMAND...: COMMAND fails and its output contains EXPECTED.
check_fails() {
  local description=$1 expected=$2
  shift 2
  local output
  if output=$("$@" 2>&1); then
    fail "$description: \`$*\` succeeded but should fail; output: $output"
  elif [[ "$output" != *"$expected"* ]]; then
    fail "$description: expected \"$expected\" in the error of \`$*\`, got: $output"
  else
    pass "$description"
  fi
}

# relay_checks OUTPUT_FILE STATUS: counts the "PASS: ..." / "FAIL: ..." lines another program (a
# browser test, ui/e2e/) wrote to OUTPUT_FILE as this test's own, echoes its other lines, and
# fails when it exited with a STATUS other than 0 (a crash before its checks counts).
relay_checks() {
  local line
  while IFS= read -r line; do
    case $line in
      PASS:*) pass "${line#PASS: }" ;;
      FAIL:*) fail "${line#FAIL: }" ;;
      *) echo "$line" ;;
    esac
  done <"$1"
  (($2 == 0)) || fail "the browser test exited with $2"
}

# check_equal DESCRIPTION EXPECTED ACTUAL
check_equal() {
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1: expected \"$2\", got \"$3\""; fi
}

# require_plugins PLUGIN...: each is installed and enabled, else the test stops saying how.
require_plugins() {
  local plugin
  for plugin in "$@"; do
    [[ $(docker plugin inspect -f '{{.Enabled}}' "$plugin" 2>/dev/null) == true ]] ||
      die "plugin $plugin is not installed and enabled (run: make plugins)"
  done
}

# use_demo_cluster: the local demo cluster is up and the images are built. A cluster that was up
# before the test is left up; one the test starts is removed at exit.
use_demo_cluster() {
  demo_cluster_start "$TP_BUILD_DIR" || die "the demo cluster does not come up, or the images do not build"
}

# check_handler_stop_ends COMMAND PID LOG: stopping the handler intercept-echo-8080 ends the
# engagement command COMMAND (PID, its output in LOG), and echo answers greeter itself again.
check_handler_stop_ends() {
  local command=$1 pid=$2 log=$3
  check "the handler stops" docker stop -t 2 intercept-echo-8080
  if wait_until 30 "$command to end" pid_ended "$pid"; then
    pass "the $command command ends with its container"
  else
    fail "$command still runs 30 s after its container stopped: $(cat "$log")"
  fi
  check_output "the workload answers itself again" "echo from echo" \
    wait_until_output 10 "echo to answer" echo_answers_greeter again
}

# echo_answers_greeter PATH: what echo.default:8080/PATH (echo, or a handler in its place)
# answers greeter, within 5 s.
echo_answers_greeter() { docker exec greeter timeout 5 wget -qO- "http://echo.default:8080/$1"; }

# container_gone NAME: no container of that name exists.
container_gone() { ! docker container inspect "$1" >/dev/null 2>&1; }

# start_disconnected: no daemon of the default context runs (a leftover of an earlier run is
# quit), and `telepresence quit` runs at exit.
start_disconnected() {
  local telepresence=$TP_BUILD_DIR/bin/telepresence
  "$telepresence" quit >/dev/null 2>&1
  wait_until 20 "a leftover tp-default-cn to go away" container_gone tp-default-cn ||
    die "a leftover tp-default-cn container does not go away"
  defer "$telepresence" quit
}

require_plugin() {
  [[ $(docker plugin inspect -f '{{.Enabled}}' "$TP_PLUGIN" 2>/dev/null) == true ]] ||
    die "plugin $TP_PLUGIN is not installed and enabled (run: make plugins)"
}

# ensure_plugin_enabled: enables the plugin unless it already is (for cleanups).
ensure_plugin_enabled() {
  [[ $(docker plugin inspect -f '{{.Enabled}}' "$TP_PLUGIN") == true ]] ||
    docker plugin enable "$TP_PLUGIN"
}

require_busybox_image() {
  "$TP_REPO/scripts/build-images.sh" "$TP_BUILD_DIR" tp-busybox >/dev/null ||
    die "cannot build the tp-busybox image"
}

# The test's folder in the agent export layout, /tel_app_exports/$TP_PREFIX: the volumes'
# "container". make_export_folder SUBPATH creates $TP_EXPORT_ROOT/SUBPATH; the whole
# $TP_EXPORT_ROOT is removed at exit. (Call it directly, not in $(...): defer needs this shell.)
TP_EXPORT_ROOT=/tel_app_exports/$TP_PREFIX
make_export_folder() {
  if [[ ! -d /tel_app_exports ]]; then
    mkdir -p /tel_app_exports || die "cannot create /tel_app_exports"
    defer rmdir /tel_app_exports
  fi
  if [[ ! -d "$TP_EXPORT_ROOT" ]]; then
    mkdir -p "$TP_EXPORT_ROOT" || die "cannot create $TP_EXPORT_ROOT"
    defer rm -rf "$TP_EXPORT_ROOT"
  fi
  mkdir -p "$TP_EXPORT_ROOT/$1" || die "cannot create $TP_EXPORT_ROOT/$1"
}

# start_sftp_export NAME: runs build/bin/sftp-export --root / on a free 127.0.0.1 port, stopped
# at exit; sets SFTP_PORT (and SFTP_PID).
start_sftp_export() {
  local port_file=/tmp/$TP_PREFIX-$1.port listen=${2:-127.0.0.1:0}
  rm -f "$port_file"
  "$TP_BUILD_DIR/bin/sftp-export" --root / --listen "$listen" --port-file "$port_file" \
    >"/tmp/$TP_PREFIX-$1.log" 2>&1 &
  SFTP_PID=$!
  defer rm -f "$port_file" "/tmp/$TP_PREFIX-$1.log"
  defer kill "$SFTP_PID"
  wait_until 10 "sftp-export's port file" test -s "$port_file" || die "sftp-export did not start: $(cat "/tmp/$TP_PREFIX-$1.log")"
  # shellcheck disable=SC2034  # read by the test scripts
  SFTP_PORT=$(cat "$port_file")
}

# start_registry: Debian's docker-registry (distribution 2.8) on 127.0.0.1:5000 of the test's
# network namespace (an isolated engine's: dockerd trusts 127.0.0.0/8 over
# plain HTTP), storing in a temporary folder; stopped and removed at exit. Sets TP_REGISTRY.
start_registry() {
  local port=5000 dir
  dir=$(mktemp -d "/tmp/$TP_PREFIX-registry.XXXXXX")
  defer rm -rf "$dir"
  printf '%s\n' 'version: 0.1' 'log:' '  level: warn' 'storage:' '  filesystem:' \
    "    rootdirectory: $dir/data" 'http:' "  addr: 127.0.0.1:$port" >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  defer kill "$!"
  TP_REGISTRY=127.0.0.1:$port
  wait_until 20 "the registry to answer" curl -sf "http://$TP_REGISTRY/v2/" ||
    { echo "the registry's log: $(cat "$dir/log")"; return 1; }
}

# closed_port: prints a 127.0.0.1 port nothing listens on (one an exporter just released).
closed_port() {
  local port_file=/tmp/$TP_PREFIX-closed.port
  "$TP_BUILD_DIR/bin/sftp-export" --root / --listen 127.0.0.1:0 --port-file "$port_file" \
    >/dev/null 2>&1 &
  local pid=$!
  wait_until 10 "sftp-export's port file" test -s "$port_file" || { kill "$pid"; die "cannot find a closed port"; }
  local port
  port=$(cat "$port_file")
  kill "$pid"
  wait "$pid" 2>/dev/null
  rm -f "$port_file"
  echo "$port"
}

# create_volume NAME OPTION...: docker volume create -d telemount -o OPTION... NAME (removed at
# exit). Returns the status of docker volume create; prints its output on failure.
create_volume() {
  local name=$1
  shift
  local args=() option
  for option in "$@"; do args+=(-o "$option"); done
  defer docker volume rm -f "$name"
  docker volume create -d telemount "${args[@]}" "$name" >/dev/null
}

# volume_listed NAME: docker volume ls shows NAME.
volume_listed() { docker volume ls -q | grep -qx -- "$1"; }

# plugin_pid: the host PID of the managed plugin's process ("" when it is not running).
plugin_pid() { pgrep -f '^/telemount plugin --socket /run/docker/plugins/telemount.sock' | head -1; }

# plugin_mount_devices KEY: the distinct FUSE devices mounted on the plugin's propagated mount
# folder for the endpoint KEY (host_port_rw), one per line.
plugin_mount_devices() {
  local id
  id=$(docker plugin inspect -f '{{.Id}}' "$TP_PLUGIN")
  awk -v dir="/var/lib/docker/plugins/$id/propagated-mount/$1" \
    '$5 == dir && $0 ~ / - fuse/ { print $3 }' /proc/self/mountinfo | sort -u
}

# What the host looks like to Docker and the kernel: our test containers aside, what connect
# may add and quit must take away again (containers, networks, volumes, links, routes, policy
# rules, nftables tables and Docker's DOCKER-USER rules).
host_state() {
  echo "== containers"
  docker ps -a --format '{{.Names}}' | grep -v "^$TP_PREFIX" | sort
  echo "== networks"
  docker network ls --format '{{.Name}}' | sort
  echo "== volumes"
  docker volume ls -q | sort
  echo "== links"
  ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//' | grep -v '^veth' | sort
  echo "== veth count"
  ip -o link show type veth | wc -l
  echo "== routes"
  # A bridge's IPv6 link-local address (and its local and anycast routes) comes a moment after
  # its first port, when the kernel's address configuration gets to it: the links say what is
  # there.
  ip route show table all | grep -v ' dev veth' | grep -v -E '^(local|anycast) fe80::' |
    sed 's/ linkdown//' | sort
  echo "== rules"
  ip rule show
  echo "== nftables"
  nft list tables 2>/dev/null | sort
  echo "== DOCKER-USER"
  nft list chain ip filter DOCKER-USER 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+ ?//'
}
