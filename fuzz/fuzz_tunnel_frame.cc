// libFuzzer target: the tunnel's frame decoder (tunnel/tunnel_frame.h) on a byte stream, the way
// TunnelConnection reads its link: frame after frame until one is incomplete or malformed.
// Checks the header decoder against the whole-frame decoder, that `consumed` stays inside the
// buffer, and that every decoded frame encodes back to exactly the bytes it came from.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "tunnel/tunnel_frame.h"

namespace {

using tp::tunnel::DecodeResult;
using tp::tunnel::DecodeStatus;
using tp::tunnel::HeaderDecodeResult;
using tp::tunnel::kFrameHeaderSize;

void Check(bool condition) {
  if (!condition) std::abort();
}

// DecodeFrameHeader's contract: malformed exactly when DecodeFrame says so for the length or the
// type; a header whenever DecodeFrame finds a frame, with the same type, id and size.
void CheckHeaderAgrees(const HeaderDecodeResult& header, const DecodeResult& result) {
  if (header.status == DecodeStatus::kMalformed) {
    Check(result.status == DecodeStatus::kMalformed && result.reason == header.reason);
  }
  if (result.status != DecodeStatus::kFrame) return;
  Check(header.status == DecodeStatus::kFrame);
  Check(header.header.type == result.frame.type());
  Check(header.header.id == result.frame.id);
  Check(header.header.payload_size + kFrameHeaderSize == result.consumed);
}

void CheckReencodes(const DecodeResult& result, std::span<const uint8_t> bytes) {
  const std::vector<uint8_t> encoded = tp::tunnel::EncodeFrame(result.frame);
  Check(encoded.size() == result.consumed);
  Check(std::equal(encoded.begin(), encoded.end(), bytes.begin()));
  static_cast<void>(tp::tunnel::FrameTypeName(result.frame.type()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> rest(data, size);
  for (;;) {
    const HeaderDecodeResult header = tp::tunnel::DecodeFrameHeader(rest);
    const DecodeResult result = tp::tunnel::DecodeFrame(rest);
    CheckHeaderAgrees(header, result);
    if (result.status == DecodeStatus::kMalformed) {
      static_cast<void>(tp::tunnel::MalformedReasonName(result.reason));
      return 0;
    }
    if (result.status == DecodeStatus::kNeedMore) return 0;
    Check(result.consumed >= kFrameHeaderSize && result.consumed <= rest.size());
    CheckReencodes(result, rest);
    rest = rest.subspan(result.consumed);
  }
}
