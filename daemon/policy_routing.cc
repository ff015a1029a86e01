#include "daemon/policy_routing.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netlink/errno.h>
#include <spdlog/spdlog.h>

#include <array>

namespace tp::daemon {
namespace {

// More copies of our rule than this cannot come from earlier runs of ours.
constexpr int kMaxLeftoverRules = 64;

RtnlRulePtr MarkRule(const PolicyRoutingOptions& options) {
  RtnlRulePtr rule(rtnl_rule_alloc());
  if (!rule) return nullptr;
  rtnl_rule_set_family(rule.get(), options.family);
  rtnl_rule_set_prio(rule.get(), options.rule_priority);
  rtnl_rule_set_mark(rule.get(), options.mark);
  rtnl_rule_set_mask(rule.get(), 0xffffffff);
  rtnl_rule_set_table(rule.get(), options.table);
  rtnl_rule_set_action(rule.get(), FR_ACT_TO_TBL);
  return rule;
}

// "0.0.0.0/0" or "::/0".
std::string AnyText(const PolicyRoutingOptions& options) {
  return options.family == AF_INET6 ? "::/0" : "0.0.0.0/0";
}

// `local 0.0.0.0/0 dev lo table T` (`local ::/0 ...`).
RtnlRoutePtr LocalDefaultRoute(const PolicyRoutingOptions& options, int loopback_index) {
  const std::array<uint8_t, 16> any{};
  const size_t length = options.family == AF_INET6 ? 16 : 4;
  RtnlRoutePtr route =
      DeviceRoute(options.family, std::span(any.data(), length), 0, options.table, loopback_index);
  if (!route) return nullptr;
  rtnl_route_set_type(route.get(), RTN_LOCAL);
  rtnl_route_set_scope(route.get(), RT_SCOPE_HOST);
  rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
  return route;
}

void DeleteLeftoverRules(nl_sock* socket, rtnl_rule* rule) {
  for (int attempt = 0; attempt < kMaxLeftoverRules; ++attempt) {
    if (rtnl_rule_delete(socket, rule, 0) < 0) return;  // none (left)
  }
}

}  // namespace

std::unique_ptr<PolicyRouting> PolicyRouting::Install(const PolicyRoutingOptions& options,
                                                      std::string& error) {
  NlSocketPtr socket = OpenRouteSocket(error);
  if (!socket) return nullptr;
  const int loopback_index = LoopbackIndex(socket.get(), error);
  if (loopback_index <= 0) return nullptr;
  const RtnlRoutePtr route = LocalDefaultRoute(options, loopback_index);
  const RtnlRulePtr rule = MarkRule(options);
  if (!route || !rule) {
    error = "netlink: out of memory";
    return nullptr;
  }
  if (const int result = rtnl_route_add(socket.get(), route.get(), NLM_F_CREATE | NLM_F_REPLACE);
      result < 0) {
    error = "cannot add the route `local " + AnyText(options) + " dev lo table " +
            std::to_string(options.table) + "`: " + NlErrorText(result);
    return nullptr;
  }
  // From here on the destructor cleans up whatever was added.
  std::unique_ptr<PolicyRouting> routing(new PolicyRouting(options, std::move(socket)));
  DeleteLeftoverRules(routing->socket_.get(), rule.get());
  if (const int result = rtnl_rule_add(routing->socket_.get(), rule.get(), NLM_F_CREATE);
      result < 0) {
    error = "cannot add the rule `fwmark " + std::to_string(options.mark) + " lookup " +
            std::to_string(options.table) + "`: " + NlErrorText(result);
    return nullptr;
  }
  routing->rule_added_ = true;
  return routing;
}

PolicyRouting::~PolicyRouting() {
  if (const RtnlRulePtr rule = MarkRule(options_); rule && rule_added_) {
    if (const int result = rtnl_rule_delete(socket_.get(), rule.get(), 0); result < 0) {
      spdlog::warn("capture: cannot remove the fwmark rule: {}", NlErrorText(result));
    }
  }
  std::string error;
  const int loopback_index = LoopbackIndex(socket_.get(), error);
  if (const RtnlRoutePtr route = LocalDefaultRoute(options_, loopback_index)) {
    if (const int result = rtnl_route_delete(socket_.get(), route.get(), 0); result < 0) {
      spdlog::warn("capture: cannot remove the local route of table {}: {}", options_.table,
                   NlErrorText(result));
    }
  }
}

}  // namespace tp::daemon
