#!/usr/bin/env bash
# Pushes the managed plugins telemount and teleroute to a registry, each as REGISTRY/NAME:TAG and
# REGISTRY/NAME:latest (TAG: the plugin's version, scripts/lib/plugin_dir.sh). `docker plugin push`
# needs a plugin of that name on the engine: each is created from a fresh folder, pushed and
# removed again, so the engine's own telemount:latest and teleroute:latest are left alone.
# Operators then install them with
#   docker plugin install --grant-all-permissions --alias NAME REGISTRY/NAME:TAG
# or let `telepresence connect --docker --plugin-registry REGISTRY` do it.
#
# usage: scripts/push-plugins.sh BUILD_DIR REGISTRY [TAG]
#        (REGISTRY: host:port[/path], e.g. 127.0.0.1:5000 or registry.example.com/telepresence)
set -euo pipefail

usage="usage: push-plugins.sh BUILD_DIR REGISTRY [TAG]"
build_dir=$(cd "${1:?$usage}" && pwd)
registry=${2:?$usage}
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/rootfs.sh
source "$(dirname "$(readlink -f "$0")")/lib/rootfs.sh"
# shellcheck source=scripts/lib/plugin_dir.sh
source "$(dirname "$(readlink -f "$0")")/lib/plugin_dir.sh"
tag=${3:-$(plugin_version "$repo")}
if [[ ! $registry =~ ^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9._/-]+)?$ ]]; then
  echo "push-plugins: '$registry' is not a registry reference (host[:port][/path])" >&2
  exit 2
fi
if [[ ! $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "push-plugins: '$tag' is not a valid tag" >&2
  exit 2
fi

say() { echo "push-plugins: $*"; }
work=$(mktemp -d)
created=""
cleanup() {
  [[ -z "$created" ]] || docker plugin rm -f "$created" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# push_as REFERENCE FOLDER: creates the plugin REFERENCE from FOLDER, pushes it, removes it.
push_as() {
  local reference=$1 folder=$2
  docker plugin rm -f "$reference" >/dev/null 2>&1 || true  # a leftover of an earlier run
  docker plugin create "$reference" "$folder" >/dev/null
  created=$reference
  docker plugin push "$reference" >/dev/null
  docker plugin rm -f "$reference" >/dev/null
  created=""
  say "pushed $reference"
}

for name in telemount teleroute; do
  build_plugin_dir "$name" "$build_dir" "$repo" "$work/$name"
  push_as "$registry/$name:$tag" "$work/$name"
  [[ $tag == latest ]] || push_as "$registry/$name:latest" "$work/$name"
done
