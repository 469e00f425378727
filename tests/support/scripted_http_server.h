// ScriptedHttpServer: an HTTP/1.1 server on 127.0.0.1 whose answers a test scripts path by
// path, to play a misbehaving mirror: slow to answer, missing the file, withholding it (451),
// failing (503), dying or stalling in the middle of a body, sending an endless body, or simply
// serving other bytes. Bodies live in memory. Range requests ("bytes=N-") get a 206 unless the
// script says to ignore them.
//
// Each connection gets its own thread (a stalled answer must not hold up the next request);
// every answer carries "Connection: close". Waits (delays, stalls) end early when the client
// hangs up or the server is destroyed, so a test never waits for a scripted stall to run out.
//
// Thread-safety: the public methods may be called from any thread.
#ifndef REFUGE_TESTS_SUPPORT_SCRIPTED_HTTP_SERVER_H_
#define REFUGE_TESTS_SUPPORT_SCRIPTED_HTTP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace refuge::testing {

class ScriptedHttpServer {
 public:
  struct Script {
    int status = 200;          // 200: `body` (206 for a Range); anything else: `body` as the
    std::string body;          // error page
    int delay_ms = 0;          // before the response head
    int64_t die_after = -1;    // close the connection after this many body bytes
    int64_t stall_after = -1;  // stop sending after this many body bytes, connection kept open
    bool endless = false;      // `endless_bytes` bytes of 'x', no Content-Length
    uint64_t endless_bytes = uint64_t{64} << 20;
    bool honor_range = true;   // false: answer a Range request with the whole body (200)
    int chunk_delay_ms = 0;    // pause between 16 KiB chunks of the body
  };

  struct Request {
    std::string path;   // the request target as sent
    std::string range;  // the Range header, if any
    int status = 0;
    uint64_t body_bytes = 0;  // body bytes written
  };

  // Starts on 127.0.0.1 with a port chosen by the kernel; aborts on failure. Unscripted paths
  // answer 404.
  ScriptedHttpServer();
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  uint16_t port() const { return port_; }
  std::string base_url() const;  // "http://127.0.0.1:<port>"

  void Set(const std::string& path, Script script);
  // Shorthands: a 200 with this body; an empty answer with this status.
  void Serve(const std::string& path, std::string body);
  void Answer(const std::string& path, int status);

  std::vector<Request> requests() const;
  int CountRequests(const std::string& path) const;

 private:
  void AcceptLoop();
  void Handle(int fd);
  // Waits up to `ms` (forever if < 0); false if the server stops or the client hangs up first.
  bool Wait(int fd, int ms) const;

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::map<std::string, Script> scripts_;
  std::vector<Request> requests_;
  std::vector<std::thread> connections_;
};

}  // namespace refuge::testing

#endif  // REFUGE_TESTS_SUPPORT_SCRIPTED_HTTP_SERVER_H_
