#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run through the check helpers and the EXIT trap
# The operator's path for the managed plugins, in an isolated engine of its own
# (test/docker/lib/isolated_engine.sh) so that the machine's own plugins are never removed:
#   * make plugins-push to a real registry (Debian's docker-registry on the namespace's
#     127.0.0.1), then docker plugin install --alias from it: the privileges asked are exactly
#     the README's list; a volume and a network work;
#   * with a volume, a network and a container on that network in place: disable, upgrade to a
#     newer tag and enable keep them usable (the plugins keep their state outside the rootfs that
#     an upgrade replaces); a container that held the volume gets it back when restarted;
#   * docker plugin set DEBUG=true takes effect after a re-enable (debug lines in dockerd's log),
#     and dockerd logs the plugins' info lines as level=info, never level=error;
#   * telepresence plugins status tells a plugin of another version, and plugins install
#     --upgrade brings it back to this version in place;
#   * the air-gapped path: make dist, the plugins removed, telepresence plugins install --from
#     the release file, and a volume works again.
#
# usage: test/docker/plugin_registry.sh BUILD_DIR
set -uo pipefail

# shellcheck source=test/docker/lib/isolated_engine.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/isolated_engine.sh" pr "$@"
# From here on: inside the test's own engine.
telepresence=$TP_BUILD_DIR/bin/telepresence
version=$(cat "$TP_REPO/VERSION")
newer=$version-next
net=$TP_PREFIX-net
daemon_ip=10.250.0.2
cluster_subnet=10.213.0.0/24

heading "push to a registry, install from it"
start_registry || die "the registry does not start"
check "make plugins-push pushes both plugins" \
  make -C "$TP_REPO" --no-print-directory plugins-push REGISTRY="$TP_REGISTRY" \
  BUILD="$TP_BUILD_DIR"
check_output "the registry has telemount as $version and latest" "\"$version\"" \
  curl -sf "http://$TP_REGISTRY/v2/telemount/tags/list"
check_output "and teleroute as latest" '"latest"' \
  curl -sf "http://$TP_REGISTRY/v2/teleroute/tags/list"
check_equal "no plugin is left installed by the push" "" "$(docker plugin ls -q)"
# What `docker plugin install` asks to grant: the README's list, nothing more.
privileges() {
  curl -sf --unix-socket "${DOCKER_HOST#unix://}" \
    "http://docker/v1.41/plugins/privileges?remote=$TP_REGISTRY/$1:$version" |
    jq -r 'map(.Name + " " + (.Value | join(","))) | join("; ")'
}
check_equal "telemount asks for: host network, /dev/fuse, CAP_SYS_ADMIN" \
  "network host; device /dev/fuse; capabilities CAP_SYS_ADMIN" "$(privileges telemount)"
check_equal "teleroute asks for: host network, the netns folder, host PIDs, three capabilities" \
  "network host; host pid namespace true; mount /var/run/docker/netns; capabilities CAP_NET_ADMIN,CAP_SYS_ADMIN,CAP_SYS_PTRACE" \
  "$(privileges teleroute)"
for plugin in telemount teleroute; do
  defer docker plugin rm -f "$plugin"
  check "docker plugin install --alias $plugin $TP_REGISTRY/$plugin:$version" \
    docker plugin install --grant-all-permissions --alias "$plugin" \
    "$TP_REGISTRY/$plugin:$version"
done
check_equal "telepresence plugins status: both ok" "ok ok" \
  "$("$telepresence" plugins status --output json | jq -r '[.plugins[].state] | join(" ")')"

heading "the installed plugins work"
require_busybox_image
make_export_folder data
echo "from the remote" >"$TP_EXPORT_ROOT/data/hello"
start_sftp_export registry
check "a telemount volume is created" \
  create_volume "$TP_PREFIX-vol" host=127.0.0.1 port="$SFTP_PORT" path="$TP_EXPORT_ROOT/data"
read_hello() { docker run --rm -v "$TP_PREFIX-vol:/v" tp-busybox:latest cat /v/hello; }
check_output "a container reads the remote file through it" "from the remote" read_hello
defer docker network rm "$net"
check "a teleroute network is created" docker network create -d teleroute:latest \
  --subnet 10.250.0.0/24 --gateway 10.250.0.1 -o daemon="$daemon_ip" \
  -o subnets="$cluster_subnet" "$net"
defer docker rm -f "$TP_PREFIX-daemon" "$TP_PREFIX-client" "$TP_PREFIX-holder"
check "a stand-in daemon joins it at $daemon_ip" docker run -d --name "$TP_PREFIX-daemon" \
  --network "$net" --ip "$daemon_ip" tp-busybox:latest sleep 600
check "a client joins it" docker run -d --name "$TP_PREFIX-client" --network "$net" \
  tp-busybox:latest sleep 600
cluster_route() { docker exec "$1" ip route show "$cluster_subnet"; }
check_output "the client's route to the cluster goes via the daemon" "via $daemon_ip" \
  cluster_route "$TP_PREFIX-client"
check "a container holds the volume" docker run -d --name "$TP_PREFIX-holder" \
  -v "$TP_PREFIX-vol:/v" tp-busybox:latest sleep 600

heading "disable, upgrade to $newer, enable"
check "make plugins-push TAG=$newer (a build that says it is $newer)" \
  env TP_PLUGIN_VERSION="$newer" make -C "$TP_REPO" --no-print-directory plugins-push \
  REGISTRY="$TP_REGISTRY" TAG="$newer" BUILD="$TP_BUILD_DIR"
for plugin in telemount teleroute; do
  check "docker plugin disable -f $plugin (in use)" docker plugin disable -f "$plugin"
  check "docker plugin upgrade $plugin to $newer" docker plugin upgrade \
    --grant-all-permissions --skip-remote-check "$plugin" "$TP_REGISTRY/$plugin:$newer"
  check "docker plugin enable $plugin" docker plugin enable "$plugin"
done
check_equal "telepresence plugins status: both of another version" \
  "other version $newer|other version $newer" \
  "$("$telepresence" plugins status --output json |
    jq -r '[.plugins[] | .state + " " + .version] | join("|")')"
check_output "the volume is still listed" "$TP_PREFIX-vol" docker volume ls -q
check_output "a new container reads it" "from the remote" read_hello
check_output "the running client keeps its route" "via $daemon_ip" \
  cluster_route "$TP_PREFIX-client"
check "a new container joins the network" docker run -d --name "$TP_PREFIX-late" \
  --network "$net" tp-busybox:latest sleep 600
defer docker rm -f "$TP_PREFIX-late"
check_output "and gets the route" "via $daemon_ip" cluster_route "$TP_PREFIX-late"
check "the client leaves the network (the plugin knows its endpoint)" \
  docker network disconnect "$net" "$TP_PREFIX-client"
check "the container that held the volume restarts" docker restart -t 1 "$TP_PREFIX-holder"
check_output "and reads the volume again" "from the remote" \
  docker exec "$TP_PREFIX-holder" cat /v/hello

heading "settings and logs"
check "docker plugin set telemount DEBUG=true (disabled first)" \
  bash -c 'docker plugin disable -f telemount && docker plugin set telemount DEBUG=true'
check "enable" docker plugin enable telemount
check_output "a new mount works" "from the remote" read_hello
plugin_lines() { grep -F "plugin=$(docker plugin inspect -f '{{.Id}}' telemount)" "$TP_ENGINE_LOG"; }
check_output "dockerd's log has the plugin's debug lines now" " telemount debug " plugin_lines
check_output "it logs the plugin's info lines as level=info" "level=info" \
  bash -c "grep -F ' telemount info ' '$TP_ENGINE_LOG' | head -1"
check_equal "and none of them as level=error" "" \
  "$(grep -F ' telemount info ' "$TP_ENGINE_LOG" | grep -F level=error)"

heading "telepresence plugins install --upgrade brings them back to $version"
check_output "plugins install --upgrade" "ok" "$telepresence" plugins install --upgrade \
  --plugin-registry "$TP_REGISTRY"
check_equal "both are $version again" "ok $version|ok $version" \
  "$("$telepresence" plugins status --output json |
    jq -r '[.plugins[] | .state + " " + .version] | join("|")')"
check_output "and the volume still works" "from the remote" read_hello

heading "air-gapped: make dist, then plugins install --from"
check_output "make dist writes the release file" "telepresence-docker-$version.tar.gz" \
  make -C "$TP_REPO" --no-print-directory dist BUILD="$TP_BUILD_DIR"
release=$TP_BUILD_DIR/dist/telepresence-docker-$version.tar.gz
check_output "it holds the CLI, the images and both plugins" "images.tar" \
  tar -tzf "$release"
docker rm -f "$TP_PREFIX-holder" "$TP_PREFIX-late" "$TP_PREFIX-daemon" "$TP_PREFIX-client" \
  >/dev/null 2>&1
docker volume rm -f "$TP_PREFIX-vol" >/dev/null
docker network rm "$net" >/dev/null
for plugin in telemount teleroute; do
  check "docker plugin rm -f $plugin" docker plugin rm -f "$plugin"
done
check_output "plugins status says both are missing" "missing" "$telepresence" plugins status
check_fails "a file that is not a release says so" "as a release file of make dist" \
  "$telepresence" plugins install --from /etc/hostname
check_output "plugins install --from the file creates both, no registry involved" "ok" \
  "$telepresence" plugins install --from "$release"
check_equal "both come from the file (no registry reference), of version $version" \
  "telemount:latest $version|teleroute:latest $version" \
  "$(docker plugin ls --format '{{.Name}}' | sort | while read -r plugin; do
      echo "$(docker plugin inspect -f '{{.PluginReference}}' "$plugin") $(docker plugin \
        inspect -f '{{range .Config.Env}}{{if eq .Name "TELEPRESENCE_VERSION"}}{{.Value}}{{end}}{{end}}' \
        "$plugin")"
    done | paste -sd '|')"
check "a telemount volume is created again" \
  create_volume "$TP_PREFIX-vol2" host=127.0.0.1 port="$SFTP_PORT" path="$TP_EXPORT_ROOT/data"
check_output "and read" "from the remote" \
  docker run --rm -v "$TP_PREFIX-vol2:/v" tp-busybox:latest cat /v/hello
exit 0
