// ReaderClient: a legitimate reader, the yardstick of every scenario.
//
// One keep-alive connection that GETs the --path values in turn, one request at a time,
// waiting --reader-interval-ms between the end of one response and the next request. A
// request succeeds on a 2xx or 304 whose body arrived complete. Its latency runs from the
// moment the request was due to the last byte of its response, so it includes reconnecting
// when the server had closed the connection, and solving a challenge. It fails on any other
// status, a connect failure, a reset or close before the response ended, or no complete
// response within --reader-timeout-ms.
//
// Like a browser, a reader resends a request once on a new connection when a reused
// keep-alive connection closes before any byte of the answer (the server closed it while
// idle; stale_retries counts these).
//
// Under-attack mode: a 503 carrying `Refuge-Challenge: <seed> <bits>` is solved (on the
// ChallengeSolver thread) unless --no-solve; the reader then GETs
// /.refuge/shield/solve?s=<seed>&n=<nonce>&r=<path>, expects a 303 (or 2xx/302) with
// Set-Cookie: refuge_clearance=<value>, sends that cookie from then on, and retries the
// original request. Each reader keeps its own cookie, as separate browsers would. A request
// challenged more than twice fails ("challenge_repeated").
//
// Thread-safety: single-threaded, in the readers' loop.
#ifndef REFUGE_TOOLS_LOAD_READER_CLIENT_H_
#define REFUGE_TOOLS_LOAD_READER_CLIENT_H_

#include <string>
#include <vector>

#include "challenge_solver.h"
#include "http_response.h"
#include "tcp_client.h"

namespace refuge::load {

struct ReaderSettings {
  std::vector<std::string> paths;
  std::string host;
  TimeNs interval = 10 * kMillisecond;
  TimeNs timeout = 5 * kSecond;
  int count = 1;  // readers in this loop (their first requests spread over one interval)
};

class ReaderClient final : public TcpClient, public SolveListener {
 public:
  // solver: nullptr with --no-solve (challenges then fail as status_503).
  ReaderClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config,
               const ReaderSettings& settings, int index, ChallengeSolver* solver);

  void OnSolved(uint64_t ticket, const Result<uint64_t>& nonce, TimeNs spent) override;

 private:
  enum class State { kIdle, kRequest, kSolving, kDone };
  enum class Phase { kOriginal, kSolve };

  void OnStart() override;
  void OnStop() override;
  void OnConnected() override;
  void OnConnectFailed(std::string_view kind) override;
  void OnData(std::string_view data) override;
  void OnPeerClosed(bool reset) override;
  void OnTimer() override;

  void BeginRequest();
  void Transmit();
  void SendRequest();
  void HandleResponse();
  // Ends the current request; kind is empty on success.
  void Finish(std::string_view kind);
  void FinishStatus(int status);
  void EndRequest();  // records the latency, then waits the interval
  void Done();

  const ReaderSettings& settings_;
  int index_;
  ChallengeSolver* solver_;
  ResponseParser parser_;
  State state_ = State::kIdle;
  Phase phase_ = Phase::kOriginal;
  size_t next_path_ = 0;
  std::string path_;
  std::string solve_path_;
  std::string seed_;
  std::string cookie_;
  std::string request_;
  TimeNs started_ = 0;
  uint64_t ticket_ = 0;
  int challenges_ = 0;
  bool retried_ = false;
  bool sent_ = false;            // the current request was written to the socket
  bool sent_on_reused_ = false;  // ... on a connection that had answered before
  uint64_t responses_on_socket_ = 0;
};

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_READER_CLIENT_H_
