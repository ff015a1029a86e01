# shellcheck shell=bash
# Helpers of the demo scripts (demo/connect.sh, demo/telemount.sh, demo/engage.sh); sourced.

demo_step=0
demo_bold='' demo_plain=''
if [[ -t 1 ]]; then demo_bold=$'\033[1m' demo_plain=$'\033[0m'; fi

# heading TEXT: a numbered heading, bold on a terminal.
heading() {
  demo_step=$((demo_step + 1))
  printf '\n%s== %d. %s%s\n' "$demo_bold" "$demo_step" "$*" "$demo_plain"
}

# show COMMAND...: prints the command the way a user would type it (the program without its
# folder, arguments with spaces or shell characters in single quotes) and runs it.
show() {
  local shown=() argument
  for argument in "$@"; do
    if [[ "$argument" == *[[:space:]\;\>\|\&\'\$]* ]]; then shown+=("'$argument'"); else shown+=("$argument"); fi
  done
  shown[0]=${shown[0]##*/}
  echo "\$ ${shown[*]}"
  "$@"
}

# wait_until DEADLINE DESCRIPTION COMMAND... and friends
# shellcheck source=scripts/lib/wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/wait.sh"
