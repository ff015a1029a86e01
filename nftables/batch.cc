#include "nftables/batch.h"

#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <stdexcept>

#include "nftables/owned.h"

namespace tp::nft {
namespace {

// Room for one request of fixed size (a table, a chain, a rule: a few hundred bytes).
constexpr size_t kRequestCapacity = 4096;
// Room for a set's elements: a little per element, on top of the table and set names.
constexpr size_t kElementCapacity = 64;

TablePtr NewTable(const Table& table) {
  TablePtr object(NonNull(nftnl_table_alloc()));
  nftnl_table_set_u32(object.get(), NFTNL_TABLE_FAMILY, table.family);
  nftnl_table_set_str(object.get(), NFTNL_TABLE_NAME, table.name.c_str());
  return object;
}

ChainPtr NewChain(const BaseChain& chain) {
  ChainPtr object(NonNull(nftnl_chain_alloc()));
  nftnl_chain_set_u32(object.get(), NFTNL_CHAIN_FAMILY, chain.family);
  nftnl_chain_set_str(object.get(), NFTNL_CHAIN_TABLE, chain.table.c_str());
  nftnl_chain_set_str(object.get(), NFTNL_CHAIN_NAME, chain.name.c_str());
  nftnl_chain_set_str(object.get(), NFTNL_CHAIN_TYPE, chain.type.c_str());
  nftnl_chain_set_u32(object.get(), NFTNL_CHAIN_HOOKNUM, chain.hook);
  nftnl_chain_set_s32(object.get(), NFTNL_CHAIN_PRIO, chain.priority);
  nftnl_chain_set_u32(object.get(), NFTNL_CHAIN_POLICY, chain.policy);
  return object;
}

// The set's identity (family, table, name, id): what element requests need.
SetPtr NewSetReference(const Set& set) {
  SetPtr object(NonNull(nftnl_set_alloc()));
  nftnl_set_set_u32(object.get(), NFTNL_SET_FAMILY, set.family);
  nftnl_set_set_str(object.get(), NFTNL_SET_TABLE, set.table.c_str());
  nftnl_set_set_str(object.get(), NFTNL_SET_NAME, set.name.c_str());
  if (set.id != 0) nftnl_set_set_u32(object.get(), NFTNL_SET_ID, set.id);
  return object;
}

// The set's userdata as nft writes it: the key's byte order.
void SetKeyByteOrder(nftnl_set& object, uint32_t byteorder) {
  UserdataPtr userdata(NonNull(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN)));
  nftnl_udata_put_u32(userdata.get(), NFTNL_UDATA_SET_KEYBYTEORDER, byteorder);
  nftnl_set_set_data(&object, NFTNL_SET_USERDATA, nftnl_udata_buf_data(userdata.get()),
                     nftnl_udata_buf_len(userdata.get()));
}

SetPtr NewSet(const Set& set) {
  SetPtr object = NewSetReference(set);
  nftnl_set_set_u32(object.get(), NFTNL_SET_FLAGS, set.flags);
  nftnl_set_set_u32(object.get(), NFTNL_SET_KEY_TYPE, set.key_type);
  nftnl_set_set_u32(object.get(), NFTNL_SET_KEY_LEN, set.key_length);
  if (set.size != 0) nftnl_set_set_u32(object.get(), NFTNL_SET_DESC_SIZE, set.size);
  SetKeyByteOrder(*object, set.key_byteorder);
  return object;
}

void AddElementsTo(nftnl_set& set, const std::vector<Element>& elements) {
  for (const Element& element : elements) {
    SetElementPtr object(NonNull(nftnl_set_elem_alloc()));
    nftnl_set_elem_set(object.get(), NFTNL_SET_ELEM_KEY, element.key.data(),
                       static_cast<uint32_t>(element.key.size()));
    if (element.interval_end) {
      nftnl_set_elem_set_u32(object.get(), NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
    }
    nftnl_set_elem_add(&set, object.release());
  }
}

// libnftnl's rule encoder takes a non-const rule but only reads it.
nftnl_rule* Mutable(const Rule& rule) { return const_cast<nftnl_rule*>(&rule.get()); }

}  // namespace

Batch::Batch(uint32_t first_sequence) : sequence_(first_sequence) {
  Append(kRequestCapacity, [&](char* at) { return nftnl_batch_begin(at, sequence_++); });
}

template <typename Build>
void Batch::Append(size_t capacity, Build build) {
  if (finished_) throw std::logic_error("nftables batch used after Finish");
  const size_t offset = bytes_.size();
  bytes_.resize(offset + capacity);
  const nlmsghdr* message = build(bytes_.data() + offset);
  bytes_.resize(offset + NLMSG_ALIGN(message->nlmsg_len));
}

template <typename Build>
void Batch::AppendRequest(size_t capacity, Build build) {
  Append(capacity, build);
  ++requests_;
}

Batch& Batch::AddTable(const Table& table) {
  const TablePtr object = NewTable(table);
  AppendRequest(kRequestCapacity, [&](char* at) {
    nlmsghdr* request = nftnl_nlmsg_build_hdr(at, NFT_MSG_NEWTABLE, table.family,
                                              NLM_F_CREATE | NLM_F_ACK, sequence_++);
    nftnl_table_nlmsg_build_payload(request, object.get());
    return request;
  });
  return *this;
}

Batch& Batch::DeleteTable(const Table& table) {
  const TablePtr object = NewTable(table);
  AppendRequest(kRequestCapacity, [&](char* at) {
    nlmsghdr* request =
        nftnl_nlmsg_build_hdr(at, NFT_MSG_DELTABLE, table.family, NLM_F_ACK, sequence_++);
    nftnl_table_nlmsg_build_payload(request, object.get());
    return request;
  });
  return *this;
}

Batch& Batch::AddChain(const BaseChain& chain) {
  const ChainPtr object = NewChain(chain);
  AppendRequest(kRequestCapacity, [&](char* at) {
    nlmsghdr* request = nftnl_nlmsg_build_hdr(at, NFT_MSG_NEWCHAIN, chain.family,
                                              NLM_F_CREATE | NLM_F_ACK, sequence_++);
    nftnl_chain_nlmsg_build_payload(request, object.get());
    return request;
  });
  return *this;
}

Batch& Batch::AddSet(const Set& set) {
  const SetPtr object = NewSet(set);
  AppendRequest(kRequestCapacity, [&](char* at) {
    nlmsghdr* request = nftnl_nlmsg_build_hdr(at, NFT_MSG_NEWSET, set.family,
                                              NLM_F_CREATE | NLM_F_ACK, sequence_++);
    nftnl_set_nlmsg_build_payload(request, object.get());
    return request;
  });
  if (!set.elements.empty()) AddElements(set, set.elements);
  return *this;
}

Batch& Batch::FlushSet(const Set& set) {
  const SetPtr object = NewSetReference(set);
  AppendRequest(kRequestCapacity, [&](char* at) {
    nlmsghdr* request =
        nftnl_nlmsg_build_hdr(at, NFT_MSG_DELSETELEM, set.family, NLM_F_ACK, sequence_++);
    nftnl_set_elems_nlmsg_build_payload(request, object.get());
    return request;
  });
  return *this;
}

Batch& Batch::AddElements(const Set& set, const std::vector<Element>& elements) {
  const SetPtr object = NewSetReference(set);
  AddElementsTo(*object, elements);
  AppendRequest(kRequestCapacity + kElementCapacity * elements.size(), [&](char* at) {
    nlmsghdr* request = nftnl_nlmsg_build_hdr(at, NFT_MSG_NEWSETELEM, set.family,
                                              NLM_F_CREATE | NLM_F_ACK, sequence_++);
    nftnl_set_elems_nlmsg_build_payload(request, object.get());
    return request;
  });
  return *this;
}

Batch& Batch::AppendRule(const Rule& rule) {
  AppendRequest(kRequestCapacity, [&](char* at) {
    const auto family = static_cast<uint16_t>(nftnl_rule_get_u32(&rule.get(), NFTNL_RULE_FAMILY));
    nlmsghdr* request = nftnl_nlmsg_build_hdr(at, NFT_MSG_NEWRULE, family,
                                              NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, sequence_++);
    nftnl_rule_nlmsg_build_payload(request, Mutable(rule));
    return request;
  });
  return *this;
}

Batch& Batch::InsertRule(const Rule& rule) {
  AppendRequest(kRequestCapacity, [&](char* at) {
    const auto family = static_cast<uint16_t>(nftnl_rule_get_u32(&rule.get(), NFTNL_RULE_FAMILY));
    nlmsghdr* request =
        nftnl_nlmsg_build_hdr(at, NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_ACK, sequence_++);
    nftnl_rule_nlmsg_build_payload(request, Mutable(rule));
    return request;
  });
  return *this;
}

Batch& Batch::DeleteRule(uint16_t family, const std::string& table, const std::string& chain,
                         uint64_t handle) {
  RulePtr object(NonNull(nftnl_rule_alloc()));
  nftnl_rule_set_str(object.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(object.get(), NFTNL_RULE_CHAIN, chain.c_str());
  nftnl_rule_set_u64(object.get(), NFTNL_RULE_HANDLE, handle);
  AppendRequest(kRequestCapacity, [&](char* at) {
    nlmsghdr* request = nftnl_nlmsg_build_hdr(at, NFT_MSG_DELRULE, family, NLM_F_ACK, sequence_++);
    nftnl_rule_nlmsg_build_payload(request, object.get());
    return request;
  });
  return *this;
}

std::span<const char> Batch::Finish() {
  if (!finished_) {
    Append(kRequestCapacity, [&](char* at) { return nftnl_batch_end(at, sequence_++); });
    finished_ = true;
  }
  return bytes_;
}

}  // namespace tp::nft
