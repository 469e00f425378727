#include "reader_client.h"

#include "proof_of_work.h"

namespace refuge::load {
namespace {

constexpr int kMaxChallengesPerRequest = 2;
constexpr std::string_view kReaderAgent = "refuge-load/0.1 (reader)";

bool IsSuccess(int status) { return (status >= 200 && status < 300) || status == 304; }

}  // namespace

ReaderClient::ReaderClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config,
                           const ReaderSettings& settings, int index, ChallengeSolver* solver)
    : TcpClient(loop, stats, config),
      settings_(settings),
      index_(index),
      solver_(solver),
      next_path_(static_cast<size_t>(index)) {}

void ReaderClient::OnStart() {
  TimeNs spread = settings_.interval > 0 ? settings_.interval : kMillisecond;
  SetTimer(now() + spread * index_ / (settings_.count > 0 ? settings_.count : 1));
}

void ReaderClient::OnStop() {
  if (state_ == State::kRequest || state_ == State::kSolving) ++stats_.unsent_requests;
  state_ = State::kDone;
  TcpClient::OnStop();
}

void ReaderClient::BeginRequest() {
  if (!loop_.control().TakeRequest()) {
    Done();
    return;
  }
  path_ = settings_.paths[next_path_++ % settings_.paths.size()];
  started_ = now();
  challenges_ = 0;
  retried_ = false;
  phase_ = Phase::kOriginal;
  state_ = State::kRequest;
  ++ticket_;
  SetTimer(started_ + settings_.timeout);
  Transmit();
}

void ReaderClient::Transmit() {
  const std::string& target = phase_ == Phase::kOriginal ? path_ : solve_path_;
  request_ = BuildGetRequest(target, settings_.host, kReaderAgent, cookie_, /*close=*/false);
  sent_ = false;
  if (connected()) {
    SendRequest();
  } else if (!connecting()) {
    Connect();
  }
}

void ReaderClient::SendRequest() {
  parser_.Start();
  sent_ = true;
  sent_on_reused_ = responses_on_socket_ > 0;
  ++stats_.requests_sent;
  Send(request_);
}

void ReaderClient::OnConnected() {
  responses_on_socket_ = 0;
  if (state_ == State::kRequest && !sent_) SendRequest();
}

void ReaderClient::OnConnectFailed(std::string_view kind) {
  if (state_ == State::kRequest) Finish(kind);
}

void ReaderClient::OnData(std::string_view data) {
  if (state_ != State::kRequest || !sent_) return;  // e.g. a 408 on an idle connection
  parser_.Feed(data);
  if (parser_.failed()) {
    ++stats_.bad_responses;
    Close(/*reset=*/true);
    Finish(kFailBadResponse);
    return;
  }
  if (parser_.complete()) HandleResponse();
}

void ReaderClient::OnPeerClosed(bool reset) {
  if (state_ != State::kRequest || !sent_) return;  // idle: reconnect at the next request
  parser_.FinishOnEof();
  if (parser_.complete()) {
    HandleResponse();
    return;
  }
  if (!parser_.received_any() && sent_on_reused_ && !retried_) {
    retried_ = true;
    ++stats_.stale_retries;
    Transmit();
    return;
  }
  Finish(reset ? kFailReset : kFailClosed);
}

void ReaderClient::HandleResponse() {
  ++responses_on_socket_;
  ++stats_.responses;
  const ResponseHead& head = parser_.head();
  ++stats_.responses_by_status[head.status];
  sent_ = false;
  if (head.connection_close) Close(/*reset=*/false);

  if (phase_ == Phase::kSolve) {
    bool accepted = head.status == 303 || head.status == 302 || (head.status / 100 == 2);
    if (accepted && !head.clearance.empty()) {
      cookie_ = head.clearance;
      ++stats_.challenges_solved;
      phase_ = Phase::kOriginal;
      Transmit();
    } else {
      Finish(kFailSolveRejected);
    }
    return;
  }
  if (head.status == 503 && head.has_challenge) {
    ++stats_.challenges_met;
    if (solver_ == nullptr) {
      FinishStatus(head.status);
      return;
    }
    if (++challenges_ > kMaxChallengesPerRequest) {
      Finish(kFailChallengeRepeated);
      return;
    }
    state_ = State::kSolving;
    seed_ = head.challenge_seed;
    ++ticket_;
    solver_->Submit(this, ticket_, seed_, head.challenge_bits);
    return;
  }
  if (IsSuccess(head.status)) {
    Finish({});
  } else {
    FinishStatus(head.status);
  }
}

void ReaderClient::OnSolved(uint64_t ticket, const Result<uint64_t>& nonce, TimeNs spent) {
  if (state_ != State::kSolving || ticket != ticket_) return;
  stats_.solve_us.Record(static_cast<uint64_t>(spent / kMicrosecond));
  state_ = State::kRequest;
  if (!nonce.ok()) {
    Finish(kFailChallengeUnsolved);
    return;
  }
  solve_path_ = SolvePath(seed_, *nonce, path_);
  phase_ = Phase::kSolve;
  Transmit();
}

void ReaderClient::OnTimer() {
  switch (state_) {
    case State::kIdle:
      BeginRequest();
      return;
    case State::kRequest:
    case State::kSolving:
      ++stats_.request_timeouts;
      Close(/*reset=*/true);
      Finish(kFailTimeout);
      return;
    case State::kDone:
      return;
  }
}

void ReaderClient::FinishStatus(int status) {
  stats_.FailStatus(status);
  EndRequest();
}

void ReaderClient::Finish(std::string_view kind) {
  if (kind.empty()) {
    ++stats_.successes;
  } else {
    stats_.Fail(kind);
  }
  EndRequest();
}

void ReaderClient::EndRequest() {
  stats_.latency_us.Record(static_cast<uint64_t>((now() - started_) / kMicrosecond));
  sent_ = false;
  ++ticket_;  // a result of the solver for this request is stale from now on
  state_ = State::kIdle;
  SetTimer(now() + settings_.interval);
}

void ReaderClient::Done() {
  state_ = State::kDone;
  SetTimer(kNever);
  Close(/*reset=*/true);
}

}  // namespace refuge::load
