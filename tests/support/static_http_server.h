// StaticHttpServer: a minimal HTTP/1.1 static file server on 127.0.0.1, for tests.
//
// It serves GET (and HEAD) for regular files under a root directory: the request path is
// percent-decoded, "." and ".." segments are resolved lexically and a path that would leave
// the root is refused (404), like any other missing file. Every response carries
// "Connection: close"; a regular file is sent with a Content-Length.
//
// Attack hooks: ServeEndless() makes one path answer 200 with a body of `cap` bytes and no
// Content-Length (an "endless data" mirror), and the request log records every request target
// as the client sent it (still percent-encoded) with the bytes of body the server managed to
// send, so a test can check that a download was skipped or cut short.
//
// One thread accepts and answers connections one at a time; the destructor stops it.
// Thread-safety: the public methods may be called from any thread.
#ifndef REFUGE_TESTS_SUPPORT_STATIC_HTTP_SERVER_H_
#define REFUGE_TESTS_SUPPORT_STATIC_HTTP_SERVER_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace refuge::testing {

class StaticHttpServer {
 public:
  struct Request {
    std::string target;      // as received, e.g. "/targets/caf%C3%A9.txt"
    std::string path;        // decoded and normalized, e.g. "/targets/café.txt" ("" if invalid)
    int status = 0;          // the HTTP status answered
    uint64_t body_bytes = 0; // body bytes written to the socket
  };

  // Starts serving `root_dir` on 127.0.0.1 with a port chosen by the kernel; aborts on failure.
  explicit StaticHttpServer(std::string root_dir);
  ~StaticHttpServer();
  StaticHttpServer(const StaticHttpServer&) = delete;
  StaticHttpServer& operator=(const StaticHttpServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string base_url() const;

  // From now on, a GET of `path` (decoded, from the root: "/metadata/timestamp.json") answers
  // `cap` bytes with no Content-Length, or until the client hangs up.
  void ServeEndless(const std::string& path, uint64_t cap = uint64_t{100} << 20);
  void StopServingEndless(const std::string& path);

  std::vector<Request> requests() const;
  // How many requests had this decoded path.
  int CountRequests(const std::string& path) const;
  void ClearRequests();

 private:
  void Run();
  void Handle(int fd);

  std::string root_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;

  mutable std::mutex mu_;
  std::map<std::string, uint64_t> endless_;
  std::vector<Request> requests_;
};

}  // namespace refuge::testing

#endif  // REFUGE_TESTS_SUPPORT_STATIC_HTTP_SERVER_H_
