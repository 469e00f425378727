// The slow attacks of refuge-load: slowloris, slow POST, slow read.
//
// One SlowClient is one attacking connection that tries to stay open as long as the server
// lets it, and is reopened when the server closes it. For each closed connection the time
// it lived (established -> closed by the server) goes into lifetime_us, so the report can say
// how fast the server sheds such connections (median lifetime); open_now at the end says how
// many it still holds.
//   slowloris: sends "GET <path> HTTP/1.1", Host and User-Agent but never the empty line
//              that ends the head; then one more header line every interval.
//   slow_post: sends a complete POST head with Content-Length --slow-post-length, then one
//              byte of body every interval.
//   slow_read: asks for a large file with a tiny receive buffer (SO_RCVBUF before connect,
//              so the advertised window stays small) and reads --slow-read-bytes every
//              interval; the server's send buffer fills and stays full.
// Any answer the server sends (408, 400, 413, the slow-read file's status) is counted by
// status once per connection. A connection the server closes within 100 ms, or one that
// could not be opened, is retried after 100 ms so a server that refuses everything does not
// make the tool spin.
//
// Thread-safety: single-threaded, in the attack loop.
#ifndef REFUGE_TOOLS_LOAD_SLOW_CLIENTS_H_
#define REFUGE_TOOLS_LOAD_SLOW_CLIENTS_H_

#include <string>

#include "http_response.h"
#include "tcp_client.h"

namespace refuge::load {

enum class SlowKind { kSlowloris, kSlowPost, kSlowRead };

struct SlowSettings {
  SlowKind kind = SlowKind::kSlowloris;
  std::string path;
  std::string host;
  TimeNs interval = 5 * kSecond;
  uint64_t post_length = 1'000'000;  // slow_post: the Content-Length announced
  size_t read_bytes = 16;            // slow_read: bytes read per interval
};

class SlowClient final : public TcpClient {
 public:
  // index: spreads the connections' ticks over the interval.
  SlowClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config,
             const SlowSettings& settings, int index);

 private:
  void OnStart() override { Connect(); }
  void OnConnected() override;
  void OnConnectFailed(std::string_view kind) override;
  void OnData(std::string_view data) override;
  void OnPeerClosed(bool reset) override;
  void OnTimer() override;

  void CountAnswer(std::string_view data);

  const SlowSettings& settings_;
  int index_;
  ResponseParser parser_;
  bool answer_counted_ = false;
  uint64_t ticks_ = 0;
  uint64_t body_sent_ = 0;
};

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_SLOW_CLIENTS_H_
