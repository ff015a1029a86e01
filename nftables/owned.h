// Internal to nftables/: unique_ptr owners for libnftnl objects, and NonNull, which
// turns a failed allocation into std::bad_alloc.
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include <memory>
#include <new>

namespace tp::nft {

template <auto Free>
struct Freer {
  template <typename T>
  void operator()(T* object) const {
    Free(object);
  }
};

using TablePtr = std::unique_ptr<nftnl_table, Freer<nftnl_table_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Freer<nftnl_chain_free>>;
using SetPtr = std::unique_ptr<nftnl_set, Freer<nftnl_set_free>>;
using SetElementPtr = std::unique_ptr<nftnl_set_elem, Freer<nftnl_set_elem_free>>;
using RulePtr = std::unique_ptr<nftnl_rule, Freer<nftnl_rule_free>>;
using ExpressionPtr = std::unique_ptr<nftnl_expr, Freer<nftnl_expr_free>>;
using UserdataPtr = std::unique_ptr<nftnl_udata_buf, Freer<nftnl_udata_buf_free>>;

template <typename T>
T* NonNull(T* object) {
  if (object == nullptr) throw std::bad_alloc();
  return object;
}

}  // namespace tp::nft
