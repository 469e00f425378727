#include "slow_clients.h"

namespace refuge::load {
namespace {

constexpr TimeNs kRetryDelay = 100 * kMillisecond;
// Spread the ticks of many connections over the interval in this many steps.
constexpr int kSpreadSteps = 997;

const char* AgentOf(SlowKind kind) {
  switch (kind) {
    case SlowKind::kSlowloris:
      return "refuge-load/0.1 (slowloris)";
    case SlowKind::kSlowPost:
      return "refuge-load/0.1 (slow-post)";
    case SlowKind::kSlowRead:
      return "refuge-load/0.1 (slow-read)";
  }
  return "refuge-load/0.1";
}

}  // namespace

SlowClient::SlowClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config,
                       const SlowSettings& settings, int index)
    : TcpClient(loop, stats, config), settings_(settings), index_(index) {}

void SlowClient::OnConnected() {
  ticks_ = 0;
  body_sent_ = 0;
  answer_counted_ = false;
  parser_.Start(/*head_request=*/false);
  std::string head;
  switch (settings_.kind) {
    case SlowKind::kSlowloris:
      head = "GET " + settings_.path + " HTTP/1.1\r\nHost: " + settings_.host +
             "\r\nUser-Agent: " + AgentOf(settings_.kind) + "\r\n";
      break;
    case SlowKind::kSlowPost:
      head = "POST " + settings_.path + " HTTP/1.1\r\nHost: " + settings_.host +
             "\r\nUser-Agent: " + AgentOf(settings_.kind) +
             "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
             std::to_string(settings_.post_length) + "\r\n\r\n";
      ++stats_.requests_sent;
      break;
    case SlowKind::kSlowRead:
      head = BuildGetRequest(settings_.path, settings_.host, AgentOf(settings_.kind), {},
                             /*close=*/false);
      ++stats_.requests_sent;
      SetWantRead(false);
      break;
  }
  if (settings_.kind != SlowKind::kSlowRead) SetWantRead(true);
  // The first tick lands somewhere in the first interval, so that thousands of connections
  // opened together do not all send in the same millisecond afterwards.
  SetTimer(now() + settings_.interval * (1 + index_ % kSpreadSteps) / kSpreadSteps);
  Send(head);
}

void SlowClient::OnTimer() {
  if (!has_socket()) {
    if (!connecting()) Connect();
    return;
  }
  if (!connected()) return;  // still connecting; the connect timeout covers it
  ++ticks_;
  switch (settings_.kind) {
    case SlowKind::kSlowloris:
      Send("X-Refuge-Load-" + std::to_string(ticks_) + ": " + std::to_string(ticks_) + "\r\n");
      break;
    case SlowKind::kSlowPost:
      if (body_sent_ < settings_.post_length) {
        ++body_sent_;
        Send("a");
      }
      break;
    case SlowKind::kSlowRead: {
      std::string_view data = ReadSome(settings_.read_bytes);
      if (!data.empty()) CountAnswer(data);
      break;
    }
  }
  SetTimer(now() + settings_.interval);
}

void SlowClient::OnData(std::string_view data) { CountAnswer(data); }

void SlowClient::CountAnswer(std::string_view data) {
  if (answer_counted_) return;
  parser_.Feed(data);
  if (parser_.failed()) {
    answer_counted_ = true;
    ++stats_.bad_responses;
    return;
  }
  if (parser_.state() == ResponseParser::State::kBody || parser_.complete()) {
    answer_counted_ = true;
    ++stats_.responses;
    ++stats_.responses_by_status[parser_.head().status];
  }
}

void SlowClient::OnPeerClosed(bool) {
  if (now() - established_at() < kRetryDelay) {
    SetTimer(now() + kRetryDelay);
  } else {
    SetTimer(kNever);
    Connect();
  }
}

void SlowClient::OnConnectFailed(std::string_view) { SetTimer(now() + kRetryDelay); }

}  // namespace refuge::load
