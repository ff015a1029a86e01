# shellcheck shell=bash
# The one place the scripts learn the IPv4 gateway of Docker's default bridge network (what the
# containers on it see as their gateway, and where the host is reached from them: 172.17.0.1 on
# most hosts). Source it: `source "$repo/scripts/lib/docker-bridge.sh"`. The C++ side has the same
# rule in cli/docker_network.h (DefaultBridgeGateway); keep the two in step.
#
# Honours DOCKER_HOST like every docker command. An engine's first start leaves the bridge's
# IPAM config without a Gateway ([{"Subnet":"172.17.0.0/16"}]) although the bridge interface has
# its address, so the answer is, in order:
#   1. IPAM.Config[].Gateway, when present;
#   2. the IPv4 address of the bridge interface (com.docker.network.bridge.name, else docker0),
#      when that interface is visible here (the engine runs in this network namespace);
#   3. the first address of the IPAM subnet (what dockerd itself gives the bridge).

# _docker_bridge_first_address CIDR: prints the first host address of an IPv4 CIDR.
_docker_bridge_first_address() {
  local address=${1%/*} length=${1#*/}
  local a b c d
  IFS=. read -r a b c d <<<"$address"
  [[ "$length" =~ ^[0-9]+$ && -n "$d" ]] || return 1
  local value=$(((a << 24) | (b << 16) | (c << 8) | d))
  local mask=$(((0xffffffff << (32 - length)) & 0xffffffff))
  value=$(((value & mask) + 1))
  printf '%d.%d.%d.%d\n' $((value >> 24 & 255)) $((value >> 16 & 255)) $((value >> 8 & 255)) \
    $((value & 255))
}

# docker_bridge_gateway: prints the default bridge's IPv4 gateway; returns 1 (printing nothing)
# when the engine has no default bridge with an IPv4 subnet.
docker_bridge_gateway() {
  local fields gateway='' subnet='' interface=''
  fields=$(docker network inspect bridge -f \
    '{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{"\n"}}{{end}}iface {{index .Options "com.docker.network.bridge.name"}}' \
    2>/dev/null) || return 1
  local ipv4='^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$'
  local ipv4_cidr='^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$'
  local first second
  while read -r first second; do
    if [[ "$first" == iface ]]; then
      interface=${second:-docker0}
    elif [[ "$first" =~ $ipv4 ]]; then
      gateway=${gateway:-$first}
    elif [[ "$first" =~ $ipv4_cidr ]]; then
      subnet=${subnet:-$first}
    fi
    if [[ "$second" =~ $ipv4_cidr ]]; then subnet=${subnet:-$second}; fi
  done <<<"$fields"
  if [[ -n "$gateway" ]]; then
    echo "$gateway"
    return 0
  fi
  [[ -n "$subnet" ]] || return 1
  local address
  address=$(ip -4 -o addr show dev "${interface:-docker0}" 2>/dev/null |
    awk '{ split($4, a, "/"); print a[1]; exit }')
  if [[ -n "$address" ]] && [[ "$(_docker_bridge_in_subnet "$address" "$subnet")" == yes ]]; then
    echo "$address"
    return 0
  fi
  _docker_bridge_first_address "$subnet"
}

# _docker_bridge_in_subnet ADDRESS CIDR: prints yes when ADDRESS lies in CIDR.
_docker_bridge_in_subnet() {
  local network first
  network=$(_docker_bridge_first_address "$2") || return 1
  first=$(_docker_bridge_first_address "$1/${2#*/}") || return 1
  [[ "$network" == "$first" ]] && echo yes || echo no
}
