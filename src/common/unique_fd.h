// UniqueFd: sole owner of a file descriptor; closes it on destruction.
//
// Thread-safety: like a unique_ptr; one owner at a time.
#ifndef REFUGE_COMMON_UNIQUE_FD_H_
#define REFUGE_COMMON_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace refuge {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  // close(2) errors are ignored: on Linux the descriptor is gone either way, and durable
  // writers fsync before closing so no error is lost that matters.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace refuge

#endif  // REFUGE_COMMON_UNIQUE_FD_H_
