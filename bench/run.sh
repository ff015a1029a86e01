#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: telemount against sshfs (and the native folder) on the same SFTP server.
#
# One sftp-export (OpenSSH sftp-server per connection, plain TCP) serves one folder of test files.
# Each workload runs on (a) the folder itself, (b) `sshfs -o directport=PORT`, (c) `telemount
# mount`, every FUSE run on a fresh mount so no client cache helps (the server's page cache is
# warm: the figures measure the file systems and the protocol, not the disk). Prints a table of
# seconds (median of BENCH_REPEAT runs, default 3), the speed-up telemount vs sshfs, and one line
# per target.
#
# Environment:
#   BENCH_REPEAT=N                 runs per case (median is reported), default 3
#   BENCH_TELEMOUNT_STANDIN=sshfs  put sshfs in the telemount column (to develop this script)
#   BENCH_WORKLOADS="ls find"      only these workloads (default: all; to work on one case)
#   BENCH_DROP_CACHES=1            also drop the page cache before every run (server side cold:
#                                  then the disk takes part in the read figures)
# Needs root for /proc/sys/vm/drop_caches (used once, before the test files are warmed).
set -uo pipefail

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
BUILD_DIR=$(cd "$1" && pwd) || exit 2
BIN=$BUILD_DIR/bin
# shellcheck source=scripts/lib/wait.sh
source "$(dirname "$0")/../scripts/lib/wait.sh"
REPEAT=${BENCH_REPEAT:-3}
STANDIN=${BENCH_TELEMOUNT_STANDIN:-}
DROP_CACHES_EACH_RUN=${BENCH_DROP_CACHES:-0}

SEQ_READ_MIB=512
SEQ_WRITE_MIB=256
DELAY_MS=25
DELAY_READ_MIB=64
LIST_ENTRIES=3000
LISTENER_PORT=
SMALL_FILES=3000
CREATE_FILES=1000
TREE_DIRS=100
TREE_FILES_PER_DIR=100
CASE_TIMEOUT=180
RAW_READ_TIMEOUT=60

WORK=$(mktemp -d /tmp/tp-bench.XXXXXX)
ROOT=$WORK/root
MOUNT_POINT=$WORK/mnt
BACKGROUND_PIDS=()
TELEMOUNT_PID=
WORKLOAD_PID=
RUN_SECONDS=
CASE_SECONDS=

log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Cleanup: every mount under $WORK, every process started here, then $WORK itself.

unmount_path() {
  local path=$1
  wait_until 1 "$path to unmount" fusermount3 -u "$path" 2>/dev/null && return 0
  log "lazy unmount of $path"
  fusermount3 -uz "$path" 2>/dev/null || umount -l "$path" 2>/dev/null
}

mounts_under_work() {
  awk -v prefix="$WORK/" 'index($2, prefix) == 1 { print $2 }' /proc/mounts | sort -r
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # A running workload first (timeout passes the signal on), so that it lets go of the mount.
  if [[ -n $WORKLOAD_PID ]]; then
    kill "$WORKLOAD_PID" 2>/dev/null
    wait "$WORKLOAD_PID" 2>/dev/null
  fi
  local path
  for path in $(mounts_under_work); do unmount_path "$path"; done
  local pid
  for pid in "${BACKGROUND_PIDS[@]}" $TELEMOUNT_PID; do kill "$pid" 2>/dev/null; done
  for pid in "${BACKGROUND_PIDS[@]}" $TELEMOUNT_PID; do wait "$pid" 2>/dev/null; done
  if [[ -z $(mounts_under_work) ]]; then
    rm -rf --one-file-system "$WORK"
  else
    log "left $WORK in place: a mount under it did not go away"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Servers.

# Starts a program that takes --port-file and remembers its pid; sets LISTENER_PORT.
# (Not to be called in $(...): the pid must reach BACKGROUND_PIDS of this shell.)
start_listener() {
  local name=$1
  shift
  local port_file=$WORK/$name.port
  "$@" --port-file "$port_file" >"$WORK/$name.out" 2>"$WORK/$name.log" &
  BACKGROUND_PIDS+=($!)
  if WAIT_POLL=0.05 wait_until 5 "$name's port file" test -s "$port_file"; then
    LISTENER_PORT=$(<"$port_file")
    return 0
  fi
  log "$name did not start:"
  cat "$WORK/$name.log" >&2
  return 1
}

# ---------------------------------------------------------------------------------------------
# Mounts. A client is "native", "sshfs" or "telemount"; `mount_client CLIENT PORT` makes the
# server root visible at $MOUNT_POINT (native: nothing to mount) and `client_base CLIENT` says
# where the workloads find it.

SSHFS_OPTIONS="directport=PORT (everything else sshfs's defaults: cache=yes, max_conns=1, ...)"
TELEMOUNT_OPTIONS="(defaults)"

mount_sshfs() {
  local port=$1
  sshfs -o "directport=$port" "127.0.0.1:$ROOT" "$MOUNT_POINT"
}

mount_telemount() {
  local port=$1
  "$BIN/telemount" mount "127.0.0.1:$port:$ROOT" "$MOUNT_POINT" >>"$WORK/telemount.log" 2>&1 &
  TELEMOUNT_PID=$!
  mounted_or_ended() { mountpoint -q "$MOUNT_POINT" || pid_ended "$TELEMOUNT_PID"; }
  WAIT_POLL=0.1 wait_until 15 "telemount to mount" mounted_or_ended
  mountpoint -q "$MOUNT_POINT" && return 0
  log "telemount did not mount; its log:"
  tail -n 20 "$WORK/telemount.log" >&2
  unmount_client telemount
  return 1
}

# The mount program actually used for a column (the stand-in replaces telemount).
mount_program() {
  local client=$1
  if [[ $client == telemount && $STANDIN == sshfs ]]; then echo sshfs; else echo "$client"; fi
}

mount_client() {
  local client=$1 port=$2
  case $(mount_program "$client") in
    native) return 0 ;;
    sshfs) mount_sshfs "$port" ;;
    telemount) mount_telemount "$port" ;;
  esac
}

unmount_client() {
  local client=$1
  [[ $client == native ]] && return 0
  mountpoint -q "$MOUNT_POINT" && unmount_path "$MOUNT_POINT"
  if [[ -n $TELEMOUNT_PID ]]; then
    WAIT_POLL=0.1 wait_until 5 "telemount to exit" pid_ended "$TELEMOUNT_PID"
    kill "$TELEMOUNT_PID" 2>/dev/null
    wait "$TELEMOUNT_PID" 2>/dev/null
    TELEMOUNT_PID=
  fi
  return 0
}

client_base() {
  if [[ $1 == native ]]; then echo "$ROOT"; else echo "$MOUNT_POINT"; fi
}

# ---------------------------------------------------------------------------------------------
# Test data.

drop_caches() {
  sync
  if ! echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
    log "cannot drop caches (not root?): continuing"
  fi
}

make_files_in() {
  local dir=$1 count=$2 content=$3
  mkdir -p "$dir"
  local i
  for ((i = 0; i < count; i++)); do printf '%s %d\n' "$content" "$i" >"$dir/f$i"; done
}

make_test_data() {
  log "creating test data in $ROOT"
  mkdir -p "$ROOT/out"
  head -c "$((SEQ_READ_MIB << 20))" /dev/urandom >"$ROOT/big.bin"
  head -c "$((DELAY_READ_MIB << 20))" /dev/urandom >"$ROOT/delay.bin"
  make_files_in "$ROOT/list" "$LIST_ENTRIES" "entry"
  local small_content
  small_content=$(head -c 3000 /dev/urandom | base64 -w0)  # about 4 KiB per file
  make_files_in "$ROOT/small" "$SMALL_FILES" "$small_content"
  local d
  for ((d = 0; d < TREE_DIRS; d++)); do
    make_files_in "$ROOT/tree/d$((d % 10))/d$d" "$TREE_FILES_PER_DIR" "tree"
  done
  drop_caches
  # Warm the server side: every client then reads the same data from the page cache.
  cat "$ROOT/big.bin" "$ROOT/delay.bin" "$ROOT"/small/* >/dev/null
  ls -lR "$ROOT" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Workloads: each takes the base folder and the client name, does its work, output discarded.
# They run in a child bash (under `timeout`), hence the exports.

workload_seq_read() { dd if="$1/big.bin" of=/dev/null bs=1M status=none; }
workload_seq_write() {
  dd if=/dev/zero of="$1/out/write-$2.bin" bs=1M count="$SEQ_WRITE_MIB" conv=fsync status=none
}
workload_ls() { ls -l "$1/list" >/dev/null; }
workload_small_read() { cat "$1"/small/* >/dev/null; }
workload_create() {
  local dir=$1/out/create-$2 i
  for ((i = 0; i < CREATE_FILES; i++)); do echo "created $i" >"$dir/f$i" || return 1; done
}
workload_find() { find "$1/tree" >/dev/null; }
workload_delayed_read() { dd if="$1/delay.bin" of=/dev/null bs=1M status=none; }
export SEQ_WRITE_MIB CREATE_FILES
export -f workload_seq_read workload_seq_write workload_ls workload_small_read workload_create \
  workload_find workload_delayed_read

# Untimed preparation before each run, done on the server folder directly.
prepare_workload() {
  local workload=$1 client=$2
  case $workload in
    seq_write) rm -f "$ROOT/out/write-$client.bin" ;;
    create) rm -rf "$ROOT/out/create-$client" && mkdir -p "$ROOT/out/create-$client" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Timing.

now() { date +%s.%N; }

# Runs one workload once on a fresh mount; sets RUN_SECONDS, or fails. The workload runs in the
# background and this shell waits for it, so SIGINT/SIGTERM reach the cleanup trap at once.
# (Neither this nor time_case may run in $(...): the trap must know WORKLOAD_PID.)
time_once() {
  local workload=$1 client=$2 port=$3
  prepare_workload "$workload" "$client"
  [[ $DROP_CACHES_EACH_RUN == 1 ]] && drop_caches
  mount_client "$client" "$port" || return 1
  local base start end status
  base=$(client_base "$client")
  start=$(now)
  timeout "$CASE_TIMEOUT" bash -c "workload_$workload \"\$@\"" _ "$base" "$client" &
  WORKLOAD_PID=$!
  wait "$WORKLOAD_PID"
  status=$?
  WORKLOAD_PID=
  end=$(now)
  unmount_client "$client"
  prepare_workload "$workload" "$client"  # remove what it wrote
  if ((status != 0)); then
    log "$workload on $client failed (status $status)"
    return 1
  fi
  RUN_SECONDS=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }')
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# Sets CASE_SECONDS to the median seconds of `repeat` runs, or "fail".
time_case() {
  local workload=$1 client=$2 port=$3 repeat=$4
  local samples=() i
  CASE_SECONDS=fail
  for ((i = 0; i < repeat; i++)); do
    time_once "$workload" "$client" "$port" || return 0
    samples+=("$RUN_SECONDS")
  done
  CASE_SECONDS=$(printf '%s\n' "${samples[@]}" | median)
}

# ratio A B = A / B with two decimals, "-" when either is not a number.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f\n", a / b; else print "-" }'
}

# ---------------------------------------------------------------------------------------------
# Main.

check_tools() {
  local tool
  for tool in "$BIN/sftp-export" "$BIN/delay-proxy"; do
    [[ -x $tool ]] || { log "missing $tool: build first (make build)"; exit 1; }
  done
  command -v sshfs >/dev/null || { log "sshfs is not installed"; exit 1; }
  [[ -x /usr/lib/openssh/sftp-server ]] || { log "openssh-sftp-server is not installed"; exit 1; }
}

# Decides whether the telemount column runs; sets TELEMOUNT_NOTE.
probe_telemount() {
  local port=$1
  TELEMOUNT_NOTE=""
  if [[ $STANDIN == sshfs ]]; then
    TELEMOUNT_NOTE="telemount column: STAND-IN, sshfs measured twice (BENCH_TELEMOUNT_STANDIN)"
    return 0
  fi
  if [[ ! -x $BIN/telemount ]]; then
    TELEMOUNT_NOTE="telemount: not built, column skipped"
    return 1
  fi
  if ! mount_client telemount "$port"; then
    TELEMOUNT_NOTE="telemount: \`telemount mount\` failed (log above), column skipped"
    return 1
  fi
  unmount_client telemount
}

raw_sftp_limit() {
  local port=$1
  if [[ ! -x $BIN/sftp-read-bench ]]; then
    echo "raw SFTP limit: tool not built"
    return
  fi
  local output status
  output=$(timeout "$RAW_READ_TIMEOUT" "$BIN/sftp-read-bench" 127.0.0.1 "$port" "$ROOT/big.bin" 2>&1)
  status=$?
  if ((status == 0)); then
    echo "raw SFTP limit (sftp-read-bench, no FUSE, $SEQ_READ_MIB MiB): $output"
  elif ((status == 124)); then
    echo "raw SFTP limit: sftp-read-bench did not finish within $RAW_READ_TIMEOUT s"
  else
    echo "raw SFTP limit: sftp-read-bench failed (status $status): $output"
  fi
}

ALL_WORKLOADS=(seq_read seq_write ls small_read create find delayed_read)
# shellcheck disable=SC2206  # a list of words on purpose
WORKLOADS=(${BENCH_WORKLOADS:-${ALL_WORKLOADS[*]}})
for workload in "${WORKLOADS[@]}"; do
  [[ " ${ALL_WORKLOADS[*]} " == *" $workload "* ]] ||
    { echo "bench: unknown workload '$workload' in BENCH_WORKLOADS (${ALL_WORKLOADS[*]})" >&2; exit 2; }
done
declare -A LABEL=(
  [seq_read]="sequential read $SEQ_READ_MIB MiB"
  [seq_write]="sequential write $SEQ_WRITE_MIB MiB + fsync"
  [ls]="ls -l, $LIST_ENTRIES entries"
  [small_read]="cat $SMALL_FILES small files"
  [create]="create $CREATE_FILES small files"
  [find]="find, $((TREE_DIRS * TREE_FILES_PER_DIR)) files"
  [delayed_read]="seq read $DELAY_READ_MIB MiB, ${DELAY_MS} ms each way"
)
declare -A TARGET=([seq_read]=2 [seq_write]=1.5 [ls]=3 [small_read]=2 [create]=1.5 [delayed_read]=10)
declare -A RESULT

main() {
  check_tools
  mkdir -p "$ROOT" "$MOUNT_POINT"
  make_test_data
  local export_port proxy_port
  start_listener sftp-export "$BIN/sftp-export" --root "$ROOT" || exit 1
  export_port=$LISTENER_PORT
  start_listener delay-proxy "$BIN/delay-proxy" --listen 127.0.0.1:0 \
    --target "127.0.0.1:$export_port" --delay-ms "$DELAY_MS" || exit 1
  proxy_port=$LISTENER_PORT
  log "sftp-export on port $export_port, delay-proxy (${DELAY_MS} ms each way) on $proxy_port"

  local clients=(native sshfs telemount)
  probe_telemount "$export_port" || clients=(native sshfs)
  [[ -n $TELEMOUNT_NOTE ]] && log "$TELEMOUNT_NOTE"

  local workload client port repeat
  for workload in "${WORKLOADS[@]}"; do
    for client in "${clients[@]}"; do
      port=$export_port repeat=$REPEAT
      if [[ $workload == delayed_read ]]; then
        [[ $client == native ]] && continue
        port=$proxy_port repeat=1
      fi
      log "${LABEL[$workload]}: $client"
      time_case "$workload" "$client" "$port" "$repeat"
      RESULT[$workload,$client]=$CASE_SECONDS
    done
  done

  print_report "$export_port"
}

cache_policy() {
  if [[ $DROP_CACHES_EACH_RUN == 1 ]]; then
    echo "page cache dropped before every run"
  else
    echo "server page cache warm"
  fi
}

print_report() {
  local export_port=$1 workload
  echo
  echo "telemount vs sshfs vs native, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
  echo "server: sftp-export running OpenSSH /usr/lib/openssh/sftp-server per connection," \
    "plain TCP on loopback; one fresh mount per run; $(cache_policy)"
  echo "sshfs $(sshfs --version 2>&1 | awk '/SSHFS version/ { print $3 }') options: $SSHFS_OPTIONS"
  echo "telemount options: $TELEMOUNT_OPTIONS"
  [[ -n $TELEMOUNT_NOTE ]] && echo "$TELEMOUNT_NOTE"
  echo "seconds are the median of $REPEAT runs (delayed link: 1 run, $DELAY_READ_MIB MiB to" \
    "bound the time); speed-up = sshfs s / telemount s (>1: telemount faster);" \
    "vs native = native s / telemount s"
  echo
  printf '%-36s %10s %10s %12s %10s %10s\n' workload native_s sshfs_s telemount_s \
    speedup vs_native
  for workload in "${WORKLOADS[@]}"; do
    local native=${RESULT[$workload,native]:--} sshfs=${RESULT[$workload,sshfs]:--}
    local telemount=${RESULT[$workload,telemount]:--}
    printf '%-36s %10s %10s %12s %10s %10s\n' "${LABEL[$workload]}" "$native" "$sshfs" \
      "$telemount" "$(ratio "$sshfs" "$telemount")" "$(ratio "$native" "$telemount")"
  done
  echo
  raw_sftp_limit "$export_port"
  echo
  for workload in "${WORKLOADS[@]}"; do
    [[ -n ${TARGET[$workload]:-} ]] || continue
    local speedup verdict
    speedup=$(ratio "${RESULT[$workload,sshfs]:--}" "${RESULT[$workload,telemount]:--}")
    if [[ $speedup == - ]]; then
      verdict="NOT MEASURED"
    elif awk -v s="$speedup" -v t="${TARGET[$workload]}" 'BEGIN { exit !(s >= t) }'; then
      verdict=MET
    else
      verdict=MISSED
    fi
    printf 'target: telemount >= %sx sshfs on %s: %sx %s\n' "${TARGET[$workload]}" \
      "${LABEL[$workload]}" "$speedup" "$verdict"
  done
}

main
