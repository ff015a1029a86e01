#!/usr/bin/env bash
# Builds the libFuzzer targets in build/fuzz (clang, ccache) and runs each one for SECONDS, from
# a copy of its seed corpus (fuzz/corpus/<target>/, left unchanged) with its dictionary when it
# has one. Prints each target's executions, execs/s and coverage (libFuzzer's cov: edges and ft:
# features), and fails when a target crashed, leaked, hung or broke a check: the input that did
# it is kept in build/fuzz/findings/<target>/ (reproduce with `build/fuzz/<target> FILE`).
#
#   fuzz/run.sh SECONDS [TARGET...]     every target, or the ones named
#
# Environment: FUZZ_PARALLEL targets run at once (default 2: one per core of the CI machine),
# FUZZ_BUILD the build folder (build/fuzz), FUZZ_BUILD_JOBS compile jobs (2).
set -euo pipefail

readonly all_targets=(fuzz_sftp_reply fuzz_tunnel_frame fuzz_dns_message fuzz_volume_request
  fuzz_network_request fuzz_http_head)

if (($# < 1)) || ! [[ "$1" =~ ^[0-9]+$ ]] || (($1 < 1)); then
  echo "usage: fuzz/run.sh SECONDS [TARGET...]   (targets: ${all_targets[*]})" >&2
  exit 2
fi
seconds=$1
shift
targets=("$@")
((${#targets[@]} > 0)) || targets=("${all_targets[@]}")

cd "$(dirname "$0")/.."
build=${FUZZ_BUILD:-build/fuzz}
parallel=${FUZZ_PARALLEL:-2}

build_targets() {
  local started=$SECONDS
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTP_FUZZ=ON >/dev/null
  cmake --build "$build" -j"${FUZZ_BUILD_JOBS:-2}" --target "${targets[@]}" >/dev/null
  echo "fuzz: built ${#targets[@]} targets in $((SECONDS - started)) s"
}

# Runs one target: every seed once at its full size (inputs that once crashed among them), then
# fuzzing for $seconds with inputs of at most 4 KiB, so that one large seed does not slow every
# execution. Its log goes to $work/<target>.log, the exit status to $work/<target>.status.
run_target() {
  local target=$1
  local corpus=$work/$target/corpus findings=$build/findings/$target log=$work/$1.log
  mkdir -p "$corpus" "$findings"
  cp fuzz/corpus/"$target"/* "$corpus"/
  local options=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$findings"/)
  [[ -f fuzz/$target.dict ]] && options+=(-dict=fuzz/"$target".dict)
  local status=0
  "$build/$target" "${options[@]}" "$corpus"/* >"$log" 2>&1 &&
    "$build/$target" "${options[@]}" -max_len=4096 -max_total_time="$seconds" \
      -print_final_stats=1 "$corpus" >>"$log" 2>&1 || status=$?
  echo "$status" >"$work/$target.status"
}

# One line per target from its log: executions, execs/s, cov, ft, corpus size.
summarize() {
  local target=$1 status=$2 log=$work/$1.log
  local runs rate coverage features corpus
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  features=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  printf '%-22s %-7s %10s %9s %6s %6s %6s\n' "$target" "$status" "${runs:--}" "${rate:--}" \
    "${coverage:--}" "${features:--}" "${corpus:--}"
}

build_targets
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n; done
  run_target "$target" &
done
wait

failed=()
declare -A status_of
for target in "${targets[@]}"; do
  if [[ "$(cat "$work/$target.status" 2>/dev/null)" == 0 ]]; then
    status_of[$target]=ok
  else
    status_of[$target]=FAILED
    failed+=("$target")
  fi
done

echo "fuzz: ${seconds} s per target, ${parallel} at a time"
printf '%-22s %-7s %10s %9s %6s %6s %6s\n' target result execs execs/s cov ft corpus
for target in "${targets[@]}"; do summarize "$target" "${status_of[$target]}"; done

for target in "${failed[@]}"; do
  echo
  echo "fuzz: $target failed; its log ends with:"
  tail -n 40 "$work/$target.log"
  echo "fuzz: the input is in $build/findings/$target/"
done
((${#failed[@]} == 0))
