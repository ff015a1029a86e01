#include "docker_engine/engine_client.h"

#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "sync/mutex.h"

namespace tp::docker {
namespace {

using std::chrono::milliseconds;

// The Host header for a Unix socket peer (httplib would send the socket path, which Go's HTTP
// server refuses as malformed).
constexpr std::string_view kHostHeader = "docker";

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return encoded;
}

std::string Path(std::string_view path) {
  return std::string(kApiVersionPrefix) + std::string(path);
}

std::string Segment(std::string_view name) { return PercentEncode(name); }

std::string FilterQuery(const Filters& filters) {
  return filters.empty() ? "" : "filters=" + PercentEncode(EncodeFilters(filters));
}

EngineErrorKind KindOfStatus(int status) {
  if (status == 404) return EngineErrorKind::kNotFound;
  if (status == 409) return EngineErrorKind::kConflict;
  return EngineErrorKind::kRejected;
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

std::unique_ptr<httplib::Client> NewClient(const std::string& socket_path, milliseconds deadline) {
  auto client = std::make_unique<httplib::Client>(socket_path, 80);
  client->set_address_family(AF_UNIX);
  client->set_default_headers({{"Host", std::string(kHostHeader)}});
  client->set_connection_timeout(deadline);
  client->set_read_timeout(deadline);
  client->set_write_timeout(deadline);
  return client;
}

// Ends a stream at its deadline: a thread that cancels it then, unless the stream ended first.
class DeadlineWatch {
 public:
  DeadlineWatch(StreamCancel& cancel, milliseconds deadline)
      : thread_([this, &cancel, deadline] {
          MutexLock lock(mutex_);
          if (!ended_cv_.WaitFor(mutex_, deadline, [this]() REQUIRES(mutex_) { return ended_; })) {
            fired_ = true;
            lock.Unlock();
            cancel.Cancel();
          }
        }) {}
  ~DeadlineWatch() {
    {
      MutexLock lock(mutex_);
      ended_ = true;
    }
    ended_cv_.NotifyOne();
    thread_.join();
  }
  bool fired() {
    MutexLock lock(mutex_);
    return fired_;
  }

 private:
  Mutex mutex_;
  CondVar ended_cv_;
  bool ended_ GUARDED_BY(mutex_) = false;
  bool fired_ GUARDED_BY(mutex_) = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace

EngineResult<std::string> SocketPathFromDockerHost(std::optional<std::string_view> docker_host) {
  if (!docker_host || docker_host->empty()) return std::string(kDefaultDockerSocket);
  constexpr std::string_view kUnix = "unix://";
  if (docker_host->starts_with(kUnix) && docker_host->size() > kUnix.size()) {
    return std::string(docker_host->substr(kUnix.size()));
  }
  return EngineError{EngineErrorKind::kUnsupported, 0,
                     "DOCKER_HOST=" + std::string(*docker_host) +
                         " is not supported: telepresence talks to a local engine's Unix socket "
                         "only; use DOCKER_HOST=unix:///PATH/TO/docker.sock or unset it"};
}

void StreamCancel::Cancel() {
  MutexLock lock(mutex_);
  cancelled_ = true;
  // stop() only shuts the socket down (it does not block), so it may run under the lock.
  if (active_ != nullptr) active_->stop();
}

bool StreamCancel::Attach(httplib::Client* client) {
  MutexLock lock(mutex_);
  if (cancelled_) return false;
  active_ = client;
  return true;
}

void StreamCancel::Detach() {
  MutexLock lock(mutex_);
  active_ = nullptr;
}

EngineClient::EngineClient(std::string socket_path, milliseconds deadline)
    : socket_path_(std::move(socket_path)), deadline_(deadline) {}

EngineResult<EngineClient> EngineClient::ForDockerHost(
    std::optional<std::string_view> docker_host) {
  EngineResult<std::string> path = SocketPathFromDockerHost(docker_host);
  if (!path.ok()) return path.error();
  return EngineClient(path.value());
}

EngineClient EngineClient::Unusable(EngineError why) {
  EngineClient client("");
  client.unusable_ = std::move(why);
  return client;
}

EngineError EngineClient::TransportError(std::string_view what, httplib::Error error) const {
  const std::string engine = "the Docker engine at unix://" + socket_path_;
  if (error == httplib::Error::Read) {
    return {EngineErrorKind::kTimeout, 0, engine + " did not answer (" + std::string(what) + ")"};
  }
  std::string detail = httplib::to_string(error);
  if (error == httplib::Error::Connection) {
    detail = ::access(socket_path_.c_str(), F_OK) == 0 ? "nothing answers on its socket"
                                                       : "its socket does not exist";
  }
  return {EngineErrorKind::kUnreachable, 0,
          "cannot reach " + engine + " (" + detail + "); " + std::string(kStartDockerdAdvice)};
}

EngineResult<EngineClient::Answer> EngineClient::Request(Method method, const std::string& path,
                                                         const std::string& body,
                                                         milliseconds deadline,
                                                         std::string_view content_type) const {
  if (unusable_) return *unusable_;
  std::unique_ptr<httplib::Client> client = NewClient(socket_path_, deadline);
  httplib::Result result = [&] {
    switch (method) {
      case Method::kGet:
        return client->Get(path);
      case Method::kPost:
        return client->Post(path, body, std::string(content_type));
      case Method::kDelete:
        return client->Delete(path);
    }
    return client->Get(path);
  }();
  if (!result) {
    httplib::Error error = result.error();
    return TransportError(path, error);
  }
  return Answer{result->status, result->body};
}

EngineResult<std::string> EngineClient::Call(Method method, const std::string& path,
                                             const std::string& body, std::string_view what,
                                             milliseconds deadline,
                                             std::string_view content_type) const {
  EngineResult<Answer> answer = Request(method, path, body, deadline, content_type);
  if (!answer.ok()) {
    EngineError error = answer.error();
    if (error.kind == EngineErrorKind::kTimeout) {
      error.message = "the Docker engine did not " + std::string(what) + " within " +
                      std::to_string(deadline.count()) + " ms";
    }
    return error;
  }
  if (IsSuccess(answer.value().status) || answer.value().status == 304) {
    return std::move(answer.value().body);
  }
  const int status = answer.value().status;
  return EngineError{
      KindOfStatus(status), status,
      "Docker cannot " + std::string(what) + ": " + DecodeErrorMessage(answer.value().body)};
}

EngineResult<std::string> EngineClient::Call(Method method, const std::string& path,
                                             std::string_view what) const {
  return Call(method, path, "", what, deadline_);
}

EngineResult<std::optional<std::string>> EngineClient::CallIfFound(const std::string& path,
                                                                   std::string_view what) const {
  EngineResult<std::string> body = Call(Method::kGet, path, what);
  if (body.ok()) return std::optional<std::string>(std::move(body).value());
  if (body.error().kind == EngineErrorKind::kNotFound) return std::optional<std::string>();
  return body.error();
}

EngineStatus EngineClient::Stream(const std::string& path, milliseconds deadline,
                                  const std::function<bool(std::string_view)>& on_bytes,
                                  StreamCancel* cancel, std::string_view what) const {
  if (unusable_) return *unusable_;
  std::unique_ptr<httplib::Client> client = NewClient(socket_path_, deadline + deadline_);
  StreamCancel at_deadline;
  if (cancel != nullptr && !cancel->Attach(client.get())) {
    return EngineError{EngineErrorKind::kCancelled, 0, "cancelled: " + std::string(what)};
  }
  at_deadline.Attach(client.get());
  int status = 0;
  std::string error_body;
  bool ended_by_reader = false;
  httplib::Result result = [&] {
    DeadlineWatch watch(at_deadline, deadline);
    httplib::Result got = client->Get(
        path, httplib::Headers{},
        [&](const httplib::Response& response) {
          status = response.status;
          return true;
        },
        [&](const char* data, size_t length) {
          if (!IsSuccess(status)) {
            error_body.append(data, length);
            return true;
          }
          ended_by_reader = !on_bytes(std::string_view(data, length));
          return !ended_by_reader;
        });
    return got;
  }();
  if (cancel != nullptr) cancel->Detach();
  if (ended_by_reader) return Done{};
  if (cancel != nullptr && cancel->cancelled()) {
    return EngineError{EngineErrorKind::kCancelled, 0, "cancelled: " + std::string(what)};
  }
  if (at_deadline.cancelled()) {
    return EngineError{EngineErrorKind::kTimeout, 0,
                       "the Docker engine's " + std::string(what) + " ended at its deadline (" +
                           std::to_string(deadline.count()) + " ms)"};
  }
  if (status != 0 && !IsSuccess(status)) {
    return EngineError{
        KindOfStatus(status), status,
        "Docker cannot " + std::string(what) + ": " + DecodeErrorMessage(error_body)};
  }
  if (!result) {
    return TransportError(what, result.error());
  }
  return Done{};
}

EngineResult<std::string> EngineClient::ApiVersion() const {
  EngineResult<std::string> body = Call(Method::kGet, "/version", "tell its version");
  if (!body.ok()) return body.error();
  nlohmann::json version = nlohmann::json::parse(body.value(), nullptr, false);
  if (!version.is_object() || !version.contains("ApiVersion") ||
      !version["ApiVersion"].is_string()) {
    return EngineError{EngineErrorKind::kProtocol, 0,
                       "the Docker engine's /version has no ApiVersion"};
  }
  return version["ApiVersion"].get<std::string>();
}

EngineResult<std::optional<ContainerInfo>> EngineClient::InspectContainer(
    std::string_view container) const {
  EngineResult<std::optional<std::string>> body =
      CallIfFound(Path("/containers/" + Segment(container) + "/json"),
                  "inspect container " + std::string(container));
  if (!body.ok()) return body.error();
  if (!body.value()) return std::optional<ContainerInfo>();
  EngineResult<ContainerInfo> info = DecodeContainerInspect(*body.value());
  if (!info.ok()) return info.error();
  return std::optional<ContainerInfo>(std::move(info).value());
}

EngineResult<std::vector<ContainerSummary>> EngineClient::ListContainers(
    const Filters& filters) const {
  EngineResult<std::string> body =
      Call(Method::kGet, Path("/containers/json?all=1&" + FilterQuery(filters)), "list containers");
  if (!body.ok()) return body.error();
  return DecodeContainerList(body.value());
}

EngineResult<std::string> EngineClient::CreateContainer(const ContainerSpec& spec) const {
  std::string query = spec.name.empty() ? "" : "?name=" + PercentEncode(spec.name);
  EngineResult<std::string> body =
      Call(Method::kPost, Path("/containers/create" + query), EncodeContainerCreate(spec),
           "create container " + (spec.name.empty() ? spec.image : spec.name), deadline_);
  if (!body.ok()) return body.error();
  nlohmann::json created = nlohmann::json::parse(body.value(), nullptr, false);
  if (!created.is_object() || !created.contains("Id") || !created["Id"].is_string()) {
    return EngineError{EngineErrorKind::kProtocol, 0,
                       "the Docker engine's answer to a container create has no Id"};
  }
  return created["Id"].get<std::string>();
}

EngineStatus EngineClient::StartContainer(std::string_view container) const {
  EngineResult<std::string> body =
      Call(Method::kPost, Path("/containers/" + Segment(container) + "/start"),
           "start container " + std::string(container));
  if (!body.ok()) return body.error();
  return Done{};
}

EngineResult<std::string> EngineClient::RunContainer(const ContainerSpec& spec) const {
  EngineResult<std::string> id = CreateContainer(spec);
  if (!id.ok()) return id.error();
  EngineStatus started = StartContainer(id.value());
  if (started.ok()) return id;
  (void)RemoveContainer(id.value(), /*force=*/true);  // the start's error is the one to report
  return started.error();
}

EngineStatus EngineClient::StopContainer(std::string_view container,
                                         std::chrono::seconds grace) const {
  EngineResult<std::string> body =
      Call(Method::kPost,
           Path("/containers/" + Segment(container) + "/stop?t=" + std::to_string(grace.count())),
           "", "stop container " + std::string(container), deadline_ + grace);
  if (!body.ok() && body.error().kind != EngineErrorKind::kNotFound) return body.error();
  return Done{};
}

EngineStatus EngineClient::RemoveContainer(std::string_view container, bool force) const {
  EngineResult<std::string> body =
      Call(Method::kDelete,
           Path("/containers/" + Segment(container) + "?v=0&force=" + (force ? "1" : "0")),
           "remove container " + std::string(container));
  if (body.ok() || body.error().kind == EngineErrorKind::kNotFound) return Done{};
  if (body.error().kind != EngineErrorKind::kConflict ||
      body.error().message.find("already in progress") == std::string::npos) {
    return body.error();
  }
  // Docker removes it already (an auto-removed container that stopped): wait until it is gone.
  EngineResult<std::string> removed =
      Call(Method::kPost, Path("/containers/" + Segment(container) + "/wait?condition=removed"), "",
           "wait for the removal of container " + std::string(container), deadline_);
  if (removed.ok() || removed.error().kind == EngineErrorKind::kNotFound) return Done{};
  return removed.error();
}

EngineResult<int> EngineClient::WaitContainer(std::string_view container,
                                              milliseconds deadline) const {
  EngineResult<std::string> body =
      Call(Method::kPost, Path("/containers/" + Segment(container) + "/wait?condition=not-running"),
           "", "wait for container " + std::string(container) + " to stop", deadline);
  if (!body.ok()) return body.error();
  nlohmann::json waited = nlohmann::json::parse(body.value(), nullptr, false);
  if (!waited.is_object() || !waited.contains("StatusCode") ||
      !waited["StatusCode"].is_number_integer()) {
    return EngineError{EngineErrorKind::kProtocol, 0,
                       "the Docker engine's answer to a container wait has no StatusCode"};
  }
  return waited["StatusCode"].get<int>();
}

EngineStatus EngineClient::Logs(std::string_view container, bool follow, milliseconds deadline,
                                const std::function<bool(const LogDemuxer::Frame&)>& on_frame,
                                StreamCancel* cancel) const {
  LogDemuxer demuxer;
  return Stream(
      Path("/containers/" + Segment(container) +
           "/logs?stdout=1&stderr=1&follow=" + (follow ? "1" : "0")),
      deadline,
      [&](std::string_view bytes) {
        for (const LogDemuxer::Frame& frame : demuxer.Feed(bytes)) {
          if (!on_frame(frame)) return false;
        }
        return true;
      },
      cancel, "logs of container " + std::string(container));
}

EngineStatus EngineClient::Events(const Filters& filters,
                                  std::chrono::system_clock::time_point since,
                                  milliseconds deadline,
                                  const std::function<bool(const EngineEvent&)>& on_event,
                                  StreamCancel* cancel) const {
  const auto since_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(since.time_since_epoch()).count();
  LineSplitter lines;
  std::optional<EngineError> unreadable;
  EngineStatus streamed = Stream(
      Path("/events?since=" + std::to_string(since_seconds) + "&" + FilterQuery(filters)), deadline,
      [&](std::string_view bytes) {
        for (const std::string& line : lines.Feed(bytes)) {
          EngineResult<EngineEvent> event = DecodeEvent(line);
          if (!event.ok()) {
            unreadable = event.error();
            return false;
          }
          if (!on_event(event.value())) return false;
        }
        return true;
      },
      cancel, "event stream");
  if (unreadable) return *unreadable;
  return streamed;
}

EngineResult<std::optional<ImageInfo>> EngineClient::InspectImage(std::string_view image) const {
  EngineResult<std::optional<std::string>> body = CallIfFound(
      Path("/images/" + Segment(image) + "/json"), "inspect image " + std::string(image));
  if (!body.ok()) return body.error();
  if (!body.value()) return std::optional<ImageInfo>();
  EngineResult<ImageInfo> info = DecodeImageInspect(*body.value());
  if (!info.ok()) return info.error();
  return std::optional<ImageInfo>(std::move(info).value());
}

EngineResult<std::vector<std::string>> EngineClient::ListImageTags() const {
  EngineResult<std::string> body = Call(Method::kGet, Path("/images/json"), "list images");
  if (!body.ok()) return body.error();
  return DecodeImageListTags(body.value());
}

EngineResult<std::vector<NetworkInfo>> EngineClient::ListNetworks(const Filters& filters) const {
  EngineResult<std::string> body =
      Call(Method::kGet, Path("/networks?" + FilterQuery(filters)), "list networks");
  if (!body.ok()) return body.error();
  return DecodeNetworkList(body.value());
}

EngineResult<std::optional<NetworkInfo>> EngineClient::InspectNetwork(
    std::string_view network) const {
  EngineResult<std::optional<std::string>> body =
      CallIfFound(Path("/networks/" + Segment(network)), "inspect network " + std::string(network));
  if (!body.ok()) return body.error();
  if (!body.value()) return std::optional<NetworkInfo>();
  EngineResult<NetworkInfo> info = DecodeNetwork(*body.value());
  if (!info.ok()) return info.error();
  if (info.value().name != network && info.value().id != network) {
    return std::optional<NetworkInfo>();  // an id prefix matched another network
  }
  return std::optional<NetworkInfo>(std::move(info).value());
}

EngineResult<std::string> EngineClient::CreateNetwork(const NetworkSpec& spec) const {
  EngineResult<std::string> body =
      Call(Method::kPost, Path("/networks/create"), EncodeNetworkCreate(spec),
           "create network " + spec.name, deadline_);
  if (!body.ok()) return body.error();
  nlohmann::json created = nlohmann::json::parse(body.value(), nullptr, false);
  if (!created.is_object() || !created.contains("Id") || !created["Id"].is_string()) {
    return EngineError{EngineErrorKind::kProtocol, 0,
                       "the Docker engine's answer to a network create has no Id"};
  }
  return created["Id"].get<std::string>();
}

EngineStatus EngineClient::RemoveNetwork(std::string_view network) const {
  EngineResult<std::string> body = Call(Method::kDelete, Path("/networks/" + Segment(network)),
                                        "remove network " + std::string(network));
  if (!body.ok() && body.error().kind != EngineErrorKind::kNotFound) return body.error();
  return Done{};
}

EngineStatus EngineClient::ConnectNetwork(std::string_view network, std::string_view container,
                                          std::string_view ipv4_address,
                                          std::string_view ipv6_address) const {
  nlohmann::json request{{"Container", container}};
  nlohmann::json ipam = nlohmann::json::object();
  if (!ipv4_address.empty()) ipam["IPv4Address"] = ipv4_address;
  if (!ipv6_address.empty()) ipam["IPv6Address"] = ipv6_address;
  if (!ipam.empty()) request["EndpointConfig"] = {{"IPAMConfig", ipam}};
  EngineResult<std::string> body =
      Call(Method::kPost, Path("/networks/" + Segment(network) + "/connect"), request.dump(),
           "connect container " + std::string(container) + " to network " + std::string(network),
           deadline_);
  if (!body.ok()) return body.error();
  return Done{};
}

EngineStatus EngineClient::DisconnectNetwork(std::string_view network, std::string_view container,
                                             bool force) const {
  nlohmann::json request{{"Container", container}, {"Force", force}};
  EngineResult<std::string> body = Call(
      Method::kPost, Path("/networks/" + Segment(network) + "/disconnect"), request.dump(),
      "disconnect container " + std::string(container) + " from network " + std::string(network),
      deadline_);
  if (!body.ok()) return body.error();
  return Done{};
}

EngineStatus EngineClient::CreateVolume(const VolumeSpec& spec) const {
  EngineResult<std::string> body =
      Call(Method::kPost, Path("/volumes/create"), EncodeVolumeCreate(spec),
           "create volume " + spec.name, deadline_);
  if (!body.ok()) return body.error();
  return Done{};
}

EngineResult<std::vector<VolumeInfo>> EngineClient::ListVolumes(const Filters& filters) const {
  EngineResult<std::string> body =
      Call(Method::kGet, Path("/volumes?" + FilterQuery(filters)), "list volumes");
  if (!body.ok()) return body.error();
  return DecodeVolumeList(body.value());
}

EngineStatus EngineClient::RemoveVolume(std::string_view volume, bool force) const {
  EngineResult<std::string> body =
      Call(Method::kDelete, Path("/volumes/" + Segment(volume) + "?force=" + (force ? "1" : "0")),
           "remove volume " + std::string(volume));
  if (!body.ok() && body.error().kind != EngineErrorKind::kNotFound) return body.error();
  return Done{};
}

EngineResult<std::vector<PluginInfo>> EngineClient::ListPlugins() const {
  EngineResult<std::string> body = Call(Method::kGet, Path("/plugins"), "list plugins");
  if (!body.ok()) return body.error();
  return DecodePluginList(body.value());
}

EngineResult<std::optional<PluginInfo>> EngineClient::InspectPlugin(std::string_view plugin) const {
  EngineResult<std::optional<std::string>> body = CallIfFound(
      Path("/plugins/" + Segment(plugin) + "/json"), "inspect plugin " + std::string(plugin));
  if (!body.ok()) return body.error();
  if (!body.value()) return std::optional<PluginInfo>();
  EngineResult<PluginInfo> info = DecodePlugin(*body.value());
  if (!info.ok()) return info.error();
  return std::optional<PluginInfo>(std::move(info).value());
}

EngineStatus EngineClient::EnablePlugin(std::string_view plugin, milliseconds deadline) const {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(deadline).count();
  EngineResult<std::string> body =
      Call(Method::kPost,
           Path("/plugins/" + Segment(plugin) + "/enable?timeout=" + std::to_string(seconds)), "",
           "enable plugin " + std::string(plugin), deadline + deadline_);
  if (!body.ok()) return body.error();
  return Done{};
}

EngineStatus EngineClient::DisablePlugin(std::string_view plugin, bool force) const {
  EngineResult<std::string> body = Call(
      Method::kPost, Path("/plugins/" + Segment(plugin) + "/disable" + (force ? "?force=1" : "")),
      "", "disable plugin " + std::string(plugin), deadline_);
  if (!body.ok()) return body.error();
  return Done{};
}

EngineStatus EngineClient::RemovePlugin(std::string_view plugin, bool force) const {
  EngineResult<std::string> body =
      Call(Method::kDelete, Path("/plugins/" + Segment(plugin) + (force ? "?force=1" : "")), "",
           "remove plugin " + std::string(plugin), deadline_);
  if (!body.ok() && body.error().kind != EngineErrorKind::kNotFound) return body.error();
  return Done{};
}

EngineResult<std::vector<PluginPrivilege>> EngineClient::PluginPrivileges(
    std::string_view remote) const {
  EngineResult<std::string> body =
      Call(Method::kGet, Path("/plugins/privileges?remote=" + PercentEncode(remote)),
           "read the privileges of plugin " + std::string(remote));
  if (!body.ok()) return body.error();
  return DecodePluginPrivileges(body.value());
}

EngineStatus EngineClient::InstallPlugin(std::string_view remote, std::string_view name,
                                         const std::vector<PluginPrivilege>& privileges,
                                         milliseconds deadline) const {
  const std::string what = "install plugin " + std::string(remote) + " as " + std::string(name);
  EngineResult<std::string> body =
      Call(Method::kPost,
           Path("/plugins/pull?remote=" + PercentEncode(remote) + "&name=" + PercentEncode(name)),
           EncodePluginPrivileges(privileges), what, deadline);
  if (!body.ok()) return body.error();
  EngineResult<std::monostate> progress = DecodePluginProgress(body.value(), what);
  if (!progress.ok()) return progress.error();
  return Done{};
}

EngineStatus EngineClient::UpgradePlugin(std::string_view name, std::string_view remote,
                                         const std::vector<PluginPrivilege>& privileges,
                                         milliseconds deadline) const {
  const std::string what = "upgrade plugin " + std::string(name) + " to " + std::string(remote);
  EngineResult<std::string> body = Call(
      Method::kPost, Path("/plugins/" + Segment(name) + "/upgrade?remote=" + PercentEncode(remote)),
      EncodePluginPrivileges(privileges), what, deadline);
  if (!body.ok()) return body.error();
  EngineResult<std::monostate> progress = DecodePluginProgress(body.value(), what);
  if (!progress.ok()) return progress.error();
  return Done{};
}

EngineStatus EngineClient::CreatePlugin(std::string_view name, const std::string& tar,
                                        milliseconds deadline) const {
  EngineResult<std::string> body =
      Call(Method::kPost, Path("/plugins/create?name=" + PercentEncode(name)), tar,
           "create plugin " + std::string(name), deadline, "application/x-tar");
  if (!body.ok()) return body.error();
  return Done{};
}

}  // namespace tp::docker
