#include "teleroute/netlink_os.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "common/netlink.h"
#include "net/unique_fd.h"

namespace tp::teleroute {
namespace {

[[noreturn]] void ThrowNl(const std::string& what, int error) {
  throw std::runtime_error(what + ": " + nl_geterror(error));
}

NlSocketPtr ConnectRouteSocket() {
  NlSocketPtr socket(nl_socket_alloc());
  if (!socket) throw std::runtime_error("cannot allocate a netlink socket");
  if (int error = nl_connect(socket.get(), NETLINK_ROUTE); error < 0) {
    ThrowNl("cannot open a route netlink socket", error);
  }
  return socket;
}

bool IsNamespaceFile(int fd) {
  struct statfs info {};
  return ::fstatfs(fd, &info) == 0 && info.f_type == NSFS_MAGIC;
}

// The root folder of dockerd as it sees it ("/proc/PID/root"), or "" when no dockerd process is
// visible (the plugin shares the host's process namespace: "pidhost"). Only a process of root's
// counts: any user can name a process "dockerd", and its view of the file system must not decide
// which namespace file the plugin opens.
std::string DockerdRoot() {
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    struct stat owner {};
    if (::stat(entry.path().c_str(), &owner) != 0 || owner.st_uid != 0) continue;
    std::ifstream comm(entry.path() / "comm");
    std::string command;
    if (std::getline(comm, command) && command == "dockerd") return entry.path().string() + "/root";
  }
  return "";
}

// Opens a sandbox key. dockerd mounts each one on a file of /var/run/docker/netns; the plugin
// sees the mounts made after it started only when that folder's mounts propagate to it (a
// host whose root mount is shared). Else it reaches the mount through dockerd's own view of
// the file system, /proc/PID/root, which needs the host's process namespace ("pidhost") and
// CAP_SYS_PTRACE (dockerd has more capabilities than the plugin).
UniqueFd OpenNamespace(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.Valid() && IsNamespaceFile(fd.Get())) return fd;
  const std::string root = DockerdRoot();
  // An absolute symbolic link met on the way (/var/run -> /run on most hosts) would lead back
  // into this process's own root, so the usual one is resolved here.
  const std::string var_run = "/var/run/";
  const std::string resolved =
      path.starts_with(var_run) ? "/run/" + path.substr(var_run.size()) : path;
  for (const std::string& candidate : {resolved, path}) {
    if (root.empty()) break;
    UniqueFd dockerd_view(::open((root + candidate).c_str(), O_RDONLY | O_CLOEXEC));
    if (dockerd_view.Valid() && IsNamespaceFile(dockerd_view.Get())) return dockerd_view;
  }
  throw std::runtime_error("cannot open network namespace " + path +
                           (root.empty() ? " (and no dockerd process is visible)"
                                         : " (nor as " + root + resolved + ")"));
}

// A route netlink socket bound to the network namespace `netns_fd`: a thread of its own enters
// the namespace and opens it (a socket keeps the namespace it was created in), then ends.
NlSocketPtr ConnectRouteSocketIn(int netns_fd, const std::string& description) {
  NlSocketPtr socket;
  std::string error;
  std::thread opener([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      error = "cannot enter network namespace " + description + ": " + std::strerror(errno);
      return;
    }
    try {
      socket = ConnectRouteSocket();
    } catch (const std::exception& failure) {
      error = failure.what();
    }
  });
  opener.join();
  if (!error.empty()) throw std::runtime_error(error);
  return socket;
}

NlAddrPtr ParseNlAddr(const std::string& text, int family = AF_INET) {
  nl_addr* parsed = nullptr;
  if (int error = nl_addr_parse(text.c_str(), family, &parsed); error < 0) {
    ThrowNl("bad address " + text, error);
  }
  return NlAddrPtr(parsed);
}

// The link named `name`, or nullptr when there is none.
RtnlLinkPtr FindLink(nl_sock* socket, const std::string& name) {
  rtnl_link* link = nullptr;
  const int error = rtnl_link_get_kernel(socket, 0, name.c_str(), &link);
  if (error == -NLE_OBJ_NOTFOUND || error == -NLE_NODEV) return nullptr;
  if (error < 0) ThrowNl("cannot look up link " + name, error);
  return RtnlLinkPtr(link);
}

RtnlLinkPtr RequireLink(nl_sock* socket, const std::string& name) {
  RtnlLinkPtr link = FindLink(socket, name);
  if (!link) throw std::runtime_error("link " + name + " does not exist");
  return link;
}

// Sets `link` up and, when master_index > 0, attaches it to that bridge.
void SetUp(nl_sock* socket, rtnl_link* link, int master_index) {
  RtnlLinkPtr change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (master_index > 0) rtnl_link_set_master(change.get(), master_index);
  if (int error = rtnl_link_change(socket, link, change.get(), 0); error < 0) {
    ThrowNl(std::string("cannot set up link ") + rtnl_link_get_name(link), error);
  }
}

// Adds `address` ("10.1.0.1/24", "fd00::1/64") of `family` to `link` unless it has it. An IPv6
// address skips duplicate address detection: it is the bridge's own, and is never tentative.
void AddAddress(nl_sock* socket, rtnl_link* link, int family, const std::string& address,
                int prefix_length) {
  RtnlAddrPtr entry(rtnl_addr_alloc());
  NlAddrPtr local = ParseNlAddr(address, family);
  rtnl_addr_set_ifindex(entry.get(), rtnl_link_get_ifindex(link));
  rtnl_addr_set_family(entry.get(), family);
  if (int error = rtnl_addr_set_local(entry.get(), local.get()); error < 0) {
    ThrowNl("bad address " + address, error);
  }
  rtnl_addr_set_prefixlen(entry.get(), prefix_length);
  if (family == AF_INET6) rtnl_addr_set_flags(entry.get(), IFA_F_NODAD);
  const int error = rtnl_addr_add(socket, entry.get(), 0);
  if (error == -NLE_EXIST) return;
  if (error < 0) {
    ThrowNl("cannot add address " + address + " to " + rtnl_link_get_name(link), error);
  }
}

// A main-table unicast route of `family` to `destination` ("10.96.0.0/12") via `next_hop`.
RtnlRoutePtr MakeRoute(int family, const std::string& destination, const std::string& next_hop,
                       uint8_t protocol) {
  RtnlRoutePtr route(rtnl_route_alloc());
  rtnl_route_set_family(route.get(), family);
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_route_set_protocol(route.get(), protocol);
  NlAddrPtr dst = ParseNlAddr(destination, family);
  if (int error = rtnl_route_set_dst(route.get(), dst.get()); error < 0) {
    ThrowNl("bad destination " + destination, error);
  }
  NlAddrPtr gateway = ParseNlAddr(next_hop, family);
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  if (!hop) throw std::runtime_error("cannot allocate a route next hop");
  rtnl_route_nh_set_gateway(hop, gateway.get());
  rtnl_route_add_nexthop(route.get(), hop);  // the route owns the hop from here on
  return route;
}

std::string AddrText(nl_addr* address) {
  char text[64];
  return nl_addr2str(address, text, sizeof(text));
}

}  // namespace

bool NetlinkNetworkOs::LinkExists(const std::string& name) {
  NlSocketPtr socket = ConnectRouteSocket();
  return FindLink(socket.get(), name) != nullptr;
}

void NetlinkNetworkOs::EnsureBridge(const std::string& name, const Ipv4Prefix& address,
                                    const std::optional<Ipv6Prefix>& address6) {
  NlSocketPtr socket = ConnectRouteSocket();
  RtnlLinkPtr bridge = FindLink(socket.get(), name);
  if (!bridge) {
    if (int error = rtnl_link_bridge_add(socket.get(), name.c_str()); error < 0) {
      ThrowNl("cannot create bridge " + name, error);
    }
    bridge = RequireLink(socket.get(), name);
  } else if (!rtnl_link_is_bridge(bridge.get())) {
    throw std::runtime_error("link " + name + " exists and is not a bridge");
  }
  AddAddress(socket.get(), bridge.get(), AF_INET, address.ToString(), address.length);
  if (address6) {
    AddAddress(socket.get(), bridge.get(), AF_INET6, address6->Address().ToString(),
               address6->length);
  }
  SetUp(socket.get(), bridge.get(), 0);
}

void NetlinkNetworkOs::EnsureVethPair(const std::string& host_name,
                                      const std::string& container_name,
                                      const std::string& bridge_name) {
  NlSocketPtr socket = ConnectRouteSocket();
  RtnlLinkPtr bridge = RequireLink(socket.get(), bridge_name);
  RtnlLinkPtr host = FindLink(socket.get(), host_name);
  if (!host) {
    RtnlVethLinkPtr veth(rtnl_link_veth_alloc());
    if (!veth) throw std::runtime_error("cannot allocate a veth link");
    rtnl_link_set_name(veth.get(), host_name.c_str());
    RtnlLinkPtr peer(rtnl_link_veth_get_peer(veth.get()));  // get_peer takes a reference
    rtnl_link_set_name(peer.get(), container_name.c_str());
    const int error = rtnl_link_add(socket.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (error < 0) ThrowNl("cannot create veth pair " + host_name + "/" + container_name, error);
    host = RequireLink(socket.get(), host_name);
  }
  SetUp(socket.get(), host.get(), rtnl_link_get_ifindex(bridge.get()));
}

void NetlinkNetworkOs::DeleteLink(const std::string& name) {
  NlSocketPtr socket = ConnectRouteSocket();
  RtnlLinkPtr link = FindLink(socket.get(), name);
  if (!link) return;
  const int error = rtnl_link_delete(socket.get(), link.get());
  if (error < 0 && error != -NLE_OBJ_NOTFOUND && error != -NLE_NODEV) {
    ThrowNl("cannot delete link " + name, error);
  }
}

namespace {

// Adds (or replaces) `destination via next_hop` of `family` in the namespace at `netns_path`.
void AddRouteIn(const std::string& netns_path, int family, const std::string& destination,
                const std::string& next_hop) {
  UniqueFd netns = OpenNamespace(netns_path);
  NlSocketPtr socket = ConnectRouteSocketIn(netns.Get(), netns_path);
  RtnlRoutePtr route = MakeRoute(family, destination, next_hop, RTPROT_STATIC);
  if (int error = rtnl_route_add(socket.get(), route.get(), NLM_F_REPLACE); error < 0) {
    ThrowNl("cannot add route " + destination + " via " + next_hop + " in " + netns_path, error);
  }
}

void RemoveRouteIn(const std::string& netns_path, int family, const std::string& destination,
                   const std::string& next_hop) {
  UniqueFd netns = OpenNamespace(netns_path);
  NlSocketPtr socket = ConnectRouteSocketIn(netns.Get(), netns_path);
  // Protocol 0 matches any: dockerd adds Join's static routes with its own protocol number.
  RtnlRoutePtr route = MakeRoute(family, destination, next_hop, RTPROT_UNSPEC);
  const int error = rtnl_route_delete(socket.get(), route.get(), 0);
  if (error == -NLE_OBJ_NOTFOUND || error == -NLE_NOADDR) return;
  if (error < 0) {
    ThrowNl("cannot remove route " + destination + " via " + next_hop + " in " + netns_path, error);
  }
}

// The main-table unicast routes of `family` in the namespace at `netns_path`, as destination
// text with its length ("10.96.0.0/12", "::/0") and gateway text ("" when none).
std::vector<std::pair<std::string, std::string>> ListRoutesIn(const std::string& netns_path,
                                                              int family) {
  UniqueFd netns = OpenNamespace(netns_path);
  NlSocketPtr socket = ConnectRouteSocketIn(netns.Get(), netns_path);
  nl_cache* raw_cache = nullptr;
  if (int error = rtnl_route_alloc_cache(socket.get(), family, 0, &raw_cache); error < 0) {
    ThrowNl("cannot list routes in " + netns_path, error);
  }
  NlCachePtr cache(raw_cache);
  const std::string any = family == AF_INET ? "0.0.0.0/0" : "::/0";
  const std::string host_length = family == AF_INET ? "/32" : "/128";
  std::vector<std::pair<std::string, std::string>> routes;
  for (nl_object* object = nl_cache_get_first(cache.get()); object;
       object = nl_cache_get_next(object)) {
    auto* route = reinterpret_cast<rtnl_route*>(object);
    if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_type(route) != RTN_UNICAST) {
      continue;
    }
    nl_addr* dst = rtnl_route_get_dst(route);
    std::string dst_text = AddrText(dst);
    if (nl_addr_get_prefixlen(dst) == 0) dst_text = any;
    if (dst_text.find('/') == std::string::npos) dst_text += host_length;
    std::string gateway;
    if (rtnl_route_get_nnexthops(route) > 0) {
      nl_addr* hop = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(route, 0));
      if (hop) gateway = AddrText(hop);
    }
    routes.emplace_back(dst_text, gateway);
  }
  return routes;
}

}  // namespace

void NetlinkNetworkOs::AddRoute(const std::string& netns_path, const Ipv4Prefix& destination,
                                Ipv4Address next_hop) {
  AddRouteIn(netns_path, AF_INET, destination.ToString(), next_hop.ToString());
}

void NetlinkNetworkOs::RemoveRoute(const std::string& netns_path, const Ipv4Prefix& destination,
                                   Ipv4Address next_hop) {
  RemoveRouteIn(netns_path, AF_INET, destination.ToString(), next_hop.ToString());
}

std::vector<RouteEntry> NetlinkNetworkOs::ListRoutes(const std::string& netns_path) {
  std::vector<RouteEntry> routes;
  for (const auto& [destination, gateway] : ListRoutesIn(netns_path, AF_INET)) {
    if (std::optional<Ipv4Prefix> prefix = ParseIpv4Prefix(destination)) {
      routes.push_back({*prefix, gateway});
    }
  }
  return routes;
}

void NetlinkNetworkOs::AddRoute(const std::string& netns_path, const Ipv6Prefix& destination,
                                const Ipv6Address& next_hop) {
  AddRouteIn(netns_path, AF_INET6, destination.ToString(), next_hop.ToString());
}

void NetlinkNetworkOs::RemoveRoute(const std::string& netns_path, const Ipv6Prefix& destination,
                                   const Ipv6Address& next_hop) {
  RemoveRouteIn(netns_path, AF_INET6, destination.ToString(), next_hop.ToString());
}

std::vector<Route6Entry> NetlinkNetworkOs::ListRoutes6(const std::string& netns_path) {
  std::vector<Route6Entry> routes;
  for (const auto& [destination, gateway] : ListRoutesIn(netns_path, AF_INET6)) {
    if (std::optional<Ipv6Prefix> prefix = ParseIpv6Prefix(destination)) {
      routes.push_back({*prefix, gateway});
    }
  }
  return routes;
}

}  // namespace tp::teleroute
