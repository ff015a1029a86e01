#!/usr/bin/env bash
# Installs every Debian package the build, the tests, the demo and the benchmarks need.
# With --check, only tells (exit 1) whether something is missing. Idempotent and quick when all
# packages are present.
set -euo pipefail

# rclone and openssh-server: bench/run.sh's rclone column (rclone needs a real SSH server; the
# bench runs an sshd of its own on loopback, not the package's service; note that outside a
# container that forbids it, installing openssh-server also starts the system's sshd on port 22).
packages=(
  build-essential cmake pkg-config clang-format ccache jq shellcheck clang libclang-rt-14-dev
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libfuse3-dev libnl-3-dev libnl-route-3-dev
  libnftnl-dev libmnl-dev
  libgtest-dev
  fuse3 docker.io openssh-sftp-server sshfs busybox-static rclone openssh-server
  iproute2 nftables curl psmisc procps
  nodejs chromium
  docker-registry docker-compose libyaml-cpp-dev python3-yaml
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
# The page's build (ui/) needs npm: part of NodeSource's nodejs, a package of its own in Debian's.
if ! command -v npm >/dev/null && [[ " ${missing[*]} " != *" nodejs "* ]]; then
  missing+=(npm)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "missing packages: ${missing[*]}" >&2
  exit 1
fi
if ((EUID != 0)); then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if ! command -v npm >/dev/null; then
  apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
echo "install-deps: done"
