#!/usr/bin/env bash
# Writes the air-gapped release file BUILD_DIR/dist/telepresence-docker-VERSION.tar.gz:
#   telepresence-docker-VERSION/
#     VERSION, README            what it is and how to install it
#     bin/telepresence           the CLI (stripped; needs Debian 12's libcpp-httplib0.11, libssl3)
#     images.tar                 docker save of tp-daemon, tp-curl (the CLI's), tp-traffic-manager,
#                                tp-traffic-agent and tp-sftp-export (the cluster side)
#     plugins/teleroute.tar      each plugin's config.json and rootfs/ (scripts/lib/plugin_dir.sh),
#     plugins/telemount.tar      as `docker plugin create` sends a folder
# `telepresence plugins install --from FILE` creates the plugins from it; `docker load -i
# images.tar` loads the images. The images are built first when missing (scripts/build-images.sh).
#
# usage: scripts/dist.sh BUILD_DIR
set -euo pipefail

build_dir=$(cd "${1:?usage: dist.sh BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/rootfs.sh
source "$(dirname "$(readlink -f "$0")")/lib/rootfs.sh"
# shellcheck source=scripts/lib/plugin_dir.sh
source "$(dirname "$(readlink -f "$0")")/lib/plugin_dir.sh"

version=$(plugin_version "$repo")
name=telepresence-docker-$version
out=$build_dir/dist/$name.tar.gz
images=(tp-daemon tp-curl tp-traffic-manager tp-traffic-agent tp-sftp-export)
say() { echo "dist: $*"; }

if [[ ! -x "$build_dir/bin/telepresence" ]]; then
  echo "dist: no $build_dir/bin/telepresence; run make build" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
release=$work/$name
mkdir -p "$release/bin" "$release/plugins"

echo "$version" >"$release/VERSION"
install -m 0755 "$build_dir/bin/telepresence" "$release/bin/telepresence"
strip --strip-unneeded "$release/bin/telepresence"
for plugin in teleroute telemount; do
  build_plugin_dir "$plugin" "$build_dir" "$repo" "$work/plugin-$plugin"
  tar --numeric-owner --owner=0 --group=0 -C "$work/plugin-$plugin" -cf \
    "$release/plugins/$plugin.tar" config.json rootfs
done
"$repo/scripts/build-images.sh" "$build_dir" "${images[@]}" >/dev/null
docker save -o "$release/images.tar" "${images[@]/%/:latest}"
cat >"$release/README" <<README
Telepresence for Docker $version (linux/amd64, built on Debian 12).

  sudo install bin/telepresence /usr/local/bin/
  docker load -i images.tar                             # tp-daemon, tp-curl, the cluster side
  telepresence plugins install --from $name.tar.gz      # teleroute and telemount, no registry
  telepresence plugins status
  telepresence connect --docker

The CLI needs Debian 12's libcpp-httplib0.11 and libssl3. Docker upgrades plugins in place only
from a registry: see the project's README (make plugins-push, --upgrade-plugins).
README
mkdir -p "$(dirname "$out")"
tar --numeric-owner --owner=0 --group=0 -C "$work" -czf "$out.tmp" "$name"
mv "$out.tmp" "$out"
say "wrote $out ($(du -h "$out" | cut -f1))"
