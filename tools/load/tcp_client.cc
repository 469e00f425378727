#include "tcp_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace refuge::load {
namespace {

struct ConnectStart {
  UniqueFd fd;
  int error = 0;  // errno when fd is not valid
};

ConnectStart StartConnect(const TcpClientConfig& config) {
  UniqueFd fd(socket(config.target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return {UniqueFd(), errno};
  int one = 1;
  // Pick the port at connect(), per (source, target) pair, instead of at bind() from the
  // source's whole range: with many source addresses, bind() would otherwise refuse long
  // before the 4-tuples run out.
  (void)setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  (void)setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (config.receive_buffer > 0) {
    (void)setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &config.receive_buffer,
                     sizeof(config.receive_buffer));
  }
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&config.source.storage),
           config.source.length) != 0) {
    return {UniqueFd(), errno};
  }
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&config.target.storage),
              config.target.length) != 0 &&
      errno != EINPROGRESS && errno != EINTR) {
    return {UniqueFd(), errno};
  }
  return {std::move(fd), 0};
}

std::string_view CountConnectFailure(int err, ModeStats& stats) {
  if (err == ECONNREFUSED) {
    ++stats.connect_refused;
    return kFailConnectRefused;
  }
  if (err == ETIMEDOUT) {
    ++stats.connect_timeouts;
    return kFailConnectTimeout;
  }
  if (err == ECONNRESET) {
    // Accepted, then reset before we could use it (a server shedding at accept).
    ++stats.resets;
    return kFailReset;
  }
  ++stats.connect_errors;
  const char* name = strerrorname_np(err);
  ++stats.connect_errors_by_errno[name != nullptr ? name : std::to_string(err)];
  return kFailConnectError;
}

int SocketError(int fd) {
  int err = 0;
  socklen_t size = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) != 0) return errno;
  return err;
}

}  // namespace

void ConnectGate::Release() {
  if (pending_ > 0) --pending_;
  while (pending_ < limit_ && !waiting_.empty()) {
    TcpClient* next = waiting_.front();
    waiting_.pop_front();
    ++pending_;
    next->GateOpened();
  }
}

void ConnectGate::Cancel(TcpClient* client) {
  auto it = std::find(waiting_.begin(), waiting_.end(), client);
  if (it != waiting_.end()) waiting_.erase(it);
}

TcpClient::TcpClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config)
    : loop_(loop), stats_(stats), config_(config) {}

TcpClient::~TcpClient() = default;

void TcpClient::GateOpened() {
  waiting_gate_ = false;
  holds_gate_ = true;
  connect_wanted_ = true;
  Rearm();
}

void TcpClient::Connect() {
  if (fd_.valid()) Close(true);
  deferred_connect_failure_ = {};
  deferred_close_ = false;
  if (waiting_gate_ || connect_wanted_) return;  // already on its way
  if (config_.gate != nullptr && !holds_gate_) {
    if (!config_.gate->TryAcquire()) {
      waiting_gate_ = true;
      config_.gate->Enqueue(this);
      return;
    }
    holds_gate_ = true;
  }
  StartSocket();
}

void TcpClient::StartSocket() {
  connect_wanted_ = false;
  ++stats_.connect_attempts;
  ConnectStart start = StartConnect(config_);
  if (!start.fd.valid()) {
    ReleaseGate();
    deferred_connect_failure_ = CountConnectFailure(start.error, stats_);
    Rearm();
    return;
  }
  fd_ = std::move(start.fd);
  connecting_ = true;
  connect_deadline_ = now() + config_.connect_timeout;
  interest_ = EPOLLOUT;
  if (!loop_.Watch(*this, fd_.get(), interest_).ok()) {
    Close(true);
    ++stats_.connect_errors;
    deferred_connect_failure_ = kFailConnectError;
  }
  Rearm();
}

void TcpClient::FinishConnect() {
  int err = SocketError(fd_.get());
  connecting_ = false;
  connect_deadline_ = kNever;
  ReleaseGate();
  if (err != 0) {
    Close(true);
    std::string_view kind = CountConnectFailure(err, stats_);
    OnConnectFailed(kind);
    return;
  }
  connected_ = true;
  established_at_ = now();
  stats_.Opened();
  UpdateInterest();
  Rearm();
  OnConnected();
}

void TcpClient::Close(bool reset) {
  if (waiting_gate_ && config_.gate != nullptr) config_.gate->Cancel(this);
  waiting_gate_ = false;
  connect_wanted_ = false;
  ReleaseGate();
  if (fd_.valid()) {
    loop_.Forget(*this);
    if (reset) {
      linger hard{1, 0};
      (void)setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    }
    fd_.Reset();
    ++socket_serial_;
  }
  if (connected_) stats_.Closed();
  connected_ = false;
  connecting_ = false;
  connect_deadline_ = kNever;
  interest_ = 0;
  out_.clear();
  out_offset_ = 0;
  Rearm();
}

void TcpClient::ReleaseGate() {
  if (!holds_gate_) return;
  holds_gate_ = false;
  if (config_.gate != nullptr) config_.gate->Release();
}

void TcpClient::Send(std::string_view data) {
  if (!connected_ || data.empty()) return;
  if (out_offset_ < out_.size()) {  // already waiting for EPOLLOUT
    out_.append(data);
    return;
  }
  ssize_t n = send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      PeerClosed(/*reset=*/true, /*defer=*/true);
      return;
    }
    n = 0;
  }
  stats_.bytes_sent += static_cast<uint64_t>(n);
  if (static_cast<size_t>(n) < data.size()) {
    out_.assign(data.substr(static_cast<size_t>(n)));
    out_offset_ = 0;
    UpdateInterest();
  }
}

void TcpClient::Flush() {
  while (out_offset_ < out_.size()) {
    ssize_t n = send(fd_.get(), out_.data() + out_offset_, out_.size() - out_offset_,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      PeerClosed(/*reset=*/true, /*defer=*/false);
      return;
    }
    stats_.bytes_sent += static_cast<uint64_t>(n);
    out_offset_ += static_cast<size_t>(n);
  }
  out_.clear();
  out_offset_ = 0;
  UpdateInterest();
}

void TcpClient::SetWantRead(bool want) {
  want_read_ = want;
  UpdateInterest();
}

bool TcpClient::ReadFailed(int err) { return err != EAGAIN && err != EINTR; }

void TcpClient::ReadAvailable() {
  std::span<char> buffer = loop_.scratch();
  // A few reads per event at most, so one busy connection cannot starve the others.
  for (int round = 0; round < 4; ++round) {
    ssize_t n = recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n > 0) {
      stats_.bytes_received += static_cast<uint64_t>(n);
      uint64_t serial = socket_serial_;
      OnData(std::string_view(buffer.data(), static_cast<size_t>(n)));
      if (serial != socket_serial_ || !connected_ || !want_read_) return;
      if (static_cast<size_t>(n) < buffer.size()) return;
      continue;
    }
    if (n == 0) {
      PeerClosed(/*reset=*/false, /*defer=*/false);
      return;
    }
    if (errno == EINTR) continue;
    if (ReadFailed(errno)) PeerClosed(/*reset=*/true, /*defer=*/false);
    return;
  }
}

std::string_view TcpClient::ReadSome(size_t limit) {
  if (!connected_) return {};
  std::span<char> buffer = loop_.scratch();
  ssize_t n = recv(fd_.get(), buffer.data(), std::min(limit, buffer.size()), 0);
  if (n > 0) {
    stats_.bytes_received += static_cast<uint64_t>(n);
    return std::string_view(buffer.data(), static_cast<size_t>(n));
  }
  if (n == 0) {
    PeerClosed(/*reset=*/false, /*defer=*/true);
  } else if (ReadFailed(errno)) {
    PeerClosed(/*reset=*/true, /*defer=*/true);
  }
  return {};
}

void TcpClient::PeerClosed(bool reset, bool defer) {
  if (connected_) {
    if (reset) {
      ++stats_.resets;
    } else {
      ++stats_.closed_by_server;
    }
    stats_.lifetime_us.Record(static_cast<uint64_t>((now() - established_at_) / kMicrosecond));
  }
  Close(/*reset=*/false);
  if (defer) {
    deferred_close_ = true;
    deferred_reset_ = reset;
    Rearm();
    return;
  }
  OnPeerClosed(reset);
}

void TcpClient::SetTimer(TimeNs when) {
  timer_ = when;
  Rearm();
}

void TcpClient::OnEvent(uint32_t events) {
  if (connecting_) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) FinishConnect();
    return;
  }
  if (!connected_) return;
  uint64_t serial = socket_serial_;
  if ((events & EPOLLOUT) != 0 && out_offset_ < out_.size()) {
    Flush();
    if (serial != socket_serial_ || !connected_) return;
  }
  if (want_read_) {
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) ReadAvailable();
  } else if ((events & (EPOLLHUP | EPOLLERR)) != 0) {
    bool reset = (events & EPOLLERR) != 0 || SocketError(fd_.get()) != 0;
    PeerClosed(reset, /*defer=*/false);
  }
}

void TcpClient::OnDeadline() {
  if (!deferred_connect_failure_.empty()) {
    std::string_view kind = deferred_connect_failure_;
    deferred_connect_failure_ = {};
    OnConnectFailed(kind);
  }
  if (deferred_close_) {
    deferred_close_ = false;
    OnPeerClosed(deferred_reset_);
  }
  if (connect_wanted_ && !waiting_gate_) StartSocket();
  if (connecting_ && now() >= connect_deadline_) {
    ++stats_.connect_timeouts;
    Close(/*reset=*/true);
    OnConnectFailed(kFailConnectTimeout);
  }
  if (timer_ <= now()) {
    timer_ = kNever;
    OnTimer();
  }
  Rearm();
}

void TcpClient::OnStop() {
  if (connected_) ++stats_.open_at_end;
  Close(/*reset=*/true);
  timer_ = kNever;
  deferred_close_ = false;
  deferred_connect_failure_ = {};
}

void TcpClient::UpdateInterest() {
  if (!fd_.valid()) return;
  uint32_t wanted = 0;
  if (connecting_) {
    wanted = EPOLLOUT;
  } else if (connected_) {
    if (want_read_) wanted |= EPOLLIN | EPOLLRDHUP;
    if (out_offset_ < out_.size()) wanted |= EPOLLOUT;
  }
  if (wanted != interest_) {
    interest_ = wanted;
    loop_.Modify(*this, fd_.get(), wanted);
  }
}

void TcpClient::Rearm() {
  TimeNs when = timer_;
  if (connecting_) when = std::min(when, connect_deadline_);
  bool due_now =
      !deferred_connect_failure_.empty() || deferred_close_ || (connect_wanted_ && !waiting_gate_);
  if (due_now) when = now();
  loop_.SetDeadline(*this, when);
}

}  // namespace refuge::load
