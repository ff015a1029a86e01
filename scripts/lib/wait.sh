# shellcheck shell=bash
# Waiting on a condition with a deadline, never sleeping a fixed time and hoping.
#
#   wait_until 20 "echo to answer" curl -fsS http://echo:8080/
#   output=$(wait_until_output 20 "the log line" grep -m1 ready "$log") || die "$output"
#   wait_until 30 "the CLI to end" pid_ended "$pid"    # then `wait "$pid"` for its status
#
# COMMAND is a program or a function with its arguments, run as given: never shell text, never
# eval. It runs in this shell (a function sees and may set the script's variables). Every
# WAIT_POLL seconds (0.2 by default) until it succeeds; when DEADLINE seconds pass first, the
# wait says on stderr what it waited for and returns 1. SECONDS counts whole seconds: a deadline
# of N seconds waits at least N-1, at most N seconds plus one run of COMMAND.

WAIT_POLL=${WAIT_POLL:-0.2}

# wait_until DEADLINE DESCRIPTION COMMAND...: COMMAND's output is discarded.
wait_until() {
  local deadline=$((SECONDS + $1)) seconds=$1 description=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${seconds} s waiting for $description" >&2
      return 1
    fi
    sleep "$WAIT_POLL"
  done
}

# wait_until_output DEADLINE DESCRIPTION COMMAND...: like wait_until, and prints the output
# (stdout and stderr) of the run that succeeded, or of the last one before returning 1.
wait_until_output() {
  local deadline=$((SECONDS + $1)) seconds=$1 description=$2 output
  shift 2
  until output=$("$@" 2>&1); do
    if ((SECONDS >= deadline)); then
      echo "$output"
      echo "timed out after ${seconds} s waiting for $description" >&2
      return 1
    fi
    sleep "$WAIT_POLL"
  done
  echo "$output"
}

# wait_until_text DEADLINE TEXT COMMAND...: polls COMMAND until it succeeds with TEXT in its
# output; prints the last output (returning 1 when the deadline passes first).
wait_until_text() {
  local deadline=$((SECONDS + $1)) seconds=$1 text=$2 output
  shift 2
  until output=$("$@" 2>&1) && [[ $output == *"$text"* ]]; do
    if ((SECONDS >= deadline)); then
      echo "$output"
      echo "timed out after ${seconds} s waiting for \"$text\" from $*" >&2
      return 1
    fi
    sleep "$WAIT_POLL"
  done
  echo "$output"
}

# pid_ended PID: the process PID is gone (for wait_until; `wait PID` then gives its status when
# it is a child of this shell).
pid_ended() { ! kill -0 "$1" 2>/dev/null; }
