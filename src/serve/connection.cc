#include "serve/connection.h"

#include <openssl/err.h>
#include <spdlog/spdlog.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "serve/server.h"

namespace refuge::serve {

namespace {

// After a response that closes the connection, unread request bytes are read and dropped
// for at most this long, so that close() does not reset the connection before the client
// has read the response (nginx's lingering_close does the same).
constexpr int64_t kLingerTimeoutMs = 2'000;
// The most one sendfile call is asked to send: keeps one large response from holding the
// loop while other connections wait.
constexpr uint64_t kMaxSendfileChunk = 1 << 20;
// A connection keeps its buffer between requests (see ReadHot) only once it has served
// this many: a burst of one-request connections does not hold a block each.
constexpr uint32_t kHotAfterRequests = 2;
// A TLS file response is read from the file and encrypted in pieces of this size.
constexpr size_t kTlsChunkBytes = 16 * 1024;
// How long a connection idle after a response keeps its buffer block (see ReadHot).
constexpr int64_t kHotBlockHoldMs = 200;
// Bytes kept free after a request head for reading its body through.
constexpr size_t kMinBodyRoom = 4096;

}  // namespace

Connection::Connection(Loop& loop, boost::asio::ip::tcp::socket socket, SslPtr ssl,
                       std::shared_ptr<const void> tls_owner, RequestHandler& handler,
                       LoopCounters& counters)
    : loop_(loop),
      socket_(std::move(socket)),
      ssl_(std::move(ssl)),
      tls_owner_(std::move(tls_owner)),
      handler_(handler),
      counters_(counters) {}

Connection::~Connection() {
  ReleaseBlock();
  if (shielded_) loop_.gate()->shield().Release(client_);
}

void Connection::SetClient(const shield::ClientAddress& client, bool cleared) {
  client_ = client;
  shielded_ = true;
  cleared_ = cleared;
}

bool Connection::evictable() const {
  return guarded_ && (state_ == State::kHandshake || state_ == State::kIdle ||
                       state_ == State::kReadingHead);
}

void Connection::Evict() {
  loop_.gate()->shield().Count(shield::Event::kEvicted);
  Close();
  MaybeDestroy();
}

bool Connection::SendingTooSlowly(int64_t now_ms) const {
  const shield::ShieldConfig& shield = loop_.config().shield;
  const int64_t late = now_ms - response_start_ms_ - shield.send_timeout_ms;
  return late > 0 && bytes_sent_ < static_cast<uint64_t>(late) * shield.min_send_rate / 1000;
}

void Connection::Start(std::list<std::unique_ptr<Connection>>::iterator self) {
  self_ = self;
  counters_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
  counters_.connections_open.fetch_add(1, std::memory_order_relaxed);
  if (ssl_) {
    SSL_set_fd(ssl_.get(), socket_.native_handle());
    SSL_set_accept_state(ssl_.get());
    state_ = State::kHandshake;
    deadline_ms_ = loop_.NowMs() + loop_.HeadTimeoutMs();
    OnHandshake();
    return;
  }
  state_ = State::kIdle;
  deadline_ms_ = loop_.NowMs() + loop_.KeepAliveTimeoutMs();
  OnReadable();
}

// ---------------------------------------------------------------------------------------
// Non-blocking I/O, plain or TLS.

Connection::Io Connection::Read(char* data, size_t size) {
  if (ssl_) {
    ERR_clear_error();
    int n = SSL_read(ssl_.get(), data, static_cast<int>(size));
    if (n > 0) return {Io::kDone, static_cast<size_t>(n)};
    switch (SSL_get_error(ssl_.get(), n)) {
      case SSL_ERROR_WANT_READ: return {Io::kWantRead, 0};
      case SSL_ERROR_WANT_WRITE: return {Io::kWantWrite, 0};
      case SSL_ERROR_ZERO_RETURN: return {Io::kEof, 0};
      default: return {Io::kError, 0};
    }
  }
  for (;;) {
    ssize_t n = ::recv(socket_.native_handle(), data, size, 0);
    if (n > 0) return {Io::kDone, static_cast<size_t>(n)};
    if (n == 0) return {Io::kEof, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {Io::kWantRead, 0};
    return {Io::kError, 0};
  }
}

Connection::Io Connection::WriteV(const iovec* iov, int count) {
  if (ssl_) {
    // TLS has no gather write: send the first non-empty piece (partial writes enabled).
    for (int i = 0; i < count; ++i) {
      if (iov[i].iov_len == 0) continue;
      ERR_clear_error();
      int n = SSL_write(ssl_.get(), iov[i].iov_base, static_cast<int>(iov[i].iov_len));
      if (n > 0) return {Io::kDone, static_cast<size_t>(n)};
      switch (SSL_get_error(ssl_.get(), n)) {
        case SSL_ERROR_WANT_READ: return {Io::kWantRead, 0};
        case SSL_ERROR_WANT_WRITE: return {Io::kWantWrite, 0};
        default: return {Io::kError, 0};
      }
    }
    return {Io::kDone, 0};
  }
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = static_cast<size_t>(count);
  for (;;) {
    ssize_t n = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL);
    if (n >= 0) return {Io::kDone, static_cast<size_t>(n)};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {Io::kWantWrite, 0};
    return {Io::kError, 0};
  }
}

Connection::Io Connection::SendFile(int fd, uint64_t* offset, uint64_t count) {
  if (count > kMaxSendfileChunk) count = kMaxSendfileChunk;
  if (ssl_) {
    // TLS: read a chunk of the file, then write it (the chunk buffer lives only as long as
    // a file response does).
    if (!tls_chunk_) tls_chunk_ = std::make_unique<char[]>(kTlsChunkBytes);
    char* chunk = tls_chunk_.get();
    if (tls_chunk_begin_ == tls_chunk_end_) {
      size_t want = count < kTlsChunkBytes ? count : kTlsChunkBytes;
      ssize_t n;
      do {
        n = ::pread(fd, chunk, want, static_cast<off_t>(*offset));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return {Io::kError, 0};  // the object shrank or is unreadable
      tls_chunk_begin_ = 0;
      tls_chunk_end_ = static_cast<uint32_t>(n);
    }
    iovec piece{chunk + tls_chunk_begin_, tls_chunk_end_ - tls_chunk_begin_};
    Io io = WriteV(&piece, 1);
    if (io.kind == Io::kDone) {
      tls_chunk_begin_ += static_cast<uint32_t>(io.bytes);
      *offset += io.bytes;
    }
    return io;
  }
  for (;;) {
    off_t off = static_cast<off_t>(*offset);
    ssize_t n = ::sendfile(socket_.native_handle(), fd, &off, count);
    if (n > 0) {
      *offset = static_cast<uint64_t>(off);
      return {Io::kDone, static_cast<size_t>(n)};
    }
    if (n == 0) return {Io::kError, 0};  // the object shrank under us
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {Io::kWantWrite, 0};
    return {Io::kError, 0};
  }
}

void Connection::WaitFor(Io::Kind want, void (Connection::*next)()) {
  ++pending_waits_;
  auto type = want == Io::kWantWrite ? boost::asio::ip::tcp::socket::wait_write
                                     : boost::asio::ip::tcp::socket::wait_read;
  socket_.async_wait(type, [this, next](const boost::system::error_code& ec) {
    --pending_waits_;
    if (state_ == State::kClosed) {
      MaybeDestroy();
      return;
    }
    if (ec) {
      Close();
      MaybeDestroy();
      return;
    }
    (this->*next)();
  });
}

// ---------------------------------------------------------------------------------------
// Reading and parsing.

// A connection that just finished a response keeps its buffer block for a moment and lets
// Asio read into it: the read is then performed by the reactor when the next request
// arrives, with no readiness re-arm (epoll_ctl) and no wasted recv, one system call less
// per request than waiting for readiness first. The loop's sweep cools a connection down
// after kHotBlockHoldMs idle: the read is cancelled, the block returns to the pool and the
// connection waits for readiness holding no buffer (see CheckDeadline).
void Connection::ReadHot() {
  ++pending_waits_;
  hot_read_pending_ = true;
  const size_t capacity = loop_.pool().read_capacity();
  socket_.async_read_some(
      boost::asio::buffer(block_ + end_, capacity - end_),
      [this](const boost::system::error_code& ec, size_t n) {
        --pending_waits_;
        hot_read_pending_ = false;
        if (state_ == State::kClosed) {
          MaybeDestroy();
          return;
        }
        if (ec == boost::asio::error::operation_aborted) {  // cooled down
          if (begin_ == end_) ReleaseBlock();
          WaitFor(Io::kWantRead, &Connection::OnReadable);
          return;
        }
        if (ec) {  // end of stream or an error
          Close();
          MaybeDestroy();
          return;
        }
        end_ += static_cast<uint32_t>(n);
        if (state_ == State::kIdle) {
          state_ = State::kReadingHead;
          deadline_ms_ = loop_.NowMs() + loop_.HeadTimeoutMs();
        }
        Process();
      });
}

void Connection::OnHandshake() {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    counters_.tls_handshakes.fetch_add(1, std::memory_order_relaxed);
    state_ = State::kIdle;
    deadline_ms_ = loop_.NowMs() + loop_.KeepAliveTimeoutMs();
    OnReadable();
    return;
  }
  int err = SSL_get_error(ssl_.get(), r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    WaitFor(err == SSL_ERROR_WANT_READ ? Io::kWantRead : Io::kWantWrite, &Connection::OnHandshake);
    return;
  }
  counters_.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
  Close();
  MaybeDestroy();
}

void Connection::AcquireBlock() {
  if (block_ == nullptr) {
    block_ = loop_.pool().Acquire();
    begin_ = 0;
    end_ = static_cast<uint32_t>(parked_.size());
    if (!parked_.empty()) {
      std::memcpy(block_, parked_.data(), parked_.size());
      std::string().swap(parked_);  // frees it
    }
  }
}

void Connection::Park() {
  if (block_ == nullptr || begin_ == end_) return;
  parked_.assign(block_ + begin_, end_ - begin_);
  ReleaseBlock();
}

void Connection::ReleaseBlock() {
  if (block_ != nullptr) {
    loop_.pool().Release(block_);
    block_ = nullptr;
    begin_ = end_ = 0;
  }
}

void Connection::OnReadable() {
  if (ReadMore()) Process();
}

bool Connection::ReadMore() {
  AcquireBlock();
  const size_t capacity = loop_.pool().read_capacity();
  if (end_ == capacity && begin_ > 0 && state_ != State::kReadingBody) {
    std::memmove(block_, block_ + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity) {
    // Only reachable while reading a head: it is larger than the buffer.
    RespondError(400);
    return false;
  }
  Io io = Read(block_ + end_, capacity - end_);
  switch (io.kind) {
    case Io::kDone:
      end_ += static_cast<uint32_t>(io.bytes);
      if (state_ == State::kIdle) {
        state_ = State::kReadingHead;
        deadline_ms_ = loop_.NowMs() + loop_.HeadTimeoutMs();
      }
      return true;
    case Io::kWantRead:
    case Io::kWantWrite:
      if (state_ == State::kIdle && begin_ == end_) {
        ReleaseBlock();
      } else if (state_ == State::kReadingHead) {
        Park();
      }
      WaitFor(io.kind, &Connection::OnReadable);
      return false;
    case Io::kEof:
    case Io::kError:
      break;
  }
  Close();
  MaybeDestroy();
  return false;
}

// Handles every complete request in the buffer, in order, reading more when needed. Each
// exit either armed exactly one wait or closed the connection; it never recurses, so a
// client streaming pipelined requests cannot grow the stack.
void Connection::Process() {
  for (;;) {
    if (state_ == State::kReadingBody) {
      BodyProgress progress = ConsumeBody();
      if (progress == BodyProgress::kFailed) return;
      if (progress == BodyProgress::kNeedMore) {
        if (!ReadMore()) return;
        continue;
      }
      request_.body = post_body_;
      if (request_.method == Method::kPost) {
        boost::system::error_code ec;
        auto peer = socket_.remote_endpoint(ec);
        peer_text_ = ec ? std::string("-") : peer.address().to_string();
        request_.peer_address = peer_text_;
      }
      Dispatch();
      if (!ContinueWrite()) return;  // the rest is sent when the socket is writable
      if (!FinishResponse()) return;
      continue;
    }
    if (begin_ == end_) {
      begin_ = end_ = 0;
      state_ = State::kIdle;
      idle_since_ms_ = loop_.NowMs();
      deadline_ms_ = idle_since_ms_ + loop_.KeepAliveTimeoutMs();
      if (draining_) {
        Close();
        MaybeDestroy();
        return;
      }
      if (ssl_) {
        // TLS may hold decrypted bytes already; ReadMore gives the block back if not.
        if (!ReadMore()) return;
        continue;
      }
      if (requests_ < kHotAfterRequests) {
        // Not yet shown to be reused: wait holding no buffer. (Asio re-arms the descriptor
        // for the wait, which reports bytes that arrived while we were writing too.)
        ReleaseBlock();
        WaitFor(Io::kWantRead, &Connection::OnReadable);
        return;
      }
      ReadHot();
      return;
    }
    // Keep room behind the head: a body is read (and dropped) just after it.
    const size_t capacity = loop_.pool().read_capacity();
    if (begin_ > 0 && capacity - begin_ < loop_.limits().max_head_bytes + kMinBodyRoom) {
      std::memmove(block_, block_ + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    ParseError error;
    ParseStatus st = ParseRequestHead(block_ + begin_, end_ - begin_, loop_.limits(), &request_, &error);
    if (st == ParseStatus::kIncomplete) {
      if (state_ != State::kReadingHead) {
        state_ = State::kReadingHead;
        deadline_ms_ = loop_.NowMs() + loop_.HeadTimeoutMs();
      }
      if (!ReadMore()) return;
      continue;
    }
    if (st == ParseStatus::kError) {
      RespondError(error.http_status);
      return;
    }
    begin_ += static_cast<uint32_t>(request_.head_bytes);
    if (request_.chunked || request_.content_length > 0) {
      if (request_.content_length > loop_.config().max_body_bytes) {
        RespondError(413);
        return;
      }
      if (request_.expect_continue) {
        // No endpoint needs a body yet: answer now and close instead of reading it.
        request_.keep_alive = false;
        Dispatch();
        if (ContinueWrite()) FinishResponse();
        return;
      }
      body_left_ = request_.content_length;
      body_start_ = begin_;
      {
        // The body must come at min_body_rate at least (slower is a slow POST).
        const uint64_t expected = request_.chunked ? loop_.config().max_body_bytes : body_left_;
        deadline_ms_ = loop_.NowMs() + loop_.HeadTimeoutMs() +
                       static_cast<int64_t>(expected * 1000 / loop_.config().shield.min_body_rate);
      }
      post_body_.clear();
      chunked_ = ChunkedDecoder();
      state_ = State::kReadingBody;
      continue;
    }
    Dispatch();
    if (!ContinueWrite()) return;
    if (!FinishResponse()) return;
  }
}

Connection::BodyProgress Connection::ConsumeBody() {
  size_t available = end_ - begin_;
  if (request_.chunked) {
    size_t consumed = 0;
    const bool keep = request_.method == Method::kPost;
    auto result = chunked_.Feed(block_ + begin_, available, &consumed, [&](std::string_view data) {
      if (keep) post_body_.append(data);
    });
    begin_ += static_cast<uint32_t>(consumed);
    if (result == ChunkedDecoder::Result::kError) {
      RespondError(400);
      return BodyProgress::kFailed;
    }
    if (chunked_.body_bytes() > loop_.config().max_body_bytes) {
      RespondError(413);
      return BodyProgress::kFailed;
    }
    if (result == ChunkedDecoder::Result::kDone) return BodyProgress::kDone;
  } else {
    size_t n = available < body_left_ ? available : static_cast<size_t>(body_left_);
    if (request_.method == Method::kPost) post_body_.append(block_ + begin_, n);
    begin_ += static_cast<uint32_t>(n);
    body_left_ -= n;
    if (body_left_ == 0) return BodyProgress::kDone;
  }
  // The request head stays in place (its views are live); the body bytes seen so far are
  // dropped, and the next ones are read where the body started.
  begin_ = end_ = body_start_;
  return BodyProgress::kNeedMore;
}

// ---------------------------------------------------------------------------------------
// Responding.

void Connection::Dispatch() {
  ++requests_;
  response_.Reset();
  response_.head_only = request_.method == Method::kHead;
  response_.close = !request_.keep_alive || draining_;
  bool cleared = false;
  if (!shielded_ ||
      !loop_.gate()->Screen(client_, request_, loop_.NowMs(), loop_.WallSeconds(), &response_,
                            &cleared)) {
    handler_.Handle(request_, &response_);
  }
  if (cleared) cleared_ = true;
  if (!request_.keep_alive || draining_) response_.close = true;
  StartResponse();
}

void Connection::RespondError(int status) {
  // The request may be half-parsed: nothing of it is trusted, and the connection closes.
  request_ = RequestHead();
  request_.method = Method::kOther;
  request_.keep_alive = false;
  response_.Reset();
  response_.close = true;
  SetErrorResponse(&response_, status);
  StartResponse();
  if (ContinueWrite()) FinishResponse();
}

void Connection::StartResponse() {
  const std::string_view date = loop_.Date();
  char* head = loop_.pool().HeadArea(block_);
  size_t head_bytes = FormatResponseHead(response_, date, head);
  iov_[0] = {head, head_bytes};
  iov_count_ = 1;
  file_left_ = 0;
  tls_chunk_begin_ = tls_chunk_end_ = 0;
  bytes_sent_ = 0;
  const uint64_t body = response_.BodyBytes();
  if (body > 0) {
    const uint64_t first = response_.partial ? response_.first : 0;
    if (response_.body == Response::Body::kMemory) {
      iov_[1] = {const_cast<char*>(response_.memory.data() + first), static_cast<size_t>(body)};
      iov_count_ = 2;
    } else {
      file_offset_ = first;
      file_left_ = body;
      if (!ssl_) {
        // Head and file leave in full segments, not a small one for the head first.
        int one = 1;
        corked_ = ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_CORK, &one, sizeof one) == 0;
      }
    }
  }
  state_ = State::kWriting;
  response_start_ms_ = loop_.NowMs();
  deadline_ms_ = response_start_ms_ + loop_.config().shield.send_timeout_ms;
}

void Connection::StallWrite(Io io) {
  if (io.kind == Io::kWantRead || io.kind == Io::kWantWrite) {
    WaitFor(io.kind, &Connection::OnWritable);
    return;
  }
  Close();
  MaybeDestroy();
}

bool Connection::ContinueWrite() {
  while (iov_count_ > 0) {
    Io io = WriteV(iov_, iov_count_);
    if (io.kind != Io::kDone) {
      StallWrite(io);
      return false;
    }
    bytes_sent_ += io.bytes;
    // Drop the pieces fully sent (at most two: head and body), then advance the first.
    size_t n = io.bytes;
    if (n >= iov_[0].iov_len) {
      n -= iov_[0].iov_len;
      iov_[0] = iov_[1];
      iov_count_ -= 1;
      if (iov_count_ > 0 && n >= iov_[0].iov_len) {
        n -= iov_[0].iov_len;
        iov_count_ = 0;
      }
    }
    if (iov_count_ > 0) {
      iov_[0].iov_base = static_cast<char*>(iov_[0].iov_base) + n;
      iov_[0].iov_len -= n;
    }
    deadline_ms_ = loop_.NowMs() + loop_.config().shield.send_timeout_ms;
  }
  while (file_left_ > 0) {
    uint64_t before = file_offset_;
    Io io = SendFile(response_.file.get(), &file_offset_, file_left_);
    if (io.kind != Io::kDone) {
      StallWrite(io);
      return false;
    }
    uint64_t sent = file_offset_ - before;
    file_left_ -= sent;
    bytes_sent_ += sent;
    deadline_ms_ = loop_.NowMs() + loop_.config().shield.send_timeout_ms;
  }
  if (corked_) {
    int zero = 0;
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
    corked_ = false;
  }
  return true;
}

void Connection::OnWritable() {
  if (!ContinueWrite()) return;
  if (!FinishResponse()) return;
  Process();
}

bool Connection::FinishResponse() {
  LoopCounters& counters = counters_;
  counters.CountStatus(response_.status);
  counters.response_bytes.fetch_add(bytes_sent_, std::memory_order_relaxed);
  if (response_.site != nullptr) {
    response_.site->requests.fetch_add(1, std::memory_order_relaxed);
    response_.site->bytes.fetch_add(response_.BodyBytes(), std::memory_order_relaxed);
  }
  if (loop_.access_log() != nullptr) LogAccess();
  const bool close = response_.close;
  response_.memory_hold.reset();
  response_.file.Reset();
  tls_chunk_.reset();
  if (close) {
    StartLingeringClose();  // may destroy the connection
    return false;
  }
  state_ = State::kReadingHead;
  deadline_ms_ = loop_.NowMs() + loop_.HeadTimeoutMs();
  return true;
}

void Connection::StartLingeringClose() {
  state_ = State::kLingering;
  deadline_ms_ = loop_.NowMs() + kLingerTimeoutMs;
  if (ssl_) {
    SSL_shutdown(ssl_.get());  // best effort close_notify
  }
  ::shutdown(socket_.native_handle(), SHUT_WR);
  OnLingerReadable();
}

void Connection::OnLingerReadable() {
  AcquireBlock();
  for (;;) {
    ssize_t n = ::recv(socket_.native_handle(), block_, loop_.pool().read_capacity(), 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ReleaseBlock();
      WaitFor(Io::kWantRead, &Connection::OnLingerReadable);
      return;
    }
    break;  // EOF or error
  }
  Close();
  MaybeDestroy();
}

// ---------------------------------------------------------------------------------------
// Deadlines, draining, closing.

bool Connection::CheckDeadline(int64_t now_ms) {
  if (state_ == State::kClosed) return false;
  if (now_ms < deadline_ms_ && !(state_ == State::kWriting && SendingTooSlowly(now_ms))) {
    if (state_ == State::kIdle && hot_read_pending_ && now_ms - idle_since_ms_ >= kHotBlockHoldMs) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);  // the read completes with operation_aborted: see ReadHot
    }
    return false;
  }
  if (state_ != State::kLingering) loop_.CountTimeout(counters_);
  Close();
  MaybeDestroy();
  return true;
}

void Connection::Drain() {
  draining_ = true;
  if (state_ == State::kIdle || state_ == State::kHandshake) {
    Close();
    MaybeDestroy();
  }
}

void Connection::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  counters_.connections_open.fetch_sub(1, std::memory_order_relaxed);
  boost::system::error_code ignored;
  socket_.close(ignored);  // pending waits complete with operation_aborted
  std::string().swap(parked_);
  response_.memory_hold.reset();
  response_.file.Reset();
  ReleaseBlock();
}

void Connection::MaybeDestroy() {
  if (state_ == State::kClosed && pending_waits_ == 0) loop_.Destroy(self_);
}

void Connection::LogAccess() {
  boost::system::error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  std::string target;
  for (char c : request_.target) {
    if (c == '"' || c == '\\') target += '\\';
    target += c;
  }
  std::string agent;
  for (char c : request_.user_agent) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      agent += '?';
    } else {
      agent += c;
    }
  }
  loop_.access_log()->info("{} \"{} {} HTTP/1.{}\" {} {} \"{}\"",
                           ec ? std::string("-") : peer.address().to_string(),
                           request_.method_text.empty() ? "-" : std::string(request_.method_text),
                           target.empty() ? "-" : target, request_.minor_version,
                           response_.status, bytes_sent_, agent);
}

}  // namespace refuge::serve
