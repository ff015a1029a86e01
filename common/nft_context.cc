#include "common/nft_context.h"

#include <nftables/libnftables.h>

namespace tp {

std::unique_ptr<NftContext> NftContext::Create(std::string& error, bool with_handles) {
  nft_ctx* context = nft_ctx_new(NFT_CTX_DEFAULT);
  if (context == nullptr) {
    error = "libnftables: cannot create a context";
    return nullptr;
  }
  std::unique_ptr<NftContext> owned(new NftContext(context));
  if (nft_ctx_buffer_output(context) != 0 || nft_ctx_buffer_error(context) != 0) {
    error = "libnftables: cannot buffer output";
    return nullptr;
  }
  unsigned int flags = NFT_CTX_OUTPUT_NUMERIC_ALL;
  if (with_handles) flags |= NFT_CTX_OUTPUT_HANDLE;
  nft_ctx_output_set_flags(context, flags);
  return owned;
}

NftContext::~NftContext() { nft_ctx_free(context_); }

NftResult NftContext::Run(const std::string& commands) {
  NftResult result;
  result.ok = nft_run_cmd_from_buffer(context_, commands.c_str()) == 0;
  // The buffers hold what this command printed; reading them resets them for the next one.
  const char* output = nft_ctx_get_output_buffer(context_);
  const char* error = nft_ctx_get_error_buffer(context_);
  result.output = output != nullptr ? output : "";
  result.error = error != nullptr ? error : "";
  while (!result.error.empty() && result.error.back() == '\n') result.error.pop_back();
  return result;
}

}  // namespace tp
