# shellcheck shell=bash
# Assembles a managed plugin's folder (config.json + rootfs/) from BUILD_DIR/bin without
# `docker build`: the binary, the shared libraries ldd names and the dynamic loader. Used by
# build-plugins.sh (docker plugin create here), push-plugins.sh (to a registry) and dist.sh (the
# air-gapped tarball). Source it after scripts/lib/rootfs.sh.
#
# The plugin's version is the repository's VERSION file, or TP_PLUGIN_VERSION when set (tests
# build a "newer" plugin that way): it is the config's fixed env TELEPRESENCE_VERSION (what
# `telepresence plugins status` and `connect --docker` compare with their own) and the file
# /VERSION in the rootfs.

# plugin_version REPO: the version plugins get.
plugin_version() {
  local repo=$1
  if [[ -n "${TP_PLUGIN_VERSION:-}" ]]; then
    echo "$TP_PLUGIN_VERSION"
  else
    tr -d ' \n' <"$repo/VERSION"
  fi
}

# build_plugin_dir NAME BUILD_DIR REPO OUT_DIR: OUT_DIR/{config.json,rootfs/} of plugin NAME
# (telemount or teleroute). OUT_DIR is replaced.
build_plugin_dir() {
  local name=$1 build_dir=$2 repo=$3 out=$4
  local binary=$build_dir/bin/$name rootfs=$out/rootfs version
  version=$(plugin_version "$repo")
  [[ -x "$binary" ]] || { echo "plugin_dir: $binary is missing; run make build" >&2; return 1; }
  rm -rf "$out"
  mkdir -p "$rootfs"
  copy_with_libraries "$binary" "$rootfs" "/$name"
  strip --strip-unneeded "$rootfs/$name"
  # libfuse falls back to fusermount3 when a direct mount(2) is refused.
  if [[ $name == telemount && -x /usr/bin/fusermount3 ]]; then
    copy_with_libraries /usr/bin/fusermount3 "$rootfs"
  fi
  mkdir -p "$rootfs"/{run/docker/plugins,tmp,dev,proc,sys,etc}
  case $name in
    telemount) mkdir -p "$rootfs"/mnt/volumes ;;
    teleroute) mkdir -p "$rootfs"/{var/lib/teleroute,var/run/docker/netns} ;;
  esac
  chmod 1777 "$rootfs/tmp"
  # dockerd bind-mounts the host's /etc/hosts and /etc/resolv.conf over these for host networking.
  touch "$rootfs/etc/hosts" "$rootfs/etc/resolv.conf"
  printf 'hosts: files dns\npasswd: files\ngroup: files\n' >"$rootfs/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/:/%s\n' "$name" >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  echo "$version" >"$rootfs/VERSION"
  jq --arg version "$version" \
    '.env += [{"name": "TELEPRESENCE_VERSION", "description": "the plugin'"'"'s version (fixed)",
               "settable": [], "value": $version}]' \
    "$repo/plugin-configs/$name/config.json" >"$out/config.json"
}
