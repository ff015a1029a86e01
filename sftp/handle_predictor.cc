#include "sftp/handle_predictor.h"

#include <algorithm>

#include "sftp/sftp_protocol.h"

namespace tp::sftp {
namespace {

constexpr size_t kHandleBytes = 4;

uint32_t Decode(std::span<const uint8_t> handle) {
  return (uint32_t{handle[0]} << 24) | (uint32_t{handle[1]} << 16) | (uint32_t{handle[2]} << 8) |
         handle[3];
}

}  // namespace

std::string HandlePredictor::Encode(uint32_t index) {
  return std::string{static_cast<char>(index >> 24), static_cast<char>(index >> 16),
                     static_cast<char>(index >> 8), static_cast<char>(index)};
}

uint32_t HandlePredictor::Table::Take() {
  if (free.empty()) return size++;
  const uint32_t index = free.back();
  free.pop_back();
  return index;
}

std::optional<std::string> HandlePredictor::OpenSent(uint32_t id) {
  if (!enabled_) return std::nullopt;
  const uint32_t index = projected_.Take();
  in_flight_.push_back(Request{id, true, index});
  if (!confirmed_) return std::nullopt;
  return Encode(index);
}

void HandlePredictor::CloseSent(uint32_t id, std::span<const uint8_t> handle) {
  if (!enabled_) return;
  if (handle.size() != kHandleBytes) return Disable();
  const uint32_t index = Decode(handle);
  projected_.free.push_back(index);
  in_flight_.push_back(Request{id, false, index});
}

void HandlePredictor::ReplyReceived(uint32_t id, std::span<const uint8_t> packet) {
  if (!enabled_ || in_flight_.empty()) return;
  if (in_flight_.front().id != id) {
    // Replies come in the order of the requests: one that overtakes a followed request is a
    // server this model does not describe.
    const bool followed = std::any_of(in_flight_.begin(), in_flight_.end(),
                                      [&](const Request& request) { return request.id == id; });
    if (followed) Disable();
    return;
  }
  const Request request = in_flight_.front();
  in_flight_.pop_front();
  PacketReader reader(packet);
  const auto type = static_cast<PacketType>(reader.U8());
  reader.U32();
  if (!request.open) {
    // A close that fails may or may not have freed its index (OpenSSH frees it when close(2)
    // fails): the table is unknown from here on.
    if (type != PacketType::kStatus || static_cast<StatusCode>(reader.U32()) != StatusCode::kOk) {
      return Disable();
    }
    committed_.free.push_back(request.index);
    return;
  }
  if (type == PacketType::kStatus) {
    Reproject();  // the open failed and took no index; the projection assumed it would
    return;
  }
  const std::span<const uint8_t> handle = reader.StringBytes();
  if (type != PacketType::kHandle || !reader.ok() || handle.size() != kHandleBytes) {
    return Disable();
  }
  const uint32_t index = Decode(handle);
  if (committed_.Take() != index) return Disable();
  confirmed_ = true;
  if (index != request.index) Reproject();
}

void HandlePredictor::Disable() {
  enabled_ = false;
  in_flight_.clear();
  committed_ = Table{};
  projected_ = Table{};
}

void HandlePredictor::Reproject() {
  projected_ = committed_;
  for (const Request& request : in_flight_) {
    if (request.open) {
      projected_.Take();
    } else {
      projected_.free.push_back(request.index);
    }
  }
}

}  // namespace tp::sftp
