#include "common/status.h"

#include <cerrno>
#include <cstring>

namespace refuge {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kCorruption: return "corrupt";
    case StatusCode::kVerificationFailed: return "verification failed";
    case StatusCode::kTooLarge: return "too large";
    case StatusCode::kIOError: return "I/O error";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown";
}

Status Status::Annotate(std::string_view what) const {
  if (ok()) return *this;
  std::string m(what);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return message_;
}

Status ErrnoStatus(std::string_view what, int err) {
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  if (err == ENOENT) return NotFound(std::move(m));
  if (err == EEXIST) return AlreadyExists(std::move(m));
  return IOError(std::move(m));
}

}  // namespace refuge
