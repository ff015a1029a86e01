#include "common/resolv_conf.h"

#include <fstream>
#include <sstream>

namespace tp {

std::vector<std::string> NameserverAddressesInResolvConf(const std::string& path) {
  std::vector<std::string> addresses;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    if ((words >> keyword >> address) && keyword == "nameserver") addresses.push_back(address);
  }
  return addresses;
}

}  // namespace tp
