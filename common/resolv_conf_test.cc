#include "common/resolv_conf.h"

#include <gtest/gtest.h>

namespace tp {
namespace {

TEST(SearchDomainsInResolvConfText, TheLastSearchOrDomainLineWins) {
  EXPECT_EQ(SearchDomainsInResolvConfText("nameserver 1.1.1.1\n"), std::vector<std::string>{});
  EXPECT_EQ(SearchDomainsInResolvConfText("search a.test b.test\nnameserver 1.1.1.1\n"),
            (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_EQ(SearchDomainsInResolvConfText("search a.test\ndomain c.test\n"),
            std::vector<std::string>{"c.test"});
  EXPECT_EQ(SearchDomainsInResolvConfText("# search x.test\n  search   y.test  \n"),
            std::vector<std::string>{"y.test"});
}

}  // namespace
}  // namespace tp
