#!/usr/bin/env bash
# Every way a `--docker-run` engagement can end, against the local demo cluster: the container
# exits, Ctrl-C, SIGHUP (the terminal closed), SIGKILL of the CLI (then the container stops),
# `docker rm -f` of the handler, `telepresence quit`, and the daemon container removed. After
# each, the echo workload answers in-cluster requests itself within 5 s, and nothing of the
# engagement is left: no engagement (telepresence list), no handler container, no telemount
# volume, no private env file.
#
# usage: test/docker/endings.sh BUILD_DIR
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

telepresence=$TP_BUILD_DIR/bin/telepresence
daemon=tp-default-cn
handler=intercept-echo-8080

require_plugins telemount:latest teleroute:latest
use_demo_cluster
start_disconnected
defer docker rm -f "$handler"
work=$(mktemp -d)
defer rm -rf "$work"
# The CLI's private files (the env file docker run reads) go here, to be counted.
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
kill_engagement() { [[ -n ${engage_pid:-} ]] && kill -9 "$engage_pid"; }
defer kill_engagement

# from_cluster PATH: greeter's request to echo:8080/PATH, at most 3 s.
from_cluster() { docker exec greeter timeout 3 wget -qO- "http://echo.default:8080/$1"; }
echo_answers_itself() { from_cluster ending | grep -q "echo from echo"; }
handler_answers() { from_cluster during | grep -q "echo from local"; }
telemount_volumes() { docker volume ls -q --filter driver=telemount:latest; }
# nothing_left: no engagement (none without a daemon), handler container, telemount volume or
# private env file.
nothing_left() {
  { ! docker container inspect "$daemon" >/dev/null 2>&1 ||
    "$telepresence" list 2>&1 | grep -qE '^echo .* -$'; } &&
    [[ -z $(docker ps -aq --filter "name=^$handler\$") ]] &&
    [[ -z $(telemount_volumes) ]] &&
    [[ -z $(ls -A "$TMPDIR") ]]
}
# The ending's clock: the workload must answer itself within 5 s of the moment marked.
mark() { ending_started=$SECONDS; }
check_ended() {
  local what=$1
  if wait_until 5 "echo to answer itself" echo_answers_itself; then
    pass "$what: echo answers itself within 5 s ($((SECONDS - ending_started)) s)"
  else
    fail "$what: echo does not answer itself 5 s after the ending: $(from_cluster ending 2>&1)"
  fi
  if wait_until 5 "nothing of the engagement to be left" nothing_left; then
    pass "$what: nothing of the engagement is left"
  else
    fail "$what: left behind: list: $("$telepresence" list 2>&1 | grep '^echo'); containers:" \
      "$(docker ps -a --filter "name=^$handler\$" --format '{{.Names}} {{.Status}}');" \
      "volumes: $(telemount_volumes); private files: $(ls -A "$TMPDIR")"
  fi
}
# engage: `telepresence replace echo` with a local echo-server as the handler, in the
# background (SIGINT as from a terminal; output in $work/cli.log); waits until it answers.
engage() {
  env --default-signal=INT "$telepresence" replace echo --docker-run -- --pull never \
    tp-echo:latest --name local --port 8080 --port 9090 >"$work/cli.log" 2>&1 &
  engage_pid=$!
  wait_until 60 "the handler to answer" handler_answers || die "the handler never answered: $(cat "$work/cli.log")"
}
cli_ends_within() {
  wait_until "$1" "the CLI to end" pid_ended "$engage_pid" || return 1
  wait "$engage_pid" 2>/dev/null
  return 0
}
check_cli_ends() {
  if cli_ends_within 15; then
    pass "$1: the CLI ends"
  else
    fail "$1: the CLI still runs after 15 s: $(cat "$work/cli.log")"
  fi
}

check "connect" "$telepresence" connect --docker

heading "the container exits"
engage
mark
check "docker stop of the handler" docker stop -t 2 "$handler"
check_cli_ends "container exit"
check_ended "container exit"

heading "Ctrl-C"
engage
mark
check "SIGINT to the CLI" kill -INT "$engage_pid"
check_cli_ends "Ctrl-C"
check_ended "Ctrl-C"

heading "SIGHUP: the terminal closed"
engage
mark
check "SIGHUP to the CLI" kill -HUP "$engage_pid"
check_cli_ends "SIGHUP"
check_ended "SIGHUP"

heading "SIGKILL of the CLI, then the container stops"
engage
check "SIGKILL to the CLI" kill -9 "$engage_pid"
wait "$engage_pid" 2>/dev/null
# The container (and its docker run) live on, and so does the engagement.
check "while the container runs, it keeps the workload's traffic" wait_until 3 "the handler to answer" handler_answers
check_output "list still shows the engagement" "replace" "$telepresence" list
mark
check "docker stop of the handler" docker stop -t 2 "$handler"
check_ended "SIGKILL of the CLI"

heading "docker rm -f of the handler"
engage
mark
check "docker rm -f" docker rm -f "$handler"
check_cli_ends "docker rm -f"
check_ended "docker rm -f"

heading "telepresence quit"
engage
mark
check_output "quit" "Disconnected" "$telepresence" quit
check_cli_ends "quit"
check_ended "quit"
check_equal "no daemon container" "" "$(docker ps -aq --filter "name=^$daemon\$")"
check "connect again" "$telepresence" connect --docker

heading "the daemon container removed"
engage
mark
check "docker rm -f $daemon" docker rm -f "$daemon"
check_cli_ends "daemon removed"
check_ended "daemon removed"
check_output "quit removes the rest" "Disconnected" "$telepresence" quit
