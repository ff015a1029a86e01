// TunnelClient keeps one live tunnel to the traffic-manager. A background thread dials, does the
// handshake, keeps the manager's Welcome (subnets, DNS search domains, cluster domain), and when
// the tunnel dies dials again by itself with a doubling backoff (initial_backoff up to
// max_backoff); a refused handshake (wrong secret, other version) waits refused_backoff before
// the next attempt, so a misconfigured daemon never busy-loops. No lock is held across network
// I/O: the lock guards only the current connection and the status. Thread-safe. The destructor
// closes the tunnel and joins the thread; it returns within one dial or handshake timeout.
// Requests to the manager (Call) go on the live tunnel and fail at once when there is none;
// streams the manager opens towards the daemon go to the handler set with SetOpenTcpHandler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/dns_resolver.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_connection.h"
#include "tunnel/tunnel_frame.h"

namespace tp::daemon {

// The error sentence of a request made while there is no tunnel.
inline constexpr char kNotConnectedError[] = "not connected to the traffic-manager";

// `tunnel`->Call(body, deadline), or at once {ENOTCONN, {"error": kNotConnectedError}} when
// `tunnel` is null or dead.
tunnel::CallResult CallManager(const std::shared_ptr<tunnel::TunnelConnection>& tunnel,
                               std::string body, tunnel::Deadline deadline);

struct TunnelClientOptions {
  std::string manager_host = "127.0.0.1";
  uint16_t manager_port = 0;
  std::string secret;
  std::string client_name = "telepresence-daemon";
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{2000};
  std::chrono::milliseconds refused_backoff{5000};
  std::chrono::milliseconds dial_timeout{2000};
  std::chrono::milliseconds handshake_timeout{2000};
  tunnel::ConnectionOptions connection;
};

struct TunnelClientStatus {
  bool connected = false;
  std::string manager;                     // "host:port"
  std::optional<tunnel::Welcome> welcome;  // the last one received (kept while disconnected)
  std::string last_error;                  // why the last attempt or tunnel failed; "" if none
  uint64_t reconnect_count = 0;            // successful connections after the first
  uint64_t attempt_count = 0;              // dials started, successful or not
};

class TunnelClient {
 public:
  // Starts the background thread; the first attempt begins at once.
  explicit TunnelClient(TunnelClientOptions options);
  ~TunnelClient();
  TunnelClient(const TunnelClient&) = delete;
  TunnelClient& operator=(const TunnelClient&) = delete;

  // The live tunnel, or nullptr while there is none. A holder may keep using it after it dies
  // (every call then fails with ECONNRESET at once); ask again for the next one.
  std::shared_ptr<tunnel::TunnelConnection> Current() const;
  TunnelClientStatus Status() const;
  // Waits until a tunnel is up or `deadline` passes; the Welcome of the live tunnel, or nullopt.
  std::optional<tunnel::Welcome> WaitUntilConnected(tunnel::Deadline deadline) const;
  // Waits until the cluster's subnets (of the latest Welcome, as changed by SubnetsChanged)
  // differ from `known` or `deadline` passes; returns them then, nullopt while no Welcome has
  // arrived yet. Pass nullopt to wait for the first Welcome.
  std::optional<std::vector<std::string>> WaitForSubnets(
      const std::optional<std::vector<std::string>>& known, tunnel::Deadline deadline) const;
  // Receives the UDP replies of every tunnel from now on, on the live tunnel's reader thread,
  // one call at a time (it must return quickly). Replaces the previous handler; once this
  // returns, the previous one is not running and will not be called again. nullptr removes it.
  using UdpReplyHandler = std::function<void(uint32_t flow_id, const tunnel::UdpReply& reply)>;
  void SetUdpReplyHandler(UdpReplyHandler handler);
  // Receives the streams the manager opens on every tunnel from now on (Accept or Refuse them),
  // on the tunnel's reader thread (it must return quickly). Same replacement rules as the UDP
  // handler. Without one, such streams are refused (ECONNREFUSED).
  using OpenTcpHandler = std::function<void(std::unique_ptr<tunnel::TunnelStream> stream,
                                            const tunnel::OpenTcp& request)>;
  void SetOpenTcpHandler(OpenTcpHandler handler);
  // A JSON request to the manager on the live tunnel (see CallManager).
  tunnel::CallResult Call(std::string body, tunnel::Deadline deadline) const;
  // Asks the cluster's DNS through whatever tunnel is live at the time of each query; nothing
  // (nullopt at once) while there is none. Lives as long as the client.
  DnsResolver& Resolver() { return resolver_; }

 private:
  class CurrentTunnelResolver : public DnsResolver {
   public:
    explicit CurrentTunnelResolver(const TunnelClient& client) : client_(client) {}
    std::optional<std::vector<uint8_t>> Resolve(std::span<const uint8_t> query,
                                                std::chrono::milliseconds timeout) override;

   private:
    const TunnelClient& client_;
  };
  // The shared state, each member GUARDED_BY its mutex. Held by shared_ptr so that a connection's
  // handlers (which keep a weak_ptr) never touch a destroyed client, even when a holder keeps the
  // connection.
  struct State {
    Mutex mutex;
    CondVar changed;  // connected or stopping changed
    bool stopping GUARDED_BY(mutex) = false;
    std::shared_ptr<tunnel::TunnelConnection> current GUARDED_BY(mutex);
    TunnelClientStatus status GUARDED_BY(mutex);
    // Held while the handler runs, so that replacing it waits for a call in progress. Never
    // taken together with `mutex`.
    Mutex udp_reply_mutex;
    UdpReplyHandler udp_reply_handler GUARDED_BY(udp_reply_mutex);
    // The same for streams the manager opens.
    Mutex open_tcp_mutex;
    OpenTcpHandler open_tcp_handler GUARDED_BY(open_tcp_mutex);
  };

  void Run();
  // One dial + handshake, no lock held. The connection on success; else nullptr, with the
  // reason recorded and `refused` set when the manager refused us.
  // `closed` turns true (under the mutex) once the connection has died.
  std::shared_ptr<tunnel::TunnelConnection> Connect(std::shared_ptr<bool> closed, bool& refused);
  void Publish(std::shared_ptr<tunnel::TunnelConnection> connection, tunnel::Welcome welcome);
  // Blocks until `connection` dies (the destructor closes it to stop); records why.
  void WatchUntilDead(const std::shared_ptr<tunnel::TunnelConnection>& connection,
                      const bool& closed);
  // Sleeps for `duration`; false when stopping (at once when asked during the sleep).
  bool SleepUnlessStopping(std::chrono::milliseconds duration);
  void SetError(const std::string& error);

  const TunnelClientOptions options_;
  const std::string manager_address_;  // "host:port"
  const std::shared_ptr<State> state_ = std::make_shared<State>();
  CurrentTunnelResolver resolver_{*this};
  std::thread thread_;
};

}  // namespace tp::daemon
