// Test support for the capture tests: fresh network namespaces and their set-up through libnl.
//
// TestNetworkNamespace is a new, empty network namespace for one test: made by
// unshare(CLONE_NEWNET) on a helper thread and held by a file descriptor, it disappears with the
// object and the last socket in it, so a failing test leaves nothing behind in the machine's own
// namespace. Network namespaces are per thread: Run() runs a function on a new thread inside the
// namespace and waits for it; whatever that function creates (sockets, objects with threads of
// their own) stays in the namespace.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/unique_fd.h"

namespace tp::daemon::testing {

class TestNetworkNamespace {
 public:
  // nullptr with `error` set when namespaces cannot be made here (not root, no CLONE_NEWNET).
  // The loopback interface is up.
  static std::unique_ptr<TestNetworkNamespace> Create(std::string& error);

  // Runs `function` on a thread inside the namespace and waits for it. False when the thread
  // could not enter the namespace (then `function` did not run).
  bool Run(const std::function<void()>& function) const;

  // Set-up, each run inside the namespace; "" or what failed.
  // `address` in CIDR form on interface `device`: "10.201.0.10/32" on "lo".
  std::string AddAddress(const std::string& device, const std::string& address) const;
  // A veth pair whose both ends stay here, both up: packets sent out of `name` arrive on
  // `peer_name` and, with no address for them there, go nowhere. A route into it is a dead end
  // that still lets connect() and sendto() pick a source address.
  std::string AddDeadEndLink(const std::string& name, const std::string& peer_name) const;
  // A veth pair from here (`name`, up) to `other` (`peer_name`, up there).
  std::string AddVethTo(const TestNetworkNamespace& other, const std::string& name,
                        const std::string& peer_name) const;
  // `ip route add NETWORK dev DEVICE`.
  std::string AddRoute(const std::string& network, const std::string& device) const;

 private:
  explicit TestNetworkNamespace(UniqueFd handle) : handle_(std::move(handle)) {}
  // Runs `step` inside the namespace and returns its error text.
  std::string RunStep(const std::function<std::string()>& step) const;

  const UniqueFd handle_;  // /proc/thread-self/ns/net of the creating thread
};

// The nftables ruleset text of `table` in family ip as `nft -n list table` prints it (numbers
// as numbers), or "" when there is no such table; read in the calling thread's namespace by the
// nft command, independently of the code under test.
std::string ListNftTable(const std::string& table, const std::string& family = "ip");
// What `ip -6 route show table main` prints in the calling thread's namespace (the command,
// independently of the code under test); "" when it fails.
std::string ListIpv6MainRoutes();
// Runs `command` (an `ip` command line, say) in the calling thread's namespace: whether it
// succeeded.
bool RunCommand(const std::string& command);
// Runs `commands` (nft's language) with the nft command in the calling thread's namespace, as
// one transaction. Whether nft succeeded.
bool RunNft(const std::string& commands);

// How many `fwmark MARK lookup TABLE` rules and `local 0.0.0.0/0` routes in TABLE the calling
// thread's namespace has (read back through libnl).
int CountMarkRules(uint32_t mark, uint32_t table, int family = AF_INET);
int CountLocalDefaultRoutes(uint32_t table, int family = AF_INET);
// What a crashed run leaves: `fwmark MARK lookup TABLE priority PRIORITY` and the local default
// route in TABLE, added by hand in the calling thread's namespace. "" or what failed.
std::string AddLeftoverMarkRouting(uint32_t mark, uint32_t table, uint32_t priority);

}  // namespace tp::daemon::testing
