// EngineClient: the Docker Engine API over the engine's Unix socket (/var/run/docker.sock or
// DOCKER_HOST=unix://PATH), with cpp-httplib. One HTTP connection per call.
//
// API version: every path is prefixed with /v1.41 (dockerd 20.10's version, the oldest engine
// the project supports; later engines still serve it, down to their minimum 1.24), so requests
// and answers have one shape whatever the engine.
//
// Contract:
// * Every call has a deadline: a call fails with kTimeout when the engine stays silent longer than
//   the client's deadline (or the call's own, where one is given); streams end at their deadline
//   and can be cancelled from another thread (StreamCancel).
// * Errors are values (engine_result.h) quoting the engine's own message; when nothing listens
//   on the socket the message ends with kStartDockerdAdvice.
// * Calls that look one object up return nullopt for a missing object; removals treat a missing
//   object as removed.
// * Thread safety: an EngineClient is immutable after construction; its calls may run
//   concurrently from any threads (each opens its own connection).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docker_engine/engine_result.h"
#include "docker_engine/engine_types.h"
#include "sync/mutex.h"

namespace httplib {
class Client;
enum class Error;
}  // namespace httplib

namespace tp::docker {

inline constexpr std::string_view kDefaultDockerSocket = "/var/run/docker.sock";
inline constexpr std::string_view kApiVersionPrefix = "/v1.41";

// The engine's socket path for a DOCKER_HOST value (nullopt or "": the default socket).
// kUnsupported for tcp://, ssh:// and anything but unix://PATH, saying so.
EngineResult<std::string> SocketPathFromDockerHost(std::optional<std::string_view> docker_host);

// Lets another thread end a stream (events, logs) early. Cancel() is thread-safe and idempotent;
// a stream started after Cancel() ends at once. One StreamCancel serves one stream at a time.
class StreamCancel {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

 private:
  friend class EngineClient;
  // False when already cancelled (the stream must not start).
  bool Attach(httplib::Client* client);
  void Detach();

  std::atomic<bool> cancelled_{false};
  Mutex mutex_;
  httplib::Client* active_ GUARDED_BY(mutex_) = nullptr;  // the stream's client while it runs
};

class EngineClient {
 public:
  explicit EngineClient(std::string socket_path,
                        std::chrono::milliseconds deadline = std::chrono::seconds(30));

  // For DOCKER_HOST's value (see SocketPathFromDockerHost).
  static EngineResult<EngineClient> ForDockerHost(std::optional<std::string_view> docker_host);
  // A client whose every call fails with `why` (a DOCKER_HOST it cannot use): a command that
  // needs no engine (--help) still runs, and one that does gets the reason.
  static EngineClient Unusable(EngineError why);

  const std::string& socket_path() const { return socket_path_; }

  // GET /version: the engine's API version ("1.41").
  EngineResult<std::string> ApiVersion() const;

  // Containers. `container` is a name or an id.
  EngineResult<std::optional<ContainerInfo>> InspectContainer(std::string_view container) const;
  // All containers (running or not) matching the filters.
  EngineResult<std::vector<ContainerSummary>> ListContainers(const Filters& filters) const;
  // Creates the container (never pulls); its id.
  EngineResult<std::string> CreateContainer(const ContainerSpec& spec) const;
  EngineStatus StartContainer(std::string_view container) const;
  // Create + start, like `docker run -d`; a container that failed to start is removed again.
  EngineResult<std::string> RunContainer(const ContainerSpec& spec) const;
  // Stops it (SIGTERM, SIGKILL after `grace`); one already stopped or gone counts as stopped.
  EngineStatus StopContainer(std::string_view container, std::chrono::seconds grace) const;
  // Removes it (force: also when running); a missing one counts as removed, and one that Docker
  // is removing already (auto-remove) is waited for until it is gone.
  EngineStatus RemoveContainer(std::string_view container, bool force) const;
  // Blocks until the container is not running (POST /containers/{id}/wait, condition
  // not-running) or `deadline` passed (kTimeout); its exit code. kNotFound when it is gone.
  EngineResult<int> WaitContainer(std::string_view container,
                                  std::chrono::milliseconds deadline) const;
  // Its stdout and stderr (as frames, in order; for a container without a TTY) until its log ends
  // (with follow: until it exits), Done; on_frame returning false ends it early (Done), the
  // deadline with kTimeout, `cancel` with kCancelled.
  EngineStatus Logs(std::string_view container, bool follow, std::chrono::milliseconds deadline,
                    const std::function<bool(const LogDemuxer::Frame&)>& on_frame,
                    StreamCancel* cancel = nullptr) const;

  // GET /events matching the filters, from `since` on (the engine first replays what happened
  // since then, so that a caller cannot miss an event between an action and its subscription),
  // for at most `deadline`. Each event goes to on_event; returning false ends the stream (Done).
  // The deadline ends it with kTimeout, `cancel` with kCancelled.
  EngineStatus Events(const Filters& filters, std::chrono::system_clock::time_point since,
                      std::chrono::milliseconds deadline,
                      const std::function<bool(const EngineEvent&)>& on_event,
                      StreamCancel* cancel = nullptr) const;

  // Images, by name:tag or id.
  EngineResult<std::optional<ImageInfo>> InspectImage(std::string_view image) const;
  // Every tag of the engine's images, sorted (DecodeImageListTags).
  EngineResult<std::vector<std::string>> ListImageTags() const;

  // Networks, by name or id. ListNetworks' entries carry no containers; InspectNetwork's do.
  // InspectNetwork only returns the network of exactly that name or id (Docker also matches id
  // prefixes).
  EngineResult<std::vector<NetworkInfo>> ListNetworks(const Filters& filters = {}) const;
  EngineResult<std::optional<NetworkInfo>> InspectNetwork(std::string_view network) const;
  EngineResult<std::string> CreateNetwork(const NetworkSpec& spec) const;  // its id
  EngineStatus RemoveNetwork(std::string_view network) const;
  // Attaches a container, at `ipv4_address` and `ipv6_address` when not empty.
  EngineStatus ConnectNetwork(std::string_view network, std::string_view container,
                              std::string_view ipv4_address,
                              std::string_view ipv6_address = {}) const;
  EngineStatus DisconnectNetwork(std::string_view network, std::string_view container,
                                 bool force) const;

  // Volumes.
  EngineStatus CreateVolume(const VolumeSpec& spec) const;
  EngineResult<std::vector<VolumeInfo>> ListVolumes(const Filters& filters) const;
  EngineStatus RemoveVolume(std::string_view volume, bool force) const;

  // Managed plugins, by name ("teleroute:latest"; a bare name means :latest).
  EngineResult<std::vector<PluginInfo>> ListPlugins() const;
  EngineResult<std::optional<PluginInfo>> InspectPlugin(std::string_view plugin) const;
  // Enabling starts the plugin: it may take up to `deadline`.
  EngineStatus EnablePlugin(std::string_view plugin, std::chrono::milliseconds deadline) const;
  // Disabling stops it; `force` also when volumes or networks use it.
  EngineStatus DisablePlugin(std::string_view plugin, bool force) const;
  EngineStatus RemovePlugin(std::string_view plugin, bool force) const;
  // What installing `remote` ("127.0.0.1:5000/telemount:0.1.0") asks for, to be granted as is
  // to InstallPlugin or UpgradePlugin.
  EngineResult<std::vector<PluginPrivilege>> PluginPrivileges(std::string_view remote) const;
  // Pulls `remote` and installs it as `name` ("telemount:latest", like docker plugin install
  // --alias), granting `privileges`; the plugin is disabled until EnablePlugin. Up to `deadline`.
  EngineStatus InstallPlugin(std::string_view remote, std::string_view name,
                             const std::vector<PluginPrivilege>& privileges,
                             std::chrono::milliseconds deadline) const;
  // Gives the disabled plugin `name` the rootfs and config of `remote`, keeping its id, its
  // settings and what it keeps outside its rootfs (docker plugin upgrade --skip-remote-check).
  EngineStatus UpgradePlugin(std::string_view name, std::string_view remote,
                             const std::vector<PluginPrivilege>& privileges,
                             std::chrono::milliseconds deadline) const;
  // Creates the plugin `name` from `tar` (config.json and rootfs/, as docker plugin create
  // sends a folder); disabled until EnablePlugin.
  EngineStatus CreatePlugin(std::string_view name, const std::string& tar,
                            std::chrono::milliseconds deadline) const;

 private:
  struct Answer {
    int status = 0;
    std::string body;
  };
  enum class Method { kGet, kPost, kDelete };

  // One request; an error for transport failures only (any HTTP status is an Answer).
  EngineResult<Answer> Request(Method method, const std::string& path, const std::string& body,
                               std::chrono::milliseconds deadline,
                               std::string_view content_type = "application/json") const;
  // Request + a non-2xx status as an error describing `what` ("create container x").
  EngineResult<std::string> Call(Method method, const std::string& path, const std::string& body,
                                 std::string_view what, std::chrono::milliseconds deadline,
                                 std::string_view content_type = "application/json") const;
  EngineResult<std::string> Call(Method method, const std::string& path,
                                 std::string_view what) const;
  // Like Call, nullopt on 404.
  EngineResult<std::optional<std::string>> CallIfFound(const std::string& path,
                                                       std::string_view what) const;
  // GET path, feeding the body to on_bytes as it comes, until the end, the deadline, cancel, or
  // on_bytes returning false.
  EngineStatus Stream(const std::string& path, std::chrono::milliseconds deadline,
                      const std::function<bool(std::string_view)>& on_bytes, StreamCancel* cancel,
                      std::string_view what) const;
  // kTimeout for a read that timed out, else kUnreachable with kStartDockerdAdvice.
  EngineError TransportError(std::string_view what, httplib::Error error) const;

  std::string socket_path_;
  std::chrono::milliseconds deadline_;
  std::optional<EngineError> unusable_;  // set: every call fails with it
};

}  // namespace tp::docker
