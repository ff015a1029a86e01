// Batches built in memory and parsed back with libnftnl: the message types and flags, the
// expressions of a rule as `nft --debug=netlink` prints them for the same nft text, set
// elements, userdata comments. No kernel involved.
#include "nftables/batch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter_ipv4.h>

#include <sstream>

#include "nftables/owned.h"
#include "nftables/tproxy_rule_example.h"

namespace tp::nft {
namespace {

// The messages of a finished batch, in order.
std::vector<const nlmsghdr*> Messages(std::span<const char> bytes) {
  std::vector<const nlmsghdr*> messages;
  int left = static_cast<int>(bytes.size());
  for (auto* message = reinterpret_cast<const nlmsghdr*>(bytes.data()); mnl_nlmsg_ok(message, left);
       message = mnl_nlmsg_next(message, &left)) {
    messages.push_back(message);
  }
  EXPECT_EQ(left, 0);
  return messages;
}

uint16_t Type(const nlmsghdr* message) { return message->nlmsg_type & 0xff; }

// The expression lines of a rule request as libnftnl prints them ("[ meta load ... ]").
std::string Expressions(const nlmsghdr* message) {
  RulePtr rule(NonNull(nftnl_rule_alloc()));
  EXPECT_GE(nftnl_rule_nlmsg_parse(message, rule.get()), 0);
  char text[4096];
  nftnl_rule_snprintf(text, sizeof(text), rule.get(), NFTNL_OUTPUT_DEFAULT, 0);
  std::istringstream lines(text);
  std::string line, expressions;
  while (std::getline(lines, line)) {
    if (line.starts_with("  [")) expressions += line + "\n";
  }
  return expressions;
}

// Calls `visit` for each attribute in the `length` bytes at `start`.
template <typename Visit>
void ForEachAttribute(const void* start, size_t length, Visit visit) {
  int left = static_cast<int>(length);
  for (const auto* attribute = static_cast<const nlattr*>(start); mnl_attr_ok(attribute, left);
       left -= MNL_ALIGN(attribute->nla_len), attribute = mnl_attr_next(attribute)) {
    visit(attribute);
  }
}

template <typename Visit>
void ForEachNested(const nlattr* nest, Visit visit) {
  ForEachAttribute(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), visit);
}

// The elements of a NEWSETELEM request (key, flags), read with libmnl alone.
std::vector<std::pair<Bytes, uint32_t>> ElementsOf(const nlmsghdr* message) {
  std::vector<std::pair<Bytes, uint32_t>> elements;
  const auto* payload = static_cast<const char*>(mnl_nlmsg_get_payload(message));
  const size_t length = mnl_nlmsg_get_payload_len(message) - sizeof(nfgenmsg);
  ForEachAttribute(payload + sizeof(nfgenmsg), length, [&](const nlattr* list) {
    if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS) return;
    ForEachNested(list, [&](const nlattr* element) {
      std::pair<Bytes, uint32_t> parsed{{}, 0};
      ForEachNested(element, [&](const nlattr* field) {
        if (mnl_attr_get_type(field) == NFTA_SET_ELEM_FLAGS) {
          parsed.second = ntohl(mnl_attr_get_u32(field));
        } else if (mnl_attr_get_type(field) == NFTA_SET_ELEM_KEY) {
          ForEachNested(field, [&](const nlattr* value) {
            const auto* bytes = static_cast<const uint8_t*>(mnl_attr_get_payload(value));
            parsed.first.assign(bytes, bytes + mnl_attr_get_payload_len(value));
          });
        }
      });
      elements.push_back(parsed);
    });
  });
  return elements;
}

// `ip daddr @cluster_subnets meta l4proto 6 tproxy to :15001 meta mark set 0x7470 accept`
Rule TproxyRule(const Set& set) { return ExampleTproxyRule("telepresence", set, 6); }

Set SubnetSet() {
  Set set;
  set.family = NFPROTO_IPV4;
  set.table = "telepresence";
  set.name = "cluster_subnets";
  set.id = 1;
  set.flags = NFT_SET_INTERVAL;
  set.key_type = kTypeIpv4Address;
  set.key_length = 4;
  return set;
}

TEST(Batch, WrapsRequestsInBeginAndEndAndAsksForAcks) {
  Batch batch(100);
  batch.AddTable({NFPROTO_IPV4, "t"}).DeleteTable({NFPROTO_IPV4, "t"});
  EXPECT_EQ(batch.requests(), 2u);
  const std::vector<const nlmsghdr*> messages = Messages(batch.Finish());
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
  EXPECT_EQ(Type(messages[1]), NFT_MSG_NEWTABLE);
  EXPECT_EQ(Type(messages[2]), NFT_MSG_DELTABLE);
  EXPECT_EQ(messages[3]->nlmsg_type, NFNL_MSG_BATCH_END);
  EXPECT_TRUE(messages[1]->nlmsg_flags & NLM_F_CREATE);
  EXPECT_FALSE(messages[1]->nlmsg_flags & NLM_F_EXCL);  // `add`, not `create`
  for (size_t i = 1; i < 3; ++i) EXPECT_TRUE(messages[i]->nlmsg_flags & NLM_F_ACK);
  for (size_t i = 0; i < messages.size(); ++i) EXPECT_EQ(messages[i]->nlmsg_seq, 100 + i);
}

TEST(Batch, FinishTwiceGivesTheSameBytesAndMoreRequestsAreRefused) {
  Batch batch;
  batch.AddTable({NFPROTO_IPV4, "t"});
  const std::span<const char> first = batch.Finish();
  EXPECT_EQ(batch.Finish().size(), first.size());
  EXPECT_THROW(batch.AddTable({NFPROTO_IPV4, "u"}), std::logic_error);
}

TEST(Rule, EncodesTproxyLikeNft) {
  Batch batch;
  batch.AppendRule(TproxyRule(SubnetSet()));
  const std::vector<const nlmsghdr*> messages = Messages(batch.Finish());
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(Type(messages[1]), NFT_MSG_NEWRULE);
  EXPECT_TRUE(messages[1]->nlmsg_flags & NLM_F_APPEND);
  // What `nft --debug=netlink` prints for the nft text above (nftables 1.0.6).
  EXPECT_EQ(Expressions(messages[1]),
            "  [ payload load 4b @ network header + 16 => reg 1 ]\n"
            "  [ lookup reg 1 set cluster_subnets ]\n"
            "  [ meta load l4proto => reg 1 ]\n"
            "  [ cmp eq reg 1 0x00000006 ]\n"
            "  [ immediate reg 1 0x0000993a ]\n"
            "  [ tproxy ip port reg 1 ]\n"
            "  [ immediate reg 1 0x00007470 ]\n"
            "  [ meta set mark with reg 1 ]\n"
            "  [ immediate reg 0 accept ]\n");
}

TEST(Rule, EncodesInterfaceMatchesCounterAndCommentLikeNft) {
  Rule rule(NFPROTO_IPV4, "filter", "DOCKER-USER");
  rule.LoadMeta(NFT_META_IIFNAME, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, InterfaceName("br0"))
      .Counter()
      .Verdict(NF_ACCEPT)
      .Comment("teleroute br0");
  Batch batch;
  batch.InsertRule(rule);
  const std::vector<const nlmsghdr*> messages = Messages(batch.Finish());
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_FALSE(messages[1]->nlmsg_flags & NLM_F_APPEND);  // `insert`: at the top
  EXPECT_EQ(Expressions(messages[1]),
            "  [ meta load iifname => reg 1 ]\n"
            "  [ cmp eq reg 1 0x00307262 0x00000000 0x00000000 0x00000000 ]\n"
            "  [ counter pkts 0 bytes 0 ]\n"
            "  [ immediate reg 0 accept ]\n");
  RulePtr parsed(NonNull(nftnl_rule_alloc()));
  ASSERT_GE(nftnl_rule_nlmsg_parse(messages[1], parsed.get()), 0);
  uint32_t length = 0;
  const auto* userdata =
      static_cast<const uint8_t*>(nftnl_rule_get_data(parsed.get(), NFTNL_RULE_USERDATA, &length));
  // type NFTNL_UDATA_RULE_COMMENT, length 14, "teleroute br0" and its NUL.
  ASSERT_EQ(length, 16u);
  EXPECT_EQ(userdata[0], NFTNL_UDATA_RULE_COMMENT);
  EXPECT_EQ(userdata[1], 14);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(userdata + 2)), "teleroute br0");
}

TEST(Rule, RefusesACommentNftCouldNotStore) {
  Rule rule(NFPROTO_IPV4, "filter", "c");
  EXPECT_THROW(rule.Comment(std::string(NFT_USERDATA_MAXLEN, 'x')), std::invalid_argument);
}

TEST(Elements, IntervalsEndOneAfterTheirLastAddress) {
  const std::vector<Element> elements =
      Ipv4IntervalElements({{0x0ac90000, 0x0ac900ff}, {0xffff0000, 0xffffffff}});
  ASSERT_EQ(elements.size(), 3u);
  EXPECT_EQ(elements[0].key, (Bytes{10, 201, 0, 0}));
  EXPECT_FALSE(elements[0].interval_end);
  EXPECT_EQ(elements[1].key, (Bytes{10, 201, 1, 0}));
  EXPECT_TRUE(elements[1].interval_end);
  EXPECT_EQ(elements[2].key, (Bytes{255, 255, 0, 0}));  // no end after 255.255.255.255
  EXPECT_FALSE(elements[2].interval_end);
  EXPECT_TRUE(Ipv4IntervalElements({}).empty());
}

// The set attributes and elements of the requests, parsed back.
TEST(Set, EncodesTheSetThenItsElements) {
  Set set = SubnetSet();
  set.elements = Ipv4IntervalElements({{0x0ac90000, 0x0ac900ff}});
  Batch batch;
  batch.AddSet(set).FlushSet(set);
  const std::vector<const nlmsghdr*> messages = Messages(batch.Finish());
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(Type(messages[1]), NFT_MSG_NEWSET);
  EXPECT_EQ(Type(messages[2]), NFT_MSG_NEWSETELEM);
  EXPECT_EQ(Type(messages[3]), NFT_MSG_DELSETELEM);

  SetPtr parsed(NonNull(nftnl_set_alloc()));
  ASSERT_GE(nftnl_set_nlmsg_parse(messages[1], parsed.get()), 0);
  EXPECT_STREQ(nftnl_set_get_str(parsed.get(), NFTNL_SET_NAME), "cluster_subnets");
  EXPECT_EQ(nftnl_set_get_u32(parsed.get(), NFTNL_SET_FLAGS), uint32_t{NFT_SET_INTERVAL});
  EXPECT_EQ(nftnl_set_get_u32(parsed.get(), NFTNL_SET_KEY_TYPE), kTypeIpv4Address);
  EXPECT_EQ(nftnl_set_get_u32(parsed.get(), NFTNL_SET_KEY_LEN), 4u);
  EXPECT_EQ(nftnl_set_get_u32(parsed.get(), NFTNL_SET_ID), 1u);

  const std::vector<std::pair<Bytes, uint32_t>> keys = ElementsOf(messages[2]);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], std::make_pair(Bytes{10, 201, 0, 0}, uint32_t{0}));
  EXPECT_EQ(keys[1], std::make_pair(Bytes{10, 201, 1, 0}, uint32_t{NFT_SET_ELEM_INTERVAL_END}));
}

TEST(Set, ProtocolSetIsAnonymousAndConstant) {
  const Set set = ProtocolSet(NFPROTO_IPV4, "telepresence", 2, {6, 17});
  EXPECT_EQ(set.name, "__set%d");
  EXPECT_EQ(set.flags, uint32_t{NFT_SET_ANONYMOUS | NFT_SET_CONSTANT});
  EXPECT_EQ(set.size, 2u);
  EXPECT_EQ(set.key_length, 1u);
  ASSERT_EQ(set.elements.size(), 2u);
  EXPECT_EQ(set.elements[1].key, Bytes{17});
}

}  // namespace
}  // namespace tp::nft
