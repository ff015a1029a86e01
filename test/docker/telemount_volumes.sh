#!/usr/bin/env bash
# End-to-end test of the telemount managed plugin: volumes of a host-side sftp-export server are
# created, read and written from containers, listed, shared per endpoint and removed; bad options
# and unreachable servers fail `docker volume create` with a message the user sees.
#
# usage: test/docker/telemount_volumes.sh BUILD_DIR   (after `make plugins`)
# shellcheck source=test/docker/lib.sh
source "$(dirname "$0")/lib.sh"

require_plugin
require_busybox_image
make_export_folder data
make_export_folder logs
data=$TP_EXPORT_ROOT/data
logs=$TP_EXPORT_ROOT/logs
echo "remote content $TP_PREFIX" >"$data/file"
# Made before any container looks at the folder: a file made on the server by someone else shows
# in the mount within the listing time (1 s; see README), and this one is about modes.
printf 'for root only\n' >"$data/private"
chmod 600 "$data/private"
echo "log line" >"$logs/app.log"
start_sftp_export server
echo "sftp-export on 127.0.0.1:$SFTP_PORT exporting /; test prefix $TP_PREFIX"
endpoint=(host=127.0.0.1 "port=$SFTP_PORT" "container=$TP_PREFIX")  # for create_volume
endpoint_flags=(-o host=127.0.0.1 -o "port=$SFTP_PORT" -o "container=$TP_PREFIX")
vol=$TP_PREFIX-data

heading "create, read, write"
if create_volume "$vol" "${endpoint[@]}" dir=data; then
  pass "docker volume create -d telemount $vol"
else
  die "docker volume create of $vol failed"
fi
check_output "docker volume ls lists the volume" "$vol" docker volume ls
check_output "docker volume inspect shows the remote folder" "/tel_app_exports/$TP_PREFIX/data" \
  docker volume inspect "$vol"
check_output "a container reads a remote file" "remote content $TP_PREFIX" \
  docker run --rm -v "$vol:/data" tp-busybox:latest cat /data/file
check "a container writes a file" \
  docker run --rm -v "$vol:/data" tp-busybox:latest sh -c 'echo from-container >/data/written'
check_output "the write landed in the server's folder" "from-container" cat "$data/written"
check "a container makes a folder and renames a file" docker run --rm -v "$vol:/data" \
  tp-busybox:latest sh -c 'mkdir /data/sub && mv /data/written /data/sub/moved'
check_equal "the rename landed on the server" "from-container" "$(cat "$data/sub/moved" 2>&1)"
echo "changed on the server" >"$data/file"
check_output "a new container sees a change made on the server" "changed on the server" \
  docker run --rm -v "$vol:/data" tp-busybox:latest cat /data/file

heading "the kernel checks the files' modes for every container user (default_permissions)"
# The server runs as root here: without the kernel's check any user in a container would get
# root's rights on the server.
check_output "root in a container reads a file of mode 0600" "for root only" \
  docker run --rm -v "$vol:/data" tp-busybox:latest cat /data/private
check_output "user 1000 in a container is refused it" "Permission denied" \
  docker run --rm --user 1000 -v "$vol:/data" tp-busybox:latest sh -c 'cat /data/private 2>&1; true'
check_output "and reads a file of mode 0644" "changed on the server" \
  docker run --rm --user 1000 -v "$vol:/data" tp-busybox:latest cat /data/file
rm -f "$data/private"

heading "a link on the server never makes dockerd mount a host folder"
# The server's folder holds a link to "/". dockerd resolves a volume's Mountpoint on the host: if
# that path went through the link, the container would get the host's root, read-write.
ln -s / "$data/escape"
if create_volume "$TP_PREFIX-escape" "${endpoint[@]}" dir=data/escape; then
  pass "a volume on a folder that is a link to / is created (the server resolves it)"
  check_output "its Mountpoint is a folder of the FUSE mount, not a host folder" "fuse.telemount" \
    docker run --rm -v "$TP_PREFIX-escape:/data" tp-busybox:latest \
    grep -F " /data " /proc/self/mountinfo
  # The plugin reports its own view (/mnt/volumes/...); dockerd resolves the same path under the
  # plugin's propagated mount on the host.
  mountpoint=$(docker volume inspect -f '{{.Mountpoint}}' "$TP_PREFIX-escape")
  plugin_id=$(docker plugin inspect -f '{{.Id}}' "$TP_PLUGIN")
  host_path=/var/lib/docker/plugins/$plugin_id/propagated-mount/${mountpoint#/mnt/volumes/}
  check_equal "which dockerd resolves to itself: a folder of the FUSE mount, no link on the way" \
    "$host_path" "$(realpath "$host_path" 2>&1)"
  check_equal "and that folder is on the FUSE mount" "fuseblk-or-fuse" \
    "$(stat -f -c %T "$host_path" | sed -E 's/^fuse(blk)?$/fuseblk-or-fuse/')"
else
  fail "docker volume create of $TP_PREFIX-escape failed"
fi
docker volume rm "$TP_PREFIX-escape" >/dev/null  # the endpoint's last-volume check comes later
rm -f "$data/escape"

heading "volumes of one server share one mount"
key="127.0.0.1_${SFTP_PORT}_rw"
devices_one=$(plugin_mount_devices "$key" | wc -l)
check_equal "one FUSE mount for the endpoint after the first volume" 1 "$devices_one"
if create_volume "$TP_PREFIX-logs" "${endpoint[@]}" dir=logs; then
  pass "a second volume on the same server is created"
else
  fail "docker volume create of $TP_PREFIX-logs failed"
fi
check_equal "still one FUSE mount for the endpoint with two volumes" 1 \
  "$(plugin_mount_devices "$key" | wc -l)"
check_output "both volumes in one container" "log line" docker run --rm -v "$vol:/data" \
  -v "$TP_PREFIX-logs:/logs" tp-busybox:latest sh -c 'cat /logs/app.log && ls /data/file'

heading "read-only volume"
if create_volume "$TP_PREFIX-ro" "${endpoint[@]}" dir=data ro=true; then
  pass "a read-only volume is created"
  check_output "a read-only volume reads" "changed on the server" \
    docker run --rm -v "$TP_PREFIX-ro:/data" tp-busybox:latest cat /data/file
  check_fails "a read-only volume refuses writes" "Read-only file system" \
    docker run --rm -v "$TP_PREFIX-ro:/data" tp-busybox:latest sh -c 'echo x >/data/nope'
  check_equal "read-only volumes get their own mount" 1 \
    "$(plugin_mount_devices "127.0.0.1_${SFTP_PORT}_ro" | wc -l)"
else
  fail "docker volume create of a read-only volume failed"
fi

heading "bad options fail docker volume create with the driver's message"
check_fails "port=0" 'option "port" must be an integer from 1 to 65535' \
  docker volume create -d telemount -o host=127.0.0.1 -o port=0 -o "container=$TP_PREFIX" \
  "$TP_PREFIX-bad1"
check_fails "port=abc" 'option "port" must be an integer from 1 to 65535, got "abc"' \
  docker volume create -d telemount -o host=127.0.0.1 -o port=abc -o "container=$TP_PREFIX" \
  "$TP_PREFIX-bad2"
check_fails "missing container" 'missing required option "container"' \
  docker volume create -d telemount -o host=127.0.0.1 -o "port=$SFTP_PORT" "$TP_PREFIX-bad3"
check_fails "unknown option foo=1" 'unknown option "foo"' \
  docker volume create -d telemount "${endpoint_flags[@]}" -o foo=1 "$TP_PREFIX-bad4"
check_fails "dir=../.." 'option "dir" must not contain a ".." component' \
  docker volume create -d telemount "${endpoint_flags[@]}" -o dir=../.. "$TP_PREFIX-bad5"
check_fails "container=.." 'option "container"' \
  docker volume create -d telemount -o host=127.0.0.1 -o "port=$SFTP_PORT" -o container=.. \
  "$TP_PREFIX-bad6"
check_fails "a missing remote folder" "no such folder /tel_app_exports/$TP_PREFIX/missing" \
  docker volume create -d telemount "${endpoint_flags[@]}" -o dir=missing "$TP_PREFIX-bad7"
closed=$(closed_port)
check_fails "an unreachable server (closed port $closed)" "cannot connect to 127.0.0.1:$closed" \
  docker volume create -d telemount -o host=127.0.0.1 -o "port=$closed" \
  -o "container=$TP_PREFIX" "$TP_PREFIX-bad8"
leftovers=$(docker volume ls -q | grep -c "^$TP_PREFIX-bad")
check_equal "failed creates leave no volume behind" 0 "$leftovers"
check_equal "a failed create leaves no mount behind" 0 \
  "$(plugin_mount_devices "127.0.0.1_${closed}_rw" | wc -l)"

heading "malformed requests on the plugin's socket get an Err and the plugin keeps serving"
socket=/run/docker/plugins/$(docker plugin inspect -f '{{.Id}}' "$TP_PLUGIN")/telemount.sock
post() { curl -s --max-time 5 --unix-socket "$socket" -X POST --data "$2" "http://plugin/$1"; }
check_equal "a body that is not JSON" true \
  "$(post VolumeDriver.Create '{not json' | grep -q '"Err":"' && echo true)"
check_equal "a Name that is not a string" true \
  "$(post VolumeDriver.Create '{"Name":42}' | grep -q '"Err":".*Name' && echo true)"
check_equal "Opts that are not an object" true \
  "$(post VolumeDriver.Create '{"Name":"x","Opts":[1]}' | grep -q '"Err":"' && echo true)"
check_equal "Mount of an unknown volume" true \
  "$(post VolumeDriver.Mount '{"Name":"no-such-volume","ID":"1"}' | grep -q '"Err":"' && echo true)"
check_output "the plugin still lists the volumes after all that" "$vol" post VolumeDriver.List '{}'

heading "a server on IPv6 loopback"
ipv4_port=$SFTP_PORT
start_sftp_export server6 "[::1]:0"
vol6=$TP_PREFIX-six
if create_volume "$vol6" host=::1 "port=$SFTP_PORT" "container=$TP_PREFIX" dir=data; then
  pass "a volume of a server at ::1 is created"
  check_output "a container reads a remote file over IPv6" "changed on the server" \
    docker run --rm -v "$vol6:/data" tp-busybox:latest cat /data/file
  check "and writes one" \
    docker run --rm -v "$vol6:/data" tp-busybox:latest sh -c 'echo six >/data/from-six'
  check_output "which lands on the server" "six" cat "$data/from-six"
  check "docker volume rm of the IPv6 volume" docker volume rm "$vol6"
else
  fail "docker volume create of a volume at host=::1 failed"
fi
rm -f "$data/from-six"
SFTP_PORT=$ipv4_port

heading "remove"
container=$TP_PREFIX-user
defer docker rm -f "$container"
docker run -d --name "$container" -v "$vol:/data" tp-busybox:latest sleep 600 >/dev/null
check_fails "a volume in use cannot be removed" "in use" docker volume rm "$vol"
docker rm -f "$container" >/dev/null
check "docker volume rm" docker volume rm "$vol" "$TP_PREFIX-logs"
if volume_listed "$vol"; then fail "the removed volume is still listed"; else pass "the removed volume is gone from docker volume ls"; fi
check_equal "the shared mount is gone with its last volume" 0 \
  "$(plugin_mount_devices "$key" | wc -l)"
check_output "the server's files are untouched by docker volume rm" "changed on the server" \
  cat "$data/file"
