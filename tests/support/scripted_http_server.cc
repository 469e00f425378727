#include "support/scripted_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace refuge::testing {

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "ScriptedHttpServer: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

bool SendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 410: return "Gone";
    case 416: return "Range Not Satisfiable";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

// "bytes=N-" -> N.
std::optional<uint64_t> RangeStart(const std::string& range) {
  if (range.rfind("bytes=", 0) != 0) return std::nullopt;
  size_t i = 6;
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < range.size() && range[i] >= '0' && range[i] <= '9'; ++i, ++digits) {
    v = v * 10 + static_cast<uint64_t>(range[i] - '0');
  }
  if (digits == 0 || i >= range.size() || range[i] != '-' || i + 1 != range.size()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

ScriptedHttpServer::ScriptedHttpServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) Die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("bind");
  if (::listen(listen_fd_, 64) != 0) Die("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) Die("getsockname");
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) Die("pipe2");
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  char b = 'x';
  while (::write(wake_pipe_[1], &b, 1) < 0 && errno == EINTR) {
  }
  accept_thread_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connections.swap(connections_);
  }
  for (std::thread& t : connections) t.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

std::string ScriptedHttpServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void ScriptedHttpServer::Set(const std::string& path, Script script) {
  std::lock_guard<std::mutex> lock(mu_);
  scripts_[path] = std::move(script);
}

void ScriptedHttpServer::Serve(const std::string& path, std::string body) {
  Script s;
  s.body = std::move(body);
  Set(path, std::move(s));
}

void ScriptedHttpServer::Answer(const std::string& path, int status) {
  Script s;
  s.status = status;
  Set(path, std::move(s));
}

std::vector<ScriptedHttpServer::Request> ScriptedHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int ScriptedHttpServer::CountRequests(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(std::count_if(requests_.begin(), requests_.end(),
                                        [&](const Request& r) { return r.path == path; }));
}

void ScriptedHttpServer::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    connections_.emplace_back([this, fd] {
      Handle(fd);
      ::close(fd);
    });
  }
}

bool ScriptedHttpServer::Wait(int fd, int ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    int left = -1;
    if (ms >= 0) {
      auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (remaining.count() <= 0) return true;
      left = static_cast<int>(remaining.count());
    }
    pollfd fds[2] = {{fd, POLLRDHUP, 0}, {wake_pipe_[0], POLLIN, 0}};
    int n = ::poll(fds, 2, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    if (fds[1].revents != 0) return false;  // the server is stopping
    if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) return false;  // the client left
  }
}

void ScriptedHttpServer::Handle(int fd) {
  // A client that connects and says nothing must not hold the destructor for long.
  timeval tv{};
  tv.tv_sec = 5;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (head.size() > 64 * 1024) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    head.append(buf, static_cast<size_t>(n));
  }
  Request req;
  const std::string line = head.substr(0, head.find("\r\n"));
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 != std::string::npos) req.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  // The Range header, case-insensitively.
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (size_t r = lower.find("\r\nrange:"); r != std::string::npos) {
    size_t start = r + 8;
    size_t stop = head.find("\r\n", start);
    req.range = head.substr(start, stop - start);
    req.range.erase(0, req.range.find_first_not_of(" \t"));
    req.range.erase(req.range.find_last_not_of(" \t") + 1);
  }

  Script script;
  script.status = 404;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = scripts_.find(req.path);
    if (it != scripts_.end()) script = it->second;
  }
  if (script.delay_ms > 0 && !Wait(fd, script.delay_ms)) return;

  std::string body_storage;
  const std::string* body = &script.body;
  uint64_t start = 0;
  std::optional<uint64_t> length;
  int status = script.status;
  if (status == 200 && !script.endless) {
    length = body->size();
    if (auto r = RangeStart(req.range); r && script.honor_range) {
      if (*r >= body->size()) {
        status = 416;
        length = 0;
      } else {
        status = 206;
        start = *r;
        length = body->size() - start;
      }
    }
  } else if (status != 200) {
    length = body->size();  // an error page
  }
  req.status = status;
  size_t index;
  {
    std::lock_guard<std::mutex> lock(mu_);
    index = requests_.size();
    requests_.push_back(req);
  }
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
  if (length) h += "Content-Length: " + std::to_string(*length) + "\r\n";
  if (status == 206) {
    h += "Content-Range: bytes " + std::to_string(start) + "-" +
         std::to_string(body->size() - 1) + "/" + std::to_string(body->size()) + "\r\n";
  }
  h += "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
  if (!SendAll(fd, h.data(), h.size())) return;

  if (status != 200 && status != 206 && status != 416) {
    if (!SendAll(fd, body->data(), body->size())) return;
  } else if (status == 200 || status == 206) {
    const uint64_t total = script.endless ? script.endless_bytes : body->size() - start;
    const std::string filler(16 * 1024, 'x');
    uint64_t sent = 0;
    while (sent < total) {
      uint64_t n = std::min<uint64_t>(16 * 1024, total - sent);
      if (script.die_after >= 0) {
        if (sent >= static_cast<uint64_t>(script.die_after)) break;
        n = std::min<uint64_t>(n, static_cast<uint64_t>(script.die_after) - sent);
      }
      if (script.stall_after >= 0) {
        if (sent >= static_cast<uint64_t>(script.stall_after)) {
          Wait(fd, -1);  // until the client gives up or the server stops
          return;
        }
        n = std::min<uint64_t>(n, static_cast<uint64_t>(script.stall_after) - sent);
      }
      const char* data = script.endless ? filler.data() : body->data() + start + sent;
      if (!SendAll(fd, data, static_cast<size_t>(n))) return;
      sent += n;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_[index].body_bytes = sent;
      }
      if (script.chunk_delay_ms > 0 && sent < total && !Wait(fd, script.chunk_delay_ms)) return;
    }
    if (script.die_after >= 0 && sent < total) {
      // Die: a reset, so the client cannot mistake it for the end of the body.
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      return;
    }
  }
  // Let the client read everything before the socket goes away.
  ::shutdown(fd, SHUT_WR);
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

}  // namespace refuge::testing
