// Status and Result<T>: how refuge reports errors.
//
// Library code never throws. A function that can fail returns a Status (or a Result<T>,
// which holds either a value or a non-OK Status). The code says what kind of failure it is;
// the message says what was wrong and, where useful, which file or URL it concerned, so
// that the command line can print it as one line. `src/common/exit_codes.h` maps codes to
// process exit codes; later, the HTTP layer maps them to statuses.
//
// Thread-safety: values; safe to copy between threads.
#ifndef REFUGE_COMMON_STATUS_H_
#define REFUGE_COMMON_STATUS_H_

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace refuge {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller (a user, a flag) asked for something malformed
  kNotFound,            // a file, object, site or URL does not exist
  kAlreadyExists,
  kCorruption,          // stored or received bytes are malformed (bad JSON, wrong hash on disk)
  kVerificationFailed,  // a security check failed: signature, threshold, rollback, expiry,
                        // hash or length mismatch. Never retried silently.
  kTooLarge,            // input exceeded a limit from limits.h
  kIOError,             // the operating system refused (errno is in the message)
  kUnavailable,         // a network peer could not be reached or answered an error
  kInternal,            // a bug or an impossible state
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "what: message", for adding the outer context (a file name, a role) to an inner error.
  Status Annotate(std::string_view what) const;
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status VerificationFailed(std::string m) {
  return {StatusCode::kVerificationFailed, std::move(m)};
}
inline Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
inline Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// errno -> Status, in one place: "<what>: <strerror(err)>", kNotFound for ENOENT.
Status ErrnoStatus(std::string_view what, int err);

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}             // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {       // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace refuge

// Early return on error. Used only where the caller passes the error on unchanged.
#define REFUGE_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::refuge::Status refuge_status_ = (expr); \
    if (!refuge_status_.ok()) return refuge_status_; \
  } while (0)

#define REFUGE_CONCAT_INNER(a, b) a##b
#define REFUGE_CONCAT(a, b) REFUGE_CONCAT_INNER(a, b)
#define REFUGE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
// REFUGE_ASSIGN_OR_RETURN(auto x, F()); declares x from a Result, or returns its Status.
#define REFUGE_ASSIGN_OR_RETURN(lhs, expr) \
  REFUGE_ASSIGN_OR_RETURN_IMPL(REFUGE_CONCAT(refuge_result_, __LINE__), lhs, expr)

#endif  // REFUGE_COMMON_STATUS_H_
