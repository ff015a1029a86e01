#!/usr/bin/env bash
# The Docker Desktop extension image (make extension, scripts/build-extension.sh), as far as it can
# be checked without Docker Desktop:
#   it builds (under a name of this run's own); it has every label Docker's extension
#   specification requires, none empty, an API version constraint and JSON where JSON is due; its
#   metadata.json is valid JSON with the dashboard tab and the Linux host binary, and every path it
#   names is in the image; the host binary taken out of the image finds its shared libraries and
#   runs; the page's index.html and its script are there, and the page loads in headless chromium
#   (ui/e2e/extension.e2e.mjs): its title and a clear error without Docker Desktop, and with a
#   stand-in Docker Desktop client the status, Connect, the workloads, and an engage/leave round
#   trip (a stand-in engage process: the card active with its log line, Leave closes it).
# Screenshots: BUILD_DIR/extension-screenshots/.
#
# usage: test/docker/extension.sh BUILD_DIR
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

chromium=${TP_CHROMIUM:-/usr/bin/chromium}
ui_dir=$TP_REPO/ui
version=$(tr -d ' \n' <"$TP_REPO/VERSION")
image_name=$TP_PREFIX-extension
image=$image_name:$version

[[ -x $TP_BUILD_DIR/bin/telepresence ]] || die "no $TP_BUILD_DIR/bin/telepresence (run make runtime)"
[[ -x $chromium ]] || die "no chromium at $chromium (run scripts/install-deps.sh)"
[[ -d $ui_dir/node_modules/playwright-core ]] ||
  die "ui/node_modules has no playwright-core (the build runs npm ci in ui/: run make build)"

work=$(mktemp -d)
defer rm -rf "$work"

heading "the image builds"
image_gone() { ! docker image inspect "$image" >/dev/null 2>&1; }
remove_image() { docker image rm -f "$image" >/dev/null 2>&1 || true; }
defer remove_image
check "scripts/build-extension.sh builds $image" \
  env EXTENSION_IMAGE="$image_name" EXTENSION_CONTEXT="$work/context" \
  "$TP_REPO/scripts/build-extension.sh" "$TP_BUILD_DIR"
image_gone && die "no image $image after the build"
size=$(docker image inspect -f '{{.Size}}' "$image")
pass "the image is $((size / 1024)) KiB"

heading "its labels"
label() { docker image inspect -f "{{index .Config.Labels \"$1\"}}" "$image"; }
for name in org.opencontainers.image.title org.opencontainers.image.description \
  org.opencontainers.image.vendor com.docker.desktop.extension.api.version \
  com.docker.desktop.extension.icon com.docker.extension.screenshots \
  com.docker.extension.detailed-description com.docker.extension.publisher-url \
  com.docker.extension.additional-urls com.docker.extension.changelog \
  com.docker.extension.categories; do
  value=$(label "$name")
  if [[ -n $value && $value != "<no value>" ]]; then pass "label $name is set"; else fail "label $name is missing or empty"; fi
done
api_version=$(label com.docker.desktop.extension.api.version)
if [[ $api_version =~ ^(\>=|\<=|\>|\<|=)?\ *[0-9]+\.[0-9]+\.[0-9]+ ]]; then
  pass "the API version \"$api_version\" is a semantic version constraint"
else
  fail "the API version \"$api_version\" is not a semantic version constraint"
fi
# json_array_of_urls LABEL: the label is a JSON array of objects, each with an http(s) url.
json_array_of_urls() { label "$1" | jq -e 'type == "array" and length > 0 and all(.[]; (.url | test("^https?://")))'; }
check "com.docker.extension.screenshots is a JSON array of URLs" json_array_of_urls com.docker.extension.screenshots
check "com.docker.extension.additional-urls is a JSON array of URLs" \
  json_array_of_urls com.docker.extension.additional-urls
check_equal "org.opencontainers.image.version is the VERSION file's" "$version" "$(label org.opencontainers.image.version)"

heading "metadata.json and the files it names"
container=$TP_PREFIX-extension-files
remove_container() { docker container rm -f "$container" >/dev/null 2>&1 || true; }
defer remove_container
# A container that never starts, only to copy the image's files out.
docker create --name "$container" "$image" /linux/telepresence >/dev/null || die "docker create $image failed"
files=$work/files
mkdir -p "$files"
docker export "$container" | tar -x -C "$files" || die "docker export of $container failed"
remove_container
metadata=$files/metadata.json
check "metadata.json is valid JSON" jq -e . "$metadata"
check_equal "the dashboard tab's title" Telepresence "$(jq -r '.ui."dashboard-tab".title' "$metadata")"
check_equal "the dashboard tab's src" index.html "$(jq -r '.ui."dashboard-tab".src' "$metadata")"
ui_root=$(jq -r '.ui."dashboard-tab".root' "$metadata")
icon=$(jq -r '.icon' "$metadata")
host_binary=$(jq -r '.host.binaries[0].linux[0].path' "$metadata")
check_equal "the Linux host binary" /linux/telepresence "$host_binary"
check "the icon $icon is in the image" test -s "$files/$icon"
check "the tab's root $ui_root/index.html is in the image" test -s "$files/$ui_root/index.html"
check "the host binary $host_binary is in the image and executable" test -x "$files$host_binary"

heading "the host binary runs"
binary=$files$host_binary
missing_libraries() { ! ldd "$binary" | grep 'not found'; }
check "ldd finds every shared library of the host binary" missing_libraries
check_output "telepresence --help from the image exits 0" "Usage" "$binary" --help

heading "the page"
index=$files$ui_root/index.html
script=$(grep -o 'src="[^"]*\.js"' "$index" | head -1 | sed 's/^src="//; s/"$//')
[[ -n $script ]] || fail "index.html names no script"
if [[ $script != /* ]]; then
  pass "the page's script path is relative ($script)"
else
  fail "the page's script path $script is absolute (Docker Desktop loads the page from the tab's root)"
fi
check "the page's script $script is in the image" test -s "$files$ui_root/${script#./}"
screenshots=$TP_BUILD_DIR/extension-screenshots
rm -rf "$screenshots"
browser_output=$work/browser.out
node "$ui_dir/e2e/extension.e2e.mjs" "$files$ui_root" "$screenshots" >"$browser_output" 2>&1
relay_checks "$browser_output" $?

heading "cleanup"
remove_image
check "the test's image is gone" image_gone
