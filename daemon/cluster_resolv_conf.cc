#include "daemon/cluster_resolv_conf.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/resolv_conf.h"
#include "net/unique_fd.h"

namespace tp::daemon {
namespace {

constexpr char kHeader[] = "# telepresence-daemon: cluster names through the daemon's DNS server";
constexpr char kUpstreamMarker[] = "# telepresence-daemon upstream nameserver ";

}  // namespace

std::vector<std::string> UpstreamNameserverTexts(const std::string& path) {
  std::vector<std::string> marked;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (!line.starts_with(kUpstreamMarker)) continue;
    const std::string address = line.substr(std::strlen(kUpstreamMarker));
    if (!address.empty()) marked.push_back(address);
  }
  // A rewritten file with no upstream at all still has its header: its own nameserver line
  // points back at the daemon, so it is not an upstream either.
  if (!marked.empty()) return marked;
  file.clear();
  file.seekg(0);
  while (std::getline(file, line)) {
    if (line == kHeader) return {};
  }
  return NameserverAddressesInResolvConf(path);
}

std::string ClusterResolvConfText(const ClusterResolvConf& config) {
  std::string text = std::string(kHeader) + "\n";
  for (const std::string& upstream : config.upstream) text += kUpstreamMarker + upstream + "\n";
  text += "nameserver " + config.nameserver + "\n";
  if (!config.search_domains.empty()) {
    text += "search";
    for (const std::string& domain : config.search_domains) text += " " + domain;
    text += "\n";
  }
  text += "options ndots:" + std::to_string(config.ndots) + "\n";
  return text;
}

bool WriteFileInPlace(const std::string& path, const std::string& text, std::string& error) {
  const UniqueFd file(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0644));
  if (!file.Valid()) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t result = ::write(file.Get(), text.data() + written, text.size() - written);
    if (result < 0 && errno == EINTR) continue;
    if (result <= 0) {
      error = "cannot write " + path + ": " + std::strerror(errno);
      return false;
    }
    written += static_cast<size_t>(result);
  }
  return true;
}

}  // namespace tp::daemon
