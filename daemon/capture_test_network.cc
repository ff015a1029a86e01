#include "daemon/capture_test_network.h"

#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/netlink.h"

namespace tp::daemon::testing {
namespace {

using RtnlAddrPtr = std::unique_ptr<rtnl_addr, NlFree<rtnl_addr, rtnl_addr_put>>;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

NlAddrPtr ParseAddress(const std::string& text, std::string& error) {
  nl_addr* parsed = nullptr;
  if (const int result = nl_addr_parse(text.c_str(), AF_UNSPEC, &parsed); result < 0) {
    error = "bad address " + text + ": " + NlErrorText(result);
    return nullptr;
  }
  return NlAddrPtr(parsed);
}

RtnlLinkPtr GetLink(nl_sock* socket, const std::string& name, std::string& error) {
  rtnl_link* link = nullptr;
  if (const int result = rtnl_link_get_kernel(socket, 0, name.c_str(), &link); result < 0) {
    error = "no interface " + name + ": " + NlErrorText(result);
    return nullptr;
  }
  return RtnlLinkPtr(link);
}

std::string SetUp(nl_sock* socket, const std::string& name) {
  std::string error;
  const RtnlLinkPtr link = GetLink(socket, name, error);
  if (!link) return error;
  const RtnlLinkPtr change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (const int result = rtnl_link_change(socket, link.get(), change.get(), 0); result < 0) {
    return "cannot bring " + name + " up: " + NlErrorText(result);
  }
  return "";
}

// Calls `visit` with every object of `cache`.
template <typename Object, typename Visit>
void ForEach(nl_cache* cache, Visit visit) {
  for (nl_object* object = nl_cache_get_first(cache); object != nullptr;
       object = nl_cache_get_next(object)) {
    visit(reinterpret_cast<Object*>(object));
  }
}

}  // namespace

std::unique_ptr<TestNetworkNamespace> TestNetworkNamespace::Create(std::string& error) {
  UniqueFd handle;
  std::thread creator([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      error = Errno("unshare(CLONE_NEWNET)");
      return;
    }
    handle.Reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!handle.Valid()) error = Errno("open /proc/thread-self/ns/net");
  });
  creator.join();
  if (!handle.Valid()) return nullptr;
  std::unique_ptr<TestNetworkNamespace> network(new TestNetworkNamespace(std::move(handle)));
  error = network->RunStep([] {
    std::string error;
    const NlSocketPtr socket = OpenRouteSocket(error);
    return socket ? SetUp(socket.get(), "lo") : error;
  });
  if (!error.empty()) return nullptr;
  return network;
}

bool TestNetworkNamespace::Run(const std::function<void()>& function) const {
  bool entered = false;
  std::thread runner([&] {
    if (::setns(handle_.Get(), CLONE_NEWNET) != 0) return;
    entered = true;
    function();
  });
  runner.join();
  return entered;
}

std::string TestNetworkNamespace::RunStep(const std::function<std::string()>& step) const {
  std::string error;
  if (!Run([&] { error = step(); })) return Errno("setns");
  return error;
}

std::string TestNetworkNamespace::AddAddress(const std::string& device,
                                             const std::string& address) const {
  return RunStep([&]() -> std::string {
    std::string error;
    const NlSocketPtr socket = OpenRouteSocket(error);
    if (!socket) return error;
    const RtnlLinkPtr link = GetLink(socket.get(), device, error);
    const NlAddrPtr local = ParseAddress(address, error);
    if (!link || !local) return error;
    const RtnlAddrPtr entry(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(entry.get(), rtnl_link_get_ifindex(link.get()));
    rtnl_addr_set_local(entry.get(), local.get());
    // An IPv6 address is usable at once, not tentative while duplicate detection runs.
    if (nl_addr_get_family(local.get()) == AF_INET6) rtnl_addr_set_flags(entry.get(), IFA_F_NODAD);
    if (const int result = rtnl_addr_add(socket.get(), entry.get(), 0); result < 0) {
      return "cannot add " + address + " to " + device + ": " + NlErrorText(result);
    }
    return "";
  });
}

std::string TestNetworkNamespace::AddDeadEndLink(const std::string& name,
                                                 const std::string& peer_name) const {
  return RunStep([&]() -> std::string {
    std::string error;
    const NlSocketPtr socket = OpenRouteSocket(error);
    if (!socket) return error;
    // The peer goes to the namespace of this thread (a thread id names it as well as a pid).
    const pid_t this_thread = static_cast<pid_t>(::syscall(SYS_gettid));
    if (const int result =
            rtnl_link_veth_add(socket.get(), name.c_str(), peer_name.c_str(), this_thread);
        result < 0) {
      return "cannot add veth " + name + ": " + NlErrorText(result);
    }
    error = SetUp(socket.get(), name);
    return error.empty() ? SetUp(socket.get(), peer_name) : error;
  });
}

std::string TestNetworkNamespace::AddVethTo(const TestNetworkNamespace& other,
                                            const std::string& name,
                                            const std::string& peer_name) const {
  const std::string error = RunStep([&]() -> std::string {
    std::string error;
    const NlSocketPtr socket = OpenRouteSocket(error);
    if (!socket) return error;
    const pid_t this_thread = static_cast<pid_t>(::syscall(SYS_gettid));
    if (const int result =
            rtnl_link_veth_add(socket.get(), name.c_str(), peer_name.c_str(), this_thread);
        result < 0) {
      return "cannot add veth " + name + ": " + NlErrorText(result);
    }
    const RtnlLinkPtr peer = GetLink(socket.get(), peer_name, error);
    if (!peer) return error;
    const RtnlLinkPtr move(rtnl_link_alloc());
    rtnl_link_set_ns_fd(move.get(), other.handle_.Get());
    if (const int result = rtnl_link_change(socket.get(), peer.get(), move.get(), 0); result < 0) {
      return "cannot move " + peer_name + ": " + NlErrorText(result);
    }
    return SetUp(socket.get(), name);
  });
  if (!error.empty()) return error;
  return other.RunStep([&]() -> std::string {
    std::string error;
    const NlSocketPtr socket = OpenRouteSocket(error);
    return socket ? SetUp(socket.get(), peer_name) : error;
  });
}

std::string TestNetworkNamespace::AddRoute(const std::string& network,
                                           const std::string& device) const {
  return RunStep([&]() -> std::string {
    std::string error;
    const NlSocketPtr socket = OpenRouteSocket(error);
    if (!socket) return error;
    const RtnlLinkPtr link = GetLink(socket.get(), device, error);
    const NlAddrPtr destination = ParseAddress(network, error);
    if (!link || !destination) return error;
    const RtnlRoutePtr route(rtnl_route_alloc());
    RtnlNexthopPtr next_hop(rtnl_route_nh_alloc());
    rtnl_route_set_family(route.get(), AF_INET);
    rtnl_route_set_dst(route.get(), destination.get());
    rtnl_route_nh_set_ifindex(next_hop.get(), rtnl_link_get_ifindex(link.get()));
    rtnl_route_add_nexthop(route.get(), next_hop.release());
    if (const int result = rtnl_route_add(socket.get(), route.get(), NLM_F_CREATE); result < 0) {
      return "cannot add route " + network + " dev " + device + ": " + NlErrorText(result);
    }
    return "";
  });
}

std::string AddLeftoverMarkRouting(uint32_t mark, uint32_t table, uint32_t priority) {
  std::string error;
  const NlSocketPtr socket = OpenRouteSocket(error);
  if (!socket) return error;
  const RtnlLinkPtr loopback = GetLink(socket.get(), "lo", error);
  const NlAddrPtr any = ParseAddress("0.0.0.0/0", error);
  if (!loopback || !any) return error;
  const RtnlRoutePtr route(rtnl_route_alloc());
  RtnlNexthopPtr next_hop(rtnl_route_nh_alloc());
  rtnl_route_set_family(route.get(), AF_INET);
  rtnl_route_set_table(route.get(), table);
  rtnl_route_set_type(route.get(), RTN_LOCAL);
  rtnl_route_set_scope(route.get(), RT_SCOPE_HOST);
  rtnl_route_set_dst(route.get(), any.get());
  rtnl_route_nh_set_ifindex(next_hop.get(), rtnl_link_get_ifindex(loopback.get()));
  rtnl_route_add_nexthop(route.get(), next_hop.release());
  if (const int result = rtnl_route_add(socket.get(), route.get(), NLM_F_CREATE | NLM_F_REPLACE);
      result < 0) {
    return "cannot add the leftover route: " + NlErrorText(result);
  }
  const RtnlRulePtr rule(rtnl_rule_alloc());
  rtnl_rule_set_family(rule.get(), AF_INET);
  rtnl_rule_set_prio(rule.get(), priority);
  rtnl_rule_set_mark(rule.get(), mark);
  rtnl_rule_set_table(rule.get(), table);
  rtnl_rule_set_action(rule.get(), FR_ACT_TO_TBL);
  if (const int result = rtnl_rule_add(socket.get(), rule.get(), NLM_F_CREATE); result < 0) {
    return "cannot add the leftover rule: " + NlErrorText(result);
  }
  return "";
}

namespace {

// What `command` prints on stdout, run by the shell in the calling thread's namespace; "" when it
// fails.
std::string CommandOutput(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return "";
  std::string output;
  char chunk[4096];
  size_t read = 0;
  while ((read = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) output.append(chunk, read);
  return ::pclose(pipe) == 0 ? output : "";
}

}  // namespace

std::string ListNftTable(const std::string& table, const std::string& family) {
  return CommandOutput("nft -n list table " + family + " " + table);
}

std::string ListIpv6MainRoutes() { return CommandOutput("ip -6 route show table main"); }

bool RunCommand(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

bool RunNft(const std::string& commands) {
  FILE* pipe = ::popen("nft -f - >/dev/null 2>&1", "w");
  if (pipe == nullptr) return false;
  const bool written = std::fwrite(commands.data(), 1, commands.size(), pipe) == commands.size();
  return ::pclose(pipe) == 0 && written;
}

int CountMarkRules(uint32_t mark, uint32_t table, int family) {
  std::string error;
  const NlSocketPtr socket = OpenRouteSocket(error);
  nl_cache* raw_cache = nullptr;
  if (!socket || rtnl_rule_alloc_cache(socket.get(), family, &raw_cache) < 0) return -1;
  const NlCachePtr cache(raw_cache);
  int count = 0;
  ForEach<rtnl_rule>(cache.get(), [&](rtnl_rule* rule) {
    if (rtnl_rule_get_family(rule) == family && rtnl_rule_get_mark(rule) == mark &&
        rtnl_rule_get_table(rule) == table) {
      ++count;
    }
  });
  return count;
}

int CountLocalDefaultRoutes(uint32_t table, int family) {
  std::string error;
  const NlSocketPtr socket = OpenRouteSocket(error);
  nl_cache* raw_cache = nullptr;
  if (!socket || rtnl_route_alloc_cache(socket.get(), family, 0, &raw_cache) < 0) return -1;
  const NlCachePtr cache(raw_cache);
  int count = 0;
  ForEach<rtnl_route>(cache.get(), [&](rtnl_route* route) {
    const nl_addr* destination = rtnl_route_get_dst(route);
    if (rtnl_route_get_family(route) == family && rtnl_route_get_table(route) == table &&
        rtnl_route_get_type(route) == RTN_LOCAL && destination != nullptr &&
        nl_addr_get_prefixlen(destination) == 0) {
      ++count;
    }
  });
  return count;
}

}  // namespace tp::daemon::testing
