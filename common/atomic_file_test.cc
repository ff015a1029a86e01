#include "common/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace tp {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("atomic_file_test." + std::to_string(::getpid()));
    fs::remove_all(folder_);
    fs::create_directories(folder_);
  }
  void TearDown() override { fs::remove_all(folder_); }

  fs::path folder_;
};

TEST_F(AtomicFileTest, WritesThenReadsBack) {
  const std::string path = (folder_ / "state.json").string();
  WriteFileAtomically(path, "{\"a\": 1}\n");
  EXPECT_EQ(ReadWholeFile(path), "{\"a\": 1}\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(AtomicFileTest, ReplacesExistingContentWithOwnerOnlyMode) {
  const std::string path = (folder_ / "state.json").string();
  std::ofstream(path) << "old content that is longer than the new one";
  WriteFileAtomically(path, "new");
  EXPECT_EQ(ReadWholeFile(path), "new");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(AtomicFileTest, WritesEmptyContent) {
  const std::string path = (folder_ / "empty").string();
  WriteFileAtomically(path, "");
  EXPECT_EQ(ReadWholeFile(path), "");
}

TEST_F(AtomicFileTest, MissingFileReadsAsNullopt) {
  EXPECT_EQ(ReadWholeFile((folder_ / "absent").string()), std::nullopt);
}

TEST_F(AtomicFileTest, UnwritableFolderThrowsNamingTheTemporaryFile) {
  const std::string path = (folder_ / "no-such-folder" / "state.json").string();
  try {
    WriteFileAtomically(path, "x");
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("cannot create " + path + ".tmp"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace tp
