#!/usr/bin/env bash
# Makes sure a Docker engine answers: the one DOCKER_HOST names (only checked), else this
# machine's on /var/run/docker.sock (started when none runs, clearing a stale pid file a killed
# dockerd left behind). Waits at most 60 s.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi
# Another engine named by DOCKER_HOST (remote, rootless, a test's own) is not ours to start.
if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != unix:///var/run/docker.sock &&
  "$DOCKER_HOST" != unix:///run/docker.sock ]]; then
  echo "ensure-dockerd: the engine at DOCKER_HOST=$DOCKER_HOST does not answer; start it, or" \
    "unset DOCKER_HOST to use (and start) this machine's own dockerd" >&2
  exit 1
fi

pid_file=/var/run/docker.pid
if [[ -f "$pid_file" ]] && ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  echo "ensure-dockerd: removing stale $pid_file"
  rm -f "$pid_file"
fi
containerd_pid=/run/docker/containerd/containerd.pid
if [[ -f "$containerd_pid" ]] && ! kill -0 "$(cat "$containerd_pid")" 2>/dev/null; then
  rm -f "$containerd_pid"
fi

# start_dockerd LOG: runs dockerd in a session of its own, with none of this shell's open files
# but its log: a lock the caller holds (`flock LOCK make test`) must not live on in dockerd.
start_dockerd() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then exec {fd}>&-; fi
  done
  exec setsid nohup dockerd >"$1" 2>&1 </dev/null
}

if ! pgrep -x dockerd >/dev/null; then
  log=/var/log/tp-dockerd.log
  echo "ensure-dockerd: starting dockerd (log: $log)"
  start_dockerd "$log" &
fi

# shellcheck source=scripts/lib/wait.sh
source "$(dirname "$0")/lib/wait.sh"
if ! wait_until 60 "dockerd to answer" docker info; then
  echo "ensure-dockerd: dockerd did not answer within 60 s; last log lines:" >&2
  tail -20 /var/log/tp-dockerd.log >&2 || true
  exit 1
fi
echo "ensure-dockerd: dockerd is up"
