#include "common/resolv_conf.h"

#include <fstream>
#include <functional>
#include <sstream>

namespace tp {
namespace {

// Calls `line` with each line's keyword and the words after it (lines without words skipped).
void ForEachLine(
    std::istream& input,
    const std::function<void(const std::string& keyword, std::istringstream& words)>& line) {
  std::string text;
  while (std::getline(input, text)) {
    std::istringstream words(text);
    std::string keyword;
    if (words >> keyword) line(keyword, words);
  }
}

}  // namespace

std::vector<std::string> NameserverAddressesInResolvConf(const std::string& path) {
  std::vector<std::string> addresses;
  std::ifstream file(path);
  ForEachLine(file, [&](const std::string& keyword, std::istringstream& words) {
    std::string address;
    if (keyword == "nameserver" && words >> address) addresses.push_back(address);
  });
  return addresses;
}

std::vector<std::string> SearchDomainsInResolvConfText(const std::string& text) {
  std::vector<std::string> domains;
  std::istringstream input(text);
  ForEachLine(input, [&](const std::string& keyword, std::istringstream& words) {
    if (keyword != "search" && keyword != "domain") return;
    domains.clear();
    for (std::string word; words >> word;) domains.push_back(word);
  });
  return domains;
}

}  // namespace tp
