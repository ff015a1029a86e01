#!/usr/bin/env bash
# Builds the local images the tests and the demo use, without any registry (`docker import` of
# a root folder assembled here):
#   tp-busybox:latest      busybox-static with its applet links; CMD sh
#   tp-sftp-export:latest  BUILD_DIR/bin/sftp-export + OpenSSH sftp-server and their libraries;
#                          ENTRYPOINT sftp-export --listen 0.0.0.0:2222 --root /
#   tp-echo:latest         busybox (for `docker exec`) + BUILD_DIR/bin/echo-server and its
#                          libraries; ENTRYPOINT echo-server (give it --name NAME [--port P]);
#                          also /bin/udp-exchange, a one-datagram UDP client for tests
#   tp-traffic-manager:latest  BUILD_DIR/bin/traffic-manager and its libraries; ENTRYPOINT
#                          traffic-manager (give it --listen, --secret-file, ...)
#   tp-traffic-agent:latest  busybox + BUILD_DIR/bin/traffic-agent, libtp_chroot.so (next to it)
#                          and OpenSSH sftp-server, with their libraries; ENTRYPOINT traffic-agent
#                          (give it --manager, --secret-file, --workload, --container, --port...)
#   tp-daemon:latest       busybox (for `docker exec` debugging) + BUILD_DIR/bin/telepresence-daemon
#                          and its libraries; ENTRYPOINT telepresence-daemon (the CLI gives it
#                          --manager, --secret-file, ...); `telepresence connect --docker` runs it
#   tp-curl:latest         the host's /usr/bin/curl and its libraries, the CA bundle, and glibc's
#                          name service (files, dns: inside libc since glibc 2.34) configured by
#                          /etc/nsswitch.conf; no ENTRYPOINT: run `curl ARGS`
#                          (`telepresence curl` does, in the daemon's network)
# An image whose inputs (binaries and this script) are unchanged is kept: the input hash is
# stored in the image label tp.inputs.
#
# usage: scripts/build-images.sh BUILD_DIR [IMAGE...]
#        (IMAGE: tp-busybox, tp-sftp-export, tp-echo, tp-traffic-manager, tp-traffic-agent,
#        tp-daemon, tp-curl; default: all)
set -euo pipefail

build_dir=${1:?usage: build-images.sh BUILD_DIR [IMAGE...]}
build_dir=$(cd "$build_dir" && pwd)
shift
images=("$@")
((${#images[@]})) || images=(tp-busybox tp-sftp-export tp-echo tp-traffic-manager tp-traffic-agent tp-daemon
  tp-curl)
script=$(readlink -f "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/lib/rootfs.sh
source "$(dirname "$(readlink -f "$0")")/lib/rootfs.sh"

say() { echo "build-images: $*"; }

add_base_files() {
  local root=$1
  mkdir -p "$root"/{tmp,etc,root,proc,sys,dev}
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  # Docker mounts its own over these; empty files give it something to mount onto.
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hosts"
}

require_binary() {
  [[ -x "$1" ]] || { echo "build-images: $1 missing; $2" >&2; exit 1; }
}

# Puts the static busybox at ROOT/bin/busybox with a link per applet.
add_busybox() {
  local root=$1 applet
  install -D -m 0755 /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list-full); do
    [[ -e "$root/$applet" ]] || { mkdir -p "$(dirname "$root/$applet")"; ln -s /bin/busybox "$root/$applet"; }
  done
}

inputs_hash() { cat "$script" "$@" | sha256sum | cut -c1-16; }

# Imports ROOT as IMAGE:latest with the given --change lines, unless it exists with HASH.
import_image() {
  local image=$1 hash=$2 root=$3
  shift 3
  local changes=(--change "LABEL tp.inputs=$hash")
  local change
  for change in "$@"; do changes+=(--change "$change"); done
  local previous
  previous=$(docker image inspect -f '{{.Id}}' "$image:latest" 2>/dev/null || true)
  tar -C "$root" --numeric-owner -cf - . | docker import "${changes[@]}" - "$image:latest" >/dev/null
  say "built $image:latest ($(du -sh "$root" | cut -f1), inputs $hash)"
  # The replaced image is now untagged; drop it unless a container still uses it.
  [[ -z "$previous" ]] || docker image rm "$previous" >/dev/null 2>&1 || true
}

up_to_date() {
  local image=$1 hash=$2
  local current
  current=$(docker image inspect -f '{{index .Config.Labels "tp.inputs"}}' "$image:latest" \
    2>/dev/null || true)
  if [[ "$current" == "$hash" ]]; then
    say "$image:latest is up to date (inputs $hash)"
    return 0
  fi
  return 1
}

build_busybox() {
  local busybox=/bin/busybox
  require_binary "$busybox" "apt-get install busybox-static"
  local hash
  hash=$(inputs_hash "$busybox")
  up_to_date tp-busybox "$hash" && return
  local root=$work/busybox
  add_base_files "$root"
  add_busybox "$root"
  import_image tp-busybox "$hash" "$root" 'CMD ["sh"]' 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin'
}

build_sftp_export() {
  local exporter=$build_dir/bin/sftp-export server=/usr/lib/openssh/sftp-server
  require_binary "$exporter" "run make build"
  require_binary "$server" "apt-get install openssh-sftp-server"
  local hash
  hash=$(inputs_hash "$exporter" "$server")
  up_to_date tp-sftp-export "$hash" && return
  local root=$work/sftp-export
  add_base_files "$root"
  copy_with_libraries "$exporter" "$root" /sftp-export
  copy_with_libraries "$server" "$root"
  import_image tp-sftp-export "$hash" "$root" \
    'ENTRYPOINT ["/sftp-export", "--listen", "0.0.0.0:2222", "--root", "/"]' 'EXPOSE 2222'
}

build_echo() {
  local busybox=/bin/busybox echo_server=$build_dir/bin/echo-server
  local udp_exchange=$build_dir/bin/udp-exchange
  require_binary "$busybox" "apt-get install busybox-static"
  require_binary "$echo_server" "run make build"
  require_binary "$udp_exchange" "run make build"
  local hash
  hash=$(inputs_hash "$busybox" "$echo_server" "$udp_exchange")
  up_to_date tp-echo "$hash" && return
  local root=$work/echo
  add_base_files "$root"
  add_busybox "$root"
  copy_with_libraries "$echo_server" "$root" /bin/echo-server
  copy_with_libraries "$udp_exchange" "$root" /bin/udp-exchange
  import_image tp-echo "$hash" "$root" 'ENTRYPOINT ["/bin/echo-server"]' \
    'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' 'EXPOSE 8080/tcp' 'EXPOSE 8080/udp'
}

build_traffic_manager() {
  local manager=$build_dir/bin/traffic-manager
  require_binary "$manager" "run make build"
  local hash
  hash=$(inputs_hash "$manager")
  up_to_date tp-traffic-manager "$hash" && return
  local root=$work/traffic-manager
  add_base_files "$root"
  copy_with_libraries "$manager" "$root" /traffic-manager
  import_image tp-traffic-manager "$hash" "$root" 'ENTRYPOINT ["/traffic-manager"]' 'EXPOSE 8081'
}

build_traffic_agent() {
  local busybox=/bin/busybox agent=$build_dir/bin/traffic-agent
  local chroot_library=$build_dir/bin/libtp_chroot.so server=/usr/lib/openssh/sftp-server
  require_binary "$busybox" "apt-get install busybox-static"
  require_binary "$agent" "run make build"
  [[ -f "$chroot_library" ]] || { echo "build-images: $chroot_library missing; run make build" >&2; exit 1; }
  require_binary "$server" "apt-get install openssh-sftp-server"
  local hash
  hash=$(inputs_hash "$busybox" "$agent" "$chroot_library" "$server")
  up_to_date tp-traffic-agent "$hash" && return
  local root=$work/traffic-agent
  add_base_files "$root"
  add_busybox "$root"
  copy_with_libraries "$agent" "$root" /bin/traffic-agent
  copy_with_libraries "$chroot_library" "$root" /bin/libtp_chroot.so
  copy_with_libraries "$server" "$root"
  mkdir -p "$root/tel_app_exports"
  import_image tp-traffic-agent "$hash" "$root" 'ENTRYPOINT ["/bin/traffic-agent"]' \
    'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' 'EXPOSE 8022/tcp'
}

build_daemon() {
  local busybox=/bin/busybox daemon=$build_dir/bin/telepresence-daemon
  require_binary "$busybox" "apt-get install busybox-static"
  require_binary "$daemon" "run make build"
  local hash
  hash=$(inputs_hash "$busybox" "$daemon")
  up_to_date tp-daemon "$hash" && return
  local root=$work/daemon
  add_base_files "$root"
  add_busybox "$root"
  copy_with_libraries "$daemon" "$root" /bin/telepresence-daemon
  import_image tp-daemon "$hash" "$root" 'ENTRYPOINT ["/bin/telepresence-daemon"]' \
    'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' 'EXPOSE 8787/tcp' 'EXPOSE 53/udp' 'EXPOSE 53/tcp'
}

# The libraries a binary loads, resolved to the files (so that a library update rebuilds).
library_files() {
  ldd "$1" 2>/dev/null | grep -oE '/[^ ]+' | sort -u | xargs -r readlink -f
}

build_curl() {
  local curl=/usr/bin/curl ca_bundle=/etc/ssl/certs/ca-certificates.crt
  require_binary "$curl" "apt-get install curl"
  local inputs=("$curl")
  mapfile -t -O 1 inputs < <(library_files "$curl")
  [[ -f "$ca_bundle" ]] && inputs+=("$ca_bundle")
  local hash
  hash=$(inputs_hash "${inputs[@]}")
  up_to_date tp-curl "$hash" && return
  local root=$work/curl
  add_base_files "$root"
  copy_with_libraries "$curl" "$root"
  if [[ -f "$ca_bundle" ]]; then install -D -m 0644 "$ca_bundle" "$root$ca_bundle"; fi
  import_image tp-curl "$hash" "$root" 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin'
}

for image in "${images[@]}"; do
  case "$image" in
    tp-busybox) build_busybox ;;
    tp-sftp-export) build_sftp_export ;;
    tp-echo) build_echo ;;
    tp-traffic-manager) build_traffic_manager ;;
    tp-traffic-agent) build_traffic_agent ;;
    tp-daemon) build_daemon ;;
    tp-curl) build_curl ;;
    *) echo "build-images: unknown image $image" >&2; exit 2 ;;
  esac
done
