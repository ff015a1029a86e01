#!/usr/bin/env bash
# scripts/lib/wait.sh: wait_until polls until the command succeeds (running it in this shell,
# arguments as given), gives up at the deadline saying what it waited for, and never waits
# longer than the deadline plus one run; wait_until_output and wait_until_text print the output.
set -uo pipefail
# shellcheck source=scripts/lib/wait.sh
source "$(dirname "$0")/../../scripts/lib/wait.sh"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "PASS: $*"; }

WAIT_POLL=0.05
# A function that succeeds on its third call, counting in this shell.
calls=0
third_time() { calls=$((calls + 1)); ((calls >= 3)); }
if wait_until 5 "the third call" third_time && ((calls == 3)); then
  pass "wait_until polls a function in this shell until it succeeds ($calls calls)"
else
  fail "wait_until: $calls calls"
fi

# Arguments stay data: spaces, quotes, $ and ; are not shell text.
# shellcheck disable=SC2016  # the $ is the point: it must stay text
if wait_until 2 "the arguments" test 'a b; $HOME' == 'a b; $HOME'; then
  pass "wait_until passes the arguments as given"
else
  fail "wait_until changed its arguments"
fi

started=$SECONDS
errors=$(wait_until 2 "a thing that never happens" false 2>&1)
status=$?
elapsed=$((SECONDS - started))
if ((status == 1)) && [[ $errors == "timed out after 2 s waiting for a thing that never happens" ]]; then
  pass "at the deadline wait_until returns 1 and says what it waited for"
else
  fail "deadline: status $status, said '$errors'"
fi
if ((elapsed >= 1 && elapsed <= 3)); then
  pass "the deadline holds (${elapsed} s for 2 s)"
else
  fail "a 2 s deadline took ${elapsed} s"
fi

counter_file=$(mktemp)
trap 'rm -f "$counter_file"' EXIT
echo 0 >"$counter_file"
# count_up: prints "count N", succeeding from N = 2 on.
count_up() {
  local n
  n=$(($(<"$counter_file") + 1))
  echo "$n" >"$counter_file"
  echo "count $n"
  ((n >= 2))
}
output=$(wait_until_output 5 "the count" count_up 2>/dev/null)
if [[ $output == "count 2" ]]; then
  pass "wait_until_output prints the output of the run that succeeded"
else
  fail "wait_until_output printed '$output'"
fi
output=$(wait_until_output 1 "nothing" sh -c 'echo last words; exit 3' 2>/dev/null)
status=$?
if ((status == 1)) && [[ $output == "last words" ]]; then
  pass "wait_until_output prints the last output when the deadline passes"
else
  fail "wait_until_output at the deadline: status $status, output '$output'"
fi
echo 0 >"$counter_file"
output=$(wait_until_text 5 "count 3" count_up 2>/dev/null)
if [[ $output == "count 3" ]]; then
  pass "wait_until_text waits for the text, not just success"
else
  fail "wait_until_text printed '$output'"
fi

sleep 30 &
sleeper=$!
if pid_ended "$sleeper"; then fail "pid_ended says a running process ended"; fi
kill -9 "$sleeper"  # (a SIGTERM could be blocked by whoever started the tests)
if wait_until 5 "the sleeper to end" pid_ended "$sleeper"; then
  pass "pid_ended sees a process go"
else
  fail "pid_ended did not see the killed process go"
fi

((failures == 0))
