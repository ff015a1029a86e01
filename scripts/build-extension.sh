#!/usr/bin/env bash
# Builds the Docker Desktop extension image telepresence-docker-extension:VERSION (and :latest)
# from extension/ with `docker build`, never pulling (FROM scratch). VERSION is the repository's
# VERSION file. It stages the build context in BUILD_DIR/extension/context:
#   metadata.json, telepresence.svg   from extension/
#   ui/                               the page built for the extension (vite --mode extension)
#   linux/telepresence                BUILD_DIR/bin/telepresence, its debug sections stripped
# The image's URLs (icon, screenshots, publisher, documentation) start with EXTENSION_BASE_URL
# (default https://example.com/telepresence-docker): set it before publishing the image.
# EXTENSION_IMAGE (another image name, tagged VERSION only) and EXTENSION_CONTEXT (another staging
# folder) are for tests.
# usage: scripts/build-extension.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: scripts/build-extension.sh BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
image=${EXTENSION_IMAGE:-telepresence-docker-extension}
version=$(tr -d ' \n' <"$repo/VERSION")
base_url=${EXTENSION_BASE_URL:-https://example.com/telepresence-docker}

binary=$build/bin/telepresence
[[ -x $binary ]] || {
  echo "build-extension: no $binary; build it first (make runtime)" >&2
  exit 1
}

context=${EXTENSION_CONTEXT:-$build/extension/context}
rm -rf "$context"
mkdir -p "$context/linux"
cp "$repo/extension/Dockerfile" "$repo/extension/metadata.json" "$repo/extension/telepresence.svg" "$context/"
strip --strip-debug -o "$context/linux/telepresence" "$binary"
"$repo/scripts/build-ui.sh" "$context/ui" extension

# The label holds the changelog as one line of HTML.
changelog=$(tr '\n' ' ' <"$repo/extension/changelog.html")
tags=(-t "$image:$version")
[[ -n ${EXTENSION_IMAGE:-} ]] || tags+=(-t "$image:latest")
docker build --pull=false -q \
  --build-arg "VERSION=$version" \
  --build-arg "CHANGELOG=$changelog" \
  --build-arg "BASE_URL=$base_url" \
  "${tags[@]}" "$context" >/dev/null
if [[ -n ${EXTENSION_IMAGE:-} ]]; then echo "build-extension: built $image:$version"; else echo "build-extension: built $image:$version (and :latest)"; fi
