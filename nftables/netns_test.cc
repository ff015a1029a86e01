// The library against the kernel, in a network namespace of the test's own (each test runs in
// its own process, see gtest_discover_tests, and unshares it; root needed, skipped otherwise).
// What the kernel holds is read back with the nft command, and compared with what nft itself
// makes of the same ruleset in nft's language.
#include <gtest/gtest.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_ipv4.h>
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "nftables/batch.h"
#include "nftables/socket.h"
#include "nftables/tproxy_rule_example.h"

namespace tp::nft {
namespace {

int Shell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

std::string Output(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return "";
  std::string output;
  char chunk[4096];
  size_t read = 0;
  while ((read = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) output.append(chunk, read);
  ::pclose(pipe);
  return output;
}

// The table as nft prints it (numbers as numbers), or the error nft printed.
std::string ListTable(const std::string& table) { return Output("nft -n list table ip " + table); }

constexpr char kTable[] = "capture";

Set SubnetSet(std::vector<Ipv4Range> ranges) {
  Set set;
  set.family = NFPROTO_IPV4;
  set.table = kTable;
  set.name = "subnets";
  set.id = 1;
  set.flags = NFT_SET_INTERVAL;
  set.key_type = kTypeIpv4Address;
  set.key_length = 4;
  set.elements = Ipv4IntervalElements(ranges);
  return set;
}

// `ip daddr @subnets meta l4proto PROTOCOL tproxy to :15001 meta mark set 0x7470 accept`
Rule TproxyRule(const Set& set, uint8_t protocol) {
  return ExampleTproxyRule(kTable, set, protocol);
}

// `ip daddr @subnets meta l4proto { 6, 17 } meta mark set 0x7470`, with its anonymous set.
Rule MarkRule(const Set& set, const Set& protocols) {
  Rule rule(NFPROTO_IPV4, kTable, "output");
  rule.LoadPayload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1)
      .Lookup(NFT_REG_1, set)
      .LoadMeta(NFT_META_L4PROTO, NFT_REG_1)
      .Lookup(NFT_REG_1, protocols)
      .LoadImmediate(NFT_REG_1, HostOrder32(0x7470))
      .SetMeta(NFT_META_MARK, NFT_REG_1);
  return rule;
}

// The daemon's kind of table, through this library.
void AddCaptureTable(Batch& batch, const Set& set) {
  batch.AddTable({NFPROTO_IPV4, kTable});
  batch.AddSet(set);
  batch.AddChain({NFPROTO_IPV4, kTable, "prerouting", "filter", NF_INET_PRE_ROUTING,
                  NF_IP_PRI_MANGLE, NF_ACCEPT});
  batch.AppendRule(TproxyRule(set, 6)).AppendRule(TproxyRule(set, 17));
  batch.AddChain(
      {NFPROTO_IPV4, kTable, "output", "route", NF_INET_LOCAL_OUT, NF_IP_PRI_MANGLE, NF_ACCEPT});
  const Set protocols = ProtocolSet(NFPROTO_IPV4, kTable, 2, {6, 17});
  batch.AddSet(protocols);
  batch.AppendRule(MarkRule(set, protocols));
}

// The same table in nft's language.
constexpr char kCaptureTableText[] =
    "table ip capture {\n"
    "  set subnets { type ipv4_addr; flags interval; }\n"
    "  chain prerouting {\n"
    "    type filter hook prerouting priority mangle; policy accept;\n"
    "    ip daddr @subnets meta l4proto 6 tproxy to :15001 meta mark set 0x7470 accept\n"
    "    ip daddr @subnets meta l4proto 17 tproxy to :15001 meta mark set 0x7470 accept\n"
    "  }\n"
    "  chain output {\n"
    "    type route hook output priority mangle; policy accept;\n"
    "    ip daddr @subnets meta l4proto { 6, 17 } meta mark set 0x7470\n"
    "  }\n"
    "}\n";

class NftablesNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::unshare(CLONE_NEWNET) != 0) {
      GTEST_SKIP() << "*** SKIPPED: cannot create a network namespace here (unshare: "
                   << std::strerror(errno) << "); run as root ***";
    }
    int error = 0;
    socket_ = Socket::Open(error);
    ASSERT_TRUE(socket_) << ErrorText(error);
  }

  // Runs nft with `text` as its input file.
  static int RunNft(const std::string& text) {
    return Shell("printf '%s' '" + text + "' | nft -f -");
  }

  std::unique_ptr<Socket> socket_;
};

TEST_F(NftablesNetnsTest, TableWithSetsChainsAndRulesListsAsNftMadeIt) {
  const Set set = SubnetSet({{0x0ac90000, 0x0ac900ff}, {0x0aca0000, 0x0acaffff}});
  Batch batch;
  AddCaptureTable(batch, set);
  ASSERT_EQ(socket_->Commit(batch), 0);
  const std::string ours = ListTable(kTable);
  EXPECT_NE(ours.find("elements = { 10.201.0.0/24, 10.202.0.0/16 }"), std::string::npos) << ours;

  Batch removal;
  removal.DeleteTable({NFPROTO_IPV4, kTable});
  ASSERT_EQ(socket_->Commit(removal), 0);
  EXPECT_NE(Shell("nft list table ip capture"), 0);

  ASSERT_EQ(RunNft(std::string(kCaptureTableText) +
                   "add element ip capture subnets { 10.201.0.0/24, 10.202.0.0/16 }\n"),
            0);
  EXPECT_EQ(ours, ListTable(kTable));
}

TEST_F(NftablesNetnsTest, FlushAndAddInOneTransactionReplaceTheElements) {
  Batch install;
  AddCaptureTable(install, SubnetSet({{0x0ac90000, 0x0ac900ff}}));
  ASSERT_EQ(socket_->Commit(install), 0);

  // Adjacent ranges, a single address and the top of the address space.
  const std::vector<Ipv4Range> ranges = {{0x0a000000, 0x0a0000ff},
                                         {0x0a000100, 0x0a0001ff},
                                         {0x0b000001, 0x0b000001},
                                         {0xf0000000, 0xffffffff}};
  const Set set = SubnetSet({});
  Batch replace;
  replace.FlushSet(set).AddElements(set, Ipv4IntervalElements(ranges));
  ASSERT_EQ(socket_->Commit(replace), 0);
  const std::string ours = ListTable(kTable);
  EXPECT_EQ(ours.find("10.201.0.0"), std::string::npos) << ours;

  ASSERT_EQ(Shell("nft delete table ip capture"), 0);
  ASSERT_EQ(RunNft(std::string(kCaptureTableText) +
                   "add element ip capture subnets { 10.0.0.0/24, 10.0.1.0/24, 11.0.0.1, "
                   "240.0.0.0/4 }\n"),
            0);
  EXPECT_EQ(ours, ListTable(kTable));

  Batch empty;
  empty.FlushSet(set);
  ASSERT_EQ(socket_->Commit(empty), 0);
  EXPECT_EQ(ListTable(kTable).find("elements"), std::string::npos);
}

TEST_F(NftablesNetnsTest, AFailedTransactionAppliesNothingAndTheSocketGoesOn) {
  Batch batch;
  batch.AddTable({NFPROTO_IPV4, "kept_out"}).DeleteTable({NFPROTO_IPV4, "missing"});
  batch.AddTable({NFPROTO_IPV4, "also_kept_out"});
  EXPECT_EQ(socket_->Commit(batch), ENOENT);
  EXPECT_EQ(Output("nft list tables"), "");

  Batch next;
  next.AddTable({NFPROTO_IPV4, "added"});
  EXPECT_EQ(socket_->Commit(next), 0);
  EXPECT_EQ(Output("nft list tables"), "table ip added\n");
}

TEST_F(NftablesNetnsTest, ListsRulesWithHandlesAndCommentsAndDeletesByHandle) {
  ASSERT_EQ(RunNft("table ip filter {\n chain DOCKER-USER {\n return\n }\n}\n"), 0);
  EXPECT_EQ(socket_->LookUpChain(NFPROTO_IPV4, "filter", "DOCKER-USER"), 0);
  EXPECT_EQ(socket_->LookUpChain(NFPROTO_IPV4, "filter", "missing"), ENOENT);
  EXPECT_EQ(socket_->LookUpChain(NFPROTO_IPV4, "missing", "DOCKER-USER"), ENOENT);

  Rule rule(NFPROTO_IPV4, "filter", "DOCKER-USER");
  rule.LoadMeta(NFT_META_IIFNAME, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, InterfaceName("br0"))
      .LoadMeta(NFT_META_OIFNAME, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, InterfaceName("br0"))
      .Counter()
      .Verdict(NF_ACCEPT)
      .Comment("teleroute br0");
  Batch insert;
  insert.InsertRule(rule);
  ASSERT_EQ(socket_->Commit(insert), 0);
  const std::string listing = Output("nft list chain ip filter DOCKER-USER");
  EXPECT_NE(listing.find("\t\tiifname \"br0\" oifname \"br0\" counter packets 0 bytes 0 accept "
                         "comment \"teleroute br0\"\n\t\treturn\n"),
            std::string::npos)
      << listing;

  std::vector<ListedRule> rules;
  ASSERT_EQ(socket_->ListRules(NFPROTO_IPV4, "filter", "DOCKER-USER", rules), 0);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].comment, "teleroute br0");
  EXPECT_EQ(rules[1].comment, "");
  EXPECT_NE(Output("nft -a list chain ip filter DOCKER-USER")
                .find("comment \"teleroute br0\" # handle " + std::to_string(rules[0].handle)),
            std::string::npos);

  Batch removal;
  removal.DeleteRule(NFPROTO_IPV4, "filter", "DOCKER-USER", rules[0].handle);
  ASSERT_EQ(socket_->Commit(removal), 0);
  ASSERT_EQ(socket_->ListRules(NFPROTO_IPV4, "filter", "DOCKER-USER", rules), 0);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(socket_->ListRules(NFPROTO_IPV4, "filter", "missing", rules), 0);
  EXPECT_TRUE(rules.empty());
}

}  // namespace
}  // namespace tp::nft
