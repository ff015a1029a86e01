// The Docker Engine API's objects as the project uses them (API 1.41: dockerd 20.10 and every
// later engine), and their JSON codecs: typed specs -> request bodies, response bodies -> typed
// values. Pure functions, no I/O. Decoders take missing or null fields as empty and fail with
// kProtocol (naming the field) on a field of the wrong type or a body that is not JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "docker_engine/engine_result.h"

namespace tp::docker {

using Labels = std::map<std::string, std::string>;
// Filters of list and events calls: {"label": ["tp.daemon=default"], "name": ["x"]}.
using Filters = std::map<std::string, std::vector<std::string>>;

// The `filters` query parameter's value (JSON).
std::string EncodeFilters(const Filters& filters);

// A published port: container port "8787/tcp" on host_ip:host_port ("" port: any free one).
struct PortBinding {
  std::string container_port{};
  std::string host_ip{};
  std::string host_port{};
};

// A bind mount "source:target[:ro]" (source: a host path or a volume name).
struct BindMount {
  std::string source{};
  std::string target{};
  bool read_only = false;
};

// What POST /containers/create gets: the fields of a detached `docker run` the project uses.
// Creating never pulls: a missing image is kNotFound.
struct ContainerSpec {
  std::string name{};  // "" lets Docker choose
  std::string image{};
  std::optional<std::vector<std::string>> entrypoint{};  // nullopt: the image's
  std::vector<std::string> cmd{};                        // empty: the image's
  std::vector<std::string> env{};                        // "KEY=VALUE"
  Labels labels{};
  std::vector<std::string> cap_add{};
  std::vector<std::string> devices{};  // host device paths, at the same path inside
  std::vector<PortBinding> ports{};
  std::vector<BindMount> binds{};
  std::string network_mode{};    // "" for Docker's default bridge; "container:X", a network name
  std::string restart_policy{};  // "" (no), "always", "unless-stopped", "on-failure"
  std::vector<std::string> dns{};
  std::map<std::string, std::string> sysctls{};  // --sysctl KEY=VALUE (namespaced ones only)
  bool auto_remove = false;                      // --rm
  bool init = false;                             // --init
};

// The request body of POST /containers/create (the name goes in the query).
std::string EncodeContainerCreate(const ContainerSpec& spec);

// GET /containers/{id}/json, what the project reads of it.
struct ContainerInfo {
  std::string id{};
  std::string name{};   // without Docker's leading '/'
  std::string state{};  // "created", "running", "exited", ...
  int exit_code = 0;
  std::string image{};
  std::vector<std::string> env{};
  Labels labels{};
  std::vector<PortBinding> published_ports{};         // those with a host binding
  std::map<std::string, std::string> network_ipv4{};  // network name -> IPv4 address ("" if none)
};
EngineResult<ContainerInfo> DecodeContainerInspect(std::string_view body);

// One entry of GET /containers/json.
struct ContainerSummary {
  std::string id{};
  std::string name{};  // the first name, without '/'
  std::string state{};
  std::string image{};
  Labels labels{};
};
EngineResult<std::vector<ContainerSummary>> DecodeContainerList(std::string_view body);

// A container attached to a network.
struct NetworkEndpoint {
  std::string id{};
  std::string name{};
  std::string ipv4_address{};  // "10.200.0.2/24" as Docker shows it; empty when none
};

// GET /networks/{id} (and the entries of GET /networks, which leave `containers` empty).
struct NetworkInfo {
  std::string name{};
  std::string id{};
  std::string driver{};                          // "bridge", "teleroute:latest", ...
  std::vector<std::string> subnets{};            // IPAM subnets as Docker lists them (IPv4 or 6)
  std::vector<std::string> gateways{};           // IPAM gateways, where given
  std::map<std::string, std::string> options{};  // driver options (-o KEY=VALUE)
  Labels labels{};
  std::vector<NetworkEndpoint> containers{};  // sorted by name
};
// One network object.
EngineResult<NetworkInfo> DecodeNetwork(std::string_view body);
// A JSON array of network objects (GET /networks; also `docker network inspect`'s output).
EngineResult<std::vector<NetworkInfo>> DecodeNetworkList(std::string_view body);

struct IpamPool {
  std::string subnet{};
  std::string gateway{};                               // "" lets the IPAM driver choose
  std::string ip_range{};                              // where containers get addresses; "" all
  std::map<std::string, std::string> aux_addresses{};  // reserved addresses, by name
};

// POST /networks/create.
struct NetworkSpec {
  std::string name{};
  std::string driver{};      // "" for bridge
  bool enable_ipv6 = false;  // --ipv6: then one of the pools is IPv6
  std::vector<IpamPool> pools{};
  std::map<std::string, std::string> options{};
  Labels labels{};
};
std::string EncodeNetworkCreate(const NetworkSpec& spec);

// POST /volumes/create.
struct VolumeSpec {
  std::string name{};
  std::string driver{};  // "" for local
  std::map<std::string, std::string> driver_options{};
  Labels labels{};
};
std::string EncodeVolumeCreate(const VolumeSpec& spec);

struct VolumeInfo {
  std::string name{};
  std::string driver{};
  Labels labels{};
};
// GET /volumes: {"Volumes": [...]}.
EngineResult<std::vector<VolumeInfo>> DecodeVolumeList(std::string_view body);

// The env entry of a plugin's config that carries its version (scripts/lib/plugin_dir.sh).
inline constexpr std::string_view kPluginVersionEnv = "TELEPRESENCE_VERSION";

struct PluginInfo {
  std::string name{};  // with its tag: "teleroute:latest"
  bool enabled = false;
  // Config.Env's kPluginVersionEnv ("" for a plugin without one). Config, not Settings: an
  // upgrade keeps the old Settings.Env but brings the new config.
  std::string version{};
  std::string reference{};  // where it came from: "127.0.0.1:5000/telemount:0.1.0"
};
EngineResult<PluginInfo> DecodePlugin(std::string_view body);
EngineResult<std::vector<PluginInfo>> DecodePluginList(std::string_view body);
// One privilege a plugin asks for (GET /plugins/privileges): "network" ["host"],
// "capabilities" ["CAP_SYS_ADMIN"], "mount" [...], "device" ["/dev/fuse"], ...
struct PluginPrivilege {
  std::string name{};
  std::string description{};
  std::vector<std::string> values{};
};
EngineResult<std::vector<PluginPrivilege>> DecodePluginPrivileges(std::string_view body);
// The body that grants them (POST /plugins/pull, /upgrade): the engine compares it with what the
// plugin asks for, field by field.
std::string EncodePluginPrivileges(const std::vector<PluginPrivilege>& privileges);
// The body of POST /plugins/pull and /plugins/{name}/upgrade: JSON progress messages, one per
// line; an {"error": ...} among them means the operation failed (kRejected quoting it).
EngineResult<std::monostate> DecodePluginProgress(std::string_view body, std::string_view what);

struct ImageInfo {
  std::string id{};
  std::vector<std::string> tags{};
  Labels labels{};
};
EngineResult<ImageInfo> DecodeImageInspect(std::string_view body);
// GET /images/json: the tags of every image ("name:tag"; untagged images have none), sorted,
// without "<none>:<none>".
EngineResult<std::vector<std::string>> DecodeImageListTags(std::string_view body);

// One message of GET /events.
struct EngineEvent {
  std::string type{};      // "container", "network", ...
  std::string action{};    // "start", "die", "destroy", ...
  std::string actor_id{};  // the object's id
  Labels attributes{};     // "name", "exitCode", the object's labels
  int64_t time_nano = 0;
};
EngineResult<EngineEvent> DecodeEvent(std::string_view line);

// The engine's message in an error body ({"message": "..."}); the body itself when it has none.
std::string DecodeErrorMessage(std::string_view body);

// Splits a byte stream into newline-terminated lines (the events stream is one JSON object per
// line; chunks split lines anywhere).
class LineSplitter {
 public:
  // Appends bytes; returns the lines completed by them, without '\n'.
  std::vector<std::string> Feed(std::string_view bytes);

 private:
  std::string pending_;
};

// Splits the multiplexed log stream of a container without a TTY (8-byte headers: stream type,
// 3 zero bytes, big-endian length) into its frames.
class LogDemuxer {
 public:
  enum class Stream : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2 };
  struct Frame {
    Stream stream = Stream::kStdout;
    std::string payload{};
  };
  // Appends bytes; returns the frames completed by them.
  std::vector<Frame> Feed(std::string_view bytes);

 private:
  std::string pending_;
};

}  // namespace tp::docker
