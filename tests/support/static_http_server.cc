#include "support/static_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <optional>
#include <utility>

namespace refuge::testing {

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "StaticHttpServer: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes the path part of a request target, then resolves "." and ".." (an encoded
// "/" separates segments too, as on common static servers). Returns nullopt for a malformed
// escape, a NUL byte, or a path that leaves the root.
std::optional<std::string> NormalizePath(const std::string& target) {
  std::string raw = target.substr(0, target.find_first_of("?#"));
  if (raw.empty() || raw[0] != '/') return std::nullopt;
  std::string decoded;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return std::nullopt;
      int hi = HexValue(raw[i + 1]);
      int lo = HexValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    decoded.push_back(c);
  }
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t slash = decoded.find('/', start);
    if (slash == std::string::npos) slash = decoded.size();
    std::string segment = decoded.substr(start, slash - start);
    start = slash + 1;
    if (segment == "..") {
      if (segments.empty()) return std::nullopt;
      segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(std::move(segment));
    }
  }
  std::string out;
  for (const std::string& segment : segments) out += "/" + segment;
  return out.empty() ? "/" : out;
}

// Sends everything, or returns false when the peer went away.
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

bool SendHeaders(int fd, int status, const char* reason, std::optional<uint64_t> length) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  if (length) h += "Content-Length: " + std::to_string(*length) + "\r\n";
  h += "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
  return SendAll(fd, h.data(), h.size());
}

}  // namespace

StaticHttpServer::StaticHttpServer(std::string root_dir) : root_(std::move(root_dir)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) Die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("bind");
  if (::listen(listen_fd_, 64) != 0) Die("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) Die("getsockname");
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) Die("pipe2");
  thread_ = std::thread([this] { Run(); });
}

StaticHttpServer::~StaticHttpServer() {
  char b = 'x';
  while (::write(wake_pipe_[1], &b, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

std::string StaticHttpServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void StaticHttpServer::ServeEndless(const std::string& path, uint64_t cap) {
  std::lock_guard<std::mutex> lock(mu_);
  endless_[path] = cap;
}

void StaticHttpServer::StopServingEndless(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  endless_.erase(path);
}

std::vector<StaticHttpServer::Request> StaticHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int StaticHttpServer::CountRequests(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const Request& r : requests_) n += r.path == path ? 1 : 0;
  return n;
}

void StaticHttpServer::ClearRequests() {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.clear();
}

void StaticHttpServer::Run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Handle(fd);
    ::close(fd);
  }
}

void StaticHttpServer::Handle(int fd) {
  // A client that connects and says nothing must not hang the server (nor its destructor).
  timeval tv{};
  tv.tv_sec = 5;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

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
  const std::string method = sp2 == std::string::npos ? "" : line.substr(0, sp1);
  if (sp2 != std::string::npos) req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::optional<std::string> path = NormalizePath(req.target);
  req.path = path.value_or("");
  const bool head_only = method == "HEAD";

  std::optional<uint64_t> endless;
  int file = -1;
  struct stat st {};
  if (sp2 == std::string::npos) {
    req.status = 400;
  } else if (method != "GET" && !head_only) {
    req.status = 405;
  } else if (!path) {
    req.status = 404;
  } else {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = endless_.find(*path);
      if (it != endless_.end()) endless = it->second;
    }
    if (!endless) {
      std::string full = root_ + *path;
      file = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
      if (file >= 0 && (::fstat(file, &st) != 0 || !S_ISREG(st.st_mode))) {
        ::close(file);
        file = -1;
      }
    }
    req.status = endless || file >= 0 ? 200 : 404;
  }

  // The request is logged before the answer, so that a client that got its answer sees it
  // in the log; body_bytes is updated as the body goes out.
  size_t index;
  {
    std::lock_guard<std::mutex> lock(mu_);
    index = requests_.size();
    requests_.push_back(req);
  }
  auto count_sent = [&](uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    if (index < requests_.size()) requests_[index].body_bytes += n;
  };

  if (req.status == 400) {
    SendHeaders(fd, 400, "Bad Request", 0);
  } else if (req.status == 405) {
    SendHeaders(fd, 405, "Method Not Allowed", 0);
  } else if (req.status == 404) {
    SendHeaders(fd, 404, "Not Found", 0);
  } else if (endless) {
    if (SendHeaders(fd, 200, "OK", std::nullopt) && !head_only) {
      std::string chunk(64 * 1024, ' ');
      uint64_t sent = 0;
      while (sent < *endless) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), *endless - sent));
        if (!SendAll(fd, chunk.data(), n)) break;
        sent += n;
        count_sent(n);
      }
    }
  } else {
    if (SendHeaders(fd, 200, "OK", static_cast<uint64_t>(st.st_size)) && !head_only) {
      for (;;) {
        ssize_t n = ::read(file, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (!SendAll(fd, buf, static_cast<size_t>(n))) break;
        count_sent(static_cast<uint64_t>(n));
      }
    }
  }
  if (file >= 0) ::close(file);
  // Let the client read everything before the socket goes away (a close with unread input
  // would reset the connection).
  ::shutdown(fd, SHUT_WR);
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

}  // namespace refuge::testing
