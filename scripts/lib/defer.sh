# shellcheck shell=bash
# defer: clean-up that runs at exit, last registered first, also on failure or Ctrl-C.
#
#   defer docker rm -f "$container"     # a program or a function, with its arguments
#
# Each entry is an argument vector, run as it was given: never shell text, never eval. What takes
# more than one command (a pipe, `a; b`, a test of a variable at exit) is a function of the
# script, deferred by name. Source this file, then call run_deferred from the script's EXIT trap.

TP_DEFERRED=()  # flat: argument count, arguments..., argument count, arguments...

defer() { TP_DEFERRED+=("$#" "$@"); }

# Runs every deferred command, last first; says on stderr which ones failed (their output is not
# shown). Clears the list, so a second call does nothing.
run_deferred() {
  local entries=() index=0 k start count
  while ((index < ${#TP_DEFERRED[@]})); do
    entries+=("$index")
    index=$((index + 1 + TP_DEFERRED[index]))
  done
  for ((k = ${#entries[@]} - 1; k >= 0; k--)); do
    start=${entries[$k]}
    count=${TP_DEFERRED[$start]}
    "${TP_DEFERRED[@]:start+1:count}" >/dev/null 2>&1 ||
      echo "cleanup failed: ${TP_DEFERRED[*]:start+1:count}" >&2
  done
  TP_DEFERRED=()
}
