#!/usr/bin/env bash
# The Telemount demo (`make demo`, after `make plugins`): a container stands for a remote
# workload's SFTP export (tp-demo-sftp, from tp-sftp-export:latest, port 2222 published on a
# random 127.0.0.1 port); a telemount volume makes its folder /tel_app_exports/echo/srv/echo-data
# a Docker volume; a local container reads it and writes a file that arrives on the server.
# Cleans up its volume and container at the end and tolerates leftovers of an earlier run.
#
# usage: demo/telemount.sh BUILD_DIR
set -euo pipefail

build_dir=${1:?usage: demo/telemount.sh BUILD_DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
server=tp-demo-sftp
volume=tp-demo-telemount   # not the demo cluster's tp-demo-echo-data
remote_folder=/tel_app_exports/echo/srv/echo-data
work=$(mktemp -d)

# shellcheck source=demo/lib.sh
source "$repo/demo/lib.sh"

remove_demo_objects() {
  docker volume rm -f "$volume" >/dev/null 2>&1 || true
  docker rm -f "$server" >/dev/null 2>&1 || true
}
cleanup() {
  local status=$?
  heading "clean up"
  # The volume first, while its server still answers; then the server.
  remove_demo_objects
  rm -rf "$work"
  echo "removed volume $volume and container $server"
  if ((status == 0)); then echo "demo finished"; else echo "demo FAILED (exit status $status)"; fi
}

heading "build the images locally (no registry)"
"$repo/scripts/build-images.sh" "$build_dir"
[[ $(docker plugin inspect -f '{{.Enabled}}' telemount:latest 2>/dev/null) == true ]] || {
  echo "the telemount plugin is not enabled: run make plugins" >&2
  exit 1
}
remove_demo_objects  # leftovers of an interrupted run
trap cleanup EXIT

heading "start the 'remote' SFTP export ($server) with a file in $remote_folder"
mkdir -p "$work/tree$remote_folder"
echo "Hello from the remote echo container's volume!" >"$work/tree$remote_folder/message.txt"
docker create --name "$server" -p 127.0.0.1::2222 tp-sftp-export:latest >/dev/null
docker cp "$work/tree/tel_app_exports" "$server:/"
docker start "$server" >/dev/null
server_listens() { docker logs "$server" 2>&1 | grep -q 'listening on'; }
if ! wait_until 20 "$server to listen" server_listens; then
  docker logs "$server" >&2
  exit 1
fi
port=$(docker port "$server" 2222/tcp | head -1)
port=${port##*:}
echo "$server serves SFTP on 127.0.0.1:$port ($(docker logs "$server" 2>&1 | grep 'listening on'))"

heading "create the volume"
show docker volume create -d telemount -o host=127.0.0.1 -o "port=$port" -o container=echo \
  -o dir=srv/echo-data "$volume"
show docker volume ls --filter "name=$volume"

heading "use it from a local container"
show docker run --rm -v "$volume:/data" tp-busybox:latest \
  sh -c 'ls -l /data; cat /data/message.txt; echo hello > /data/from-laptop.txt'

heading "the file written by the container arrived on the server"
echo "\$ docker cp $server:$remote_folder/from-laptop.txt - | tar -xO"
arrived=$(docker cp "$server:$remote_folder/from-laptop.txt" - | tar -xO)
echo "$arrived"
[[ "$arrived" == hello ]] || { echo "unexpected content: $arrived" >&2; exit 1; }
