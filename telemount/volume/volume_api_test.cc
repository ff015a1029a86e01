#include "telemount/volume/volume_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace tp::telemount {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// Records calls and answers from a fixed volume table; "broken" fails every call.
class FakeDriver : public VolumeDriver {
 public:
  void Create(const std::string& name, const std::map<std::string, std::string>& options) override {
    Check(name);
    created[name] = options;
  }
  void Remove(const std::string& name) override { Known(name); }
  std::string Mount(const std::string& name, const std::string& id) override {
    last_mount_id = id;
    return Known(name).mountpoint;
  }
  void Unmount(const std::string& name, const std::string& id) override {
    Known(name);
    last_unmount_id = id;
  }
  std::string Path(const std::string& name) override { return Known(name).mountpoint; }
  VolumeInfo Get(const std::string& name) override { return Known(name); }
  std::vector<VolumeInfo> List() override { return {volume}; }
  std::string Scope() const override { return "local"; }

  VolumeInfo volume{"v", "/mnt/volumes/h_1_rw/x", "2024-01-02T03:04:05Z", {{"server", "h:1"}}};
  std::map<std::string, std::map<std::string, std::string>> created;
  std::string last_mount_id, last_unmount_id;

 private:
  void Check(const std::string& name) {
    if (name == "broken") throw std::runtime_error("broken volume");
  }
  const VolumeInfo& Known(const std::string& name) {
    Check(name);
    if (name != volume.name) throw std::runtime_error("no such volume: " + name);
    return volume;
  }
};

class VolumeApiTest : public ::testing::Test {
 protected:
  json Call(const std::string& method, const json& request) {
    for (const PluginRoute& route : routes_) {
      if (route.method == "VolumeDriver." + method) return route.handler(request);
    }
    ADD_FAILURE() << "no route " << method;
    return nullptr;
  }
  // The error text a request gets, as PluginServer would answer it.
  std::string ErrorOf(const std::string& method, const json& request) {
    try {
      Call(method, request);
    } catch (const PluginError& error) {
      return error.what();
    } catch (const std::exception& error) {
      return std::string("not a PluginError: ") + error.what();
    }
    return "(no error)";
  }

  FakeDriver driver_;
  std::vector<PluginRoute> routes_ = VolumeDriverRoutes(driver_);
};

TEST_F(VolumeApiTest, RegistersEveryMethod) {
  std::vector<std::string> methods;
  for (const PluginRoute& route : routes_) methods.push_back(route.method);
  EXPECT_THAT(methods, ::testing::UnorderedElementsAre(
                           "VolumeDriver.Create", "VolumeDriver.Remove", "VolumeDriver.Mount",
                           "VolumeDriver.Unmount", "VolumeDriver.Path", "VolumeDriver.Get",
                           "VolumeDriver.List", "VolumeDriver.Capabilities"));
}

TEST_F(VolumeApiTest, RepliesHaveDockersShape) {
  EXPECT_EQ(Call("Create", {{"Name", "n"}, {"Opts", {{"host", "h"}}}}), json::object());
  EXPECT_EQ(driver_.created["n"], (std::map<std::string, std::string>{{"host", "h"}}));
  EXPECT_EQ(Call("Create", {{"Name", "m"}, {"Opts", nullptr}}), json::object());
  EXPECT_TRUE(driver_.created["m"].empty());
  EXPECT_EQ(Call("Create", {{"Name", "k"}}), json::object());
  EXPECT_EQ(Call("Remove", {{"Name", "v"}}), json::object());
  EXPECT_EQ(Call("Mount", {{"Name", "v"}, {"ID", "abc"}}),
            json({{"Mountpoint", "/mnt/volumes/h_1_rw/x"}}));
  EXPECT_EQ(driver_.last_mount_id, "abc");
  EXPECT_EQ(Call("Unmount", {{"Name", "v"}, {"ID", "abc"}}), json::object());
  EXPECT_EQ(driver_.last_unmount_id, "abc");
  EXPECT_EQ(Call("Path", {{"Name", "v"}}), json({{"Mountpoint", "/mnt/volumes/h_1_rw/x"}}));
  const json volume = {{"Name", "v"},
                       {"Mountpoint", "/mnt/volumes/h_1_rw/x"},
                       {"CreatedAt", "2024-01-02T03:04:05Z"},
                       {"Status", {{"server", "h:1"}}}};
  EXPECT_EQ(Call("Get", {{"Name", "v"}}), json({{"Volume", volume}}));
  EXPECT_EQ(Call("List", json::object()), json({{"Volumes", json::array({volume})}}));
  EXPECT_EQ(Call("Capabilities", json::object()),
            json::parse(R"({"Capabilities":{"Scope":"local"}})"));
}

TEST_F(VolumeApiTest, MalformedRequestsGetAnError) {
  EXPECT_THAT(ErrorOf("Create", json::object()), HasSubstr("missing field \"Name\""));
  EXPECT_THAT(ErrorOf("Get", {{"Name", 3}}), HasSubstr("\"Name\" must be a string"));
  EXPECT_THAT(ErrorOf("Get", {{"Name", ""}}), HasSubstr("\"Name\""));
  EXPECT_THAT(ErrorOf("Create", {{"Name", "n"}, {"Opts", "host=h"}}),
              HasSubstr("\"Opts\" must be an object"));
  EXPECT_THAT(ErrorOf("Create", {{"Name", "n"}, {"Opts", {{"port", 22}}}}),
              HasSubstr("\"port\" must have a string value"));
  EXPECT_THAT(ErrorOf("Mount", {{"Name", "v"}}), HasSubstr("missing field \"ID\""));
  EXPECT_THAT(ErrorOf("Unmount", {{"Name", "v"}, {"ID", json::array()}}),
              HasSubstr("\"ID\" must be a string"));
  EXPECT_TRUE(driver_.created.empty());
}

TEST_F(VolumeApiTest, DriverFailuresBecomePluginErrors) {
  for (const char* method : {"Get", "Path", "Remove"}) {
    EXPECT_EQ(ErrorOf(method, {{"Name", "unknown"}}), "no such volume: unknown") << method;
  }
  EXPECT_EQ(ErrorOf("Mount", {{"Name", "unknown"}, {"ID", "i"}}), "no such volume: unknown");
  EXPECT_EQ(ErrorOf("Create", {{"Name", "broken"}}), "broken volume");
}

}  // namespace
}  // namespace tp::telemount
