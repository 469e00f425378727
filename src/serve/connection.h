// Connection: one client connection of `refuge serve`, plain TCP or TLS, HTTP/1.1.
//
// The connection is a small state machine driven by readiness events from its loop's
// io_context (Boost.Asio's reactor: `async_wait` on the socket), doing the I/O itself with
// non-blocking system calls (recv, sendmsg, sendfile) or OpenSSL (SSL_read, SSL_write).
// That keeps the hot path to one read and one write per request, and keeps an idle
// keep-alive connection small: once idle for kHotBlockHoldMs it holds no buffer at all.
// A buffer block from the loop's pool is taken when bytes arrive and given back when the
// connection has been idle a moment (see docs/SERVE.md for the measured bytes per
// connection).
//
//   idle --bytes--> reading head --head--> [reading body] --> writing --done--> idle
//                        | error/limit                          | close requested
//                        v                                       v
//                 400 + lingering close                   lingering close
//
// Requests are answered strictly in order, one at a time, so pipelined responses keep
// their order. Deadlines (request head, idle keep-alive, send progress) are checked by the
// loop's sweep timer, not by a timer per connection.
//
// Lifetime: owned by its Loop; it asks the loop to destroy it (Loop::Destroy) as the last
// action of a handler, once no asynchronous wait is pending.
//
// Thread-safety: used only on its loop's thread.
#ifndef REFUGE_SERVE_CONNECTION_H_
#define REFUGE_SERVE_CONNECTION_H_

#include <openssl/ssl.h>
#include <sys/uio.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <list>
#include <memory>

#include "serve/http_parser.h"
#include "serve/response.h"
#include "serve/site_router.h"
#include "shield/client_key.h"

namespace refuge::serve {

class Loop;

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

class Connection {
 public:
  // `ssl` is null for plain HTTP; otherwise the handshake runs first, and `tls_owner`
  // keeps the certificates it may switch to by SNI alive (they can be reloaded meanwhile).
  // `counters` receives this connection's statistics (the admin listener's connections
  // count apart, so that scraping the metrics does not change them).
  Connection(Loop& loop, boost::asio::ip::tcp::socket socket, SslPtr ssl,
             std::shared_ptr<const void> tls_owner, RequestHandler& handler,
             LoopCounters& counters);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start(std::list<std::unique_ptr<Connection>>::iterator self);
  // A connection the shield admitted: it screens each request and is released on close.
  // `cleared`: the client showed a valid clearance lately (see Loop::EvictOne).
  void SetClient(const shield::ClientAddress& client, bool cleared);
  // Not the admin listener's (exempt clients' connections included): it may be evicted.
  void SetGuarded() { guarded_ = true; }
  bool cleared() const { return cleared_; }
  // May this connection be closed to make room for a new one? True while it has not sent a
  // whole request (handshake, head) or is idle between requests.
  bool evictable() const;
  // Closes it now (counted as evicted); it is destroyed once no wait is pending.
  void Evict();

  // Called by the loop's sweep timer. Closes the connection if its deadline passed; true if
  // it did (the connection may be destroyed already).
  bool CheckDeadline(int64_t now_ms);
  // Called when the node starts draining: idle connections close now, busy ones after
  // their current response.
  void Drain();
  bool idle() const { return state_ == State::kIdle; }

 private:
  enum class State : uint8_t {
    kHandshake, kIdle, kReadingHead, kReadingBody, kWriting, kLingering, kClosed
  };
  // The outcome of one non-blocking I/O call.
  struct Io {
    enum Kind : uint8_t { kDone, kWantRead, kWantWrite, kEof, kError } kind;
    size_t bytes;
  };

  Io Read(char* data, size_t size);
  Io WriteV(const iovec* iov, int count);
  Io SendFile(int fd, uint64_t* offset, uint64_t count);

  void WaitFor(Io::Kind want, void (Connection::*next)());
  void OnHandshake();
  enum class BodyProgress : uint8_t { kDone, kNeedMore, kFailed };

  void ReadHot();
  void OnReadable();
  // Reads what is available. True if bytes arrived; false if a wait was armed or the
  // connection closed (then the caller returns at once).
  bool ReadMore();
  void Process();
  BodyProgress ConsumeBody();
  void Dispatch();
  void RespondError(int status);
  void StartResponse();
  void OnWritable();
  bool ContinueWrite();  // true when the response is fully sent
  // A write that could not complete: wait for the socket, or close on an error.
  void StallWrite(Io io);
  // Counts and logs the response. False if the connection is closing (it may already be
  // destroyed: the caller returns at once).
  bool FinishResponse();
  void StartLingeringClose();
  void OnLingerReadable();
  void Close();
  void MaybeDestroy();
  void AcquireBlock();
  void ReleaseBlock();
  // A head that is still incomplete when the socket has nothing more is moved out of the
  // buffer block into parked_ (its exact size), so that a slow client (slowloris) holds
  // bytes, not a block; AcquireBlock brings it back.
  void Park();
  // Is the response being sent slower than min_send_rate on average, past the
  // send_timeout_ms allowance (a slow read)?
  bool SendingTooSlowly(int64_t now_ms) const;
  void LogAccess();

  Loop& loop_;
  boost::asio::ip::tcp::socket socket_;
  SslPtr ssl_;
  std::shared_ptr<const void> tls_owner_;
  RequestHandler& handler_;
  LoopCounters& counters_;
  std::list<std::unique_ptr<Connection>>::iterator self_;

  State state_ = State::kIdle;
  bool draining_ = false;
  bool hot_read_pending_ = false;  // an Asio read into block_ is queued (see ReadHot)
  bool corked_ = false;            // TCP_CORK is set while a file body is sent
  int pending_waits_ = 0;
  int64_t deadline_ms_ = 0;
  int64_t idle_since_ms_ = 0;
  int64_t response_start_ms_ = 0;  // when the current response started (min_send_rate)
  uint32_t requests_ = 0;  // requests answered on this connection

  shield::ClientAddress client_;
  bool guarded_ = false;   // not the admin listener's: may be evicted (Loop::EvictOne)
  bool shielded_ = false;  // admitted by the shield (released on close)
  bool cleared_ = false;

  char* block_ = nullptr;  // from the loop's BufferPool, only while busy
  std::string parked_;     // an incomplete head while the block is given back (see Park)
  uint32_t begin_ = 0;     // unparsed bytes are block_[begin_, end_)
  uint32_t end_ = 0;

  RequestHead request_;
  uint64_t body_left_ = 0;   // Content-Length body still to discard
  uint32_t body_start_ = 0;  // where body bytes are read to (just after the head)
  std::string post_body_;    // a POST's body, kept for the handler (capacity reused)
  std::string peer_text_;    // the client's address, for POST handlers
  ChunkedDecoder chunked_;

  Response response_;
  iovec iov_[2];
  int iov_count_ = 0;
  uint64_t file_offset_ = 0;
  uint64_t file_left_ = 0;
  std::unique_ptr<char[]> tls_chunk_;  // TLS file sending: a piece read from the file
  uint32_t tls_chunk_begin_ = 0;       // its bytes not yet sent are [begin, end)
  uint32_t tls_chunk_end_ = 0;
  uint64_t bytes_sent_ = 0;
};

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_CONNECTION_H_
