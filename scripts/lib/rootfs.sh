# shellcheck shell=bash
# Helpers for assembling a root file system from this machine's binaries (no registry needed).
# Source it: `source "$(dirname "$0")/lib/rootfs.sh"`.

# Copies FILE to ROOT/DEST (DEST defaults to FILE's own path) and every shared library ldd
# lists for it, with the dynamic loader, at their own paths.
copy_with_libraries() {
  local file=$1 root=$2 dest=${3:-$1}
  install -D -m 0755 "$file" "$root$dest"
  local library
  for library in $(ldd "$file" 2>/dev/null | grep -oE '/[^ ]+' | sort -u); do
    [[ -e "$root$library" ]] || install -D -m 0755 "$(readlink -f "$library")" "$root$library"
  done
}
