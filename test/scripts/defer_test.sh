#!/usr/bin/env bash
# scripts/lib/defer.sh: deferred commands run last first, each with its arguments exactly as given
# (spaces, quotes, $ and ; stay data), a failing one does not stop the others and is named.
set -euo pipefail
# shellcheck source=scripts/lib/defer.sh
source "$(dirname "$0")/../../scripts/lib/defer.sh"

log=$(mktemp)
errors_file=$(mktemp)
trap 'rm -f "$log" "$errors_file"' EXIT
record() { printf '%s|' "$@" >>"$log"; echo >>"$log"; }

defer record first "two words"
defer false
# shellcheck disable=SC2016  # the $ is the point: it must stay text
defer record last '$HOME; rm -rf /nonexistent' ''
run_deferred 2>"$errors_file"
errors=$(cat "$errors_file")
expected=$'last|$HOME; rm -rf /nonexistent||\nfirst|two words|'
if [[ $(cat "$log") != "$expected" ]]; then
  echo "FAIL: ran $(cat "$log"), expected $expected"
  exit 1
fi
if [[ $errors != "cleanup failed: false" ]]; then
  echo "FAIL: reported '$errors' for the failing command"
  exit 1
fi
: >"$log"
run_deferred
if [[ -s $log ]]; then
  echo "FAIL: a second run_deferred ran commands again"
  exit 1
fi
echo "PASS: defer runs argument vectors last first and names what failed"
