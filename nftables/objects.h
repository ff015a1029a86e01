// The nftables objects both firewall users build (tables, base chains, sets with their elements,
// rules from expressions), as libnftnl objects owned by RAII wrappers. Building them is pure: no
// socket, no kernel; a Batch (batch.h) turns them into netlink requests and a Socket (socket.h)
// sends those. Values are encoded the way nft encodes them, so that `nft list` prints what the
// kernel holds as if nft had written it. Not thread-safe; objects may move between threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct nftnl_rule;

namespace tp::nft {

// Register and set data as the kernel stores it.
using Bytes = std::vector<uint8_t>;

Bytes BigEndian16(uint16_t value);             // ports, as `tproxy to :PORT` loads them
Bytes BigEndian32(uint32_t value);             // IPv4 addresses
Bytes HostOrder32(uint32_t value);             // marks
Bytes InterfaceName(const std::string& name);  // zero-padded to IFNAMSIZ, as `iifname "NAME"`

struct Table {
  uint16_t family = 0;  // NFPROTO_*
  std::string name;
};

// A base chain: `type TYPE hook HOOK priority PRIORITY; policy POLICY;`.
struct BaseChain {
  uint16_t family = 0;
  std::string table;
  std::string name;
  std::string type = "filter";  // "filter", "route", "nat"
  uint32_t hook = 0;            // NF_INET_*
  int32_t priority = 0;         // NF_IP_PRI_*
  uint32_t policy = 1;          // NF_ACCEPT or NF_DROP
};

// One set element; an interval set holds each range as a start and an end element.
struct Element {
  Bytes key;
  bool interval_end = false;  // NFT_SET_ELEM_INTERVAL_END: the first key after a range
};

// nft's datatype numbers (what `type ipv4_addr` is to the kernel) and byte orders, as nft
// records them in the set's userdata.
inline constexpr uint32_t kTypeIpv4Address = 7;
inline constexpr uint32_t kTypeIpv6Address = 8;
inline constexpr uint32_t kTypeInetProtocol = 12;
inline constexpr uint32_t kHostByteOrder = 1;
inline constexpr uint32_t kBigEndian = 2;

// A set. Rules of the same batch refer to it by name and `id` (a set is usable in its own
// transaction only by id). An anonymous set (`{ 6, 17 }` in a rule) is named "__set%d", which
// the kernel numbers, and has flags NFT_SET_ANONYMOUS | NFT_SET_CONSTANT and a size.
struct Set {
  uint16_t family = 0;
  std::string table;
  std::string name;
  uint32_t id = 0;
  uint32_t flags = 0;  // NFT_SET_*
  uint32_t key_type = 0;
  uint32_t key_length = 0;  // bytes
  uint32_t key_byteorder = kBigEndian;
  uint32_t size = 0;  // 0: no size given
  std::vector<Element> elements;
};

// The anonymous set of protocol numbers `{ P1, P2, ... }` that `meta l4proto { ... }` makes.
Set ProtocolSet(uint16_t family, const std::string& table, uint32_t id,
                const std::vector<uint8_t>& protocols);

// An inclusive range of IPv4 addresses, host byte order.
struct Ipv4Range {
  uint32_t first = 0;
  uint32_t last = 0;
};

// The elements of an interval set of IPv4 addresses holding `ranges` (sorted, not overlapping):
// each range's first address, then the address after its last one marked interval_end (none
// after a range ending at 255.255.255.255), as nft sends them.
std::vector<Element> Ipv4IntervalElements(const std::vector<Ipv4Range>& ranges);

// An inclusive range of IPv6 addresses, network byte order.
struct Ipv6Range {
  std::array<uint8_t, 16> first{};
  std::array<uint8_t, 16> last{};
};

// The same for IPv6 (none after a range ending at ffff:...:ffff).
std::vector<Element> Ipv6IntervalElements(const std::vector<Ipv6Range>& ranges);

// A rule under construction: expressions are appended in order. Methods return *this so a rule
// reads like its nft text. Registers are the 16-byte NFT_REG_1..4 nft uses for short values.
// Allocation failures throw std::bad_alloc; a comment longer than nft allows throws
// std::invalid_argument.
class Rule {
 public:
  Rule(uint16_t family, const std::string& table, const std::string& chain);
  ~Rule();
  Rule(Rule&&) noexcept;
  Rule& operator=(Rule&&) noexcept;

  Rule& LoadMeta(uint32_t key, uint32_t dreg);  // meta load KEY => reg
  Rule& LoadPayload(uint32_t base, uint32_t offset, uint32_t length, uint32_t dreg);
  Rule& Compare(uint32_t sreg, uint32_t op, std::span<const uint8_t> data);  // cmp OP reg DATA
  Rule& Lookup(uint32_t sreg, const Set& set);                               // lookup reg set NAME
  Rule& LoadImmediate(uint32_t dreg, std::span<const uint8_t> data);         // immediate reg DATA
  Rule& Verdict(int verdict);                             // NF_ACCEPT, NF_DROP, ...
  Rule& Tproxy(uint32_t family, uint32_t port_register);  // tproxy to :PORT
  Rule& Redirect(uint32_t port_register);                 // redirect to :PORT (nat chains)
  // fib FLAGS RESULT => reg (NFTA_FIB_F_*, NFT_FIB_RESULT_*), e.g. `fib daddr . iif oif present`
  Rule& Fib(uint32_t flags, uint32_t result, uint32_t dreg);
  Rule& SetMeta(uint32_t key, uint32_t sreg);  // meta set KEY with reg
  Rule& LoadCt(uint32_t key, uint32_t dreg);   // ct load KEY => reg (NFT_CT_STATUS, ...)
  // reg = (reg & MASK) ^ XOR, over mask.size() bytes (how nft tests flags: `ct status dnat`)
  Rule& Bitwise(uint32_t reg, std::span<const uint8_t> mask, std::span<const uint8_t> xor_bytes);
  Rule& Counter();
  Rule& Comment(const std::string& comment);  // userdata, as nft stores `comment "..."`

  const nftnl_rule& get() const { return *rule_; }

 private:
  struct Freer {
    void operator()(nftnl_rule* rule) const;
  };
  std::unique_ptr<nftnl_rule, Freer> rule_;
};

}  // namespace tp::nft
