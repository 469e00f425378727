#include "flood_clients.h"

#include <algorithm>

namespace refuge::load {
namespace {

constexpr std::string_view kFloodAgent = "refuge-load/0.1 (flood)";
// After a refused or failed connect, a flood connection tries again this much later: fast
// enough to keep pressing, slow enough not to spin on a closed port.
constexpr TimeNs kReconnectDelay = 10 * kMillisecond;

uint64_t Micros(TimeNs t) { return static_cast<uint64_t>(t / kMicrosecond); }

}  // namespace

// ---------------------------------------------------------------------------------------
// FloodClient

FloodClient::FloodClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config,
                         const FloodSettings& settings, int index)
    : TcpClient(loop, stats, config),
      settings_(settings),
      index_(index),
      next_request_(static_cast<size_t>(index)) {
  for (const std::string& path : settings.paths) {
    requests_.push_back(BuildGetRequest(path, settings.host, kFloodAgent, {}, /*close=*/false));
  }
}

void FloodClient::OnStart() {
  if (settings_.send_interval > 0) {
    next_send_ = now() + settings_.send_interval * index_ / std::max(1, settings_.count);
  }
  Connect();
}

void FloodClient::OnConnected() { SendNext(); }

void FloodClient::SendNext() {
  if (done_ || awaiting_ || !connected()) return;
  if (settings_.send_interval > 0 && now() < next_send_) {
    SetTimer(next_send_);
    return;
  }
  if (!loop_.control().TakeRequest()) {
    done_ = true;
    SetTimer(kNever);
    return;
  }
  if (settings_.send_interval > 0) {
    // Keep the average rate, but do not burst to make up for more than a second.
    next_send_ = std::max(next_send_ + settings_.send_interval, now() - kSecond);
  }
  parser_.Start();
  awaiting_ = true;
  sent_at_ = now();
  ++stats_.requests_sent;
  SetTimer(now() + settings_.request_timeout);
  Send(requests_[next_request_++ % requests_.size()]);
}

void FloodClient::OnData(std::string_view data) {
  if (!awaiting_) return;
  parser_.Feed(data);
  if (parser_.failed()) {
    ++stats_.bad_responses;
    awaiting_ = false;
    Close(/*reset=*/true);
    Connect();
    return;
  }
  if (parser_.complete()) ResponseDone();
}

void FloodClient::ResponseDone() {
  awaiting_ = false;
  ++stats_.responses;
  ++stats_.responses_by_status[parser_.head().status];
  stats_.latency_us.Record(Micros(now() - sent_at_));
  SetTimer(kNever);
  if (parser_.head().connection_close && has_socket()) {
    // Reset rather than close: our port leaves no TIME_WAIT behind, so a flood from one
    // address against a server that closes after every 429 does not run out of ports.
    Close(/*reset=*/true);
    if (!done_) Connect();
    return;
  }
  SendNext();
}

void FloodClient::OnPeerClosed(bool) {
  if (awaiting_) {
    parser_.FinishOnEof();
    if (parser_.complete()) {
      ResponseDone();
    } else {
      awaiting_ = false;
    }
  }
  if (!done_ && !has_socket() && !connecting()) Connect();
}

void FloodClient::OnConnectFailed(std::string_view) {
  awaiting_ = false;
  SetTimer(now() + kReconnectDelay);
}

void FloodClient::OnTimer() {
  if (done_) return;
  if (!has_socket()) {
    if (!connecting()) Connect();
    return;
  }
  if (awaiting_) {
    ++stats_.request_timeouts;
    awaiting_ = false;
    Close(/*reset=*/true);
    Connect();
    return;
  }
  SendNext();
}

// ---------------------------------------------------------------------------------------
// DistributedSlot, DistributedDriver

DistributedSlot::DistributedSlot(EventLoop& loop, ModeStats& stats, TcpClientConfig config,
                                 DistributedDriver& driver, TimeNs request_timeout)
    : TcpClient(loop, stats, config), driver_(driver), request_timeout_(request_timeout) {}

void DistributedSlot::Start(const SocketAddress& source, const std::string& request) {
  busy_ = true;
  request_ = &request;
  SetSource(source);
  SetTimer(now() + request_timeout_);  // covers the connect too
  Connect();
}

void DistributedSlot::OnConnected() {
  parser_.Start();
  sent_at_ = now();
  ++stats_.requests_sent;
  Send(*request_);
}

void DistributedSlot::OnConnectFailed(std::string_view) { Finish(); }

void DistributedSlot::OnData(std::string_view data) {
  if (!busy_) return;
  parser_.Feed(data);
  if (parser_.failed()) {
    ++stats_.bad_responses;
  } else if (parser_.complete()) {
    ++stats_.responses;
    ++stats_.responses_by_status[parser_.head().status];
    stats_.latency_us.Record(Micros(now() - sent_at_));
  } else {
    return;
  }
  Close(/*reset=*/true);
  Finish();
}

void DistributedSlot::OnPeerClosed(bool) {
  if (!busy_) return;
  parser_.FinishOnEof();
  if (parser_.complete()) {
    ++stats_.responses;
    ++stats_.responses_by_status[parser_.head().status];
    stats_.latency_us.Record(Micros(now() - sent_at_));
  }
  Finish();
}

void DistributedSlot::OnTimer() {
  if (!busy_) return;
  ++stats_.request_timeouts;
  Close(/*reset=*/true);
  Finish();
}

void DistributedSlot::Finish() {
  if (!busy_) return;
  busy_ = false;
  SetTimer(kNever);
  driver_.SlotFree(this);
}

DistributedDriver::DistributedDriver(EventLoop& loop, ModeStats& stats,
                                     std::vector<SocketAddress> sources, double per_address_rate,
                                     std::vector<std::string> requests)
    : loop_(loop),
      stats_(stats),
      sources_(std::move(sources)),
      requests_(std::move(requests)),
      step_(std::max<TimeNs>(1, static_cast<TimeNs>(1e9 / (static_cast<double>(sources_.size()) *
                                                           per_address_rate)))) {}

void DistributedDriver::OnStart() {
  next_due_ = loop_.now();
  loop_.SetDeadline(*this, next_due_);
}

void DistributedDriver::OnDeadline() {
  TimeNs now = loop_.now();
  if (next_due_ < now - kSecond) {
    // The loop stalled: drop the turns more than a second late instead of bursting them.
    auto late = static_cast<uint64_t>((now - kSecond - next_due_) / step_);
    next_ += late;
    next_due_ += static_cast<TimeNs>(late) * step_;
  }
  while (!done_ && next_due_ <= now) {
    const SocketAddress& source = sources_[next_ % sources_.size()];
    if (free_.empty()) {
      ++stats_.skipped_pool_full;
    } else if (!loop_.control().TakeRequest()) {
      done_ = true;
      break;
    } else {
      DistributedSlot* slot = free_.back();
      free_.pop_back();
      slot->Start(source, requests_[next_ % requests_.size()]);
    }
    ++next_;
    next_due_ += step_;
  }
  if (!done_) loop_.SetDeadline(*this, next_due_);
}

// ---------------------------------------------------------------------------------------
// ConnFloodClient

ConnFloodClient::ConnFloodClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config,
                                 TimeNs hold)
    : TcpClient(loop, stats, config), hold_(hold) {}

void ConnFloodClient::OnConnected() {
  if (hold_ > 0) {
    SetTimer(now() + hold_);
    return;
  }
  Close(/*reset=*/true);
  Connect();
}

void ConnFloodClient::OnConnectFailed(std::string_view) { SetTimer(now() + kMillisecond); }

void ConnFloodClient::OnPeerClosed(bool) { Connect(); }

void ConnFloodClient::OnTimer() {
  if (has_socket()) Close(/*reset=*/true);
  if (!connecting()) Connect();
}

}  // namespace refuge::load
