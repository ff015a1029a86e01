// The resolv.conf that makes every container sharing the daemon's network namespace (`docker run
// --network container:tp-<ctx>-cn`, whose /etc/resolv.conf Docker takes from the daemon's) ask
// the daemon's DNS server:
//
//   # telepresence-daemon: cluster names through the daemon's DNS server
//   # telepresence-daemon upstream nameserver 127.0.0.11
//   nameserver 127.0.0.1
//   search default.svc.cluster.local svc.cluster.local cluster.local
//   options ndots:5
//
// The file's former nameservers stay in marker comments: the daemon's DNS server forwards other
// names to them, also after a restart that finds the file already rewritten.
#pragma once

#include <string>
#include <vector>

namespace tp::daemon {

struct ClusterResolvConf {
  std::string nameserver = "127.0.0.1";     // the daemon's DNS server (port 53)
  std::vector<std::string> search_domains;  // from the Welcome
  int ndots = 5;                            // as in a Kubernetes pod
  std::vector<std::string> upstream;        // the nameservers the file listed before
};

// The nameservers (as written) that names outside the cluster go to: the marker comments of an
// earlier rewrite when there are any, else the file's `nameserver` lines. Empty when none or
// the file cannot be read.
std::vector<std::string> UpstreamNameserverTexts(const std::string& path);

std::string ClusterResolvConfText(const ClusterResolvConf& config);

// Replaces the contents of `path` by truncating and writing it, never by rename (the file may be
// a bind mount). False with `error` set on failure.
bool WriteFileInPlace(const std::string& path, const std::string& text, std::string& error);

}  // namespace tp::daemon
