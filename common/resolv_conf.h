// Reading resolv.conf(5): the text after each `nameserver` keyword, in file order (callers parse
// the addresses their own way; a missing or unreadable file gives an empty list), and the search
// domains.
#pragma once

#include <string>
#include <vector>

namespace tp {

std::vector<std::string> NameserverAddressesInResolvConf(const std::string& path);

// The search domains a resolv.conf text names: its last `search` (or `domain`) line's words, as
// the resolver takes them.
std::vector<std::string> SearchDomainsInResolvConfText(const std::string& text);

}  // namespace tp
