#include "telemount/volume/volume_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "telemount/volume/fake_remote_mount.h"

namespace tp::telemount {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class VolumeRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "telemount-volume-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "server/tel_app_exports/echo/data");
    fs::create_directories(dir_ / "server/tel_app_exports/echo/logs");
    fs::create_directories(dir_ / "server/srv");
    factory_ = std::make_unique<FakeRemoteMountFactory>((dir_ / "server").string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<VolumeRegistry> NewRegistry() {
    return std::make_unique<VolumeRegistry>(*factory_, MountRoot(), (dir_ / "state").string());
  }
  std::string MountRoot() const { return (dir_ / "mnt").string(); }

  static VolumeOptions Options(const std::string& dir, const std::string& port = "2222") {
    return {{"host", "127.0.0.1"}, {"port", port}, {"container", "echo"}, {"dir", dir}};
  }

  fs::path dir_;
  std::unique_ptr<FakeRemoteMountFactory> factory_;
};

template <typename Call>
std::string ErrorOf(Call call) {
  try {
    call();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "(no error)";
}

TEST_F(VolumeRegistryTest, CreateMountsAndReportsPaths) {
  auto registry = NewRegistry();
  registry->Create("data", Options("data"));
  const std::string expected =
      MountRoot() + "/127.0.0.1_2222_rw/.telemount-volumes/%2Ftel_app_exports%2Fecho%2Fdata";
  EXPECT_EQ(registry->Path("data"), expected);
  VolumeInfo info = registry->Get("data");
  EXPECT_EQ(info.name, "data");
  EXPECT_EQ(info.mountpoint, expected);
  EXPECT_THAT(info.created_at, ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
  EXPECT_EQ(info.status["mounted"], "true");
  EXPECT_EQ(registry->Mount("data", "id-1"), expected);
  EXPECT_EQ(factory_->mounts_made(), 1);
}

TEST_F(VolumeRegistryTest, VolumesOfOneEndpointShareOneMount) {
  auto registry = NewRegistry();
  registry->Create("data", Options("data"));
  registry->Create("logs", Options("logs"));
  EXPECT_EQ(factory_->mounts_made(), 1);
  EXPECT_EQ(factory_->live_mountpoints().size(), 1u);

  VolumeOptions read_only = Options("logs");
  read_only["ro"] = "true";
  registry->Create("logs-ro", read_only);
  EXPECT_EQ(factory_->live_mountpoints().size(), 2u);
  EXPECT_EQ(registry->Path("logs-ro"),
            MountRoot() + "/127.0.0.1_2222_ro/.telemount-volumes/%2Ftel_app_exports%2Fecho%2Flogs");

  registry->Remove("data");
  EXPECT_EQ(factory_->live_mountpoints().size(), 2u) << "logs still uses the rw mount";
  registry->Remove("logs");
  EXPECT_EQ(factory_->live_mountpoints(),
            std::multiset<std::string>{MountRoot() + "/127.0.0.1_2222_ro"});
  registry->Remove("logs-ro");
  EXPECT_TRUE(factory_->live_mountpoints().empty());
}

TEST_F(VolumeRegistryTest, MountsAreCountedPerId) {
  auto registry = NewRegistry();
  registry->Create("data", Options("data"));
  registry->Mount("data", "a");
  registry->Mount("data", "b");
  registry->Mount("data", "b");  // a repeated ID counts once
  EXPECT_EQ(registry->Get("data").status["active_mounts"], "2");
  registry->Unmount("data", "a");
  EXPECT_EQ(ErrorOf([&] { registry->Remove("data"); }), "volume data is in use by 1 container");
  registry->Unmount("data", "unknown-id");  // harmless
  registry->Unmount("data", "b");
  registry->Unmount("data", "b");  // already released: harmless
  registry->Remove("data");
  EXPECT_THAT(ErrorOf([&] { registry->Get("data"); }), HasSubstr("no such volume"));
  registry->Remove("data");  // again: idempotent
}

TEST_F(VolumeRegistryTest, RemoveInUseCountsContainers) {
  auto registry = NewRegistry();
  registry->Create("data", Options("data"));
  registry->Mount("data", "a");
  registry->Mount("data", "b");
  EXPECT_EQ(ErrorOf([&] { registry->Remove("data"); }), "volume data is in use by 2 containers");
  EXPECT_EQ(registry->List().size(), 1u);
}

TEST_F(VolumeRegistryTest, UnknownVolumesFail) {
  auto registry = NewRegistry();
  for (auto call : std::vector<std::function<void()>>{[&] { registry->Get("nope"); },
                                                      [&] { registry->Path("nope"); },
                                                      [&] { registry->Mount("nope", "id"); }}) {
    EXPECT_EQ(ErrorOf(call), "no such volume: nope");
  }
  registry->Unmount("nope", "id");  // nothing to release
  registry->Remove("nope");         // nothing to remove: docker volume rm must be able to clear it
  EXPECT_TRUE(registry->List().empty());
}

TEST_F(VolumeRegistryTest, FailedCreateLeavesNothing) {
  auto registry = NewRegistry();
  EXPECT_THAT(ErrorOf([&] { registry->Create("missing", Options("nope")); }),
              HasSubstr("no such folder /tel_app_exports/echo/nope"));
  EXPECT_TRUE(factory_->live_mountpoints().empty());

  factory_->SetUnreachable(9);
  EXPECT_THAT(ErrorOf([&] { registry->Create("down", Options("data", "9")); }),
              HasSubstr("cannot connect to 127.0.0.1:9"));
  EXPECT_THAT(ErrorOf([&] { registry->Create("bad", Options("../..")); }), HasSubstr("\"dir\""));
  EXPECT_THAT(ErrorOf([&] { registry->Create("-bad", Options("data")); }),
              HasSubstr("invalid volume name"));
  EXPECT_TRUE(registry->List().empty());
  EXPECT_TRUE(factory_->live_mountpoints().empty());
  EXPECT_TRUE(NewRegistry()->List().empty());
}

TEST_F(VolumeRegistryTest, FailedCreateKeepsASharedMountInUse) {
  auto registry = NewRegistry();
  registry->Create("data", Options("data"));
  EXPECT_THROW(registry->Create("missing", Options("nope")), std::runtime_error);
  EXPECT_EQ(factory_->live_mountpoints().size(), 1u);
  EXPECT_EQ(registry->Get("data").status["mounted"], "true");
}

TEST_F(VolumeRegistryTest, CreateIsIdempotentForSameOptions) {
  auto registry = NewRegistry();
  registry->Create("data", Options("data"));
  registry->Create("data", Options("data"));
  EXPECT_THAT(ErrorOf([&] { registry->Create("data", Options("logs")); }),
              HasSubstr("already exists"));
}

TEST_F(VolumeRegistryTest, StateSurvivesARestart) {
  std::string created_at;
  {
    auto registry = NewRegistry();
    registry->Create("data", Options("data"));
    registry->Create("srv", {{"host", "127.0.0.1"}, {"port", "2222"}, {"path", "/srv"}});
    registry->Mount("data", "a");
    created_at = registry->Get("data").created_at;
  }
  EXPECT_TRUE(factory_->live_mountpoints().empty()) << "the destructor unmounts";

  auto restarted = NewRegistry();
  ASSERT_EQ(restarted->List().size(), 2u);
  EXPECT_EQ(restarted->Get("data").created_at, created_at);
  EXPECT_EQ(restarted->Get("data").status["mounted"], "false");
  EXPECT_EQ(restarted->Path("srv"), MountRoot() + "/127.0.0.1_2222_rw/.telemount-volumes/%2Fsrv");
  EXPECT_TRUE(factory_->live_mountpoints().empty()) << "mounts come back lazily";
  EXPECT_EQ(restarted->Mount("srv", "b"),
            MountRoot() + "/127.0.0.1_2222_rw/.telemount-volumes/%2Fsrv");
  EXPECT_EQ(factory_->live_mountpoints().size(), 1u);
  restarted->Unmount("data", "a");  // an ID from before the restart: harmless
  restarted->Remove("data");
  EXPECT_EQ(NewRegistry()->List().size(), 1u);
}

TEST_F(VolumeRegistryTest, CorruptStateIsMovedAside) {
  fs::create_directories(dir_ / "state");
  std::ofstream(dir_ / "state/volumes.json") << "{not json";
  auto registry = NewRegistry();
  EXPECT_TRUE(registry->List().empty());
  EXPECT_TRUE(fs::exists(dir_ / "state/volumes.json.corrupt"));
  registry->Create("data", Options("data"));
  EXPECT_EQ(NewRegistry()->List().size(), 1u);
}

TEST_F(VolumeRegistryTest, UnmountAllKeepsVolumes) {
  auto registry = NewRegistry();
  registry->Create("data", Options("data"));
  registry->UnmountAll();
  EXPECT_TRUE(factory_->live_mountpoints().empty());
  EXPECT_EQ(registry->List().size(), 1u);
  registry->Mount("data", "a");
  EXPECT_EQ(factory_->live_mountpoints().size(), 1u);
}

TEST_F(VolumeRegistryTest, ConcurrentCallsKeepOneMountPerEndpoint) {
  auto registry = NewRegistry();
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      const std::string name = "v" + std::to_string(i);
      registry->Create(name, Options(i % 2 ? "data" : "logs"));
      registry->Mount(name, "id");
      registry->Unmount(name, "id");
      if (i >= 4) registry->Remove(name);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(registry->List().size(), 4u);
  EXPECT_EQ(factory_->live_mountpoints().size(), 1u);
}

}  // namespace
}  // namespace tp::telemount
