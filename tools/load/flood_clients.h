// The request floods and the connection flood of refuge-load.
//
// FloodClient: one keep-alive connection of the HTTP flood. It sends GETs one at a time,
//   back to back (--flood-rate 0) or paced so that the --flood-connections connections of
//   one source address together send --flood-rate requests/s. It never solves challenges
//   and ignores Retry-After; when the server closes, it reconnects at once.
// DistributedDriver + DistributedSlot: the flood from many addresses, each staying under a
//   per-address rate. Keep-alive connections for 5,000 addresses would not fit the 20,000
//   descriptors a process may hold beside 15,000 slowloris connections, so each request
//   uses a short connection (Connection: close) from the next address in rotation, taken
//   from a bounded pool of slots (--distributed-connections). Every address sends
//   exactly --distributed-rate requests/s, evenly spaced; when every slot is still busy the
//   address's turn is skipped (skipped_pool_full), never made up later, so no address
//   ever exceeds its rate.
// ConnFloodClient: opens connections as fast as it can and never sends a byte; each is reset
//   as soon as it is established (or after --conn-flood-hold-ms), then opened again. At most
//   --conn-flood connections exist at once.
//
// Thread-safety: single-threaded, in the attack loop.
#ifndef REFUGE_TOOLS_LOAD_FLOOD_CLIENTS_H_
#define REFUGE_TOOLS_LOAD_FLOOD_CLIENTS_H_

#include <string>
#include <vector>

#include "http_response.h"
#include "tcp_client.h"

namespace refuge::load {

struct FloodSettings {
  std::vector<std::string> paths;
  std::string host;
  TimeNs send_interval = 0;  // per connection; 0: back to back
  TimeNs request_timeout = 10 * kSecond;
  int count = 1;  // flood connections in this loop (their first requests are spread)
};

class FloodClient final : public TcpClient {
 public:
  FloodClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config,
              const FloodSettings& settings, int index);

 private:
  void OnStart() override;
  void OnConnected() override;
  void OnConnectFailed(std::string_view kind) override;
  void OnData(std::string_view data) override;
  void OnPeerClosed(bool reset) override;
  void OnTimer() override;

  void SendNext();
  void ResponseDone();

  const FloodSettings& settings_;
  int index_;
  ResponseParser parser_;
  std::vector<std::string> requests_;  // prebuilt, one per path
  size_t next_request_ = 0;
  bool awaiting_ = false;
  bool done_ = false;
  TimeNs sent_at_ = 0;
  TimeNs next_send_ = 0;
};

class DistributedDriver;

class DistributedSlot final : public TcpClient {
 public:
  DistributedSlot(EventLoop& loop, ModeStats& stats, TcpClientConfig config,
                  DistributedDriver& driver, TimeNs request_timeout);

  // One request from `source`: connect, GET with Connection: close, read the answer, close.
  void Start(const SocketAddress& source, const std::string& request);

 private:
  void OnStart() override {}
  void OnConnected() override;
  void OnConnectFailed(std::string_view kind) override;
  void OnData(std::string_view data) override;
  void OnPeerClosed(bool reset) override;
  void OnTimer() override;
  void Finish();

  DistributedDriver& driver_;
  TimeNs request_timeout_;
  ResponseParser parser_;
  const std::string* request_ = nullptr;
  TimeNs sent_at_ = 0;
  bool busy_ = false;
};

class DistributedDriver final : public LoopClient {
 public:
  // per_address_rate: requests/s for each of `sources`.
  DistributedDriver(EventLoop& loop, ModeStats& stats, std::vector<SocketAddress> sources,
                    double per_address_rate, std::vector<std::string> requests);

  // The slots, created by the runner and handed over here (the driver does not own them).
  void AddSlot(DistributedSlot* slot) { free_.push_back(slot); }
  void SlotFree(DistributedSlot* slot) { free_.push_back(slot); }

  void OnStart() override;
  void OnEvent(uint32_t) override {}
  void OnDeadline() override;
  void OnStop() override {}

 private:
  EventLoop& loop_;
  ModeStats& stats_;
  std::vector<SocketAddress> sources_;
  std::vector<std::string> requests_;
  TimeNs step_;  // between two requests of the whole rotation
  TimeNs next_due_ = 0;
  uint64_t next_ = 0;
  std::vector<DistributedSlot*> free_;
  bool done_ = false;
};

class ConnFloodClient final : public TcpClient {
 public:
  ConnFloodClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config, TimeNs hold);

 private:
  void OnStart() override { Connect(); }
  void OnConnected() override;
  void OnConnectFailed(std::string_view kind) override;
  void OnData(std::string_view) override {}
  void OnPeerClosed(bool reset) override;
  void OnTimer() override;

  TimeNs hold_;
};

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_FLOOD_CLIENTS_H_
