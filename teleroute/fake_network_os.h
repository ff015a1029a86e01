// FakeNetworkOs: NetworkOs in memory, for the driver's unit tests. Links, forwarding rules and
// routes are plain tables the tests read; the namespace "fail_namespace" fails every route call.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "teleroute/network_os.h"

namespace tp::teleroute {

class FakeNetworkOs : public NetworkOs {
 public:
  bool LinkExists(const std::string& name) override { return links.count(name) > 0; }
  void EnsureBridge(const std::string& name, const Ipv4Prefix& address,
                    const std::optional<Ipv6Prefix>& address6) override {
    links[name] = "bridge " + address.ToString() + (address6 ? " " + address6->ToString() : "");
  }
  void EnsureVethPair(const std::string& host, const std::string& container,
                      const std::string& bridge) override {
    if (!links.count(bridge)) throw std::runtime_error("link " + bridge + " does not exist");
    links[host] = "veth on " + bridge;
    links[container] = "veth peer";
  }
  void DeleteLink(const std::string& name) override {
    links.erase(name);
    if (name.starts_with("trv")) links.erase("trc" + name.substr(3));
  }
  void AllowBridgeForwarding(const std::string& bridge) override { forwarding.insert(bridge); }
  void RevokeBridgeForwarding(const std::string& bridge) override { forwarding.erase(bridge); }
  void AddRoute(const std::string& netns, const Ipv4Prefix& dst, Ipv4Address hop) override {
    Check(netns);
    routes[netns].insert({dst, hop.ToString()});
  }
  void RemoveRoute(const std::string& netns, const Ipv4Prefix& dst, Ipv4Address hop) override {
    Check(netns);
    routes[netns].erase({dst, hop.ToString()});
  }
  std::vector<RouteEntry> ListRoutes(const std::string& netns) override {
    std::vector<RouteEntry> list;
    for (const auto& [dst, hop] : routes[netns]) list.push_back({dst, hop});
    return list;
  }

  void AddRoute(const std::string& netns, const Ipv6Prefix& dst, const Ipv6Address& hop) override {
    Check(netns);
    routes6[netns].insert({dst, hop.ToString()});
  }
  void RemoveRoute(const std::string& netns, const Ipv6Prefix& dst,
                   const Ipv6Address& hop) override {
    Check(netns);
    routes6[netns].erase({dst, hop.ToString()});
  }
  std::vector<Route6Entry> ListRoutes6(const std::string& netns) override {
    std::vector<Route6Entry> list;
    for (const auto& [dst, hop] : routes6[netns]) list.push_back({dst, hop});
    return list;
  }

  std::map<std::string, std::string> links;
  std::set<std::string> forwarding;  // bridges whose ports may talk
  std::map<std::string, std::set<std::pair<Ipv4Prefix, std::string>>> routes;
  std::map<std::string, std::set<std::pair<Ipv6Prefix, std::string>>> routes6;

 private:
  void Check(const std::string& netns) {
    if (netns == "fail_namespace") throw std::runtime_error("cannot open network namespace");
  }
};

}  // namespace tp::teleroute
