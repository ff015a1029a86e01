#!/usr/bin/env bash
# End-to-end test of `telepresence ui` (docs/ui.md) against the local demo cluster, in a real
# browser: Debian's chromium, headless, driven by playwright-core (ui/e2e/browser.e2e.mjs).
#   A container on Docker's bridge cannot reach it; one on the host's network gets 401 without the
#   secret. The page refuses a browser without the secret, a wrong secret and a foreign Host; with the
#   printed address it connects, lists echo with its ports, replaces echo with a locally built
#   image (a request from greeter reaches it; its env, volume and log line are in the page),
#   leaves (echo answers again), runs a busybox on the cluster network that reaches echo by name
#   (its log in the page; Stop removes it), fits a 360 px window and disconnects; a connect and a quit made
#   in a terminal show in the open page (Docker's events, no reload).
#   Ctrl-C ends the server with status 0 and closes its port.
# Screenshots of each step: BUILD_DIR/ui-screenshots/.
#
# usage: test/docker/ui.sh BUILD_DIR
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

telepresence=$TP_BUILD_DIR/bin/telepresence
ui_dir=$TP_REPO/ui
chromium=${TP_CHROMIUM:-/usr/bin/chromium}

[[ -x $chromium ]] || die "no chromium at $chromium (run scripts/install-deps.sh)"
[[ -d $ui_dir/node_modules/playwright-core ]] ||
  die "ui/node_modules has no playwright-core (the build runs npm ci in ui/: run make build)"
require_plugins telemount:latest teleroute:latest
use_demo_cluster
start_disconnected

work=$(mktemp -d)
defer rm -rf "$work"
remove_handlers() {
  docker ps -aq --filter name=intercept-echo | xargs -r docker rm -f
}
defer remove_handlers

heading "a local image to replace echo with"
handler_image=$TP_PREFIX-handler:latest
# The echo server under another name: its answers say "echo from local-ui".
if docker build -q -t "$handler_image" - >/dev/null <<'EOF'
FROM tp-echo:latest
CMD ["--name", "local-ui", "--port", "8080", "--port", "9090"]
EOF
then
  pass "built $handler_image"
else
  die "cannot build $handler_image from tp-echo:latest"
fi
defer docker image rm -f "$handler_image"
ui_log=$work/ui.log
stop_ui() { if [[ -n ${ui_pid:-} ]]; then kill -INT "$ui_pid" 2>/dev/null || true; fi; }
defer stop_ui

heading "telepresence ui prints its address with a secret"
# (A background job of a script starts with SIGINT ignored; the CLI gets it back, as from a
# terminal.)
env --default-signal=INT "$telepresence" ui --port 0 --no-open >"$ui_log" 2>&1 &
ui_pid=$!
address=$(wait_until_output 15 "the UI's address" grep -o 'http://127\.0\.0\.1:[0-9]*/?token=[0-9a-f]*' "$ui_log") ||
  die "telepresence ui printed no address: $(cat "$ui_log")"
pass "the address is $address"
port=${address#http://127.0.0.1:}
port=${port%%/*}

heading "a neighbour container cannot use it"
# From a container on Docker's bridge: the UI listens on the host's loopback only, so the host's
# bridge address refuses it.
gateway=$(docker_bridge_gateway) || die "cannot find Docker's bridge gateway"
# shellcheck disable=SC2016  # $1 is expanded by the sh in the container
check_fails "a container on Docker's bridge cannot reach the UI at the host's bridge address" \
  "refused" docker run --rm --pull never tp-busybox:latest \
  sh -c 'timeout 5 wget -qO- "$1" 2>&1; exit 1' sh "http://$gateway:$port/"
# From a container that shares the host's network (and so its loopback): no secret, no page.
# shellcheck disable=SC2016  # $1 is expanded by the sh in the container
check_fails "a container on the host's network gets 401 without the secret" "401" \
  docker run --rm --pull never --network host tp-busybox:latest \
  sh -c 'timeout 5 wget -qO- "$1" 2>&1; exit 1' sh "http://127.0.0.1:$port/api/status"

heading "the page in chromium"
screenshots=$TP_BUILD_DIR/ui-screenshots
rm -rf "$screenshots"
browser_output=$work/browser.out
TP_TELEPRESENCE=$telepresence node "$ui_dir/e2e/browser.e2e.mjs" "$address" "$screenshots" "$handler_image" >"$browser_output" 2>&1
relay_checks "$browser_output" $?
check_output "the page left the context disconnected" "Connected: no" "$telepresence" status

heading "Ctrl-C ends telepresence ui"
kill -INT "$ui_pid"
wait_until 15 "telepresence ui to end" pid_ended "$ui_pid" || die "telepresence ui does not end on SIGINT"
wait "$ui_pid"
check_equal "telepresence ui exits with 0 on Ctrl-C" 0 "$?"
ui_pid=
# port_refuses PORT: nothing accepts a connection on 127.0.0.1:PORT.
port_refuses() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
check "its port is closed" port_refuses "$port"
