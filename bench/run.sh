#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: telemount against sshfs, rclone (and the native folder) on the same
# SFTP server.
#
# One sftp-export (OpenSSH sftp-server per connection, plain TCP) serves one folder of test files.
# Each workload runs on (a) the folder itself, (b) `sshfs -o directport=PORT`, (c) `telemount
# mount`, both over plain TCP to sftp-export, (d) `rclone mount --vfs-cache-mode off`, which needs
# a real SSH server: the bench starts its own sshd on loopback (keys of its own, the same
# sftp-server as its sftp subsystem). Every FUSE run is on a fresh mount so no client cache helps
# (the server's page cache is warm: the figures measure the file systems and the protocol, not the
# disk). The "50 ms RTT" rows go through bench's delay-proxy (25 ms each way) in front of the same
# servers, next to the plain-TCP ceiling of the same kind of proxy (echo-server's /bytes/N read
# with curl). Prints a table of seconds (median of BENCH_REPEAT runs, default 3), the speed-up
# telemount vs sshfs and vs rclone, round trips per file on the slow link, one line per target
# and one per goal of issue 18 for the link rows.
#
# Environment:
#   BENCH_REPEAT=N                 runs per case (median is reported), default 3
#   BENCH_LINK_REPEAT=N            runs per case on the 50 ms RTT link, default 1 (time bound)
#   BENCH_RCLONE_REPEAT=N          runs per rclone case, default 1 (rclone is slow; time bound)
#   BENCH_RCLONE_TIMEOUT=S         seconds an rclone run may take before it counts as "timeout",
#                                  default 60 (other clients: 180)
#   BENCH_RCLONE=0                 leave the rclone column out
#   BENCH_TELEMOUNT_STANDIN=sshfs  put sshfs in the telemount column (to develop this script)
#   BENCH_WORKLOADS="ls find"      only these workloads (default: all; to work on one case)
#   BENCH_DROP_CACHES=1            also drop the page cache before every run (server side cold:
#                                  then the disk takes part in the read figures)
# Needs root for /proc/sys/vm/drop_caches (used once, before the test files are warmed) and for
# the rclone column's sshd (it logs in as root with a key the bench makes; /run/sshd must exist).
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
LINK_REPEAT=${BENCH_LINK_REPEAT:-1}
RCLONE_REPEAT=${BENCH_RCLONE_REPEAT:-1}
RCLONE_TIMEOUT=${BENCH_RCLONE_TIMEOUT:-60}
WANT_RCLONE=${BENCH_RCLONE:-1}
STANDIN=${BENCH_TELEMOUNT_STANDIN:-}
DROP_CACHES_EACH_RUN=${BENCH_DROP_CACHES:-0}

SEQ_READ_MIB=512
SEQ_WRITE_MIB=256
DELAY_MS=25                # one way: the link's round trip is twice this
RTT_MS=$((2 * DELAY_MS))
DELAY_READ_MIB=64
LINK_SMALL_FILES=200       # of LINK_SMALL_BYTES each, read with `cat` over the link
LINK_SMALL_BYTES=4096
LINK_LIST_ENTRIES=200      # `ls -l` over the link
SFTP_READDIR_BATCH=100     # OpenSSH sftp-server answers a READDIR with up to 100 names
LIST_ENTRIES=3000
LISTENER_PORT=
SMALL_FILES=3000
CREATE_FILES=1000
TREE_DIRS=100
TREE_FILES_PER_DIR=100
CASE_TIMEOUT=180
RAW_READ_TIMEOUT=60
SSHD=/usr/sbin/sshd
SFTP_SERVER=/usr/lib/openssh/sftp-server

WORK=$(mktemp -d /tmp/tp-bench.XXXXXX)
ROOT=$WORK/root
MOUNT_POINT=$WORK/mnt
SSHD_DIR=$WORK/sshd
BACKGROUND_PIDS=()
MOUNT_PID=         # the FUSE daemon of the current mount (telemount, rclone) while it runs
WORKLOAD_PID=
RUN_SECONDS=
CASE_SECONDS=
declare -A SERVER_PORT  # sftp, sftp_link (through the delay-proxy), ssh, ssh_link, tcp_link

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
  # The mount daemon (telemount, rclone), then the servers: sshd, echo-server, the proxies,
  # sftp-export. sshd's per-connection children end with their client's connection.
  local pid
  for pid in $MOUNT_PID "${BACKGROUND_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in $MOUNT_PID "${BACKGROUND_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
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

# A delay-proxy adding DELAY_MS each way in front of 127.0.0.1:PORT; sets LISTENER_PORT.
start_delay_proxy() {
  local name=$1 target_port=$2
  start_listener "$name" "$BIN/delay-proxy" --listen 127.0.0.1:0 \
    --target "127.0.0.1:$target_port" --delay-ms "$DELAY_MS"
}

# A TCP port that nothing uses now, for servers that cannot bind port 0 and tell (sshd,
# echo-server). A race with another program is possible: the callers retry.
free_port() {
  local port _
  for _ in {1..100}; do
    port=$((20000 + RANDOM % 40000))
    if [[ -z $(ss -Htuan "( sport = :$port )" 2>/dev/null) ]]; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

listening_on() { [[ -n $(ss -Hltn "( sport = :$1 )" 2>/dev/null) ]]; }

# Starts `NAME PROGRAM ARGS...` where ARGS contain the word PORT (replaced by a free port) and
# waits until it listens on that TCP port; three tries. Sets LISTENER_PORT.
start_on_free_port() {
  local name=$1
  shift
  local attempt port pid arg args
  for attempt in 1 2 3; do
    port=$(free_port) || break
    args=()
    for arg in "$@"; do args+=("${arg//PORT/$port}"); done
    "${args[@]}" >"$WORK/$name.out" 2>"$WORK/$name.log" &
    pid=$!
    BACKGROUND_PIDS+=("$pid")  # at once: an interrupt while it starts must end it too
    listening_or_ended() { listening_on "$port" || pid_ended "$pid"; }
    WAIT_POLL=0.05 wait_until 10 "$name to listen on $port" listening_or_ended
    if listening_on "$port" && ! pid_ended "$pid"; then
      LISTENER_PORT=$port
      return 0
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset 'BACKGROUND_PIDS[-1]'
    log "$name did not listen on port $port (try $attempt):"
    tail -n 5 "$WORK/$name.log" >&2
  done
  return 1
}

# The bench's own sshd for rclone: loopback only, its own host key, one client key of its own
# (the only one it accepts), no passwords, and OpenSSH's sftp-server (the one sftp-export runs)
# as its sftp subsystem. Run as the bench's user (root here: StrictModes off for the keys in
# /tmp). Sets SERVER_PORT[ssh]; returns 1 with the reason in SKIP_REASON.
start_sshd() {
  mkdir -p "$SSHD_DIR"
  if ! ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$SSHD_DIR/host_key" </dev/null ||
    ! ssh-keygen -q -t ed25519 -N '' -C bench-client -f "$SSHD_DIR/client_key" </dev/null; then
    SKIP_REASON="ssh-keygen failed"
    return 1
  fi
  cp "$SSHD_DIR/client_key.pub" "$SSHD_DIR/authorized_keys"
  # The config carries the word PORT: start_on_free_port passes the port on the command line.
  cat >"$SSHD_DIR/sshd_config" <<CONFIG
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_key
PidFile none
AuthorizedKeysFile $SSHD_DIR/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
AllowTcpForwarding no
X11Forwarding no
LogLevel DEBUG1
Subsystem sftp $SFTP_SERVER
CONFIG
  # sshd refuses to start without its privilege separation directory (the package's tmpfiles
  # make it at boot; containers often have none).
  if [[ ! -d /run/sshd ]] && ! mkdir -m 0755 /run/sshd 2>/dev/null; then
    SKIP_REASON="/run/sshd is missing and cannot be made (not root?)"
    return 1
  fi
  if ! "$SSHD" -t -f "$SSHD_DIR/sshd_config" 2>"$WORK/sshd-test.log"; then
    SKIP_REASON="sshd rejects the bench's config: $(head -c 300 "$WORK/sshd-test.log")"
    return 1
  fi
  if ! start_on_free_port sshd "$SSHD" -D -e -f "$SSHD_DIR/sshd_config" -o Port=PORT; then
    SKIP_REASON="sshd did not start (see above)"
    return 1
  fi
  SERVER_PORT[ssh]=$LISTENER_PORT
}

# echo-server, for the link's plain-TCP ceiling (GET /bytes/N through a delay-proxy). Sets
# SERVER_PORT[tcp_link], or leaves it unset and CEILING_NOTE says why.
start_ceiling_servers() {
  if [[ ! -x $BIN/echo-server ]]; then
    CEILING_NOTE="plain-TCP ceiling: not measured ($BIN/echo-server not built)"
    return 1
  fi
  if ! command -v curl >/dev/null; then
    CEILING_NOTE="plain-TCP ceiling: not measured (curl is not installed)"
    return 1
  fi
  if ! start_on_free_port echo-server "$BIN/echo-server" --name bench --port PORT \
    --tcp-address 127.0.0.1; then
    CEILING_NOTE="plain-TCP ceiling: not measured (echo-server did not start)"
    return 1
  fi
  start_delay_proxy delay-proxy-tcp "$LISTENER_PORT" || return 1
  SERVER_PORT[tcp_link]=$LISTENER_PORT
}

# ---------------------------------------------------------------------------------------------
# Mounts. A client is "native", "sshfs", "telemount" or "rclone"; `mount_client CLIENT PORT`
# makes the server root visible at $MOUNT_POINT (native: nothing to mount) and `client_base
# CLIENT` says where the workloads find it. PORT is sftp-export's (sshfs, telemount) or sshd's
# (rclone), or a delay-proxy's in front of it.

SSHFS_OPTIONS="directport=PORT (everything else sshfs's defaults: cache=yes, max_conns=1, ...)"
TELEMOUNT_OPTIONS="(defaults)"
# Everything else rclone's defaults. shell_type and the hash commands are what rclone finds out
# by itself on this server; set, they spare each fresh mount the probing.
RCLONE_SFTP_OPTIONS="shell_type=unix,md5sum_command=md5sum,sha1sum_command=sha1sum"
RCLONE_MOUNT_OPTIONS=(--vfs-cache-mode off)

mount_sshfs() {
  local port=$1
  sshfs -o "directport=$port" "127.0.0.1:$ROOT" "$MOUNT_POINT"
}

# Waits up to DEADLINE seconds for the FUSE daemon MOUNT_PID (started by the caller, output in
# LOG_FILE) to mount.
wait_for_mount() {
  local name=$1 log_file=$2 deadline=$3
  mounted_or_ended() { mountpoint -q "$MOUNT_POINT" || pid_ended "$MOUNT_PID"; }
  WAIT_POLL=0.1 wait_until "$deadline" "$name to mount" mounted_or_ended
  mountpoint -q "$MOUNT_POINT" && return 0
  log "$name did not mount; its log:"
  tail -n 20 "$log_file" >&2
  unmount_client "$name"
  return 1
}

mount_telemount() {
  local port=$1
  "$BIN/telemount" mount "127.0.0.1:$port:$ROOT" "$MOUNT_POINT" >>"$WORK/telemount.log" 2>&1 &
  MOUNT_PID=$!
  wait_for_mount telemount "$WORK/telemount.log" 15
}

rclone_remote() {
  local port=$1
  echo ":sftp,host=127.0.0.1,port=$port,user=$(id -un),key_file=$SSHD_DIR/client_key,$RCLONE_SFTP_OPTIONS:$ROOT"
}

mount_rclone() {
  local port=$1
  rclone --config /dev/null mount "$(rclone_remote "$port")" "$MOUNT_POINT" \
    "${RCLONE_MOUNT_OPTIONS[@]}" >>"$WORK/rclone.log" 2>&1 &
  MOUNT_PID=$!
  wait_for_mount rclone "$WORK/rclone.log" 30  # ssh, over the link too
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
    rclone) mount_rclone "$port" ;;
  esac
}

unmount_client() {
  local client=$1
  [[ $client == native ]] && return 0
  mountpoint -q "$MOUNT_POINT" && unmount_path "$MOUNT_POINT"
  if [[ -n $MOUNT_PID ]]; then
    WAIT_POLL=0.1 wait_until 5 "$client to exit" pid_ended "$MOUNT_PID"
    kill "$MOUNT_PID" 2>/dev/null
    wait "$MOUNT_PID" 2>/dev/null
    MOUNT_PID=
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
  local d i
  for ((d = 0; d < TREE_DIRS; d++)); do
    make_files_in "$ROOT/tree/d$((d % 10))/d$d" "$TREE_FILES_PER_DIR" "tree"
  done
  mkdir -p "$ROOT/link-small"
  for ((i = 0; i < LINK_SMALL_FILES; i++)); do
    head -c "$LINK_SMALL_BYTES" /dev/urandom >"$ROOT/link-small/f$i"
  done
  make_files_in "$ROOT/link-list" "$LINK_LIST_ENTRIES" "entry"
  drop_caches
  # Warm the server side: every client then reads the same data from the page cache.
  cat "$ROOT/big.bin" "$ROOT/delay.bin" "$ROOT"/small/* "$ROOT"/link-small/* >/dev/null
  ls -lR "$ROOT" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Workloads: each takes the base folder and the client name, does its work, output discarded.
# They run in a child bash (under `timeout`), hence the exports. The delayed_* ones run through
# the delay-proxy (see is_link_workload).

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
workload_delayed_small_read() { cat "$1"/link-small/* >/dev/null; }
workload_delayed_ls() { ls -l "$1/link-list" >/dev/null; }
export SEQ_WRITE_MIB CREATE_FILES
export -f workload_seq_read workload_seq_write workload_ls workload_small_read workload_create \
  workload_find workload_delayed_read workload_delayed_small_read workload_delayed_ls

is_link_workload() { [[ $1 == delayed_* ]]; }

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

# Runs one workload once on a fresh mount, killed after LIMIT seconds; sets RUN_SECONDS, or
# returns 1 (failed) or 2 (timed out). The workload runs in the background and this shell waits
# for it, so SIGINT/SIGTERM reach the cleanup trap at once.
# (Neither this nor time_case may run in $(...): the trap must know WORKLOAD_PID.)
time_once() {
  local workload=$1 client=$2 port=$3 limit=$4
  prepare_workload "$workload" "$client"
  [[ $DROP_CACHES_EACH_RUN == 1 ]] && drop_caches
  mount_client "$client" "$port" || return 1
  local base start end status
  base=$(client_base "$client")
  start=$(now)
  timeout -k 10 "$limit" bash -c "workload_$workload \"\$@\"" _ "$base" "$client" &
  WORKLOAD_PID=$!
  wait "$WORKLOAD_PID"
  status=$?
  WORKLOAD_PID=
  end=$(now)
  unmount_client "$client"
  prepare_workload "$workload" "$client"  # remove what it wrote
  if ((status == 124 || status == 137)); then
    log "$workload on $client: timeout (killed after $limit s)"
    return 2
  elif ((status != 0)); then
    log "$workload on $client failed (status $status)"
    return 1
  fi
  RUN_SECONDS=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }')
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# Sets CASE_SECONDS to the median seconds of `repeat` runs, or "fail", or "timeout" (the first
# failure or timeout ends the case).
time_case() {
  local workload=$1 client=$2 port=$3 repeat=$4 limit=$5
  local samples=() i status
  CASE_SECONDS=fail
  for ((i = 0; i < repeat; i++)); do
    time_once "$workload" "$client" "$port" "$limit"
    status=$?
    ((status == 2)) && CASE_SECONDS=timeout
    ((status != 0)) && return 0
    samples+=("$RUN_SECONDS")
  done
  CASE_SECONDS=$(printf '%s\n' "${samples[@]}" | median)
}

is_number() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

# ratio A B = A / B with two decimals, "-" when either is not a number.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f\n", a / b; else print "-" }'
}

# calc FORMAT EXPRESSION (awk, over numbers only).
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# ---------------------------------------------------------------------------------------------
# Main.

check_tools() {
  local tool
  for tool in "$BIN/sftp-export" "$BIN/delay-proxy"; do
    [[ -x $tool ]] || { log "missing $tool: build first (make build)"; exit 1; }
  done
  command -v sshfs >/dev/null || { log "sshfs is not installed"; exit 1; }
  [[ -x $SFTP_SERVER ]] || { log "openssh-sftp-server is not installed"; exit 1; }
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

# Decides whether the rclone column runs: starts sshd (and its delay-proxy when a link row
# runs), mounts once. Sets RCLONE_NOTE (a loud line when skipped) and SSH_CIPHER.
probe_rclone() {
  RCLONE_NOTE="" SSH_CIPHER=unknown SKIP_REASON=""
  if [[ $WANT_RCLONE == 0 ]]; then
    SKIP_REASON="BENCH_RCLONE=0"
  elif ! command -v rclone >/dev/null; then
    SKIP_REASON="rclone is not installed (Debian package rclone; scripts/install-deps.sh)"
  elif [[ ! -x $SSHD ]]; then
    SKIP_REASON="no $SSHD (Debian package openssh-server; scripts/install-deps.sh)"
  elif ! command -v ssh-keygen >/dev/null; then
    SKIP_REASON="ssh-keygen is not installed (Debian package openssh-client)"
  elif start_sshd; then
    if [[ " ${WORKLOADS[*]} " == *" delayed_"* ]]; then
      start_delay_proxy delay-proxy-ssh "${SERVER_PORT[ssh]}" &&
        SERVER_PORT[ssh_link]=$LISTENER_PORT
    fi
    if mount_client rclone "${SERVER_PORT[ssh]}"; then
      unmount_client rclone
      SSH_CIPHER=$(sed -n 's/.*kex: client->server cipher: \([^ ]*\).*/\1/p' "$WORK/sshd.log" |
        head -n 1)
      return 0
    fi
    SKIP_REASON="\`rclone mount\` over the bench's sshd failed (log above)"
  fi
  RCLONE_NOTE="*** rclone column SKIPPED: $SKIP_REASON ***"
  return 1
}

# The link's plain-TCP ceiling: the best of two GETs of DELAY_READ_MIB from echo-server through
# a delay-proxy like the one in front of the SFTP servers. Sets CEILING_MBPS and CEILING_NOTE.
measure_ceiling() {
  CEILING_MBPS=-
  [[ -n ${SERVER_PORT[tcp_link]:-} ]] || return 0
  local bytes=$((DELAY_READ_MIB << 20)) try output rates=()
  for try in 1 2; do
    if output=$(curl -sS -o /dev/null --max-time "$RAW_READ_TIMEOUT" -w '%{size_download} %{time_total}' \
      "http://127.0.0.1:${SERVER_PORT[tcp_link]}/bytes/$bytes" 2>&1) &&
      [[ ${output% *} == "$bytes" ]]; then
      rates+=("$(calc '%.1f' "${output% *} / ${output#* } / 1000000")")
    else
      log "ceiling transfer $try failed: $output"
    fi
  done
  if ((${#rates[@]} == 0)); then
    CEILING_NOTE="plain-TCP ceiling: curl through the delay-proxy failed (see above)"
    return 0
  fi
  CEILING_MBPS=$(printf '%s\n' "${rates[@]}" | sort -g | tail -n 1)
  CEILING_NOTE="plain-TCP ceiling over the link: $CEILING_MBPS MB/s (curl GET of $DELAY_READ_MIB MiB from echo-server through a delay-proxy with the same ${DELAY_MS} ms each way, best of ${#rates[@]}, in this run)"
}

ALL_WORKLOADS=(seq_read seq_write ls small_read create find delayed_read delayed_small_read delayed_ls)
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
  [delayed_read]="${RTT_MS} ms RTT: seq read $DELAY_READ_MIB MiB"
  [delayed_small_read]="${RTT_MS} ms RTT: cat $LINK_SMALL_FILES x $((LINK_SMALL_BYTES / 1024)) KiB"
  [delayed_ls]="${RTT_MS} ms RTT: ls -l, $LINK_LIST_ENTRIES entries"
)
# Issue 18's goals against sshfs (the 50 ms RTT rows have theirs in print_goals).
declare -A TARGET=([seq_read]=2 [seq_write]=1.5 [ls]=4 [small_read]=2 [create]=1.5 [find]=1.5)
RAW_LOOPBACK_MBPS=
declare -A RESULT

main() {
  check_tools
  mkdir -p "$ROOT" "$MOUNT_POINT"
  make_test_data
  start_listener sftp-export "$BIN/sftp-export" --root "$ROOT" || exit 1
  SERVER_PORT[sftp]=$LISTENER_PORT
  start_delay_proxy delay-proxy "${SERVER_PORT[sftp]}" || exit 1
  SERVER_PORT[sftp_link]=$LISTENER_PORT
  log "sftp-export on port ${SERVER_PORT[sftp]}, delay-proxy (${DELAY_MS} ms each way) on" \
    "${SERVER_PORT[sftp_link]}"

  local clients=(native sshfs telemount)
  probe_telemount "${SERVER_PORT[sftp]}" || clients=(native sshfs)
  [[ -n $TELEMOUNT_NOTE ]] && log "$TELEMOUNT_NOTE"
  if probe_rclone; then
    clients+=(rclone)
    log "sshd for rclone on port ${SERVER_PORT[ssh]} (cipher $SSH_CIPHER)," \
      "delay-proxy on ${SERVER_PORT[ssh_link]:--}"
  else
    log "$RCLONE_NOTE"
  fi
  CEILING_NOTE="" CEILING_MBPS=-
  if [[ " ${WORKLOADS[*]} " == *" delayed_read "* ]]; then
    start_ceiling_servers
    measure_ceiling
    log "$CEILING_NOTE"
  fi

  local workload client server repeat limit
  for workload in "${WORKLOADS[@]}"; do
    for client in "${clients[@]}"; do
      server=sftp repeat=$REPEAT limit=$CASE_TIMEOUT
      if [[ $client == rclone ]]; then
        server=ssh limit=$RCLONE_TIMEOUT
        ((RCLONE_REPEAT < repeat)) && repeat=$RCLONE_REPEAT
      fi
      if is_link_workload "$workload"; then
        [[ $client == native ]] && continue
        server+=_link
        ((LINK_REPEAT < repeat)) && repeat=$LINK_REPEAT
      fi
      log "${LABEL[$workload]}: $client"
      time_case "$workload" "$client" "${SERVER_PORT[$server]}" "$repeat" "$limit"
      RESULT[$workload,$client]=$CASE_SECONDS
    done
  done

  print_report
}

cache_policy() {
  if [[ $DROP_CACHES_EACH_RUN == 1 ]]; then
    echo "page cache dropped before every run"
  else
    echo "server page cache warm"
  fi
}

raw_sftp_limit() {
  local port=$1 file=$2 label=$3
  if [[ ! -x $BIN/sftp-read-bench ]]; then
    echo "raw SFTP read $label: sftp-read-bench not built"
    return
  fi
  local output status
  output=$(timeout "$RAW_READ_TIMEOUT" "$BIN/sftp-read-bench" 127.0.0.1 "$port" "$file" 2>&1)
  status=$?
  if ((status == 0)); then
    local result
    result=$(grep 'MB/s' <<<"$output" | tail -n 1)
    echo "raw SFTP read $label (sftp-read-bench: no FUSE, 32 x 192 KiB in flight): $result"
    [[ $label == *loopback ]] && RAW_LOOPBACK_MBPS=$(awk '{ print $(NF - 1) }' <<<"$result")
  elif ((status == 124)); then
    echo "raw SFTP read $label: sftp-read-bench did not finish within $RAW_READ_TIMEOUT s"
  else
    echo "raw SFTP read $label: sftp-read-bench failed (status $status): $output"
  fi
}

# Round trips of RTT_MS in SECONDS, divided by COUNT: "x.x", ">x.x" after a timeout, or "-".
round_trips() {
  local seconds=$1 count=$2 limit=$3
  if is_number "$seconds"; then
    calc '%.1f' "$seconds * 1000 / $RTT_MS / $count"
  elif [[ $seconds == timeout ]]; then
    echo ">$(calc '%.1f' "$limit * 1000 / $RTT_MS / $count")"
  else
    echo -
  fi
}

link_rate() {
  local seconds=$1
  if is_number "$seconds"; then calc '%.1f' "($DELAY_READ_MIB * 1048576) / $seconds / 1000000"; else echo -; fi
}

# The round trips `ls -l` of LINK_LIST_ENTRIES needs with plain request-and-answer SFTP: a
# LSTAT for the folder's lookup, OPENDIR, then READDIRs of up to SFTP_READDIR_BATCH names
# ("." and ".." among them) until one answers EOF.
LS_PROTOCOL_ROUND_TRIPS=$((2 + (LINK_LIST_ENTRIES + 2 + SFTP_READDIR_BATCH - 1) / SFTP_READDIR_BATCH + 1))

print_header() {
  local rclone_version sshd_version
  echo
  echo "telemount vs sshfs vs rclone vs native, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
  echo "server: sftp-export running OpenSSH $SFTP_SERVER per connection," \
    "plain TCP on loopback; one fresh mount per run; $(cache_policy)"
  echo "peers, as run:"
  echo "  telemount: \`telemount mount 127.0.0.1:PORT:DIR\`, options $TELEMOUNT_OPTIONS," \
    "plain TCP to sftp-export"
  echo "  sshfs $(sshfs --version 2>&1 | awk '/SSHFS version/ { print $3 }'): options" \
    "$SSHFS_OPTIONS, plain TCP to the same sftp-export"
  if [[ -n $RCLONE_NOTE ]]; then
    echo "  $RCLONE_NOTE"
  else
    rclone_version=$(rclone version 2>/dev/null | awk 'NR == 1 { print $2 }')
    sshd_version=$("$SSHD" -V 2>&1 | awk -F, 'NR == 1 { print $1 }')
    echo "  rclone $rclone_version: \`rclone mount :sftp,...,$RCLONE_SFTP_OPTIONS:DIR" \
      "${RCLONE_MOUNT_OPTIONS[*]}\`, everything else rclone's defaults; over SSH to a local" \
      "sshd ($sshd_version, started by the bench on 127.0.0.1 with keys of its own, sftp" \
      "subsystem the same sftp-server), cipher $SSH_CIPHER (negotiated)"
    echo "  rclone's per-file checksum is ON (its default: after each file read or written" \
      "whole it runs md5sum on the server over SSH and compares; --no-checksum turns it off)"
  fi
  [[ -n $TELEMOUNT_NOTE ]] && echo "$TELEMOUNT_NOTE"
  echo "seconds: median of $REPEAT runs; rclone: $RCLONE_REPEAT run(s), killed after" \
    "$RCLONE_TIMEOUT s (\"timeout\"; others after $CASE_TIMEOUT s); ${RTT_MS} ms RTT rows:" \
    "$LINK_REPEAT run(s) each, through delay-proxy (${DELAY_MS} ms each way), sizes cut to bound" \
    "the time"
  echo "speed-up = sshfs s / telemount s, vs_rclone = rclone s / telemount s (>1: telemount" \
    "faster); vs native = native s / telemount s; fail/timeout/-: no figure"
}

print_report() {
  local workload
  print_header
  echo
  printf '%-36s %9s %9s %11s %9s %8s %9s %9s\n' workload native_s sshfs_s telemount_s \
    rclone_s speedup vs_rclone vs_native
  for workload in "${WORKLOADS[@]}"; do
    local native=${RESULT[$workload,native]:--} sshfs=${RESULT[$workload,sshfs]:--}
    local telemount=${RESULT[$workload,telemount]:--} rclone=${RESULT[$workload,rclone]:--}
    printf '%-36s %9s %9s %11s %9s %8s %9s %9s\n' "${LABEL[$workload]}" "$native" "$sshfs" \
      "$telemount" "$rclone" "$(ratio "$sshfs" "$telemount")" "$(ratio "$rclone" "$telemount")" \
      "$(ratio "$native" "$telemount")"
  done
  print_link_table
  if [[ " ${WORKLOADS[*]} " == *" seq_read "* || " ${WORKLOADS[*]} " == *" delayed_read "* ]]; then
    echo
    [[ " ${WORKLOADS[*]} " == *" seq_read "* ]] &&
      raw_sftp_limit "${SERVER_PORT[sftp]}" "$ROOT/big.bin" "$SEQ_READ_MIB MiB, loopback"
    if [[ " ${WORKLOADS[*]} " == *" delayed_read "* ]]; then
      raw_sftp_limit "${SERVER_PORT[sftp_link]}" "$ROOT/delay.bin" \
        "$DELAY_READ_MIB MiB, ${RTT_MS} ms RTT"
      echo "$CEILING_NOTE"
    fi
  fi
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
  # The sequential read against what the server gives a pipelined reader without FUSE.
  local seconds=${RESULT[seq_read,telemount]:-}
  if [[ -n $RAW_LOOPBACK_MBPS && $seconds =~ ^[0-9.]+$ ]]; then
    awk -v mib="$SEQ_READ_MIB" -v s="$seconds" -v raw="$RAW_LOOPBACK_MBPS" 'BEGIN {
      mbps = mib * 1048576 / s / 1e6; share = 100 * mbps / raw
      verdict = share >= 75 ? "MET" : "MISSED"
      printf "target: telemount >= 75 %% of the raw SFTP read on sequential read %d MiB: " \
        "%.0f of %.0f MB/s, %.0f %% %s\n", mib, mbps, raw, share, verdict }'
  fi
  print_goals
}

# Per client on the slow link: MB/s for the bulk read (and its share of the ceiling), round
# trips (seconds / RTT) per file for the small files, in all for `ls -l`.
print_link_table() {
  local workloads=() workload
  for workload in "${WORKLOADS[@]}"; do is_link_workload "$workload" && workloads+=("$workload"); done
  ((${#workloads[@]})) || return 0
  local limit_rclone=$RCLONE_TIMEOUT
  echo
  printf '%-50s %9s %11s %9s\n' "${RTT_MS} ms RTT, per client" sshfs telemount rclone
  for workload in "${workloads[@]}"; do
    local s=${RESULT[$workload,sshfs]:--} t=${RESULT[$workload,telemount]:--}
    local r=${RESULT[$workload,rclone]:--}
    case $workload in
      delayed_read)
        printf '%-50s %9s %11s %9s\n' "seq read $DELAY_READ_MIB MiB: MB/s" "$(link_rate "$s")" \
          "$(link_rate "$t")" "$(link_rate "$r")"
        local shares=() rate
        for rate in "$(link_rate "$s")" "$(link_rate "$t")" "$(link_rate "$r")"; do
          if is_number "$rate" && is_number "$CEILING_MBPS"; then
            shares+=("$(calc '%.0f %%' "100 * $rate / $CEILING_MBPS")")
          else
            shares+=(-)
          fi
        done
        printf '%-50s %9s %11s %9s\n' "  share of the plain-TCP ceiling ($CEILING_MBPS MB/s)" \
          "${shares[@]}"
        ;;
      delayed_small_read)
        printf '%-50s %9s %11s %9s\n' \
          "cat $LINK_SMALL_FILES files: round trips per file" \
          "$(round_trips "$s" "$LINK_SMALL_FILES" "$CASE_TIMEOUT")" \
          "$(round_trips "$t" "$LINK_SMALL_FILES" "$CASE_TIMEOUT")" \
          "$(round_trips "$r" "$LINK_SMALL_FILES" "$limit_rclone")"
        ;;
      delayed_ls)
        printf '%-50s %9s %11s %9s\n' \
          "ls -l $LINK_LIST_ENTRIES: round trips (protocol: $LS_PROTOCOL_ROUND_TRIPS)" \
          "$(round_trips "$s" 1 "$CASE_TIMEOUT")" "$(round_trips "$t" 1 "$CASE_TIMEOUT")" \
          "$(round_trips "$r" 1 "$limit_rclone")"
        ;;
    esac
  done
}

# goal_line DESCRIPTION VALUE UNIT OPERATOR BOUND: "goal: DESCRIPTION: VALUE+UNIT met|not met".
goal_line() {
  local description=$1 value=$2 unit=$3 operator=$4 bound=$5 verdict
  if [[ $value == '>'* && $operator == '<'* ]]; then
    verdict="not met"  # a timeout: more than the bound whatever it would have been
  elif ! is_number "$value"; then
    verdict="NOT MEASURED"
  elif awk -v v="$value" -v b="$bound" "BEGIN { exit !(v $operator b) }"; then
    verdict=met
  else
    verdict="not met"
  fi
  echo "goal: $description: $value$unit $verdict"
}

# Issue 18's goals for the 50 ms RTT rows.
print_goals() {
  local telemount sshfs
  if [[ " ${WORKLOADS[*]} " == *" delayed_read "* ]]; then
    telemount=${RESULT[delayed_read,telemount]:--} sshfs=${RESULT[delayed_read,sshfs]:--}
    goal_line "telemount >= 20x sshfs on ${LABEL[delayed_read]}" \
      "$(ratio "$sshfs" "$telemount")" x '>=' 20
    local rate share=-
    rate=$(link_rate "$telemount")
    is_number "$rate" && is_number "$CEILING_MBPS" &&
      share=$(calc '%.0f' "100 * $rate / $CEILING_MBPS")
    goal_line "telemount >= 85 % of the plain-TCP ceiling on ${LABEL[delayed_read]} ($rate of $CEILING_MBPS MB/s)" \
      "$share" ' %' '>=' 85
  fi
  if [[ " ${WORKLOADS[*]} " == *" delayed_small_read "* ]]; then
    telemount=${RESULT[delayed_small_read,telemount]:--} sshfs=${RESULT[delayed_small_read,sshfs]:--}
    goal_line "telemount >= 2x sshfs on ${LABEL[delayed_small_read]}" \
      "$(ratio "$sshfs" "$telemount")" x '>=' 2
    goal_line "telemount <= 1.5 round trips per file on ${LABEL[delayed_small_read]}" \
      "$(round_trips "$telemount" "$LINK_SMALL_FILES" "$CASE_TIMEOUT")" '' '<=' 1.5
  fi
  if [[ " ${WORKLOADS[*]} " == *" delayed_ls "* ]]; then
    telemount=${RESULT[delayed_ls,telemount]:--}
    goal_line "telemount ${LABEL[delayed_ls]} in <= $LS_PROTOCOL_ROUND_TRIPS round trips, what SFTP needs one request at a time (LSTAT, OPENDIR, READDIRs of <= $SFTP_READDIR_BATCH names with . and .. until EOF; 3 with the READDIRs pipelined; +0.5 allowed for local work)" \
      "$(round_trips "$telemount" 1 "$CASE_TIMEOUT")" '' '<' "$LS_PROTOCOL_ROUND_TRIPS.5"
  fi
}

main
