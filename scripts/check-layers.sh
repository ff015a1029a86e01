#!/usr/bin/env bash
# Checks that the project's dependency arrows point down, in three ways:
#  1. includes: a source file includes headers of its own folder and of lower layers only;
#  2. targets (with a build folder): no CMake target depends on a target of a higher layer or of
#     another executable's folder. Read from CMake's file API, the same graph that
#     `cmake --graphviz` draws (`make deps-graph` writes build/targets.dot);
#  3. targets' includes (with a build folder): a target's files include only headers of the
#     target itself or of targets it links (a header belongs to the target that compiles its
#     .cc; headers without one are not checked), so no target builds by the accident of a shared
#     include path.
# The layers, lowest first:
#   0 sync                                   Mutex, MutexLock, CondVar (header-only)
#   1 net                                    sockets, addresses (libc only)
#   2 api common dns nftables                contracts, shared utilities, the DNS codec, nftables
#   3 sftp tunnel docker_engine webui        clients and protocols built on them (webui: the UI server)
#   4 cli daemon telemount teleroute cluster/*   one folder per executable
#   5 bench test fuzz                        may use everything
# usage: scripts/check-layers.sh [BUILD_DIR]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

declare -A layer=(
  [sync]=0
  [net]=1
  [api]=2 [common]=2 [dns]=2 [nftables]=2
  [sftp]=3 [tunnel]=3 [docker_engine]=3 [webui]=3
  [cli]=4 [daemon]=4 [telemount]=4 [teleroute]=4
  [cluster/agent]=4 [cluster/manager]=4 [cluster/sftp-export]=4 [cluster/echo-server]=4
  [bench]=5 [test]=5 [fuzz]=5
)

# Sets `folder` to the folder a path belongs to: its first component, or the first two under
# cluster/.
folder_of() {
  local path=$1
  case $path in
    cluster/*) path=${path#cluster/}; folder="cluster/${path%%/*}" ;;
    *) folder="${path%%/*}" ;;
  esac
}

problems=0
complain() { echo "check-layers: $*" >&2; problems=$((problems + 1)); }

# May code of folder $1 use folder $2?
allowed() {
  local from=$1 to=$2
  [[ $from == "$to" ]] && return 0
  [[ -n ${layer[$from]:-} && -n ${layer[$to]:-} ]] || return 1
  ((layer[$to] < layer[$from]))
}

check_includes() {
  local file included from to rest folder
  while IFS=: read -r file rest; do
    included=${rest#*\"}
    included=${included%\"*}
    [[ $included == */* ]] || continue
    folder_of "$file"
    from=$folder
    if [[ -z ${layer[$from]:-} ]]; then
      complain "$file: folder $from has no layer; add it to scripts/check-layers.sh"
      continue
    fi
    folder_of "$included"
    to=$folder
    [[ -n ${layer[$to]:-} ]] || continue  # a system header in quotes
    allowed "$from" "$to" || complain "$file includes $included: $from may not use $to"
  done < <(git grep -E '^#include "' -- '*.cc' '*.h')
}

# The file API's reply folder and codemodel file of build folder $1 (made on first use).
codemodel_of() {
  local build=$1 query="$1/.cmake/api/v1/query/codemodel-v2" index
  if [[ ! -e $query ]]; then
    mkdir -p "$(dirname "$query")"
    touch "$query"
    cmake -S "$repo" -B "$build" >/dev/null
  fi
  index=$(find "$build/.cmake/api/v1/reply" -name 'index-*.json' | sort | tail -n 1)
  reply=$(dirname "$index")
  codemodel="$reply/$(jq -r '.reply["codemodel-v2"].jsonFile' "$index")"
}

# Every target's folder, and those of the targets it depends on, from CMake's file API.
check_targets() {
  local reply codemodel
  codemodel_of "$1"
  declare -A folder_by_id=() name_by_id=()
  local id name file folder
  while IFS=$'\t' read -r id name file; do
    folder_of "$(jq -r '.paths.source' "$reply/$file")"
    folder_by_id[$id]=$folder
    name_by_id[$id]=$name
  done < <(jq -r '.configurations[0].targets[] | [.id, .name, .jsonFile] | @tsv' "$codemodel")
  local from to dependency
  for id in "${!folder_by_id[@]}"; do
    from=${folder_by_id[$id]}
    [[ -n ${layer[$from]:-} ]] || continue  # the top folder's custom targets (runtime)
    file=$(jq -r --arg id "$id" '.configurations[0].targets[] | select(.id == $id) | .jsonFile' \
      "$codemodel")
    while IFS= read -r dependency; do
      to=${folder_by_id[$dependency]:-}
      [[ -n $to && -n ${layer[$to]:-} ]] || continue
      allowed "$from" "$to" ||
        complain "target ${name_by_id[$id]} ($from) depends on ${name_by_id[$dependency]} ($to)"
    done < <(jq -r '.dependencies[]?.id' "$reply/$file")
  done
}

# Every quoted project include of every target's files is of the target or of one it links.
check_target_includes() {
  local reply codemodel
  codemodel_of "$1"
  declare -A owner=() links=()
  local kind name value header
  local -a files=() target_files=()
  mapfile -t target_files < <(jq -r '.configurations[0].targets[].jsonFile' "$codemodel" |
    sed "s|^|$reply/|")
  # "source NAME PATH" for each compiled file, "link NAME DEPENDENCY" for each (transitive) one.
  while IFS=$'\t' read -r kind name value; do
    if [[ $kind == link ]]; then
      links["$name ${value%%::*}"]=1
      continue
    fi
    files+=("$value")
    owner[$value]=$name
    header=${value%.*}.h
    if [[ $value == *.cc && -e $header && -z ${owner[$header]:-} ]]; then
      owner[$header]=$name
      files+=("$header")
    fi
  done < <(jq -r '.name as $target | (.sources[]? | select(.path | test("[.](cc|h)$")) |
    ["source", $target, .path]), (.dependencies[]? | ["link", $target, .id]) | @tsv' \
    "${target_files[@]}")
  local file rest included from to
  while IFS=: read -r file rest; do
    from=${owner[$file]}
    included=${rest#*\"}
    included=${included%\"*}
    to=${owner[$included]:-}
    [[ -n $to && $to != "$from" ]] || continue
    [[ -n ${links["$from $to"]:-} ]] ||
      complain "$file (target $from) includes $included of target $to, which $from does not link"
  done < <(printf '%s\0' "${files[@]}" | sort -zu | xargs -0 grep -H -E '^#include "')
}

check_includes
if (($# > 0)); then
  check_targets "$1"
  check_target_includes "$1"
fi
if ((problems > 0)); then
  echo "check-layers: $problems arrow(s) point up or across; see the layers in $0" >&2
  exit 1
fi
echo "check-layers: every arrow points down"
