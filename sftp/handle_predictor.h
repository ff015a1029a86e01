// HandlePredictor foresees the handle with which OpenSSH's sftp-server will answer an OPEN or
// OPENDIR, so that requests naming that handle can travel with the open instead of one round trip
// behind it.
//
// That server names a handle by its index in a table, as 4 big-endian bytes. A CLOSE puts the
// index on a free list; an open takes the index freed last, or appends one to the table when the
// list is empty; a failed open takes none. One session talks to one server process from its
// start, so a client that sees every open and close it sends, in the order the server gets them,
// and every answer to them, knows the server's table.
//
// The model has two layers. The committed state is the table after every answered open and
// close; the projection adds what is in flight, assuming every open in flight succeeds. A
// prediction is the projection's next index. An open that fails while later ones are in flight
// makes their predictions wrong: the caller compares each open's answer with its prediction and
// uses the requests that rode along only when they match, so a wrong prediction costs the round
// trip saved, never wrong data. A wrong prediction names a handle that is not open on the server:
// the projection holds every index the server holds and more (only opens are wrong, and only by
// failing), and the predicted index is one the projection has free. So even a request that would
// change an open handle's state (a READDIR moves its folder's position) fails there harmlessly.
// Predictions begin after the first open's answer agreed with the model, and an answer the model
// cannot explain (a server that names handles otherwise, a failed close) turns them off for good.
//
// Pure bookkeeping, no I/O, not thread-safe: SftpSession calls it under a lock of its own, with
// the requests in the order they reach the socket and the replies in the order they come.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tp::sftp {

class HandlePredictor {
 public:
  // An OPEN or OPENDIR with request id `id` goes to the server now. Returns the handle it is
  // predicted to get (4 bytes), or nothing when prediction is off.
  std::optional<std::string> OpenSent(uint32_t id);
  // A CLOSE of `handle` with request id `id` goes to the server now.
  void CloseSent(uint32_t id, std::span<const uint8_t> handle);
  // The reply to request `id`: `packet` is the reply after its length field (type, id, payload).
  // Replies to requests this model does not follow are ignored; cheap for those.
  void ReplyReceived(uint32_t id, std::span<const uint8_t> packet);

  bool enabled() const { return enabled_; }
  // Requests followed and not answered yet.
  size_t in_flight() const { return in_flight_.size(); }

  // A handle as OpenSSH writes it: the index as 4 big-endian bytes.
  static std::string Encode(uint32_t index);

 private:
  struct Table {
    uint32_t size = 0;
    std::vector<uint32_t> free;  // back(): the index the next open takes
    uint32_t Take();
  };
  struct Request {
    uint32_t id;
    bool open;
    uint32_t index;  // of the CLOSE's handle; for an open, its prediction
  };
  void Disable();
  // Recomputes the projection from the committed table and what is in flight.
  void Reproject();

  bool enabled_ = true;
  bool confirmed_ = false;  // an open's answer agreed with the model
  Table committed_;
  Table projected_;
  std::deque<Request> in_flight_;  // in the order the server gets them
};

}  // namespace tp::sftp
