// The resolv.conf the daemon writes for containers sharing its network namespace.
#include "daemon/cluster_resolv_conf.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/dns_resolver.h"

namespace tp::daemon {
namespace {

class ResolvConfFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char path_template[] = "/tmp/cluster-resolv-conf-test.XXXXXX";
    const int file = ::mkstemp(path_template);
    ASSERT_GE(file, 0);
    ::close(file);
    path_ = path_template;
  }
  void TearDown() override { std::filesystem::remove(path_); }

  void Write(const std::string& text) const { std::ofstream(path_) << text; }
  std::string Read() const {
    std::ifstream file(path_);
    std::stringstream contents;
    contents << file.rdbuf();
    return contents.str();
  }
  ino_t Inode() const {
    struct stat status {};
    ::stat(path_.c_str(), &status);
    return status.st_ino;
  }

  std::string path_;
};

TEST_F(ResolvConfFile, RewritesInPlaceKeepingTheUpstreamNameservers) {
  Write("# Docker\nnameserver 127.0.0.11\nnameserver 10.0.0.2\nsearch home\noptions ndots:0\n");
  const ino_t before = Inode();
  ClusterResolvConf config;
  config.search_domains = {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"};
  config.upstream = UpstreamNameserverTexts(path_);
  EXPECT_EQ(config.upstream, (std::vector<std::string>{"127.0.0.11", "10.0.0.2"}));
  std::string error;
  ASSERT_TRUE(WriteFileInPlace(path_, ClusterResolvConfText(config), error)) << error;

  EXPECT_EQ(Inode(), before);  // same file: a bind mount stays valid
  const std::string text = Read();
  EXPECT_NE(text.find("\nnameserver 127.0.0.1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nsearch default.svc.cluster.local svc.cluster.local cluster.local\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\noptions ndots:5\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("\nnameserver 127.0.0.11\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("home"), std::string::npos) << text;
}

TEST_F(ResolvConfFile, ARewrittenFileStillNamesTheOriginalUpstream) {
  Write("nameserver 127.0.0.11\n");
  ClusterResolvConf config;
  config.upstream = UpstreamNameserverTexts(path_);
  std::string error;
  ASSERT_TRUE(WriteFileInPlace(path_, ClusterResolvConfText(config), error)) << error;
  // A restarted daemon reads its own file: the upstream is still Docker's, never itself.
  EXPECT_EQ(UpstreamNameserverTexts(path_), std::vector<std::string>{"127.0.0.11"});
  EXPECT_EQ(NameserversFromResolvConf(path_).size(), 1u);
  // Rewriting again keeps it.
  config.upstream = UpstreamNameserverTexts(path_);
  ASSERT_TRUE(WriteFileInPlace(path_, ClusterResolvConfText(config), error)) << error;
  EXPECT_EQ(UpstreamNameserverTexts(path_), std::vector<std::string>{"127.0.0.11"});
}

TEST_F(ResolvConfFile, ARewrittenFileWithoutUpstreamHasNone) {
  Write("search example\n");
  ClusterResolvConf config;
  config.upstream = UpstreamNameserverTexts(path_);
  EXPECT_TRUE(config.upstream.empty());
  std::string error;
  ASSERT_TRUE(WriteFileInPlace(path_, ClusterResolvConfText(config), error)) << error;
  EXPECT_TRUE(UpstreamNameserverTexts(path_).empty());  // not its own 127.0.0.1
}

TEST(ClusterResolvConf, NoSearchLineWithoutDomains) {
  ClusterResolvConf config;
  config.nameserver = "10.1.2.3";
  config.ndots = 2;
  const std::string text = ClusterResolvConfText(config);
  EXPECT_NE(text.find("\nnameserver 10.1.2.3\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("search"), std::string::npos) << text;
  EXPECT_NE(text.find("options ndots:2\n"), std::string::npos) << text;
}

TEST(ClusterResolvConf, WriteFailureIsReported) {
  std::string error;
  EXPECT_FALSE(WriteFileInPlace("/nonexistent-folder/resolv.conf", "x", error));
  EXPECT_NE(error.find("/nonexistent-folder/resolv.conf"), std::string::npos) << error;
}

}  // namespace
}  // namespace tp::daemon
