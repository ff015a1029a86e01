#include "nftables/objects.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <cstring>
#include <new>
#include <stdexcept>

#include "nftables/owned.h"

namespace tp::nft {
namespace {

Bytes CopyOf(const void* value, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(value);
  return Bytes(bytes, bytes + size);
}

}  // namespace

Bytes BigEndian16(uint16_t value) {
  const uint16_t big = htons(value);
  return CopyOf(&big, sizeof(big));
}

Bytes BigEndian32(uint32_t value) {
  const uint32_t big = htonl(value);
  return CopyOf(&big, sizeof(big));
}

Bytes HostOrder32(uint32_t value) { return CopyOf(&value, sizeof(value)); }

Bytes InterfaceName(const std::string& name) {
  Bytes padded(IFNAMSIZ, 0);
  name.copy(reinterpret_cast<char*>(padded.data()), IFNAMSIZ - 1);
  return padded;
}

Set ProtocolSet(uint16_t family, const std::string& table, uint32_t id,
                const std::vector<uint8_t>& protocols) {
  Set set;
  set.family = family;
  set.table = table;
  set.name = "__set%d";
  set.id = id;
  set.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
  set.key_type = kTypeInetProtocol;
  set.key_length = 1;
  set.key_byteorder = kHostByteOrder;  // `meta l4proto` is a host-order value
  set.size = static_cast<uint32_t>(protocols.size());
  for (uint8_t protocol : protocols) set.elements.push_back({Bytes{protocol}, false});
  return set;
}

std::vector<Element> Ipv4IntervalElements(const std::vector<Ipv4Range>& ranges) {
  std::vector<Element> elements;
  for (const Ipv4Range& range : ranges) {
    elements.push_back({BigEndian32(range.first), false});
    if (range.last != UINT32_MAX) elements.push_back({BigEndian32(range.last + 1), true});
  }
  return elements;
}

std::vector<Element> Ipv6IntervalElements(const std::vector<Ipv6Range>& ranges) {
  std::vector<Element> elements;
  for (const Ipv6Range& range : ranges) {
    elements.push_back({Bytes(range.first.begin(), range.first.end()), false});
    Bytes next(range.last.begin(), range.last.end());
    bool carry = true;  // next = last + 1, big-endian
    for (size_t byte = next.size(); carry && byte-- > 0;) {
      carry = ++next[byte] == 0;
    }
    if (!carry) elements.push_back({std::move(next), true});
  }
  return elements;
}

void Rule::Freer::operator()(nftnl_rule* rule) const { nftnl_rule_free(rule); }

Rule::Rule(uint16_t family, const std::string& table, const std::string& chain)
    : rule_(NonNull(nftnl_rule_alloc())) {
  nftnl_rule_set_u32(rule_.get(), NFTNL_RULE_FAMILY, family);
  nftnl_rule_set_str(rule_.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(rule_.get(), NFTNL_RULE_CHAIN, chain.c_str());
}

Rule::~Rule() = default;
Rule::Rule(Rule&&) noexcept = default;
Rule& Rule::operator=(Rule&&) noexcept = default;

namespace {

// A new expression of `kind`, owned until AddTo hands it to the rule.
ExpressionPtr NewExpression(const char* kind) {
  return ExpressionPtr(NonNull(nftnl_expr_alloc(kind)));
}

void AddTo(nftnl_rule& rule, ExpressionPtr expression) {
  nftnl_rule_add_expr(&rule, expression.release());
}

}  // namespace

Rule& Rule::LoadMeta(uint32_t key, uint32_t dreg) {
  ExpressionPtr meta = NewExpression("meta");
  nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_DREG, dreg);
  AddTo(*rule_, std::move(meta));
  return *this;
}

Rule& Rule::LoadPayload(uint32_t base, uint32_t offset, uint32_t length, uint32_t dreg) {
  ExpressionPtr payload = NewExpression("payload");
  nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_LEN, length);
  nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_DREG, dreg);
  AddTo(*rule_, std::move(payload));
  return *this;
}

Rule& Rule::Compare(uint32_t sreg, uint32_t op, std::span<const uint8_t> data) {
  ExpressionPtr compare = NewExpression("cmp");
  nftnl_expr_set_u32(compare.get(), NFTNL_EXPR_CMP_SREG, sreg);
  nftnl_expr_set_u32(compare.get(), NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(compare.get(), NFTNL_EXPR_CMP_DATA, data.data(), data.size());
  AddTo(*rule_, std::move(compare));
  return *this;
}

Rule& Rule::Lookup(uint32_t sreg, const Set& set) {
  ExpressionPtr lookup = NewExpression("lookup");
  nftnl_expr_set_u32(lookup.get(), NFTNL_EXPR_LOOKUP_SREG, sreg);
  nftnl_expr_set_str(lookup.get(), NFTNL_EXPR_LOOKUP_SET, set.name.c_str());
  nftnl_expr_set_u32(lookup.get(), NFTNL_EXPR_LOOKUP_SET_ID, set.id);
  AddTo(*rule_, std::move(lookup));
  return *this;
}

Rule& Rule::LoadImmediate(uint32_t dreg, std::span<const uint8_t> data) {
  ExpressionPtr immediate = NewExpression("immediate");
  nftnl_expr_set_u32(immediate.get(), NFTNL_EXPR_IMM_DREG, dreg);
  nftnl_expr_set(immediate.get(), NFTNL_EXPR_IMM_DATA, data.data(), data.size());
  AddTo(*rule_, std::move(immediate));
  return *this;
}

Rule& Rule::Verdict(int verdict) {
  ExpressionPtr immediate = NewExpression("immediate");
  nftnl_expr_set_u32(immediate.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(immediate.get(), NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(verdict));
  AddTo(*rule_, std::move(immediate));
  return *this;
}

Rule& Rule::Tproxy(uint32_t family, uint32_t port_register) {
  ExpressionPtr tproxy = NewExpression("tproxy");
  nftnl_expr_set_u32(tproxy.get(), NFTNL_EXPR_TPROXY_FAMILY, family);
  nftnl_expr_set_u32(tproxy.get(), NFTNL_EXPR_TPROXY_REG_PORT, port_register);
  AddTo(*rule_, std::move(tproxy));
  return *this;
}

Rule& Rule::Redirect(uint32_t port_register) {
  ExpressionPtr redirect = NewExpression("redir");
  nftnl_expr_set_u32(redirect.get(), NFTNL_EXPR_REDIR_REG_PROTO_MIN, port_register);
  nftnl_expr_set_u32(redirect.get(), NFTNL_EXPR_REDIR_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
  AddTo(*rule_, std::move(redirect));
  return *this;
}

Rule& Rule::Fib(uint32_t flags, uint32_t result, uint32_t dreg) {
  ExpressionPtr fib = NewExpression("fib");
  nftnl_expr_set_u32(fib.get(), NFTNL_EXPR_FIB_FLAGS, flags);
  nftnl_expr_set_u32(fib.get(), NFTNL_EXPR_FIB_RESULT, result);
  nftnl_expr_set_u32(fib.get(), NFTNL_EXPR_FIB_DREG, dreg);
  AddTo(*rule_, std::move(fib));
  return *this;
}

Rule& Rule::LoadCt(uint32_t key, uint32_t dreg) {
  ExpressionPtr ct = NewExpression("ct");
  nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_KEY, key);
  nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_DREG, dreg);
  AddTo(*rule_, std::move(ct));
  return *this;
}

Rule& Rule::Bitwise(uint32_t reg, std::span<const uint8_t> mask,
                    std::span<const uint8_t> xor_bytes) {
  ExpressionPtr bitwise = NewExpression("bitwise");
  nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_SREG, reg);
  nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_DREG, reg);
  nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_LEN, static_cast<uint32_t>(mask.size()));
  nftnl_expr_set(bitwise.get(), NFTNL_EXPR_BITWISE_MASK, mask.data(), mask.size());
  nftnl_expr_set(bitwise.get(), NFTNL_EXPR_BITWISE_XOR, xor_bytes.data(), xor_bytes.size());
  AddTo(*rule_, std::move(bitwise));
  return *this;
}

Rule& Rule::SetMeta(uint32_t key, uint32_t sreg) {
  ExpressionPtr meta = NewExpression("meta");
  nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_SREG, sreg);
  AddTo(*rule_, std::move(meta));
  return *this;
}

Rule& Rule::Counter() {
  AddTo(*rule_, NewExpression("counter"));
  return *this;
}

Rule& Rule::Comment(const std::string& comment) {
  UserdataPtr userdata(NonNull(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN)));
  if (!nftnl_udata_put_strz(userdata.get(), NFTNL_UDATA_RULE_COMMENT, comment.c_str())) {
    throw std::invalid_argument("rule comment too long: " + comment);
  }
  nftnl_rule_set_data(rule_.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(userdata.get()),
                      nftnl_udata_buf_len(userdata.get()));
  return *this;
}

}  // namespace tp::nft
