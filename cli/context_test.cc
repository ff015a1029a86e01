#include "cli/context.h"

#include <gtest/gtest.h>

#include "cli/test_temp_dir.h"

namespace tp::cli {
namespace {

using testing::FixedEnvironment;
using testing::TempDir;
using testing::WriteFile;

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

constexpr const char* kDemoContext =
    R"({"name":"default","manager":"127.0.0.1:40123","secret_file":"/root/.config/s",)"
    R"("cluster_network":"tp-demo","cluster_subnets":["10.213.0.0/24"]})";

TEST(ContextsDirectoryTest, XdgConfigHomeFirst) {
  auto directory = ContextsDirectory(FixedEnvironment({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}}));
  ASSERT_TRUE(directory.ok());
  EXPECT_EQ(directory.value(), "/x/telepresence-docker/contexts");
}

TEST(ContextsDirectoryTest, HomeWhenXdgUnsetEmptyOrRelative) {
  for (const char* xdg : {"", "relative/dir"}) {
    auto directory =
        ContextsDirectory(FixedEnvironment({{"XDG_CONFIG_HOME", xdg}, {"HOME", "/h"}}));
    ASSERT_TRUE(directory.ok());
    EXPECT_EQ(directory.value(), "/h/.config/telepresence-docker/contexts");
  }
  auto directory = ContextsDirectory(FixedEnvironment({{"HOME", "/h"}}));
  ASSERT_TRUE(directory.ok());
  EXPECT_EQ(directory.value(), "/h/.config/telepresence-docker/contexts");
}

TEST(ContextsDirectoryTest, NeitherVariable) {
  auto directory = ContextsDirectory(FixedEnvironment({}));
  ASSERT_FALSE(directory.ok());
  EXPECT_CONTAINS(directory.error().message, "XDG_CONFIG_HOME");
  EXPECT_CONTAINS(directory.error().message, "HOME");
}

class LoadContextTest : public ::testing::Test {
 protected:
  TempDir config_home_;
  std::filesystem::path directory_ = config_home_.path() / "telepresence-docker/contexts";
};

TEST_F(LoadContextTest, ReadsTheDemoContext) {
  WriteFile(directory_ / "default.json", kDemoContext);
  Result<Context> context = LoadContext("default", directory_);
  ASSERT_TRUE(context.ok()) << context.error().message;
  EXPECT_EQ(context.value().name, "default");
  EXPECT_EQ(context.value().manager, "127.0.0.1:40123");
  EXPECT_EQ(context.value().secret_file, "/root/.config/s");
  EXPECT_EQ(context.value().cluster_network, "tp-demo");
  EXPECT_EQ(context.value().cluster_subnets, std::vector<std::string>{"10.213.0.0/24"});
  EXPECT_EQ(context.value().source_file, directory_ / "default.json");
}

TEST_F(LoadContextTest, NameAndSubnetsAreOptional) {
  WriteFile(directory_ / "dev.json",
            R"({"manager":"m:1","secret_file":"/s","cluster_network":"n"})");
  Result<Context> context = LoadContext("dev", directory_);
  ASSERT_TRUE(context.ok()) << context.error().message;
  EXPECT_EQ(context.value().name, "dev");
  EXPECT_TRUE(context.value().cluster_subnets.empty());
}

TEST_F(LoadContextTest, UnknownContextListsTheAvailableOnes) {
  WriteFile(directory_ / "default.json", kDemoContext);
  WriteFile(directory_ / "staging.json", kDemoContext);
  WriteFile(directory_ / "notes.txt", "ignored");
  Result<Context> context = LoadContext("prod", directory_);
  ASSERT_FALSE(context.ok());
  EXPECT_CONTAINS(context.error().message, "unknown context 'prod'");
  EXPECT_CONTAINS(context.error().message, (directory_ / "prod.json").string());
  EXPECT_CONTAINS(context.error().message, "available contexts: default, staging");
  EXPECT_CONTAINS(context.error().message, "--context");
}

TEST_F(LoadContextTest, UnknownContextWhenNoneExistsSaysHowToMakeOne) {
  Result<Context> context = LoadContext("default", directory_);
  ASSERT_FALSE(context.ok());
  EXPECT_CONTAINS(context.error().message, "unknown context 'default'");
  EXPECT_CONTAINS(context.error().message, "no context exists");
  EXPECT_CONTAINS(context.error().message, "make demo-cluster");
}

TEST_F(LoadContextTest, MalformedJsonNamesTheFile) {
  WriteFile(directory_ / "default.json", "{\"manager\": ");
  Result<Context> context = LoadContext("default", directory_);
  ASSERT_FALSE(context.ok());
  EXPECT_CONTAINS(context.error().message, (directory_ / "default.json").string());
  EXPECT_CONTAINS(context.error().message, "not valid JSON");
}

TEST_F(LoadContextTest, JsonThatIsNotAnObject) {
  WriteFile(directory_ / "default.json", "[1,2]");
  Result<Context> context = LoadContext("default", directory_);
  ASSERT_FALSE(context.ok());
  EXPECT_CONTAINS(context.error().message, "not an object");
  EXPECT_CONTAINS(context.error().message, "default.json");
}

TEST_F(LoadContextTest, InvalidNameNeverTouchesTheFileSystem) {
  Result<Context> context = LoadContext("../../etc/passwd", directory_);
  ASSERT_FALSE(context.ok());
  EXPECT_CONTAINS(context.error().message, "invalid context name");
}

TEST(ParseContextTest, FieldErrorsNameFileAndField) {
  struct Case {
    const char* json;
    const char* field;
    const char* problem;
  };
  const Case cases[] = {
      {R"({"secret_file":"/s","cluster_network":"n"})", "manager", "missing"},
      {R"({"manager":5,"secret_file":"/s","cluster_network":"n"})", "manager", "not a"},
      {R"({"manager":"nope","secret_file":"/s","cluster_network":"n"})", "manager", "HOST:PORT"},
      {R"({"manager":"m:1","cluster_network":"n"})", "secret_file", "missing"},
      {R"({"manager":"m:1","secret_file":"rel","cluster_network":"n"})", "secret_file", "absolute"},
      {R"({"manager":"m:1","secret_file":"/s"})", "cluster_network", "missing"},
      {R"({"manager":"m:1","secret_file":"/s","cluster_network":"n","cluster_subnets":"x"})",
       "cluster_subnets", "list of strings"},
      {R"({"name":"other","manager":"m:1","secret_file":"/s","cluster_network":"n"})", "name",
       "'other'"},
  };
  for (const Case& test_case : cases) {
    Result<Context> context = ParseContext("dev", test_case.json, "/c/dev.json");
    ASSERT_FALSE(context.ok()) << test_case.json;
    EXPECT_CONTAINS(context.error().message, "/c/dev.json");
    EXPECT_CONTAINS(context.error().message, std::string("'") + test_case.field + "'");
    EXPECT_CONTAINS(context.error().message, test_case.problem);
  }
}

TEST(ManagerOverrideTest, ReplacesTheManagerOnly) {
  Context context{.name = "dev", .manager = "a:1", .secret_file = "/s", .cluster_network = "n"};
  Result<Context> overridden = WithManagerOverride(context, "b:2");
  ASSERT_TRUE(overridden.ok());
  EXPECT_EQ(overridden.value().manager, "b:2");
  EXPECT_EQ(overridden.value().cluster_network, "n");
  EXPECT_EQ(WithManagerOverride(context, std::nullopt).value().manager, "a:1");
}

TEST(ManagerOverrideTest, RejectsNonHostPort) {
  Result<Context> overridden = WithManagerOverride(Context{}, "b");
  ASSERT_FALSE(overridden.ok());
  EXPECT_CONTAINS(overridden.error().message, "HOST:PORT");
}

}  // namespace
}  // namespace tp::cli
