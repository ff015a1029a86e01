// Reading resolv.conf(5): the text after each `nameserver` keyword, in file order. Callers parse
// the addresses their own way (a missing or unreadable file gives an empty list).
#pragma once

#include <string>
#include <vector>

namespace tp {

std::vector<std::string> NameserverAddressesInResolvConf(const std::string& path);

}  // namespace tp
